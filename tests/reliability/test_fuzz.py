"""Guarantees 4 and 6 under fuzzing: sample exports mutated by hypothesis (byte flips,
truncation, line shuffles, random Unicode) are fed to every registered reader, and to the
whole pipeline. The only outcomes allowed are messages or a one-line ``SourceError``
rejection: never another exception, a hang, or a partially written batch."""

from __future__ import annotations

import random
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imarchive.errors import SourceError
from imarchive.ingest import IngestOptions, ingest
from imarchive.inputs import make_candidate
from imarchive.sources import registry
from imarchive.sources.base import ReadOptions
from tests.reliability import harness as H
from tests.support import DirectContext

SAMPLES = H.REPO / "samples"
WA_TEXTS = sorted((SAMPLES / "whatsapp").glob("*.txt"))
WA_ZIPS = sorted((SAMPLES / "whatsapp").glob("*.zip"))
PC3 = SAMPLES / "wechat" / "WeChat Files" / "wxid_owner01"
PC3_FILES = sorted(p.relative_to(PC3) for p in PC3.rglob("*") if p.is_file())
OPTIONS = ReadOptions(timezone="UTC", date_order="dmy")
HANG_SECONDS = 20  # one example; readers of these small inputs take milliseconds
DEFAULT, STRESS = 60, 600


class Hang(BaseException):
    pass


@contextmanager
def no_hang(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Fail an example that runs longer than ``seconds`` (a loop that never ends)."""

    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no outcome after {seconds}s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# -- mutations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flip:
    at: float
    xor: int

    def apply(self, data: bytes) -> bytes:
        if not data:
            return data
        i = int(self.at * (len(data) - 1))
        return data[:i] + bytes([data[i] ^ self.xor]) + data[i + 1 :]


@dataclass(frozen=True)
class Truncate:
    at: float

    def apply(self, data: bytes) -> bytes:
        return data[: int(self.at * len(data))]


@dataclass(frozen=True)
class Shuffle:
    seed: int

    def apply(self, data: bytes) -> bytes:
        lines = data.split(b"\n")
        random.Random(self.seed).shuffle(lines)
        return b"\n".join(lines)


@dataclass(frozen=True)
class Insert:
    at: float
    text: str

    def apply(self, data: bytes) -> bytes:
        i = int(self.at * len(data))
        return data[:i] + self.text.encode("utf-8", "surrogatepass") + data[i:]


FRACTION = st.floats(min_value=0.0, max_value=1.0)
MUTATION = st.one_of(
    st.builds(Flip, FRACTION, st.integers(1, 255)),
    st.builds(Truncate, FRACTION),
    st.builds(Shuffle, st.integers(0, 2**32)),
    st.builds(Insert, FRACTION, st.text(max_size=40)),
)
MUTATIONS = st.lists(MUTATION, min_size=1, max_size=4)


def mutate(data: bytes, mutations: list[Any]) -> bytes:
    for m in mutations:
        data = m.apply(data)
    return data


# -- every reader, every mutated sample ------------------------------------------------------


def feed_every_reader(path: Path) -> dict[str, str]:
    """Each registered reader reads ``path`` (forced, as with ``--format``); returns the
    outcome per reader. Anything but messages or a SourceError fails the test."""
    outcomes = {}
    try:  # the pipeline's own candidate (a damaged zip is rejected here already)
        cand = make_candidate(path, str(path))
    except SourceError as exc:
        assert exc.reason and "\n" not in exc.reason
        return {"*": "rejected"}
    for reader in registry.READERS:
        with no_hang():
            try:
                assert 0.0 <= reader.score(cand) <= 1.0
                items = list(reader.read(cand, DirectContext(OPTIONS)))
            except SourceError as exc:
                assert exc.reason and "\n" not in exc.reason, repr(exc.reason)
                assert H.CANARY not in exc.reason
                outcomes[reader.name] = "rejected"
                continue
            except IsADirectoryError:
                # a file reader forced onto a folder: its snapshot (ctx.source) cannot open
                # it; the pipeline reports that OSError as a rejection (ingest._run_input)
                assert path.is_dir()
                outcomes[reader.name] = "rejected (folder)"
                continue
        ids = [
            i
            for item in items
            for i in (
                item.column("message_id").to_pylist()
                if isinstance(item, pa.Table)
                else [item.message_id]
            )
        ]
        assert all(isinstance(i, str) and len(i) == 64 for i in ids)
        outcomes[reader.name] = f"{len(ids)} messages"
    return outcomes


def fuzz_settings(n: int) -> Any:
    return settings(
        max_examples=n,
        deadline=None,  # timing on a loaded 2-core machine is noise; no_hang catches hangs
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        derandomize=n <= DEFAULT,  # the default run is reproducible
    )


def _whatsapp_text(mutations: list[Any], pick: int) -> None:
    src = WA_TEXTS[pick % len(WA_TEXTS)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / src.name
        path.write_bytes(mutate(src.read_bytes(), mutations))
        feed_every_reader(path)


def _whatsapp_zip(mutations: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / WA_ZIPS[0].name
        path.write_bytes(mutate(WA_ZIPS[0].read_bytes(), mutations))
        feed_every_reader(path)


def _wechat_folder(mutations: list[Any], pick: int) -> None:
    victim = PC3_FILES[pick % len(PC3_FILES)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "WeChat Files" / PC3.name
        shutil.copytree(PC3, root)
        (root / victim).write_bytes(mutate((PC3 / victim).read_bytes(), mutations))
        feed_every_reader(root)
        feed_every_reader(root / victim)  # the damaged file alone, to every reader


@pytest.mark.parametrize("n", [DEFAULT, pytest.param(STRESS, marks=pytest.mark.stress)])
def test_mutated_whatsapp_text_every_reader(n: int) -> None:
    given(MUTATIONS, st.integers(0, 100))(fuzz_settings(n)(_whatsapp_text))()


@pytest.mark.parametrize("n", [DEFAULT, pytest.param(STRESS, marks=pytest.mark.stress)])
def test_mutated_whatsapp_zip_every_reader(n: int) -> None:
    given(MUTATIONS)(fuzz_settings(n)(_whatsapp_zip))()


@pytest.mark.parametrize("n", [DEFAULT // 2, pytest.param(STRESS // 2, marks=pytest.mark.stress)])
def test_mutated_wechat_dump_every_reader(n: int) -> None:
    given(MUTATIONS, st.integers(0, 100))(fuzz_settings(n)(_wechat_folder))()


def test_samples_exist() -> None:
    """The fuzzers above mutate these; without them they would test nothing."""
    assert WA_TEXTS and WA_ZIPS and PC3_FILES


# -- through the pipeline: never a partial batch ---------------------------------------------


def _pipeline(text_mutations: list[Any], zip_mutations: list[Any], pick: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        drop = Path(tmp) / "drop"
        drop.mkdir()
        src = WA_TEXTS[pick % len(WA_TEXTS)]
        (drop / src.name).write_bytes(mutate(src.read_bytes(), text_mutations))
        (drop / WA_ZIPS[0].name).write_bytes(mutate(WA_ZIPS[0].read_bytes(), zip_mutations))
        shutil.copy(WA_TEXTS[(pick + 1) % len(WA_TEXTS)], drop)  # one good input
        archive = Path(tmp) / "archive"
        opts = IngestOptions(paths=(drop,), archive=archive, read=OPTIONS)
        with no_hang(60):
            result = ingest(opts)
        statuses = {i.status for i in result.inputs}
        assert statuses <= {"ingested", "already_ingested", "rejected"}
        assert any(i.status == "ingested" for i in result.inputs), "the good input was lost"
        for i in result.inputs:
            assert (i.status == "rejected") == (i.error is not None)
            assert i.error is None or "\n" not in i.error
        state = H.check_clean(archive)  # a whole batch, or none: nothing half-written
        assert state.head_seq == (1 if result.batch_seq else 0)


@pytest.mark.parametrize("n", [20, pytest.param(200, marks=pytest.mark.stress)])
def test_mutated_inputs_through_the_pipeline(n: int) -> None:
    given(MUTATIONS, MUTATIONS, st.integers(0, 100))(fuzz_settings(n)(_pipeline))()
