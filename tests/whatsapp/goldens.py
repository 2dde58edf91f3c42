"""Golden files: messages and the read report as stable, readable JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from imarchive.model import Message
from imarchive.sources.base import ReadReport

GOLDEN_DIR = Path(__file__).parent / "golden"

# Fields that depend on how a chat was rendered, not on what it says.
RENDERING_FIELDS = ("raw", "source_locator", "sent_at_source", "source_sha256", "source_path")


def message_dict(m: Message, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in Message.__slots__:
        if name in drop:
            continue
        value = getattr(m, name)
        if name == "sent_at":
            value = value.isoformat()
        elif name == "attachments":
            value = [
                {
                    "name": a.name,
                    "sha256": a.sha256,
                    "size": a.size,
                    "media_type": a.media_type,
                    "status": str(a.status),
                }
                for a in value
            ]
        elif hasattr(value, "value"):
            value = str(value)
        out[name] = value
    return out


def report_dict(report: ReadReport) -> dict[str, Any]:
    return {
        "encoding": report.encoding,
        "facts": report.facts,
        "lines_total": report.lines_total,
        "lines_rejected": report.lines_rejected,
        "rejected": [[r.locator, r.reason] for r in report.rejected],
        "warnings": [[w.locator, w.code] for w in report.warnings],
    }


def check(name: str, data: object, update: bool) -> None:
    """Compare with (or, with ``--update-goldens``, rewrite) ``golden/<name>.json``."""
    path = GOLDEN_DIR / f"{name}.json"
    text = json.dumps(data, ensure_ascii=True, indent=1, sort_keys=True) + "\n"
    if update or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not update:
            raise AssertionError(f"golden file {path.name} was missing and has been written")
        return
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text)
