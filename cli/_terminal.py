"""What a person sees on a terminal: ledger text made harmless, and progress on stderr.

Escaping (``clean``): ledger data is written by signers the reader does not control. A
justification or an incident note that carries escape sequences could erase or rewrite the
lines around it (a forged "OK:" line), so every human-readable line the CLI prints goes
through ``clean``/``say``, whether or not stdout is a terminal (a piped report may be
``cat`` to one later). Escaped, as Python-style ``\\xNN``/``\\uNNNN``/``\\UNNNNNNNN``:

* every character of Unicode category Cc: the C0 controls U+0000-U+001F (newline, carriage
  return, tab and ESC included: a line of data stays one line), DEL U+007F and the C1
  controls U+0080-U+009F (U+009B is a one-byte CSI on some terminals);
* category Cf, the invisible format characters: the bidi embeddings, overrides and isolates
  (U+202A-U+202E, U+2066-U+2069, the "Trojan Source" characters), the marks U+200E, U+200F,
  U+061C, the zero-width characters U+200B-U+200D, U+2060-U+2064 and U+FEFF, soft hyphen;
* categories Zl and Zp (U+2028, U+2029, which some viewers treat as line breaks) and Cs
  (lone surrogates, which cannot be encoded).

Everything else, accented letters and other scripts included, is printed as it is. The
backslash is not escaped: the aim is a terminal that shows the data without obeying it, not
a reversible encoding (``--json`` gives the exact data). Machine output (``--json``, the
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
import unicodedata
from contextlib import contextmanager
from typing import Callable, Iterator

import click

__all__ = ["clean", "say", "progress", "Progress"]

_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def clean(text: object) -> str:
    """``text`` with every control and invisible format character escaped (module docstring)."""
    text = str(text)
    if text.isprintable() and text.isascii():  # the common case, fast
        return text
    return "".join(_escape(ch) if unicodedata.category(ch) in _ESCAPED_CATEGORIES else ch for ch in text)


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
    Nothing is written when stderr is not a terminal or ``LEDGER_NO_PROGRESS`` is set.
    """
    stream = sys.stderr
    if not stream.isatty() or os.environ.get("LEDGER_NO_PROGRESS"):
        yield _no_progress
        return
    display = Progress(label, total, stream)
    try:
        yield display
    finally:
        display.close()
