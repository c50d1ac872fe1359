"""Transparency commands: checkpoints, proofs, witnesses and static publication (SPEC 14-15)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ledger.app.transparency import WitnessState, attach_to_latest, attach_to_note, parse_checkpoint, proof_source
from ledger.core import merkle, note
from ledger.errors import OptionError, ProofError, StoreError
from ledger.log.checkpoints import format_consistency_proof
from ledger.storage.publish import publish as publish_directory
from ledger.storage.store import LedgerStore
from ledger.storage.treestore import log_vkey

from ._common import committed, echo_json, load_key, passphrase_options, read_input, verified, write_atomic
from ._terminal import progress, say

LOCATION_ARG = click.argument("location", metavar="PATH")


# --------------------------------------------------------------------------- helpers


def vkey_check(sig_type: int):
    """A click callback: each value must be a well-formed vkey of ``sig_type`` (0x01 log key,
    0x04 witness cosigner key), else a usage error (exit 2, SPEC.md 8.2). Values stay strings."""

    def check(ctx: click.Context, param: click.Parameter, value):
        for text in (value if isinstance(value, tuple) else [value]):
            if text is None:
                continue
            try:
                key = note.NoteVerifier.from_string(text)
            except ProofError as exc:
                raise click.BadParameter(exc.message) from None
            if key.sig_type != sig_type:
                raise click.BadParameter(f"expected a key of signature type 0x{sig_type:02x}, got 0x{key.sig_type:02x}")
        return value

    return check


# --------------------------------------------------------------------------- checkpoint


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--operator-key", type=click.Path(dir_okay=False, path_type=Path), help="Sign a checkpoint of the current tree with this operator key.")
@passphrase_options
@click.option("--cosignature", "cosignatures", multiple=True, type=click.Path(dir_okay=False, path_type=Path), help="Attach witness cosignatures (file of lines, or a cosigned note) to the latest checkpoint. Repeatable.")
@click.option("--log-key", "show_key", is_flag=True, help="Print the log's verifier key(s) (operator keys in force, name = origin) instead.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the checkpoint note to this file.")
def checkpoint(path: Path, operator_key: Path | None, passphrase_file, passphrase_env, cosignatures, show_key: bool, out: Path | None) -> None:
    """Print the latest signed checkpoint (C2SP tlog-checkpoint note) of a ledger.

    Every append already signs one. --operator-key signs a checkpoint of the current tree
    now (e.g. after an operator key rotation, or for a ledger from before checkpoints); the
    store refuses to sign a tree inconsistent with any checkpoint it signed before.

    \b
    Examples:
      ledger checkpoint ledger.db > checkpoint.txt
      ledger checkpoint ledger.db --operator-key keys/operator.key
      ledger checkpoint ledger.db --cosignature witness-a.sig --cosignature witness-b.sig
      ledger checkpoint ledger.db --log-key
    """
    with LedgerStore.open(path) as store:
        if show_key:
            context = verified(store).context
            for kid in context.policy.roles["operator"].key_ids:
                click.echo(log_vkey(context.origin, context.policy.keys[kid].raw))
            return
        if operator_key is not None:
            key = load_key(operator_key, passphrase_file, passphrase_env)
            verified(store)
            store.sign_checkpoint_now(key)
            committed(f"signed a checkpoint of {path}")
        latest = store.tree.latest_checkpoint()
        if latest is None:
            raise StoreError(f"{path}: no signed checkpoint yet; sign one with --operator-key")
        data = latest[2]
        if cosignatures:
            verified(store)
            data = attach_to_latest(store, data, ((str(f), read_input(f, "cosignature")) for f in cosignatures))
            committed(f"attached cosignatures to the latest checkpoint of {path}")
    if out is not None:
        write_atomic(out, data)
    click.echo(data.decode("utf-8"), nl=False)


# --------------------------------------------------------------------------- proofs


@click.command()
@LOCATION_ARG
@click.option("--seq", type=click.IntRange(min=0), help="Entry whose inclusion to prove (C2SP tlog-proof).")
@click.option("--old-size", type=click.IntRange(min=1), help="Prove consistency from this size to the checkpoint instead.")
@click.option("--size", type=click.IntRange(min=1), help="Use the stored checkpoint of this size (default: the latest).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the proof here instead of stdout.")
def prove(location: str, seq: int | None, old_size: int | None, size: int | None, out: Path | None) -> None:
    """Print an inclusion proof (C2SP tlog-proof) or a consistency proof.

    PATH is a SQLite ledger, a published directory, or its http(s) URL (then only the
    checkpoint and the hash tiles the proof needs are fetched).

    \b
    Examples:
      ledger prove ledger.db --seq 42 > entry-42.proof
      ledger prove https://ledger.example.org/mx --seq 42
      ledger prove ledger.db --old-size 100 > consistency.txt
    """
    if (seq is None) == (old_size is None):
        raise click.UsageError("give exactly one of --seq or --old-size")
    with proof_source(location, size) as (data, cp, nodes):
        if seq is not None:
            if seq >= cp.size:
                raise ProofError(f"entry {seq} is not covered by the checkpoint of size {cp.size}")
            result = note.format_proof(seq, merkle.inclusion_proof(seq, cp.size, nodes), data)
        else:
            assert old_size is not None
            if old_size > cp.size:
                raise ProofError(f"size {old_size} is larger than the checkpoint's {cp.size}")
            result = format_consistency_proof(old_size, merkle.consistency_proof(old_size, cp.size, nodes))
    if out is not None:
        write_atomic(out, result)
    else:
        click.echo(result.decode("utf-8"), nl=False)


@click.command("check-proof")
@click.argument("proof_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--entry-file", type=click.Path(dir_okay=False, path_type=Path), help="The entry's exact bytes (one final newline is ignored).")
@click.option("--leaf-hash", help="Or the entry's RFC 9162 leaf hash, 64 hex digits.")
@click.option("--log-key", required=True, callback=vkey_check(note.SIG_ED25519), help="The log's verifier key, name+keyid+base64 (name = origin).")
@click.option("--witness", "witnesses", multiple=True, callback=vkey_check(note.SIG_COSIGNATURE_V1), help="A witness cosigner key (type 0x04 vkey). Repeatable.")
@click.option("--min-witnesses", default=0, show_default=True, type=click.IntRange(min=0), help="Cosignatures required.")
@click.option("--json", "as_json", is_flag=True)
def check_proof(proof_file: Path, entry_file: Path | None, leaf_hash: str | None, log_key: str, witnesses, min_witnesses: int, as_json: bool) -> None:
    """Check an inclusion proof (receipt) offline: nothing but the proof, the entry and keys.

    \b
    Example:
      ledger check-proof entry-42.proof --entry-file entry-42.json \\
        --log-key 'ledger.example.org/mx+1a2b3c4d+AeR...'
    """
    if (entry_file is None) == (leaf_hash is None):
        raise click.UsageError("give exactly one of --entry-file or --leaf-hash")
    proof = read_input(proof_file, "proof")
    if entry_file is not None:
        leaf = read_input(entry_file, "entry")
        if leaf.endswith(b"\n"):
            leaf = leaf[:-1]
        is_hash = False
    else:
        try:
            leaf = bytes.fromhex(leaf_hash or "")
        except ValueError:
            raise click.BadParameter("not hex", param_hint="--leaf-hash") from None
        is_hash = True
    cp = note.verify_proof(proof, leaf, log_key, leaf_is_hash=is_hash, witnesses=witnesses, min_witnesses=min_witnesses)
    index = note.parse_proof(proof).index
    if as_json:
        echo_json({"ok": True, "index": index, "origin": cp.origin, "size": cp.size, "root": cp.root_hash.hex()})
    else:
        say(f"OK: entry {index} is included in {cp.origin} at tree size {cp.size} (root {cp.root_hash.hex()[:16]}…)")


# --------------------------------------------------------------------------- publish


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Directory to write (created; republishing updates it).")
def publish(path: Path, out: Path) -> None:
    """Publish the ledger as static files (C2SP tlog-tiles) for any web server or CDN.

    Writes checkpoint, tile/<L>/<N>, tile/entries/<N>, bundle.jsonl and
    rounds/<R>/ranking.json for the latest signed checkpoint. Readers run
    `ledger verify DIR-or-URL`.

    \b
    Example:
      ledger publish ledger.db --out /var/www/ledger && ledger verify /var/www/ledger
    """
    with LedgerStore.open(path) as store, progress("publishing", 3 * store.size) as done:
        report = publish_directory(store, out, progress=done)
    say(
        f"published size {report.size} to {out}: {report.tiles_written} tiles and {report.bundles_written} "
        f"entry bundles written ({report.tiles_kept + report.bundles_kept} unchanged), "
        f"{len(report.rounds)} ranking document(s)"
        + ("" if report.rounds_hook == "ok" else f" [{report.rounds_hook}]")
    )


# --------------------------------------------------------------------------- witness


@click.group()
def witness() -> None:
    """Witness commands: cosign checkpoints (C2SP tlog-cosignature/v1), attach cosignatures.

    \b
    Example:
      ledger witness key keys/witness-a.key --name witness-a.example.org
      ledger witness cosign checkpoint.txt --key keys/witness-a.key --name witness-a.example.org \\
        --state ~/.witness --ledger https://ledger.example.org/mx --log-key 'ledger.example.org/mx+…'
    """


@witness.command("key")
@click.argument("key_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="The witness's name (a host-like name).")
@passphrase_options
def witness_key(key_file: Path, name: str, passphrase_file, passphrase_env) -> None:
    """Print the witness's cosigner verifier key (type 0x04 vkey) for policies and verifiers.

    \b
    Example:
      ledger witness key keys/witness-a.key --name witness-a.example.org
    """
    key = load_key(key_file, passphrase_file, passphrase_env)
    click.echo(note.cosigner_key_string(name, key.public.raw))


@witness.command("cosign")
@click.argument("checkpoint_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "key_file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The witness's private key.")
@click.option("--name", required=True, help="The witness's name (its cosigner key name).")
@click.option("--state", required=True, type=click.Path(file_okay=False, path_type=Path), help="Directory of the witness's state and evidence.")
@click.option("--log-key", callback=vkey_check(note.SIG_ED25519), help="The log's verifier key; needed the first time, then pinned in the state.")
@click.option("--proof", "proof_file", type=click.Path(dir_okay=False, path_type=Path), help="Consistency proof from the last cosigned size ('old N' + base64 lines).")
@click.option("--ledger", "ledger_location", help="Or compute the consistency proof from this ledger (SQLite, directory or URL).")
@click.option("--at", "at", type=click.IntRange(min=0), help="Cosignature time, POSIX seconds (default: now).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the cosigned note here (default: print the cosignature line).")
@passphrase_options
def witness_cosign(checkpoint_file: Path, key_file: Path, name: str, state: Path, log_key: str | None, proof_file: Path | None,
                   ledger_location: str | None, at: int | None, out: Path | None, passphrase_file, passphrase_env) -> None:
    """Cosign a checkpoint if it extends the last one this witness cosigned for its origin.

    Refuses a rollback (smaller size), a fork (same size, other root) and a checkpoint
    whose consistency proof from the last cosigned one fails. Every cosigned checkpoint is
    kept under STATE/<origin>/cosigned/ as evidence.

    \b
    Example:
      ledger witness cosign checkpoint.txt --key keys/w.key --name w.example.org \\
        --state ./w-state --ledger ledger.db --at 1767225600
    """
    data = read_input(checkpoint_file, "checkpoint")
    parse_checkpoint(data, str(checkpoint_file))
    key = load_key(key_file, passphrase_file, passphrase_env)
    timestamp = int(time.time()) if at is None else at
    proof = None if proof_file is None else (lambda: read_input(proof_file, "consistency proof"))
    try:
        cp, line, cosigned = WitnessState(state).cosign(data, note.NoteSigner(name, key), timestamp, log_key, proof, ledger_location)
    except OptionError as exc:
        raise click.UsageError(str(exc)) from None
    if out is not None:
        write_atomic(out, cosigned)
        say(f"cosigned {cp.origin} size {cp.size}; wrote {out}", err=True)
    else:
        click.echo(line, nl=False)


@witness.command("attach")
@click.argument("checkpoint_file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("cosignature_files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--witness", "witnesses", multiple=True, callback=vkey_check(note.SIG_COSIGNATURE_V1), help="Only accept cosignatures that verify under these cosigner keys (vkeys).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the cosigned note here (default: stdout).")
def witness_attach(checkpoint_file: Path, cosignature_files, witnesses, out: Path | None) -> None:
    """Attach cosignature lines (or the signatures of cosigned copies) to a checkpoint note.

    \b
    Example:
      ledger witness attach checkpoint.txt w1.sig w2.sig --out checkpoint.cosigned
    """
    data = read_input(checkpoint_file, "checkpoint")
    result = attach_to_note(data, ((str(f), read_input(f, "cosignature")) for f in cosignature_files), witnesses)
    if out is not None:
        write_atomic(out, result)
    else:
        click.echo(result.decode("utf-8"), nl=False)


COMMANDS = [checkpoint, prove, check_proof, publish, witness]
