"""Assertions shared by the layout tests: every scenario message lands correctly."""

from __future__ import annotations

from imarchive.model import Message
from tests.wechat import scenario as sc


def by_native(messages: list[Message]) -> dict[str, Message]:
    out: dict[str, Message] = {}
    for m in messages:
        key = m.native_id if m.native_id is not None else f"local:{m.body}"
        assert key not in out, key
        out[key] = m
    return out


def check_all(messages: list[Message], reader: str) -> None:
    got = by_native(messages)
    assert len(messages) == len(sc.MESSAGES)
    for i, exp in enumerate(sc.MESSAGES):
        key = str(exp.svr) if exp.svr else f"local:{exp.body}"
        assert key in got, f"message {key} missing"
        m = got[key]
        ctx = f"{reader} {key}"
        assert m.source_format == reader
        assert m.platform == "wechat"
        assert m.account_id == sc.OWNER, ctx
        assert m.conversation_id == exp.conv, ctx
        assert m.sender_id == exp.expected_sender, ctx
        assert m.direction == exp.direction, ctx
        assert m.sent_at == sc.sent_at(i), ctx
        assert m.kind == exp.kind, ctx
        assert m.deleted == exp.deleted, ctx
        if exp.body is not None:
            assert m.body == exp.body, ctx
        if exp.reply_to is not None:
            assert m.reply_to == exp.reply_to, ctx
        assert m.source_timezone is None
        assert m.source_sha256 and len(m.source_sha256) == 64
        assert len(m.message_id) == 64
        if exp.svr == 0:
            assert m.native_id is None
        # one attachment (stored or missing) for a file of the dump; none for a link to a
        # video or a Channels post, which names no file
        refers_to_file = exp.base in (3, 34, 43, 62) or (exp.base == 49 and exp.sub == 6)
        assert len(m.attachments) == (1 if refers_to_file else 0), ctx
    ctype = {m.conversation_id: m.conversation_type for m in messages}
    assert ctype[sc.GROUP] == "group"
    assert ctype[sc.ALICE] == "direct"
    assert ctype[sc.NEWS] == "official"
    names = {(m.conversation_id, m.sender_id): m.sender_name for m in messages}
    assert names[(sc.ALICE, sc.ALICE)] == "Alice (Acme)"  # remark first
    assert names[(sc.GROUP, sc.BOB)] == "Bobby"  # then the group nickname
    assert names[(sc.GROUP, sc.ALICE)] == "Alice (Acme)"
    convs = {m.conversation_id: m.conversation_name for m in messages}
    assert convs[sc.GROUP] == "Deal Team"
    assert convs[sc.ALICE] == "Alice (Acme)"
