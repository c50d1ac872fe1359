"""Running commands on a pseudo-terminal, as people do (Python's ``pty``), not through pipes.

A command started by :func:`on_terminal` has a real terminal as its stdin, stdout and stderr
(``isatty()`` is true, the terminal is 120 columns wide), unless a shell redirection says
otherwise. Typing Ctrl-C is writing ``\\x03`` to the terminal: the terminal's line discipline
then sends SIGINT to the whole foreground process group, exactly as a keyboard does.

:func:`exit_logging_path` puts a ``ledger`` wrapper first on PATH that records the exit code
of every ``ledger`` command a script runs, so a whole walkthrough can run in one shell on
the terminal and each of its commands still be judged.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shlex
import signal
import struct
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

LEDGER = Path(sys.executable).parent / "ledger"
COLUMNS, ROWS = 120, 40
BAD_OUTPUT = ("internal error", "Traceback")


@dataclass
class TerminalRun:
    code: int
    output: bytes  # everything written to the terminal (stdout and stderr, CRLF line ends)

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace")


def on_terminal(argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
                timeout: float = 300, when: Callable[[bytes], bool] | None = None, keys: bytes = b"\x03") -> TerminalRun:
    """Run ``argv`` on a new pseudo-terminal; return its exit code (128 + N if killed by
    signal N) and everything it wrote there. If ``when(output so far)`` becomes true, type
    ``keys`` (Ctrl-C by default) once. A run longer than ``timeout`` seconds is killed and
    fails the test."""
    environment = dict(os.environ if env is None else env)
    environment.setdefault("TERM", "xterm")
    environment.pop("LEDGER_NO_PROGRESS", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdin, stdout and stderr are the terminal
        try:
            if cwd is not None:
                os.chdir(cwd)
            os.execvpe(argv[0], list(argv), environment)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    output = bytearray()
    typed = False
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise AssertionError(f"{shlex.join(argv)} still running after {timeout} s on the terminal:\n"
                                     + output[-3000:].decode("utf-8", "replace"))
            ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
            if ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO: every process holding the terminal has gone
                    break
                if not data:
                    break
                output += data
            if when is not None and not typed and when(bytes(output)):
                os.write(fd, keys)
                typed = True
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return TerminalRun(128 - code if code < 0 else code, bytes(output))


def exit_logging_path(directory: Path, log: Path) -> str:
    """A directory holding a ``ledger`` wrapper that appends "CODE<TAB>ARGS" to ``log`` for
    every run of the real command (the terminal stays the command's own); to put first on
    PATH."""
    directory.mkdir(parents=True, exist_ok=True)
    wrapper = directory / "ledger"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"{shlex.quote(str(LEDGER))} \"$@\"\n"
        "code=$?\n"
        f"printf '%s\\t%s\\n' \"$code\" \"$*\" >> {shlex.quote(str(log))}\n"
        "exit $code\n",
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    return str(directory)


def logged_exits(log: Path) -> list[tuple[int, str]]:
    if not log.exists():
        return []
    rows = [line.split("\t", 1) for line in log.read_text(encoding="utf-8").splitlines()]
    return [(int(code), args) for code, args in rows]


def judge(run: TerminalRun, exits: list[tuple[int, str]], what: str) -> None:
    """Every ledger command exited 0, 1 or 2, and nothing on the terminal is a crash."""
    wrong = [(code, args) for code, args in exits if code not in (0, 1, 2)]
    assert not wrong, f"{what}: exit codes outside 0/1/2: {wrong}\n{run.text[-3000:]}"
    for bad in BAD_OUTPUT:
        assert bad not in run.text, f"{what}: {bad!r} on the terminal:\n{run.text[-3000:]}"
