"""The command line contract: the exit-code table, cron output, JSON, privacy, docs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imarchive import cli
from imarchive.archive.store import create
from imarchive.errors import ExitCode
from tests.core.helpers import CANARY, REPO, android_export, ingest, ingest_json, run_cli

ANSI = re.compile(r"\x1b\[")


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return android_export(tmp_path / "WhatsApp Chat with Bob Sample.txt", 12, canary=True)


# -- the exit-code table --------------------------------------------------------------------


def test_exit_0_success_and_nothing_new(tmp_path: Path, export: Path) -> None:
    assert ingest(tmp_path / "a", export).returncode == ExitCode.OK
    assert ingest(tmp_path / "a", export).returncode == ExitCode.OK


def test_exit_1_some_input_rejected_rest_committed(tmp_path: Path, export: Path) -> None:
    bad = tmp_path / "garbage.bin"
    bad.write_bytes(os.urandom(4096))
    proc = ingest(tmp_path / "a", export, bad, extra=["--json"])
    assert proc.returncode == ExitCode.PROBLEMS
    data = json.loads(proc.stdout)
    status = {Path(i["path"]).name: i["status"] for i in data["inputs"]}
    assert status == {export.name: "ingested", "garbage.bin": "rejected"}
    assert data["batch_seq"] == 1
    line = [ln for ln in proc.stderr.splitlines() if "garbage.bin" in ln]
    assert len(line) == 1 and line[0].startswith("error: ")


@pytest.mark.parametrize(
    "args",
    [
        ["ingest", "--bogus-flag", "x"],
        ["ingest", "/nonexistent/path.txt"],
        ["ingest", "EXPORT", "--timezone", "Mars/Olympus_Mons"],
        ["ingest", "EXPORT", "--date-order", "dym"],
        ["ingest", "EXPORT", "--format", "no-such-format"],
        ["verify", "--fast", "--deep"],
        ["verify", "--expect-head", "xyz"],
        ["ingest", ""],  # an unset variable in a script: not "the current folder"
        ["ingest", "EXPORT", "--timezone", "localtime"],  # a file of the zone database
        ["ingest", "EXPORT", "--lock-timeout", "nan"],
    ],
)
def test_exit_2_usage_errors_write_nothing(tmp_path: Path, export: Path, args: list[str]) -> None:
    archive = tmp_path / "a"
    argv = [str(export) if a == "EXPORT" else a for a in args] + ["--archive", str(archive)]
    proc = run_cli(argv)
    assert proc.returncode == ExitCode.USAGE, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not archive.exists()


def test_archive_path_with_an_unexpanded_tilde(tmp_path: Path, export: Path) -> None:
    """``IMARCHIVE_ARCHIVE=~/arch`` in a crontab is not expanded by cron: refused, rather
    than a folder named "~" in the working folder (or files under $HOME)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMARCHIVE_")}
    home = tmp_path / "home"
    home.mkdir()
    for args, extra_env, where in (
        (["--archive", "~/arch"], {}, "--archive"),
        ([], {"IMARCHIVE_ARCHIVE": "~/arch"}, "IMARCHIVE_ARCHIVE"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "imarchive", "ingest", str(export), "--timezone", "UTC", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env | {"HOME": str(home)} | extra_env,
            check=False,
        )
        assert proc.returncode == ExitCode.USAGE, proc.stderr
        assert proc.stderr.startswith(f"error: {where} ~/arch: starts with '~'")
        assert not (tmp_path / "~").exists() and not any(home.iterdir())


@pytest.mark.parametrize("command", ["ingest", "verify", "info"])
def test_empty_archive_option_is_a_usage_error(tmp_path: Path, export: Path, command: str) -> None:
    """``--archive "$ARCHIVE"`` with the variable unset: refused, not the current folder
    (which may be an archive: the ingest went into it)."""
    create(tmp_path / "here")
    args = [command, *([str(export), "--timezone", "UTC"] if command == "ingest" else [])]
    proc = subprocess.run(
        [sys.executable, "-m", "imarchive", *args, "--archive", ""],
        capture_output=True,
        text=True,
        cwd=tmp_path / "here",
        env={k: v for k, v in os.environ.items() if not k.startswith("IMARCHIVE_")},
        check=False,
    )
    assert proc.returncode == ExitCode.USAGE, proc.stderr
    assert proc.stderr.startswith("error: --archive is empty")
    assert not list((tmp_path / "here" / "_archive" / "batches").iterdir())
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMARCHIVE_")}
    proc = subprocess.run(
        [sys.executable, "-m", "imarchive", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path / "here",
        env=env | {"IMARCHIVE_ARCHIVE": ""},
        check=False,
    )
    assert proc.returncode == ExitCode.USAGE, proc.stderr
    assert proc.stderr.startswith("error: IMARCHIVE_ARCHIVE is set but empty")
    assert not (tmp_path / "here" / "archive").exists()


def test_archive_defaults_to_archive_in_the_working_folder(tmp_path: Path, export: Path) -> None:
    """Without --archive and IMARCHIVE_ARCHIVE: ./archive, created on first use."""
    proc = subprocess.run(
        [sys.executable, "-m", "imarchive", "ingest", str(export), "--timezone", "UTC"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("IMARCHIVE_")},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert list((tmp_path / "archive" / "_archive" / "batches").glob("*.json"))
    assert {p.name for p in tmp_path.iterdir()} == {export.name, "archive"}


def test_zone_from_the_environment_is_checked_and_named(tmp_path: Path, export: Path) -> None:
    proc = run_cli(
        ["ingest", str(export), "--archive", str(tmp_path / "a")],
        env={"IMARCHIVE_TIMEZONE": "localtime"},
    )
    assert proc.returncode == ExitCode.USAGE
    assert proc.stderr.startswith("error: IMARCHIVE_TIMEZONE localtime: unknown time zone")
    assert not (tmp_path / "a").exists()


def test_key_file_as_editors_write_it(tmp_path: Path, export: Path) -> None:
    """A BOM, CRLF, comments and blank lines are fine; a bad key is named by its line,
    never echoed."""
    keys = tmp_path / "keys.txt"
    good = "7f" * 8 + "a1b2c3d4" * 2 + "00112233445566778899aabbccddeeff"
    keys.write_bytes(f"\ufeff# desk keys\r\n{good}\r\n\r\n  # old\r\n1a2b3c4\r\n".encode())
    ok = ingest(tmp_path / "a", export, extra=["--key-file", str(keys)])
    assert ok.returncode == ExitCode.OK, ok.stderr
    keys.write_text(f"{good}\nnot-a-key-secret\n")
    bad = ingest(tmp_path / "b", export, extra=["--key-file", str(keys)])
    assert bad.returncode == ExitCode.USAGE
    assert bad.stderr.startswith(f"error: {keys} line 2: a key must be")
    assert "not-a-key-secret" not in bad.stderr and not (tmp_path / "b").exists()


def test_exit_3_when_locked_by_a_live_writer(tmp_path: Path, export: Path) -> None:
    archive = tmp_path / "a"
    ingest(archive, export)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from pathlib import Path; from imarchive.archive.lock import Lock\n"
            "l=Lock(Path(sys.argv[1]), 0); l.acquire(); print('held', flush=True); time.sleep(60)",
            str(archive),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        other = android_export(tmp_path / "WhatsApp Chat with Carol.txt", 3)
        start = time.monotonic()
        proc = ingest(archive, other, extra=["--lock-timeout", "1"])
        assert proc.returncode == ExitCode.LOCKED
        assert time.monotonic() - start >= 1.0
        assert "locked" in proc.stderr and f"pid {holder.pid}" in proc.stderr
    finally:
        holder.kill()
        holder.wait()


def test_exit_4_not_an_archive(tmp_path: Path) -> None:
    for command in (["verify"], ["info"]):
        proc = run_cli([*command, "--archive", str(tmp_path)])
        assert proc.returncode == ExitCode.NOT_AN_ARCHIVE
        assert "not an imarchive archive" in proc.stderr


def test_exit_4_archive_path_is_a_file(tmp_path: Path, export: Path) -> None:
    """--archive naming a file (a typo in a crontab): refused, the file untouched."""
    before = export.read_bytes()
    ingest_args = ["ingest", str(export), "--timezone", "UTC"]
    for command in (ingest_args, [*ingest_args, "--dry-run"], ["info"], ["verify"]):
        proc = run_cli([*command, "--archive", str(export)])
        assert proc.returncode == ExitCode.NOT_AN_ARCHIVE, proc.stderr
        assert proc.stderr.endswith(f"{export}: not an imarchive archive (a file, not a folder)\n")
    assert export.read_bytes() == before


def test_exit_70_internal_error_is_short_without_debug(
    tmp_path: Path,
    export: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def boom(*a: object, **k: object) -> None:
        raise RuntimeError(CANARY)

    monkeypatch.setattr("imarchive.ingest.ingest", boom)
    code = cli.run(["ingest", str(export), "--archive", str(tmp_path / "a"), "--timezone", "UTC"])
    err = capsys.readouterr().err
    assert code == ExitCode.INTERNAL
    assert "internal error" in err and "Traceback" not in err and CANARY not in err
    code = cli.run(
        ["ingest", str(export), "--archive", str(tmp_path / "a"), "--timezone", "UTC", "--debug"]
    )
    assert code == ExitCode.INTERNAL
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_exit_130_on_sigterm_or_ctrl_c_keeps_the_last_commit(
    tmp_path: Path, signum: signal.Signals
) -> None:
    big = android_export(tmp_path / "WhatsApp Chat with Big.txt", 300_000)
    for attempt, delay in enumerate((0.2, 0.05, 0.0)):  # sooner if the ingest won the race
        archive = tmp_path / f"a{attempt}"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "imarchive",
                "ingest",
                str(big),
                "--archive",
                str(archive),
                "--timezone",
                "UTC",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not (archive / "_archive" / "lock").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(delay)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        if proc.returncode != 0:
            break
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert "interrupted" in err and "Traceback" not in err
    assert not list((archive / "_archive" / "batches").glob("*.json"))


def test_sigterm_after_the_run_leaves_its_exit_code(tmp_path: Path, export: Path) -> None:
    """A SIGTERM that lands once the run is over (the batch committed, the interpreter
    shutting down) does not turn exit 0 into a kill by signal or a traceback."""
    script = (
        "import os, signal, sys\n"
        "from imarchive import cli\n"
        "real_exit = sys.exit\n"
        "def exit_after_a_sigterm(code):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    real_exit(code)\n"
        "sys.exit = exit_after_a_sigterm\n"
        "sys.argv = ['imarchive'] + sys.argv[1:]\n"
        "cli.main()\n"
    )
    archive = tmp_path / "a"
    proc = subprocess.run(
        [sys.executable, "-c", script, "ingest", str(export), "--archive", str(archive)],
        capture_output=True,
        text=True,
        env={**os.environ, "IMARCHIVE_TIMEZONE": "UTC"},
        check=False,
        timeout=120,
    )
    assert proc.returncode == ExitCode.OK, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(list((archive / "_archive" / "batches").glob("*.json"))) == 1


# -- output ----------------------------------------------------------------------------------


def test_cron_output_is_plain_and_never_shows_a_body(tmp_path: Path, export: Path) -> None:
    archive = tmp_path / "a"
    for args in (
        ["ingest", str(export)],
        ["info"],
        ["verify"],
        ["formats"],
        ["ingest", str(export)],
    ):
        proc = run_cli(
            [*args, "--archive", str(archive), "--timezone", "UTC"]
            if args[0] == "ingest"
            else [*args, "--archive", str(archive)]
            if args[0] != "formats"
            else args
        )
        assert not ANSI.search(proc.stdout + proc.stderr), args
        assert CANARY not in proc.stdout + proc.stderr, args


def test_canary_body_stays_inside_the_archive(tmp_path: Path, export: Path) -> None:
    archive = tmp_path / "a"
    proc = ingest(archive, export, extra=["--json"])
    assert CANARY not in proc.stdout + proc.stderr
    for p in (archive / "_archive").rglob("*"):
        if p.is_file():
            assert CANARY.encode() not in p.read_bytes(), p


def test_ingest_json_has_the_documented_keys(tmp_path: Path, export: Path) -> None:
    data = ingest_json(tmp_path / "a", export)
    assert {"archive", "batch_seq", "head", "inputs", "totals"} <= data.keys()
    inp = data["inputs"][0]
    assert {
        "path",
        "sha256",
        "format",
        "status",
        "messages_read",
        "messages_new",
        "messages_duplicate",
        "lines_rejected",
        "rows_rejected",
        "warnings",
        "error",
    } <= inp.keys()
    assert inp["messages_read"] == inp["messages_new"] + inp["messages_duplicate"]
    totals = data["totals"]
    for key in ("messages_read", "messages_new", "messages_duplicate", "lines_total"):
        assert totals[key] == sum(i[key] or 0 for i in data["inputs"]), key
    assert totals["lines_total"] == inp["lines_total"] > 0
    assert totals["lines_rejected"] == sum(i["lines_rejected"] for i in data["inputs"])


def test_info_json(tmp_path: Path, export: Path) -> None:
    archive = tmp_path / "a"
    data = ingest_json(archive, export, extra=["--custodian", "Jane"])
    proc = run_cli(["info", "--archive", str(archive), "--json"])
    assert proc.returncode == 0
    info = json.loads(proc.stdout)
    assert {
        "archive",
        "format_version",
        "schema_version",
        "head",
        "totals",
        "by_platform",
        "by_conversation",
        "by_month",
    } <= info.keys()
    assert info["head"] == data["head"]
    assert info["by_platform"] == {"whatsapp": 13}
    assert info["by_month"] == {"2024-03": 13}
    assert info["by_conversation"][0]["conversation_id"] == "Jane/Bob Sample"


def test_timezone_assumed_is_warned_and_recorded(tmp_path: Path, export: Path) -> None:
    archive = tmp_path / "a"
    proc = run_cli(["ingest", str(export), "--archive", str(archive)], env={"TZ": "UTC"})
    assert proc.returncode == 0
    assert "assumed" in proc.stderr
    record = json.loads((archive / "_archive" / "batches" / "00000001.json").read_text())
    assert record["options"]["timezone_assumed"] is True


def test_archive_from_environment(tmp_path: Path, export: Path) -> None:
    archive = tmp_path / "env-archive"
    proc = run_cli(
        ["ingest", str(export)],
        env={"IMARCHIVE_ARCHIVE": str(archive), "IMARCHIVE_TIMEZONE": "Europe/Berlin"},
    )
    assert proc.returncode == 0
    record = json.loads((archive / "_archive" / "batches" / "00000001.json").read_text())
    assert record["options"]["timezone"] == "Europe/Berlin"
    assert record["options"]["timezone_assumed"] is False


def test_version() -> None:
    proc = run_cli(["--version"])
    assert proc.returncode == 0 and proc.stdout.startswith("imarchive ")


# -- docs -------------------------------------------------------------------------------------


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    for command in ("ingest", "verify", "info", "formats"):
        proc = run_cli([command, "--help"])
        assert proc.returncode == 0 and "Usage" in proc.stdout
        assert f"imarchive {command}" in readme
    for code in ExitCode:
        assert f"| {int(code)} |" in readme
    assert "make demo" in readme and "make test" in readme


def test_no_command_prints_the_help_as_written() -> None:
    proc = run_cli([])
    assert proc.returncode == 2
    assert proc.stderr.startswith("Usage: imarchive")
    assert "\\n" not in proc.stderr and "\n  ingest " in proc.stderr


def test_readme_lists_every_verify_code() -> None:
    from imarchive.verifying.problems import CODES

    readme = (REPO / "README.md").read_text()
    for code in CODES:
        assert f"`{code}`" in readme, code


def test_verify_output_without_stdout_or_with_an_ascii_one(tmp_path: Path, export: Path) -> None:
    """The plain report is on stderr: a closed stdout fails nothing; an ASCII-only
    stdout gets JSON with \\u escapes for a non-ASCII archive path, not a crash."""
    archive = tmp_path / "Dossier été"
    assert ingest(archive, export).returncode == 0
    closed = subprocess.run(
        f'"{sys.executable}" -m imarchive verify --archive "{archive}" >&-',
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert closed.returncode == 0, closed.stderr
    ascii_out = run_cli(
        ["verify", "--archive", str(archive), "--json"], env={"PYTHONIOENCODING": "ascii"}
    )
    assert ascii_out.returncode == 0, ascii_out.stderr
    assert json.loads(ascii_out.stdout)["archive"] == str(archive)


def test_machine_zone_from_a_copied_localtime_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/etc/localtime as a copy of a zone file (no link, no /etc/timezone): the zone is
    found by its bytes, not assumed UTC (times would be hours off); a zone file of no
    known name is refused rather than guessed."""
    import zoneinfo

    from imarchive import cli

    for var in ("IMARCHIVE_TIMEZONE", "TZ"):
        monkeypatch.delenv(var, raising=False)
    tokyo = next(Path(r, "Asia/Tokyo") for r in zoneinfo.TZPATH if Path(r, "Asia/Tokyo").exists())
    localtime = tmp_path / "localtime"
    localtime.write_bytes(tokyo.read_bytes())
    monkeypatch.setattr(cli, "LOCALTIME", localtime)
    monkeypatch.setattr(cli, "TIMEZONE_FILE", tmp_path / "no-timezone")
    assert cli.local_zone() == ("Asia/Tokyo", True)
    localtime.write_bytes(tokyo.read_bytes()[:-3] + b"XYZ")
    with pytest.raises(cli.UsageError, match="cannot be named"):
        cli.local_zone()
    localtime.unlink()
    assert cli.local_zone() == ("UTC", True)


def test_an_archive_path_that_is_not_utf8_is_a_usage_error(tmp_path: Path, export: Path) -> None:
    archive = Path(os.fsdecode(bytes(tmp_path) + b"/arch\xffive"))
    proc = ingest(archive, export)
    assert proc.returncode == ExitCode.USAGE, proc.stderr
    assert "arch\\xffive: the path is not valid UTF-8" in proc.stderr
    assert not archive.exists()


def test_a_user_without_a_name_is_recorded_by_uid(
    tmp_path: Path, export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A container's uid has no passwd entry (getpass raises KeyError): the batch record
    names it ``uid:N`` instead of the run failing with an internal error."""
    import getpass

    from imarchive.ingest import IngestOptions
    from imarchive.ingest import ingest as run_ingest
    from imarchive.sources.base import ReadOptions

    def nameless() -> str:
        raise KeyError("getpwuid(): uid not found: 12345")

    monkeypatch.setattr(getpass, "getuser", nameless)
    archive = tmp_path / "archive"
    result = run_ingest(IngestOptions((export,), archive, ReadOptions(timezone="UTC")))
    assert result.batch_seq == 1
    record = json.loads((archive / "_archive" / "batches" / "00000001.json").read_text())
    assert record["user"] == f"uid:{os.getuid()}"


def test_an_archive_the_user_cannot_read_is_one_line(tmp_path: Path, export: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("runs as root only, to drop to 'nobody'")
    import pwd
    import shutil
    import tempfile

    assert ingest(tmp_path / "archive", export).returncode == 0
    nobody = pwd.getpwnam("nobody")
    work = Path(tempfile.mkdtemp(prefix="imarchive-cli-"))
    try:
        work.chmod(0o755)
        archive = work / "archive"
        shutil.copytree(tmp_path / "archive", archive)
        archive.chmod(0o700)  # root's
        copy = work / export.name
        shutil.copy(export, copy)
        copy.chmod(0o644)
        script = (
            "import os, sys, contextlib, io, imarchive.cli, imarchive.ingest\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    imarchive.cli.run(['ingest', '--help'])\n"
            f"os.setgroups([]); os.setgid({nobody.pw_gid}); os.setuid({nobody.pw_uid})\n"
            "sys.exit(imarchive.cli.run(sys.argv[1:]))\n"
        )
        argv = ["ingest", str(copy), "--archive", str(archive), "--timezone", "UTC"]
        proc = subprocess.run(
            [sys.executable, "-c", script, *argv],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert proc.returncode == ExitCode.PROBLEMS, proc.stderr
        assert proc.stderr.strip().endswith("cannot read the archive (Permission denied)")
        assert "internal error" not in proc.stderr
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_json_is_printed_for_a_run_that_fails_as_a_whole(tmp_path: Path, export: Path) -> None:
    """A script that reads --json finds one object for every exit code: a usage error,
    not an archive, a bad zone; the same line as on stderr."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "x.txt").write_text("x")
    cases = [
        (["ingest", str(tmp_path / "missing"), "--archive", str(tmp_path / "a")], 2),
        (["ingest", str(export), "--archive", str(notes)], 4),
        (["ingest", str(export), "--archive", str(tmp_path / "b"), "--timezone", "Mars/Base"], 2),
        (["verify", "--archive", str(notes)], 4),
        (["info", "--archive", str(tmp_path / "missing")], 4),
    ]
    for args, code in cases:
        proc = run_cli([*args, "--json"])
        assert proc.returncode == code, (args, proc.stderr)
        data = json.loads(proc.stdout)
        assert data["ok"] is False and data["exit_code"] == code
        assert proc.stderr.strip() == f"error: {data['error']}"


def test_small_messages_of_a_cron_log(tmp_path: Path, export: Path) -> None:
    """A dry run's lines say 'would ingest'; an empty file says so; a PATH behind a
    folder the user cannot enter is not called missing; an archive that cannot be
    created is named, not an internal temporary folder."""
    dry = run_cli(["ingest", str(export), "--archive", str(tmp_path / "d"), "--dry-run"])
    assert dry.returncode == 0 and "would ingest: " in dry.stderr
    assert "ingested: " not in dry.stderr
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    proc = ingest(tmp_path / "e", empty)
    assert f"error: {empty}: empty file (0 bytes)" in proc.stderr
    if os.geteuid() == 0:
        return  # root enters every folder and writes everywhere
    locked = tmp_path / "locked"
    (locked / "inner").mkdir(parents=True)
    locked.chmod(0)
    try:
        proc = ingest(tmp_path / "f", locked / "inner")
        assert proc.returncode == 2 and "cannot be reached (Permission denied)" in proc.stderr
        proc = ingest(locked / "archive", export)
        assert proc.stderr.strip().startswith(f"error: {locked / 'archive'}: cannot")
    finally:
        locked.chmod(0o755)
