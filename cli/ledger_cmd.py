"""Ledger commands: create, append, verify, export, and read a ledger."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import click

from ledger import canonical
from ledger.audit import AuditReport, verify_path
from ledger.bundle import write_bundle
from ledger.errors import InputError
from ledger.store import LedgerStore, open_entries

from ._common import EXIT_FAILED, echo_json, load_key, passphrase_options, read_input, write_atomic
from .statement_cmd import read_statement_file

LEDGER_ARG = click.argument("path", type=click.Path(dir_okay=False, path_type=Path))


@contextmanager
def progress(label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal; silent otherwise."""
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True) as bar:
        yield bar.update


def operator_key_option(f):
    return click.option(
        "--operator-key",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="The operator's private key, which seals entries.",
    )(f)


@click.command()
@LEDGER_ARG
@click.argument("genesis_file", type=click.Path(dir_okay=False, path_type=Path))
@operator_key_option
@passphrase_options
def init(path: Path, genesis_file: Path, operator_key: Path, passphrase_file, passphrase_env) -> None:
    """Create a new ledger at PATH from a fully signed genesis statement file.

    \b
    Example:
      ledger init ledger.db genesis.json --operator-key keys/operator.key
    """
    document = read_statement_file(genesis_file)
    key = load_key(operator_key, passphrase_file, passphrase_env)
    with LedgerStore.create(path, (document.statement, document.signature_list()), key) as store:
        click.echo(f"created {path}; ledger id {store.verifier().context.ledger_id}")


@click.command()
@LEDGER_ARG
@click.argument("statement_files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@operator_key_option
@passphrase_options
@click.option("--json", "as_json", is_flag=True, help="Print the appended entries' numbers and hashes as JSON.")
@click.option("--receipt-dir", type=click.Path(file_okay=False, path_type=Path), help="Write each entry's receipt (C2SP tlog-proof) to DIR/<seq>.tlog-proof.")
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="A verifier state file of yours (SPEC.md 9): resume from it instead of verifying the whole stored ledger first, and keep it up to date.")
def append(path: Path, statement_files, operator_key: Path, passphrase_file, passphrase_env, as_json: bool, receipt_dir: Path | None,
           state_file: Path | None) -> None:
    """Verify, seal and append signed statement files to the ledger, all or none.

    Each statement is checked with the same rules `ledger verify` applies; if any fails,
    nothing is appended.

    \b
    Example:
      ledger append ledger.db incident-0042.json --operator-key keys/operator.key
      ledger append ledger.db incident-0043.json --operator-key keys/operator.key --receipt-dir receipts/
      ledger append ledger.db incident-0044.json --operator-key keys/operator.key --state ~/.cache/ledger.state
    """
    documents = [read_statement_file(p) for p in statement_files]
    key = load_key(operator_key, passphrase_file, passphrase_env)
    with LedgerStore.open(path, state=state_file) as store:
        with progress("loading ledger", store.size) as bar:
            store.verifier(progress=bar)
        entries = store.append_many([(d.statement, d.signature_list()) for d in documents], key)
        receipts = {e.seq: store.tree.receipt(e.seq, store.last_checkpoint) for e in entries}
    if receipt_dir is not None:  # receipts: the checkpoint after the append + inclusion proof (14.6)
        receipt_dir.mkdir(parents=True, exist_ok=True)
        for seq, receipt in receipts.items():
            write_atomic(receipt_dir / f"{seq}.tlog-proof", receipt)
    if as_json:
        echo_json([{"seq": e.seq, "type": e.type, "leaf_hash": e.leaf_hash.hex()} for e in entries])
    else:
        for entry in entries:
            click.echo(f"appended entry {entry.seq} ({entry.type}) leaf {entry.leaf_hash.hex()[:16]}…")


@click.command()
@click.argument("path", metavar="PATH")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
@click.option("--max-violations", default=200, show_default=True, help="How many violations to list (all are counted).")
@click.option("--checkpoint", "checkpoint_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path), help="A checkpoint published earlier; the ledger must be consistent with it. Repeatable.")
@click.option("--log-key", "log_keys", multiple=True, help="Pin the log's verifier key (name+keyid+base64) instead of trusting the ledger's own operator keys.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=1, show_default=True, help="Check signatures on this many processes (0: one per CPU). The result is the same.")
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Incremental: resume from the verifier state saved in this file by an earlier clean run of yours, and save it again (SPEC.md 9).")
@click.option("--since-checkpoint", is_flag=True, help="With --state: do not re-read the entries the state covers; the new entries must extend them into the tree of a signed checkpoint (the ledger's latest, or --checkpoint FILE).")
def verify(path: str, as_json: bool, max_violations: int, checkpoint_files, log_keys, jobs: int, state_file: Path | None,
           since_checkpoint: bool) -> None:
    """Verify every entry of a ledger (SQLite file, exported bundle, or published
    directory or URL) from its raw bytes, and check it against signed checkpoints.

    Exit 0: everything holds. Exit 1: violations, each with its entry number and the
    SPEC.md rule. Exit 2: the input could not be read.

    \b
    Example:
      ledger verify ledger.db
      ledger verify bundle.jsonl --json
      ledger verify bundle.jsonl --jobs 0      (all CPUs)
      ledger verify ledger.db --state ~/.cache/ledger.state   (only new entries)
      ledger verify ledger.db --state ~/.cache/ledger.state --since-checkpoint
      ledger verify https://ledger.example.org/mx --checkpoint saved-checkpoint.txt
    """
    from ledger.parallel import default_workers
    from ledger.remote import is_url

    checkpoints = [(str(f), read_input(f, "checkpoint")) for f in checkpoint_files]
    if since_checkpoint and state_file is None:
        raise click.UsageError("--since-checkpoint needs --state FILE")
    if state_file is not None:
        if (checkpoints and not since_checkpoint) or log_keys or is_url(path) or jobs != 1:
            raise click.UsageError("--state cannot be combined with --log-key, --jobs, a URL, or --checkpoint "
                                   "(except with --since-checkpoint)")
        from ledger.incremental import verify_incremental

        report = verify_incremental(Path(path), state_file, keep=max_violations, since_checkpoint=since_checkpoint,
                                    checkpoints=checkpoints)
    else:
        with progress("verifying") as bar:
            report = verify_path(path if is_url(path) else Path(path), progress=bar, keep=max_violations,
                                 checkpoints=checkpoints, log_keys=log_keys, jobs=jobs or default_workers())
    print_report(report, as_json)
    raise SystemExit(0 if report.ok else EXIT_FAILED)


def verdict_lines(report: AuditReport) -> list[str]:
    """The human report of ``ledger verify`` (SPEC.md 8.2): violations, notices, the verdict,
    then what was judged: the log key, each checkpoint, or that none was."""
    lines = [f"FAIL {violation}" for violation in report.violations]
    lines += [f"NOTE {notice}" for notice in report.notices]
    if report.violation_count > len(report.violations):
        lines.append(f"… and {report.violation_count - len(report.violations)} more")
    if report.ok:
        lines.append(f"OK: {report.size} entries verified; ledger {report.ledger_id}; head {report.head}")
    else:
        lines.append(f"FAILED: {report.violation_count} violation(s) in {report.size} entries")
    if report.log_key_pinned:
        lines.append(f"  log key: pinned (--log-key) {', '.join(report.log_keys)}")
    elif report.log_keys:
        lines.append(f"  log key: not pinned; taken from the ledger itself (operator key in force at its end: "
                     f"{', '.join(report.log_keys)}); a wholly fabricated copy with its own keys would pass: "
                     f"pin the key you obtained independently with --log-key")
    for result in report.checkpoints:
        head = f"  checkpoint {result.source}: size {result.size}, origin {result.origin}"
        if result.signed_by is None:
            lines.append(f"{head}: NOT accepted (not signed by the log key with authority for that size; see above)")
            continue
        w = result.witnesses
        if w is None:
            cosigned = "witness cosignatures not counted"
        elif w.threshold == 0:
            cosigned = f"no witness cosignature required ({len(w.signed)} present)"
        else:
            cosigned = f"{len(w.signed)} of {w.threshold} required witness cosignature(s)"
        state = "consistent with the ledger" if result.consistent else "NOT consistent with the ledger (see above)"
        lines.append(f"{head}, signed by {result.signed_by}; {cosigned}; {state}")
    if report.checkpoints_judged == 0:
        lines.append("  NO signed checkpoint was checked: a truncated copy, or a fork shown only to you, would pass "
                     "(give --checkpoint FILE, a checkpoint obtained independently, or verify the published "
                     "directory or URL)")
    return lines


def print_report(report: AuditReport, as_json: bool) -> None:
    """Print a verification report: the JSON object of SPEC.md 8.2, or :func:`verdict_lines`."""
    if as_json:
        echo_json(report.to_json())
    else:
        for line in verdict_lines(report):
            click.echo(line)


@click.command()
@LEDGER_ARG
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Bundle file to write.")
def export(path: Path, out: Path) -> None:
    """Export the public bundle: one entry per line, exactly the signed bytes (JSON Lines).

    \b
    Example:
      ledger export ledger.db --out ledger.jsonl && ledger verify ledger.jsonl
    """
    if out.exists():
        raise InputError(f"{out} already exists; refusing to overwrite")
    tmp = out.with_name(f".{out.name}.partial")
    with LedgerStore.open(path, readonly=True) as store, open(tmp, "wb") as handle:
        count = write_bundle(store.iter_raw(), handle)
    tmp.replace(out)
    click.echo(f"wrote {count} entries to {out}")


@click.command()
@LEDGER_ARG
@click.option("--from", "start", default=0, show_default=True, type=click.IntRange(min=0), help="First entry number.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=0), help="How many entries (0: all).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry (the exact entry).")
def log(path: Path, start: int, limit: int, as_json: bool) -> None:
    """List entries for people: number, time, type, signers and a summary.

    Reads a SQLite ledger or a bundle; it does not verify (use `ledger verify`).

    \b
    Example:
      ledger log ledger.db --from 100 --limit 20
    """
    shown = 0
    for seq, raw in enumerate(open_entries(path)):
        if seq < start:
            continue
        if limit and shown >= limit:
            break
        shown += 1
        if as_json:
            click.echo(raw.decode("utf-8"))
            continue
        try:
            entry = canonical.parse(raw)
            statement = entry["statement"]
            signers = ",".join(s["key_id"][:8] for s in entry["signatures"])
            click.echo(f"{seq:>7}  {statement['time']}  {statement['type']:<18} {_summary(statement['body'])}  [{signers}]")
        except Exception:  # the listing shows what is there; verify judges it
            click.echo(f"{seq:>7}  (unreadable entry: run ledger verify)")


def _summary(body: dict) -> str:
    for key in ("name", "reason", "id", "incident_id", "org_id", "round"):
        if key in body:
            return f"{key}={json.dumps(body[key], ensure_ascii=False)[:60]}"
    return ""


COMMANDS = [init, append, verify, export, log]
