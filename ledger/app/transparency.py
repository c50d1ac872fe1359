"""Transparency-log work behind the CLI (SPEC.md 14-15): proof sources, attaching witness
cosignatures, and a witness's state machine (cosign only what extends what it cosigned)."""

from __future__ import annotations

import fcntl
import urllib.parse
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..core import merkle, note
from ..errors import InputError, OptionError, ProofError, StoreError
from ..log.checkpoints import parse_consistency_proof, witness_check, witness_config
from ..storage.atomic import write_atomic
from ..storage.remote import Published, is_published
from ..storage.store import LedgerStore


@contextmanager
def proof_source(location: str, size: int | None = None) -> Iterator[tuple[bytes, note.Checkpoint, merkle.NodeSource]]:
    """(checkpoint note, its body, a node source) from a SQLite ledger or a published ledger.

    ``size`` picks the stored checkpoint of that size (SQLite ledgers only)."""
    if is_published(location):
        pub = Published(location)
        data, cp = pub.checkpoint()
        if size is not None and size != cp.size:
            raise ProofError(f"{location}: publishes a checkpoint of size {cp.size}, not {size}")
        yield data, cp, pub.node_source(cp.size)
        return
    with LedgerStore.open(Path(location)) as store:
        if size is None:
            latest = store.tree.latest_checkpoint()
            data = latest[2] if latest else None
        else:
            data = store.tree.checkpoint_at(size)
        if data is None:
            which = "no signed checkpoint" if size is None else f"no signed checkpoint of size {size}"
            raise StoreError(f"{location}: {which} (sign one with ledger checkpoint --operator-key)")
        yield data, note.Checkpoint.parse(note.parse_note(data)[0]), store.tree.nodes


def signature_lines(data: bytes, source: str) -> list[str]:
    """Signature lines from a file holding signature lines or a whole (co)signed note."""
    text = data.decode("utf-8", "replace")
    if "\n\n" in text:
        return [s.line() for s in note.parse_note(data)[1]]
    lines = [line + "\n" for line in text.splitlines() if line.strip()]
    if not lines:
        raise InputError(f"{source}: no signature lines")
    for line in lines:
        note.parse_signature_line(line)
    return lines


def _check_cosignature(known: dict[tuple[str, bytes], note.NoteVerifier], text: str, line: str, before: str, after: str) -> None:
    """Verify cosignature ``line`` over ``text`` by one of ``known``; else refuse, naming the
    signer (``name+keyid``) between ``before`` and ``after``."""
    sig = note.parse_signature_line(line)
    w = known.get((sig.name, sig.key_id))
    if w is None:
        raise ProofError(f"{before}{sig.name}+{sig.key_id.hex()}{after}")
    note.verify_cosignature(text, line, w)


def attach_to_latest(store: LedgerStore, data: bytes, files: Iterable[tuple[str, bytes]]) -> bytes:
    """Add to the store's latest checkpoint ``data`` the cosignatures in ``files`` ((name,
    bytes), read as they are needed), each from a witness of the policy in force; returns
    the stored note."""
    policy = store.verifier().context.policy
    assert policy is not None
    witnesses, _ = witness_config(policy)
    known = {(w.name, w.key_id): w for w in witnesses}
    text = note.parse_note(data)[0]
    lines = []
    for name, raw in files:
        for line in signature_lines(raw, name):
            _check_cosignature(known, text, line, f"{name}: cosignature by ", f" which is not a witness of policy version {policy.version}")
            lines.append(line)
    existing = {s.line() for s in note.parse_note(data)[1]}
    new = note.add_signature_lines(data, [x for x in dict.fromkeys(lines) if x not in existing])
    store.replace_checkpoint_note(data, new)
    return new


def attach_to_note(data: bytes, files: Iterable[tuple[str, bytes]], witnesses: Iterable[str]) -> bytes:
    """The checkpoint note ``data`` with the new signature lines of ``files`` ((name, bytes):
    lines or cosigned copies of the same text); with ``witnesses`` (vkeys), only theirs."""
    text, existing = note.parse_note(data)
    known = {(w.name, w.key_id): w for w in map(note.NoteVerifier.from_string, witnesses)}
    seen = {s.line() for s in existing}
    lines = []
    for name, raw in files:
        if b"\n\n" in raw and note.parse_note(raw)[0] != text:
            raise ProofError(f"{name}: is a note over another checkpoint text")
        for line in signature_lines(raw, name):
            if line in seen:
                continue
            if known:
                _check_cosignature(known, text, line, f"{name}: signature by ", " is not from a given witness")
            seen.add(line)
            lines.append(line)
    return note.add_signature_lines(data, lines)


def parse_checkpoint(data: bytes, source: str) -> note.Checkpoint:
    """The checkpoint body of the note ``data`` (errors name ``source``)."""
    try:
        return note.Checkpoint.parse(note.parse_note(data)[0])
    except ProofError as exc:
        raise ProofError(f"{source}: {exc.message}") from None


class WitnessState:
    """A witness's directory: per origin the pinned log key, the latest cosigned note and every
    cosigned note as evidence (``STATE/<origin>/cosigned/``), under one lock."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "a+") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def cosign(self, data: bytes, signer: note.NoteSigner, timestamp: int, log_key: str | None,
               proof: Callable[[], bytes] | None = None, ledger: str | None = None) -> tuple[note.Checkpoint, str, bytes]:
        """Cosign the checkpoint note ``data`` if it extends the last one cosigned for its origin
        (refusing a rollback, a fork or a failing consistency proof, given by ``proof`` or
        computed from ``ledger``); returns (checkpoint, cosignature line, cosigned note).
        ``log_key`` is needed the first time, then pinned; a different one is refused."""
        body = note.Checkpoint.parse(note.parse_note(data)[0])
        with self._locked():
            odir = self.directory / urllib.parse.quote(body.origin, safe="")
            pinned_file = odir / "log.vkey"
            pinned = pinned_file.read_text(encoding="utf-8").strip() if pinned_file.is_file() else None
            if pinned is not None and log_key is not None and log_key != pinned:
                raise ProofError(f"--log-key differs from the key pinned for {body.origin} in {pinned_file}")
            vkey = pinned or log_key
            if vkey is None:
                raise OptionError(f"first checkpoint from {body.origin}: give --log-key", "--log-key")
            log_verifier = note.NoteVerifier.from_string(vkey)
            latest_file = odir / "latest.note"
            old = latest_file.read_bytes() if latest_file.is_file() else None
            consistency = None
            if old is not None:
                old_size = note.Checkpoint.parse(note.parse_note(old)[0]).size
                if proof is not None:
                    consistency = parse_consistency_proof(proof())
                elif ledger is not None and 0 < old_size < body.size:
                    with proof_source(ledger) as (_, served, nodes):
                        if served.size < body.size:
                            raise InputError(f"{ledger}: has {served.size} entries, fewer than the checkpoint's {body.size}")
                        consistency = (old_size, merkle.consistency_proof(old_size, body.size, nodes))
            cp = witness_check(data, log_verifier, old, consistency)
            line = note.cosign(cp.format(), timestamp, signer)
            cosigned = note.add_signature_lines(data, [line])
            odir.mkdir(parents=True, exist_ok=True)
            (odir / "cosigned").mkdir(exist_ok=True)
            write_atomic(odir / "cosigned" / f"{cp.size:012d}-{cp.root_hash.hex()[:16]}-{timestamp}.note", cosigned)
            if pinned is None:
                write_atomic(pinned_file, (vkey + "\n").encode("utf-8"))
            write_atomic(latest_file, cosigned)
        return cp, line, cosigned
