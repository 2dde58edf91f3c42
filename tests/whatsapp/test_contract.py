"""Reader contract: scores in range, only SourceError on garbage, every line accounted for,
and text decoded exactly (encodings, BOMs)."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imarchive.errors import SourceError
from imarchive.sources.base import Candidate
from imarchive.sources.registry import detect
from tests.support import candidate_for
from tests.whatsapp.helpers import READER, accounted, read_text

EXPORT = "23/03/2022, 13:31 - Alice: Grüße, ça va? Ärger\n23/03/2022, 13:32 - Bob: ok\n"
FRAGMENTS = [
    "23/03/2022, 13:31 - ",
    "[3/27/22, 21:41:35] ",
    "\u200e",
    "\ufeff",
    "Alice: ",
    ": ",
    "\r\n",
    "\n",
    "\r",
    "x",
    "<Media omitted>",
    "(file attached)",
    "18 Mar 12:14 - ",
    "13/13/22, 25:99 - ",
    "1/2/3 4:5:6: ",
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=600))
def test_random_bytes_score_in_range_and_only_raise_source_error(
    tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "chat.txt"
    path.write_bytes(data)
    assert 0.0 <= READER.score(candidate_for(path)) <= 1.0
    try:
        msgs, ctx = read_text(tmp_path, data, name="chat.txt")
    except SourceError as exc:
        assert "\n" not in exc.reason
        return
    assert ctx.report.lines_total == accounted(ctx, msgs)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_export_like_text_is_parsed_or_rejected_and_every_line_counted(
    tmp_path: Path, parts: list[str]
) -> None:
    text = "".join(parts)
    try:
        msgs, ctx = read_text(tmp_path, text, name="chat.txt")
    except SourceError:
        return
    assert ctx.report.lines_total == accounted(ctx, msgs)
    assert "".join(m.raw for m in msgs) in text.removeprefix("\ufeff") or ctx.report.rejected


def test_score_of_non_exports_is_low(tmp_path: Path) -> None:
    cases = {
        "data.csv": b"date,author,text\n2022-03-23,Alice,hi\n",
        "doc.pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        "noise.txt": os.urandom(2048),
        "empty.txt": b"",
        "notes.txt": b"Meeting notes\n- 13:31 call Alice\n",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert READER.score(candidate_for(path)) < 0.2, name
    path = tmp_path / "WhatsApp Chat with Bob.txt"
    path.write_bytes(EXPORT.encode())
    assert READER.score(candidate_for(path)) >= 0.9
    assert detect(candidate_for(path)).reader.name == "whatsapp-txt"
    assert READER.score(Candidate(tmp_path / "x.zip", "x.zip", False, b"PK", ("a.jpg",))) == 0.0


def test_messages_never_carry_text_into_errors(tmp_path: Path) -> None:
    secret = "CANARY-7731"
    text = f"{secret} preamble\n23/03/2022, 13:31 - Alice: {secret}\n"
    _msgs, ctx = read_text(tmp_path, text)
    rep = ctx.report
    assert rep.rejected and rep.lines_rejected == 1
    blob = repr(rep.rejected) + repr(rep.warnings) + repr(rep.facts)
    assert secret not in blob
    with pytest.raises(SourceError) as err:
        read_text(tmp_path, f"{secret} no header at all\n")
    assert secret not in err.value.reason


@pytest.mark.parametrize(
    ("codec", "bom", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16-le-bom"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16-be-bom"),
        ("utf-16-le", b"", "utf-16-le"),
        ("utf-16-be", b"", "utf-16-be"),
    ],
)
def test_unicode_encodings(tmp_path: Path, codec: str, bom: bytes, expected: str) -> None:
    text = EXPORT.replace("ok", "ok\r\nwith CRLF and \u2028 inside")
    msgs, ctx = read_text(tmp_path, bom + text.encode(codec))
    assert ctx.report.encoding == expected
    assert [m.body for m in msgs] == ["Grüße, ça va? Ärger", "ok\r\nwith CRLF and \u2028 inside"]
    assert msgs[1].source_locator == "L2-L3"


def test_legacy_single_byte_encoding_falls_back_to_chardet(tmp_path: Path) -> None:
    lines = [
        f"23/03/2022, 13:{i:02d} - Alice: Grüße aus Köln, Ärger über Öl {i}\n" for i in range(40)
    ]
    msgs, ctx = read_text(tmp_path, "".join(lines).encode("cp1252"))
    assert ctx.report.encoding is not None
    assert ctx.report.encoding not in ("utf-8", "utf-8-sig")
    assert msgs[0].body == "Grüße aus Köln, Ärger über Öl 0"


def test_invalid_utf8_after_a_valid_head_is_still_decoded(tmp_path: Path) -> None:
    head = "".join(f"23/03/2022, 13:{i % 60:02d} - Alice: plain ascii {i}\n" for i in range(4000))
    tail = "23/03/2022, 14:00 - Bob: caf\xe9 cr\xe8me br\xfbl\xe9e\n".encode("latin-1")
    msgs, ctx = read_text(tmp_path, head.encode() + tail)
    assert msgs[-1].body == "café crème brûlée"
    assert ctx.report.encoding not in ("utf-8", None)
