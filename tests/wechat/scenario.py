"""One synthetic WeChat history, rendered by each layout builder into its own schema.

The people are invented. Every listed base type and appmsg subtype appears, in a direct
chat, a group chat and an official account; a few messages live only in the WAL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

OWNER = "wxid_owner01"
ALICE = "wxid_alice01"
BOB = "wxid_bob0002"
GROUP = "12345678@chatroom"
NEWS = "gh_newsdaily"
T0 = 1_700_000_000

CONTACTS = {
    # username: (nickname, remark, alias)
    OWNER: ("Owen Owner", "", "owen_o"),
    ALICE: ("Alice Liu", "Alice (Acme)", "alice_l"),
    GROUP: ("Deal Team", "", ""),
    NEWS: ("News Daily", "", ""),
}
STRANGERS = {BOB: ("Bob Wang", "", "")}  # seen only in the group
GROUP_NICKS = {BOB: "Bobby", ALICE: "Alice in group", OWNER: "Owen"}


def app(sub: int, title: str = "", des: str = "", url: str = "", extra: str = "") -> str:
    return (
        f'<msg><appmsg appid="" sdkver="0"><title>{title}</title><des>{des}</des>'
        f"<type>{sub}</type><url>{url}</url>{extra}</appmsg></msg>"
    )


@dataclass(frozen=True)
class M:
    svr: int
    conv: str
    sender: str | None  # the author; OWNER = outbound; None = system notice
    base: int
    content: str | bytes
    kind: str
    sub: int | None = None
    wal: bool = False
    body: str | None = None
    deleted: bool = False
    reply_to: str | None = None

    @property
    def outbound(self) -> bool:
        return self.sender == OWNER

    @property
    def direction(self) -> str:
        if self.kind == "system":
            return "system"
        return "outbound" if self.outbound else "inbound"

    @property
    def expected_sender(self) -> str | None:
        return None if self.kind == "system" else self.sender

    @property
    def text(self) -> str:
        return self.content if isinstance(self.content, str) else ""


REVOKE_XML = (
    '<sysmsg type="revokemsg"><revokemsg><session>wxid_alice01</session>'
    '<newmsgid>1003</newmsgid><replacemsg><![CDATA["Alice" recalled a message]]>'
    "</replacemsg></revokemsg></sysmsg>"
)

MESSAGES: list[M] = [
    M(1001, ALICE, ALICE, 1, "Hello [微笑]", "text", body="Hello [微笑]"),
    M(1002, ALICE, OWNER, 1, "Agenda:\nitem one", "text", body="Agenda:\nitem one"),
    M(1003, ALICE, ALICE, 1, "Agenda:\nfrom alice", "text", body="Agenda:\nfrom alice"),
    M(1004, GROUP, BOB, 1, "hi all", "text", body="hi all"),
    M(1005, GROUP, OWNER, 1, "Agenda:\nq3", "text", body="Agenda:\nq3"),
    M(1006, GROUP, ALICE, 3, '<msg><img length="10" md5="abc"/></msg>', "image"),
    M(1007, GROUP, BOB, 34, '<msg><voicemsg voicelength="3000"/></msg>', "voice"),
    M(1008, ALICE, ALICE, 43, '<msg><videomsg length="99"/></msg>', "video"),
    M(1009, ALICE, OWNER, 47, '<msg><emoji md5="e1"/></msg>', "sticker"),
    M(
        1010,
        ALICE,
        ALICE,
        48,
        '<msg><location x="31.2" y="121.4" label="Lujiazui" poiname="Tower"/></msg>',
        "location",
        body="Tower\nLujiazui",
    ),
    M(1011, ALICE, ALICE, 42, '<msg username="wxid_carol" nickname="Carol"/>', "contact"),
    M(1012, ALICE, None, 37, '<msg fromusername="wxid_alice01" content="hi, add me"/>', "system"),
    M(
        1013,
        ALICE,
        OWNER,
        50,
        '<voipmsg type="VoIPBubbleMsg"><VoIPBubbleMsg><msg><![CDATA[Duration 00:42]]>'
        "</msg></VoIPBubbleMsg></voipmsg>",
        "call",
        body="Duration 00:42",
    ),
    M(1014, ALICE, ALICE, 62, '<msg><videomsg length="5"/></msg>', "video"),
    M(1015, GROUP, BOB, 64, "<msg>group call started</msg>", "call"),
    M(1016, ALICE, ALICE, 49, app(1, "app text"), "text", sub=1),
    M(1017, ALICE, ALICE, 49, app(3, "Song", "Singer", "https://music.example/s"), "audio", 3),
    M(1018, ALICE, ALICE, 49, app(4, "Clip", "", "https://video.example/v"), "video", 4),
    M(
        1019,
        ALICE,
        OWNER,
        49,
        app(5, "Quarterly report", "Figures", "https://news.example/q"),
        "link",
        5,
        body="Quarterly report\nFigures\nhttps://news.example/q",
    ),
    M(
        1020,
        GROUP,
        BOB,
        49,
        app(6, "report.pdf", extra="<appattach><fileext>pdf</fileext></appattach>"),
        "document",
        6,
        body="report.pdf",
    ),
    M(1021, ALICE, ALICE, 49, app(8, "sticker"), "sticker", 8),
    M(1022, ALICE, ALICE, 49, app(17, "Sharing location"), "location", 17),
    M(1023, GROUP, ALICE, 49, app(19, "Chat history", "a: b"), "text", 19),
    M(1024, ALICE, ALICE, 49, app(33, "Mini program"), "link", 33),
    M(1025, ALICE, ALICE, 49, app(36, "Mini program 2"), "link", 36),
    M(1026, ALICE, ALICE, 49, app(51, "Channels post"), "video", 51),
    M(
        1027,
        GROUP,
        ALICE,
        49,
        app(57, "I agree", extra="<refermsg><type>1</type><svrid>1004</svrid></refermsg>"),
        "quote",
        57,
        body="I agree",
        reply_to="1004",
    ),
    M(1028, GROUP, None, 49, app(62, "Bob patted Alice"), "system", 62),
    M(1029, ALICE, ALICE, 49, app(2000, "Transfer", "100.00"), "transfer", 2000),
    M(1030, GROUP, BOB, 49, app(2001, "Red packet", "Best wishes"), "red_envelope", 2001),
    M(1031, ALICE, ALICE, 49, app(999, "Future thing"), "unknown", 999),
    M(1032, GROUP, None, 10000, "Bob joined the group chat", "system"),
    M(1033, ALICE, None, 10002, REVOKE_XML, "system", deleted=True, reply_to="1003"),
    M(
        1034,
        ALICE,
        None,
        10000,
        '<revokemsg>"Alice" recalled a message</revokemsg>',
        "system",
        deleted=True,
    ),
    M(1035, ALICE, ALICE, 9999, "mystery", "unknown", body="mystery"),
    M(1036, ALICE, ALICE, 1, b"bad \xff\xfe text", "text", body="bad \ufffd\ufffd text"),
    M(0, ALICE, ALICE, 1, "no server id", "text", body="no server id"),
    M(1038, NEWS, NEWS, 49, app(5, "Morning brief", "", "https://n.example/b"), "link", 5),
    M(2001, ALICE, ALICE, 1, "only in the WAL", "text", wal=True, body="only in the WAL"),
    M(2002, GROUP, BOB, 1, "also WAL-only", "text", wal=True, body="also WAL-only"),
]


def ts(i: int) -> int:
    return T0 + 60 * i


def sent_at(i: int) -> datetime:
    return datetime.fromtimestamp(ts(i), UTC)


def split() -> tuple[list[tuple[int, M]], list[tuple[int, M]], list[tuple[int, M]]]:
    """(first shard, second shard, second shard's WAL): index in MESSAGES and message."""
    base = [(i, m) for i, m in enumerate(MESSAGES) if not m.wal]
    wal = [(i, m) for i, m in enumerate(MESSAGES) if m.wal]
    half = len(base) // 2
    return base[:half], base[half:], wal
