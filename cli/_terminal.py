"""What a person sees on a terminal: ledger text made harmless, and progress on stderr.

Escaping: every human-readable line goes through ``say`` (or ``clean`` from
:mod:`ledger.core.safetext`, which says what is escaped and why), whether or not stdout is a
terminal (a piped report may be ``cat`` to one later). Machine output (``--json``, the
statement and checkpoint documents) is printed unchanged.

Progress (``progress``): a determinate bar when the total is known, a spinner with a count
otherwise, on stderr and only when stderr is a terminal; the line is erased when the work
ends, so stdout (and any ``--json`` document) never contains a byte of it.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import click

from ledger.core.safetext import clean

__all__ = ["clean", "say", "progress", "Progress"]


def say(line: object = "", *, err: bool = False) -> None:
    """Print one human-readable line, escaped with ``clean``."""
    click.echo(clean(line), err=err)


class Progress:
    """Draws one status line on a terminal stream: a bar if ``total`` is known, else a spinner."""

    SPINNER = "|/-\\"
    INTERVAL = 0.1  # seconds between redraws: cheap even when called once per entry

    def __init__(self, label: str, total: int | None, stream) -> None:
        self.label, self.total, self.stream = label, total, stream
        self.done = 0
        self.turn = 0
        self.started = time.monotonic()
        self.drawn_at: float | None = None

    def __call__(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.drawn_at is None or now - self.drawn_at >= self.INTERVAL:
            self.drawn_at = now
            self.draw(now)

    def line(self, now: float) -> str:
        elapsed = f"{now - self.started:.0f}s"
        if self.total:
            done = min(self.done, self.total)
            width = 24
            filled = width * done // self.total
            return (f"{self.label} [{'#' * filled}{'-' * (width - filled)}] {done:,}/{self.total:,} "
                    f"{100 * done // self.total}% {elapsed}")
        self.turn += 1
        count = f" {self.done:,}" if self.done else ""
        return f"{self.label} {self.SPINNER[self.turn % len(self.SPINNER)]}{count} {elapsed}"

    def draw(self, now: float) -> None:
        columns = shutil.get_terminal_size((80, 24)).columns
        self.stream.write("\r\x1b[K" + clean(self.line(now))[: max(columns - 1, 10)])
        self.stream.flush()

    def close(self) -> None:
        if self.drawn_at is not None:
            self.stream.write("\r\x1b[K")  # erase the status line: what follows starts clean
            self.stream.flush()


def _no_progress(n: int = 1) -> None:
    return None


@contextmanager
def progress(label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A callback ``done(n)`` that shows progress on stderr when it is a terminal.

    ``total`` (a count of whatever the callback counts) gives a bar; None gives a spinner.
    Nothing is written when stderr is not a terminal, the terminal is ``TERM=dumb`` (no
    line erasing), or ``LEDGER_NO_PROGRESS`` is set.
    """
    stream = sys.stderr
    if not stream.isatty() or os.environ.get("TERM") == "dumb" or os.environ.get("LEDGER_NO_PROGRESS"):
        yield _no_progress
        return
    display = Progress(label, total, stream)
    try:
        yield display
    finally:
        display.close()
