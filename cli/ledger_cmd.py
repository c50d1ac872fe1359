"""Ledger commands: create, append, verify, export, and read a ledger."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ledger.core import canonical
from ledger.storage.atomic import atomic_file
from ledger.app.audit import AuditReport
from ledger.storage.bundle import write_bundle
from ledger.errors import InputError, LedgerError
from ledger.storage.store import LedgerStore, open_entries

from ._common import EXIT_FAILED, committed, echo_json, entry_total, load_key, passphrase_options, read_input, verified, write_atomic
from ._terminal import progress, say
from .statement_cmd import read_statement_file

LEDGER_ARG = click.argument("path", type=click.Path(dir_okay=False, path_type=Path))


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
        committed(f"created {path}")
        say(f"created {path}; ledger id {store.verifier().context.ledger_id}")


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
    first_with: dict[bytes, Path] = {}
    for file, document in zip(statement_files, documents):  # copies signed in parallel (R-7.8 otherwise)
        other = first_with.setdefault(document.statement.digest, file)
        if other != file:
            raise LedgerError(f"{other} and {file} hold the same statement: merge their signatures first "
                             f"(ledger combine {other} {other} {file})")
    key = load_key(operator_key, passphrase_file, passphrase_env)
    with LedgerStore.open(path, state=state_file) as store:
        verified(store)
        entries = store.append_many([(d.statement, d.signature_list()) for d in documents], key)
        committed(f"appended entries {entries[0].seq}..{entries[-1].seq} to {path}")
        receipts = {e.seq: store.tree.receipt(e.seq, store.last_checkpoint) for e in entries}
    if receipt_dir is not None:  # receipts: the checkpoint after the append + inclusion proof (14.6)
        receipt_dir.mkdir(parents=True, exist_ok=True)
        for seq, receipt in receipts.items():
            write_atomic(receipt_dir / f"{seq}.tlog-proof", receipt)
    if as_json:
        echo_json([{"seq": e.seq, "type": e.type, "leaf_hash": e.leaf_hash.hex()} for e in entries])
    else:
        for entry in entries:
            say(f"appended entry {entry.seq} ({entry.type}) leaf {entry.leaf_hash.hex()[:16]}…")


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
    from ledger.app.load import open_ledger
    from ledger.core.parallel import default_workers
    from ledger.storage.remote import is_url

    checkpoints = [(str(f), read_input(f, "checkpoint")) for f in checkpoint_files]
    if since_checkpoint and state_file is None:
        raise click.UsageError("--since-checkpoint needs --state FILE")
    if state_file is not None and ((checkpoints and not since_checkpoint) or log_keys or is_url(path) or jobs != 1):
        raise click.UsageError("--state cannot be combined with --log-key, --jobs, a URL, or --checkpoint "
                               "(except with --since-checkpoint)")
    with progress("verifying", None if is_url(path) else entry_total(path)) as bar, \
            open_ledger(path if is_url(path) else Path(path), state=state_file, since_checkpoint=since_checkpoint, jobs=jobs or default_workers(),
                        checkpoints=checkpoints, log_keys=log_keys, keep=max_violations, progress=bar) as loaded:
        report = loaded.report
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
            say(line)


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
    with LedgerStore.open(path, readonly=True) as store, progress("exporting", store.size) as bar, \
            atomic_file(out, replace=False) as handle:
        count = write_bundle(store.iter_raw(), handle, bar)
    say(f"wrote {count} entries to {out}")


@click.command()
@click.argument("path", metavar="LEDGER")
@click.option("--tail", "tail", type=click.IntRange(min=0), help="Show the newest N entries (the default, with N = 50; 0: all).")
@click.option("--from", "start", type=click.IntRange(min=0), help="Show entries from this number on, oldest first, instead of the newest.")
@click.option("--limit", type=click.IntRange(min=0), help="With --from: how many entries (default 50; 0: all).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry (the exact entry).")
def log(path: str, tail: int | None, start: int | None, limit: int | None, as_json: bool) -> None:
    """List entries for people: number, time, type, summary and signers by name.

    By default the newest 50 entries (oldest of them first); --tail N for another number,
    --from N [--limit M] for a range. Which entries are shown, of how many, is said on
    stderr. Signers are named as the ledger's policies name their keys. Reads a SQLite
    ledger, a bundle, or a published directory or URL; it does not verify (use `ledger verify`).

    \b
    Example:
      ledger log ledger.db                  (the newest 50)
      ledger log ledger.db --tail 10
      ledger log ledger.db --from 100 --limit 20
    """
    import itertools
    from collections import deque

    if tail is not None and (start is not None or limit is not None):
        raise click.UsageError("give --tail, or --from/--limit, not both")
    names: dict[str, str] = {}  # key id -> name in the latest policy that names it
    total = 0

    def entries():
        nonlocal total
        from ledger.storage.remote import is_published, open_published

        for seq, raw in enumerate(open_published(path)[0] if is_published(path) else open_entries(path)):
            total = seq + 1
            if b'"type":"ledger.genesis"' in raw or b'"type":"policy.update"' in raw:
                _learn_names(raw, names)
            yield seq, raw

    if start is None and limit is None:
        count = 50 if tail is None else tail
        chosen = list(deque(entries(), maxlen=count or None))
        what = "the newest" if count and len(chosen) < total else "all"
    else:
        first, count = start or 0, 50 if limit is None else limit
        chosen = list(itertools.islice(itertools.dropwhile(lambda e: e[0] < first, entries()), count or None))
        what = f"from entry {first}"
    for seq, raw in chosen:
        if as_json:
            click.echo(raw.decode("utf-8"))
            continue
        try:
            entry = canonical.parse(raw)
            statement = entry["statement"]
            signers = ", ".join(names.get(s["key_id"]) or s["key_id"][:8] for s in entry["signatures"])
            say(f"{seq:>7}  {statement['time']}  {statement['type']:<18} {_summary(statement['body'])}  [{signers}]")
        except Exception:  # the listing shows what is there; verify judges it
            say(f"{seq:>7}  (unreadable entry: run ledger verify)")
    if not as_json:
        shown = f"entries {chosen[0][0]}-{chosen[-1][0]}" if chosen else "no entries"
        say(f"{shown} ({what}{'' if start is not None else f' of {total}'}); --tail N, --from N --limit M for others", err=True)


def _learn_names(raw: bytes, names: dict[str, str]) -> None:
    try:
        policy = canonical.parse(raw)["statement"]["body"]["policy"]
        for key_id, info in policy["keys"].items():
            if info.get("name"):
                names[key_id] = info["name"]
    except Exception:  # a malformed entry teaches nothing; verify judges it
        pass


def _summary(body: dict) -> str:
    for key in ("name", "reason", "id", "incident_id", "org_id", "round"):
        if key in body:
            return f"{key}={json.dumps(body[key], ensure_ascii=False)[:60]}"
    return ""


COMMANDS = [init, append, verify, export, log]
