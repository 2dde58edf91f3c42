"""The explicit registry of source readers and scored detection (pygments ``guess_lexer``)."""

from __future__ import annotations

from dataclasses import dataclass

from imarchive.errors import SourceError
from imarchive.sources import wechat, whatsapp, zipped
from imarchive.sources.base import Candidate, Reader

READERS: tuple[Reader, ...] = (*whatsapp.READERS, *wechat.READERS)

# A reader must be at least this sure; below it the input is "not a known format".
MIN_SCORE = 0.2


@dataclass(frozen=True)
class Detection:
    reader: Reader
    score: float


def by_name(name: str) -> Reader:
    for reader in READERS:
        if reader.name == name:
            return reader
    raise KeyError(name)


def format_names() -> list[str]:
    return [r.name for r in READERS]


def detect(candidate: Candidate, forced: str | None = None) -> Detection:
    """The best reader for the candidate; ``SourceError`` when none is sure enough or
    two are equally sure."""
    if forced and forced != "auto":
        reader = by_name(forced)
        return Detection(reader, reader.score(candidate))
    scored = sorted(
        ((r.score(candidate), i, r) for i, r in enumerate(READERS)),
        key=lambda t: (-t[0], t[1]),
    )
    best_score, _, best = scored[0]
    if best_score < MIN_SCORE:
        for reader in READERS:  # a reader may know the look-alike of its format
            explain = getattr(reader, "explain", None)
            reason = explain(candidate) if explain is not None else None
            if reason:
                raise SourceError(reason)
        if candidate.zip_names is not None:
            raise SourceError(zipped.explain(candidate, READERS, MIN_SCORE))
        if not candidate.is_dir and not candidate.head:
            raise SourceError("empty file (0 bytes)")
        raise SourceError("not a recognised chat export or backup (see `imarchive formats`)")
    if len(scored) > 1 and scored[1][0] == best_score:
        raise SourceError(
            f"ambiguous format: {best.name} and {scored[1][2].name} are equally likely; "
            "choose one with --format"
        )
    return Detection(best, best_score)
