"""Line endings are line endings: one export saved with LF, CRLF (re-saved on Windows) or
bare CR (old Mac) gives the same rows and ids; only ``raw`` (and the source hash) keeps
the bytes as they were. A file's line ending is decided from the file as a whole, the
same way on the exact and the columnar path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imarchive.model import Message, MessageKind
from imarchive.sources.base import ReadOptions
from tests.core.helpers import ingest_json
from tests.whatsapp.helpers import read_text
from tests.whatsapp.render import DIALECTS, GROUND_TRUTH, render
from tests.whatsapp.test_columnar import _read, check_same, exports

ANDROID = (
    "14/03/2024, 08:59 - Messages and calls are end-to-end encrypted. No one outside of this "
    "chat, not even WhatsApp, can read or listen to them. Tap to learn more.\n"
    "14/03/2024, 09:00 - Alice created group “Desk”\n"
    "14/03/2024, 09:12 - Jörg: Grüße\n"
    "14/03/2024, 09:13 - Bob: This message was deleted\n"
    "14/03/2024, 09:14 - Alice: fixed <This message was edited>\n"
    "14/03/2024, 09:15 - Bob: two\nlines\n\nand a blank one\n"
    "14/03/2024, 09:16 - Alice: POLL:\nLunch?\nOPTION: Yes (1 vote)\nOPTION: No (0 votes)\n\n"
    "14/03/2024, 09:17 - Bob: <Media omitted>\n"
    "14/03/2024, 09:18 - Carol:\n"
    "14/03/2024, 09:19 - Bob: null\n"
    "14/03/2024, 09:20 - Alice: IMG-20240314-WA0001.jpg (file attached)\ncaption\n"
    "14/03/2024, 09:21 - Bob: same\n"
    "14/03/2024, 09:21 - Bob: same\n"
    "14/03/2024, 09:22 - Alice: last\n"
)
IOS = (
    "[14/03/2024, 09:12:00] Alice: Hello\r\n"
    "\u200e[14/03/2024, 09:12:05] Bob: \u200eimage omitted\r\n"
    "[14/03/2024, 09:12:09] Bob: \u200eThis message was deleted.\r\n"
    "[14/03/2024, 09:13:00] Alice: two\nlines <This message was edited>\r\n"
    "[14/03/2024, 09:14:00] Bob: done\r\n"
)

# every column a row gets from the text (``raw`` and the source columns aside)
FIELDS = (
    "message_id",
    "conversation_type",
    "sender_id",
    "sender_name",
    "direction",
    "sent_at",
    "sent_at_source",
    "kind",
    "native_type",
    "body",
    "edited",
    "deleted",
    "attachments",
    "source_locator",
)


def _rows(msgs: list[Message]) -> list[tuple[Any, ...]]:
    return [tuple(getattr(m, f) for f in FIELDS) for m in msgs]


def _copies(text: str) -> dict[str, str]:
    return {"lf": text, "crlf": text.replace("\n", "\r\n"), "cr": text.replace("\n", "\r")}


@pytest.mark.parametrize("eol", ["crlf", "cr"])
def test_android_copy_with_other_line_endings_reads_like_the_lf_original(
    tmp_path: Path, eol: str
) -> None:
    lf, lf_ctx = read_text(tmp_path, ANDROID)
    msgs, ctx = read_text(tmp_path, _copies(ANDROID)[eol])
    assert len(msgs) == 14
    assert _rows(msgs) == _rows(lf)
    sep = "\r\n" if eol == "crlf" else "\r"
    assert [m.raw for m in msgs] == [m.raw.replace("\n", sep) for m in lf]
    assert ctx.report.lines_total == lf_ctx.report.lines_total == 22
    assert ctx.report.rejected == [] and ctx.report.warnings == lf_ctx.report.warnings
    deleted = msgs[3]
    assert (deleted.body, deleted.kind, deleted.deleted) == (
        "This message was deleted",
        MessageKind.UNKNOWN,
        True,
    )
    assert msgs[4].edited and msgs[4].body == "fixed <This message was edited>"
    assert msgs[5].body == "two\nlines\n\nand a blank one"
    assert msgs[5].source_locator == "L6-L9"
    assert ctx.report.facts["dialect"] == ("android-crlf" if eol == "crlf" else "android-cr")


def test_android_crlf_copy_of_a_chat_with_pasted_crlf_bodies(tmp_path: Path) -> None:
    # unix2dos leaves an existing "\r\n" alone: the pasted one stays a line break
    text = ANDROID.replace("caption\n", "caption\r\nfrom desktop\n")
    lf, _ = read_text(tmp_path, text)
    crlf = text.replace("\r\n", "\n").replace("\n", "\r\n")
    msgs, _ = read_text(tmp_path, crlf)
    assert [m.message_id for m in msgs[:-4]] == [m.message_id for m in lf[:-4]]
    assert msgs[10].body == "IMG-20240314-WA0001.jpg (file attached)\ncaption\nfrom desktop"
    assert all("\r" not in m.body for m in msgs if m.body)


def test_a_lone_cr_inside_an_lf_file_does_not_split_messages(tmp_path: Path) -> None:
    text = (
        "14/03/2024, 09:12 - Alice: a\r14/03/2024, 09:13 - Bob: not a record\n"
        "14/03/2024, 09:14 - Bob: b\rc\n"
    )
    msgs, ctx = read_text(tmp_path, text)
    assert [m.body for m in msgs] == ["a\r14/03/2024, 09:13 - Bob: not a record", "b\rc"]
    assert ctx.report.facts["dialect"] == "android"


def test_a_crlf_body_line_inside_an_lf_file_is_kept(tmp_path: Path) -> None:
    text = "14/03/2024, 09:12 - Alice: pasted\r\nfrom desktop\n14/03/2024, 09:13 - Bob: ok\n"
    msgs, _ = read_text(tmp_path, text)
    assert [m.body for m in msgs] == ["pasted\r\nfrom desktop", "ok"]


def test_ios_crlf_records_with_lf_inside_are_unchanged(tmp_path: Path) -> None:
    msgs, ctx = read_text(tmp_path, IOS, name="_chat.txt")
    assert [m.body for m in msgs] == [
        "Hello",
        "\u200eimage omitted",
        "\u200eThis message was deleted.",
        "two\nlines <This message was edited>",
        "done",
    ]
    assert msgs[2].deleted and msgs[3].edited
    assert ctx.report.facts["dialect"] == "ios-crlf"
    assert [m.raw for m in msgs] == [line + "\r\n" for line in IOS.split("\r\n")[:-1]]


def test_ios_copies_without_multiline_messages(tmp_path: Path) -> None:
    text = IOS.replace("two\nlines", "two lines")
    crlf, _ = read_text(tmp_path, text, name="_chat.txt")
    lf, _ = read_text(tmp_path, text.replace("\r\n", "\n"), name="_chat.txt")
    cr, _ = read_text(tmp_path, text.replace("\r\n", "\r"), name="_chat.txt")
    assert _rows(crlf) == _rows(lf) == _rows(cr)
    assert crlf[3].edited and crlf[2].deleted


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if not d.ios], ids=lambda d: d.name)
def test_renderings_read_alike_with_every_line_ending(tmp_path: Path, dialect: Any) -> None:
    text = render(GROUND_TRUTH, dialect)
    assert "\r" not in text
    rows = {eol: _rows(read_text(tmp_path, copy)[0]) for eol, copy in _copies(text).items()}
    assert rows["crlf"] == rows["lf"]
    assert rows["cr"] == rows["lf"]


def _big(text: str, n: int) -> str:
    """``text`` repeated on ``n`` days (different timestamps, so that every copy counts)."""
    return "".join(
        text.replace("14/03/2024", f"{1 + d % 28:02d}/{1 + d // 28:02d}/2024") for d in range(n)
    )


@pytest.mark.parametrize("eol", ["lf", "crlf", "cr"])
def test_both_read_paths_agree_on_every_line_ending(tmp_path: Path, eol: str) -> None:
    path = tmp_path / "WhatsApp Chat with Desk.txt"
    path.write_bytes(_copies(_big(ANDROID, 40))[eol].encode())
    for block in (None, 64, 1000, 4096):
        check_same(path, block=block, expect_fast=True)
        check_same(path, block=block, expect_fast=True, owner="Alice", timezone="Europe/Paris")
    # and the columnar rows are those of the LF original
    lf = tmp_path / "lf" / path.name
    lf.parent.mkdir()
    lf.write_bytes(_big(ANDROID, 40).encode())
    want, _, _ = _read(lf, ReadOptions(timezone="UTC"), fast=True, block=1000)
    got, _, used = _read(path, ReadOptions(timezone="UTC"), fast=True, block=1000)
    assert used
    for col in ("message_id", "body", "kind", "deleted", "edited", "source_locator"):
        assert got.column(col).equals(want.column(col)), col
    ios = tmp_path / "_chat.txt"
    ios.write_bytes(_big(IOS, 40).encode())
    for block in (None, 80):
        check_same(ios, block=block, expect_fast=True)
    ios.write_bytes(_big(IOS.replace("two\nlines", "two lines"), 40).replace("\r\n", "\r").encode())
    for block in (None, 80):
        check_same(ios, block=block, expect_fast=True)


def test_crlf_copy_adds_nothing_after_the_lf_original(tmp_path: Path) -> None:
    text = _big(ANDROID, 3)
    for k, (eol, copy) in enumerate(_copies(text).items()):
        folder = tmp_path / eol
        folder.mkdir()
        path = folder / "WhatsApp Chat with Desk.txt"
        path.write_bytes(copy.encode())
        got = ingest_json(tmp_path / "archive", path)
        tot = got["totals"]
        assert tot["messages_read"] == 42, got
        assert tot["messages_new"] == (42 if k == 0 else 0), got
        assert tot["messages_duplicate"] == (0 if k == 0 else 42), got


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    exports(),
    st.sampled_from(["lf", "crlf", "cr"]),
    st.lists(
        st.tuples(st.floats(0, 1), st.sampled_from([b"\xff", b"\xe9", b"\xe2\x80", b"\xc3"])),
        max_size=3,
    ),
    st.sampled_from([None, 24, 200]),
)
def test_hypothesis_line_endings_and_bad_bytes_on_both_paths(
    tmp_path: Path,
    export: tuple[str, str],
    eol: str,
    bad: list[tuple[float, bytes]],
    block: int | None,
) -> None:
    text, tz = export
    if eol != "lf":
        text = text.replace("\r\n", "\n").replace("\n", "\r\n" if eol == "crlf" else "\r")
    data = text.encode()
    for at, junk in bad:
        k = int(at * len(data))
        data = data[:k] + junk + data[k:]
    path = tmp_path / "WhatsApp Chat with Bob.txt"
    path.write_bytes(data)
    try:
        check_same(path, block=block, timezone=tz)
    finally:
        path.unlink()
