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


@dataclass
class Console:
    """Injectable: tests build one over StringIO with ``tty`` and ``width`` pinned."""

    out: IO[str] = field(default_factory=lambda: sys.stdout)
    err: IO[str] = field(default_factory=lambda: sys.stderr)
    tty: bool | None = None
    width: int | None = None
    quiet: bool = False

    def __post_init__(self) -> None:
        if self.tty is None:
            self.tty = self.err.isatty() and os.environ.get("TERM") != "dumb"
        self.rich_out = RichConsole(
            file=self.out,
            force_terminal=self.tty,
            no_color=not self.tty,
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

    def data(self, text: str) -> None:
        self.out.write(text if text.endswith("\n") else text + "\n")
        self.out.flush()

    def table(self, table: Any) -> None:
        self.rich_out.print(table)

    def info(self, text: str) -> None:
        if not self.quiet:
            self.line(text)

    def warn(self, text: str) -> None:
        self.line(f"warning: {text}")

    def error(self, text: str) -> None:
        self.line(f"error: {text}")

    def line(self, text: str) -> None:
        """A diagnostic line on stderr, shown even with --quiet."""
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
