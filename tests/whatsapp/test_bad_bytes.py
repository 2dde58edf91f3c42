"""A UTF-8 export with a few invalid bytes stays UTF-8: each invalid byte becomes U+FFFD,
each line that had some is reported (line number, byte count; the source copy keeps
the bytes), and the rest of the file is not garbled by a code-page guess. Exports that
really are in a legacy code page are still read in it."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from tests.support import DirectContext
from tests.whatsapp.helpers import read_text
from tests.whatsapp.test_columnar import check_same

LINES = [f"14/03/2024, 09:{i:02d} - Jörg: Grüße {i}\n".encode() for i in range(50)]


def _warnings(ctx: DirectContext) -> list[tuple[str, str]]:
    return [(w.locator, w.code) for w in ctx.report.warnings]


@pytest.mark.parametrize("bad", [b"\xff", b"\xe9", b"\xc3", b"\xe2\x80", b"\xed\xa0\x80"])
def test_a_stray_invalid_byte_keeps_the_file_utf8(tmp_path: Path, bad: bytes) -> None:
    data = [*LINES[:30], b"14/03/2024, 10:00 - Bob: caf" + bad + b" ok\n", *LINES[30:]]
    msgs, ctx = read_text(tmp_path, b"".join(data))
    rep = ctx.report
    assert rep.encoding == "utf-8"
    assert len(msgs) == 51
    assert {m.sender_name for m in msgs} == {"Jörg", "Bob"}
    assert msgs[0].body == "Grüße 0" and msgs[-1].body == "Grüße 49"
    assert msgs[30].body == "caf" + "\ufffd" * len(bad) + " ok"
    assert msgs[30].raw == "14/03/2024, 10:00 - Bob: caf" + "\ufffd" * len(bad) + " ok\n"
    assert _warnings(ctx) == [("L31", "invalid_utf8")]
    assert rep.facts["invalid_utf8_bytes"] == len(bad)
    assert rep.rejected == []


def test_invalid_bytes_in_a_header_a_name_and_at_the_end(tmp_path: Path) -> None:
    data = (
        b"\xef\xbb\xbf"
        + b"".join(LINES[:20])
        + b"14/03/2024, 10:00 - J\xf6rg: two\n\xff\xfe lines\n"
        + b"".join(LINES[20:])
        + b"14/03/2024, 10:01 - Bob: end \xe2\x82"
    )
    msgs, ctx = read_text(tmp_path, data)
    rep = ctx.report
    assert rep.encoding == "utf-8-sig"
    assert msgs[20].sender_name == "J\ufffdrg"
    assert msgs[20].body == "two\n\ufffd\ufffd lines"
    assert msgs[-1].body == "end \ufffd\ufffd"
    assert _warnings(ctx) == [
        ("L21", "invalid_utf8"),
        ("L22", "invalid_utf8"),
        ("L53", "invalid_utf8"),
    ]
    assert rep.facts["invalid_utf8_bytes"] == 5
    assert ctx.report.warnings[0].message.startswith("1 invalid UTF-8 byte replaced with U+FFFD")


def test_bad_bytes_in_a_crlf_and_a_cr_copy(tmp_path: Path) -> None:
    data = b"".join(LINES[:10]) + b"14/03/2024, 10:00 - Bob: \xff\n" + b"".join(LINES[10:])
    lf, lf_ctx = read_text(tmp_path, data)
    for sep in (b"\r\n", b"\r"):
        msgs, ctx = read_text(tmp_path, data.replace(b"\n", sep))
        assert [m.message_id for m in msgs] == [m.message_id for m in lf]
        assert ctx.report.warnings == lf_ctx.report.warnings


def test_legacy_code_pages_are_still_detected(tmp_path: Path) -> None:
    cases = {
        "cp1252": "Grüße aus Köln, Ärger über Öl – “quoted” €5",
        "cp1251": "Привет, как дела? Всё хорошо, Ёлка",
        "iso8859-7": "Καλημέρα, τι κάνεις; Όλα καλά",
        "cp1250": "Dobrý den, jak se máte? Děkuji, dobře",
    }
    for codec, body in cases.items():
        text = "".join(f"14/03/2024, 09:{i:02d} - Alice: {body} {i}\n" for i in range(40))
        msgs, ctx = read_text(tmp_path, text.encode(codec))
        assert ctx.report.encoding not in ("utf-8", "utf-8-sig"), codec
        assert msgs[0].body == f"{body} 0", codec
        assert "invalid_utf8_bytes" not in ctx.report.facts


def test_utf16_is_not_touched(tmp_path: Path) -> None:
    text = "".join(f"14/03/2024, 09:{i:02d} - Jörg: Grüße {i}\n" for i in range(5))
    msgs, ctx = read_text(tmp_path, codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert ctx.report.encoding == "utf-16-le-bom"
    assert msgs[4].body == "Grüße 4"


def test_mostly_invalid_bytes_after_a_bom_are_still_rejected(tmp_path: Path) -> None:
    from imarchive.errors import SourceError

    text = "".join(f"14/03/2024, 09:{i:02d} - Alice: Grüße aus Köln\n" for i in range(40))
    with pytest.raises(SourceError, match="invalid utf-8-sig byte sequence"):
        read_text(tmp_path, codecs.BOM_UTF8 + text.encode("cp1252"))


def test_both_read_paths_agree_on_bad_bytes(tmp_path: Path) -> None:
    body = b"".join(LINES)
    blocks = [
        body.replace(b"Gr\xc3\xbc\xc3\x9fe 7\n", b"Gr\xfc\xdfe 7\n"),
        body.replace(b"09:33 - J", b"09:33 - \xffJ"),
        body.replace(b"Gr\xc3\xbc\xc3\x9fe 49\n", b"x\n\xe2\x82\n"),
        body,
    ]
    data = b"".join(
        blk.replace(b"14/03/", f"{1 + k % 28:02d}/03/".encode()) for k, blk in enumerate(blocks * 8)
    )
    path = tmp_path / "WhatsApp Chat with Bob.txt"
    for prefix, tail in ((b"", b""), (b"\xef\xbb\xbf", b"14/03/2024, 11:00 - Bob: \xe2")):
        for sep in (b"\n", b"\r\n", b"\r"):
            path.write_bytes((prefix + data + tail).replace(b"\n", sep))
            for block in (None, 64, 1000, 5000):
                check_same(path, block=block, expect_fast=True)
                check_same(path, block=block, expect_fast=True, owner="Bob", custodian="c")


def test_invalid_bytes_only_late_in_a_large_file(tmp_path: Path) -> None:
    head = "".join(
        f"14/03/2024, {i // 60 % 24:02d}:{i % 60:02d} - Alice: plain {i}\n" for i in range(5000)
    )
    data = (
        "14/03/2024, 00:00 - Jörg: Grüße\n" * 3 + head
    ).encode() + b"15/03/2024, 00:00 - Bob: \xff\n"
    path = tmp_path / "WhatsApp Chat with Bob.txt"
    path.write_bytes(data)
    for block in (None, 4096):
        check_same(path, block=block, expect_fast=True)
    msgs, ctx = read_text(tmp_path, data)
    assert ctx.report.encoding == "utf-8" and msgs[-1].body == "\ufffd"
