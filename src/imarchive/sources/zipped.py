"""Why a zip that no reader takes is refused, when it holds an input of a known format.

Only WhatsApp exports are read from inside a zip (their chat text and media are streams).
Database dumps are not: SQLite opens files, not zip members, and a dump is read in place
with its ``-wal`` files. A zip of a third-party text export (MemoTrace, PyWxDump,
WechatExporter) is not either: the file itself is the input. Both are told what to do
instead of "not recognised".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from imarchive.sources.base import Candidate, Reader
from imarchive.sources.containers import is_ignored
from imarchive.sources.whatsapp.inputs import zip_member_heads

# The database files that make a dump of each layout (formats/wechat.md).
DUMP_FILE = re.compile(
    r"(?:MSG\d+\.db|MicroMsg\.db|EnMicroMsg\.db|Manifest\.db|MM\.sqlite|message_\d+\.(?:db|sqlite)"
    r"|WCDB_Contact\.sqlite|contact\.db|Backup\.db)",
    re.IGNORECASE,
)
TEXT_SUFFIXES = (".csv", ".txt")
MAX_LISTED = 3
MAX_EXAMINED = 20  # text members whose first bytes are read (a zip may hold thousands)


def explain(candidate: Candidate, readers: Iterable[Reader], min_score: float) -> str:
    """The one-line reason a zip no reader takes is refused."""
    names = [n for n in candidate.zip_names or () if not is_ignored(n)]
    dumps = sorted({_base(n) for n in names if DUMP_FILE.fullmatch(_base(n))})
    if dumps:
        listed = ", ".join(dumps[:MAX_LISTED]) + (", …" if len(dumps) > MAX_LISTED else "")
        return (
            f"a zip holding a WeChat database dump ({listed}): databases are not read from "
            "a zip; unzip it and ingest the folder"
        )
    readers = tuple(readers)
    texts = [n for n in names if n.lower().endswith(TEXT_SUFFIXES)]
    for name, head in zip_member_heads(candidate.path, texts[:MAX_EXAMINED]):
        if not head:
            continue
        member = Candidate(Path(_base(name)), name, False, head)
        for reader in readers:
            if reader.score(member) >= min_score:
                return (
                    f"a zip holding a {reader.name} export ({name}): only WhatsApp exports "
                    "are read from a zip; unzip it and ingest the file"
                )
    return "a zip holding no WhatsApp chat text and no other known export"


def _base(name: str) -> str:
    return name.rstrip("/").rsplit("/", 1)[-1]
