"""Render benchmark results: a plain-text table, the targets of the issue, and JSON.

Nothing here measures; every figure comes from the ``Case`` records of the run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Case", "Target", "caveat", "evaluate_targets", "render", "write_json"]


@dataclass
class Case:
    case: str  # e.g. "ingest", "reingest", "peer whatstk-auto"
    tool: str  # "imarchive", a peer's name, "sha256sum"
    input: str  # what it read
    messages: int | None  # messages in the input (for ingest: messages_new reported by the tool)
    seconds: float | None  # the figure that counts (ours: wall; peers: the parse call)
    wall_seconds: float | None  # the whole child process, start to exit
    peak_rss_mb: float | None
    ok: bool
    note: str = ""
    mb: float | None = None  # bytes read, for the hashing cases (MB = 10^6 bytes)
    cpu_seconds: float | None = None  # the child's user + system CPU time
    others_cores: float | None = None  # mean CPUs other processes used meanwhile
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        """Messages per second (the hashing cases: MB per second)."""
        if not self.ok or not self.seconds:
            return None
        if self.mb is not None:
            return self.mb / self.seconds
        if self.messages is None:
            return None
        return self.messages / self.seconds


@dataclass
class Target:
    target: str
    measured: str
    ok: bool | None  # None: not measured in this run
    note: str = ""


def _find(cases: list[Case], name: str) -> Case | None:
    return next((c for c in cases if c.case == name and c.ok), None)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def peer_ratios(cases: list[Case]) -> dict[str, float | None]:
    """Our end-to-end ingest rate divided by each peer's parse rate."""
    ours = _find(cases, "ingest")
    return {
        c.tool: _ratio(ours.rate if ours else None, c.rate)
        for c in cases
        if c.case.startswith("peer ")
    }


def evaluate_targets(cases: list[Case]) -> list[Target]:
    """The issue's targets, judged on this run's figures only."""
    out: list[Target] = []
    ingest = _find(cases, "ingest")
    ratios = peer_ratios(cases)

    def fmt(x: float | None, spec: str = ".2f") -> str:
        return "n/a" if x is None else format(x, spec)

    for peer, need in (("js-parser", 1.0), ("whatstk-auto", 10.0)):
        r = ratios.get(peer)
        out.append(
            Target(
                f"ingest msg/s >= {need:g} x {peer} parse msg/s",
                f"{fmt(r)} x",
                None if r is None else r >= need,
            )
        )
    for name in ("ingest", "ingest-5m"):
        c = _find(cases, name)
        out.append(
            Target(
                f"{name}: peak RSS < 300 MB",
                f"{fmt(c.peak_rss_mb if c else None, '.0f')} MB",
                None if c is None or c.peak_rss_mb is None else c.peak_rss_mb < 300,
                "" if c else "not run (use --full for 5M)" if name == "ingest-5m" else "",
            )
        )
    re_ = _find(cases, "reingest")
    r = _ratio(re_.seconds if re_ else None, ingest.seconds if ingest else None)
    out.append(Target("re-ingest < 10 % of first ingest time", f"{fmt(r, '.1%')}", _lt(r, 0.10)))
    ov, fresh = _find(cases, "overlap"), _find(cases, "overlap-fresh")
    r = _ratio(ov.seconds if ov else None, fresh.seconds if fresh else None)
    base = ov.details.get("archive_messages") if ov else None
    base_s = "-" if base is None else f"{base:,}"
    out.append(
        Target(
            "overlap ingest proportional to the export, not the archive "
            "(criterion: <= 1.5 x the same export into an empty archive)",
            f"{fmt(r)} x (archive of {base_s} messages)",
            _le(r, 1.5),
        )
    )
    ver, sha = _find(cases, "verify"), _find(cases, "sha256sum")
    r = _ratio(ver.rate if ver else None, sha.rate if sha else None)
    out.append(Target("verify throughput >= 0.7 x sha256sum", f"{fmt(r)} x", _ge(r, 0.7)))
    wc = _find(cases, "wechat-pc3")
    out.append(
        Target(
            "wechat-pc3 >= 200,000 msg/s",
            f"{fmt(wc.rate if wc else None, ',.0f')} msg/s",
            None if wc is None or wc.rate is None else wc.rate >= 200_000,
        )
    )
    out.append(
        Target(
            "wechat-pc3 peak RSS < 300 MB",
            f"{fmt(wc.peak_rss_mb if wc else None, '.0f')} MB",
            None if wc is None or wc.peak_rss_mb is None else wc.peak_rss_mb < 300,
        )
    )
    return out


def caveat(target_messages: int, run_messages: int) -> str:
    """Said once above the verdicts when the run's size is not the targets' size."""
    if run_messages == target_messages:
        return ""
    return (
        f"(the targets are stated for {target_messages:,} messages; "
        f"this run used {run_messages:,}: verdicts for reference only)"
    )


def _lt(r: float | None, limit: float) -> bool | None:
    return None if r is None else r < limit


def _le(r: float | None, limit: float) -> bool | None:
    return None if r is None else r <= limit


def _ge(r: float | None, limit: float) -> bool | None:
    return None if r is None else r >= limit


def _cell(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def render(
    cases: list[Case], targets: list[Target], machine: dict[str, Any], heading_note: str = ""
) -> str:
    ratios = peer_ratios(cases)
    head = (
        "case",
        "messages",
        "seconds",
        "msg/s",
        "wall s",
        "peak RSS MB",
        "others",
        "ours/peer",
        "note",
    )
    rows: list[tuple[str, ...]] = []
    for c in cases:
        rate = c.rate
        if c.mb is not None:
            rate_s = "-" if rate is None else f"{rate:,.0f} MB/s"
        else:
            rate_s = _cell(rate, ",.0f")
        ratio = ratios.get(c.tool) if c.case.startswith("peer ") else None
        note = c.note if c.ok else f"FAILED: {c.note}"
        rows.append(
            (
                c.case,
                _cell(c.messages, ","),
                _cell(c.seconds, ".2f"),
                rate_s,
                _cell(c.wall_seconds, ".2f"),
                _cell(c.peak_rss_mb, ".0f"),
                _cell(c.others_cores, ".2f"),
                "-" if ratio is None else f"{ratio:.2f}x",
                note,
            )
        )
    last = len(head) - 1  # the note, left unpadded
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(last)]
    lines = []
    for r in [head, *rows]:
        cells = [r[i].ljust(widths[i]) if i == 0 else r[i].rjust(widths[i]) for i in range(last)]
        lines.append("  ".join(cells) + ("  " + r[last] if r[last] else ""))
    lines.insert(1, "-" * len(lines[0]))
    busy = [c for c in cases if (c.others_cores or 0) > 0.25]
    if busy:
        worst = max(c.others_cores or 0 for c in busy)
        lines.append(
            f"warning: other processes used up to {worst:.2f} CPUs during {len(busy)} case(s) "
            "('others' column): those figures are slower than on a quiet machine; "
            "rerun with --wait-idle 120 or when the machine is idle"
        )
    lines.append("")
    lines.append("targets (issue 7):" + (f" {heading_note}" if heading_note else ""))
    for t in targets:
        verdict = {True: "met   ", False: "MISSED", None: "n/a   "}[t.ok]
        lines.append(f"  {verdict}  {t.target}: {t.measured}" + (f"  ({t.note})" if t.note else ""))
    lines.append("")
    lines.append(
        "machine: {nproc} CPUs ({cpu_model}), {mem:.1f} GB RAM, Linux {kernel}, "
        "Python {python}, Node {node}; peak RSS via {rss_method}".format(
            mem=(machine.get("mem_total_mb") or 0) / 1000, **machine
        )
    )
    return "\n".join(lines)


def write_json(
    path: Path,
    cases: list[Case],
    targets: list[Target],
    machine: dict[str, Any],
    params: dict[str, Any],
    note: str = "",
) -> None:
    doc = {
        "machine": machine,
        "params": params,
        "cases": [{**asdict(c), "messages_per_s": c.rate if c.mb is None else None} for c in cases],
        "mb_per_s": {c.case: c.rate for c in cases if c.mb is not None},
        "ours_over_peer": peer_ratios(cases),
        "targets": [asdict(t) for t in targets],
        "targets_note": note,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)
