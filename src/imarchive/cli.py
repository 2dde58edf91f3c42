"""The command line: parse options, call one library function, render, return an
exit code. Exceptions become exit codes in ``run`` alone (httpie ``main → raw_main``)."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import traceback
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import typer

try:  # typer >= 0.2x vendors click; older releases depend on it
    from typer._click import exceptions as click_exc  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover
    from click import exceptions as click_exc  # type: ignore[no-redef,import-not-found,unused-ignore]

from imarchive import __version__, report
from imarchive.console import Console
from imarchive.errors import ExitCode, ImarchiveError, OutputError, UsageError
from imarchive.sources.base import DATE_ORDERS, ReadOptions

app = typer.Typer(
    name="imarchive",
    help="Archive WhatsApp exports and WeChat backups into a tamper-evident Parquet archive.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,  # locals would print private chat text
    rich_markup_mode=None,
)

CONSOLE = Console()

ArchiveOpt = Annotated[
    str | None,  # a string, so that an empty value is seen (a Path of "" is ".")
    typer.Option(
        "--archive",
        help="Archive folder (default: $IMARCHIVE_ARCHIVE, else ./archive).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show full tracebacks of internal errors.")]


def archive_path(given: str | None) -> Path:
    if given is not None and not given.strip():
        raise UsageError("--archive is empty (an unset variable?)")
    env = os.environ.get("IMARCHIVE_ARCHIVE")
    if given is None and env is not None and not env.strip():
        raise UsageError("IMARCHIVE_ARCHIVE is set but empty (unset it, or give the path)")
    path = Path(given) if given is not None else Path(env or "archive")
    if str(path).startswith("~"):
        # cron and quoted paths leave it as is; a folder named "~" is never what was meant
        where = "--archive" if given is not None else "IMARCHIVE_ARCHIVE"
        raise UsageError(
            f"{where} {path}: starts with '~', which nothing expanded here: give the full path"
        )
    return path


def writable_archive_path(given: str | None) -> Path:
    """``archive_path``, for ingest: a path whose bytes are not UTF-8 is refused (the
    Parquet writer cannot open it: the run would stop half way)."""
    path = archive_path(given)
    try:
        os.fsencode(path.absolute()).decode("utf-8")
    except UnicodeDecodeError:
        from imarchive.inputs import utf8_display  # imported by ingest anyway

        raise UsageError(
            f"--archive {utf8_display(str(path))}: the path is not valid UTF-8 (Parquet files "
            "cannot be written there): give another folder"
        ) from None
    return path


def local_zone() -> tuple[str, bool]:
    """The zone for naive timestamps: $IMARCHIVE_TIMEZONE, else this machine's zone
    (then ``assumed``)."""
    env = os.environ.get("IMARCHIVE_TIMEZONE")
    if env:
        return check_zone(env, "IMARCHIVE_TIMEZONE"), False
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and tz in available_timezones():
        return tz, True
    try:
        link = os.readlink(LOCALTIME)
        name = link.split("zoneinfo/", 1)[1]
        ZoneInfo(name)
        return name, True
    except (OSError, IndexError, ZoneInfoNotFoundError, ValueError):
        pass
    try:
        name = TIMEZONE_FILE.read_text().strip()
        ZoneInfo(name)
        return name, True
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    if not LOCALTIME.exists():
        return "UTC", True  # no zone set up: the C library's time is UTC too
    named = zone_named_by(LOCALTIME)
    if named is None:  # a zone file of no known name: never guess (times would be off)
        raise UsageError(
            f"this machine's time zone cannot be named ({LOCALTIME} matches no zone of the "
            "zone database): give --timezone or set IMARCHIVE_TIMEZONE"
        )
    return named, True


LOCALTIME = Path("/etc/localtime")
TIMEZONE_FILE = Path("/etc/timezone")


def zone_named_by(path: Path) -> str | None:
    """The zone whose file has the bytes of ``path`` (a copy of one, as some systems put
    in /etc/localtime instead of a link); an ``Area/City`` name before an alias."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    names = sorted(available_timezones(), key=lambda n: ("/" not in n, n))
    roots = list(zoneinfo.TZPATH)
    with contextlib.suppress(ImportError):  # the zone database as a package, if installed
        import tzdata  # type: ignore[import-untyped,unused-ignore]

        roots.append(str(Path(tzdata.__file__).parent / "zoneinfo"))
    for root in roots:
        for name in names:
            try:
                candidate = Path(root, name)
                if candidate.stat().st_size == len(data) and candidate.read_bytes() == data:
                    return name
            except OSError:
                continue
    return None


# Files of the zone database that are not zones: this machine's zone under another name.
NOT_ZONES = frozenset({"localtime", "posixrules"})


def check_zone(name: str, where: str = "--timezone") -> str:
    try:
        ZoneInfo(name)
        if name.lower() in NOT_ZONES or name not in available_timezones() | {"UTC"}:
            raise ValueError(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"{where} {name}: unknown time zone (use an IANA name like Europe/London)"
        ) from None
    return name


def read_keys(key: list[str] | None, key_file: Path | None) -> tuple[str, ...]:
    """Every key given: each ``--key`` (it may be repeated) and each key of the file."""
    keys: list[tuple[str, str]] = []  # (where it came from, the key)
    for k in key or ():
        keys.append(("--key", k.strip()))
    if key_file:
        try:
            text = key_file.read_text(encoding="utf-8-sig")  # a BOM, as Notepad writes
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"{key_file}: cannot read the key file ({exc.__class__.__name__})"
            ) from None
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                keys.append((f"{key_file} line {n}", line.strip()))
    for where, k in keys:
        hex64 = len(k) == 64 and all(c in "0123456789abcdefABCDEF" for c in k)
        if not (hex64 or len(k) == 7):
            # never echo the key itself
            raise UsageError(
                f"{where}: a key must be 64 hex characters (WeChat PC) or a 7-character "
                "passphrase (Android)"
            )
    return tuple(k for _, k in keys)


def version_callback(value: bool) -> None:
    if value:
        CONSOLE.data(f"imarchive {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """imarchive: ingest chat exports and backups into an append-only, self-verifying archive."""


@app.command()
def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(help="Files, folders (walked) or .zip files to ingest.", show_default=False),
    ],
    archive: ArchiveOpt = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            help="IANA zone of naive timestamps in text exports "
            "(default: $IMARCHIVE_TIMEZONE, else this machine's)."
        ),
    ] = None,
    custodian: Annotated[
        str | None, typer.Option(help="Person whose device the export came from.")
    ] = None,
    owner: Annotated[
        str | None, typer.Option(help="That person's display name inside the export.")
    ] = None,
    date_order: Annotated[
        str, typer.Option(help="Day/month order of text exports: auto, dmy, mdy, ymd.")
    ] = "auto",
    format: Annotated[
        str, typer.Option("--format", help="Force a source format (see `imarchive formats`).")
    ] = "auto",
    conversation: Annotated[
        str | None, typer.Option(help="Chat title to use instead of the file name.")
    ] = None,
    key: Annotated[
        list[str] | None,
        typer.Option(
            help="Key of an encrypted WeChat database (64 hex or 7 chars); may be repeated."
        ),
    ] = None,
    key_file: Annotated[Path | None, typer.Option(help="File with one key per line.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and report; write nothing.")
    ] = False,
    json_out: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only warnings and errors.")] = False,
    lock_timeout: Annotated[float, typer.Option(help="Seconds to wait for another writer.")] = 0.0,
    debug: DebugOpt = False,
) -> int:
    """Ingest chat exports and backups into the archive (one batch per run)."""
    from imarchive.ingest import IngestOptions
    from imarchive.ingest import ingest as run_ingest

    if date_order not in DATE_ORDERS:
        raise UsageError(f"--date-order {date_order}: use one of {', '.join(DATE_ORDERS)}")
    if timezone is not None:
        zone, assumed = check_zone(timezone), False
    else:
        zone, assumed = local_zone()
    if not math.isfinite(lock_timeout) or lock_timeout < 0:
        raise UsageError("--lock-timeout must be a number of seconds >= 0")
    if "" in paths:
        raise UsageError("an empty PATH was given (an unset variable?)")
    options = IngestOptions(
        paths=tuple(Path(p) for p in paths),
        archive=writable_archive_path(archive),
        read=ReadOptions(
            timezone=zone,
            timezone_assumed=assumed,
            custodian=custodian,
            owner=owner,
            date_order=date_order,
            conversation=conversation,
            keys=read_keys(key, key_file),
        ),
        format=format,
        dry_run=dry_run,
        lock_timeout=lock_timeout,
    )
    console = CONSOLE
    console.quiet = quiet or json_out
    with console.progress("ingest") as progress:
        result = run_ingest(options, progress)
    # only text exports carry naive local times (WhatsApp's readers infer a date order;
    # the others say so)
    if assumed and any(
        "date_order" in i.facts or i.facts.get("local_times")
        for i in result.inputs
        if i.status == "ingested"
    ):
        result.warnings.append(f"no --timezone given: assumed this machine's zone {zone}")
    for i in result.inputs:
        if i.facts.get("date_order_assumed"):
            result.warnings.append(
                f"{i.path}: day/month order could not be inferred; "
                f"assumed {i.facts.get('date_order')} (use --date-order)"
            )
        if i.facts.get("year_assumed"):
            result.warnings.append(
                f"{i.path}: headers carry no year; assumed {i.facts['year_assumed']}"
            )
    if json_out:
        data = result.to_json()
        report.dump_json(console, data)
        for w in result.warnings:
            console.warn(w)
        for i in result.inputs:  # diagnostics still go to stderr, for the log
            if i.status == "rejected":
                console.error(f"{i.path}: {i.error}")
    else:
        report.ingest(console, result)
    return ExitCode.OK if result.ok else ExitCode.PROBLEMS


@app.command()
def verify(
    archive: ArchiveOpt = None,
    fast: Annotated[
        bool, typer.Option("--fast", help="Structure, sizes and chain; no content hashing.")
    ] = False,
    deep: Annotated[bool, typer.Option("--deep", help="Also read every row.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail on warnings (leftovers) too.")
    ] = False,
    expect_head: Annotated[
        str | None,
        typer.Option(help="Fail unless this sha256 is a batch record of the archive's chain."),
    ] = None,
    json_out: JsonOpt = False,
    debug: DebugOpt = False,
) -> int:
    """Prove that the archive is complete and unaltered; name every problem."""
    from imarchive.verify import verify as run_verify

    if fast and deep:
        raise UsageError("give --fast or --deep, not both")
    level: Literal["fast", "default", "deep"] = "fast" if fast else "deep" if deep else "default"
    if expect_head is not None and (
        len(expect_head) != 64 or any(c not in "0123456789abcdef" for c in expect_head.lower())
    ):
        raise UsageError("--expect-head takes a sha256 (64 hex characters)")
    console = CONSOLE
    console.quiet = json_out
    with console.progress(f"verify {level}") as update:
        rep = run_verify(
            archive_path(archive),
            level=level,
            expect_head=expect_head.lower() if expect_head else None,
            strict=strict,
            progress=lambda done, total: update("bytes", done, total),
        )
    data = rep.to_json()
    if json_out:
        report.dump_json(console, data)
    else:
        report.verify(console, data)
    return ExitCode.OK if data["ok"] else ExitCode.PROBLEMS


@app.command()
def info(archive: ArchiveOpt = None, json_out: JsonOpt = False, debug: DebugOpt = False) -> int:
    """What the archive holds: totals by platform, conversation and month; head of the chain."""
    from imarchive.info import archive_info

    data = archive_info(archive_path(archive))
    if json_out:
        report.dump_json(CONSOLE, data)
    else:
        report.info(CONSOLE, data)
    return ExitCode.OK


@app.command()
def formats(json_out: JsonOpt = False, debug: DebugOpt = False) -> int:
    """The source formats imarchive reads, with how each is detected."""
    from imarchive.sources.registry import READERS

    rows = [(r.name, str(r.platform), r.description) for r in READERS]
    if json_out:
        report.dump_json(
            CONSOLE, [{"format": n, "platform": p, "detected_by": d} for n, p, d in rows]
        )
    else:
        report.formats(CONSOLE, rows)
    return ExitCode.OK


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(argv: list[str]) -> int:
    """Run the CLI; return the exit code (tests call this). With ``--json``, a run that
    fails as a whole still prints one JSON object on stdout (``ok``: false, the
    ``error`` line and the ``exit_code``), so that a script reading it finds one."""
    global CONSOLE
    CONSOLE = Console()  # bound to the current sys.stdout/sys.stderr
    debug = "--debug" in argv
    as_json = "--json" in argv
    signal.signal(signal.SIGTERM, _on_sigterm)
    stopped = "interrupted; the archive stays at its last committed batch"
    try:
        rv = app(args=argv, prog_name="imarchive", standalone_mode=False)
        code = int(rv) if isinstance(rv, int) else 0
        if code == ExitCode.INTERRUPTED:  # typer turns KeyboardInterrupt into Exit(130)
            return _fail(stopped, code, as_json)
        return code
    except typer.Exit as exc:
        return int(exc.exit_code)
    except click_exc.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # no command: the help, as written
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.write(exc.format_message() + "\n")
            return ExitCode.USAGE
        return _fail(exc.format_message(), ExitCode.USAGE, as_json)
    except (typer.Abort, KeyboardInterrupt):
        return _fail(stopped, ExitCode.INTERRUPTED, as_json)
    except OutputError as exc:  # stdout itself failed: nothing more goes there
        return _fail(str(exc), exc.exit_code, False)
    except ImarchiveError as exc:
        return _fail(str(exc), exc.exit_code, as_json)
    except Exception as exc:
        if debug:
            traceback.print_exc()
            return _fail(f"internal error ({type(exc).__name__})", ExitCode.INTERNAL, as_json)
        # the type and place only: an exception's text may quote chat content
        tb = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f" at {Path(tb.filename).name}:{tb.lineno}" if tb else ""
        text = f"internal error ({type(exc).__name__}{where}); rerun with --debug for details"
        return _fail(text, ExitCode.INTERNAL, as_json)


def _fail(text: str, code: int, as_json: bool) -> int:
    """Say why the run failed (stderr; and stdout as JSON for ``--json``); the code."""
    if as_json:
        with contextlib.suppress(OutputError):
            report.dump_json(CONSOLE, {"ok": False, "error": text, "exit_code": int(code)})
    _say(text)
    return code


def _say(text: str) -> None:
    """The last word of a run, on stderr; nothing when stderr cannot be written."""
    with contextlib.suppress(OutputError):
        CONSOLE.error(text)


def main() -> None:
    code = run(sys.argv[1:])
    # The run is over and ``code`` says how. A SIGTERM or Ctrl-C from now on would only
    # turn a finished run into a kill by signal (the interpreter puts the default handlers
    # back as it shuts down, but leaves ignored signals ignored).
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_IGN)
    if sys.stdout is not None:  # None: started without one, and nothing was for it
        try:
            sys.stdout.flush()
        except OSError:  # data lost: a reader that stopped, a full disk
            code = code or ExitCode.PROBLEMS
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)  # nothing more for the interpreter to flush at exit
    sys.exit(code)
