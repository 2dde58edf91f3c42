"""The checked-in samples parse to their golden files; the samples are what the script makes."""

from __future__ import annotations

from pathlib import Path

import pytest

from imarchive.sources.base import ReadOptions
from tests.support import candidate_for, read_all
from tests.whatsapp import goldens, make_samples
from tests.whatsapp.helpers import READER, accounted

SAMPLES = sorted(p.name for p in make_samples.OUT.iterdir()) if make_samples.OUT.exists() else []
OPTIONS = ReadOptions(timezone="Europe/London", owner="Sam Carter", custodian="Demo Custodian")


def test_samples_exist() -> None:
    assert len(SAMPLES) >= 4
    assert any(s.endswith(".zip") for s in SAMPLES)


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_golden(name: str, update_goldens: bool) -> None:
    path = make_samples.OUT / name
    assert READER.score(candidate_for(path)) >= 0.9
    msgs, ctx = read_all(READER, path, OPTIONS)
    assert ctx.report.lines_total == accounted(ctx, msgs)
    data = {
        "messages": [
            {**goldens.message_dict(m), "source_path": Path(m.source_path).name} for m in msgs
        ],
        "report": goldens.report_dict(ctx.report),
        "stored_media": sorted(ctx.media.stored),
    }
    goldens.check("sample-" + Path(name).stem.replace(" ", "_"), data, update_goldens)


def test_samples_are_reproducible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checked_in = make_samples.OUT
    monkeypatch.setattr(make_samples, "OUT", tmp_path)
    make_samples.main()
    assert sorted(p.name for p in tmp_path.iterdir()) == SAMPLES
    for name in SAMPLES:
        assert (tmp_path / name).read_bytes() == (checked_in / name).read_bytes(), name
