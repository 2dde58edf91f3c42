"""Problem codes, the problem record, the report, and the collector that gathers
every problem before anything is reported (bagit: collect, then report)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from imarchive.archive import layout as L

Severity = Literal["error", "warning"]
Value = str | int | None

# Stable codes: scripts and the README depend on them. Add codes; never rename one.
CODES: dict[str, tuple[Severity, str]] = {
    "archive_json_invalid": ("error", "archive.json is missing, unreadable or inconsistent"),
    "batch_record_invalid": ("error", "a batch record is unreadable or breaks the record format"),
    "batch_seq_gap": ("error", "batch record numbers are not 1, 2, 3, … without a gap"),
    "chain_broken": ("error", "a batch record's prev_sha256 is not the sha256 of its predecessor"),
    "head_not_found": ("error", "--expect-head is not the sha256 of any batch record of the chain"),
    "manifest_missing": ("error", "_archive/manifest.json is missing"),
    "manifest_mismatch": ("error", "manifest.json differs from the one the batch records derive"),
    "sums_missing": ("error", "SHA256SUMS is missing"),
    "sums_mismatch": ("error", "a SHA256SUMS line is missing, extra or different"),
    "file_missing": ("error", "a committed file is not in the archive"),
    "not_a_regular_file": ("error", "a committed path is a symlink, folder or special file"),
    "file_unreadable": ("error", "a file or folder of the archive cannot be read"),
    "size_mismatch": ("error", "a committed file's size differs from its batch record"),
    "hash_mismatch": ("error", "a committed file's sha256 differs from its batch record"),
    "unexpected_file": ("error", "a file that no batch record names (added, renamed or moved)"),
    "parquet_unreadable": ("error", "a Parquet file's footer or pages cannot be read"),
    "parquet_schema_mismatch": (
        "error",
        "a Parquet file's columns, types or schema version are wrong",
    ),
    "parquet_rows_mismatch": ("error", "a Parquet file's row count differs from its batch record"),
    "duplicate_message_id": ("error", "a message_id occurs more than once in the archive"),
    "partition_mismatch": ("error", "rows or a file sit in a partition their values contradict"),
    "batch_seq_mismatch": ("error", "a file's rows or name carry another batch_seq than its batch"),
    "sent_at_range_mismatch": ("error", "a file's min/max sent_at differ from its batch record"),
    "source_missing": ("error", "rows point to a source (source_sha256) the archive does not hold"),
    "attachment_missing": ("error", "rows point to a stored attachment the archive does not hold"),
    "source_not_kept": (
        "warning",
        "a file a batch record lists as a source of an ingested input is not in sources/",
    ),
    "leftover_published": (
        "warning",
        "a file published by an interrupted ingest (named by its intent record)",
    ),
    "leftover_temp": ("warning", "a temporary file left by an interrupted ingest"),
    "commit_incomplete": (
        "warning",
        "the newest batch is committed but its commit did not finish (next ingest completes it)",
    ),
    "transient_nfs_file": ("warning", "an NFS .nfsXXXX file (an open file deleted over NFS)"),
    "unexpected_folder": (
        "error",
        "a folder named like a Parquet file that no batch record names (readers trip over it)",
    ),
    "empty_folder": (
        "warning",
        "an empty folder the layout does not need (added, or left by a crash); harmless",
    ),
    "os_metadata_file": (
        "warning",
        "a file a Mac, Windows or NAS leaves in a folder it shows (.DS_Store, ._name, "
        "Thumbs.db, @eaDir/); not archive content, no reader takes it",
    ),
}


# What a running ingest has under _archive/txn before its commit ends: not leftovers while
# it runs. Files it published (in messages/, seen by readers) are still reported.
IN_FLIGHT = frozenset({"leftover_temp", "commit_incomplete"})


def codes_table() -> str:
    """The codes as a Markdown table, for the README."""
    lines = ["| code | severity | meaning |", "|---|---|---|"]
    lines += [f"| `{code}` | {sev} | {text} |" for code, (sev, text) in CODES.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Problem:
    code: str
    severity: Severity
    path: str | None
    expected: Value
    found: Value
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "path": self.path,
            "expected": self.expected,
            "found": self.found,
            "message": self.message,
        }


@dataclass
class VerifyReport:
    archive: str
    level: str
    ok: bool
    head: dict[str, Any] | None
    problems: list[Problem]
    checked: dict[str, int] = field(default_factory=dict)
    # the writer lock's owner while an ingest runs (host, pid, started); its unfinished
    # files are not reported as leftovers
    running_ingest: dict[str, Any] | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def codes(self) -> set[str]:
        return {p.code for p in self.problems}

    def to_json(self) -> dict[str, Any]:
        return {
            "archive": self.archive,
            "level": self.level,
            "ok": self.ok,
            "head": self.head,
            "problems": [p.to_json() for p in self.problems],
            "checked": dict(self.checked),
            "running_ingest": self.running_ingest,
        }


class Problems:
    """Collects problems; the severity comes from ``CODES``."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(
        self,
        code: str,
        path: str | None,
        message: str,
        expected: Value = None,
        found: Value = None,
    ) -> None:
        severity, _ = CODES[code]
        self.items.append(
            Problem(
                code,
                severity,
                None if path is None else printable(path),
                _printable_value(expected),
                _printable_value(found),
                printable(message),
            )
        )


def short(value: object, limit: int = 300) -> str:
    """One of verify's own values (or a validated path or hash) as compact text for
    ``expected``/``found``. Never for what a file says: use ``summary`` for that."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- what may be shown of a file's contents ---------------------------------------------
#
# verify reads damaged files: a chat export copied over SHA256SUMS, free text planted in
# a record. Chat text is regulated data (SPEC: errors carry paths, line numbers, counts
# and ids only), so nothing read from a file is shown unless it was validated as a hash,
# a count, a timestamp or an archive path; anything else is shown as its length and
# sha256. Everything a problem carries is also made printable (no control characters,
# no raw bytes of an undecodable file name) before it can reach a terminal.

HEX = re.compile(r"^[0-9a-fA-F]{1,128}$")
TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?$"
)
PATH_PART = re.compile(r"^[A-Za-z0-9._=+@,~-]+$")
ARCHIVE_TOPS = (L.MESSAGES, L.SOURCES, L.ATTACHMENTS, L.META)
IDENT_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Words of the format's own vocabulary, shown as they are where a value differs.
VOCABULARY = frozenset(
    {
        "imarchive",
        "imarchive-batch",
        "imarchive-manifest",
        "messages",
        "source",
        "attachment",
        "quarantine",
        "whatsapp",
        "wechat",
        "ingested",
        "already_ingested",
        "rejected",
    }
)


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\x1b``, ``\\u202e``);
    the bytes of an undecodable file name (surrogate escapes) as ``\\xNN``."""
    if text.isprintable():
        return text
    out: list[str] = []
    for ch in text:
        n = ord(ch)
        if ch.isprintable():
            out.append(ch)
        elif 0xDC80 <= n <= 0xDCFF:  # os.fsdecode's escape of an undecodable byte
            out.append(f"\\x{n - 0xDC00:02x}")
        elif n < 0x100:
            out.append(f"\\x{n:02x}")
        elif n < 0x10000:
            out.append(f"\\u{n:04x}")
        else:
            out.append(f"\\U{n:08x}")
    return "".join(out)


def _printable_value(value: Value) -> Value:
    return printable(value) if isinstance(value, str) else value


def safe_path(value: object, limit: int = 1024) -> bool:
    """A relative ``/`` path of the archive's own alphabet: no ``..``, no absolute, no
    empty part, no space or control character. Every path the layout makes is one;
    chat text (words and spaces) is not."""
    if not isinstance(value, str) or not value or len(value) > limit:
        return False
    return all(part not in (".", "..") and PATH_PART.fullmatch(part) for part in value.split("/"))


def archive_path(value: object) -> bool:
    """A safe path under one of the archive's top-level folders (or SHA256SUMS)."""
    return safe_path(value) and (
        value == L.SHA256SUMS or str(value).split("/", 1)[0] in ARCHIVE_TOPS
    )


def digest(data: bytes | str) -> str:
    return hashlib.sha256(
        data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    ).hexdigest()


def redacted(kind: str, data: bytes | str) -> str:
    """``text of 42 chars, sha256 1a2b…``: what stands for a value that is not shown."""
    unit = "bytes" if isinstance(data, bytes) else "chars"
    return f"{kind} of {len(data)} {unit}, sha256 {digest(data)[:16]}"


def _shown(value: object, allowed: frozenset[str]) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return True
    if isinstance(value, str):
        return (
            value in allowed
            or bool(HEX.fullmatch(value))
            or bool(TIMESTAMP.fullmatch(value))
            or archive_path(value)
            or bool(L.PARTITION.fullmatch(value))
        )
    if isinstance(value, list):
        return all(_shown(v, allowed) for v in value)
    if isinstance(value, dict):
        return all(
            isinstance(k, str) and (k in allowed or IDENT_KEY.fullmatch(k)) and _shown(v, allowed)
            for k, v in value.items()
        )
    return False


def summary(value: object, allowed: frozenset[str] = VOCABULARY) -> Value:
    """A value read from a file, for ``expected``/``found``: shown as it is when it is a
    count, a hash, a timestamp, an archive path or one of ``allowed`` (or a JSON
    structure of only those); otherwise only its kind, length and sha256."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if _shown(value, allowed):
        return short(value)
    if isinstance(value, str):
        return redacted("text", value)
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    kind = (
        "JSON object"
        if isinstance(value, dict)
        else "JSON array"
        if isinstance(value, list)
        else "JSON value"
    )
    return redacted(kind, text)


def summary_text(value: object, allowed: frozenset[str] = VOCABULARY) -> str:
    """``summary`` for use inside a message."""
    shown = summary(value, allowed)
    return "null" if shown is None else str(shown)
