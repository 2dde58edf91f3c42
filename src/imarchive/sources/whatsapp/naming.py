"""Names: the chat title from localised export file names, and sender ids."""

from __future__ import annotations

import re

# "WhatsApp Chat with X.txt" and its translations (NBSP where the app writes one), and the
# iOS zip/folder prefix "WhatsApp Chat - X".
TXT_PREFIXES = (
    "WhatsApp Chat with ",
    "WhatsApp Chat mit ",
    "Chat de WhatsApp con ",
    "Conversa do WhatsApp com ",
    "WhatsApp-chat met ",
    "Discussion WhatsApp avec ",
    "Chat WhatsApp con ",
    "Chat WhatsApp s\u00a0uživatelem ",
    "Chat WhatsApp s uživatelem ",
    "Чат WhatsApp с\u00a0контактом ",
    "Чат WhatsApp с контактом ",
    "Чат WhatsApp с ",
)
CONTAINER_PREFIXES = (
    "WhatsApp Chat - ",
    "WhatsApp-Chat - ",
    "Chat de WhatsApp - ",
    "Conversa do WhatsApp - ",
    "Discussion WhatsApp - ",
    "Chat WhatsApp - ",
    "WhatsApp-chat - ",
    "Чат WhatsApp - ",
    *TXT_PREFIXES,
)
IOS_CHAT = "_chat.txt"


def _strip_ext(name: str) -> str:
    for ext in (".txt", ".zip", ".TXT", ".ZIP"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def _strip_prefix(stem: str, prefixes: tuple[str, ...]) -> str | None:
    for prefix in prefixes:
        if stem.startswith(prefix) and len(stem) > len(prefix):
            return stem[len(prefix) :]
    return None


def is_chat_txt_name(name: str) -> bool:
    """A file name WhatsApp gives to the chat text of an export."""
    base = name.rsplit("/", 1)[-1]
    if base == IOS_CHAT:
        return True
    return base.lower().endswith(".txt") and _strip_prefix(base, TXT_PREFIXES) is not None


def title_from_names(txt_name: str, container_name: str | None) -> str:
    """Chat title from the chat file name and, for ``_chat.txt``, its zip or folder."""
    base = txt_name.rsplit("/", 1)[-1]
    if base != IOS_CHAT:
        stem = _strip_ext(base)
        title = _strip_prefix(stem, TXT_PREFIXES)
        if title is not None:
            return title
        if container_name is None:
            return stem
    if container_name is not None:
        stem = _strip_ext(container_name.rstrip("/").rsplit("/", 1)[-1])
        title = _strip_prefix(stem, CONTAINER_PREFIXES)
        return title if title is not None else stem
    return _strip_ext(base)


_MARKS = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)
_PHONE = re.compile(r"\+?[\d \u00a0\u202f\u2011\-().]{5,}")


def sender_id(name: str) -> str:
    """The normalised key of an author (SPEC): a phone number as ``+`` and digits;
    otherwise the name without the ``~ `` prefix and without directional marks."""
    key = name.translate(_MARKS)
    if key.startswith("~"):
        key = key[1:].lstrip(" \u202f\u00a0")
    if _PHONE.fullmatch(key):
        digits = "".join(str(int(c)) for c in key if c.isdecimal())
        if len(digits) >= 5:
            return "+" + digits
    return key
