"""Problem codes, the problem record, the report, and the collector that gathers
every problem before anything is reported (bagit: collect, then report)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

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
}


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
        self.items.append(Problem(code, severity, path, expected, found, message))


def short(value: object, limit: int = 300) -> str:
    """A value as compact text for ``expected``/``found`` (never message bodies)."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
