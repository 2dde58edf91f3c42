"""verify never echoes what a damaged file holds (SPEC: "Never print or log a message
body ... Logs and errors carry paths, line numbers, counts and ids only"). A chat
export copied over a metadata file, free text planted in a record's fields, rows with
free text where an id belongs: the report names the line, its length and at most a
hash, a validated path or a validated sha256, and nothing it prints to a terminal
holds a non-printable character."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from imarchive.archive import layout as L
from imarchive.verify import LEVELS, VerifyReport, verify
from tests.verify_helpers import (
    MARCH,
    files_of,
    forge_part,
    part,
    rewrite_record,
    writable,
)

SECRET = "Zyxwv-private-body"
CHAT = (
    f"14/03/2024, 09:00 - Alice: meet at the usual place {SECRET}\n"
    f"14/03/2024, 09:01 - Bob: {SECRET} ok\n"
    "\n"
    f"{SECRET}\x1b[2J\x07 a pasted line with control characters\n"
)


def report_text(rep: VerifyReport) -> str:
    return json.dumps(rep.to_json(), ensure_ascii=False)


def assert_private(rep: VerifyReport) -> None:
    """No problem carries the planted text, and every string is printable."""
    text = report_text(rep)
    assert SECRET not in text, text
    for p in rep.problems:
        for value in (p.path, p.message, p.expected, p.found):
            if isinstance(value, str):
                assert value.isprintable(), (p.code, value)


def run_cli_bytes(*args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMARCHIVE_")}
    return subprocess.run(
        [sys.executable, "-m", "imarchive", *args],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )


def assert_terminal_safe(data: bytes) -> None:
    text = data.decode("utf-8")  # strict: no raw binary reaches the terminal
    assert SECRET not in text, text
    assert all(ch.isprintable() or ch == "\n" for ch in text), repr(text)


def cli_is_private(arc: Path) -> None:
    for extra in ([], ["--json"], ["--deep"]):
        proc = run_cli_bytes("verify", "--archive", str(arc), *extra)
        assert proc.returncode == 1, proc.stderr
        assert_terminal_safe(proc.stdout)
        assert_terminal_safe(proc.stderr)


def test_chat_text_over_sha256sums_is_not_echoed(arc: Path) -> None:
    writable(arc / L.SHA256SUMS).write_text(CHAT, encoding="utf-8")
    for level in LEVELS:
        rep = verify(arc, level)
        assert not rep.ok
        assert_private(rep)
    bad = [p for p in rep.problems if p.code == "sums_mismatch" and "line 1 " in p.message]
    assert len(bad) == 1, rep.to_json()
    line = CHAT.encode().split(b"\n")[0]
    assert bad[0].found == hashlib.sha256(line).hexdigest()
    assert str(len(line)) in bad[0].message
    cli_is_private(arc)


def test_random_bytes_over_sha256sums_never_reach_the_terminal(arc: Path) -> None:
    data = bytes(range(256)) * 4 + b"\n" + os.urandom(4096) + b"\n\x1b]0;title\x07\n"
    writable(arc / L.SHA256SUMS).write_bytes(data)
    rep = verify(arc, "fast")
    assert_private(rep)
    # one problem per malformed line at most, and a bounded number in all
    assert sum(p.code == "sums_mismatch" for p in rep.problems) < 40, rep.to_json()
    cli_is_private(arc)


def test_a_well_formed_sums_line_names_its_path_and_a_free_text_one_does_not(arc: Path) -> None:
    sums = (arc / L.SHA256SUMS).read_text()
    extra = "messages/platform=whatsapp/year=2024/month=03/part-00000009-aaaaaaaaaaaa-0000.parquet"
    sums += f"{'a' * 64}  {extra}\n"
    sums += f"{'b' * 64}  {SECRET} said this\n"
    sums += f"{'c' * 64}  ../{SECRET}\n"
    writable(arc / L.SHA256SUMS).write_text(sums)
    rep = verify(arc, "fast")
    assert_private(rep)
    assert any(extra in p.message for p in rep.problems if p.code == "sums_mismatch")


def test_chat_text_over_other_metadata_is_not_echoed(arc: Path) -> None:
    for rel in (L.MANIFEST_JSON, L.batch_path(1), L.batch_path(2)):
        writable(arc / rel).write_text(CHAT, encoding="utf-8")
    for level in LEVELS:
        assert_private(verify(arc, level))
    cli_is_private(arc)


def test_free_text_in_the_manifest_is_not_echoed(arc: Path) -> None:
    man = json.loads((arc / L.MANIFEST_JSON).read_bytes())
    man["totals"]["messages"] = SECRET
    man["head"] = {"seq": 2, "sha256": SECRET}
    man[SECRET] = SECRET
    man["files"][0]["path"] = f"messages/{SECRET} here"
    man["files"][1]["kind"] = SECRET
    man["files"].append({"path": f"{SECRET}\x1b[2J", "sha256": SECRET})
    writable(arc / L.MANIFEST_JSON).write_bytes(L.dumps(man))
    rep = verify(arc, "fast")
    assert "manifest_mismatch" in rep.codes()
    assert_private(rep)


def test_free_text_in_archive_json_is_not_echoed(arc: Path) -> None:
    ident = json.loads((arc / L.ARCHIVE_JSON).read_bytes())
    ident["schema_version"] = SECRET
    ident["schema"] = {"fields": [SECRET]}
    writable(arc / L.ARCHIVE_JSON).write_bytes(L.dumps(ident))
    rep = verify(arc, "fast")
    assert "archive_json_invalid" in rep.codes()
    assert_private(rep)


def test_free_text_in_a_batch_record_is_not_echoed(arc: Path) -> None:
    def edit(rec: dict[str, Any]) -> None:
        rec["format"] = SECRET
        rec["batch_id"] = SECRET
        rec["prev_sha256"] = SECRET
        files = rec["files"]
        files[0]["kind"] = SECRET
        files[1]["sha256"] = SECRET
        msgs = [f for f in files if f["kind"] == "messages"]
        msgs[0]["rows"] = SECRET
        msgs[0]["min_sent_at"] = SECRET
        msgs[0]["partition"] = SECRET
        rec["set_aside"] = [
            {
                "path": f"{L.QUARANTINE}/00000001/x",
                "kind": "quarantine",
                "sha256": "0" * 64,
                "size": 1,
                "original_path": f"{SECRET} \x1b[2J",
            }
        ]

    rewrite_record(arc, 1, edit)  # manifest and SHA256SUMS now differ too
    for level in LEVELS:
        rep = verify(arc, level)
        assert "batch_record_invalid" in rep.codes()
        assert_private(rep)

    def paths(rec: dict[str, Any]) -> None:
        rec["files"][0]["path"] = f"messages/{SECRET} said"
        rec["inputs"][0]["sources"] = [{"sha256": SECRET}]

    rewrite_record(arc, 2, paths)
    assert_private(verify(arc, "fast"))
    cli_is_private(arc)


def test_free_text_in_rows_is_not_echoed(arc: Path) -> None:
    rel = part(arc, MARCH)

    def change(t: pa.Table) -> pa.Table:
        rows = t.to_pylist()
        rows[0]["platform"] = f"{SECRET}\x1b[2J"
        rows[1]["source_sha256"] = SECRET
        return pa.Table.from_pylist(rows, schema=t.schema)

    forge_part(arc, rel, change)
    rep = verify(arc, "deep")
    assert {"partition_mismatch", "source_missing"} <= rep.codes(), rep.to_json()
    assert_private(rep)


def test_unprintable_file_names_are_escaped(arc: Path) -> None:
    (arc / MARCH / "evil\x1b[2J\x07name").write_bytes(b"x")
    (arc / os.fsdecode(b"bad\xffbyte")).write_bytes(b"x")
    rep = verify(arc, "fast")
    assert {p.code for p in rep.problems} == {"unexpected_file"}
    assert len(rep.problems) == 2
    assert_private(rep)
    cli_is_private(arc)


def test_attachment_and_source_files_are_never_read_into_the_report(arc: Path) -> None:
    for rel in (files_of(arc, "source", 2)[0], files_of(arc, "attachment", 1)[0]):
        writable(arc / rel).write_text(CHAT)
    rep = verify(arc, "deep")
    assert "size_mismatch" in rep.codes()
    assert_private(rep)


@pytest.mark.parametrize("rel", [L.ARCHIVE_JSON, L.SHA256SUMS, L.MANIFEST_JSON])
def test_binary_garbage_over_a_metadata_file(arc: Path, rel: str) -> None:
    writable(arc / rel).write_bytes(b"\x00\x1b[31m" + SECRET.encode() + b"\xff\xfe\n" * 3)
    rep = verify(arc, "fast")
    assert not rep.ok
    assert_private(rep)
