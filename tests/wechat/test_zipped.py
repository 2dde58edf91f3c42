"""Zips of WeChat inputs: a database dump or a third-party text export inside a zip is
refused with what to do instead (unzip it), never taken for a broken WhatsApp export;
a WhatsApp zip whose only text has another name is still read."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.core.helpers import ingest, read_rows
from tests.wechat.test_exports import memotrace_group

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _zip_tree(path: Path, root: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(root.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(root).as_posix())
    return path


def _refused(tmp_path: Path, zipped: Path) -> str:
    archive = tmp_path / "archive"
    proc = ingest(archive, zipped, extra=["--timezone", "Asia/Shanghai"])
    assert proc.returncode == 1, proc.stderr
    assert not (archive / "messages").exists() or not read_rows(archive)
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert line.startswith(f"error: {zipped}: ")
    return line


def test_zipped_pc3_dump_is_refused_with_unzip_advice(tmp_path: Path) -> None:
    dump = _zip_tree(tmp_path / "dump.zip", SAMPLES / "wechat")
    line = _refused(tmp_path, dump)
    assert "WeChat database dump (MSG0.db, MSG1.db, MicroMsg.db)" in line
    assert "unzip it and ingest the folder" in line


def test_zipped_android_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "phone.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data/EnMicroMsg.db", b"\x00" * 1024)
    assert "WeChat database dump (EnMicroMsg.db)" in _refused(tmp_path, path)


def test_zipped_text_exports_name_their_tool(tmp_path: Path) -> None:
    for tool in ("memotrace", "pywxdump", "wechatexporter"):
        path = _zip_tree(tmp_path / f"{tool}.zip", SAMPLES / "wechat-exports" / tool)
        line = _refused(tmp_path, path)
        names = {
            "memotrace": "wechat-memotrace-csv",
            "pywxdump": "wechat-pywxdump-csv",
            "wechatexporter": "wechat-exporter-txt",
        }
        assert f"a zip holding a {names[tool]} export (" in line, line
        assert "unzip it and ingest the file" in line
    # a CSV the test writes (not a sample), under a folder of the zip
    csv_path = memotrace_group(tmp_path)
    path = tmp_path / "memo2.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(csv_path, f"export/{csv_path.name}")
    assert f"wechat-memotrace-csv export (export/{csv_path.name})" in _refused(tmp_path, path)


def test_zip_of_something_else_says_so(tmp_path: Path) -> None:
    path = tmp_path / "notes.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notes.txt", "shopping list\nmilk\n")
    assert _refused(tmp_path, path).endswith(
        "a zip holding no WhatsApp chat text and no other known export"
    )


def test_whatsapp_zip_with_an_only_text_of_another_name_is_read(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("chat.txt", "12/03/2024, 10:00 - Alice: hi\n12/03/2024, 10:01 - Bob: yo\n")
    archive = tmp_path / "archive"
    proc = ingest(archive, path, extra=["--timezone", "UTC"])
    assert proc.returncode == 0, proc.stderr
    assert sorted(r["body"] for r in read_rows(archive)) == ["hi", "yo"]
