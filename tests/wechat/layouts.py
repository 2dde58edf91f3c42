"""Renders the scenario into each WeChat layout on disk (plain or encrypted)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import lz4.block

from imarchive.sources.wechat import protobuf
from tests.wechat import scenario as sc
from tests.wechat.dbspec import DbSpec, Invalid, write_encrypted, write_plain

PC_KEY = "7f" * 8 + "a1b2c3d4" * 2 + "00112233445566778899aabbccddeeff"
ANDROID_KEY = "1a2b3c4"
IMAGE_BYTES = b"\xff\xd8\xff\xe0 synthetic jpeg"
Writer = Callable[[DbSpec, Path], None]


def writer(encrypted: str | None, key: str = PC_KEY) -> Writer:
    if encrypted is None:
        return write_plain
    return lambda spec, out: write_encrypted(spec, out, encrypted, key)


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def content_bytes(m: sc.M) -> object:
    return Invalid(m.content) if isinstance(m.content, bytes) else m.content


def room_data() -> bytes:
    return protobuf.encode(
        [(1, protobuf.encode([(1, wxid), (2, nick)])) for wxid, nick in sc.GROUP_NICKS.items()]
        + [(4, 7)]  # a top-level field that is noise for us
    )


# --- Windows 3.x -------------------------------------------------------------------------

PC3_MSG = (
    "CREATE TABLE MSG(localId INTEGER PRIMARY KEY AUTOINCREMENT, TalkerId INT DEFAULT 0, "
    "MsgSvrID INT, Type INT, SubType INT, IsSender INT, CreateTime INT, Sequence INT DEFAULT 0, "
    "StatusEx INT DEFAULT 0, FlagEx INT, Status INT, MsgServerSeq INT, MsgSequence INT, "
    "StrTalker TEXT, StrContent TEXT, DisplayContent TEXT, Reserved0 INT DEFAULT 0, "
    "CompressContent BLOB, BytesExtra BLOB, BytesTrans BLOB)"
)
PC3_IMAGE = "wxid_owner01\\FileStorage\\Image\\2023-11\\img1006.dat"
PC3_FILE = "wxid_owner01\\FileStorage\\File\\2023-11\\report.pdf"


def pc3_row(spec: DbSpec, i: int, m: sc.M, wal: bool) -> None:
    items: list[tuple[int, int | bytes | str]] = [(1, protobuf.encode([(1, 0)]))]
    if m.conv.endswith("@chatroom") and not m.outbound and m.sender:
        items.append((3, protobuf.encode([(1, 1), (2, m.sender)])))
    items.append((3, protobuf.encode([(1, 7), (2, "<msgsource><sec_msg_node/></msgsource>")])))
    if m.svr == 1006:
        items.append((3, protobuf.encode([(1, 4), (2, PC3_IMAGE)])))
    if m.svr == 1020:
        items.append((3, protobuf.encode([(1, 4), (2, PC3_FILE)])))
    compress = None
    content: object = content_bytes(m)
    if m.base == 49:
        compress = lz4.block.compress(m.text.encode() + b"\x00\x00", store_size=False)
        content = ""  # quotes and most app messages keep the XML only in CompressContent
    spec.add(
        "MSG",
        wal=wal,
        localId=i + 1,
        MsgSvrID=m.svr,
        Type=m.base,
        SubType=m.sub or 0,
        IsSender=1 if m.outbound else 0,
        CreateTime=sc.ts(i),
        StrTalker=m.conv,
        StrContent=content,
        CompressContent=compress,
        BytesExtra=protobuf.encode(items),
    )


def micromsg() -> DbSpec:
    spec = DbSpec(
        [
            "CREATE TABLE Contact(UserName TEXT PRIMARY KEY, Alias TEXT, EncryptUserName TEXT, "
            "DelFlag INTEGER DEFAULT 0, Type INTEGER, Remark TEXT, NickName TEXT, PYInitial TEXT)",
            "CREATE TABLE ChatRoom(ChatRoomName TEXT PRIMARY KEY, UserNameList TEXT, "
            "DisplayNameList TEXT, ChatRoomFlag INT, Owner INTEGER, RoomData BLOB)",
        ]
    )
    for user, (nick, remark, alias) in {**sc.CONTACTS, **sc.STRANGERS}.items():
        spec.add("Contact", UserName=user, Alias=alias, Remark=remark, NickName=nick, Type=3)
    spec.add(
        "ChatRoom",
        ChatRoomName=sc.GROUP,
        UserNameList="^G".join(sc.GROUP_NICKS),
        DisplayNameList="^G".join(sc.GROUP_NICKS.values()),
        RoomData=room_data(),
    )
    return spec


def build_pc3(root: Path, encrypted: bool = False) -> Path:
    """``root/WeChat Files/wxid_owner01`` (the account folder); returns it."""
    write = writer("windows-3.x" if encrypted else None)
    account = root / "WeChat Files" / sc.OWNER
    msg = account / "Msg"
    first, second, wal = sc.split()
    for n, part, wal_part in ((0, first, []), (1, second, wal)):
        spec = DbSpec([PC3_MSG, "CREATE TABLE Name2ID(UsrName TEXT PRIMARY KEY)"])
        for i, m in part:
            pc3_row(spec, i, m, False)
        for i, m in wal_part:
            pc3_row(spec, i, m, True)
        write(spec, msg / "Multi" / f"MSG{n}.db")
    write(micromsg(), msg / "MicroMsg.db")
    image = account / "FileStorage" / "Image" / "2023-11" / "img1006.dat"
    image.parent.mkdir(parents=True)
    image.write_bytes(IMAGE_BYTES)
    return account


# --- Android -----------------------------------------------------------------------------

ANDROID_APP_CODES = {57: 822083633, 6: 1090519089, 2000: 419430449, 2001: 436207665}
ANDROID_APP_CODES[17] = -1879048186  # live location: a negative code


def android_code(m: sc.M) -> tuple[int, object]:
    """(type code, content) as Android stores them."""
    if m.base == 49 and m.sub in ANDROID_APP_CODES:
        return ANDROID_APP_CODES[m.sub], content_bytes(m)
    if m.base == 10002:
        return 268445458, content_bytes(m)
    if m.base == 10000 and "<revokemsg>" in m.text:
        return 268445456, '"Alice" recalled a message'  # Android's plain-text recall
    return m.base, content_bytes(m)


def prefixed(m: sc.M, content: object) -> object:
    """Inbound group messages start with `<sender>:\\n` on every platform but Windows 3.x."""
    if not (m.conv.endswith("@chatroom") and m.sender and not m.outbound):
        return content
    if isinstance(content, Invalid):
        return Invalid(f"{m.sender}:\n".encode() + content.data)
    return f"{m.sender}:\n{content}"


def build_android(root: Path, encrypted: bool = False) -> Path:
    spec = DbSpec(
        [
            "CREATE TABLE message (msgId INTEGER PRIMARY KEY, msgSvrId INTEGER, type INT, "
            "status INT, isSend INT, isShowTimer INTEGER, createTime INTEGER, talker TEXT, "
            "content TEXT, imgPath TEXT, reserved TEXT, lvbuffer BLOB, transContent TEXT)",
            "CREATE TABLE rcontact (username TEXT PRIMARY KEY, alias TEXT, conRemark TEXT, "
            "domainList TEXT, nickname TEXT, type INT)",
            "CREATE TABLE chatroom (chatroomname TEXT PRIMARY KEY, addtime INTEGER, "
            "memberlist TEXT, displayname TEXT, roomowner TEXT, roomdata BLOB)",
            "CREATE TABLE userinfo (id INTEGER PRIMARY KEY, type INT, value TEXT)",
        ]
    )
    spec.add("userinfo", id=2, type=3, value=sc.OWNER)
    spec.add("userinfo", id=4, type=3, value="Owen Owner")
    for user, (nick, remark, alias) in {**sc.CONTACTS, **sc.STRANGERS}.items():
        spec.add("rcontact", username=user, alias=alias, conRemark=remark, nickname=nick)
    spec.add(
        "chatroom",
        chatroomname=sc.GROUP,
        memberlist=";".join(sc.GROUP_NICKS),
        displayname="、".join(sc.GROUP_NICKS.values()),
        roomdata=room_data(),
    )
    for i, m in enumerate(sc.MESSAGES):
        code, content = android_code(m)
        spec.add(
            "message",
            wal=m.wal,
            msgId=i + 1,
            msgSvrId=m.svr,
            type=code,
            status=3,
            isSend=1 if m.outbound else 0,
            createTime=sc.ts(i) * 1000,
            talker=m.conv,
            content=prefixed(m, content),
            imgPath="THUMBNAIL_DIRPATH://th_abc" if m.base == 3 else None,
        )
    out = root / "EnMicroMsg.db"
    writer("android" if encrypted else None, ANDROID_KEY)(spec, out)
    return out


# --- iOS (and macOS 3.x, encrypted) ------------------------------------------------------

IOS_CHAT = (
    'CREATE TABLE "{}" (TableVer INTEGER DEFAULT 1, MesLocalID INTEGER PRIMARY KEY '
    "AUTOINCREMENT, MesSvrID INTEGER DEFAULT 0, CreateTime INTEGER DEFAULT 0, Message TEXT, "
    "Status INTEGER DEFAULT 0, ImgStatus INTEGER DEFAULT 0, Type INTEGER, Des INTEGER)"
)
PDF_BYTES = b"%PDF-1.4 synthetic"


def ios_friend_rows(spec: DbSpec) -> None:
    members = "".join(
        f'<Member UserName="{u}"><DisplayName>{n}</DisplayName></Member>'
        for u, n in sc.GROUP_NICKS.items()
    )
    for user, (nick, remark, alias) in {**sc.CONTACTS, **sc.STRANGERS}.items():
        room = None
        if user == sc.GROUP:
            room = protobuf.encode([(1, "x"), (6, f"<RoomData>{members}</RoomData>")])
        spec.add(
            "Friend",
            userName=user,
            type=3,
            dbContactRemark=protobuf.encode([(1, nick), (2, alias), (3, remark)]),
            dbContactChatRoom=room,
        )


def build_ios_tree(root: Path, encrypted: bool = False) -> Path:
    """``root/Documents`` with one account; returns ``root`` (the app container)."""
    write = writer("macos-3.x" if encrypted else None)
    account = root / "Documents" / md5(sc.OWNER)
    contact = DbSpec(
        [
            "CREATE TABLE Friend (userName TEXT PRIMARY KEY, type INTEGER, certificationFlag "
            "INTEGER, dbContactRemark BLOB, dbContactChatRoom BLOB, dbContactHeadImage BLOB)"
        ]
    )
    ios_friend_rows(contact)
    write(contact, account / "DB" / "WCDB_Contact.sqlite")
    # Chats are split by conversation across MM.sqlite and message_1.sqlite.
    files = {"MM.sqlite": [sc.ALICE], "message_1.sqlite": [sc.GROUP, sc.NEWS]}
    for fname, convs in files.items():
        spec = DbSpec([IOS_CHAT.format(f"Chat_{md5(c)}") for c in convs])
        for i, m in enumerate(sc.MESSAGES):
            if m.conv not in convs:
                continue
            spec.add(
                f"Chat_{md5(m.conv)}",
                wal=m.wal,
                MesLocalID=i + 1,
                MesSvrID=m.svr,
                CreateTime=sc.ts(i),
                Message=prefixed(m, content_bytes(m)),
                Status=2,
                Type=m.base,
                Des=0 if m.outbound else 1,
            )
        write(spec, account / "DB" / fname)
    img = account / "Img" / md5(sc.GROUP) / "6.pic"  # message 1006 is MESSAGES[5]
    img.parent.mkdir(parents=True)
    img.write_bytes(IMAGE_BYTES)
    doc = account / "OpenData" / md5(sc.GROUP) / "20.pdf"  # message 1020
    doc.parent.mkdir(parents=True)
    doc.write_bytes(PDF_BYTES)
    return root


def build_ios_backup(root: Path) -> Path:
    """An iTunes-style backup folder holding the tree above, plus another app's file."""
    import shutil
    import sqlite3

    app = build_ios_tree(root / "container")
    backup = root / "backup"
    backup.mkdir()
    rows = []
    for path in sorted(app.rglob("*")):
        if path.is_file():
            rel = path.relative_to(app).as_posix()
            rows.append(("AppDomain-com.tencent.xin", rel, path))
    other = root / "other.sqlite"
    other.write_bytes(b"other app")
    rows.append(("AppDomain-net.whatsapp.WhatsApp", "Documents/ChatStorage.sqlite", other))
    with sqlite3.connect(backup / "Manifest.db") as conn:
        conn.execute(
            "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, "
            "flags INTEGER, file BLOB)"
        )
        for domain, rel, path in rows:
            file_id = hashlib.sha1(f"{domain}-{rel}".encode()).hexdigest()
            conn.execute("INSERT INTO Files VALUES (?, ?, ?, 1, NULL)", (file_id, domain, rel))
            dest = backup / file_id[:2] / file_id
            dest.parent.mkdir(exist_ok=True)
            shutil.copyfile(path, dest)
    conn.close()
    shutil.rmtree(root / "container")
    return backup


# --- WeChat 4.x --------------------------------------------------------------------------

PC4_MSG = (
    'CREATE TABLE "{}" (local_id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER, '
    "local_type INTEGER, sort_seq INTEGER, real_sender_id INTEGER, create_time INTEGER, "
    "status INTEGER, upload_status INTEGER, server_seq INTEGER, origin_source INTEGER, "
    "source TEXT, message_content TEXT, compress_content TEXT, packed_info_data BLOB)"
)
PC4_ACCOUNT = f"{sc.OWNER}_a1b2"


def pc4_content(m: sc.M) -> object:
    content = prefixed(m, content_bytes(m))
    if m.base == 49 or m.svr == 1004:  # app XML (and one text) zstd-compressed, as 4.x does
        import zstandard

        assert isinstance(content, str)
        return zstandard.ZstdCompressor().compress(content.encode())
    return content


def build_pc4(root: Path, encrypted: bool = False) -> Path:
    """``root/xwechat_files/<wxid>_a1b2`` (the account folder); returns it."""
    write = writer("wechat-4.x" if encrypted else None)
    account = root / "xwechat_files" / PC4_ACCOUNT
    storage = account / "db_storage"
    first, second, wal = sc.split()
    people = [sc.OWNER, sc.ALICE, sc.BOB, sc.GROUP, sc.NEWS]
    for n, part, wal_part in ((0, first, []), (1, second, wal)):
        convs = sorted({m.conv for _, m in part + wal_part})
        spec = DbSpec(
            ["CREATE TABLE Name2Id (user_name TEXT PRIMARY KEY, is_session INTEGER)"]
            + [PC4_MSG.format(f"Msg_{md5(c)}") for c in convs]
        )
        # Each database numbers Name2Id its own way: a join across files would be wrong.
        order = people if n == 0 else people[::-1]
        for rowid, user in enumerate(order, start=1):
            spec.add("Name2Id", rowid=rowid, user_name=user, is_session=1)
        for i, m in part + wal_part:
            spec.add(
                f"Msg_{md5(m.conv)}",
                wal=m.wal,
                local_id=i + 1,
                server_id=m.svr,
                local_type=((m.sub or 0) << 32) | m.base,
                sort_seq=sc.ts(i) * 1000,
                real_sender_id=order.index(m.sender) + 1 if m.sender else 0,
                create_time=sc.ts(i),
                status=2,
                message_content=pc4_content(m),
            )
        write(spec, storage / "message" / f"message_{n}.db")
    contact = DbSpec(
        [
            f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, username TEXT, local_type INTEGER, "
            "alias TEXT, remark TEXT, nick_name TEXT, big_head_url TEXT)"
            for t in ("contact", "stranger")
        ]
        + [
            "CREATE TABLE chat_room (id INTEGER PRIMARY KEY, username TEXT, owner TEXT, "
            "ext_buffer BLOB)",
            "CREATE TABLE name2id (username TEXT PRIMARY KEY)",
        ]
    )
    for table, people_map in (("contact", sc.CONTACTS), ("stranger", sc.STRANGERS)):
        for user, (nick, remark, alias) in people_map.items():
            contact.add(table, username=user, alias=alias, remark=remark, nick_name=nick)
    contact.add("chat_room", username=sc.GROUP, owner=sc.BOB, ext_buffer=room_data())
    for user in reversed(people):
        contact.add("name2id", username=user)
    write(contact, storage / "contact" / "contact.db")
    session = DbSpec(["CREATE TABLE SessionTable (username TEXT PRIMARY KEY, type INTEGER)"])
    for user in (sc.ALICE, sc.GROUP, sc.NEWS):
        session.add("SessionTable", username=user, type=0)
    write(session, storage / "session" / "session.db")
    doc = account / "msg" / "file" / "2023-11" / "report.pdf"
    doc.parent.mkdir(parents=True)
    doc.write_bytes(PDF_BYTES)
    return account
