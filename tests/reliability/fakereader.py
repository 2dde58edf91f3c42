"""A tiny test-only reader, ``reltest-lines``, registered only inside child processes
(``child.py`` appends it to ``imarchive.sources.registry.READERS``).

It lets the crash and concurrency tests run on inputs whose shape they control, with no
dependency on a production reader. A file is one chat::

    #imarchive-reltest v1
    2024-05-01T10:00:00Z|alice|the body

Every line is a message or a counted rejection (guarantee 4); a file whose first line is
not the magic line is not claimed (score 0).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from imarchive.errors import SourceError
from imarchive.identity import whatsapp_id
from imarchive.model import ConversationType, Direction, Message, MessageKind, Platform
from imarchive.sources.base import Candidate, ReadContext

MAGIC = b"#imarchive-reltest v1\n"


class LinesReader:
    name = "reltest-lines"
    platform = Platform.WHATSAPP
    description = "test-only line format (reliability tests)"

    def score(self, candidate: Candidate) -> float:
        if candidate.is_dir or candidate.zip_names is not None:
            return 0.0
        return 1.0 if candidate.head.startswith(MAGIC) else 0.0

    def source_files(self, candidate: Candidate) -> list[Path]:
        return [candidate.path]

    def read(self, candidate: Candidate, ctx: ReadContext) -> Iterator[Message]:
        ref = ctx.source(candidate.path)
        conv = "reltest/" + Path(candidate.display).stem
        seen: dict[tuple[str, str, str], int] = {}
        with open(ref.staged, "rb") as fh:
            if fh.readline() != MAGIC:
                raise SourceError("not a reltest file")
            lineno = 1
            for raw in fh:
                lineno += 1
                try:
                    text = raw.decode("utf-8")
                    stamp, sender, body = text.rstrip("\n").split("|", 2)
                    sent = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                except ValueError:
                    ctx.report.reject(f"L{lineno}", "not a reltest line", 1)
                    continue
                key = (stamp, sender, body)
                n = seen.get(key, 0)
                seen[key] = n + 1
                yield Message(
                    message_id=whatsapp_id(conv, sent, sender, body, n),
                    platform=Platform.WHATSAPP,
                    source_format=self.name,
                    account_id=None,
                    custodian=ctx.options.custodian,
                    conversation_id=conv,
                    conversation_name=Path(candidate.display).stem,
                    conversation_type=ConversationType.UNKNOWN,
                    sender_id=sender,
                    sender_name=sender,
                    direction=Direction.UNKNOWN,
                    sent_at=sent,
                    sent_at_source=stamp,
                    source_timezone=None,
                    kind=MessageKind.TEXT,
                    native_type=None,
                    body=body,
                    edited=False,
                    deleted=False,
                    source_sha256=ref.sha256,
                    source_path=ref.display,
                    source_locator=f"L{lineno}",
                    raw=text,
                )
