"""Shared CLI plumbing: one place that turns library errors into one-line diagnostics."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TypeVar

import click

from ledger.storage.atomic import write_atomic  # noqa: F401 (the commands' one way to write a file)
from ledger.errors import InputError, KeyFileError, LedgerError
from ledger.core.safetext import clean

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FAILED = 1  # violations found, or the request was refused
EXIT_UNREADABLE = 2  # input could not be read, or a usage error
PASSPHRASE_ENV = "LEDGER_PASSPHRASE"


class LedgerGroup(click.Group):
    """A click group that prints LedgerError as one line on stderr, never a traceback.

    Commands listed in ``lazy_commands`` (name -> module of this package) are imported on
    first use, which keeps start-up fast.
    """

    lazy_commands: dict[str, str] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None and name in self.lazy_commands:
            import importlib

            module = importlib.import_module(f"{__package__}.{self.lazy_commands[name]}")
            for candidate in module.COMMANDS:
                self.add_command(candidate)
            command = super().get_command(ctx, name)
        return command

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        any_locale_streams()
        return super().main(utf8_args(sys.argv[1:] if args is None else list(args)), *rest, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            fail(str(exc), EXIT_UNREADABLE)
        except LedgerError as exc:
            fail(str(exc), EXIT_FAILED)
        except click.UsageError as exc:  # one line, not click's usage block
            command = exc.ctx.command_path if exc.ctx is not None else "ledger"
            fail(f"{exc.format_message()} (see '{command} --help')", EXIT_UNREADABLE)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)
        except click.exceptions.Exit:
            raise
        except (KeyboardInterrupt, click.exceptions.Abort):  # Ctrl-C (Abort: at a click prompt)
            interrupted()
        except BrokenPipeError:
            sys.stderr.close()
            raise SystemExit(EXIT_FAILED)
        except OSError as exc:
            fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "), EXIT_UNREADABLE)
        except Exception as exc:  # a bug: still one line, details only on request
            if os.environ.get("LEDGER_DEBUG"):
                traceback.print_exc()
            fail(f"internal error ({type(exc).__name__}: {exc}); set LEDGER_DEBUG=1 for details", 3)


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C

# What this run has durably written so far (e.g. "appended entries 5..9"): an interrupt after
# a commit must say so, not suggest that nothing happened.
_committed: list[str] = []


def committed(what: str) -> None:
    """Record that ``what`` is now durably written (said if the run is interrupted later)."""
    _committed.append(what)


def interrupted() -> None:
    """Ctrl-C: one line, exit 130; names what had already been committed, if anything."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the message short
    if _committed:
        fail(f"interrupted after the write had committed: {'; '.join(_committed)}", EXIT_INTERRUPTED)
    fail("interrupted; nothing was written", EXIT_INTERRUPTED)


def utf8_args(args: list[str]) -> list[str]:
    """Command-line arguments as the UTF-8 text they almost always are, whatever the locale.

    Under a non-UTF-8 locale (LC_ALL=C with Python's UTF-8 mode off) Python decodes argv
    with the locale's codec and keeps undecodable bytes as lone surrogates (PEP 383), which
    no JSON text may hold: "Cártel" would arrive as "C\\udcc3\\udca1rtel". Such an argument
    is read again from its bytes as UTF-8; one that is not UTF-8 is left as it was (and is
    refused where it is used)."""
    out = []
    for arg in args:
        try:
            out.append(os.fsencode(arg).decode("utf-8") if any("\udc80" <= c <= "\udcff" for c in arg) else arg)
        except UnicodeDecodeError:
            out.append(arg)
    return out


def any_locale_streams() -> None:
    """Printing never fails on a character the locale cannot show: an ASCII locale gets
    UTF-8 (as Python's own UTF-8 mode would write), any other escapes what it lacks."""
    import codecs

    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None)
        if encoding is None or not hasattr(stream, "reconfigure"):
            continue
        name = codecs.lookup(encoding).name
        if name == "ascii":
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")
        elif name != "utf-8":
            stream.reconfigure(errors="backslashreplace")


def fail(message: str, code: int = EXIT_FAILED) -> None:
    """One line on stderr (data quoted in it escaped: ``_terminal.clean``), then exit."""
    click.echo(f"error: {clean(message)}", err=True)
    raise SystemExit(code)


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False))


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def at_option(f: F) -> F:
    return click.option(
        "--at",
        metavar="TIME",
        help="Claimed time, RFC 3339 UTC (2026-03-01T12:00:00Z). Default: now.",
    )(f)


def resolve_at(at: str | None) -> str:
    if at is None:
        return utc_now()
    try:
        datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DDTHH:MM:SSZ, got {at!r}", param_hint="--at") from None
    return at


def passphrase_options(f: F) -> F:
    f = click.option(
        "--passphrase-env",
        metavar="VAR",
        default=PASSPHRASE_ENV,
        show_default=True,
        help="Environment variable holding the key passphrase.",
    )(f)
    f = click.option(
        "--passphrase-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="File whose first line is the key passphrase.",
    )(f)
    return f


def get_passphrase(passphrase_file: Path | None, passphrase_env: str, *, confirm: bool = False) -> bytes | None:
    """Passphrase from a file, else the environment, else a prompt on a terminal, else None."""
    if passphrase_file is not None:
        try:
            text = passphrase_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InputError(f"{passphrase_file}: cannot read passphrase file ({exc.strerror})") from None
        if not text or not text[0]:
            raise KeyFileError(f"{passphrase_file}: passphrase file is empty")
        return text[0].encode("utf-8")
    value = os.environ.get(passphrase_env)
    if value:
        return os.fsencode(value)  # the bytes as given, whatever the locale
    if sys.stdin.isatty():
        typed = click.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)
        return typed.encode(sys.stdin.encoding or "utf-8", "surrogateescape")
    return None


def load_key(path: Path, passphrase_file: Path | None, passphrase_env: str):  # -> SigningKey
    """Read a private key, asking for the passphrase only if the file is encrypted."""
    from ledger.storage.keyfiles import is_encrypted_private_key, read_private_key_file

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read key file ({exc.strerror})") from None
    passphrase = None
    if is_encrypted_private_key(data):
        passphrase = get_passphrase(passphrase_file, passphrase_env)
        if passphrase is None:
            raise KeyFileError(
                f"{path}: key is encrypted; give --passphrase-file, set {passphrase_env}, or run on a terminal"
            )
    return read_private_key_file(path, passphrase)


STATE_HELP = ("A verifier state file of yours (SPEC.md 9): resume from it as `ledger verify --state` does (only "
              "the entries it does not cover are verified) and save it again when the ledger verifies.")


def state_option(*names: str) -> Callable[[F], F]:
    """``--state FILE`` (or ``names``) for a command that reads a ledger: taken by :func:`open_verified`."""
    def remember(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
        ctx.meta["ledger.state"] = value

    return click.option(*(names or ("--state",)), metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
                        expose_value=False, callback=remember, help=STATE_HELP)


def open_verified(location: str | Path):  # -> ledger.app.load.Loaded
    """The ledger at ``location`` (any form) read by the one loader, ``ledger.app.load.open_ledger``,
    with progress on a terminal, resuming from the command's ``--state FILE`` if given; closed
    when the command ends. InputError if it holds no valid genesis entry."""
    from ledger.app.load import open_ledger

    from ._terminal import progress

    ctx = click.get_current_context()
    with progress("reading ledger", entry_total(location)) as done:
        loaded = open_ledger(location, state=ctx.meta.get("ledger.state"), progress=done)
    ctx.call_on_close(loaded.close)
    return loaded.require_ledger()


def verified(store):  # -> Verifier
    """``store.verifier()`` with progress shown (it verifies every stored entry the first time)."""
    from ._terminal import progress

    with progress("loading ledger", store.size) as done:
        return store.verifier(progress=done)


def entry_total(path: str | Path) -> int | None:
    """How many entries a SQLite ledger holds (a progress bar's total); None for anything
    else (a bundle, a directory, a URL: the progress shows a spinner) or when unreadable."""
    from ledger.storage.store import LedgerStore, is_sqlite_file

    if not is_sqlite_file(path):
        return None
    try:
        with LedgerStore.open(path, readonly=True) as store:
            return store.size
    except (LedgerError, OSError, sqlite3.DatabaseError):
        return None  # the command itself reports why


def read_input(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what} ({exc.strerror})") from None
