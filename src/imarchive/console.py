"""Where output goes: stdout for data (JSON, tables), stderr for diagnostics.
Rich (colour, tables, progress bars) only on a terminal; plain lines under cron."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from rich.console import Console as RichConsole
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from imarchive.errors import OutputError


def _terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (OSError, ValueError):
        return False


@dataclass
class Console:
    """Injectable: tests build one over StringIO with ``tty`` and ``width`` pinned."""

    out: IO[str] = field(default_factory=lambda: sys.stdout)  # None: started closed
    err: IO[str] = field(default_factory=lambda: sys.stderr)
    tty: bool | None = None  # stderr is a terminal: progress bars, coloured diagnostics
    width: int | None = None
    quiet: bool = False
    out_tty: bool | None = None  # stdout is a terminal: tables (not in a file or a pipe)

    def __post_init__(self) -> None:
        self.out_closed = self.out is None
        if self.out is None:  # data written then is an error (see ``data``)
            self.out = open(os.devnull, "w")  # noqa: SIM115
        for stream in (self.out, self.err):  # a path no locale can show: escaped, not a crash
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="backslashreplace")
        if self.err is None:  # diagnostics are dropped: there is nowhere to say anything
            self.err = open(os.devnull, "w")  # noqa: SIM115
        if self.tty is None:
            self.tty = _terminal(self.err)
            self.out_tty = _terminal(self.out)
        elif self.out_tty is None:
            self.out_tty = self.tty
        self.rich_out = RichConsole(
            file=self.out,
            force_terminal=self.out_tty,
            no_color=not self.out_tty,
            width=self.width,
            highlight=False,
            soft_wrap=False,
        )
        self.rich_err = RichConsole(
            file=self.err,
            force_terminal=self.tty,
            no_color=not self.tty,
            width=self.width,
            highlight=False,
            soft_wrap=False,
        )

    @property
    def out_utf8(self) -> bool:
        """stdout takes any character (else JSON is written with ``\\u`` escapes)."""
        encoding = (getattr(self.out, "encoding", None) or "utf-8").lower().replace("-", "")
        return encoding in ("utf8", "utf8sig")

    def data(self, text: str) -> None:
        with self._stdout():
            self.out.write(text if text.endswith("\n") else text + "\n")
            self.out.flush()

    def table(self, table: Any) -> None:
        with self._stdout():
            self.rich_out.print(table)

    @contextmanager
    def _stdout(self) -> Iterator[None]:
        if self.out_closed:
            raise OutputError("cannot write to stdout (it is closed)")
        with _writing("stdout"):
            yield

    def info(self, text: str) -> None:
        if not self.quiet:
            self.line(text)

    def warn(self, text: str) -> None:
        self.line(f"warning: {text}")

    def error(self, text: str) -> None:
        self.line(f"error: {text}")

    def line(self, text: str) -> None:
        """A diagnostic line on stderr, shown even with --quiet."""
        # one line per diagnostic, whatever a path holds (a newline in a file name)
        text = text.replace("\r", "\\r").replace("\n", "\\n")
        with _writing("stderr"):
            if self.tty:
                self.rich_err.print(text, markup=False, highlight=False)
            else:
                self.err.write(text + "\n")
                self.err.flush()

    @contextmanager
    def progress(self, label: str) -> Iterator[Any]:
        """A progress callback ``(what, done, total)``; a no-op off a terminal."""
        if not self.tty or self.quiet:
            yield lambda what, done, total: None
            return
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.rich_err,
            transient=True,
        )
        task = bar.add_task(label, total=None)

        def update(what: str, done: int, total: int) -> None:
            # paths only; never message content
            bar.update(task, completed=done, total=total, description=f"{label} {what[-50:]}")

        with bar:
            yield update


@contextmanager
def _writing(name: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:  # closed, full, or a pipe whose reader stopped
        raise OutputError(f"cannot write to {name} ({exc.strerror or exc})") from None
