"""Renders results as tables (terminal), plain lines (cron) or JSON. No logic."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from rich.table import Table
from rich.text import Text

from imarchive.console import Console


def dump_json(console: Console, obj: Any) -> None:
    console.data(json.dumps(obj, ensure_ascii=not console.out_utf8, indent=2, default=str))


ALREADY_LISTED = 20  # already ingested inputs named one by one in a log; the rest counted


SIZE_CODES = frozenset({"size_mismatch", "unexpected_file"})  # expected/found are bytes


def _expected_found(p: dict[str, Any]) -> str:
    """`` (expected X, found Y)``, each part only when known; sizes with their unit."""
    unit = " bytes" if p["code"] in SIZE_CODES else ""
    parts = [
        f"{label} {value}{unit if isinstance(value, int) else ''}"
        for label, value in (("expected", p["expected"]), ("found", p["found"]))
        if value is not None and value != ""
    ]
    return f" ({', '.join(parts)})" if parts else ""


def _counts(key: str, counts: dict[str, int]) -> Table:
    """A table of messages by ``key`` (platform, month)."""
    table = Table(title=f"by {key}")
    table.add_column(key)
    table.add_column("messages", justify="right")
    for value, n in counts.items():
        _row(table, value, str(n))
    return table


def _at(console: Console) -> str:
    """`` at <UTC time>`` for a summary line in a log (one night from the next); nothing
    on a terminal."""
    if console.tty:
        return ""
    return " at " + datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _warning_codes(warnings: list[dict[str, str]]) -> str:
    """`` (code n, …)`` of an input's warnings, most frequent first; "" for none."""
    if not warnings:
        return ""
    counts = Counter(w["code"] for w in warnings)
    return " (" + ", ".join(f"{code} {n}" for code, n in counts.most_common()) + ")"


def _rejected(i: dict[str, Any]) -> str:
    """Rejected text lines or database rows of an input."""
    parts = [f"{i['lines_rejected']} lines"] if i["lines_rejected"] else []
    if i["rows_rejected"]:
        parts.append(f"{i['rows_rejected']} rows")
    return ", ".join(parts) or "0"


def ingest(console: Console, result: Any) -> None:
    data = result.to_json()
    t = data["totals"]
    if console.out_tty and not console.quiet:
        table = Table(title="imarchive ingest")
        for col in (
            "input",
            "format",
            "status",
            "read",
            "new",
            "dup",
            "rejected",
            "warnings",
        ):
            table.add_column(col, overflow="fold")
        for i in data["inputs"]:
            _row(
                table,
                i["path"],
                i["format"] or "-",
                i["status"],
                str(i["messages_read"]),
                str(i["messages_new"]),
                str(i["messages_duplicate"]),
                _rejected(i),
                str(len(i["warnings"])),
            )
        console.table(table)
    listed = skipped = 0  # already ingested inputs: the first ALREADY_LISTED, then a count
    for i in data["inputs"]:
        if i["status"] == "rejected":
            console.error(f"{i['path']}: {i['error']}")
        elif console.out_tty or console.quiet:
            continue
        elif i["status"] == "already_ingested" and listed >= ALREADY_LISTED:
            skipped += 1  # the nightly re-run of a big drop folder: a count, not a line each
        else:
            listed += i["status"] == "already_ingested"
            status = (
                "would ingest" if data["dry_run"] and i["status"] == "ingested" else i["status"]
            )
            console.info(
                f"{status}: {i['path']} format={i['format']} read={i['messages_read']} "
                f"new={i['messages_new']} duplicate={i['messages_duplicate']} "
                f"rejected_lines={i['lines_rejected']} rejected_rows={i['rows_rejected']} "
                f"warnings={len(i['warnings'])}{_warning_codes(i['warnings'])}"
            )
    if skipped:
        console.info(
            f"already_ingested: {skipped} more input(s) (their sha256 is in the archive; "
            "--json lists them)"
        )
    for w in data["warnings"]:
        console.warn(w)
    if data["lock_breaks"]:
        console.warn(
            f"took over the writer lock of {data['lock_breaks']} run(s) that died holding it "
            "(recorded in the batch record)"
        )
    if data["set_aside"]:
        console.warn(
            f"{data['set_aside']} leftover file(s) of an interrupted run "
            "set aside in _archive/quarantine/"
        )
    verb = "would add" if data["dry_run"] else "added"
    if data["batch_seq"] is None and not data["dry_run"]:
        console.info(
            f"nothing new to ingest; head {data['head']['seq']} {data['head']['sha256']}"
            + _at(console)
        )
    else:
        console.info(
            f"{verb} {t['messages_new']} message(s) ({t['messages_duplicate']} duplicate) from "
            f"{t['ingested']} input(s); {t['already_ingested']} already ingested, "
            f"{t['rejected']} rejected"
            + (
                ""
                if data["dry_run"]
                else f"; batch {data['batch_seq']}, head {data['head']['sha256']}"
            )
            + _at(console)
        )


def verify(console: Console, data: dict[str, Any]) -> None:
    problems = data.get("problems", [])
    if console.out_tty and problems:
        table = Table(title=f"imarchive verify ({data['level']})")
        for col in ("severity", "code", "path", "expected", "found"):
            table.add_column(col, overflow="fold")
        for p in problems:
            _row(
                table,
                p["severity"],
                p["code"],
                p["path"] or "",
                str(p["expected"] or ""),
                str(p["found"] or ""),
            )
        console.table(table)
    elif problems:
        for p in problems:
            console.line(
                f"{p['severity']}: {p['code']} {p['path'] or '-'}: {p['message']}"
                + _expected_found(p)
            )
    running = data.get("running_ingest")
    if running and running.get("here"):
        console.info(
            f"note: an ingest is running (pid {running['pid']} on {running['host']} since "
            f"{running['started']}); its unfinished files are not reported as leftovers"
        )
    elif running:
        console.info(
            f"note: the writer lock names pid {running['pid']} on another host, "
            f"{running['host']}, since {running['started']}: an ingest may be running there "
            "(its unfinished files are reported)"
        )
    head = data.get("head") or {}
    status = "OK" if data["ok"] else "FAILED"
    at = (
        f"head {head.get('seq')} {head.get('sha256')}"
        if head.get("sha256")
        else "no head (no readable archive.json or batch record)"
    )
    errors = sum(1 for p in problems if p["severity"] == "error")
    warnings = len(problems) - errors
    console.info(
        f"verify {data['level']}: {status}: {errors} error(s), {warnings} warning(s); {at}"
        + _at(console)
    )


def info(console: Console, data: dict[str, Any]) -> None:
    head = data["head"]
    t = data["totals"]
    if console.out_tty:
        table = Table(title=Text(f"archive {data['archive']}"))
        table.add_column("conversation", overflow="fold")
        table.add_column("platform")
        table.add_column("messages", justify="right")
        table.add_column("first")
        table.add_column("last")
        for c in data["by_conversation"]:
            _row(
                table,
                c["conversation_id"],
                c["platform"],
                str(c["messages"]),
                c["first"],
                c["last"],
            )
        console.table(table)
        console.table(_counts("platform", data["by_platform"]))
        console.table(_counts("month", data["by_month"]))
    else:
        console.data(f"archive: {data['archive']}")
        console.data(
            f"format_version: {data['format_version']}  schema_version: {data['schema_version']}"
        )
        for p, n in data["by_platform"].items():
            console.data(f"platform {p}: {n} messages")
        for c in data["by_conversation"]:
            console.data(
                f"conversation {c['platform']} {c['conversation_id']}: {c['messages']} messages "
                f"({c['first']} .. {c['last']})"
            )
        for m, n in data["by_month"].items():
            console.data(f"month {m}: {n} messages")
    console.data(
        f"totals: {t.get('messages', 0)} messages, {t.get('batches', 0)} batches, "
        f"{t.get('files', 0)} files, "
        f"{t.get('sources', 0)} sources, {t.get('attachments', 0)} attachments"
    )
    console.data(f"head: {head['seq']} {head['sha256']}")


def formats(console: Console, rows: list[tuple[str, str, str]]) -> None:
    if console.out_tty:
        table = Table(title="source formats")
        for col in ("format", "platform", "detected by"):
            table.add_column(col, overflow="fold")
        for r in rows:
            _row(table, *r)
        console.table(table)
    else:
        for name, platform, desc in rows:
            console.data(f"{name}\t{platform}\t{desc}")


def _row(table: Table, *cells: str) -> None:
    """Cells as plain text: a path or name holding ``[...]`` is not rich markup."""
    table.add_row(*(Text(c) for c in cells))
