"""Run a child process and measure its wall time and peak resident memory.

Peak RSS comes from the operating system's accounting of the child (``ru_maxrss``), never from
sampling. Two ways, the first available wins:

1. ``/usr/bin/time -f %M`` (GNU time): the kernel's max RSS of the command, in KiB.
2. A tiny launcher (``python -S``, stdlib only) that starts the command with ``posix_spawn``
   and reads ``os.wait4``'s ``ru_maxrss``. Not ``wait4`` from this runner directly: after a
   ``fork``, a child's ``ru_maxrss`` starts at the parent's resident size, and the runner is big
   (it generated the inputs). ``posix_spawn`` does not copy the launcher's pages either.

Wall time is measured here with ``time.perf_counter`` around the whole child.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["GNU_TIME", "Run", "machine", "method", "run"]

GNU_TIME: Final = Path("/usr/bin/time")

_LAUNCHER: Final = r"""
import os, sys
out, argv = sys.argv[1], sys.argv[2:]
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
with open(out, "w") as fh:
    fh.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


def _gnu_time_works() -> bool:
    if not (GNU_TIME.is_file() and os.access(GNU_TIME, os.X_OK)):
        return False
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as fh:
        probe = subprocess.run(
            [str(GNU_TIME), "-f", "%M", "-o", fh.name, "true"], capture_output=True, check=False
        )
        return probe.returncode == 0 and fh.read().strip().isdigit()


_METHOD: str | None = None


def method() -> str:
    """``gnu-time`` or ``wait4-launcher``: how peak RSS is measured on this machine."""
    global _METHOD
    if _METHOD is None:
        _METHOD = "gnu-time" if _gnu_time_works() else "wait4-launcher"
    return _METHOD


@dataclass
class Run:
    argv: list[str]
    exit_code: int
    seconds: float
    peak_rss_mb: float | None
    stdout: str
    stderr: str
    timed_out: bool = False


def run(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    discard_stdout: bool = False,
) -> Run:
    """Run ``argv`` to completion; measure wall seconds and peak RSS (MB, 10^6 bytes)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss", delete=False) as fh:
        rss_file = fh.name
    try:
        if method() == "gnu-time":
            wrapped = [str(GNU_TIME), "-f", "%M", "-o", rss_file, "--", *argv]
        else:
            wrapped = [sys.executable, "-S", "-c", _LAUNCHER, rss_file, *argv]
        t0 = time.perf_counter()
        timed_out = False
        # A session of its own, so a timeout kills the command too, not only its wrapper.
        proc = subprocess.Popen(
            wrapped,
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL if discard_stdout else subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        code = -1 if timed_out else proc.returncode
        out = out or ""
        err = err or ""
        seconds = time.perf_counter() - t0
        text = Path(rss_file).read_text().strip()
        # GNU time writes "Command exited with non-zero status N" before %M on failure.
        last = text.splitlines()[-1] if text else ""
        rss = int(last) * 1024 / 1e6 if last.isdigit() else None
        return Run(argv, code, seconds, rss, out, err, timed_out)
    finally:
        Path(rss_file).unlink(missing_ok=True)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_mb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return None


def _version(argv: list[str]) -> str | None:
    if shutil.which(argv[0]) is None and not Path(argv[0]).exists():
        return None
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    return (proc.stdout or proc.stderr).strip() or None


def machine(python: Path) -> dict[str, object]:
    """What the figures were measured on."""
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "mem_total_mb": _mem_total_mb(),
        "kernel": platform.release(),
        "python": _version([str(python), "-c", "import sys; print(sys.version.split()[0])"]),
        "node": _version(["node", "--version"]),
        "rss_method": method(),
    }
