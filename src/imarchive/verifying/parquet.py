"""Parquet checks: the footer (default level) and every row (deep level).

Rows are streamed in record batches, so memory per file stays bounded; across the
archive only a 16-character prefix of each ``message_id`` is kept (about 20 bytes a
row) to find duplicates, which a second pass then confirms on the full ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from imarchive.archive import layout as L
from imarchive.schema import SCHEMA, SCHEMA_VERSION
from imarchive.verifying.fs import open_binary
from imarchive.verifying.problems import Value, short, summary, summary_text
from imarchive.verifying.records import parse_ts

# (code, message, expected, found) — turned into problems by the caller, in order.
Finding = tuple[str, str, Value, Value]

READ_ERRORS = (OSError, ValueError, pa.ArrowException)
BATCH_ROWS = 16_384  # bounds memory per file (raw and body columns are decoded too)
PREFIX = 16  # hex characters of message_id kept in memory: 64 bits
VERSION_KEY = b"imarchive.schema_version"


def _why(exc: BaseException) -> str:
    return short(f"{type(exc).__name__}: {exc}", 200)


def _type(t: pa.DataType) -> str:
    """A type's text without the name of a list's item field: Parquet's compliant
    nested types call it ``element`` where Arrow says ``item``."""
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        kind = "list" if pa.types.is_list(t) else "large_list"
        null = "" if t.value_field.nullable else " not null"
        return f"{kind}<{_type(t.value_type)}{null}>"
    if pa.types.is_struct(t):
        inner = ", ".join(
            f"{f.name}: {_type(f.type)}{'' if f.nullable else ' not null'}" for f in t
        )
        return f"struct<{inner}>"
    return str(t)


def _fields(schema: pa.Schema) -> list[tuple[str, str, bool]]:
    return [(f.name, _type(f.type), f.nullable) for f in schema]


EXPECTED_FIELDS = _fields(SCHEMA)


def check_footer(path: Path, rows: int | None) -> tuple[list[Finding], bool]:
    """Findings, and whether the file's schema is the archive's (deep reads need it)."""
    try:
        with open_binary(path) as fh:
            pf = pq.ParquetFile(fh)
            md, arrow = pf.metadata, pf.schema_arrow
            leaf_names = [pf.schema.column(i).path for i in range(len(pf.schema))]
    except READ_ERRORS as exc:
        return [
            ("parquet_unreadable", f"the Parquet footer cannot be read ({_why(exc)})", None, None)
        ], False
    out: list[Finding] = []
    if rows is not None and md.num_rows != rows:
        out.append(
            (
                "parquet_rows_mismatch",
                "the footer's row count differs from the batch record",
                rows,
                md.num_rows,
            )
        )
    found = _fields(arrow)
    schema_ok = found == EXPECTED_FIELDS
    want_names = [f[0] for f in EXPECTED_FIELDS]
    if not schema_ok:
        got_names = [f[0] for f in found]
        if want_names != got_names:
            # column names come from the file: only ours are shown, the others counted
            out.append(
                (
                    "parquet_schema_mismatch",
                    "the columns differ from the schema",
                    short(want_names),
                    _names_found(want_names, got_names),
                )
            )
        else:
            differ = [w for w, g in zip(EXPECTED_FIELDS, found, strict=True) if w != g]
            out.append(
                (
                    "parquet_schema_mismatch",
                    "column types differ from the schema (found: other types or nullability)",
                    short([f"{w[0]}: {w[1]}{'' if w[2] else ' not null'}" for w in differ]),
                    short([w[0] for w in differ]),
                )
            )
    # The Parquet schema itself (not only the embedded Arrow schema) must name the
    # same top-level columns: a footer edit may touch one and not the other.
    tops = list(dict.fromkeys(p.split(".")[0] for p in leaf_names))
    if schema_ok and tops != want_names:
        schema_ok = False
        out.append(
            (
                "parquet_schema_mismatch",
                "the Parquet column paths differ from the schema",
                short(want_names),
                _names_found(want_names, tops),
            )
        )
    version = (md.metadata or {}).get(VERSION_KEY)
    if version != str(SCHEMA_VERSION).encode():
        out.append(
            (
                "parquet_schema_mismatch",
                "the file's imarchive.schema_version differs",
                str(SCHEMA_VERSION),
                None if version is None else summary(version.decode("utf-8", "replace")),
            )
        )
    return out, schema_ok


def _names_found(want: list[str], got: list[str]) -> str:
    """What differs in the column names, naming only the schema's own columns."""
    missing = [n for n in want if n not in got]
    extra = sum(n not in want for n in got)
    common = [n for n in got if n in want]
    order = "" if common == [n for n in want if n in got] else "; the order differs"
    return short(f"missing {missing}; {extra} column(s) not in the schema{order}")


@dataclass
class DeepState:
    """What the deep pass accumulates across files."""

    sources: set[str]
    attachments: set[str]
    prefixes: list[pa.Array] = field(default_factory=list)
    rows: int = 0


def check_rows(
    path: Path, rel: str, seq: int, entry: L.FileEntry, state: DeepState
) -> list[Finding]:
    m = L.PARTITION.match(rel[len(L.MESSAGES) + 1 :].rpartition("/")[0])
    want_part = (m.group(1), int(m.group(2)), int(m.group(3))) if m else None
    out: list[Finding] = []
    rows = bad_part = bad_seq = 0
    first_bad: str | None = None
    lo: datetime | None = None
    hi: datetime | None = None
    sources: set[str] = set()
    stored: set[str | None] = set()
    prefixes: list[pa.Array] = []
    try:
        with open_binary(path) as fh:
            pf = pq.ParquetFile(fh, page_checksum_verification=True)
            for batch in pf.iter_batches(batch_size=BATCH_ROWS, use_threads=True):
                n = batch.num_rows
                if n == 0:
                    continue
                rows += n
                prefixes.append(pc.utf8_slice_codeunits(batch.column("message_id"), 0, PREFIX))
                sent = batch.column("sent_at")
                mm = pc.min_max(sent).as_py()
                lo = mm["min"] if lo is None or mm["min"] < lo else lo
                hi = mm["max"] if hi is None or mm["max"] > hi else hi
                if want_part is not None:
                    ok = pc.and_(
                        pc.and_(
                            pc.equal(batch.column("platform"), want_part[0]),
                            pc.equal(pc.year(sent), want_part[1]),
                        ),
                        pc.equal(pc.month(sent), want_part[2]),
                    )
                    bad = n - int(pc.sum(pc.cast(pc.fill_null(ok, False), pa.int64())).as_py() or 0)
                    if bad and first_bad is None:
                        idx = pc.index(pc.fill_null(ok, False), False).as_py()
                        at = sent[idx].as_py()
                        first_bad = (
                            f"row {rows - n + idx}: platform="
                            f"{summary_text(batch.column('platform')[idx].as_py())} sent_at="
                            f"{'null' if at is None else at.isoformat()}"
                        )
                    bad_part += bad
                bad_seq += n - int(
                    pc.sum(pc.cast(pc.equal(batch.column("batch_seq"), seq), pa.int64())).as_py()
                    or 0
                )
                sources.update(pc.unique(batch.column("source_sha256")).to_pylist())
                flat = pc.list_flatten(batch.column("attachments"))
                if len(flat):
                    is_stored = pc.fill_null(pc.equal(flat.field("status"), "stored"), False)
                    stored.update(pc.unique(pc.filter(flat.field("sha256"), is_stored)).to_pylist())
    except READ_ERRORS as exc:
        out.append(
            (
                "parquet_unreadable",
                f"rows cannot be read after {rows} rows ({_why(exc)})",
                None,
                None,
            )
        )
        return out
    state.rows += rows
    if prefixes:
        state.prefixes.append(pa.concat_arrays(prefixes))
    if entry.rows is not None and rows != entry.rows:
        out.append(
            (
                "parquet_rows_mismatch",
                "the rows read differ from the batch record",
                entry.rows,
                rows,
            )
        )
    if bad_part:
        out.append(
            (
                "partition_mismatch",
                f"{bad_part} rows do not belong in this partition (first: {first_bad})",
                rel.rpartition("/")[0],
                bad_part,
            )
        )
    if bad_seq:
        out.append(("batch_seq_mismatch", f"{bad_seq} rows carry another batch_seq", seq, bad_seq))
    for key, value in (("min_sent_at", lo), ("max_sent_at", hi)):
        recorded = parse_ts(getattr(entry, key))
        # None: the batch record is unusable (named as such); its files are listed from
        # the manifest, which records no range
        if rows and recorded is not None and value != recorded:
            out.append(
                (
                    "sent_at_range_mismatch",
                    f"{key} of the rows differs from the batch record",
                    summary(getattr(entry, key)),
                    None if value is None else value.isoformat(),
                )
            )
    for sha in sorted((s for s in sources if s not in state.sources), key=str):
        out.append(
            (
                "source_missing",
                "rows point to a source the archive does not hold",
                None,
                summary(sha),
            )
        )
    for att in sorted((s for s in stored if s not in state.attachments), key=str):
        out.append(
            (
                "attachment_missing",
                "rows point to a stored attachment the archive does not hold",
                None,
                summary(att),
            )
        )
    return out


def duplicate_prefixes(state: DeepState) -> set[str]:
    if not state.prefixes:
        return set()
    counts = pc.value_counts(pa.chunked_array(state.prefixes, pa.string()))
    dup = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    return {str(v) for v in dup.to_pylist()}


def find_duplicates(files: list[tuple[str, Path]], prefixes: set[str]) -> dict[str, list[str]]:
    """message_id → the files holding it, for ids whose prefix occurs more than once."""
    seen: dict[str, list[str]] = {}
    wanted = pa.array(sorted(prefixes), pa.string())
    for rel, path in files:
        try:
            with open_binary(path) as fh:
                for batch in pq.ParquetFile(fh).iter_batches(BATCH_ROWS, columns=["message_id"]):
                    ids = batch.column(0)
                    hit = pc.is_in(pc.utf8_slice_codeunits(ids, 0, PREFIX), value_set=wanted)
                    for mid in pc.filter(ids, hit).to_pylist():
                        seen.setdefault(str(mid), []).append(rel)
        except READ_ERRORS:
            continue  # already reported by the first pass
    return {mid: where for mid, where in seen.items() if len(where) > 1}
