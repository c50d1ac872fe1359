"""The verifier's state file, for incremental verification (SPEC.md section 9): saving and
loading it here, the verification that resumes from it in
:func:`ledger.app.load.open_ledger` with a ``state``, appends that keep it in :class:`StateCache`.

After verifying a ledger whose every entry passed, the verifier's state is kept in a
state file together with the size ``n`` it describes and the SHA-256 of the first ``n``
entries as bundle lines (each entry's bytes and a newline). The next run reads the first
``n`` entries again, only to hash them (no parsing, no signatures: a small fraction of
verifying them), and resumes from the saved state if and only if the digest is the same,
i.e. the first ``n`` entries are byte for byte the ones verified before; then only the
entries after them are verified. Otherwise the state is ignored and the whole ledger is
verified again: a stale or foreign state costs time, never a missed violation. The report
equals that of a full run.

(Checking only the last entry's hash would not do: the chain fixes the prefix only if every
``prev`` link holds, and a rewritten entry with its successor's ``prev`` left alone is
exactly what verification must find.)

The state file is the SQLite database of :mod:`ledger.storage.diskstate` that the verification
itself used for its large state (statement digests, incidents), plus a ``meta`` table with
:data:`MAGIC`, the size, the prefix digest and the rest of the verifier (policy, chain
head, organizations, rounds...: small) as JSON (:func:`verifier_to_json`, SPEC.md 9).
Resuming opens the file in place and
feeds only the new entries, inside one transaction that commits only when every entry
passed; nothing is read or rewritten whole. A first run (or a run that cannot resume)
builds a new file beside it and renames it into place.

A state file is a *local cache* of the auditor's own earlier run, never evidence: it is
created with mode 0600. Reading one runs no code: every part of it is plain data (JSON,
fixed-width records, hashes) read by decoders that accept exactly what :func:`save` writes
and raise InputError for anything else; a file that is not exactly a state of this format
(another MAGIC or LAYOUT, such as the pickled states of earlier versions, or damage) is
not used, and the ledger is verified from the start.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import orjson

from ..core import canonical
from ..core.merkle import TreeBuilder
from ..core.policy import Policy
from ..core.verify import Verifier, Violation
from ..errors import InputError, LedgerError
from ..scoring.process import ScoringProcess
from ..scoring.state import scoring_state_from_json, scoring_state_to_json
from .diskstate import LAYOUT, DiskState, disk_verifier

# v4: the verifier as JSON and the blocks without pickle (issue 14); a v3 file is not read
MAGIC = b"violence-scoring-ledger/verifier-state/v4"
_VERIFIER_MEMBERS = {"size", "head", "ledger_id", "origin", "policy", "revoked", "scoring", "notices"}


def _scoring(verifier: Verifier) -> ScoringProcess:
    processes = list(verifier.processes)
    if len(processes) != 1 or type(processes[0]) is not ScoringProcess:
        raise TypeError("a state file holds a verifier whose one process is the scoring process")
    return processes[0]


def verifier_to_json(verifier: Verifier) -> bytes:
    """The verifier without the parts kept in the database (SPEC.md 9), as JSON."""
    process = _scoring(verifier)
    context = verifier.context
    return orjson.dumps({
        "size": context.size,
        "head": None if verifier.head is None else verifier.head.hex(),
        "ledger_id": context.ledger_id,
        "origin": context.origin,
        "policy": None if context.policy is None else context.policy.to_json(),
        "revoked": verifier.revoked,
        "scoring": scoring_state_to_json(process.state),
        "notices": [[n.seq, n.rule, n.message] for n in process.notices],
    }, option=orjson.OPT_STRICT_INTEGER)


def verifier_from_json(data: bytes, disk: DiskState) -> Verifier:
    """The verifier :func:`verifier_to_json` wrote, its large state in ``disk``; InputError
    for anything that is not exactly that (strict JSON: no float, no duplicate member)."""
    try:
        obj = canonical.parse(data, max_bytes=len(data), max_depth=canonical.MAX_DEPTH + 8)
    except LedgerError as exc:
        raise InputError(f"state file: the verifier is not strict JSON: {exc.message}") from None
    if type(obj) is not dict or set(obj) != _VERIFIER_MEMBERS:
        raise InputError("state file: the verifier does not have the members of SPEC.md 9")
    verifier = disk_verifier(disk)
    process = _scoring(verifier)
    size, head = obj["size"], obj["head"]
    if type(size) is not int or size < 1 or type(head) is not str or len(head) != 64:
        raise InputError("state file: the verifier's size or head is malformed")
    try:
        verifier.head = bytes.fromhex(head)
        verifier.context.size = size
        verifier.context.ledger_id, verifier.context.origin = obj["ledger_id"], obj["origin"]
        if type(obj["ledger_id"]) is not str or type(obj["origin"]) is not str or type(obj["policy"]) is not dict:
            raise InputError("state file: the verifier has no ledger id, origin or policy")
        verifier.context.policy = Policy.from_json(obj["policy"])
        if type(obj["revoked"]) is not dict or any(type(v) is not int for v in obj["revoked"].values()):
            raise InputError("state file: revoked keys are not key id -> seq")
        verifier.revoked = obj["revoked"]
        process.state = scoring_state_from_json(obj["scoring"], disk.incidents)
        process.state.spool = disk.spool
        notices = obj["notices"]
        if type(notices) is not list or any(type(n) is not list or len(n) != 3 or type(n[0]) is not int
                                            or type(n[1]) is not str or type(n[2]) is not str for n in notices):
            raise InputError("state file: notices are not [seq, rule, message]")
        process.notices = [Violation(*n) for n in notices]
    except InputError:
        raise
    except (LedgerError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"state file: the verifier is malformed ({type(exc).__name__}: {exc})") from None
    return verifier


def save(disk: DiskState, verifier: Verifier, prefix_digest: bytes, tree: TreeBuilder | None = None) -> None:
    """Record the verifier's state for ``prefix_digest`` (b"": not known, see
    :func:`ledger.app.load.open_ledger` with a ``state``) and the Merkle tree of the entries (``tree``) in ``disk``,
    and commit."""
    disk.set_meta("magic", MAGIC)
    disk.set_meta("layout", LAYOUT)
    disk.set_meta("size", str(verifier.size).encode())
    disk.set_meta("prefix", prefix_digest)
    disk.set_meta("tree", b"" if tree is None or tree.size != verifier.size else b"".join(tree.frontier))
    disk.set_meta("verifier", verifier_to_json(verifier))
    disk.commit()


def load_tree(disk: DiskState, size: int) -> TreeBuilder | None:
    """The Merkle tree of the first ``size`` entries saved with a state, if it was."""
    data = disk.get_meta("tree") or b""
    hashes = [data[i:i + 32] for i in range(0, len(data), 32)]
    if len(hashes) != bin(size).count("1"):  # also: saved without a tree
        return None
    return TreeBuilder(size, hashes)


def load(path: Path) -> tuple[int, bytes, Verifier, DiskState] | None:
    """(size, prefix digest, verifier, its database) from a state file, or None if it is not one."""
    disk = None
    try:
        disk = DiskState(str(path))
        if disk.get_meta("magic") != MAGIC or disk.get_meta("layout") != LAYOUT:
            raise ValueError("not a state file")
        size = int((disk.get_meta("size") or b"").decode())
        digest = disk.get_meta("prefix")
        verifier = verifier_from_json(disk.get_meta("verifier") or b"", disk)  # never a pickle (SPEC.md 9)
        if verifier.size != size or not isinstance(digest, bytes) or len(digest) not in (0, 32):
            raise InputError("state file: size or prefix digest do not match the verifier")
        return size, digest, verifier, disk
    except Exception:  # any damage (InputError, or sqlite3's): not a usable state (it is only a cache)
        if disk is not None:
            disk.close()
        return None


def hash_line(prefix: Any, raw: bytes) -> None:
    """Feed one entry to the prefix digest as its bundle line (the bytes, then a newline)."""
    prefix.update(raw)
    prefix.update(b"\n")


def fresh_state(state: Path) -> tuple[Path, DiskState]:
    """A new, empty state file ``STATE.tmp`` (mode 0600, leftovers removed): renamed over
    ``state`` once saved, removed otherwise."""
    fresh = state.with_name(state.name + ".tmp")
    for leftover in (fresh, fresh.with_name(fresh.name + "-journal")):
        leftover.unlink(missing_ok=True)
    os.close(os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return fresh, DiskState(str(fresh))


__all__ = ["save", "load", "load_tree", "MAGIC", "StateCache", "verifier_to_json", "verifier_from_json"]


class StateCache:
    """The state file of a store's verifier (``ledger append --state``, SPEC.md 9).

    :meth:`open` resumes from the file when it describes exactly the first entries that
    ``entries(0, n)`` yields (the same prefix check as :func:`ledger.app.load.open_ledger` with a ``state``), else
    starts a new, empty state; :meth:`fed` follows every entry the verifier takes in;
    :meth:`save` records the state when no entry broke a rule. The file is locked for the
    cache's lifetime: a second process with the same file gets None from :meth:`open`
    and verifies in memory instead (slower, never wrong).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.disk: DiskState | None = None
        self.prefix = hashlib.sha256()
        self.fresh: Path | None = None
        self._lock: int | None = None

    def open(self, entries: Any) -> Verifier | None:
        import fcntl

        if self._lock is None:
            fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return None
            self._lock = fd
        self.drop()
        loaded = load(self.path) if self.path.exists() else None
        self.prefix = hashlib.sha256()
        if loaded is not None:
            size, digest, verifier, disk = loaded
            seen = 0
            for raw in entries(0, size):
                self.fed(raw)
                seen += 1
            if seen == size and self.prefix.digest() == digest:
                self.disk = disk
                return verifier
            disk.close()
            self.prefix = hashlib.sha256()
        self.fresh, self.disk = fresh_state(self.path)
        return disk_verifier(self.disk)

    def fed(self, raw: bytes) -> None:
        hash_line(self.prefix, raw)

    def save(self, verifier: Verifier) -> None:
        """Record ``verifier`` (which must be the one :meth:`open` returned, fed since) if
        every entry passed; the verifier is detached from the file afterwards."""
        if self.disk is None or verifier.violations_seen or verifier.head is None:
            return
        save(self.disk, verifier, self.prefix.digest())
        self.disk.close()
        self.disk = None
        if self.fresh is not None:
            os.replace(self.fresh, self.path)
            self.fresh = None

    def drop(self) -> None:
        """Forget what was not saved (after a rolled-back append)."""
        if self.disk is not None:
            self.disk.close()
            self.disk = None
        if self.fresh is not None:
            self.fresh.unlink(missing_ok=True)
            self.fresh = None

    def close(self) -> None:
        self.drop()
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
