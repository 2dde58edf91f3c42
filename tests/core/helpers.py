"""Building inputs and running the CLI for the archive and CLI tests."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds

REPO = Path(__file__).resolve().parents[2]
CANARY = "CANARY-7f3a body that must never be printed"


def android_export(path: Path, n: int, start: int = 0, *, canary: bool = False) -> Path:
    """A WhatsApp Android export (en-GB, 24 h) with ``n`` messages numbered from
    ``start``: two authors, a multi-line message every 10th, the encryption notice
    first. Message k always has the same time and text, so exports overlap exactly."""
    t0 = datetime(2024, 3, 14, 9, 0)
    lines = [
        "14/03/2024, 08:59 - Messages and calls are end-to-end encrypted. No one outside of this "
        "chat, not even WhatsApp, can read or listen to them. Tap to learn more."
    ]
    for k in range(start, start + n):
        ts = t0 + timedelta(minutes=k)
        author = "Alice Example" if k % 2 else "Bob Sample"
        body = f"message {k}" + ("\nsecond line" if k % 10 == 0 else "")
        if canary and k == start:
            body = CANARY
        lines.append(f"{ts:%d/%m/%Y, %H:%M} - {author}: {body}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_cli(
    args: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``imarchive`` in a subprocess, as cron would (no terminal)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("IMARCHIVE_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "imarchive", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )


def ingest(
    archive: Path, *paths: Path, extra: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        [
            "ingest",
            *map(str, paths),
            "--archive",
            str(archive),
            "--timezone",
            "Europe/London",
            *extra,
        ]
    )


def ingest_json(archive: Path, *paths: Path, extra: Sequence[str] = ()) -> dict[str, Any]:
    proc = ingest(archive, *paths, extra=["--json", *extra])
    assert proc.returncode in (0, 1), proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def read_rows(archive: Path) -> list[dict[str, Any]]:
    table = ds.dataset(archive / "messages", format="parquet", partitioning="hive").to_table()
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def batch_records(archive: Path) -> list[tuple[dict[str, Any], str]]:
    """(record, sha256 of the record file) for each batch, by seq."""
    out = []
    for p in sorted((archive / "_archive" / "batches").glob("*.json")):
        data = p.read_bytes()
        out.append((json.loads(data), hashlib.sha256(data).hexdigest()))
    return out


def assert_chain(archive: Path) -> None:
    prev = hashlib.sha256((archive / "_archive" / "archive.json").read_bytes()).hexdigest()
    for seq, (record, sha) in enumerate(batch_records(archive), start=1):
        assert record["seq"] == seq
        assert record["prev_sha256"] == prev
        prev = sha


def sha256sum_check(archive: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sha256sum", "-c", "--strict", "--quiet", "SHA256SUMS"],
        cwd=archive,
        capture_output=True,
        text=True,
        check=False,
    )
