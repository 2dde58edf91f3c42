"""The samples ingest cleanly, as `make demo` does, and the result checks out."""

from __future__ import annotations

import json
from pathlib import Path

from tests.core.helpers import REPO, read_rows, run_cli, sha256sum_check


def test_samples_ingest_verify_and_checksum(tmp_path: Path) -> None:
    """The ingest runs of ``make demo``: the CSV exports take the owner's wxid as
    ``--owner``, the text export the owner's display name."""
    archive = tmp_path / "demo"
    formats: set[str] = set()
    exports = ["--timezone", "Asia/Shanghai", "--owner"]
    for folders, extra in (
        (["whatsapp"], ["--timezone", "Europe/London"]),
        (["wechat"], []),
        (["wechat-exports/memotrace", "wechat-exports/pywxdump"], [*exports, "wxid_owner01"]),
        (["wechat-exports/wechatexporter"], [*exports, "Owen"]),
    ):
        proc = run_cli(
            [
                "ingest",
                *(str(REPO / "samples" / f) for f in folders),
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
        if folders[0].startswith("wechat-exports"):  # one input per tool, each marked
            formats |= {i["format"] for i in data["inputs"]}
            assert all(
                any(w["code"] == "third_party_export" for w in i["warnings"])
                for i in data["inputs"]
            )
    assert formats == {f"wechat-{t}" for t in ("memotrace-csv", "pywxdump-csv", "exporter-txt")}
    makefile = (REPO / "Makefile").read_text()
    assert "samples/wechat-exports/memotrace samples/wechat-exports/pywxdump" in makefile
    assert sha256sum_check(archive).returncode == 0
    for level in ("--fast", "--deep"):
        proc = run_cli(["verify", "--archive", str(archive), level, "--json"])
        assert proc.returncode == 0, proc.stdout
        assert json.loads(proc.stdout)["ok"] is True
    rows = read_rows(archive)
    csv_rows = [r for r in rows if r["source_format"].endswith("-csv")]
    assert csv_rows and {r["account_id"] for r in csv_rows} == {"wxid_owner01"}
    outbound = {r["sender_id"] for r in csv_rows if r["direction"] == "outbound"}
    assert outbound == {"wxid_owner01"}
    info = json.loads(run_cli(["info", "--archive", str(archive), "--json"]).stdout)
    assert set(info["by_platform"]) == {"whatsapp", "wechat"}
