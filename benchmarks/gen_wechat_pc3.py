"""Seeded generator of a plain (decrypted) Windows PC WeChat 3.x dump (``wechat-pc3``).

Layout, as the format notes describe it::

    OUT/WeChat Files/wxid_bench/Msg/Multi/MSG0.db   (older half; MSG1.db the newer half)
    OUT/WeChat Files/wxid_bench/Msg/MicroMsg.db     (Contact, ChatRoom with RoomData, Session)

``MSG`` rows mix the types a business account sees: 1 text (most), 3 image, 34 voice,
49 app messages (5 link, 6 file, 57 quote, 2000 transfer) whose XML sits LZ4-compressed (raw
block, no frame) in ``CompressContent``, and 10000 system notices (half of them without a
server id). Group chats (``<digits>@chatroom``) carry no ``wxid:\\n`` prefix on Windows 3.x:
the sender is in ``BytesExtra`` (protobuf field 3, the item whose field 1 is 1).

Fictional throughout: ids, names and texts are made up. Rows are written with ``executemany``
in one transaction per database, journal off: about a million rows in well under a minute.

Usage: ``python benchmarks/gen_wechat_pc3.py --messages 1000000 --seed 1 --out DIR``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final

import lz4.block

__all__ = ["OWNER", "GenStats", "account_dir", "generate", "main"]

OWNER: Final = "wxid_bench"
_START: Final = 1_672_531_200  # 2023-01-01T00:00:00Z
_BATCH: Final = 50_000  # rows per executemany call

# Type mix per 1000 messages: (Type, SubType, weight).
_TYPES: Final = (
    (1, 0, 780),
    (3, 0, 80),
    (34, 0, 40),
    (49, 5, 30),
    (49, 6, 15),
    (49, 57, 30),
    (49, 2000, 5),
    (10000, 0, 20),
)

_WORDS_TEXT: Final = (
    "好的 收到 明天 开会 谢谢 没问题 报告 已经 发了 请 查收 今天 下午 客户 合同 价格 确认 "
    "ok thanks meeting tomorrow report sent please check price contract confirmed "
    "[微笑] [强] [握手] [OK] 😂 👍 🙏 café"
)
_WORDS: Final = tuple(_WORDS_TEXT.split())

_MSG_SCHEMA: Final = """
CREATE TABLE MSG(
    localId INTEGER PRIMARY KEY AUTOINCREMENT, TalkerId INT DEFAULT 0, MsgSvrID INT,
    Type INT, SubType INT, IsSender INT, CreateTime INT, Sequence INT DEFAULT 0,
    StatusEx INT DEFAULT 0, FlagEx INT, Status INT, MsgServerSeq INT, MsgSequence INT,
    StrTalker TEXT, StrContent TEXT, DisplayContent TEXT,
    Reserved0 INT DEFAULT 0, Reserved1 INT DEFAULT 0, Reserved2 INT DEFAULT 0,
    Reserved3 INT DEFAULT 0, Reserved4 TEXT, Reserved5 TEXT, Reserved6 TEXT,
    CompressContent BLOB, BytesExtra BLOB, BytesTrans BLOB);
CREATE TABLE Name2ID(UsrName TEXT PRIMARY KEY);
CREATE TABLE DBInfo(tableIndex INTEGER PRIMARY KEY, tableVersion INTEGER, tableDesc TEXT);
"""
_MSG_INDEXES: Final = """
CREATE INDEX MSG_TALKER_CREATETIME ON MSG(TalkerId, CreateTime);
CREATE INDEX MSG_SERVERID ON MSG(MsgSvrID);
"""
_MICROMSG_SCHEMA: Final = """
CREATE TABLE Contact(
    UserName TEXT PRIMARY KEY, Alias TEXT, EncryptUserName TEXT, DelFlag INTEGER DEFAULT 0,
    Type INTEGER DEFAULT 0, VerifyFlag INTEGER DEFAULT 0, Reserved1 INTEGER DEFAULT 0,
    Reserved2 INTEGER DEFAULT 0, Reserved3 TEXT, Reserved4 TEXT, Remark TEXT, NickName TEXT,
    LabelIDList TEXT, DomainList TEXT, ChatRoomType INT, PYInitial TEXT, QuanPin TEXT,
    RemarkPYInitial TEXT, RemarkQuanPin TEXT, BigHeadImgUrl TEXT, SmallHeadImgUrl TEXT,
    HeadImgMd5 TEXT, ChatRoomNotify INTEGER DEFAULT 0, Reserved5 INTEGER DEFAULT 0,
    Reserved6 TEXT, Reserved7 TEXT, ExtraBuf BLOB, Reserved8 INTEGER DEFAULT 0,
    Reserved9 INTEGER DEFAULT 0, Reserved10 TEXT, Reserved11 TEXT);
CREATE TABLE ChatRoom(
    ChatRoomName TEXT PRIMARY KEY, UserNameList TEXT, DisplayNameList TEXT,
    ChatRoomFlag INT DEFAULT 0, Owner INTEGER DEFAULT 0, IsShowName INTEGER DEFAULT 0,
    SelfDisplayName TEXT, Reserved1 INTEGER DEFAULT 0, Reserved2 TEXT,
    Reserved3 INTEGER DEFAULT 0, Reserved4 TEXT, Reserved5 INTEGER DEFAULT 0, Reserved6 TEXT,
    RoomData BLOB, Reserved7 INTEGER DEFAULT 0, Reserved8 TEXT);
CREATE TABLE Session(
    strUsrName TEXT PRIMARY KEY, nOrder INT DEFAULT 0, nUnReadCount INTEGER DEFAULT 0,
    parentRef TEXT, Reserved0 INTEGER DEFAULT 0, Reserved1 TEXT, strNickName TEXT,
    nStatus INTEGER, nIsSend INTEGER, strContent TEXT, nMsgType INTEGER, nMsgLocalID INTEGER,
    nMsgStatus INTEGER, nTime INTEGER, editContent TEXT, othersAtMe INT);
"""


# --- protobuf wire format (just what BytesExtra and RoomData need) ---------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _pb_int(field_no: int, value: int) -> bytes:
    return _varint(field_no << 3) + _varint(value)


def _pb_bytes(field_no: int, value: bytes | str) -> bytes:
    data = value.encode("utf-8") if isinstance(value, str) else value
    return _varint(field_no << 3 | 2) + _varint(len(data)) + data


def bytes_extra(items: Sequence[tuple[int, str]]) -> bytes:
    """``{1: {1: 1, 2: 0}, 3: repeated {1: type, 2: value}}`` as WeChat PC 3.x writes it."""
    head = _pb_bytes(1, _pb_int(1, 1) + _pb_int(2, 0))
    return head + b"".join(_pb_bytes(3, _pb_int(1, t) + _pb_bytes(2, v)) for t, v in items)


def room_data(members: Sequence[tuple[str, str | None]]) -> bytes:
    """``repeated 1: {1: wxid, 2: group display name}`` plus a noise field, as in ChatRoom."""
    out = bytearray()
    for wxid, display in members:
        inner = _pb_bytes(1, wxid)
        if display is not None:
            inner += _pb_bytes(2, display)
        inner += _pb_int(3, 0)
        out += _pb_bytes(1, inner)
    out += _pb_int(2, len(members))
    return bytes(out)


# --- the synthetic account --------------------------------------------------------------------


@dataclass
class _Conversation:
    talker: str
    group: bool
    members: list[str]  # senders other than the owner
    weight: int
    last_svrid: int = 0


@dataclass
class _Account:
    contacts: list[tuple[str, str, str | None]]  # (wxid, nickname, remark)
    strangers: list[str]
    rooms: list[tuple[str, list[str], dict[str, str]]]  # (room id, members, group nicknames)
    conversations: list[_Conversation]


def _account(rng: random.Random) -> _Account:
    contacts: list[tuple[str, str, str | None]] = []
    for i in range(40):
        wxid = f"wxid_{rng.getrandbits(48):012x}" if i % 4 else f"bench_user{i:02d}"
        nick = f"测试用户{i:02d}" if i % 3 else f"Bench Person {i:02d}"
        remark = f"客户{i:02d}" if i % 5 == 0 else None
        contacts.append((wxid, nick, remark))
    strangers = [f"wxid_{rng.getrandbits(48):012x}" for _ in range(60)]
    people = [c[0] for c in contacts]
    rooms: list[tuple[str, list[str], dict[str, str]]] = []
    conversations: list[_Conversation] = []
    for i in range(12):
        room = f"{rng.randrange(10**10, 10**11)}@chatroom"
        members = rng.sample(people, rng.randint(4, 20)) + rng.sample(strangers, rng.randint(0, 15))
        nicknames = {m: f"群昵称{i}-{k}" for k, m in enumerate(members) if k % 3 == 0}
        rooms.append((room, members, nicknames))
        conversations.append(_Conversation(room, True, members, rng.randint(10, 60)))
    for wxid in people:
        conversations.append(_Conversation(wxid, False, [wxid], rng.randint(1, 20)))
    conversations.append(_Conversation("gh_bench_news", False, ["gh_bench_news"], 3))
    return _Account(contacts, strangers, rooms, conversations)


def _text(rng: random.Random) -> str:
    n = min(int(rng.expovariate(1 / 6)) + 1, 40)
    return " ".join(rng.choices(_WORDS, k=n))


_MSGSOURCE: Final = "<msgsource><silence>0</silence><membercount>{n}</membercount></msgsource>"


def _appmsg_xml(
    sub: int, rng: random.Random, conv: _Conversation, sender: str, now: int
) -> tuple[str, str]:
    """(XML, the text a reader would show) for a type-49 message of subtype ``sub``."""
    if sub == 5:
        title = _text(rng)
        url = f"https://example.com/a/{rng.getrandbits(32):08x}"
        body = f"<title>{title}</title><des>{_text(rng)}</des><type>5</type><url>{url}</url>"
    elif sub == 6:
        title = f"report-{rng.randrange(1000):03d}.pdf"
        size = rng.randrange(10_000, 5_000_000)
        body = (
            f"<title>{title}</title><type>6</type><appattach><totallen>{size}</totallen>"
            f"<fileext>pdf</fileext></appattach>"
        )
    elif sub == 57:
        title = _text(rng)
        body = (
            f"<title>{title}</title><type>57</type><refermsg><type>1</type>"
            f"<svrid>{conv.last_svrid}</svrid><fromusr>{conv.talker}</fromusr>"
            f"<chatusr>{sender}</chatusr><displayname>x</displayname>"
            f"<content>{_text(rng)}</content><createtime>{now - 60}</createtime></refermsg>"
        )
    else:
        title = "微信转账"
        fee = f"{rng.randrange(1, 100000) / 100:.2f}"
        body = (
            f"<title>{title}</title><des>收到转账{fee}元</des><type>2000</type>"
            f"<wcpayinfo><paysubtype>1</paysubtype><feedesc>￥{fee}</feedesc></wcpayinfo>"
        )
    xml = (
        f'<?xml version="1.0"?>\n<msg>\n\t<appmsg appid="" sdkver="0">{body}</appmsg>\n'
        f"\t<fromusername>{sender}</fromusername>\n</msg>\n"
    )
    return xml, title


_Row = tuple[
    int, int, int, int, int, int, int, int, int, int, str, str, bytes | None, bytes, int, int
]
_INSERT: Final = (
    "INSERT INTO MSG(TalkerId, MsgSvrID, Type, SubType, IsSender, CreateTime, Sequence, "
    "StatusEx, FlagEx, Status, StrTalker, StrContent, CompressContent, BytesExtra, "
    "MsgServerSeq, MsgSequence) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


@dataclass
class GenStats:
    out: str
    account: str
    seed: int
    messages: int
    shards: dict[str, int]
    by_type: dict[str, int] = field(default_factory=dict)
    group_messages: int = 0
    bytes: int = 0
    seconds: float = 0.0


def account_dir(out: Path | str) -> Path:
    """The account folder inside a generated dump: what ``imarchive ingest`` is given."""
    return Path(out) / "WeChat Files" / OWNER


def _rows(
    rng: random.Random, account: _Account, messages: int, by_type: dict[str, int]
) -> Iterator[tuple[str, _Row]]:
    """(talker, row-without-TalkerId-resolved) for every message, in time order."""
    convs = account.conversations
    conv_weights = [c.weight for c in convs]
    types = [(t, s) for t, s, _ in _TYPES]
    type_weights = [w for _, _, w in _TYPES]
    extras: dict[tuple[str, int], bytes] = {}
    used_svrids: set[int] = set()
    now = _START
    seq = 0
    block = 4096
    for base in range(0, messages, block):
        k = min(block, messages - base)
        picks = rng.choices(convs, weights=conv_weights, k=k)
        kinds = rng.choices(types, weights=type_weights, k=k)
        gaps = rng.choices(range(60), k=k)  # ~30 s apart on average; several per second
        for conv, (typ, sub), gap in zip(picks, kinds, gaps, strict=True):
            now += gap
            seq += 1
            label = f"{typ}/{sub}" if typ == 49 else str(typ)
            by_type[label] = by_type.get(label, 0) + 1
            is_sender = 1 if (typ != 10000 and rng.random() < 0.35) else 0
            sender = OWNER if is_sender else rng.choice(conv.members)
            svrid = rng.getrandbits(63) or 1
            while svrid in used_svrids:
                svrid = rng.getrandbits(63) or 1
            used_svrids.add(svrid)
            if typ == 10000 and rng.random() < 0.5:
                svrid = 0  # local-only notices have no server id
            compress: bytes | None = None
            items: list[tuple[int, str]] = []
            if conv.group and not is_sender:
                items.append((1, sender))  # the sender of a group message, Windows 3.x only
            if typ == 1:
                content = _text(rng)
            elif typ == 3:
                md5 = f"{rng.getrandbits(128):032x}"
                content = (
                    f'<?xml version="1.0"?>\n<msg>\n\t<img aeskey="{md5}" length="'
                    f'{rng.randrange(10_000, 900_000)}" md5="{md5}" hevc_mid_size="0" />\n</msg>\n'
                )
                month = time.strftime("%Y-%m", time.gmtime(now))
                items.append((3, f"{OWNER}\\FileStorage\\Image\\Thumb\\{month}\\{md5}_t.dat"))
                items.append((4, f"{OWNER}\\FileStorage\\Image\\{month}\\{md5}.dat"))
            elif typ == 34:
                ms = rng.randrange(1000, 60000)
                content = (
                    f'<msg><voicemsg endflag="1" cancelflag="0" forwardflag="0" voiceformat="4" '
                    f'voicelength="{ms}" length="{ms // 2}" bufid="0" '
                    f'clientmsgid="{rng.getrandbits(64):016x}" fromusername="{sender}" /></msg>'
                )
            elif typ == 49:
                xml, _title = _appmsg_xml(sub, rng, conv, sender, now)
                # WeChat stores the XML as a raw LZ4 block (no frame, no size), NUL-terminated.
                compress = lz4.block.compress(xml.encode("utf-8") + b"\x00", store_size=False)
                content = ""
            else:
                who = rng.choice(account.contacts)[1]
                if rng.random() < 0.3:
                    content = f'<revokemsg>"{who}" 撤回了一条消息</revokemsg>'
                else:
                    content = f'"{who}"邀请"测试新人"加入了群聊'
            key = (sender if conv.group and not is_sender else "", len(conv.members))
            if not items or (len(items) == 1 and items[0][0] == 1):
                extra = extras.get(key)
                if extra is None:
                    extra = bytes_extra([*items, (7, _MSGSOURCE.format(n=len(conv.members)))])
                    extras[key] = extra
            else:
                extra = bytes_extra([*items, (7, _MSGSOURCE.format(n=len(conv.members)))])
            if svrid:
                conv.last_svrid = svrid
            row: _Row = (
                0,
                svrid,
                typ,
                sub,
                is_sender,
                now,
                now * 1000 + seq % 1000,
                0,
                0,
                2,
                conv.talker,
                content,
                compress,
                extra,
                0,
                seq,
            )
            yield conv.talker, row


def _write_micromsg(path: Path, account: _Account) -> None:
    con = sqlite3.connect(path)
    try:
        con.executescript(_MICROMSG_SCHEMA)
        contact_rows = [(wxid, nick, remark, 3, 0) for wxid, nick, remark in account.contacts] + [
            (room, f"测试群{i:02d}", None, 2, 1) for i, (room, _, _) in enumerate(account.rooms)
        ]
        contact_rows.append(("gh_bench_news", "Bench News", None, 3, 0))
        contact_rows.append((OWNER, "Bench Owner", None, 3, 0))
        con.executemany(
            "INSERT INTO Contact(UserName, NickName, Remark, Type, ChatRoomType) "
            "VALUES (?,?,?,?,?)",
            contact_rows,
        )
        room_rows = []
        for room, members, nicknames in account.rooms:
            everyone = [OWNER, *members]
            names = [nicknames.get(m, "") for m in everyone]
            data = room_data([(m, nicknames.get(m)) for m in everyone])
            room_rows.append((room, "\x07".join(everyone), "\x07".join(names), data, OWNER))
        con.executemany(
            "INSERT INTO ChatRoom(ChatRoomName, UserNameList, DisplayNameList, RoomData, "
            "Reserved2) VALUES (?,?,?,?,?)",
            room_rows,
        )
        con.executemany(
            "INSERT INTO Session(strUsrName, strNickName, nTime) VALUES (?,?,?)",
            [(c.talker, None, _START) for c in account.conversations],
        )
        con.commit()
    finally:
        con.close()


def _open_shard(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.executescript(_MSG_SCHEMA)
    con.execute("INSERT INTO DBInfo VALUES (1, 1, 'bench')")
    con.execute("BEGIN")
    return con


def generate(out: Path | str, messages: int, seed: int = 1, shards: int = 2) -> GenStats:
    """Write a ``wechat-pc3`` dump of ``messages`` rows under ``out`` (replaced if present).

    The rows are split in time order over ``shards`` files ``MSG0.db``…"""
    if messages < 0 or shards < 1:
        raise ValueError("messages must be >= 0 and shards >= 1")
    t0 = time.perf_counter()
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    msg_dir = account_dir(tmp) / "Msg"
    multi = msg_dir / "Multi"
    multi.mkdir(parents=True)
    rng = random.Random(f"wechat-pc3:{seed}")
    account = _account(rng)
    _write_micromsg(msg_dir / "MicroMsg.db", account)

    per_shard = -(-messages // shards) if messages else 0
    stats = GenStats(str(out), OWNER, seed, messages, {})
    shard = -1
    con: sqlite3.Connection | None = None
    name_ids: dict[str, int] = {}
    pending: list[_Row] = []
    group_talkers = {c.talker for c in account.conversations if c.group}

    def flush() -> None:
        if con is not None and pending:
            con.executemany(_INSERT, pending)
            pending.clear()

    def close() -> None:
        if con is not None:
            flush()
            con.execute("COMMIT")
            con.executescript(_MSG_INDEXES)
            con.close()

    for n, (talker, row) in enumerate(_rows(rng, account, messages, stats.by_type)):
        if per_shard and n % per_shard == 0:
            close()
            shard += 1
            name = f"MSG{shard}.db"
            con = _open_shard(multi / name)
            stats.shards[name] = 0
            name_ids = {}
        assert con is not None
        tid = name_ids.get(talker)
        if tid is None:
            con.execute("INSERT INTO Name2ID(UsrName) VALUES (?)", (talker,))
            tid = name_ids[talker] = len(name_ids) + 1
        pending.append((tid, *row[1:]))
        stats.shards[f"MSG{shard}.db"] += 1
        if talker in group_talkers:
            stats.group_messages += 1
        if len(pending) >= _BATCH:
            flush()
    close()
    if not stats.shards:  # an empty dump still has its first shard
        _open_shard(multi / "MSG0.db").execute("COMMIT")
        stats.shards["MSG0.db"] = 0

    if out.exists():
        shutil.rmtree(out)
    tmp.replace(out)
    stats.bytes = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    stats.seconds = round(time.perf_counter() - t0, 3)
    return stats


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--messages", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--shards", type=int, default=2, help="number of MSGn.db files")
    p.add_argument("--out", type=Path, required=True, help="folder that will hold 'WeChat Files'")
    args = p.parse_args(argv)
    stats = generate(args.out, args.messages, args.seed, args.shards)
    for key, value in asdict(stats).items():
        sys.stdout.write(f"{key}: {value}\n")
    sys.stdout.write(f"ingest: {account_dir(args.out)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
