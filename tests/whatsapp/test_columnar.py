"""The columnar fast path produces exactly the exact reader's rows and report.

Every comparison runs both parsers on the same file and compares the full tables (all
columns of MESSAGE_SCHEMA) and the read report (rejections, warnings, facts, line
counts, encoding). The fast parser is used directly, whatever the file size, and with
tiny blocks so that block boundaries fall inside records.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imarchive.errors import SourceError
from imarchive.model import Message
from imarchive.schema import to_table
from imarchive.sources.base import ReadOptions, ReadReport
from imarchive.sources.whatsapp import columnar, inputs
from imarchive.sources.whatsapp.reader import READER, _Parse
from tests.support import DirectContext, assert_same_rows, candidate_for
from tests.whatsapp.render import DIALECTS, GROUND_TRUTH, render

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples" / "whatsapp").iterdir())
sys.path.insert(0, str(ROOT / "benchmarks"))
gen_whatsapp = importlib.import_module("gen_whatsapp")  # the benchmark's generator


def _read(
    path: Path, options: ReadOptions, fast: bool, block: int | None = None
) -> tuple[pa.Table, ReadReport, bool]:
    ctx = DirectContext(options)
    cand = candidate_for(path)
    chat = READER.source_files(cand)[0]
    src = inputs.ExportInput(cand, chat, ctx.source(chat))
    try:
        parse: _Parse
        if fast:
            fp = columnar.FastParse(src, ctx)
            if block is not None:
                fp.block_size = block
            parse = fp
        else:
            parse = _Parse(src, ctx)
        items = list(parse.run())
    finally:
        src.close()
    messages = [i for i in items if isinstance(i, Message)]
    tables = [i for i in items if isinstance(i, pa.Table)]
    assert not (messages and tables)
    table = pa.concat_tables(tables) if tables else to_table(messages)
    return table, ctx.report, bool(tables)


def _report(rep: ReadReport) -> dict[str, Any]:
    return {f.name: getattr(rep, f.name) for f in fields(rep)}


def check_same(
    path: Path, block: int | None = None, expect_fast: bool | None = None, **options: Any
) -> None:
    opts = ReadOptions(**{"timezone": "UTC", **options})
    try:
        exact, rep_exact, _ = _read(path, opts, fast=False)
    except SourceError as exc:
        with pytest.raises(SourceError) as info:
            _read(path, opts, fast=True, block=block)
        assert info.value.reason == exc.reason
        return
    fast, rep_fast, used = _read(path, opts, fast=True, block=block)
    if expect_fast is not None:
        assert used == expect_fast
    assert_same_rows(exact, fast, show_values=False)
    assert _report(rep_fast) == _report(rep_exact)


def _write(tmp: Path, text: str | bytes, name: str = "WhatsApp Chat with Bob.txt") -> Path:
    path = tmp / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


# -- samples, renderings, generated exports ---------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_samples(sample: Path) -> None:
    check_same(sample, owner="Priya Shah", custodian="c")
    check_same(sample, block=64, timezone="Europe/Berlin")


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@pytest.mark.parametrize("bom", [False, True])
def test_renderings(tmp_path: Path, dialect: Any, bom: bool) -> None:
    path = _write(tmp_path, render(GROUND_TRUTH, dialect, bom=bom))
    check_same(path, owner="Alice", custodian="c")
    check_same(path, block=50, timezone="Europe/London")


@pytest.mark.parametrize("dialect", ["android", "ios"])
@pytest.mark.parametrize("seed", [1, 2, 7])
def test_generated(tmp_path: Path, dialect: str, seed: int) -> None:
    path = tmp_path / "WhatsApp Chat with Bench Group.txt"
    gen_whatsapp.generate(path, 3000, dialect, seed, start=seed * 5000)
    check_same(path, expect_fast=True)
    check_same(path, block=4096, expect_fast=True, owner="Ana Bench", timezone="Europe/London")
    check_same(path, block=333, timezone="America/New_York", custodian="desk")


def test_generated_across_dst(tmp_path: Path) -> None:
    # 2021-03-01 + ~30 days: the European spring-forward gap lies inside
    path = tmp_path / "WhatsApp Chat with Bench Group.txt"
    gen_whatsapp.generate(path, 90_000, "android", 3)
    check_same(path, expect_fast=True, timezone="Europe/Paris", owner="Bo Synthetic")


def test_block_boundary_inside_a_multiline_message(tmp_path: Path) -> None:
    body = "\n".join(f"line {k} of a long message" for k in range(40))
    text = (
        "01/03/2024, 10:00 - Alice: hi\n"
        f"01/03/2024, 10:01 - Bob: {body}\n"
        "01/03/2024, 10:01 - Bob: same\n"
        "01/03/2024, 10:01 - Bob: same\n"
        f"13/03/2024, 10:02 - Alice: {body}\n"
    )
    path = _write(tmp_path, text * 20)
    for block in (16, 64, 100, 257, 1000, 1 << 20):
        check_same(path, block=block, expect_fast=True)


def test_ios_block_boundaries(tmp_path: Path) -> None:
    lines = [
        "[01/03/2024, 10:00:00] Alice: one\nstill one\n[02/03/2024, 10:00:01] Bob: quoted",
        "[01/03/2024, 10:00:01] \u200eBob: \u200eimage omitted",
        "\u200e[01/03/2024, 10:00:02] \u200eAlice added Carol",
        "[13/03/2024, 10:00:03] Carol: x",
    ]
    text = "\r\n".join(lines * 30) + "\r\n"
    path = _write(tmp_path, text, "WhatsApp Chat - Team.txt")
    for block in (16, 80, 1000, 1 << 20):
        check_same(path, block=block, expect_fast=True)


def test_odd_records(tmp_path: Path) -> None:
    text = (
        "junk before\nmore junk\n"
        "01/03/2024, 10:00 - Alice: hi\r\n"
        "01/03/2024, 10:00 - Carol:\n"
        "01/03/2024, 10:00 - Alice created group “X”\n"
        "31/02/2024, 10:00 - Alice: invalid date\n"
        "01/03/2024, 25:00 - Alice: invalid hour\n"
        "01/03/2024, 7:05 PM - Alice: 12h header in a 24h file\n"
        "01/03/2024, 10:01 - Dr. Who changed the subject to “A: B”\n"
        "01/03/2024, 10:01 - Alice: <Media omitted>\n"
        "01/03/2024, 10:01 - Alice: IMG-20240301-WA0001.jpg (file attached)\ncaption\n"
        "01/03/2024, 10:01 - Alice: null\n"
        "01/03/2024, 10:01 - Alice: This message was deleted\n"
        "01/03/2024, 10:01 - Alice: fixed <This message was edited>\n"
        "01/03/2024, 10:01 - Alice: POLL:\nq\nOPTION: a (1 vote)\n\n"
        "01/03/2024, 10:01 - Alice: location: https://maps.google.com/?q=1,2\n"
        "01/03/2024, 10:01 - Alice: Missed voice call\n"
        "01/02/2024, 10:01 - Alice: far back in time\n"
        "13/03/2024, 10:02 - \u202a+44\u00a07700\u00a0900123\u202c: number\n"
        "13/03/2024, 10:02 - ~\u202fDee: non-contact\n"
        "13/03/2024, 10:02 - Alice: unterminated"
    )
    path = _write(tmp_path, text * 3)
    for block in (None, 40):
        check_same(path, block=block, expect_fast=True, owner="Alice")
        check_same(path, block=block, timezone="Europe/London")


def test_markers_found_missing_by_the_audit(tmp_path: Path) -> None:
    """Group events, the iOS edited marker after an LRM, media lines with "added" in a
    file name, Italian/Russian "document omitted": the fast path reads them as the
    exact one does."""
    lrm = "\u200e"
    android = (
        "14/03/2024, 10:00 - Alice: hi\n"
        "14/03/2024, 10:01 - Dan left\n"
        "14/03/2024, 10:02 - Bob: yo\n"
        "14/03/2024, 10:03 - Alice deleted this group's icon\n"
    )
    ios = (
        "[14/03/2024, 10:00:00] Alice: hi\r\n"
        f"{lrm}[14/03/2024, 10:01:00] Team: {lrm}Alice deleted this group's icon\r\n"
        f"[14/03/2024, 10:02:00] Alice: moved {lrm}<This message was edited>\r\n"
        f"{lrm}[14/03/2024, 10:03:00] Bob: {lrm}<attached: 00000047-Items added in Q1.pdf>\r\n"
        f"[14/03/2024, 10:04:00] Bob: {lrm}relazione.pdf • {lrm}2 pagine {lrm}documento omesso\r\n"
        f"[14/03/2024, 10:05:00] Bob: {lrm}отчет.pdf • {lrm}документ отсутствует\r\n"
        "[14/03/2024, 10:06:00] Bob: relazione.pdf • 2 pagine documento omesso\r\n"
    )
    check_same(_write(tmp_path, android * 3), block=64, expect_fast=True)
    check_same(_write(tmp_path, ios * 3, "_chat.txt"), block=64, expect_fast=True)
    # an iOS line after a CRLF that is no header continues the message
    pasted = f"[14/03/2024, 11:00:00] Alice: pasted\r\nfrom desktop\r\n{lrm}\r\n"
    plain = "".join(f"[14/03/2024, 08:{k:02}:00] Bob: message {k}\r\n" for k in range(20))
    text = (ios + pasted + plain) * 3
    check_same(_write(tmp_path, text, "_chat.txt"), block=64, expect_fast=True)


def test_foreign_headers_inside_messages(tmp_path: Path) -> None:
    """Lines in another family's header shape inside records are flagged the same way."""
    android = "".join(f"14/03/2023, 10:{k % 60:02} - Alice: a{k}\n" for k in range(300))
    ios = "[1/4/23, 10:00:00] Bob: ios\r\n[1/4/23, 10:00:01] Bob: ios again\r\n"
    pasted = "14/03/2023, 11:00 - Bob: look\n[2/4/23, 09:00:00] Carol: forwarded\nend\n"
    path = _write(tmp_path, (android + pasted) * 2 + ios)
    check_same(path, block=512, expect_fast=True)
    _, report, _ = _read(path, ReadOptions(timezone="UTC"), fast=True, block=512)
    assert [w.code for w in report.warnings].count("foreign_header") == 2  # ios: the last one
    iosfile = "".join(f"[14/03/2023, 10:{k % 60:02}:00] Alice: i{k}\r\n" for k in range(200))
    inside = "[14/03/2023, 11:00:00] Bob: see\n14/03/2023, 11:00 - Dan: android\r\n"
    check_same(_write(tmp_path, iosfile + inside * 3, "_chat.txt"), block=512, expect_fast=True)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "UTC"])
def test_local_times_at_the_ends_of_the_calendar(tmp_path: Path, zone: str) -> None:
    """The first hours of year 1 east of UTC have no instant a datetime holds: rejected
    as invalid, by both paths, not a crash (a 4-digit year from 2400 on is a Buddhist
    era year, so the end of the calendar cannot be written)."""
    text = (
        "01/01/2024, 10:00 - Alice: before\n"
        "01/01/0001, 00:30 - Alice: year one\n"
        "31/12/9999, 23:30 - Alice: year 9999\n"
        "02/01/2024, 10:00 - Bob: after\n"
    )
    path = _write(tmp_path, text * 2)
    check_same(path, expect_fast=True, timezone=zone, date_order="dmy")
    _, report, _ = _read(path, ReadOptions(timezone=zone, date_order="dmy"), fast=False)
    assert len(report.rejected) == (2 if zone == "Asia/Shanghai" else 0)


def test_not_utf8_falls_back(tmp_path: Path) -> None:
    text = "01/03/2024, 10:00 - Alice: caf\xe9\n13/03/2024, 10:01 - Bob: ok\n"
    path = _write(tmp_path, text.encode("cp1252"))
    check_same(path, expect_fast=False)


# -- hypothesis ---------------------------------------------------------------------------

_NAMES = ["Alice", "Bob", "Carol", "Dr. Who", "\u202a+1\u00a0555\u00a0010\u00a00199\u202c"]
_BODIES = [
    "hi",
    "",
    "same",
    "<Media omitted>",
    "This message was deleted",
    "null",
    "a: b",
    "x <This message was edited>",
    "https://example.com",
    "\u200eimage omitted",
    "\u200eMessages and calls are end-to-end encrypted. Tap to learn more.",
    "multi\nline",
    "looks\n01/03/2024, 10:00 - Alice: like a header",
    "blank\n\nline",
    "cr\r\ninside",
    "report.pdf (file attached)",
    "12 apples",
    "[1/2/24, 10:00:00] quoted",
]
_SYSTEM = ["Alice added Bob", "Bob left", "\u200eAlice created group “T”", "You were added"]


@st.composite
def exports(draw: st.DrawFn) -> tuple[str, str]:
    ios = draw(st.booleans())
    n = draw(st.integers(1, 40))
    t = datetime(2024, 3, draw(st.integers(1, 28)), draw(st.integers(0, 23)), 0, 0)
    out: list[str] = []
    if draw(st.booleans()):
        out.append("\ufeff")
    if draw(st.integers(0, 5)) == 0:
        out.append("some junk line\n")
    eol = "\r\n" if ios and draw(st.booleans()) else "\n"
    for _ in range(n):
        t += timedelta(seconds=draw(st.sampled_from([0, 0, 1, 59, 3600, -120, -200_000])))
        head = f"[{t:%d/%m/%Y}, {t:%H:%M:%S}] " if ios else f"{t:%d/%m/%Y}, {t:%H:%M} - "
        if draw(st.integers(0, 30)) == 0:
            head = head.replace(f"{t:%d/%m}", "31/02")
        if draw(st.integers(0, 30)) == 0:
            head = f"{t.day}/{t.month}/{t:%y}, {t.hour % 12 or 12}:{t:%M} PM - "
        if draw(st.integers(0, 6)) == 0:
            line = ("\u200e" if ios else "") + head + draw(st.sampled_from(_SYSTEM))
        else:
            line = head + draw(st.sampled_from(_NAMES)) + ": " + draw(st.sampled_from(_BODIES))
        out.append(line + eol)
    if draw(st.booleans()):
        out[-1] = out[-1].rstrip("\r\n")
    tz = draw(st.sampled_from(["UTC", "Europe/London", "America/Sao_Paulo"]))
    return "".join(out), tz


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(exports(), st.sampled_from([None, 24, 200]), st.sampled_from([None, "Alice"]))
def test_hypothesis_exports(
    tmp_path: Path, export: tuple[str, str], block: int | None, owner: str | None
) -> None:
    text, tz = export
    path = _write(tmp_path, text)
    try:
        check_same(path, block=block, timezone=tz, owner=owner)
    finally:
        path.unlink()


def test_attachments_beside_a_loose_chat_file(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "IMG-20240301-WA0001.jpg").write_bytes(b"jpeg bytes")
    (folder / "VID-20240301-WA0002.mp4").mkdir()  # a folder, not the file
    (folder / "doc.pdf").write_bytes(b"pdf")
    (folder / "PTT-20240301-WA0003.opus").symlink_to(folder / "doc.pdf")
    names = [
        "IMG-20240301-WA0001.jpg",
        "VID-20240301-WA0002.mp4",
        "PTT-20240301-WA0003.opus",
        "IMG-20240301-WA0009.jpg",
        "DOC.PDF",
        "doc.pdf",
    ]
    text = "".join(
        f"0{1 + k % 9}/03/2024, 10:0{k % 10} - Alice: {name} (file attached)\ncaption {k}\n"
        for k, name in enumerate(names * 3)
    )
    path = _write(folder, "13/03/2024, 09:00 - Bob: hi\n" + text)
    check_same(path, expect_fast=True)
    check_same(path, block=30, expect_fast=True)
