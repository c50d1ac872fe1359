"""Incremental verification: resume from a saved verifier state (SPEC.md section 9).

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
head, organizations, rounds...: small) as a pickle. Resuming opens the file in place and
feeds only the new entries, inside one transaction that commits only when every entry
passed; nothing is read or rewritten whole. A first run (or a run that cannot resume)
builds a new file beside it and renames it into place.

A state file is a *local cache* of the auditor's own earlier run: it is created with mode
0600 and must never be taken from someone else (the pickle runs code it names).
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
from pathlib import Path
from typing import Any

from .diskstate import LAYOUT, DiskState, attach, disk_verifier
from ..core.keys import PublicKey
from ..core.merkle import TreeBuilder
from ..scoring.process import scoring_process
from ..scoring.state import MemoryIncidents
from ..core.verify import Verifier

MAGIC = b"violence-scoring-ledger/verifier-state/v3"  # v3: issue 12 selection rules (new state, new verdicts)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, PublicKey):
            return PublicKey.from_raw, (obj.raw,)
        return NotImplemented


def _small_state(verifier: Verifier) -> bytes:
    """The verifier without the parts kept in the database (they are reattached on load)."""
    process = scoring_process(verifier)
    kept = verifier.statements, (process.state.incidents, process.state.spool) if process else None
    verifier.statements = {}
    if process is not None:
        process.state.incidents, process.state.spool = MemoryIncidents(), list
    try:
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(verifier)
        return buffer.getvalue()
    finally:
        verifier.statements = kept[0]
        if process is not None and kept[1] is not None:
            process.state.incidents, process.state.spool = kept[1]


def save(disk: DiskState, verifier: Verifier, prefix_digest: bytes, tree: TreeBuilder | None = None) -> None:
    """Record the verifier's state for ``prefix_digest`` (b"": not known, see
    :func:`ledger.app.audit.verify_incremental`) and the Merkle tree of the entries (``tree``) in ``disk``,
    and commit."""
    disk.set_meta("magic", MAGIC)
    disk.set_meta("layout", LAYOUT)
    disk.set_meta("size", str(verifier.size).encode())
    disk.set_meta("prefix", prefix_digest)
    disk.set_meta("tree", b"" if tree is None or tree.size != verifier.size else b"".join(tree.frontier))
    disk.set_meta("verifier", _small_state(verifier))
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
        verifier = pickle.loads(disk.get_meta("verifier") or b"")
        if not isinstance(verifier, Verifier) or verifier.size != size or not isinstance(digest, bytes):
            raise ValueError("not a state file")
        return size, digest, attach(verifier, disk), disk
    except Exception:  # any damage: not a usable state (it is only a cache)
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


__all__ = ["save", "load", "load_tree", "MAGIC", "StateCache"]


class StateCache:
    """The state file of a store's verifier (``ledger append --state``, SPEC.md 9).

    :meth:`open` resumes from the file when it describes exactly the first entries that
    ``entries(0, n)`` yields (the same prefix check as :func:`ledger.app.audit.verify_incremental`), else
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
