"""Where everything lives in an archive (format version 1), and how its JSON
records are read. The SPEC's "The archive on disk" section is the reference.

```
ARCHIVE/
  messages/platform=P/year=YYYY/month=MM/part-<seq:08d>-<batch12>-<n:04d>.parquet
  attachments/<sha[:2]>/<sha>
  sources/<sha[:2]>/<sha>
  _archive/archive.json            identity (genesis of the hash chain)
  _archive/batches/<seq:08d>.json  one immutable record per committed batch
  _archive/manifest.json           current state, derived from all batch records
  _archive/quarantine/<seq:08d>/…  leftovers of interrupted batches, set aside by batch <seq>
  _archive/lock                    writer lock (not content)
  _archive/txn/<batch_id>/         in-flight batch: intent.json + stage/ (not content)
  SHA256SUMS
```
The chain: batch 1's ``prev_sha256`` is the sha256 of ``archive.json``; batch N's is
the sha256 of batch N-1's record file. The head is the sha256 of the newest record.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

FORMAT = "imarchive"
FORMAT_VERSION = 1

MESSAGES = "messages"
ATTACHMENTS = "attachments"
SOURCES = "sources"
META = "_archive"
ARCHIVE_JSON = f"{META}/archive.json"
MANIFEST_JSON = f"{META}/manifest.json"
BATCHES = f"{META}/batches"
QUARANTINE = f"{META}/quarantine"
LOCK = f"{META}/lock"
LOCK_OWNER = f"{LOCK}/owner.json"
TXN = f"{META}/txn"
SHA256SUMS = "SHA256SUMS"

# Relative paths (and their prefixes) that are not archive content.
NOT_CONTENT = (LOCK, TXN)

# Temp files of fsio.write_atomic / fsio.temp_name: ".tmp-<32 hex>-<final name>.part"
TEMP_NAME = re.compile(r"^\.tmp-[0-9a-f]{32}-.*\.part$")
BATCH_NAME = re.compile(r"^(\d{8})\.json$")
PART_NAME = re.compile(r"^part-(\d{8})-([0-9a-f]{12})-(\d{4})\.parquet$")
PARTITION = re.compile(r"^platform=([a-z]+)/year=(\d{4})/month=(\d{2})$")


def batch_path(seq: int) -> str:
    return f"{BATCHES}/{seq:08d}.json"


def part_path(partition: str, seq: int, batch_id: str, n: int) -> str:
    return f"{MESSAGES}/{partition}/part-{seq:08d}-{batch_id[:12]}-{n:04d}.parquet"


def content_path(kind: str, sha256: str) -> str:
    """``sources/ab/ab…`` or ``attachments/ab/ab…``."""
    return f"{kind}/{sha256[:2]}/{sha256}"


def quarantine_path(seq: int, original: str) -> str:
    return f"{QUARANTINE}/{seq:08d}/{original}"


def txn_dir(batch_id: str) -> str:
    return f"{TXN}/{batch_id}"


def is_not_content(rel: str) -> bool:
    return any(rel == p or rel.startswith(p + "/") for p in NOT_CONTENT)


def dumps(obj: Any) -> bytes:
    """Canonical JSON bytes for records: sorted keys, UTF-8, one trailing newline."""
    return (json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


@dataclass(frozen=True)
class FileEntry:
    """One committed file as a batch record lists it."""

    path: str
    kind: str  # "messages" | "source" | "attachment" | "quarantine"
    sha256: str
    size: int
    rows: int | None = None
    min_sent_at: str | None = None
    max_sent_at: str | None = None
    partition: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "kind": self.kind,
            "sha256": self.sha256,
            "size": self.size,
        }
        if self.kind == "messages":
            out |= {
                "rows": self.rows,
                "min_sent_at": self.min_sent_at,
                "max_sent_at": self.max_sent_at,
                "partition": self.partition,
            }
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FileEntry:
        return cls(
            path=d["path"],
            kind=d["kind"],
            sha256=d["sha256"],
            size=int(d["size"]),
            rows=d.get("rows"),
            min_sent_at=d.get("min_sent_at"),
            max_sent_at=d.get("max_sent_at"),
            partition=d.get("partition"),
        )
