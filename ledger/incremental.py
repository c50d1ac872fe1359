"""Incremental verification: resume from a saved verifier state (SPEC.md section 9).

After verifying a ledger whose every entry passed, the verifier's complete state (chain
head, policy, revocations, statement digests, scoring state) is saved together with the
size ``n`` it describes and the SHA-256 of the first ``n`` entries as bundle lines (each
entry's bytes and a newline). The next run reads the first ``n`` entries again, only to
hash them (no parsing, no signatures: a small fraction of verifying them), and resumes
from the saved state if and only if the digest is the same, i.e. the first ``n`` entries
are byte for byte the ones verified before; then only the entries after them are
verified. Otherwise the state is ignored and the whole ledger is verified again: a stale
or foreign state costs time, never a missed violation. The report equals that of a full
run.

(Checking only the last entry's hash would not do: the chain fixes the prefix only if every
``prev`` link holds, and a rewritten entry with its successor's ``prev`` left alone is
exactly what verification must find.)

A state file is a *local cache* of the auditor's own earlier run: it is written with mode
0600 and must never be taken from someone else (it is a Python pickle; loading it runs
code it names). Its first line is :data:`MAGIC`.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .audit import AuditReport
from .keys import PublicKey
from .verify import Verifier, Violation, new_verifier

MAGIC = b"violence-scoring-ledger/verifier-state/v1\n"


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, PublicKey):
            return PublicKey.from_raw, (obj.raw,)
        return NotImplemented


def save(verifier: Verifier, prefix_digest: bytes, path: Path) -> None:
    """Write the state atomically (temporary file, fsync, rename), mode 0600."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(MAGIC)
        _Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL).dump((verifier.size, prefix_digest, verifier))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def load(path: Path) -> tuple[int, bytes, Verifier] | None:
    """(size, prefix digest, verifier) from a state file, or None if it is not one."""
    try:
        with open(path, "rb") as handle:
            if handle.read(len(MAGIC)) != MAGIC:
                return None
            size, digest, verifier = pickle.load(handle)
    except Exception:  # any damage: not a usable state (it is only a cache)
        return None
    if not isinstance(verifier, Verifier) or verifier.size != size or not isinstance(digest, bytes):
        return None
    return size, digest, verifier


@dataclass
class IncrementalReport(AuditReport):
    resumed_from: int = 0  # entries taken from the snapshot (0: verified from the start)
    new_entries: int = 0


def verify_incremental(path: str | os.PathLike[str], state: str | os.PathLike[str], *,
                       keep: int = 1000) -> IncrementalReport:
    """Verify ``path`` (SQLite ledger or bundle), resuming from ``state`` when it describes
    exactly the ledger's first entries; save a new state when every entry passed."""
    from .store import open_entries

    path, state = Path(path), Path(state)
    loaded = load(state) if state.exists() else None
    verifier: Verifier | None = None
    resumed = 0
    entries = open_entries(path)
    prefix = hashlib.sha256()
    if loaded is not None:
        size, digest, candidate = loaded
        seen = 0
        for raw in itertools.islice(entries, size):
            prefix.update(raw)
            prefix.update(b"\n")
            seen += 1
        if seen == size and prefix.digest() == digest:
            verifier, resumed = candidate, size
        else:
            _close(entries)
            entries, prefix = open_entries(path), hashlib.sha256()
    if verifier is None:
        verifier = new_verifier()
    report = IncrementalReport(str(path), resumed_from=resumed)

    def note(found: list[Violation]) -> None:
        report.violation_count += len(found)
        room = keep - len(report.violations)
        if room > 0:
            report.violations.extend(found[:room])

    for raw in entries:
        note(verifier.feed(raw))
        prefix.update(raw)
        prefix.update(b"\n")
        report.new_entries += 1
    if verifier.violations_seen == 0 and verifier.head is not None and report.new_entries:
        save(verifier, prefix.digest(), state)
    note(verifier.finish())
    report.take_final_state(verifier)
    return report


def _close(entries: Iterator[bytes]) -> None:
    close = getattr(entries, "close", None)
    if close is not None:
        close()


__all__ = ["save", "load", "verify_incremental", "IncrementalReport", "MAGIC"]
