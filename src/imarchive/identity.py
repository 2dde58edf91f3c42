"""Deterministic message ids (SPEC "Identity"): sha256 over fields joined by U+001F."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

SEP = "\x1f"


def format_instant(ts: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` of an aware datetime, in UTC (four year digits:
    strftime's ``%Y`` does not pad years before 1000)."""
    return ts.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def message_id(*fields: str | None) -> str:
    joined = SEP.join("" if f is None else f for f in fields)
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()


def whatsapp_id(
    conversation_id: str, sent_at: datetime, sender_name: str | None, body: str | None, n: int
) -> str:
    return message_id(
        "whatsapp", conversation_id, format_instant(sent_at), sender_name, body, str(n)
    )


def wechat_id(
    account_id: str | None,
    conversation_id: str,
    server_id: int | str | None,
    *,
    local_id: int | str | None = None,
    sent_at: datetime | None = None,
    sender_id: str | None = None,
    raw: str = "",
) -> str:
    """Server id when there is a non-zero one; else the local fallback of the SPEC."""
    if server_id not in (None, 0, "0", ""):
        return message_id("wechat", account_id, conversation_id, str(server_id))
    if sent_at is None:
        raise ValueError("a WeChat message without a server id needs sent_at")
    raw_hash = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
    return message_id(
        "wechat",
        account_id,
        conversation_id,
        f"local:{local_id}",
        format_instant(sent_at),
        sender_id,
        raw_hash,
    )
