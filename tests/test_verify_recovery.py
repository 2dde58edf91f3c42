"""verify after interrupted ingests (SPEC guarantee 1): leftovers and an unfinished
commit are warnings (ok unless --strict); once the next ingest has set them aside or
rolled the commit forward, the archive verifies clean at every level."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from imarchive.archive import layout as L
from imarchive.archive import store, writer
from imarchive.verify import LEVELS, VerifyReport, verify
from tests.verify_helpers import (
    MARCH,
    flip_byte,
    run_ingest,
    whatsapp_txt,
)


class Crash(Exception):
    """Stands for kill -9 at one instant of the commit."""


@pytest.fixture
def third(tmp_path: Path) -> Path:
    return whatsapp_txt(
        tmp_path / "WhatsApp Chat with Erin.txt",
        ["03/06/2024, 10:00 - Erin: june one", "03/06/2024, 10:01 - Frank: june two"],
    )


def crash_when(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, when: str) -> None:
    """Make ``module.name`` (a write function taking the final path first) crash when
    the path ends with ``when``."""
    real = getattr(module, name)

    def fake(path: Path, *args: Any, **kwargs: Any) -> Any:
        if str(path).endswith(when):
            raise Crash(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(module, name, fake)


def codes(rep: VerifyReport) -> set[str]:
    return {p.code for p in rep.problems}


def assert_clean(root: Path) -> None:
    for level in LEVELS:
        rep = verify(root, level, strict=True)
        assert rep.ok, (level, rep.to_json())


def test_published_but_uncommitted_files_are_warnings(
    arc: Path, third: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash_when(monkeypatch, writer, "write_atomic", "00000003.json")  # the commit point
    with pytest.raises(Crash):
        run_ingest(arc, third)
    monkeypatch.undo()
    for level in LEVELS:
        rep = verify(arc, level)
        assert rep.ok and not verify(arc, level, strict=True).ok
        assert codes(rep) <= {"leftover_published", "leftover_temp"}
        published = {p.path for p in rep.problems if p.code == "leftover_published"}
        assert any(p and p.startswith("messages/platform=whatsapp/year=2024/month=06/")
                   for p in published)  # fmt: skip
        assert all(p.severity == "warning" for p in rep.problems)
    assert rep.head is not None and rep.head["seq"] == 2

    # A leftover that differs from what its intent describes is no longer "ours".
    leftover = next(p.path for p in rep.problems if p.code == "leftover_published")
    assert leftover is not None
    flip_byte(arc / leftover)
    assert "unexpected_file" in codes(verify(arc))

    # The next ingest sets leftovers aside in quarantine and lists them: clean again.
    result = run_ingest(arc, third)
    assert result.batch_seq == 3
    assert_clean(arc)
    assert any((arc / L.QUARANTINE / "00000003").rglob("*"))


def test_partition_folder_emptied_by_a_set_aside_is_accounted_for(
    arc: Path, third: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next ingest moves the leftovers of a crashed one to quarantine and leaves
    their partition folder behind, empty: the batch record that set them aside
    explains it (an empty folder that nothing explains is an empty_folder warning)."""
    crash_when(monkeypatch, writer, "write_atomic", "00000003.json")
    with pytest.raises(Crash):
        run_ingest(arc, third)
    monkeypatch.undo()
    june = arc / "messages/platform=whatsapp/year=2024/month=06"
    assert any(june.iterdir())
    other = whatsapp_txt(tmp_path / "WhatsApp Chat with Gus.txt", ["01/07/2023, 10:00 - Gus: hi"])
    assert run_ingest(arc, other).batch_seq == 3  # not the June input: June stays empty
    assert june.is_dir() and not any(june.iterdir())
    assert_clean(arc)
    june.rmdir()  # removing it is fine too
    assert_clean(arc)
    (arc / "messages/platform=whatsapp/year=2024/month=08").mkdir()
    rep = verify(arc, "fast")
    assert {(p.code, p.path) for p in rep.problems} == {
        ("empty_folder", "messages/platform=whatsapp/year=2024/month=08")
    }


@pytest.mark.parametrize(
    ("module", "name", "when"),
    [
        (writer, "refresh_derived", ""),  # record written, manifest and sums not
        (store, "write_atomic", L.SHA256SUMS),  # manifest written, sums not
    ],
    ids=["before-manifest", "before-sums"],
)
def test_interrupted_commit_is_a_warning_and_rolls_forward(
    arc: Path, third: Path, monkeypatch: pytest.MonkeyPatch, module: Any, name: str, when: str
) -> None:
    if name == "refresh_derived":

        def boom(*_a: Any, **_k: Any) -> None:
            raise Crash("refresh_derived")

        monkeypatch.setattr(module, name, boom)
    else:
        crash_when(monkeypatch, module, name, when)
    with pytest.raises(Crash):
        run_ingest(arc, third)
    monkeypatch.undo()
    for level in LEVELS:
        rep = verify(arc, level)
        assert codes(rep) == {"commit_incomplete"}, (level, rep.to_json())
        assert rep.ok and not verify(arc, level, strict=True).ok
        assert rep.head is not None and rep.head["seq"] == 3  # committed
    run_ingest(arc, third)  # nothing new; the commit is rolled forward
    assert_clean(arc)


def test_a_lagging_manifest_without_a_txn_folder_is_an_error(
    arc: Path, third: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_a: Any, **_k: Any) -> None:
        raise Crash("refresh_derived")

    monkeypatch.setattr(writer, "refresh_derived", boom)
    with pytest.raises(Crash):
        run_ingest(arc, third)
    monkeypatch.undo()
    import shutil

    shutil.rmtree(arc / L.TXN)  # without the txn folder nothing explains the lag
    rep = verify(arc, "fast")
    assert {"manifest_mismatch", "sums_mismatch"} <= codes(rep) and not rep.ok


@pytest.mark.parametrize(
    ("rel", "code"),
    [
        (f"{L.META}/.tmp-{'a' * 32}-manifest.json.part", "leftover_temp"),
        (f".tmp-{'b' * 32}-SHA256SUMS.part", "leftover_temp"),
        (f"{L.TXN}/{'c' * 32}/stage/parts/000001.pq-staging", "leftover_temp"),
        (f"{MARCH}/.nfs000000000012345600000001", "transient_nfs_file"),
        (f"{MARCH}/.tmp-{'d' * 32}-x.parquet.part", "unexpected_file"),  # never in messages/
    ],
)
def test_temp_and_nfs_files(arc: Path, rel: str, code: str) -> None:
    path = arc / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"partial")
    rep = verify(arc, "fast")
    assert {(p.code, p.path) for p in rep.problems} == {(code, rel)}
    assert rep.ok == (code != "unexpected_file")
    assert not verify(arc, "fast", strict=True).ok


def test_lock_is_not_content(arc: Path) -> None:
    (arc / L.LOCK).mkdir()
    (arc / L.LOCK / "owner.json").write_text("{}")
    assert verify(arc, "deep", strict=True).ok


def test_a_commit_during_verify_is_not_reported_as_tampering(
    arc: Path, third: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imarchive.verifying.derived import load_stored as real

    calls: list[int] = []

    def racing(root: Path, problems: Any) -> Any:
        if not calls:  # an ingest commits between the walk and reading the derived files
            run_ingest(arc, third)
        calls.append(1)
        return real(root, problems)

    monkeypatch.setattr("imarchive.verify.load_stored", racing)
    rep = verify(arc, strict=True)
    assert rep.ok, rep.to_json()
    assert len(calls) == 2 and rep.head is not None and rep.head["seq"] == 3
