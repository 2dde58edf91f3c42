"""Rendering: tables on a terminal, plain lines under cron (practice 11: an
injectable console with a pinned width)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from imarchive import report
from imarchive.console import Console
from imarchive.ingest import IngestOptions, ingest
from imarchive.sources.base import ReadOptions
from tests.core.helpers import CANARY, android_export

ANSI = re.compile(r"\x1b\[")


def _result(tmp_path: Path):  # type: ignore[no-untyped-def]
    export = android_export(tmp_path / "WhatsApp Chat with Bob Sample.txt", 5, canary=True)
    bad = tmp_path / "notes.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    opts = IngestOptions((export, bad), tmp_path / "archive", ReadOptions(timezone="UTC"))
    return ingest(opts)


def test_terminal_gets_a_table(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    console = Console(out=out, err=err, tty=True, width=120)
    report.ingest(console, _result(tmp_path))
    text = out.getvalue()
    assert "imarchive ingest" in text and "│" in text
    assert "ingested" in text and "rejected" in text and "whatsapp-txt" in text
    assert "notes.csv" in err.getvalue()
    assert CANARY not in text + err.getvalue()


def test_cron_gets_plain_lines(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    console = Console(out=out, err=err, tty=False, width=80)
    report.ingest(console, _result(tmp_path))
    lines = err.getvalue().splitlines()
    assert not ANSI.search(out.getvalue() + err.getvalue())
    assert any(ln.startswith("ingested: ") and "new=6" in ln for ln in lines)
    assert any(ln.startswith("error: ") and "notes.csv" in ln for ln in lines)
    assert lines[-1].startswith("added 6 message(s)")
    # a log tells one night from the next: the summary ends with the time (UTC)
    assert re.search(r" at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", lines[-1]), lines[-1]
    assert CANARY not in out.getvalue() + err.getvalue()


def test_progress_is_silent_off_a_terminal() -> None:
    out, err = io.StringIO(), io.StringIO()
    console = Console(out=out, err=err, tty=False)
    with console.progress("ingest") as update:
        update("some/file.txt", 1, 2)
    assert err.getvalue() == "" and out.getvalue() == ""


def test_progress_bar_on_a_terminal() -> None:
    out, err = io.StringIO(), io.StringIO()
    console = Console(out=out, err=err, tty=True, width=100)
    with console.progress("ingest") as update:
        update("some/file.txt", 1, 2)
    assert "ingest" in err.getvalue()


def test_quiet_keeps_errors(tmp_path: Path) -> None:
    result = _result(tmp_path)
    for tty in (False, True):  # on a terminal too: no table
        out, err = io.StringIO(), io.StringIO()
        console = Console(out=out, err=err, tty=tty, quiet=True, width=400)
        report.ingest(console, result)
        lines = err.getvalue().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "notes.csv" in lines[0]
        assert out.getvalue() == "", tty


def test_a_newline_in_a_path_stays_on_one_line() -> None:
    err = io.StringIO()
    console = Console(out=io.StringIO(), err=err, tty=False)
    console.error("drop/two\nlines.txt: not a recognised chat export")
    assert err.getvalue() == "error: drop/two\\nlines.txt: not a recognised chat export\n"


def test_names_in_tables_are_not_markup() -> None:
    """A conversation or file named with brackets: shown as it is, never styled or fatal."""
    out = io.StringIO()
    console = Console(out=out, err=io.StringIO(), tty=True, width=200)
    data = {
        "archive": "arc[/x]",
        "head": {"seq": 1, "sha256": "ab"},
        "totals": {"messages": 1, "batches": 1, "files": 1, "sources": 1, "attachments": 0},
        "by_platform": {"whatsapp": 1},
        "by_conversation": [
            {
                "conversation_id": "[bold]desk[/bold] [/x]",
                "platform": "whatsapp",
                "messages": 1,
                "first": "2024-01-01",
                "last": "2024-01-01",
            }
        ],
        "by_month": {"2024-01": 1},
    }
    report.info(console, data)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    assert "[bold]desk[/bold] [/x]" in text and "arc[/x]" in text


def test_info_on_a_terminal_has_the_platform_totals(tmp_path: Path) -> None:
    from imarchive.info import archive_info

    _result(tmp_path)
    out = io.StringIO()
    console = Console(out=out, err=io.StringIO(), tty=True, width=160)
    report.info(console, archive_info(tmp_path / "archive"))
    text = out.getvalue()
    assert "by platform" in text and "whatsapp" in text and "by month" in text


def test_an_input_line_names_its_warning_codes_and_a_broken_lock() -> None:
    out, err = io.StringIO(), io.StringIO()
    console = Console(out=out, err=err, tty=False, width=200)
    data = {
        "inputs": [
            {
                "path": "chat.txt",
                "status": "ingested",
                "format": "whatsapp-txt",
                "messages_read": 3,
                "messages_new": 3,
                "messages_duplicate": 0,
                "lines_rejected": 0,
                "rows_rejected": 0,
                "warnings": [
                    {"locator": "L1", "code": "dst_fold", "message": "m"},
                    {"locator": "L2", "code": "dst_fold", "message": "m"},
                    {"locator": "", "code": "date_order_assumed", "message": "m"},
                ],
            }
        ],
        "warnings": [],
        "set_aside": 0,
        "lock_breaks": 1,
        "dry_run": False,
        "batch_seq": 1,
        "head": {"seq": 1, "sha256": "0" * 64},
        "totals": {
            "messages_new": 3,
            "messages_duplicate": 0,
            "ingested": 1,
            "already_ingested": 0,
            "rejected": 0,
        },
    }

    class Result:
        def to_json(self) -> dict:  # type: ignore[type-arg]
            return data

    report.ingest(console, Result())
    assert "warnings=3 (dst_fold 2, date_order_assumed 1)" in err.getvalue()
    assert "warning: took over the writer lock of 1 run(s) that died holding it" in err.getvalue()


def test_a_big_nightly_rerun_lists_twenty_already_ingested_inputs_then_counts() -> None:
    def item(k: int) -> dict:  # type: ignore[type-arg]
        return {
            "path": f"drop/chat{k:04d}.txt",
            "status": "already_ingested",
            "format": "whatsapp-txt",
            "messages_read": 0,
            "messages_new": 0,
            "messages_duplicate": 0,
            "lines_rejected": 0,
            "rows_rejected": 0,
            "warnings": [],
        }

    data = {
        "inputs": [item(k) for k in range(500)],
        "warnings": [],
        "set_aside": 0,
        "lock_breaks": 0,
        "dry_run": False,
        "batch_seq": None,
        "head": {"seq": 3, "sha256": "0" * 64},
        "totals": {},
    }

    class Result:
        def to_json(self) -> dict:  # type: ignore[type-arg]
            return data

    err = io.StringIO()
    report.ingest(Console(out=io.StringIO(), err=err, tty=False, width=200), Result())
    lines = err.getvalue().splitlines()
    assert len(lines) == 22, lines[:3]
    assert lines[0].startswith("already_ingested: drop/chat0000.txt ")
    assert lines[19].startswith("already_ingested: drop/chat0019.txt ")
    assert lines[20].startswith("already_ingested: 480 more input(s)")
    assert lines[21].startswith("nothing new to ingest; head 3 ")


def test_a_verify_line_gives_sizes_in_bytes_and_leaves_out_what_is_unknown() -> None:
    problems = [
        {"severity": "error", "code": "unexpected_file", "path": "messages/x", "message": "m",
         "expected": None, "found": 18544},
        {"severity": "error", "code": "size_mismatch", "path": "sources/ab/ab", "message": "m",
         "expected": 10, "found": 12},
        {"severity": "error", "code": "manifest_missing", "path": "_archive/manifest.json",
         "message": "m", "expected": None, "found": "missing"},
    ]  # fmt: skip
    data = {"level": "default", "ok": False, "problems": problems, "head": None}
    err = io.StringIO()
    report.verify(Console(out=io.StringIO(), err=err, tty=False, width=200), data)
    lines = err.getvalue().splitlines()
    assert lines[0].endswith(": m (found 18544 bytes)")
    assert lines[1].endswith(": m (expected 10 bytes, found 12 bytes)")
    assert lines[2].endswith(": m (found missing)")
