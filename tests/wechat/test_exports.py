"""WeChat text exports of third-party tools: MemoTrace CSV, PyWxDump CSV, WechatExporter
TXT (formats/wechat.md). Each is detected, read exactly, marked as lower fidelity, and
re-ingesting adds nothing."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from imarchive.errors import SourceError
from imarchive.sources import registry
from imarchive.sources.base import ReadOptions
from imarchive.sources.wechat import exports
from tests.core.helpers import ingest_json, read_rows, run_cli
from tests.support import candidate_for, read_all

MEMO = exports.READERS[0]
PYWX = exports.READERS[1]
TXT = exports.READERS[2]
BERLIN = ReadOptions(timezone="Europe/Berlin")
T0 = 1_700_000_000  # 2023-11-14T22:13:20Z


def _csv(path: Path, header: tuple[str, ...], rows: list[list[Any]], bom: bool = True) -> Path:
    out = io.StringIO()
    writer = csv.writer(out)  # "\r\n" line ends, as both tools write them
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(("\ufeff" if bom else "").encode() + out.getvalue().encode())
    return path


def memotrace_group(folder: Path) -> Path:
    def row(local: int, typ: int, sub: int, me: int, t: object, content: str, who: str) -> list:
        names = {
            "wxid_alice01": ("Alice (Acme)", "Alice Liu"),
            "wxid_bob0002": ("", "Bob Wang"),
            "wxid_owner01": ("", "Owen"),
        }
        remark, nick = names[who]
        return [local, 5, typ, sub, me, t, 2, content, "2023-11-14 23:13:20", remark, nick, who]

    link = (
        "<msg><appmsg><title>Quarterly note</title><des>Q3</des><type>5</type>"
        "<url>https://news.example/q3</url></appmsg></msg>"
    )
    rows = [
        row(1, 1, 0, 0, T0, "Hello team", "wxid_alice01"),
        row(2, 1, 0, 1, T0 + 60, "Line one\r\nline two", "wxid_owner01"),
        row(3, 3, 0, 0, T0 + 120, "", "wxid_bob0002"),
        row(4, 49, 5, 0, T0 + 180, link, "wxid_alice01"),
        row(5, 1, 0, 0, "", "no time", "wxid_alice01"),
        row(6, 1, 0, 0, T0 + 240, "ok", "wxid_bob0002"),
    ]
    rows.append([7, 5, 1, 0, 0, T0 + 300, 2, "ten fields", "x", "y"])
    return _csv(folder / "Deal Team_utf8.csv", exports.MEMOTRACE_HEADER, rows)


def test_memotrace_group(tmp_path: Path) -> None:
    path = memotrace_group(tmp_path)
    assert registry.detect(candidate_for(path)).reader.name == "wechat-memotrace-csv"
    messages, ctx = read_all(MEMO, path, BERLIN)
    got = {m.source_locator: m for m in messages}
    assert list(got) == ["L2", "L3-L4", "L5", "L6", "L8"]
    hello = got["L2"]
    assert hello.sent_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert hello.sent_at_source == str(T0) and hello.source_timezone is None
    assert (hello.sender_id, hello.sender_name) == ("wxid_alice01", "Alice (Acme)")
    assert hello.account_id is None  # the export names no owner (--owner gives it)
    assert hello.conversation_id == "/Deal Team" and hello.conversation_type == "group"
    assert hello.native_id is None
    assert hello.raw == (
        "1,5,1,0,0,1700000000,2,Hello team,2023-11-14 23:13:20,Alice (Acme),Alice Liu,wxid_alice01"
    )
    mine = got["L3-L4"]
    assert mine.direction == "outbound" and mine.body == "Line one\r\nline two"
    assert mine.sender_id == "wxid_owner01"  # the row's Sender
    assert (got["L5"].kind, len(got["L5"].attachments)) == ("image", 1)
    assert got["L5"].attachments[0].status == "omitted"
    assert (
        got["L6"].kind == "link" and got["L6"].body == "Quarterly note\nQ3\nhttps://news.example/q3"
    )
    assert {r.locator: r.reason for r in ctx.report.rejected} == {
        "L7": "CreateTime is empty",
        "L9": "10 fields, expected 9 or 12",
    }
    # the lines of the records (not the header): each in a message or rejected
    assert ctx.report.lines_rejected == 2 and ctx.report.lines_total == 8
    assert ctx.report.facts["third_party_export"] == "wechat-memotrace-csv"
    assert [w.code for w in ctx.report.warnings] == ["third_party_export"]


def test_memotrace_direct_chat_has_nine_columns(tmp_path: Path) -> None:
    rows = [
        [1, 9, 1, 0, 0, T0, 2, "hi", "2023-11-14 23:13:20"],
        [2, 9, 1, 0, 1, T0 + 5, 2, "hello", "2023-11-14 23:13:25"],
    ]
    path = _csv(tmp_path / "Alice_utf8.csv", exports.MEMOTRACE_HEADER, rows)
    messages, _ = read_all(MEMO, path, ReadOptions(timezone="UTC", custodian="jdoe"))
    assert [m.conversation_type for m in messages] == ["direct", "direct"]
    assert [m.direction for m in messages] == ["inbound", "outbound"]
    assert {m.conversation_id for m in messages} == {"jdoe/Alice"}
    assert messages[0].account_id is None


def pywxdump(folder: Path) -> Path:
    (folder / "FileStorage" / "Image").mkdir(parents=True)
    (folder / "FileStorage" / "Image" / "a.dat").write_bytes(b"\xff\xd8\xff image bytes")
    room = "12345678@chatroom"

    def row(i: int, svr: int, name: str, me: int, talker: str, msg: str, t: str) -> list:
        return [i, svr, name, me, talker, room, msg, "", t if " " in t else "2023-11-14 " + t]

    rows = [
        row(1, 7001, "文本", 0, "wxid_alice01", "hello", "23:13:20"),
        row(2, 7002, "文本", 1, "我", "reply\non two lines", "23:14:00"),
        row(3, 7003, "图片", 0, "wxid_bob0002", "图片", "23:15:00"),
        row(4, 7004, "语音", 0, "wxid_bob0002", "", "23:16:00"),
        row(5, 7005, "消息撤回1", 0, "", '"Bob" 撤回了一条消息', "23:17:00"),
        row(6, 0, "系统通知", 0, "", "Alice joined", "23:18:00"),
        row(7, 7007, "新的类型", 0, "wxid_alice01", "?", "23:19:00"),
        row(8, 7008, "文本", 0, "wxid_alice01", "in the gap", "2023-03-26 02:30:00"),
        row(9, 7009, "文本", 0, "wxid_alice01", "bad time", "yesterday"),
    ]
    rows[2][7] = "FileStorage\\Image\\a.dat"  # Windows separators, as PyWxDump writes them
    rows[3][7] = "FileStorage/Voice/gone.silk"
    rows.append([10, 7010, "文本", 0, "wxid_alice01", "", "x", "", "2023-11-14 23:20:00"])
    return _csv(folder / "12345678@chatroom_0_500.csv", exports.PYWXDUMP_HEADER, rows, bom=False)


def test_pywxdump(tmp_path: Path) -> None:
    path = pywxdump(tmp_path)
    assert registry.detect(candidate_for(path)).reader.name == "wechat-pywxdump-csv"
    messages, ctx = read_all(PYWX, path, BERLIN)
    got = {m.native_id or m.source_locator: m for m in messages}
    assert list(got) == ["7001", "7002", "7003", "7004", "7005", "L8", "7007", "7008"]
    hello = got["7001"]
    assert hello.sent_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # Berlin, CET
    assert hello.sent_at_source == "2023-11-14 23:13:20"
    assert hello.source_timezone == "Europe/Berlin"
    assert hello.conversation_id == "12345678@chatroom" and hello.conversation_type == "group"
    assert (hello.sender_id, hello.sender_name, hello.direction) == (
        "wxid_alice01",
        "wxid_alice01",
        "inbound",
    )
    mine = got["7002"]
    assert (mine.direction, mine.sender_id, mine.sender_name) == ("outbound", None, "我")
    assert mine.body == "reply\non two lines"
    image = got["7003"]
    assert image.kind == "image" and image.native_type == "图片"
    (att,) = image.attachments
    assert (att.status, att.name, att.size) == ("stored", "a.dat", 15)
    (voice,) = got["7004"].attachments
    assert (voice.status, voice.name) == ("missing", "gone.silk")
    recall = got["7005"]
    assert (recall.kind, recall.deleted, recall.direction) == ("system", True, "system")
    assert got["L8"].kind == "system" and got["L8"].native_id is None
    assert (got["7007"].kind, got["7007"].native_type) == ("unknown", "新的类型")
    assert got["7008"].sent_at == datetime(2023, 3, 26, 1, 30, tzinfo=UTC)
    assert {w.code for w in ctx.report.warnings} == {"third_party_export", "dst_gap"}
    assert {r.locator: r.reason for r in ctx.report.rejected} == {
        "L11": "CreateTime is not a local time",
        "L12": "no conversation id (room_name empty)",
    }


TXT_CHAT = (
    "Alice Liu (2023-11-14 23:13:20):Hello\n"
    "Owen (2023-11-14 23:14:00):Line one\n"
    "line two\n"
    "System Message: Alice Liu recalled a message\n"
    "Bob (work) (2023-11-14 23:15:00):[Photo]\n"
    "Alice Liu (2023-11-14 23:16:00):「Owen：Line one」\n"
    "- - - - - - - - - - - - - - -\n"
    "Agreed\n"
    "Alice Liu (2023-11-14 23:16:00):ok\n"
    "Alice Liu (2023-11-14 23:16:00):ok\n"
)


def _txt(path: Path, text: str = TXT_CHAT, newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode())
    return path


def test_wechat_exporter_txt(tmp_path: Path) -> None:
    path = _txt(tmp_path / "Deal Team.txt")
    assert registry.detect(candidate_for(path)).reader.name == "wechat-exporter-txt"
    opts = ReadOptions(timezone="Europe/Berlin", owner="Owen")
    messages, ctx = read_all(TXT, path, opts)
    got = {m.source_locator: m for m in messages}
    assert list(got) == ["L1", "L2-L3", "L4", "L5", "L6-L8", "L9", "L10"]
    assert got["L1"].sent_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert (got["L1"].sender_name, got["L1"].direction) == ("Alice Liu", "inbound")
    assert (got["L2-L3"].body, got["L2-L3"].direction) == ("Line one\nline two", "outbound")
    system = got["L4"]
    assert (system.kind, system.direction, system.sender_name) == ("system", "system", None)
    assert system.body == "Alice Liu recalled a message"
    assert system.sent_at == got["L2-L3"].sent_at and system.sent_at_source == ""
    photo = got["L5"]
    assert (photo.sender_name, photo.kind, photo.attachments[0].status) == (
        "Bob (work)",
        "image",
        "omitted",
    )
    assert got["L6-L8"].kind == "quote"
    assert got["L9"].message_id != got["L10"].message_id  # the same text twice: n = 0, 1
    assert {m.conversation_type for m in messages} == {"group"}
    assert {m.conversation_id for m in messages} == {"Owen/Deal Team"}
    assert [(w.locator, w.code) for w in ctx.report.warnings] == [
        ("", "third_party_export"),
        ("L4", "time_from_previous"),
    ]
    assert ctx.report.lines_total == 10


def test_txt_saved_with_crlf_gives_the_same_rows(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    lf = read_all(TXT, _txt(tmp_path / "a" / "Deal Team.txt"), BERLIN)[0]
    crlf = read_all(TXT, _txt(tmp_path / "b" / "Deal Team.txt", newline="\r\n"), BERLIN)[0]
    assert [m.message_id for m in crlf] == [m.message_id for m in lf]
    assert crlf[1].body == "Line one\nline two"
    assert crlf[1].raw == "Owen (2023-11-14 23:14:00):Line one\r\nline two"


def test_txt_lines_before_the_first_record_are_rejected(tmp_path: Path) -> None:
    path = _txt(tmp_path / "x.txt", "exported by a tool\n\n" + TXT_CHAT)
    messages, ctx = read_all(TXT, path, BERLIN)
    assert len(messages) == 7
    assert [(r.locator, r.reason) for r in ctx.report.rejected] == [
        ("L1-L2", "no message line before the first record")
    ]


@pytest.mark.parametrize("make", [memotrace_group, pywxdump])
def test_ingest_twice_adds_nothing(make: Any, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    path = make(tmp_path / "in")
    archive = tmp_path / "archive"
    first = ingest_json(archive, path)
    (entry,) = first["inputs"]
    assert entry["status"] == "ingested" and entry["messages_new"] > 0
    assert any(w["code"] == "third_party_export" for w in entry["warnings"])
    again = ingest_json(archive, path)
    assert again["inputs"][0]["status"] == "already_ingested"
    assert len(read_rows(archive)) == entry["messages_new"]


def test_a_copy_with_another_name_adds_nothing_new(tmp_path: Path) -> None:
    """The same TXT export ingested again under another name (a new source file) gives
    the same ids: nothing new (the conversation is named by --conversation)."""
    archive = tmp_path / "archive"
    a = _txt(tmp_path / "one.txt")
    b = _txt(tmp_path / "two.txt", TXT_CHAT + "Alice Liu (2023-11-14 23:20:00):later\n")
    extra = ["--conversation", "Deal Team"]
    first = ingest_json(archive, a, extra=extra)
    second = ingest_json(archive, b, extra=extra)
    assert first["inputs"][0]["messages_new"] == 7
    assert second["inputs"][0]["messages_new"] == 1
    assert second["inputs"][0]["messages_duplicate"] == 7


def test_other_csv_and_text_are_not_taken(tmp_path: Path) -> None:
    trades = tmp_path / "trades.csv"
    trades.write_text("id,MsgSvrID,type_name\n1,2,3\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("Meeting (soon): bring the slides\n")
    for path in (trades, notes):
        cand = candidate_for(path)
        assert all(r.score(cand) == 0 for r in exports.READERS)


# -- what an audit of real exports found --------------------------------------------------


def _pywx_rows(svr: list[str], talker: str = "wxid_a") -> list[list[Any]]:
    room = "12345678@chatroom"
    return [
        [k + 1, s, "文本", 0, talker, room, f"text {k}", "", f"2023-11-14 10:00:0{k}"]
        for k, s in enumerate(svr)
    ]


def test_pywxdump_msgsvrid_re_saved_by_a_spreadsheet_is_not_an_id(tmp_path: Path) -> None:
    """Excel writes 8.23457E+18 for every 19-digit id: taken as the id, three different
    messages would be one."""
    path = _csv(tmp_path / "x.csv", exports.PYWXDUMP_HEADER, _pywx_rows(["8.23457E+18"] * 3))
    messages, ctx = read_all(PYWX, path, BERLIN)
    assert len({m.message_id for m in messages}) == 3
    assert {m.native_id for m in messages} == {None}
    assert [w.code for w in ctx.report.warnings] == ["third_party_export", "server_id_unusable"]


def test_pywxdump_placeholder_talkers_are_no_sender_ids(tmp_path: Path) -> None:
    rows = _pywx_rows(["1", "2"], talker="未知")
    rows[1][4] = "系统"
    path = _csv(tmp_path / "x.csv", exports.PYWXDUMP_HEADER, rows)
    messages, _ = read_all(PYWX, path, BERLIN)
    assert [(m.sender_id, m.sender_name) for m in messages] == [(None, "未知"), (None, "系统")]


def test_pywxdump_owner_keeps_two_custodians_apart(tmp_path: Path) -> None:
    """The same group from two custodians has the same server ids: with --owner (the
    wxid the export does not name) each copy is its own rows."""
    archive = tmp_path / "archive"
    for who, ids in (("jane", ["71", "72"]), ("john", ["71", "72", "73"])):
        (tmp_path / who).mkdir()
        path = _csv(tmp_path / who / "g.csv", exports.PYWXDUMP_HEADER, _pywx_rows(ids))
        out = ingest_json(archive, path, extra=["--custodian", who, "--owner", f"wxid_{who}"])
        assert out["inputs"][0]["messages_new"] == len(ids)
    assert {r["account_id"] for r in read_rows(archive)} == {"wxid_jane", "wxid_john"}


def test_pywxdump_attachment_path_too_long_is_missing(tmp_path: Path) -> None:
    rows = _pywx_rows(["1", "2"])
    rows[0][2], rows[0][7] = "文件", "FileStorage\\File\\" + "长" * 100 + ".pdf"
    (tmp_path / "FileStorage" / "File").mkdir(parents=True)
    messages, _ = read_all(PYWX, _csv(tmp_path / "x.csv", exports.PYWXDUMP_HEADER, rows), BERLIN)
    assert len(messages) == 2 and messages[0].attachments[0].status == "missing"


def test_pywxdump_media_beside_the_csv_are_not_inputs(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    pywxdump(drop)
    out = ingest_json(tmp_path / "archive", drop)
    assert [i["format"] for i in out["inputs"]] == ["wechat-pywxdump-csv"]
    assert out["totals"]["rejected"] == 0


def test_memotrace_export_of_all_chats_is_rejected(tmp_path: Path) -> None:
    rows = [
        [1, 7, 1, 0, 0, T0, 2, "price is 10", "x", "Broker Li", "李", "李"],
        [1, 9, 1, 0, 0, T0 + 9, 2, "dinner?", "x", "Family", "家", "妈妈"],
    ]
    path = _csv(tmp_path / "messages.csv", exports.MEMOTRACE_HEADER, rows)
    with pytest.raises(SourceError, match="MemoTrace export of 2 chats"):
        read_all(MEMO, path, BERLIN)


def test_memotrace_overlapping_and_re_saved_exports_add_only_new_messages(tmp_path: Path) -> None:
    def row(local: int, me: int, shown: str, who: str) -> list[Any]:
        return [local, 5, 1, 0, me, T0 + local, 2, f"m{local}", shown, "", who, who]

    archive = tmp_path / "archive"
    first = [row(1, 0, "2023-11-14 23:13:21", "wxid_a"), row(2, 0, "2023-11-14 23:13:22", "wxid_b")]
    # a later export: the owner spoke since, and a spreadsheet changed how StrTime shows
    later = [row(1, 0, "2023/11/14 23:13", "wxid_a"), row(2, 0, "2023/11/14 23:13", "wxid_b")]
    later.append(row(3, 1, "2023/11/14 23:13", "wxid_owner01"))
    for k, rows in enumerate((first, later)):
        (tmp_path / str(k)).mkdir()
        path = _csv(tmp_path / str(k) / "Desk_utf8.csv", exports.MEMOTRACE_HEADER, rows)
        out = ingest_json(archive, path)
        assert out["inputs"][0]["messages_new"] == (2 if k == 0 else 1)


def test_memotrace_file_message_keeps_its_name(tmp_path: Path) -> None:
    xml = "<msg><appmsg><title>contract.pdf</title><type>6</type></appmsg></msg>"
    path = _csv(
        tmp_path / "A_utf8.csv", exports.MEMOTRACE_HEADER, [[1, 9, 49, 6, 0, T0, 2, xml, "x"]]
    )
    (m,), _ = read_all(MEMO, path, BERLIN)
    assert (m.kind, m.attachments[0].name, m.attachments[0].status) == (
        "document",
        "contract.pdf",
        "omitted",
    )


def test_csv_stray_quote_rejects_its_line_only(tmp_path: Path) -> None:
    rows = [[k, 9, 1, 0, 0, T0 + k, 2, f"m{k}", "x"] for k in range(1, 20_001)]
    path = _csv(tmp_path / "A_utf8.csv", exports.MEMOTRACE_HEADER, rows)
    lines = path.read_bytes().split(b"\r\n")
    lines[6] = b'6,9,1,0,0,1700000006,2,"broken quote,x'
    path.write_bytes(b"\r\n".join(lines))
    messages, ctx = read_all(MEMO, path, BERLIN)
    assert len(messages) == 19_999
    assert [(r.locator, r.reason) for r in ctx.report.rejected] == [
        ("L7", "a quote that is never closed")
    ]


def test_export_whose_every_record_is_rejected_is_rejected(tmp_path: Path) -> None:
    rows = _pywx_rows(["1", "2"])
    for r in rows:
        r[8] = "2023/11/14 10:00"  # a spreadsheet's date format
    path = _csv(tmp_path / "x.csv", exports.PYWXDUMP_HEADER, rows)
    with pytest.raises(SourceError, match=r"no record could be read \(2 rejected"):
        read_all(PYWX, path, BERLIN)


def test_local_time_exports_warn_when_no_zone_is_given(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    path = pywxdump(tmp_path / "in")
    proc = run_cli(["ingest", str(path), "--archive", str(tmp_path / "a"), "--json"])
    assert proc.returncode == 0, proc.stderr
    assert any("no --timezone given" in w for w in json.loads(proc.stdout)["warnings"])


WX_INDEX = (
    "{title} - 微信聊天记录\n\nAlice (2023-11-14 10:00:00):ok\nOwen (2023-11-14 10:00:30):sure\n"
)


def test_wechat_exporter_index_txt_is_named_by_its_title_line(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    for chat in ("Deal Team", "Alice"):
        folder = tmp_path / "Owen" / chat
        folder.mkdir(parents=True)
        (folder / "index.txt").write_text(WX_INDEX.format(title=chat), encoding="utf-8")
    out = ingest_json(archive, tmp_path / "Owen", extra=["--custodian", "owen"])
    assert out["totals"]["messages_new"] == 4  # Alice's "ok" in both chats
    names = {(r["conversation_id"], r["conversation_name"]) for r in read_rows(archive)}
    assert names == {("owen/Deal Team", "Deal Team"), ("owen/Alice", "Alice")}
    (entry, _) = out["inputs"]
    assert [r["reason"] for r in entry["rejected"]] == [
        "the export's title line (the chat's name), not a message",
        "no message line before the first record",
    ]


def test_wechat_exporter_notices_and_transfers_glued_to_the_next_header(tmp_path: Path) -> None:
    """WechatExporter writes notices and transfers without a line end: the next header
    follows on the same line. Names seen at line starts tell where it begins."""
    text = (
        "Alice (2023-11-14 10:00:00):ok\n"
        "Owen (2023-11-14 10:00:30):noted\n"
        "Bob (2023-11-14 10:00:40):here\n"
        '"Alice" recalled a messageOwen (2023-11-14 10:01:00):wire the funds\n'
        "Alice (2023-11-14 10:02:00):Weixin Transfer ¥100.00Bob (2023-11-14 10:03:00):thanks\n"
        "Bob joined the group chatBob (2023-11-14 10:04:00):hi\n"
    )
    path = _txt(tmp_path / "Desk.txt", text)
    messages, _ctx = read_all(TXT, path, ReadOptions(timezone="UTC", owner="Owen"))
    got = [(m.source_locator, m.kind, m.sender_name, m.body) for m in messages]
    assert got == [
        ("L1", "text", "Alice", "ok"),
        ("L2", "text", "Owen", "noted"),
        ("L3", "text", "Bob", "here"),
        ("L4", "system", None, '"Alice" recalled a message'),
        ("L4", "text", "Owen", "wire the funds"),
        ("L5", "transfer", "Alice", "Weixin Transfer ¥100.00"),
        ("L5", "text", "Bob", "thanks"),
        ("L6", "system", None, "Bob joined the group chat"),
        ("L6", "text", "Bob", "hi"),
    ]
    assert messages[4].direction == "outbound"
    assert {m.conversation_type for m in messages} == {"group"}
    assert len({m.message_id for m in messages}) == len(messages)


def test_wechat_exporter_bodies_differing_in_line_ends_are_three_messages(
    tmp_path: Path,
) -> None:
    text = (
        "Alice (2023-11-14 10:00:00):line\r\nnext\n"
        "Alice (2023-11-14 10:00:00):line\nnext\n"
        "Alice (2023-11-14 10:00:00):line\rnext\n"
        "Bob (2023-11-14 10:00:01):x\n"
    )
    messages, _ = read_all(TXT, _txt(tmp_path / "A.txt", text), BERLIN)
    assert len({m.message_id for m in messages}) == 4


def test_wechat_exporter_incremental_export_repeats_no_notice(tmp_path: Path) -> None:
    s = "System Message: Alice recalled a message\n"
    a, b, c, d = (f"{n} (2023-11-14 10:0{k}:00):m{k}\n" for k, n in enumerate("ABCD"))
    archive = tmp_path / "archive"
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    extra = ["--conversation", "Desk"]
    first = ingest_json(archive, _txt(tmp_path / "1" / "x.txt", a + s + b + s + c), extra=extra)
    second = ingest_json(archive, _txt(tmp_path / "2" / "x.txt", b + s + c + d), extra=extra)
    assert first["inputs"][0]["messages_new"] == 5
    assert second["inputs"][0]["messages_new"] == 1  # D only


def test_notes_with_one_time_stamped_line_are_no_chat(tmp_path: Path) -> None:
    notes = tmp_path / "meeting notes.txt"
    notes.write_text("Decision log (2023-11-14 10:00:00):approved the budget\nnext steps\n")
    assert TXT.score(candidate_for(notes)) == 0


@pytest.mark.parametrize(
    ("zone", "when"),
    [("America/New_York", "9999-12-31 23:59:59"), ("Asia/Shanghai", "0001-01-01 00:00:01")],
)
def test_local_time_without_an_instant_is_rejected_not_a_crash(
    tmp_path: Path, zone: str, when: str
) -> None:
    rows = _pywx_rows(["1", "2"])
    rows[0][8] = when
    path = _csv(tmp_path / "x.csv", exports.PYWXDUMP_HEADER, rows)
    messages, ctx = read_all(PYWX, path, ReadOptions(timezone=zone))
    assert len(messages) == 1
    assert [r.reason for r in ctx.report.rejected] == ["CreateTime is not a local time"]


def test_pywxdump_media_path_through_a_linked_folder_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.dat").write_bytes(b"not the export's")
    export = tmp_path / "export"
    export.mkdir()
    (export / "FileStorage").symlink_to(outside, target_is_directory=True)
    rows = _pywx_rows(["1"])
    rows[0][2], rows[0][7] = "图片", "FileStorage\\secret.dat"
    (m,), _ = read_all(PYWX, _csv(export / "x.csv", exports.PYWXDUMP_HEADER, rows), BERLIN)
    assert m.attachments[0].status == "missing"
