"""verify: the tamper matrix (issue 4, SPEC guarantee 5). Each test breaks a freshly
ingested archive one way and asserts the exact problem, its path and the verdict."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest

from imarchive.archive import layout as L
from imarchive.errors import NotAnArchive
from imarchive.verify import CODES, LEVELS, VerifyReport, codes_table, verify
from tests.verify_helpers import (
    APRIL,
    MARCH,
    MAY,
    age_atimes,
    files_of,
    fix_derived,
    flip_byte,
    part,
    record_sha,
    relink_chain,
    rewrite_record,
    snapshot,
    swap,
    truncate,
    writable,
    zero,
)


def found(rep: VerifyReport) -> set[tuple[str, str | None]]:
    return {(p.code, p.path) for p in rep.problems}


def fails(rep: VerifyReport, code: str, path: str | None) -> None:
    assert not rep.ok, rep.to_json()
    assert (code, path) in found(rep), rep.to_json()


# -- kinds of files, by path -------------------------------------------------------------

KINDS = {
    "parquet": lambda root: part(root, MARCH),
    "source": lambda root: files_of(root, "source", 1)[0],
    "attachment": lambda root: files_of(root, "attachment", 1)[0],
    "batch record": lambda root: L.batch_path(1),
    "head batch record": lambda root: L.batch_path(2),
    "manifest": lambda root: L.MANIFEST_JSON,
    "archive.json": lambda root: L.ARCHIVE_JSON,
    "SHA256SUMS": lambda root: L.SHA256SUMS,
}
DATA_KINDS = ("parquet", "source", "attachment")


def test_clean_archive_passes_every_level(arc: Path) -> None:
    for level in LEVELS:
        rep = verify(arc, level, strict=True)
        assert rep.ok and rep.problems == [], (level, rep.to_json())
        assert rep.head == {"seq": 2, "sha256": record_sha(arc, 2)}
    deep = verify(arc, "deep")
    assert deep.checked["rows"] == 45 and deep.checked["batches"] == 2
    assert deep.checked["parquet_footers"] == 3
    # the same keys at every level (a script reads them): 0 where nothing was hashed
    fast = verify(arc, "fast").to_json()["checked"]
    assert fast["bytes_hashed"] == 0 and fast["parquet_footers"] == 0 and fast["batches"] == 2


@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_flipped_byte_is_named(arc: Path, kind: str, where: str) -> None:
    rel = KINDS[kind](arc)
    flip_byte(arc / rel, where)
    rep = verify(arc)
    assert not rep.ok
    assert rel in {p.path for p in rep.errors}, rep.to_json()


@pytest.mark.parametrize("kind", DATA_KINDS)
def test_flipped_byte_in_data_gives_hash_mismatch_but_passes_fast(arc: Path, kind: str) -> None:
    rel = KINDS[kind](arc)
    flip_byte(arc / rel)
    rep = verify(arc)
    assert {p.path for p in rep.problems} == {rel}  # (a footer byte adds footer problems)
    (problem,) = [p for p in rep.problems if p.code == "hash_mismatch"]
    assert problem.expected != problem.found
    # Documented limitation: --fast hashes no contents, a same-size change passes.
    assert verify(arc, "fast").ok


@pytest.mark.parametrize("kind", DATA_KINDS)
def test_truncated_file(arc: Path, kind: str) -> None:
    rel = KINDS[kind](arc)
    size = (arc / rel).stat().st_size
    truncate(arc / rel)
    for level in LEVELS:
        rep = verify(arc, level)
        fails(rep, "size_mismatch", rel)
    p = next(p for p in rep.problems if p.code == "size_mismatch")
    assert (p.expected, p.found) == (size, size // 2)
    if kind == "parquet":
        fails(verify(arc), "parquet_unreadable", rel)


@pytest.mark.parametrize("kind", DATA_KINDS)
def test_zeroed_file(arc: Path, kind: str) -> None:
    rel = KINDS[kind](arc)
    zero(arc / rel)
    fails(verify(arc), "hash_mismatch", rel)
    truncate(arc / rel, keep=0)
    fails(verify(arc, "fast"), "size_mismatch", rel)


@pytest.mark.parametrize("kind", list(KINDS))
def test_deleted_file(arc: Path, kind: str) -> None:
    rel = KINDS[kind](arc)
    writable(arc / rel).unlink()
    for level in LEVELS:
        rep = verify(arc, level)
        assert not rep.ok, (level, rep.to_json())
        assert rel in {p.path for p in rep.errors}, (level, rep.to_json())
    codes = {
        "manifest": "manifest_missing",
        "SHA256SUMS": "sums_missing",
        "archive.json": "archive_json_invalid",
    }
    if kind in DATA_KINDS:
        fails(rep, "file_missing", rel)
    elif kind in codes:
        fails(rep, codes[kind], rel)
    elif kind == "batch record":
        fails(rep, "batch_seq_gap", rel)
        fails(rep, "chain_broken", L.batch_path(2))
    else:  # the newest record is gone: its files are now unnamed, the manifest disagrees
        fails(rep, "file_missing", rel)
        fails(rep, "unexpected_file", part(arc, MAY))
        fails(rep, "manifest_mismatch", L.MANIFEST_JSON)


@pytest.mark.parametrize(
    "stray",
    [
        f"{MARCH}/part-00000001-000000000000-0009.parquet",
        f"{MARCH}/notes.txt",
        "messages/platform=wechat/year=2024/month=01/part-00000002-aaaaaaaaaaaa-0000.parquet",
        "sources/00/" + "0" * 64,
        "attachments/ab/extra.jpg",
        "_archive/batches/00000003.json.bak",
        "_archive/notes",
        "README",
        "_archive/quarantine/00000001/x",
    ],
)
def test_stray_file_is_an_error_at_every_level(arc: Path, stray: str) -> None:
    path = arc / stray
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PAR1 not really")
    for level in LEVELS:
        rep = verify(arc, level)
        assert found(rep) == {("unexpected_file", stray)}, rep.to_json()


@pytest.mark.parametrize(
    ("made", "reported"),
    [
        ("messages/x.parquet", "messages/x.parquet"),
        (f"{MARCH}/part-00000001-000000000000-0009.parquet", None),
        ("messages/platform=foo", None),
        ("messages/platform=whatsapp/year=2024/month=07", None),
        ("messages/platform=wechat/year=2024/month=01", "messages/platform=wechat"),
        ("messages/x.parquet/inner/deeper", "messages/x.parquet"),
        ("sources/zz", None),
        ("attachments/ab/cd", "attachments/ab"),
        ("_archive/batches/00000003.json", None),
        ("_archive/notes", None),
        ("extra", None),
    ],
)
def test_stray_folder_is_named_at_every_level(arc: Path, made: str, reported: str | None) -> None:
    """A folder that is not part of the layout and holds no file is named once: an error
    when readers trip over it (named like a Parquet file), else a warning (an empty
    folder, as a crash between creating a partition folder and publishing into it leaves)."""
    (arc / made).mkdir(parents=True)
    rel = reported or made
    parquet = rel.endswith(".parquet")
    for level in LEVELS:
        rep = verify(arc, level)
        code = "unexpected_folder" if parquet else "empty_folder"
        assert found(rep) == {(code, rel)}, (level, rep.to_json())
        assert rep.ok is not parquet
        assert not verify(arc, level, strict=True).ok


def test_folder_holding_a_stray_file_is_named_by_the_file(arc: Path) -> None:
    (arc / "messages/x.parquet").mkdir()
    (arc / "messages/x.parquet/part-0.parquet").write_bytes(b"PAR1")
    (arc / "messages/platform=foo/year=2024/month=01").mkdir(parents=True)
    rep = verify(arc, "deep")
    assert found(rep) == {
        ("unexpected_file", "messages/x.parquet/part-0.parquet"),
        ("empty_folder", "messages/platform=foo"),
    }


def test_committed_file_replaced_by_a_folder(arc: Path) -> None:
    rel = part(arc, APRIL)
    writable(arc / rel).unlink()
    (arc / rel).mkdir()
    for level in LEVELS:
        rep = verify(arc, level)
        assert found(rep) == {("not_a_regular_file", rel)}, (level, rep.to_json())


def test_layout_folders_may_be_empty(arc: Path) -> None:
    for rel in (L.QUARANTINE, L.TXN):
        (arc / rel).mkdir(exist_ok=True)
    for rel in files_of(arc, "source"):  # empty sources/ itself is still the layout
        writable(arc / rel).unlink()
    rep = verify(arc, "fast")
    assert {p.code for p in rep.problems} == {"file_missing"}, rep.to_json()


def test_stray_symlink_is_not_followed(arc: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.parquet"
    outside.write_bytes(b"x")
    (arc / MARCH / "link.parquet").symlink_to(outside)
    rep = verify(arc, "deep")
    assert found(rep) == {("unexpected_file", f"{MARCH}/link.parquet")}


def test_committed_file_replaced_by_a_symlink(arc: Path, tmp_path: Path) -> None:
    rel = KINDS["attachment"](arc)
    copy = tmp_path / "copy"
    copy.write_bytes((arc / rel).read_bytes())
    writable(arc / rel).unlink()
    (arc / rel).symlink_to(copy)
    fails(verify(arc), "not_a_regular_file", rel)


def test_swapped_same_size_files(arc: Path) -> None:
    a, b = files_of(arc, "attachment", 1)
    assert (arc / a).stat().st_size == (arc / b).stat().st_size
    swap(arc / a, arc / b)
    rep = verify(arc)
    assert found(rep) == {("hash_mismatch", a), ("hash_mismatch", b)}
    assert verify(arc, "fast").ok  # same sizes: only hashing can tell


def test_renamed_partition_folder(arc: Path) -> None:
    rel = part(arc, MARCH)
    os.rename(arc / MARCH, arc / "messages/platform=whatsapp/year=2024/month=06")
    moved = rel.replace("month=03", "month=06")
    for level in LEVELS:
        rep = verify(arc, level)
        assert found(rep) == {("file_missing", rel), ("unexpected_file", moved)}


def test_renamed_column_in_footer_with_fixed_up_checksums(arc: Path) -> None:
    rel = part(arc, APRIL)
    data = (arc / rel).read_bytes()
    footer_start = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    head, footer = data[:footer_start], data[footer_start:]
    assert b"sender_name" in footer
    writable(arc / rel).write_bytes(head + footer.replace(b"sender_name", b"sender_nbme"))
    fix_derived(arc)  # the attacker recomputes manifest and SHA256SUMS
    rep = verify(arc)
    fails(rep, "hash_mismatch", rel)  # the batch record still holds the true hash
    fails(rep, "parquet_schema_mismatch", rel)
    assert verify(arc, "fast").ok  # same size, consistent derived files

    # ... and also forges the record's hash and relinks the chain: the schema check
    # still fails, and the examiner's head no longer matches.
    old_head = record_sha(arc, 2)
    sha = hashlib.sha256((arc / rel).read_bytes()).hexdigest()

    def edit(rec: dict[str, object]) -> None:
        for f in rec["files"]:  # type: ignore[attr-defined]
            if f["path"] == rel:
                f["sha256"] = sha

    rewrite_record(arc, 1, edit)
    relink_chain(arc, 2)
    fix_derived(arc)
    rep = verify(arc, expect_head=old_head)
    assert found(rep) == {("parquet_schema_mismatch", rel), ("head_not_found", L.BATCHES)}


def test_edited_batch_record_breaks_the_chain(arc: Path) -> None:
    rewrite_record(arc, 1, lambda r: r.__setitem__("host", "elsewhere"))
    fix_derived(arc)  # manifest and SHA256SUMS agree again, the chain does not
    rep = verify(arc, "fast")
    assert found(rep) == {("chain_broken", L.batch_path(2))}


def test_edited_batch_record_with_relinked_chain_fails_expect_head(arc: Path) -> None:
    old_head, first = record_sha(arc, 2), record_sha(arc, 1)
    rewrite_record(arc, 1, lambda r: r.__setitem__("host", "elsewhere"))
    relink_chain(arc, 2)
    fix_derived(arc)
    assert verify(arc).ok  # a consistent forgery: only the examiner's head can tell
    for head in (old_head, first):
        rep = verify(arc, "fast", expect_head=head)
        assert found(rep) == {("head_not_found", L.BATCHES)}
        p = rep.problems[0]
        assert (p.expected, p.found) == (head, record_sha(arc, 2))


def test_rolled_back_archive_fails_expect_head(arc: Path) -> None:
    old_head = record_sha(arc, 2)
    for rel in files_of(arc, "messages", 2) + files_of(arc, "source", 2) + [L.batch_path(2)]:
        writable(arc / rel).unlink()
        if rel != L.batch_path(2):
            (arc / rel).parent.rmdir()  # a careful forger leaves no empty folder behind
    fix_derived(arc)
    assert verify(arc, "deep").ok  # a clean archive of one batch ...
    rep = verify(arc, expect_head=old_head)  # ... but not the one the examiner saw
    assert found(rep) == {("head_not_found", L.BATCHES)}
    assert not rep.ok


def test_expect_head_accepts_any_head_of_the_chain(arc: Path) -> None:
    genesis = hashlib.sha256((arc / L.ARCHIVE_JSON).read_bytes()).hexdigest()
    for head in (record_sha(arc, 2), record_sha(arc, 1).upper(), genesis):
        assert verify(arc, "fast", expect_head=head).ok
    rep = verify(arc, "fast", expect_head="f" * 64)
    assert found(rep) == {("head_not_found", L.BATCHES)}
    assert not verify(arc, "fast", expect_head="not-a-hash").ok


def test_edited_manifest_and_sums_lines(arc: Path) -> None:
    man = json.loads((arc / L.MANIFEST_JSON).read_bytes())
    man["totals"]["messages"] += 1
    writable(arc / L.MANIFEST_JSON).write_bytes(L.dumps(man))
    rep = verify(arc, "fast")
    assert ("manifest_mismatch", L.MANIFEST_JSON) in found(rep)
    assert ("sums_mismatch", L.SHA256SUMS) in found(rep)  # its line for the manifest

    lines = (arc / L.SHA256SUMS).read_text().splitlines(keepends=True)
    writable(arc / L.SHA256SUMS).write_text("".join(lines[1:]))  # drop a line
    rep = verify(arc, "fast")
    assert any(p.code == "sums_mismatch" and p.expected and p.found is None for p in rep.problems)


def test_problems_are_all_collected(arc: Path) -> None:
    flip_byte(arc / files_of(arc, "attachment", 1)[0])
    writable(arc / files_of(arc, "source", 2)[0]).unlink()
    (arc / "stray").write_text("x")
    rep = verify(arc)
    assert {p.code for p in rep.problems} == {"hash_mismatch", "file_missing", "unexpected_file"}


def test_verify_never_writes(arc: Path) -> None:
    (arc / MARCH / "stray.parquet").write_bytes(b"x")  # problems must not change that
    age_atimes(arc)
    before = snapshot(arc)
    for level in LEVELS:
        verify(arc, level, expect_head="0" * 64)
    assert snapshot(arc) == before


def test_verify_works_on_a_read_only_copy(arc: Path) -> None:
    for dirpath, _dirs, _files in os.walk(arc):
        Path(dirpath).chmod(0o555)
    assert verify(arc, "deep", strict=True).ok


def test_archive_path_may_be_a_symlink(arc: Path, tmp_path: Path) -> None:
    link = tmp_path / "link-to-archive"
    link.symlink_to(arc)
    assert verify(link, "deep", strict=True).ok


def test_not_an_archive(tmp_path: Path, arc: Path) -> None:
    with pytest.raises(NotAnArchive):
        verify(tmp_path / "nothing-here")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotAnArchive):
        verify(tmp_path / "empty")
    other = tmp_path / "other" / "_archive"
    other.mkdir(parents=True)
    (other / "archive.json").write_text('{"format": "something-else"}')
    with pytest.raises(NotAnArchive):
        verify(other.parent)


def test_newer_format_is_refused_but_a_forged_version_is_reported(arc: Path) -> None:
    ident = json.loads((arc / L.ARCHIVE_JSON).read_bytes())
    ident["format_version"] = 2
    writable(arc / L.ARCHIVE_JSON).write_bytes(L.dumps(ident))
    rep = verify(arc, "fast")  # SHA256SUMS disagrees: an edit, not a newer tool
    fails(rep, "archive_json_invalid", L.ARCHIVE_JSON)
    fails(rep, "hash_mismatch", L.ARCHIVE_JSON)
    lines = [ln for ln in (arc / L.SHA256SUMS).read_text().splitlines() if L.ARCHIVE_JSON not in ln]
    sha = hashlib.sha256((arc / L.ARCHIVE_JSON).read_bytes()).hexdigest()
    writable(arc / L.SHA256SUMS).write_text("\n".join([*lines, f"{sha}  {L.ARCHIVE_JSON}"]))
    with pytest.raises(NotAnArchive):
        verify(arc)


def test_report_json_has_the_spec_keys(arc: Path) -> None:
    flip_byte(arc / part(arc, MARCH))
    data = verify(arc).to_json()
    assert {"archive", "level", "ok", "head", "problems"} <= set(data)
    assert set(data["problems"][0]) == {"code", "severity", "path", "expected", "found", "message"}
    assert data["problems"][0]["severity"] == "error"
    json.dumps(data)


def test_progress_reports_bytes(arc: Path) -> None:
    calls: list[tuple[int, int]] = []
    verify(arc, "deep", progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1] > 0
    assert all(a <= b for (a, _), (b, _) in itertools.pairwise(calls))


def test_codes_table_lists_every_code() -> None:
    table = codes_table()
    for code, (severity, _text) in CODES.items():
        assert f"| `{code}` | {severity} |" in table
    assert {s for s, _ in CODES.values()} == {"error", "warning"}


def test_unknown_level_is_a_bug() -> None:
    with pytest.raises(ValueError):
        verify(Path("."), "thorough")  # type: ignore[arg-type]


def test_cli_exit_codes_and_json(arc: Path, tmp_path: Path) -> None:
    from tests.core.helpers import run_cli

    def run(*args: str) -> tuple[int, dict[str, Any] | None]:
        proc = run_cli(["verify", "--archive", str(arc), "--json", *args])
        return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else None

    code, data = run("--deep", "--expect-head", record_sha(arc, 1))
    assert code == 0 and data is not None and data["ok"] is True and data["level"] == "deep"
    (arc / MARCH / f".nfs{'0' * 24}").write_bytes(b"")
    assert run()[0] == 0 and run("--strict")[0] == 1
    rel = files_of(arc, "source", 1)[0]
    flip_byte(arc / rel)
    code, data = run()
    assert code == 1 and data is not None
    assert {(p["code"], p["path"]) for p in data["problems"]} >= {("hash_mismatch", rel)}
    proc = run_cli(["verify", "--archive", str(tmp_path / "nothing"), "--json"])
    assert proc.returncode == 4


# -- found by attacking copies of an archive ---------------------------------------------------


def test_a_file_hidden_in_the_lock_folder_is_named(arc: Path) -> None:
    lock = arc / L.LOCK
    lock.mkdir()
    (lock / "x.parquet").write_bytes((arc / part(arc, MARCH)).read_bytes())
    fails(verify(arc, "fast"), "unexpected_file", f"{L.LOCK}/x.parquet")


def test_a_lock_of_another_host_hides_no_leftover(arc: Path) -> None:
    """A copy of an archive whose ingest was killed carries its lock: from another host
    it cannot be told running, so its leftovers are reported (and a note says so)."""
    (arc / L.LOCK).mkdir()
    owner = {"host": "elsewhere.example", "pid": 1, "started": "2024-01-01T00:00:00Z"}
    (arc / L.LOCK_OWNER).write_text(json.dumps(owner))
    left = arc / L.TXN / ("e" * 32) / "stage" / "parts" / "000001.pq-staging"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"PAR1")
    rep = verify(arc, "fast", strict=True)
    assert not rep.ok and ("leftover_temp", str(left.relative_to(arc))) in found(rep)
    assert rep.running_ingest is not None and rep.running_ingest["here"] is False


def test_desktop_litter_is_a_warning_but_not_in_a_parquet_name(arc: Path) -> None:
    """An examiner's Mac or NAS leaves .DS_Store, ._name and @eaDir/ in a copy it shows:
    warnings (sha256sum -c passes such a copy too); a ._name.parquet stays an error,
    as a reader's *.parquet glob would take it."""
    month = (arc / part(arc, MARCH)).parent
    (month / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (arc / "._SHA256SUMS").write_bytes(b"\x00\x05\x16\x07")
    (arc / "sources" / "@eaDir").mkdir()
    (arc / "sources" / "@eaDir" / "SYNO@.fileindexdb").write_bytes(b"x")
    rep = verify(arc)
    assert rep.ok, rep.to_json()
    assert {p.code for p in rep.problems} == {"os_metadata_file"} and len(rep.problems) == 3
    (month / "._part.parquet").write_bytes(b"\x00\x05\x16\x07")
    rel = str((month / "._part.parquet").relative_to(arc))
    fails(verify(arc), "unexpected_file", rel)


def test_an_unreadable_folder_is_not_also_a_missing_file(arc: Path) -> None:
    """Verify run by a user who cannot list one folder: that folder is file_unreadable,
    and the files in it are not also called missing."""
    if os.geteuid() != 0:
        pytest.skip("runs as root only, to drop to 'nobody' (a folder root owns, mode 0700)")
    import pwd
    import shutil
    import subprocess
    import sys
    import tempfile

    nobody = pwd.getpwnam("nobody")
    work = Path(tempfile.mkdtemp(prefix="imarchive-verify-"))
    try:
        work.chmod(0o755)
        copy = work / "archive"
        shutil.copytree(arc, copy)
        for dirpath, dirs, files in os.walk(copy):
            for name in dirs + files:
                os.lchown(Path(dirpath, name), nobody.pw_uid, nobody.pw_gid)
        os.lchown(copy, nobody.pw_uid, nobody.pw_gid)
        sub = next(p for p in sorted((copy / "sources").iterdir()) if p.is_dir())
        os.chown(sub, 0, 0)
        sub.chmod(0o700)
        # imports first (the interpreter lies in root's home), then drop to nobody
        script = (
            "import os, sys, imarchive.cli, imarchive.verify, imarchive.verifying.parquet\n"
            "import pyarrow.parquet, pyarrow.compute, numpy, typer, rich.table\n"
            "import contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    imarchive.cli.run(['verify', '--help'])\n"  # the CLI's own lazy imports
            f"os.setgroups([]); os.setgid({nobody.pw_gid}); os.setuid({nobody.pw_uid})\n"
            "sys.exit(imarchive.cli.run(sys.argv[1:]))\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", script, "verify", "--archive", str(copy), "--json", "--debug"],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert proc.stdout, proc.stderr
        codes = {(p["code"], p["path"]) for p in json.loads(proc.stdout)["problems"]}
        rel = str(sub.relative_to(copy))
        assert ("file_unreadable", rel) in codes, codes
        assert not [c for c in codes if c[0] == "file_missing"], codes
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_a_damaged_batch_record_blames_no_intact_file(arc: Path) -> None:
    """A batch record that no longer parses is named; --deep does not also call the
    intact Parquet files of that batch out of their (now unknown) time range."""
    rec = arc / L.batch_path(1)
    data = rec.read_bytes()
    writable(rec)
    rec.write_bytes(data.replace(b'"size": ', b'"size"; ', 1))
    rep = verify(arc, "deep")
    assert not rep.ok
    assert "sent_at_range_mismatch" not in {p.code for p in rep.problems}, rep.to_json()


def test_the_cause_comes_first_in_the_report(arc: Path) -> None:
    """With the batch records gone, the manifest and SHA256SUMS disagree with them on
    every line; the report names the missing records first."""
    for rec in sorted((arc / L.BATCHES).iterdir()):
        writable(rec)
        rec.unlink()
    rep = verify(arc)
    assert not rep.ok
    first = rep.problems[0].path or ""
    assert first.startswith(L.BATCHES), [(p.code, p.path) for p in rep.problems[:5]]
