"""Statement commands: create statements, sign them offline, show who still has to sign."""

from __future__ import annotations

from pathlib import Path

import click

from ledger import canonical
from ledger.authoring import genesis_statement, policy_update_statement
from ledger.errors import AuthorityError, InputError, LedgerError
from ledger.keyfiles import read_public_key_file
from ledger.model import Statement
from ledger.policy import Policy
from ledger.statement_file import StatementFile
from ledger.store import LedgerStore

from ._common import at_option, echo_json, load_key, passphrase_options, read_input, resolve_at, verified, write_atomic
from ._terminal import say


def ledger_state(path: Path):
    """Open a ledger, verify it, and return its verifier state (policy, id)."""
    with LedgerStore.open(path, readonly=True) as store:
        return verified(store)


def write_new_statement(statement: Statement, out: Path | None) -> None:
    data = StatementFile(statement).to_bytes()
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
    of the panel. Then `ledger init` creates the ledger from it.

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
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path), help="Ledger the statement is for (reads its id).")
@click.option("--ledger-id", help="Ledger id (64 hex), when the ledger is not at hand.")
@at_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Statement file to write (default: stdout).")
def new(statement_type, body_file, ledger_path, ledger_id, at, out) -> None:
    """Create an unsigned statement of STATEMENT_TYPE from a JSON body file.

    The body is checked against the type's schema now, not at append time.

    \b
    Example:
      ledger new incident.record --body incident.json --ledger ledger.db --out inc.json
    """
    if (ledger_path is None) == (ledger_id is None):
        raise click.UsageError("give exactly one of --ledger or --ledger-id")
    if ledger_path is not None:
        ledger_id = ledger_state(ledger_path).context.ledger_id
    data = click.get_binary_stream("stdin").read() if str(body_file) == "-" else read_input(body_file, "body")
    try:
        body = canonical.parse(data.strip())
    except LedgerError as exc:
        raise InputError(f"{body_file}: {exc.message}") from None
    if not isinstance(body, dict):
        raise InputError(f"{body_file}: the body must be a JSON object")
    statement = Statement.build(statement_type, body, resolve_at(at), ledger_id)
    StatementFile.parse(StatementFile(statement).to_bytes(), "new statement")  # schema check now
    write_new_statement(statement, out)


@click.command("policy-update")
@click.argument("ledger_path", type=click.Path(dir_okay=False, path_type=Path))
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
    state = ledger_state(ledger_path)
    policy: Policy = state.context.policy
    add = []
    for item in adds:
        role, _, file = item.partition("=")
        if not file:
            raise click.BadParameter(f"expected ROLE=PUBFILE, got {item!r}", param_hint="--add")
        public, label = read_public_key_file(Path(file))
        add.append((role, public, label))
    parsed: dict[str, int] = {}
    for item in thresholds:
        role, _, value = item.partition("=")
        if not value.isdigit():
            raise click.BadParameter(f"expected ROLE=N, got {item!r}", param_hint="--threshold")
        parsed[role] = int(value)
    statement = policy_update_statement(
        state.context.ledger_id,
        policy,
        resolve_at(at),
        reason=reason,
        add=add,
        remove=[_full_key_id(policy, k, "--remove") for k in removes],
        revoke=[_full_key_id(policy, k, "--revoke") for k in revokes],
        thresholds=parsed,
    )
    StatementFile.parse(StatementFile(statement).to_bytes(), "new statement")  # schema check now
    write_new_statement(statement, out)


def _full_key_id(policy: Policy, prefix: str, option: str) -> str:
    """The one key id of ``policy`` that starts with ``prefix``; an ambiguous or unknown
    prefix is refused (revocation is permanent: never guess which key was meant)."""
    matches = sorted(k for k in policy.keys if prefix and k.startswith(prefix.lower()))
    if len(matches) != 1:
        found = "no key" if not matches else f"{len(matches)} keys ({', '.join(m[:12] for m in matches)})"
        raise AuthorityError(f"{option} {prefix!r} matches {found} of policy version {policy.version}; give the key id")
    return matches[0]


@click.command()
@click.argument("statement_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "key_file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Your private key file.")
@passphrase_options
def sign(statement_file: Path, key_file: Path, passphrase_file, passphrase_env) -> None:
    """Add your signature to STATEMENT_FILE (in place), after checking the ones already there.

    Run it on your own machine: the private key never goes to the ledger host.

    \b
    Example:
      ledger sign decision.json --key ~/keys/panel-ana.key
    """
    document = read_statement_file(statement_file)
    key = load_key(key_file, passphrase_file, passphrase_env)
    document.sign(key)
    write_atomic(statement_file, document.to_bytes())
    say(f"signed {statement_file} with key {key.public.key_id[:16]} ({len(document.signatures)} signature(s))")


@click.command()
@click.argument("statement_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path), help="Ledger whose current policy judges the statement.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(statement_file: Path, ledger_path: Path | None, as_json: bool) -> None:
    """Show who signed STATEMENT_FILE, who is missing, and whether the threshold is reached.

    Exit 0 when the statement has every signature it needs, 1 otherwise.

    \b
    Example:
      ledger status decision.json --ledger ledger.db
    """
    document = read_statement_file(statement_file)
    policy = ledger_state(ledger_path).context.policy if ledger_path else None
    if policy is None and document.statement.type != "ledger.genesis":
        raise click.UsageError("--ledger is required to judge a statement other than a genesis")
    result = document.status(policy)
    threshold = result.threshold
    judge = policy if policy is not None else Policy.from_json(document.statement.body["policy"])
    if as_json:
        echo_json({
            "type": document.statement.type,
            "role": threshold.role,
            "threshold": threshold.threshold,
            "signed": sorted(threshold.signed),
            "missing": sorted(threshold.missing),
            "missing_added_keys": sorted(result.missing_added),
            "complete": result.complete,
        })
    else:
        say(f"{document.statement.type}: {threshold.describe()}")
        for key_id in sorted(threshold.signed):
            say(f"  signed   {judge.label(key_id)}")
        for key_id in sorted(threshold.missing):
            say(f"  missing  {judge.label(key_id)}")
        for key_id in sorted(result.missing_added):
            say(f"  new key {key_id[:12]} must sign (proof of possession)")
        say("complete: ready to append" if result.complete else "incomplete: more signatures needed")
    raise SystemExit(0 if result.complete else 1)


COMMANDS = [genesis, new, policy_update, sign, status]
