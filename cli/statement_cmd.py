"""Statement commands: create statements, sign them offline (in turn or in parallel),
combine copies and signature files, and show what is signed and what is still missing."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ledger.app.load import Loaded
from ledger.app.preflight import Preflight, check, describe, signature_count
from ledger.app.statements import parse_body, policy_change
from ledger.core.authoring import genesis_statement
from ledger.core.model import Statement
from ledger.errors import InputError, LedgerRefused, OptionError
from ledger.storage.keyfiles import read_public_key_file
from ledger.core.statement_file import SignatureFile, StatementFile, combine as combine_files

from ._common import (at_option, echo_json, fail, load_key, open_verified, passphrase_options, read_input, resolve_at, state_option,
                      write_atomic)
from ._terminal import say

LEDGER_HELP = "The ledger: SQLite file, exported bundle, or published directory or URL."


def ledger_option(help_text: str = LEDGER_HELP):
    """--ledger LEDGER, and --state FILE to resume its verification (``_common.open_verified``)."""
    return lambda f: state_option()(click.option("--ledger", "ledger_path", metavar="LEDGER", help=help_text)(f))


def refuse_if_failing(document: StatementFile, view: Loaded | None, what: str) -> Preflight:
    """The checks ``ledger append`` will run; refuses (LedgerRefused: exit 1, nothing written)
    a ledger that fails verification, and any failure other than signatures still missing."""
    if view is not None:
        view.refuse_if_invalid(f"the store refuses every append, {what} included")
    result = check(document, view)
    if result.failures:
        problems = "; ".join(f"{v.message} [{v.rule}]" for v in result.failures)
        raise LedgerRefused(f"{what} would be refused by the ledger: {problems}", result.failures)
    return result


def write_new_statement(statement: Statement, out: Path | None, view: Loaded | None = None,
                        checked: bool = True) -> None:
    """Check a new statement as ``append`` will (unless ``checked`` is False) and write it."""
    document = StatementFile(statement)
    StatementFile.parse(document.to_bytes(), f"new {statement.type} statement")  # schema, strictly
    if checked and (view is not None or statement.type == "ledger.genesis"):
        refuse_if_failing(document, view, f"this {statement.type} statement")
    data = document.to_bytes()
    if out is None:
        click.echo(data.decode("utf-8"), nl=False)
        return
    if out.exists():
        raise InputError(f"{out} already exists; refusing to overwrite")
    write_atomic(out, data)
    say(f"wrote {out} ({statement.type}); next: ledger sign {out} --key KEY", err=True)


def read_statement_file(path: Path) -> StatementFile:
    return StatementFile.parse(read_input(path, "statement file"), str(path))


def _public_keys(paths: tuple[Path, ...]):
    return [read_public_key_file(p) for p in paths]


@click.command()
@click.option("--origin", required=True, help="Checkpoint origin naming the ledger, e.g. ledger.example.org/mx-2026.")
@click.option("--name", "title", required=True, help="Human name of the ledger.")
@click.option("--panel", "panel", multiple=True, required=True, type=click.Path(dir_okay=False, path_type=Path), help="Panel member public key file (repeat).")
@click.option("--panel-threshold", type=click.IntRange(min=1), required=True, help="Panel signatures required.")
@click.option("--recorder", multiple=True, required=True, type=click.Path(dir_okay=False, path_type=Path), help="Recorder public key file (repeat).")
@click.option("--operator", multiple=True, required=True, type=click.Path(dir_okay=False, path_type=Path), help="Operator public key file (repeat).")
@click.option("--description", default="", help="Longer description.")
@at_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Statement file to write (default: stdout).")
def genesis(origin, title, panel, panel_threshold, recorder, operator, description, at, out) -> None:
    """Create the unsigned genesis statement that founds a ledger.

    Every key it names must sign it (proof of possession), which includes a threshold
    of the panel. Then `ledger init` creates the ledger from it. The statement is checked
    now, as `ledger init` will check it (origin, policy), so nobody signs a bad one.

    \b
    Example:
      ledger genesis --origin ledger.example.org/mx --name "MX violence ledger" \\
        --panel k/p1.pub --panel k/p2.pub --panel k/p3.pub --panel-threshold 2 \\
        --recorder k/r1.pub --operator k/op.pub --out genesis.json
    """
    roles = {
        "panel": (_public_keys(panel), panel_threshold),
        "recorder": (_public_keys(recorder), 1),
        "operator": (_public_keys(operator), 1),
    }
    write_new_statement(genesis_statement(origin, title, roles, resolve_at(at), description), out)


@click.command("new")
@click.argument("statement_type")
@click.option("--body", "body_file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="JSON file with the statement body ('-' for stdin).")
@ledger_option("Ledger the statement is for: reads its id and checks the statement against it (SQLite file, bundle, published directory or URL).")
@click.option("--ledger-id", help="Ledger id (64 hex), when the ledger is not at hand (then only the schema is checked).")
@at_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Statement file to write (default: stdout).")
def new(statement_type, body_file, ledger_path, ledger_id, at, out) -> None:
    """Create an unsigned statement of STATEMENT_TYPE from a JSON body file.

    With --ledger, the statement is checked now exactly as `ledger append` will check it
    (schema, authority, the scoring state): a statement the ledger would refuse is not
    written. With --ledger-id, only the schema is checked.

    \b
    Example:
      ledger new incident.record --body incident.json --ledger ledger.db --out inc.json
    """
    if (ledger_path is None) == (ledger_id is None):
        raise click.UsageError("give exactly one of --ledger or --ledger-id")
    view = open_verified(ledger_path) if ledger_path is not None else None
    ledger_id = view.ledger_id if view is not None else ledger_id
    data = click.get_binary_stream("stdin").read() if str(body_file) == "-" else read_input(body_file, "body")
    body = parse_body(data, str(body_file))
    write_new_statement(Statement.build(statement_type, body, resolve_at(at), ledger_id), out, view)


@click.command("policy-update")
@click.argument("ledger_path", metavar="LEDGER")
@state_option()
@click.option("--add", "adds", multiple=True, metavar="ROLE=PUBFILE", help="Add a key to a role (repeat).")
@click.option("--remove", "removes", multiple=True, metavar="KEYID", help="Remove a key (rotation; may return later).")
@click.option("--revoke", "revokes", multiple=True, metavar="KEYID", help="Revoke a key for ever.")
@click.option("--threshold", "thresholds", multiple=True, metavar="ROLE=N", help="Set a role's threshold.")
@click.option("--reason", required=True, help="Why the policy changes (public).")
@at_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Statement file to write (default: stdout).")
def policy_update(ledger_path, adds, removes, revokes, thresholds, reason, at, out) -> None:
    """Create a policy.update from the ledger's current policy: add, rotate, revoke keys.

    A threshold of the current panel must sign it, and so must every key it adds.

    \b
    Example (rotate a recorder key):
      ledger policy-update ledger.db --add recorder=keys/rec-new.pub \\
        --remove 3fa1…(old key id) --reason "scheduled rotation" --out rotate.json
    """
    view = open_verified(ledger_path)
    try:
        statement = policy_change(view, resolve_at(at), reason, adds, removes, revokes, thresholds)
    except OptionError as exc:
        raise click.BadParameter(str(exc), param_hint=exc.option) from None
    write_new_statement(statement, out, view)


def _show_statement(document: StatementFile, view: Loaded | None) -> None:
    for label, value in describe(document, view):
        say(f"  {label + ':':<18} {value}")


@click.command()
@click.argument("statement_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "key_file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Your private key file.")
@ledger_option("Check the statement against this ledger before signing (SQLite file, bundle, published directory or URL); refuses to sign what append would refuse.")
@click.option("--output-signature", "signature_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a detached signature file here instead of adding the signature to STATEMENT_FILE (merge with `ledger combine`).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (on a terminal, sign asks after showing what is signed).")
@passphrase_options
def sign(statement_file: Path, key_file: Path, ledger_path: str | None, signature_out: Path | None, yes: bool,
         passphrase_file, passphrase_env) -> None:
    """Sign STATEMENT_FILE after showing what it says, and checking the signatures already there.

    Shows the ledger, type, round, target, ranking digest, rules version and the body's key
    fields, then asks for confirmation on a terminal (not with --yes; when stdin is not a
    terminal, as in scripts, it signs without asking: the summary is still printed). With
    --ledger it first runs the checks `ledger append` will run, and refuses to sign a
    statement the ledger would refuse, or with a key that may not sign it.

    The signature is added in place, or with --output-signature written to a separate
    signature file. Panel members may each sign their own copy in parallel; `ledger combine`
    merges the copies. Run it on your own machine: the private key never leaves it.

    \b
    Example:
      ledger sign decision.json --key ~/keys/panel-ana.key --ledger https://ledger.example.org/mx
      ledger sign decision.json --key ~/keys/panel-ana.key --output-signature ana.sig --yes
    """
    document = read_statement_file(statement_file)
    view = open_verified(ledger_path) if ledger_path is not None else None
    checked = view is not None or document.statement.type == "ledger.genesis"  # a genesis needs no ledger
    say(f"You are signing {statement_file}:")
    _show_statement(document, view)
    if checked:
        refuse_if_failing(document, view, "this statement")
    else:
        say("  (not checked against the ledger: give --ledger to run the checks append will run)")
    if signature_out is not None and signature_out.exists():
        raise InputError(f"{signature_out} already exists; refusing to overwrite")
    if not yes and sys.stdin.isatty():
        if not click.confirm("Sign it?"):
            fail("not signed: declined at the prompt; nothing was written")
    key = load_key(key_file, passphrase_file, passphrase_env)
    signature = document.sign(key)
    result = None
    if checked:  # with this signature: e.g. a key without the role the type requires
        result = refuse_if_failing(document, view, f"this statement signed by key {key.public.key_id[:12]}")
    who = result.label(key.public.key_id) if result is not None else key.public.key_id[:16]
    if signature_out is not None:
        write_atomic(signature_out, SignatureFile(document.statement.digest.hex(), key.public, signature).to_bytes())
        say(f"wrote signature file {signature_out} (key {who}); next: ledger combine OUT {statement_file} {signature_out} ...")
    else:
        write_atomic(statement_file, document.to_bytes())
        say(f"signed {statement_file} as {who}: {len(document.signatures)} signature(s)")
    if result is not None:
        for line in result.waiting() or ["complete: ready to append"]:
            say(f"  {line}")


@click.command()
@click.argument("statement_file", type=click.Path(dir_okay=False, path_type=Path))
@ledger_option("Ledger that judges the statement: SQLite file, exported bundle, or published directory or URL (not needed for a genesis).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(statement_file: Path, ledger_path: str | None, as_json: bool) -> None:
    """Show what STATEMENT_FILE says, who signed it, who is still missing, and EVERY check
    that `ledger append` would fail now, and why.

    The checks are the verifier's own, against the ledger as it stands: schema, authority
    (which role signs; a signer without that role is a failure), and the scoring state
    (dates, organizations, rounds...). Signatures still missing are not failures: they are
    shown as "waiting for k more of role X".

    Exit 0 when the statement is ready to append; 1 when it is waiting for signatures or
    would be refused (the output says which).

    \b
    Example:
      ledger status decision.json --ledger ledger.db
      ledger status decision.json --ledger ledger.jsonl
      ledger status decision.json --ledger https://ledger.example.org/mx --json
    """
    document = read_statement_file(statement_file)
    if ledger_path is None and document.statement.type != "ledger.genesis":
        raise click.UsageError("--ledger is required to judge a statement other than a genesis")
    view = open_verified(ledger_path) if ledger_path is not None else None
    result = check(document, view)
    if as_json:
        echo_json(result.to_json(document))
        raise SystemExit(0 if result.ready else 1)
    say(f"{statement_file}:")
    _show_statement(document, view)
    if result.status is not None:
        threshold = result.status.threshold
        say(f"signatures of role {threshold.role}: {signature_count(threshold)}")
        for label in result.labels(threshold.signed):
            say(f"  signed   {label}")
        for label in result.labels(threshold.missing):
            say(f"  missing  {label}")
        for key_id in sorted(set(document.signatures) - set(threshold.signed), key=result.label):
            note = "proof of possession" if key_id in result.added else f"not a {threshold.role} key: not counted"
            say(f"  also signed by {result.label(key_id)} ({note})")
    for line in result.waiting():
        say(line)
    for violation in result.failures:
        say(f"FAIL {violation.message} [{violation.rule}]")
    if result.ready:
        say("ready to append: every check passes and every required signature is there")
    elif result.failures:
        say(f"REFUSED: append would refuse this file as it is ({len(result.failures)} problem(s) above); "
                   "more signatures cannot fix that")
    else:
        say("no problem found; waiting for signatures")
    raise SystemExit(0 if result.ready else 1)


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def combine(out: Path, inputs: tuple[Path, ...]) -> None:
    """Merge copies of a statement file signed in parallel, and detached signature files,
    into OUT.

    Every signature is checked; a key's second signature is dropped as a duplicate; copies
    whose statement differs from the first are refused, naming each differing field with
    both values. An existing OUT is merged too (so it must hold the same statement): no
    signature is ever lost.

    \b
    Example:
      ledger combine decide.json ana/decide.json ben/decide.json carla/decide.json
      ledger combine decide.json decide.json ana.sig ben.sig carla.sig
    """
    if out.exists() and out.resolve() not in {p.resolve() for p in inputs}:
        inputs = (out, *inputs)  # merged, never overwritten (a different statement is refused)
    merged = combine_files([(str(p), read_input(p, "statement or signature file")) for p in inputs])
    write_atomic(out, merged.document.to_bytes())
    dropped = f", {merged.duplicates} duplicate(s) dropped" if merged.duplicates else ""
    say(f"wrote {out}: {len(merged.document.signatures)} signature(s) from {len(inputs)} file(s){dropped}; "
               f"next: ledger status {out} --ledger LEDGER")


COMMANDS = [genesis, new, policy_update, sign, status, combine]
