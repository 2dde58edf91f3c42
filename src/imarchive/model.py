"""Plain data: the normalised message and its parts. Imports nothing internal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Platform(StrEnum):
    WHATSAPP = "whatsapp"
    WECHAT = "wechat"


class MessageKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    VOICE = "voice"
    DOCUMENT = "document"
    STICKER = "sticker"
    GIF = "gif"
    LOCATION = "location"
    CONTACT = "contact"
    CALL = "call"
    POLL = "poll"
    LINK = "link"
    QUOTE = "quote"
    TRANSFER = "transfer"
    RED_ENVELOPE = "red_envelope"
    SYSTEM = "system"
    UNKNOWN = "unknown"


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"
    SYSTEM = "system"
    UNKNOWN = "unknown"


class ConversationType(StrEnum):
    DIRECT = "direct"
    GROUP = "group"
    OFFICIAL = "official"
    SYSTEM = "system"
    UNKNOWN = "unknown"


class AttachmentStatus(StrEnum):
    STORED = "stored"  # the bytes are in ARCHIVE/attachments/
    OMITTED = "omitted"  # the export was made without media
    MISSING = "missing"  # referenced, but not present in what was delivered


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str | None
    sha256: str | None
    size: int | None
    media_type: str | None
    status: AttachmentStatus


@dataclass(slots=True)
class Message:
    """One row of the archive, before the batch stamps ``batch_seq`` and
    ``ingested_at``. Field names are the schema's column names."""

    message_id: str
    platform: Platform
    source_format: str
    account_id: str | None
    custodian: str | None
    conversation_id: str
    conversation_name: str | None
    conversation_type: ConversationType
    sender_id: str | None
    sender_name: str | None
    direction: Direction
    sent_at: datetime  # timezone-aware, UTC
    sent_at_source: str
    source_timezone: str | None
    kind: MessageKind
    native_type: str | None
    body: str | None
    edited: bool
    deleted: bool
    attachments: list[Attachment] = field(default_factory=list)
    reply_to: str | None = None
    native_id: str | None = None
    source_sha256: str = ""
    source_path: str = ""
    source_locator: str = ""
    raw: str = ""
