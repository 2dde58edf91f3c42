"""The samples ingest cleanly, as `make demo` does, and the result checks out."""

from __future__ import annotations

import json
from pathlib import Path

from tests.core.helpers import REPO, run_cli, sha256sum_check


def test_samples_ingest_verify_and_checksum(tmp_path: Path) -> None:
    archive = tmp_path / "demo"
    for folder, extra in (
        ("whatsapp", ["--timezone", "Europe/London"]),
        ("wechat", []),
        ("wechat-exports", ["--timezone", "Asia/Shanghai", "--owner", "Owen"]),
    ):
        proc = run_cli(
            [
                "ingest",
                str(REPO / "samples" / folder),
                "--archive",
                str(archive),
                "--custodian",
                "Demo Custodian",
                "--json",
                *extra,
            ]
        )
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        assert data["inputs"] and all(i["status"] == "ingested" for i in data["inputs"])
        assert data["totals"]["lines_rejected"] == 0
    assert sha256sum_check(archive).returncode == 0
    for level in ("--fast", "--deep"):
        proc = run_cli(["verify", "--archive", str(archive), level, "--json"])
        assert proc.returncode == 0, proc.stdout
        assert json.loads(proc.stdout)["ok"] is True
        if folder == "wechat-exports":  # one input per tool, each marked
            formats = {i["format"] for i in data["inputs"]}
            assert formats == {
                f"wechat-{t}" for t in ("memotrace-csv", "pywxdump-csv", "exporter-txt")
            }
            assert all(
                any(w["code"] == "third_party_export" for w in i["warnings"])
                for i in data["inputs"]
            )
    info = json.loads(run_cli(["info", "--archive", str(archive), "--json"]).stdout)
    assert set(info["by_platform"]) == {"whatsapp", "wechat"}
