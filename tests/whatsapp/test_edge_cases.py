"""The 16 numbered edge cases of formats/whatsapp.md, one test each (plus close relatives)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from imarchive.model import AttachmentStatus, ConversationType, Direction, MessageKind
from tests.whatsapp.helpers import accounted, read_text
from tests.whatsapp.render import DIALECTS, GROUND_TRUTH, render

LRM, RLM = "\u200e", "\u200f"


def test_01_body_line_that_looks_like_a_header(tmp_path: Path) -> None:
    forwarded = "[3/27/19, 09:00:00] Mallory: forwarded"
    ios = (
        "[3/27/22, 21:41:35] Alice: look at this\n" + forwarded + "\r\n"
        "[3/28/22, 08:00:00] Bob: ok\r\n"
    )
    msgs, ctx = read_text(tmp_path, ios, name="_chat.txt")
    assert [m.sender_name for m in msgs] == ["Alice", "Bob"]
    assert msgs[0].body == "look at this\n" + forwarded
    assert [(w.locator, w.code) for w in ctx.report.warnings] == [
        ("L1-L2", "suspicious_continuation")
    ]
    # Android cannot tell: the line becomes a record, and is flagged as out of sequence
    android = "27/03/2022, 21:41 - Alice: look\n27/03/2019, 09:00 - Mallory: fwd\n"
    msgs, ctx = read_text(tmp_path, android)
    assert [m.sender_name for m in msgs] == ["Alice", "Mallory"]
    assert [(w.locator, w.code) for w in ctx.report.warnings] == [("L2", "suspicious_record")]


def test_02_author_containing_colon_space(tmp_path: Path) -> None:
    text = (
        "23/03/2022, 13:31 - Dr. Who: The Doctor: hello\n"
        "23/03/2022, 13:32 - Alice: hi: there\n"
        "23/03/2022, 13:33 - Dr. Who: The Doctor: bye: now\n"
    )
    msgs, _ = read_text(tmp_path, text)
    assert [(m.sender_name, m.body) for m in msgs] == [
        ("Dr. Who: The Doctor", "hello"),
        ("Alice", "hi: there"),
        ("Dr. Who: The Doctor", "bye: now"),
    ]


@pytest.mark.parametrize(
    "event",
    ["created group “Tardis”", "added Alice", "removed Bob", "left", "changed this group's icon"],
)
def test_02_author_with_colon_space_who_also_has_an_event_and_an_empty_body(
    tmp_path: Path, event: str
) -> None:
    text = (
        f"23/03/2022, 13:30 - Dr. Who: The Doctor {event}\n"
        "23/03/2022, 13:31 - Dr. Who: The Doctor: hello\n"
        "23/03/2022, 13:32 - Alice: hi\n"
        "23/03/2022, 13:33 - Dr. Who: The Doctor: bye\n"
        "23/03/2022, 13:34 - Dr. Who: The Doctor:\n"
    )
    msgs, _ = read_text(tmp_path, text)
    assert [(m.sender_name, m.kind, m.body) for m in msgs] == [
        (None, MessageKind.SYSTEM, f"Dr. Who: The Doctor {event}"),
        ("Dr. Who: The Doctor", MessageKind.TEXT, "hello"),
        ("Alice", MessageKind.TEXT, "hi"),
        ("Dr. Who: The Doctor", MessageKind.TEXT, "bye"),
        ("Dr. Who: The Doctor", MessageKind.UNKNOWN, ""),
    ]
    assert {m.conversation_type for m in msgs} == {ConversationType.GROUP}


def test_03_empty_and_odd_bodies(tmp_path: Path) -> None:
    text = (
        "23/03/2022, 13:31 - Alice: \n"
        "23/03/2022, 13:32 - Carol:\n"
        "23/03/2022, 13:33 - Bob: null\n"
        "23/03/2022, 13:34 - Bob: Waiting for this message\n"
    )
    msgs, _ = read_text(tmp_path, text)
    assert [(m.sender_name, m.body) for m in msgs] == [
        ("Alice", ""),
        ("Carol", ""),
        ("Bob", "null"),
        ("Bob", "Waiting for this message"),
    ]
    assert all(m.body is not None for m in msgs)
    assert [m.kind for m in msgs] == [MessageKind.UNKNOWN] * 4
    assert [m.native_type for m in msgs[2:]] == ["null", "waiting"]
    assert not any(m.deleted for m in msgs)


def test_04_invisible_and_blank_lines_and_poll(tmp_path: Path) -> None:
    text = (
        "23/03/2022, 13:31 - Alice: one\n" + LRM + "\n\n"
        "23/03/2022, 13:32 - Bob: POLL:\nLunch?\nOPTION: Yes (1 vote)\nOPTION: No (0 votes)\n\n"
        "23/03/2022, 13:33 - Alice: end\n"
    )
    msgs, ctx = read_text(tmp_path, text)
    assert msgs[0].body == "one\n" + LRM + "\n"
    assert msgs[0].source_locator == "L1-L3"
    assert msgs[1].kind is MessageKind.POLL
    assert msgs[1].body.endswith("(0 votes)\n")  # the poll's closing blank line is kept
    assert ctx.report.lines_total == 9 == accounted(ctx, msgs)


def test_05_crlf_inside_android_and_lf_inside_ios(tmp_path: Path) -> None:
    android = "23/03/2022, 13:31 - Alice: pasted\r\nfrom desktop\n23/03/2022, 13:32 - Bob: ok\n"
    msgs, _ = read_text(tmp_path, android)
    assert msgs[0].body == "pasted\r\nfrom desktop"
    assert msgs[0].raw == "23/03/2022, 13:31 - Alice: pasted\r\nfrom desktop\n"
    ios = "[3/27/22, 21:41:35] Alice: two\nlines\r\n[3/27/22, 21:41:36] Bob: ok\r\n"
    msgs, _ = read_text(tmp_path, ios, name="_chat.txt")
    assert [m.body for m in msgs] == ["two\nlines", "ok"]


def test_06_day_month_order(tmp_path: Path) -> None:
    ambiguous = "01/02/2022, 10:00 - Alice: a\n03/04/2022, 10:00 - Bob: b\n"
    msgs, ctx = read_text(tmp_path, ambiguous)
    assert msgs[0].sent_at == datetime(2022, 2, 1, 10, 0, tzinfo=UTC)  # documented default DMY
    assert ctx.report.facts["date_order"] == "dmy"
    assert ctx.report.facts["date_order_assumed"] is True
    assert any(w.code == "date_order_assumed" for w in ctx.report.warnings)
    msgs, ctx = read_text(tmp_path, ambiguous, date_order="mdy")
    assert msgs[0].sent_at == datetime(2022, 1, 2, 10, 0, tzinfo=UTC)
    assert ctx.report.facts["date_order_assumed"] is False
    # a deciding day far beyond the sample still decides the order for the whole file
    lines = [f"1/{d % 12 + 1}/22, 10:{d % 60:02d} - Alice: m{d}\n" for d in range(2500)]
    lines.append("1/13/22, 11:00 - Bob: late deciding day\n")
    msgs, ctx = read_text(tmp_path, "".join(lines))
    assert ctx.report.facts["date_order"] == "mdy"
    assert msgs[0].sent_at.date() == datetime(2022, 1, 1).date()
    assert msgs[-1].sent_at.date() == datetime(2022, 1, 13).date()
    year_end = "31/12/2022, 23:59 - Alice: a\n01/01/2023, 00:01 - Bob: b\n"
    msgs, _ = read_text(tmp_path, year_end)
    assert [m.sent_at.year for m in msgs] == [2022, 2023]


def test_07_time_going_backwards_and_dst(tmp_path: Path) -> None:
    text = (
        "[10/08/2017, 16:13:00] Alice: encryption first\r\n"
        "[10/08/2017, 16:11:00] Alice: created before\r\n"
        "[26/03/2023, 01:30:00] Alice: gap\r\n"
        "[29/10/2023, 01:30:00] Alice: fold\r\n"
        "[29/10/2023, 01:30:00] Alice: fold\r\n"
    )
    msgs, ctx = read_text(tmp_path, text, name="_chat.txt", timezone="Europe/London")
    assert [m.body for m in msgs][:2] == ["encryption first", "created before"]  # file order
    assert msgs[2].sent_at == datetime(2023, 3, 26, 1, 30, tzinfo=UTC)  # moved forward
    assert msgs[3].sent_at == msgs[4].sent_at == datetime(2023, 10, 29, 0, 30, tzinfo=UTC)
    assert msgs[3].message_id != msgs[4].message_id  # n = 0, 1
    assert [(w.locator, w.code) for w in ctx.report.warnings] == [
        ("L3", "dst_gap"),
        ("L4", "dst_fold"),
        ("L5", "dst_fold"),
    ]


def test_08_bom_marks_and_stray_boms(tmp_path: Path) -> None:
    first = "\ufeff[3/27/22, 21:41:35] Alice: hi\r\n" + LRM + "[3/27/22, 21:41:36] Bob: yo\r\n"
    msgs, ctx = read_text(tmp_path, first + "\ufeff" + first[1:], name="_chat.txt")
    assert len(msgs) == 4
    assert [m.body for m in msgs] == ["hi", "yo", "hi", "yo"]
    assert msgs[0].source_locator == "L1"  # the BOM is not a line
    assert msgs[2].raw.startswith("\ufeff[")
    assert ctx.report.encoding == "utf-8-sig"
    assert ctx.report.lines_total == 4 == accounted(ctx, msgs)


def test_09_period_spacing_and_twelve_oclock(tmp_path: Path) -> None:
    text = (
        "1/4/23, 12:02\u202fAM - Bob: a\n"
        "1/4/23, 12:03 PM - Bob: b\n"
        "1/4/23, 1:04\u00a0PM - Bob: c\n"
        "1/13/23, 3:05 a. m. - Bob: d\n"
    )
    msgs, _ = read_text(tmp_path, text)
    assert [m.sent_at.strftime("%H:%M") for m in msgs] == ["00:02", "12:03", "13:04", "03:05"]


def test_10_rtl_names_marks_in_dates_and_arabic_digits(tmp_path: Path) -> None:
    name = "\u202bسارة\u202c"
    text = (
        f"[\u200f27\u200f/3\u200f/2022\u060c 21:41:35] {name}: مرحبا {RLM}بك\r\n"
        "[٢٧\u200f/٣\u200f/٢٠٢٢\u060c ٩:٤١:٣٦\u00a0م] Alice: hi\r\n"
    )
    msgs, _ = read_text(tmp_path, text, name="_chat.txt")
    assert msgs[0].sender_name == name
    assert msgs[0].sender_id == "سارة"
    assert msgs[0].body == f"مرحبا {RLM}بك"
    assert msgs[1].sent_at == datetime(2022, 3, 27, 21, 41, 36, tzinfo=UTC)


def test_11_phone_number_authors(tmp_path: Path) -> None:
    phone = "\u202a+55\u00a061\u00a08121\u20113457\u202c"
    text = (
        f"[3/27/22, 21:41:35] {phone}: hi\r\n"
        "[3/27/22, 21:41:36] ~ Carol: hey\r\n"
        "[3/27/22, 21:41:37] ~\u202f+44 7700 900123: yo\r\n"
    )
    msgs, _ = read_text(tmp_path, text, name="_chat.txt")
    assert [m.sender_name for m in msgs] == [phone, "~ Carol", "~\u202f+44 7700 900123"]
    assert [m.sender_id for m in msgs] == ["+556181213457", "Carol", "+447700900123"]


def test_12_no_normalisation(tmp_path: Path) -> None:
    body = "x² ﬁle ＡＢＣ e\u0301 \u200e"
    for extra in ("", "\u200d👩‍👩‍👧 a\u200cb"):
        text = f"23/03/2022, 13:31 - Alice: {body}{extra}\n"
        (m,), _ = read_text(tmp_path, text)
        assert m.body == body + extra
        assert m.body.encode() == (body + extra).encode()
        assert m.raw.encode() == text.encode()


def test_13_attachment_names(tmp_path: Path) -> None:
    (tmp_path / "My file (1).pdf").write_bytes(b"%PDF-1.4 synthetic")
    (tmp_path / "3f2a9c0d1e.jpg").write_bytes(b"\xff\xd8synthetic")
    text = (
        "23/03/2022, 13:31 - Alice: My file (1).pdf (file attached)\nMy file (1).pdf\n"
        "23/03/2022, 13:32 - Alice: 3f2a9c0d1e.jpg (file attached)\n"
        "23/03/2022, 13:33 - Alice: AUD-20190101-WA0000. (file attached)\n"
        "23/03/2022, 13:34 - Alice: IMG-20220323-WA0002.jpg (file attached)\nthe caption\n"
        "23/03/2022, 13:35 - Alice: Alex.vcf (file attached)\n"
    )
    msgs, _ = read_text(tmp_path, text)
    atts = [m.attachments[0] for m in msgs]
    assert [a.name for a in atts] == [
        "My file (1).pdf",
        "3f2a9c0d1e.jpg",
        "AUD-20190101-WA0000.",
        "IMG-20220323-WA0002.jpg",
        "Alex.vcf",
    ]
    assert [a.status for a in atts] == [AttachmentStatus.STORED] * 2 + [
        AttachmentStatus.MISSING
    ] * 3
    assert atts[0].size == len(b"%PDF-1.4 synthetic")
    assert [m.kind for m in msgs] == [
        MessageKind.DOCUMENT,
        MessageKind.DOCUMENT,
        MessageKind.AUDIO,
        MessageKind.IMAGE,
        MessageKind.CONTACT,
    ]
    assert msgs[3].body == "IMG-20220323-WA0002.jpg (file attached)\nthe caption"
    ios = (
        f"[3/27/22, 21:41:35] Bob: {LRM}report.pdf • {LRM}2 pages {LRM}document omitted\r\n"
        f"[3/27/22, 21:41:36] Bob: nice view {LRM}<attached: 00000035-PHOTO-2022-03-27.jpg>\r\n"
        f"[3/27/22, 21:41:37] Bob: {LRM}Contact card omitted\r\n"
    )
    msgs, _ = read_text(tmp_path, ios, name="_chat.txt")
    assert [(m.kind, m.attachments[0].name, m.attachments[0].status) for m in msgs] == [
        (MessageKind.DOCUMENT, "report.pdf", AttachmentStatus.OMITTED),
        (MessageKind.IMAGE, "00000035-PHOTO-2022-03-27.jpg", AttachmentStatus.MISSING),
        (MessageKind.CONTACT, None, AttachmentStatus.OMITTED),
    ]


def test_14_same_chat_from_two_locales_and_concatenated(tmp_path: Path) -> None:
    by_dialect = {}
    for dialect in (DIALECTS[0], DIALECTS[12]):  # Android en-GB and iOS en-US
        msgs, _ = read_text(tmp_path, render(GROUND_TRUTH, dialect), conversation="Desk")
        by_dialect[dialect.name] = [m.message_id for m in msgs]
    assert len(set(map(tuple, by_dialect.values()))) == 1
    both = render(GROUND_TRUTH[:6], DIALECTS[0]) + render(GROUND_TRUTH[6:], DIALECTS[12])
    msgs, ctx = read_text(tmp_path, both, conversation="Desk")
    assert len(msgs) == len(GROUND_TRUTH)
    assert [m.body for m in msgs] == [line.body for line in GROUND_TRUTH]
    assert ctx.report.lines_total == accounted(ctx, msgs)


def test_15_time_first_month_name_and_calendars(tmp_path: Path) -> None:
    text = "[3/27/2565 BE, 21:41:35] Alice: thai\r\n[3/28/R4, 21:41:35] Alice: reiwa\r\n"
    msgs, _ = read_text(tmp_path, text, name="_chat.txt")
    assert [m.sent_at.date().isoformat() for m in msgs] == ["2022-03-27", "2022-03-28"]
    msgs, _ = read_text(tmp_path, "[21:41:35, 27/3/22] Alice: vi\r\n", name="_chat.txt")
    assert msgs[0].sent_at == datetime(2022, 3, 27, 21, 41, 35, tzinfo=UTC)
    msgs, _ = read_text(tmp_path, "19:23, 28 Aug 2013 - Alice: legacy\n")
    assert msgs[0].sent_at == datetime(2013, 8, 28, 19, 23, tzinfo=UTC)


def test_16_truncated_and_overlapping_exports(tmp_path: Path) -> None:
    full = render(GROUND_TRUTH, DIALECTS[0])
    msgs_full, _ = read_text(tmp_path, full, conversation="Desk")
    cut = full[: full.index("Lunch?") + 8]  # the cap cut a message mid-way, no final newline
    msgs_cut, ctx = read_text(tmp_path, cut, conversation="Desk")
    assert msgs_cut[-1].body == "Lunch?\nI"
    assert ctx.report.lines_total == accounted(ctx, msgs_cut)
    # an overlapping re-export: the shared messages get the same ids
    later = render(GROUND_TRUTH[2:], DIALECTS[0])
    msgs_later, _ = read_text(tmp_path, later, conversation="Desk")
    assert [m.message_id for m in msgs_later] == [m.message_id for m in msgs_full[2:]]


def test_message_id_follows_the_identity_rule(tmp_path: Path) -> None:
    from imarchive.identity import whatsapp_id

    text = render(GROUND_TRUTH, DIALECTS[0])
    msgs, _ = read_text(tmp_path, text, custodian="cust", conversation="Desk")
    seen: dict[tuple[object, ...], int] = {}
    for m in msgs:
        key = (m.sent_at, m.sender_name, m.body)
        n = seen.get(key, 0)
        seen[key] = n + 1
        assert m.conversation_id == "cust/Desk"
        assert m.message_id == whatsapp_id("cust/Desk", m.sent_at, m.sender_name, m.body, n)


# -- markers the audit of the formats file found missing -----------------------------------

LRM = "\u200e"


@pytest.mark.parametrize(
    "event",
    ["Dan left", "You left", "Alice deleted this group's icon", "You're now an admin"],
)
def test_these_group_events_make_a_group(tmp_path: Path, event: str) -> None:
    text = (
        f"14/03/2024, 10:00 - Alice: hi\n14/03/2024, 10:01 - {event}\n14/03/2024, 10:02 - Bob: yo\n"
    )
    messages, _ = read_text(tmp_path, text)
    assert {m.conversation_type for m in messages} == {ConversationType.GROUP}
    assert messages[1].kind is MessageKind.SYSTEM


@pytest.mark.parametrize("event", ["Dan left", "You left", "You're now an admin"])
def test_group_events_in_an_ios_file_with_crlf_record_ends(tmp_path: Path, event: str) -> None:
    """A real iOS export: records end with CRLF, bare LF inside messages; the CR before
    the record end must not hide an event that ends the line."""
    text = (
        "[14/03/2024, 10:00:00] Alice: hi\nsecond line\r\n"
        f"{LRM}[14/03/2024, 10:01:00] {LRM}{event}\r\n"
        "[14/03/2024, 10:02:00] Bob: yo\r\n"
    )
    messages, _ = read_text(tmp_path, text, name="_chat.txt")
    assert {m.conversation_type for m in messages} == {ConversationType.GROUP}


def test_ios_notice_of_a_deleted_group_icon_is_system(tmp_path: Path) -> None:
    text = (
        "[14/03/2024, 10:00:00] Alice: hi\r\n"
        f"{LRM}[14/03/2024, 10:01:00] Team: {LRM}Alice deleted this group's icon\r\n"
        "[14/03/2024, 10:02:00] Bob: yo\r\n"
    )
    messages, _ = read_text(tmp_path, text, name="_chat.txt")
    notice = messages[1]
    assert (notice.kind, notice.sender_name, notice.direction) == (
        MessageKind.SYSTEM,
        None,
        Direction.SYSTEM,
    )
    assert "Team" in notice.raw and {m.conversation_type for m in messages} == {"group"}


def test_ios_edited_marker_after_an_lrm(tmp_path: Path) -> None:
    body = f"moved to 4pm {LRM}<This message was edited>"
    text = f"[14/03/2024, 09:13:00] Alice: {body}\r\n[14/03/2024, 09:14:00] Bob: ok\r\n"
    (edited, _), _ = read_text(tmp_path, text, name="_chat.txt")
    assert edited.edited is True and edited.body == body  # the body is kept as written


def test_ios_media_line_with_added_in_its_file_name_is_not_a_notice(tmp_path: Path) -> None:
    text = (
        "[3/27/22, 21:41:35] Alice: hi\r\n"
        f"{LRM}[3/27/22, 21:41:36] Bob: {LRM}<attached: 00000047-Items added in Q1.pdf>\r\n"
        f"[3/27/22, 21:41:37] Bob: {LRM}Items removed.pdf • {LRM}3 pages {LRM}document omitted\r\n"
    )
    messages, _ = read_text(tmp_path, text, name="_chat.txt")
    attached, omitted = messages[1], messages[2]
    assert (attached.kind, attached.sender_name) == (MessageKind.DOCUMENT, "Bob")
    assert [(a.name, a.status) for a in attached.attachments] == [
        ("00000047-Items added in Q1.pdf", "missing")
    ]
    assert (omitted.kind, omitted.sender_name) == (MessageKind.DOCUMENT, "Bob")
    assert [(a.name, a.status) for a in omitted.attachments] == [("Items removed.pdf", "omitted")]


@pytest.mark.parametrize(
    ("line", "name"),
    [
        (f"{LRM}relazione.pdf • {LRM}2 pagine {LRM}documento omesso", "relazione.pdf"),
        (f"{LRM}отчет.pdf • {LRM}2 страницы {LRM}документ отсутствует", "отчет.pdf"),
    ],
)
def test_italian_and_russian_document_omitted(tmp_path: Path, line: str, name: str) -> None:
    (m,), _ = read_text(tmp_path, f"[27/03/2022, 21:00:00] Alice: {line}\r\n", name="_chat.txt")
    assert m.kind is MessageKind.DOCUMENT
    assert [(a.name, a.status) for a in m.attachments] == [(name, "omitted")]


IOS_PASTED = (
    "[14/03/2024, 09:00:00] Alice: before\r\n"
    "[14/03/2024, 09:01:00] Alice: pasted\r\nfrom desktop\r\n"
    "[14/03/2024, 09:02:00] Bob: two\nlines\r\n"
    f"[14/03/2024, 09:03:00] Alice: one\r\n{LRM}\r\n"
    "[14/03/2024, 09:04:00] Bob: after\r\n"
)


def test_ios_line_after_a_crlf_that_is_no_header_continues_the_message(tmp_path: Path) -> None:
    """Every line that does not start a record continues the previous one, in an iOS
    file too (CRLF record ends): nothing rejected, the body keeps the CRLF."""
    plain = "".join(f"[14/03/2024, 08:{k:02}:00] Bob: message {k}\r\n" for k in range(20))
    messages, ctx = read_text(tmp_path, IOS_PASTED + plain, name="_chat.txt")
    assert ctx.report.rejected == [] and accounted(ctx, messages) == ctx.report.lines_total
    bodies = [m.body for m in messages[:5]]
    assert bodies == ["before", "pasted\r\nfrom desktop", "two\nlines", f"one\r\n{LRM}", "after"]
    assert [m.source_locator for m in messages[:5]] == ["L1", "L2-L3", "L4-L5", "L6-L7", "L8"]


def test_an_export_of_another_shape_appended_late_is_reported(tmp_path: Path) -> None:
    """The shape is inferred from the first lines; an iOS export appended after 2,500
    Android lines reads as text of the last Android message (the file order gives no
    other home for it), and that message is flagged, not merged silently."""
    android = "".join(
        f"{14 + k // 1440:02}/03/2023, {k // 60 % 24:02}:{k % 60:02} - "
        f"{'Alice' if k % 2 else 'Bob'}: a{k}\n"
        for k in range(2500)
    )
    ios = "".join(f"[1/4/23, 10:00:{k:02}] Bob: ios {k}\r\n" for k in range(10))
    messages, ctx = read_text(tmp_path, android + ios)
    assert len(messages) == 2500 and ctx.report.rejected == []
    assert messages[-1].body.startswith("a2499\n[1/4/23, 10:00:00] Bob: ios 0")
    assert [(w.locator, w.code) for w in ctx.report.warnings] == [("L2500-L2510", "foreign_header")]


# SPEC "Kinds": each marker → kind (and its native type), table-driven
KIND_CASES = [
    ("VID-20220323-WA0001.mp4 (file attached)", MessageKind.VIDEO, "VID"),
    ("PTT-20220323-WA0002.opus (file attached)", MessageKind.VOICE, "PTT"),
    ("STK-20220323-WA0003.webp (file attached)", MessageKind.STICKER, "STK"),
    ("GIF-20220323-WA0004.mp4 (file attached)", MessageKind.GIF, "GIF"),
    ("Missed voice call", MessageKind.CALL, "call"),
    ("Missed group video call", MessageKind.CALL, "call"),
    ("location: https://maps.google.com/?q=51.5,-0.12", MessageKind.LOCATION, "location"),
    ("This message was deleted by admin Carol.", MessageKind.UNKNOWN, "deleted"),
    ("<some unknown marker>", MessageKind.UNKNOWN, "<some unknown marker>"),
    ("https://example.com/a plain link", MessageKind.TEXT, None),
]


def test_kinds_of_markers(tmp_path: Path) -> None:
    text = "".join(
        f"23/03/2022, 13:{k:02} - Alice: {b}\n" for k, (b, _, _) in enumerate(KIND_CASES)
    )
    msgs, _ = read_text(tmp_path, text)
    assert [(m.kind, m.native_type) for m in msgs] == [(k, n) for _, k, n in KIND_CASES]
    assert msgs[7].deleted is True and [m.body for m in msgs] == [b for b, _, _ in KIND_CASES]


def test_body_lines_in_a_legacy_shape_are_not_foreign_headers(tmp_path: Path) -> None:
    text = "23/03/2022, 13:31 - Alice: plan\n5 May 10:30 - review\n23/03/2022, 13:32 - Bob: ok\n"
    _, ctx = read_text(tmp_path, text)
    assert ctx.report.warnings == []


def test_ios_notice_naming_someone_whose_name_ends_like_a_marker(tmp_path: Path) -> None:
    text = (
        "[14/03/2024, 10:00:00] Alice: hi\r\n"
        f"{LRM}[14/03/2024, 10:01:00] Team: {LRM}Alice added Tomis\r\n"
    )
    messages, _ = read_text(tmp_path, text, name="_chat.txt")
    assert (messages[1].kind, messages[1].sender_name) == (MessageKind.SYSTEM, None)
