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

__all__ = ["GNU_TIME", "Run", "cpu_busy", "machine", "method", "run", "settle"]

GNU_TIME: Final = Path("/usr/bin/time")

_LAUNCHER: Final = r"""
import os, sys
out, argv = sys.argv[1], sys.argv[2:]
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
with open(out, "w") as fh:
    fh.write("%d %.3f %.3f" % (usage.ru_maxrss, usage.ru_utime, usage.ru_stime))
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
    cpu_seconds: float | None = None  # the child's user + system time
    others_cores: float | None = None  # mean CPUs used by other processes during the run
    waited_seconds: float = 0.0  # how long ``settle`` waited before the run


def run(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    discard_stdout: bool = False,
    wait_idle: float = 0.0,
) -> Run:
    """Run ``argv`` to completion; measure wall seconds and peak RSS (MB, 10^6 bytes).

    With ``wait_idle`` > 0, first wait up to that many seconds for the machine to go quiet
    (see ``settle``)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss", delete=False) as fh:
        rss_file = fh.name
    try:
        if method() == "gnu-time":
            wrapped = [str(GNU_TIME), "-f", "%M %U %S", "-o", rss_file, "--", *argv]
        else:
            wrapped = [sys.executable, "-S", "-c", _LAUNCHER, rss_file, *argv]
        waited = settle(wait_idle) if wait_idle > 0 else 0.0
        busy0 = _busy_ticks()
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
        busy1 = _busy_ticks()
        text = Path(rss_file).read_text().strip()
        # GNU time writes "Command exited with non-zero status N" before the figures on failure.
        fields = (text.splitlines()[-1] if text else "").split()
        rss = cpu = None
        if len(fields) == 3 and fields[0].isdigit():
            rss = int(fields[0]) * 1024 / 1e6
            cpu = float(fields[1]) + float(fields[2])
        others = None
        if busy0 is not None and busy1 is not None and cpu is not None and seconds > 0:
            # CPU the whole machine spent meanwhile, minus the child's: what else was running.
            others = max(0.0, (busy1 - busy0) / _HZ - cpu) / seconds
        return Run(argv, code, seconds, rss, out, err, timed_out, cpu, others, waited)
    finally:
        Path(rss_file).unlink(missing_ok=True)


_HZ: Final = os.sysconf("SC_CLK_TCK")


def _busy_ticks() -> int | None:
    """Non-idle CPU ticks of the whole machine since boot (``/proc/stat``)."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    ticks = [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return sum(ticks) - ticks[3] - ticks[4]


def cpu_busy(interval: float = 1.0) -> float | None:
    """CPUs in use over ``interval`` seconds (0 = idle machine), or None off Linux."""
    a = _busy_ticks()
    time.sleep(interval)
    b = _busy_ticks()
    return None if a is None or b is None else (b - a) / _HZ / interval


def settle(limit: float, threshold: float = 0.15) -> float:
    """Wait until the machine is quiet (under ``threshold`` CPUs busy over a second) or
    ``limit`` seconds have passed; return the seconds waited. On a shared machine other jobs
    (test suites, builds) would otherwise slow the case being measured."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        busy = cpu_busy(1.0)
        if busy is None or busy < threshold:
            break
    return time.monotonic() - t0


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
