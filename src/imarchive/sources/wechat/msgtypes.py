"""WeChat message type codes -> kinds, and the readable body of XML messages.

Base codes are shared by all platforms (formats/wechat.md "Common facts"); type 49 is an
app message whose real kind is ``<appmsg><type>``; Android packs composite 32-bit codes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from imarchive.model import MessageKind as K

BASE_KINDS: dict[int, K] = {
    1: K.TEXT,
    3: K.IMAGE,
    34: K.VOICE,
    37: K.SYSTEM,  # friend request: a notice, not a conversation message
    42: K.CONTACT,
    43: K.VIDEO,
    47: K.STICKER,
    48: K.LOCATION,
    50: K.CALL,
    62: K.VIDEO,  # short video
    64: K.CALL,  # group call notice
    10000: K.SYSTEM,
    10002: K.SYSTEM,
}

APP_KINDS: dict[int, K] = {
    1: K.TEXT,
    3: K.AUDIO,  # music share
    4: K.VIDEO,
    5: K.LINK,
    6: K.DOCUMENT,
    8: K.STICKER,
    17: K.LOCATION,  # live location
    19: K.TEXT,  # forwarded chat record: its title and summary are the readable text
    33: K.LINK,  # mini-program
    36: K.LINK,
    50: K.VIDEO,  # Channels
    51: K.VIDEO,
    57: K.QUOTE,
    62: K.SYSTEM,  # "pat"
    2000: K.TRANSFER,
    2001: K.RED_ENVELOPE,
}

# Android composite codes whose low 16 bits alone would mislead (formats/wechat.md, Android).
ANDROID_CODES: dict[int, tuple[int, int | None]] = {
    822083633: (49, 57),
    1090519089: (49, 6),
    419430449: (49, 2000),
    436207665: (49, 2001),
    268445456: (10000, None),
    285222674: (10002, None),
    268445458: (10002, None),
    -1879048186: (49, 17),
}

SYSTEM_TYPES = frozenset({37, 10000, 10002})
# Base types whose message is a file of the dump (image, voice, video, short video); of the
# app messages only the file (6) is. Links to videos (4) and Channels posts (50, 51) are
# kind video but refer to no file: they get no attachment, not a "missing" one.
MEDIA_TYPES = frozenset({3, 34, 43, 62})


@dataclass(slots=True)
class Interpreted:
    kind: K
    native_type: str | None
    body: str | None
    deleted: bool = False
    reply_to: str | None = None
    system: bool = False
    file_name: str | None = None
    media: bool = False  # refers to a file of the dump (an attachment, present or missing)


def _parse(content: str) -> ET.Element | None:
    start = content.find("<")
    if start < 0:
        return None
    try:
        return ET.fromstring(content[start:].rstrip("\x00"))
    except ET.ParseError:
        return None


def _grandchild(el: ET.Element | None, child: str, name: str) -> ET.Element | None:
    """``el.find("child/name")`` without ElementPath."""
    if el is None:
        return None
    for sub in el:
        if sub.tag == child:
            found = sub.find(name)
            if found is not None:
                return found
    return None


def _text(el: ET.Element | None, path: str | None = None) -> str | None:
    """The stripped text of ``el.find(path)`` (of ``el`` itself without a path)."""
    if el is None:
        return None
    found = el.find(path) if path is not None else el
    if found is None or found.text is None:
        return None
    text = found.text.strip()
    return text or None


def _join(*parts: str | None) -> str | None:
    kept = [p for p in parts if p]
    return "\n".join(kept) if kept else None


def app_subtype(content: str) -> int | None:
    root = _parse(content)
    sub = _text(root, ".//appmsg/type") if root is not None else None
    if sub is None and root is not None and root.tag == "appmsg":
        sub = _text(root, "type")
    try:
        return int(sub) if sub is not None else None
    except ValueError:
        return None


def interpret(
    base: int,
    content: str,
    *,
    subtype: int | None = None,
    native_type: str | None = None,
) -> Interpreted:
    """Kind, body and recall facts of one message. ``content`` has any group prefix
    removed; ``subtype`` is the layout's own appmsg subtype when it stores one."""
    if base == 49:
        return _app(content, subtype, native_type)
    nt = native_type if native_type is not None else str(base)
    kind = BASE_KINDS.get(base)
    if kind is None:
        return Interpreted(K.UNKNOWN, nt, content)
    if base == 1:
        return Interpreted(kind, nt, content)
    if base == 10000:
        # Windows 3.x recalls: `<revokemsg>"X" 撤回了一条消息</revokemsg>`, no message id.
        if "<revokemsg>" in content:
            root = _parse(content)
            body = root.text if root is not None and root.tag == "revokemsg" else content
            return Interpreted(kind, nt, body, deleted=True, system=True)
        # Android 268445456: a recall as plain text.
        return Interpreted(kind, nt, content, deleted=native_type == "268445456", system=True)
    root = _parse(content)
    if base == 10002:
        return _sysmsg(root, nt, content)
    if base == 37:
        body = root.get("content") if root is not None else None
        return Interpreted(kind, nt, body, system=True)
    if base == 42:
        return Interpreted(kind, nt, root.get("nickname") if root is not None else None)
    if base == 48:
        loc = root.find(".//location") if root is not None else None
        if loc is None and root is not None and root.tag == "location":
            loc = root
        body = _join(loc.get("poiname"), loc.get("label")) if loc is not None else None
        return Interpreted(kind, nt, body)
    if base == 50:
        return Interpreted(kind, nt, _text(root, ".//msg") if root is not None else None)
    if base == 64:
        return Interpreted(kind, nt, content if root is None else _join(*root.itertext()))
    return Interpreted(kind, nt, None, media=base in MEDIA_TYPES)


def _sysmsg(root: ET.Element | None, nt: str, content: str) -> Interpreted:
    if root is None:
        return Interpreted(K.SYSTEM, nt, content or None, system=True)
    if root.get("type") == "revokemsg":
        newid = _text(root, ".//newmsgid")
        return Interpreted(
            K.SYSTEM,
            nt,
            _text(root, ".//replacemsg"),
            deleted=True,
            reply_to=newid,
            system=True,
        )
    return Interpreted(K.SYSTEM, nt, _text(root, ".//replacemsg"), system=True)


def _app(content: str, subtype: int | None, native_type: str | None) -> Interpreted:
    root = _parse(content)
    app = None
    if root is not None:
        # = root.find(".//appmsg") (the first descendant in document order), in C
        app = root if root.tag == "appmsg" else next(root.iter("appmsg"), None)
    sub = subtype
    if app is not None and (sub is None or sub == 0):
        try:
            sub = int(_text(app, "type") or "")
        except ValueError:
            sub = None
    nt = native_type if native_type is not None else f"49/{sub if sub is not None else ''}"
    kind = APP_KINDS.get(sub, K.UNKNOWN) if sub is not None else K.UNKNOWN
    title = _text(app, "title")
    des = _text(app, "des")
    url = _text(app, "url")
    if kind is K.QUOTE:
        return Interpreted(kind, nt, title, reply_to=_text(_grandchild(app, "refermsg", "svrid")))
    if kind is K.DOCUMENT:
        return Interpreted(kind, nt, title, file_name=title, media=True)
    if kind in (K.TRANSFER, K.RED_ENVELOPE):
        return Interpreted(kind, nt, _join(title, des))
    if kind is K.SYSTEM:
        return Interpreted(kind, nt, title, system=True)
    if app is None:
        return Interpreted(kind, nt, content or None)
    return Interpreted(kind, nt, _join(title, des, url))
