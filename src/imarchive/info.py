"""What an archive holds: totals by platform, conversation and month, and the head."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from imarchive.archive import layout as L
from imarchive.archive.store import Archive


def archive_info(root: Path) -> dict[str, Any]:
    """Summarise the committed state (the manifest's file list, so leftovers of an
    interrupted run are never counted)."""
    archive = Archive.open(root)
    batches = archive.batches()
    seq, sha = archive.head(batches)
    by_platform: dict[str, int] = {}
    by_conversation: dict[tuple[str, str], dict[str, Any]] = {}
    by_month: dict[str, int] = {}
    files = [f for b in batches for f in b.files if f.kind == "messages"]
    cols = ["platform", "conversation_id", "conversation_name", "sent_at"]
    for f in files:
        table = pq.read_table(root / f.path, columns=cols)
        month = pc.strftime(table.column("sent_at"), format="%Y-%m")
        for key, count in _counts(table.column("platform")).items():
            by_platform[key] = by_platform.get(key, 0) + count
        for key, count in _counts(month).items():
            by_month[key] = by_month.get(key, 0) + count
        grouped = table.group_by(["platform", "conversation_id"]).aggregate(
            [
                ("sent_at", "min"),
                ("sent_at", "max"),
                ("sent_at", "count"),
                ("conversation_name", "max"),
            ]
        )
        for row in grouped.to_pylist():
            k = (row["platform"], row["conversation_id"])
            cur = by_conversation.setdefault(
                k,
                {
                    "platform": k[0],
                    "conversation_id": k[1],
                    "conversation_name": None,
                    "messages": 0,
                    "first": None,
                    "last": None,
                },
            )
            cur["messages"] += row["sent_at_count"]
            cur["conversation_name"] = cur["conversation_name"] or row["conversation_name_max"]
            lo, hi = row["sent_at_min"].isoformat(), row["sent_at_max"].isoformat()
            cur["first"] = lo if cur["first"] is None else min(cur["first"], lo)
            cur["last"] = hi if cur["last"] is None else max(cur["last"], hi)
    manifest: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        manifest = json.loads((root / L.MANIFEST_JSON).read_bytes())
    totals = dict(manifest.get("totals", {}))
    totals["messages"] = sum(by_platform.values())
    totals["batches"] = len(batches)
    return {
        "archive": str(root),
        "archive_id": archive.identity.get("archive_id"),
        "format_version": archive.identity.get("format_version"),
        "schema_version": archive.identity.get("schema_version"),
        "head": {"seq": seq, "sha256": sha},
        "totals": totals,
        "by_platform": dict(sorted(by_platform.items())),
        "by_conversation": sorted(
            by_conversation.values(), key=lambda c: (c["platform"], c["conversation_id"])
        ),
        "by_month": dict(sorted(by_month.items())),
    }


def _counts(arr: pa.ChunkedArray | pa.Array) -> dict[str, int]:
    vc = pc.value_counts(arr)
    return {str(v["values"]): int(v["counts"]) for v in vc.to_pylist()}
