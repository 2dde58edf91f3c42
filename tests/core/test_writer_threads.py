"""The batch writer adds chunks on its own thread: an error there fails the input it
belongs to (in ``add_table`` or ``end_input``), no later chunk of that input is added, and
the next input starts afresh."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from imarchive.archive import store
from imarchive.archive.writer import ArchiveWriteSkipped, BatchWriter
from imarchive.model import ConversationType, Direction, Message, MessageKind, Platform
from imarchive.schema import to_table


def rows_table(n: int, start: int) -> pa.Table:
    """``n`` distinct messages of one chat, a minute apart from minute ``start``."""
    return to_table(
        [
            Message(
                message_id=hashlib.sha256(b"%d" % (start + i)).hexdigest(),
                platform=Platform.WHATSAPP,
                source_format="whatsapp-txt",
                account_id=None,
                custodian=None,
                conversation_id="/chat",
                conversation_name="chat",
                conversation_type=ConversationType.DIRECT,
                sender_id="Ann",
                sender_name="Ann",
                direction=Direction.UNKNOWN,
                sent_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=start + i),
                sent_at_source="",
                source_timezone="UTC",
                kind=MessageKind.TEXT,
                native_type=None,
                body=f"message {start + i}",
                edited=False,
                deleted=False,
            )
            for i in range(n)
        ]
    )


class Boom(RuntimeError):
    pass


def _writer(tmp_path: Path) -> BatchWriter:
    root = tmp_path / "archive"
    store.create(root)
    archive = store.Archive.open(root)
    return BatchWriter(archive, archive.batches(), tmp_path / "staging", datetime.now(UTC))


def test_a_failed_chunk_fails_its_input_and_stops_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = _writer(tmp_path)
    seen: list[int] = []
    real = BatchWriter._add_table

    def add(self: BatchWriter, stage: object, rows: pa.Table) -> None:
        assert threading.current_thread() is not threading.main_thread()
        seen.append(rows.num_rows)
        if rows.num_rows == 2:
            raise Boom("chunk 2")
        real(self, stage, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(BatchWriter, "_add_table", add)
    writer.begin_input()
    errors: list[BaseException] = []
    for n in (1, 2, 3, 4, 5):
        try:
            writer.add_table(rows_table(n, start=10 * n))
        except (Boom, ArchiveWriteSkipped) as exc:  # whichever call meets it first
            errors.append(exc)
    with pytest.raises(Boom):  # the failure itself, never "an earlier chunk failed"
        writer.end_input(True)
    assert all(isinstance(e, Boom) for e in errors)
    assert seen == [1, 2]  # no chunk of the input was added after the failure
    # the next input is added normally and kept
    writer.begin_input()
    writer.add_table(rows_table(6, start=100))
    assert writer.end_input(True) == (6, 0)
    writer.discard()
