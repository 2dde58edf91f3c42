"""``make bench``: imarchive against the mainstream chat readers, on this machine, in one run.

Generates the inputs (cached under ``benchmarks/out/inputs``), then runs each case as a child
process and measures its wall time and peak RSS from the OS accounting (see ``measure.py``):

- ``ingest``: ``imarchive ingest FILE --archive NEW --timezone UTC --json --quiet``, a WhatsApp
  Android export of ``--messages`` messages into a fresh archive, end to end;
- ``reingest``: the same file again (nothing new), and its share of the first ingest's time;
- ``verify`` / ``sha256sum``: ``imarchive verify --json`` and ``sha256sum`` over the same
  archive's files, as MB/s;
- ``ingest-ios``: the iOS rendering of the same messages into a fresh archive;
- ``ingest-5m`` (``--full``): 5,000,000 messages into a fresh archive;
- ``overlap``: an export holding the last 10 % of the archive's messages and 10 % new ones,
  into that archive (5M with ``--full``), against ``overlap-fresh``: the same export into an
  empty archive;
- ``wechat-pc3``: a generated PC WeChat 3.x dump into a fresh archive;
- ``peer …``: whatstk (auto-detect; format given), chat-miner and the npm
  whatsapp-chat-parser under Node, parsing the same Android file (the parse call only).

Prints a table and the issue's targets, and writes ``benchmarks/out/results.json``.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

import gen_wechat_pc3
import gen_whatsapp
import measure
import peer_env
from report import Case, caveat, evaluate_targets, render, write_json

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
OUT: Final = HERE / "out"
VENV_BIN: Final = ROOT / ".venv" / "bin"
FULL_MESSAGES: Final = 5_000_000
QUICK_MESSAGES: Final = 100_000
TARGET_MESSAGES: Final = 1_000_000
CHAT_TITLE: Final = "Bench Group"
CHILD_TIMEOUT: Final = 3600.0

CASES: Final = (
    "ingest",
    "reingest",
    "verify",
    "ingest-ios",
    "ingest-5m",
    "overlap",
    "wechat-pc3",
    "peers",
)


def _rmtree(path: Path) -> None:
    """Remove an archive folder: its committed files are read-only by design."""

    def retry(func: Callable[[str], object], name: str, _info: object) -> None:
        os.chmod(os.path.dirname(name), 0o755)
        os.chmod(name, 0o755 if os.path.isdir(name) else 0o644)
        func(name)

    if path.exists():
        shutil.rmtree(path, onerror=retry)  # onexc from Python 3.12 on


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


# --- inputs, cached by their parameters and the generator's source ---------------------------


def _source_digest(module_file: str) -> str:
    return hashlib.sha256(Path(module_file).read_bytes()).hexdigest()[:16]


def _cached(name: str, params: dict[str, Any], build: Callable[[Path], dict[str, Any]]) -> Path:
    """``out/inputs/<name>``, rebuilt unless its stamp matches ``params``."""
    folder = OUT / "inputs" / name
    stamp = folder.with_name(name + ".json")
    if folder.exists() and stamp.exists():
        try:
            if json.loads(stamp.read_text()).get("params") == params:
                return folder
        except (OSError, ValueError):
            pass
    if folder.exists():
        shutil.rmtree(folder)
    stamp.unlink(missing_ok=True)
    folder.mkdir(parents=True)
    _say(f"generating {name} …")
    stats = build(folder)
    _say(f"  done in {stats.get('seconds', 0):.1f} s")
    stamp.write_text(json.dumps({"params": params, "stats": stats}, indent=2) + "\n")
    return folder


def whatsapp_input(
    messages: int, dialect: str, seed: int, start: int = 0, *, align: bool = False
) -> tuple[Path, dict[str, Any]]:
    """A generated export named like the app names it, so the chat title is the same in every
    export of the stream (and overlapping exports land in the same conversation)."""
    params = {
        "messages": messages,
        "dialect": dialect,
        "seed": seed,
        "start": start,
        "align": align,
        "generator": _source_digest(gen_whatsapp.__file__),
    }
    name = f"whatsapp-{dialect}-n{messages}-s{seed}" + (f"-from{start}" if start else "")
    file_name = f"WhatsApp Chat with {CHAT_TITLE}.txt"

    def build(folder: Path) -> dict[str, Any]:
        st = gen_whatsapp.generate(folder / file_name, messages, dialect, seed, start, align=align)
        return asdict(st)

    folder = _cached(name, params, build)
    stats = json.loads(folder.with_name(name + ".json").read_text())["stats"]
    return folder / file_name, stats


def wechat_input(messages: int, seed: int) -> tuple[Path, dict[str, Any]]:
    params = {
        "messages": messages,
        "seed": seed,
        "generator": _source_digest(gen_wechat_pc3.__file__),
    }
    name = f"wechat-pc3-n{messages}-s{seed}"

    def build(folder: Path) -> dict[str, Any]:
        return asdict(gen_wechat_pc3.generate(folder / "dump", messages, seed))

    folder = _cached(name, params, build)
    stats = json.loads(folder.with_name(name + ".json").read_text())["stats"]
    return gen_wechat_pc3.account_dir(folder / "dump"), stats


# --- imarchive --------------------------------------------------------------------------------


def imarchive_argv() -> tuple[list[str], dict[str, str], str]:
    """How to start the CLI: the venv's console script, else ``python -m imarchive`` on src."""
    env = dict(os.environ)
    script = VENV_BIN / "imarchive"
    if script.exists():
        return [str(script)], env, str(script)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return [str(VENV_BIN / "python"), "-m", "imarchive"], env, "python -m imarchive (src)"


def _json_out(text: str) -> dict[str, Any] | None:
    text = text.strip()
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        start = text.rfind("\n{")
        try:
            doc = json.loads(text[start + 1 :] if start >= 0 else text)
        except ValueError:
            return None
    return doc if isinstance(doc, dict) else None


def _why(run: measure.Run) -> str:
    if run.timed_out:
        return f"timed out after {CHILD_TIMEOUT:.0f} s"
    tail = [ln for ln in run.stderr.strip().splitlines() if ln.strip()][-1:]
    return f"exit {run.exit_code}" + (f": {tail[0][:160]}" if tail else "")


def _log(case: str, run: measure.Run) -> None:
    logs = OUT / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    body = f"$ {shlex.join(run.argv)}\nexit {run.exit_code}\n--- stdout\n{run.stdout}\n"
    (logs / f"{case}.log").write_text(body + f"--- stderr\n{run.stderr}\n")


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.cases: list[Case] = []
        self.cli, self.env, self.cli_label = imarchive_argv()

    def timed(
        self, argv: list[str], *, env: dict[str, str] | None = None, discard_stdout: bool = False
    ) -> measure.Run:
        return measure.run(
            argv,
            env=env,
            timeout=CHILD_TIMEOUT,
            discard_stdout=discard_stdout,
            wait_idle=self.args.wait_idle,
        )

    def want(self, case: str) -> bool:
        only: list[str] | None = self.args.only
        return only is None or case in only

    def add(self, case: Case) -> Case:
        self.cases.append(case)
        rate = case.rate
        shown = "-" if rate is None else f"{rate:,.0f}" + (" MB/s" if case.mb is not None else "/s")
        state = "ok" if case.ok else f"FAILED ({case.note})"
        _say(
            f"  {case.case}: {_fmt(case.seconds)} s, {shown}, {_fmt(case.peak_rss_mb)} MB, {state}"
        )
        return case

    def ingest(self, case: str, source: Path, archive: Path, *, fresh: bool = True) -> Case:
        if fresh:
            _rmtree(archive)
        archive.parent.mkdir(parents=True, exist_ok=True)
        argv = [
            *self.cli,
            "ingest",
            str(source),
            "--archive",
            str(archive),
            "--timezone",
            "UTC",
            "--json",
            "--quiet",
        ]
        _say(f"running {case} …")
        run = self.timed(argv, env=self.env)
        _log(case, run)
        doc = _json_out(run.stdout)
        totals = (doc or {}).get("totals") or {}
        new = totals.get("messages_new")
        inputs = (doc or {}).get("inputs") or [{}]
        first = inputs[0] if isinstance(inputs, list) and inputs else {}
        ok = run.exit_code == 0 and doc is not None and isinstance(new, int)
        note = "" if ok else _why(run) if doc is None else f"exit {run.exit_code}"
        details = {
            "archive": str(archive),
            "batch_seq": (doc or {}).get("batch_seq"),
            "totals": totals,
            "status": first.get("status"),
            "format": first.get("format"),
            "exit_code": run.exit_code,
            "error": first.get("error"),
        }
        if first.get("status") == "rejected":
            ok, note = False, f"exit {run.exit_code}, input rejected: {first.get('error')}"
        c = Case(
            case,
            "imarchive",
            str(source.relative_to(OUT) if source.is_relative_to(OUT) else source),
            new if isinstance(new, int) else None,
            run.seconds,
            run.seconds,
            run.peak_rss_mb,
            ok,
            note,
            details=details,
        )
        return _stamp(run, c)

    def best_of(self, make: Callable[[], Case]) -> Case:
        """Cases of 1M messages or less, ours and the peers', run ``--repeat`` times; the
        fastest run counts, all are kept (a single run on a shared machine varies by 10 %)."""
        runs = [make() for _ in range(max(1, self.args.repeat))]
        good = [c for c in runs if c.ok]
        best = min(good, key=lambda c: c.seconds or 0.0) if good else runs[-1]
        best.details["all_seconds"] = [round(c.seconds or 0.0, 4) for c in runs]
        return best

    def verify(self, archive: Path, label: str) -> None:
        size = sum(p.stat().st_size for p in archive.rglob("*") if p.is_file())
        files = sum(1 for p in archive.rglob("*") if p.is_file())

        def one_verify() -> Case:
            run = self.timed(
                [*self.cli, "verify", "--archive", str(archive), "--json"], env=self.env
            )
            _log("verify", run)
            doc = _json_out(run.stdout) or {}
            ok = run.exit_code == 0 and doc.get("ok") is True
            problems = doc.get("problems") or []
            codes = sorted({str(p.get("code")) for p in problems if isinstance(p, dict)})
            note = f"level {doc.get('level')}"
            if not ok:
                note = f"exit {run.exit_code}: {len(problems)} problem(s) {', '.join(codes)}"
                note = note if problems else _why(run)
            return _stamp(
                run,
                Case(
                    "verify",
                    "imarchive",
                    f"{label} ({files} files)",
                    None,
                    run.seconds,
                    run.seconds,
                    run.peak_rss_mb,
                    ok,
                    note,
                    mb=size / 1e6,
                    details={"problems": doc.get("problems"), "level": doc.get("level")},
                ),
            )

        def one_sha() -> Case:
            script = f"find {shlex.quote(str(archive))} -type f -print0 | xargs -0 sha256sum"
            run = self.timed(["sh", "-c", script], discard_stdout=True)
            return _stamp(
                run,
                Case(
                    "sha256sum",
                    "sha256sum",
                    f"same archive ({files} files)",
                    None,
                    run.seconds,
                    run.seconds,
                    run.peak_rss_mb,
                    run.exit_code == 0,
                    "find | xargs -0 sha256sum" if run.exit_code == 0 else _why(run),
                    mb=size / 1e6,
                ),
            )

        _say("running verify and sha256sum …")
        one_sha()  # warm the page cache for both, so neither pays the first read
        ver = self.add(self.best_of(one_verify))
        sha = self.add(self.best_of(one_sha))
        if ver.rate and sha.rate:
            ver.note += f"; {ver.rate / sha.rate:.2f}x sha256sum"

    def peers(self, file: Path, messages: int) -> None:
        _say("preparing the peers' environment …")
        env = peer_env.ensure("android")
        for line in env.log:
            _say(f"  {line}")
        for name, why in env.skipped.items():
            _say(f"  skipping {name}: {why}")
            self.cases.append(
                Case(f"peer {name}", name, file.name, None, None, None, None, False, why)
            )
        for peer in env.peers:
            self.add(self.best_of(functools.partial(self._peer, peer, file, messages)))

    def _peer(self, peer: peer_env.Peer, file: Path, messages: int) -> Case:
        _say(f"running peer {peer.name} …")
        run = self.timed(peer_env.command(peer, file))
        _log(f"peer-{peer.name}", run)
        doc = _json_out(run.stdout) or {}
        seconds = doc.get("parse_seconds")
        ok = run.exit_code == 0 and isinstance(seconds, float)
        found = doc.get("messages")
        return _stamp(
            run,
            Case(
                f"peer {peer.name}",
                peer.name,
                str(file.relative_to(OUT)) if file.is_relative_to(OUT) else str(file),
                messages,
                seconds if ok else None,
                run.seconds,
                run.peak_rss_mb,
                ok,
                f"{doc.get('version')}, parse call only; returned {found:,} messages"
                if ok and isinstance(found, int)
                else _why(run),
                details={"label": peer.label, "returned": found, "notes": doc.get("notes")},
            ),
        )


def _stamp(run: measure.Run, case: Case) -> Case:
    """Copy what the OS said about the machine during the run into the case."""
    case.cpu_seconds = run.cpu_seconds
    case.others_cores = run.others_cores
    if run.waited_seconds >= 1:
        case.details["waited_for_idle_s"] = round(run.waited_seconds, 1)
    return case


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _code_digest() -> str:
    """A digest of the package's source, to notice it changing under a long run."""
    h = hashlib.sha256()
    for path in sorted((ROOT / "src").rglob("*.py")):
        h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def _git_head() -> str | None:
    try:
        proc = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return proc.stdout.strip() or None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="benchmarks/run.py", description=(__doc__ or "").split("\n\n")[0]
    )
    p.add_argument("--messages", type=int, help="WhatsApp messages (default 1,000,000)")
    p.add_argument("--wechat-messages", type=int, help="wechat-pc3 rows (default: --messages)")
    p.add_argument("--quick", action="store_true", help=f"{QUICK_MESSAGES:,} messages: a smoke run")
    p.add_argument("--full", action="store_true", help="add the 5,000,000-message cases")
    p.add_argument("--skip-peers", action="store_true", help="do not install or run the peers")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--overlap-fraction",
        type=float,
        default=0.1,
        help="the overlap export holds this share of the archive's messages again, plus as "
        "many new ones (default 0.1)",
    )
    p.add_argument("--repeat", type=int, default=3, help="runs of the short cases (best counts)")
    p.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="S",
        help="before each case, wait up to S seconds for other processes to leave the CPUs",
    )
    p.add_argument(
        "--only",
        type=lambda s: s.split(","),
        help=f"comma-separated subset of: {','.join(CASES)}",
    )
    p.add_argument("--json-out", type=Path, default=OUT / "results.json")
    args = p.parse_args(argv)
    if args.messages is None:
        args.messages = QUICK_MESSAGES if args.quick else TARGET_MESSAGES
    if args.wechat_messages is None:
        args.wechat_messages = args.messages
    if args.only:
        unknown = set(args.only) - set(CASES)
        if unknown:
            p.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench = Bench(args)
    n, seed = args.messages, args.seed
    machine = measure.machine(VENV_BIN / "python")
    version = measure.run([*bench.cli, "--version"], env=bench.env, timeout=60)
    machine["imarchive"] = version.stdout.strip() or f"unavailable ({_why(version)})"
    machine["imarchive_cli"] = bench.cli_label
    machine["git"] = _git_head()
    machine["src_digest"] = _code_digest()
    _say(f"imarchive: {machine['imarchive']} via {bench.cli_label}")

    archives = OUT / "archives"
    android, a_stats = whatsapp_input(n, "android", seed)
    if a_stats["messages"] != n:
        _say(f"warning: generated {a_stats['messages']} messages, asked for {n}")

    if bench.want("ingest"):
        first = bench.add(
            bench.best_of(lambda: bench.ingest("ingest", android, archives / "ingest"))
        )
        first.note = first.note or f"{a_stats['bytes'] / 1e6:.0f} MB export, fresh archive"
        if bench.want("reingest") and first.ok:
            re_ = bench.best_of(
                lambda: bench.ingest("reingest", android, archives / "ingest", fresh=False)
            )
            re_.messages = a_stats["messages"]  # messages in the file; 0 of them new
            new = re_.details["totals"].get("messages_new")
            if re_.ok and first.seconds and re_.seconds:
                re_.note = f"{new} new; {re_.seconds / first.seconds:.1%} of the first ingest"
            bench.add(re_)

    if bench.want("ingest-ios"):
        ios, i_stats = whatsapp_input(n, "ios", seed)
        c = bench.add(
            bench.best_of(lambda: bench.ingest("ingest-ios", ios, archives / "ingest-ios"))
        )
        c.note = c.note or f"{i_stats['bytes'] / 1e6:.0f} MB export, CRLF records"

    base_case, base_n = "ingest", n
    if args.full and bench.want("ingest-5m"):
        big, b_stats = whatsapp_input(FULL_MESSAGES, "android", seed)
        c = bench.add(bench.ingest("ingest-5m", big, archives / "ingest-5m"))
        c.note = c.note or f"{b_stats['bytes'] / 1e6:.0f} MB export, fresh archive"
        base_case, base_n = "ingest-5m", FULL_MESSAGES

    if bench.want("overlap"):
        base = next((c for c in bench.cases if c.case == base_case and c.ok), None)
        share = max(1, int(base_n * args.overlap_fraction))
        export, o_stats = whatsapp_input(2 * share, "android", seed, base_n - share, align=True)
        if base is None:
            bench.add(
                Case("overlap", "imarchive", export.name, None, None, None, None, False,
                     f"needs a successful {base_case} case")
            )  # fmt: skip
        else:
            # Ingesting into a copy keeps the base archive as the ingest case left it.
            target = archives / "overlap"
            _rmtree(target)
            shutil.copytree(archives / base_case, target, symlinks=True)
            ov = bench.ingest("overlap", export, target, fresh=False)
            ov.details["archive_messages"] = base_n
            ov.details["export_messages"] = o_stats["messages"]
            if ov.ok:
                # The rate that matters here is over the export, not over what was new.
                ov.messages = o_stats["messages"]
                totals = ov.details["totals"]
                ov.note = (
                    f"into an archive of {base_n:,}: {totals.get('messages_new')} new, "
                    f"{totals.get('messages_duplicate')} duplicate"
                )
            bench.add(ov)
            fresh = bench.ingest("overlap-fresh", export, archives / "overlap-fresh")
            fresh.note = fresh.note or "the same export into an empty archive"
            bench.add(fresh)
            if ov.ok and fresh.ok and ov.seconds and fresh.seconds:
                ov.note += f"; {ov.seconds / fresh.seconds:.2f}x the empty-archive time"

    if bench.want("wechat-pc3"):
        dump, w_stats = wechat_input(args.wechat_messages, seed)
        c = bench.add(
            bench.best_of(lambda: bench.ingest("wechat-pc3", dump, archives / "wechat-pc3"))
        )
        shards = ", ".join(w_stats["shards"])
        c.note = c.note or f"{w_stats['bytes'] / 1e6:.0f} MB of SQLite ({shards} + MicroMsg.db)"

    if bench.want("verify"):
        # The largest WhatsApp archive (5M messages, about 1 GB, with --full), else the 1M
        # one; the wechat-pc3 one when those cases failed.
        for name in ("ingest-5m", "ingest", "wechat-pc3"):
            done = next((c for c in bench.cases if c.case == name and c.ok), None)
            if done is not None:
                bench.verify(archives / name, f"the {name} archive")
                break
        else:
            bench.add(
                Case("verify", "imarchive", "-", None, None, None, None, False,
                     "needs a successful ingest or wechat-pc3 case")
            )  # fmt: skip

    if bench.want("peers") and not args.skip_peers:
        bench.peers(android, a_stats["messages"])

    targets = evaluate_targets(bench.cases)
    note = caveat(TARGET_MESSAGES, n)
    machine["src_digest_at_end"] = _code_digest()
    if machine["src_digest_at_end"] != machine["src_digest"]:
        changed = "warning: the source under src/ changed during this run; figures compare code"
        note = f"{changed} versions. {note}".strip()
        _say(changed + " versions")
    sys.stdout.write(render(bench.cases, targets, machine, note) + "\n")
    params = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    write_json(args.json_out, bench.cases, targets, machine, params, note)
    _say(f"wrote {args.json_out}")
    return 0 if all(c.ok for c in bench.cases if c.tool == "imarchive") else 1


if __name__ == "__main__":
    raise SystemExit(main())
