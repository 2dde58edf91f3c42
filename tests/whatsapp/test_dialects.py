"""One ground-truth chat, rendered in every dialect, parses to ONE golden output."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.whatsapp import goldens
from tests.whatsapp.helpers import accounted, read_text
from tests.whatsapp.render import DIALECTS, GROUND_TRUTH, render


def test_enough_dialects() -> None:
    assert len(DIALECTS) >= 12


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_every_dialect_parses_to_the_one_golden(
    tmp_path: Path, dialect: object, update_goldens: bool
) -> None:
    from tests.whatsapp.render import Dialect

    assert isinstance(dialect, Dialect)
    text = render(GROUND_TRUTH, dialect)
    msgs, ctx = read_text(tmp_path, text, owner="Alice", custodian="c")
    assert ctx.report.rejected == []
    assert ctx.report.lines_total == accounted(ctx, msgs)
    assert ctx.report.facts["date_order_assumed"] is False
    data = [goldens.message_dict(m, goldens.RENDERING_FIELDS) for m in msgs]
    # only the first dialect may rewrite the golden: every other one compares with it
    goldens.check("dialects-ground-truth", data, update_goldens and dialect is DIALECTS[0])
