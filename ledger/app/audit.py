"""What ``ledger verify`` judged (its report, SPEC.md 8.2) and the checkpoints it judges by
default; the loading itself is :func:`ledger.app.load.open_ledger`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..core import note
from ..core.verify import Verifier, Violation
from ..errors import InputError, ProofError
from ..log.checkpoints import CheckpointAuditor, CheckpointResult, operator_verifiers
from ..storage.remote import is_published
from ..storage.store import LedgerStore, is_sqlite_file


@dataclass
class AuditReport:
    """The outcome of verifying every entry of a ledger."""

    path: str
    size: int = 0
    ledger_id: str | None = None
    origin: str | None = None
    head: str | None = None
    policy_version: int | None = None
    violations: list[Violation] = field(default_factory=list)
    violation_count: int = 0
    checkpoints: list[CheckpointResult] = field(default_factory=list)  # section 14.7
    notices: list[Violation] = field(default_factory=list)  # findings that do not fail
    # What was judged (SPEC.md 8.2): the log key(s) checkpoints were checked with, pinned
    # (--log-key) or the ledger's own operator keys in force after its last entry, and the
    # witness threshold of that policy.
    log_key_pinned: bool = False
    log_keys: list[str] = field(default_factory=list)
    witness_threshold: int = 0
    # With a verifier state file (SPEC.md 9; not in the JSON report): entries taken from it
    # (0: verified from the start), entries fed in this run, and whether the run resumed
    # without re-reading the prefix, tied to a checkpoint.
    resumed_from: int = 0
    new_entries: int = 0
    anchored: bool = False

    @property
    def ok(self) -> bool:
        return self.violation_count == 0

    def take_final_state(self, verifier: Verifier) -> None:
        """Record what the verifier ended with: size, identity, head, policy, notices."""
        for process in verifier.processes:  # e.g. a justified deviation from the rules' selection
            self.notices.extend(getattr(process, "notices", ()))
        context = verifier.context
        self.size = context.size
        self.ledger_id = context.ledger_id
        self.origin = context.origin
        self.head = verifier.head.hex() if verifier.head else None
        self.policy_version = context.policy.version if context.policy else None

    @property
    def checkpoints_judged(self) -> int:
        """Checkpoints signed by the log key (R-14.1, R-14.2 held) whose consistency was judged."""
        return sum(1 for c in self.checkpoints if c.consistent is not None)

    def take_checkpoints(self, auditor: CheckpointAuditor, results: list[CheckpointResult]) -> None:
        """Record the judged checkpoints and the key(s) they were judged with."""
        self.checkpoints = results
        self.witness_threshold = auditor.witness_threshold
        self.log_key_pinned = bool(auditor.pinned)
        if auditor.pinned:
            self.log_keys = [str(k) for k in auditor.pinned]
        elif self.origin is not None:
            self.log_keys = [str(k) for k in operator_verifiers(self.origin, auditor.policy)]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "entries": self.size,
            "ledger_id": self.ledger_id,
            "origin": self.origin,
            "head": self.head,
            "policy_version": self.policy_version,
            "violation_count": self.violation_count,
            "violations": [v.to_json() for v in self.violations],
            "checkpoints": [c.to_json() for c in self.checkpoints],
            "checkpoints_judged": self.checkpoints_judged,
            "log_key": {"pinned": self.log_key_pinned, "keys": self.log_keys},
            "witness_threshold": self.witness_threshold,
            "notices": [n.to_json() for n in self.notices],
        }


def parse_log_keys(log_keys: Sequence[str]) -> list[note.NoteVerifier]:
    """The pinned ``--log-key`` values as verifier keys; InputError (a usage error, exit 2)
    for one that is not a well-formed type-0x01 (Ed25519 log) vkey (SPEC.md 14.8)."""
    out = []
    for text in log_keys:
        try:
            key = note.NoteVerifier.from_string(text)
        except ProofError as exc:
            raise InputError(f"--log-key {text!r}: {exc.message}") from None
        if key.sig_type != note.SIG_ED25519:
            raise InputError(f"--log-key {text!r}: a log key has signature type 0x01, this one 0x{key.sig_type:02x}")
        out.append(key)
    return out


def stored_checkpoints(path: str | os.PathLike[str]) -> list[tuple[str, bytes]]:
    """The checkpoints of a SQLite ledger that ``ledger verify`` judges by default (SPEC.md
    14.8): the latest signed one and, if another, the latest one carrying a signature line
    besides the log key's (a witness cosignature); [] for anything else."""
    if is_published(path) or not is_sqlite_file(path):
        return []
    with LedgerStore.open(path, readonly=True) as store:
        if not store.tree.tables_exist():
            return []
        latest = store.conn.execute("SELECT id, note FROM checkpoints ORDER BY id DESC LIMIT 1").fetchone()
        if latest is None:
            return []
        found = [(f"{path} (stored checkpoint #{latest[0]}, the latest)", bytes(latest[1]))]
        # candidates: notes with two or more "\n—" (signature lines), confirmed by parsing
        lines = "(length(CAST(note AS TEXT)) - length(replace(CAST(note AS TEXT), char(10) || '—', ''))) / 2"
        rows = store.conn.execute(f"SELECT id, note FROM checkpoints WHERE id < ? AND {lines} > 1 ORDER BY id DESC",
                                  (latest[0],))
        if _signature_lines(found[0][1]) <= 1:
            for row_id, data in rows:
                if _signature_lines(bytes(data)) > 1:
                    found.append((f"{path} (stored checkpoint #{row_id}, the latest cosigned)", bytes(data)))
                    break
        return found


def _signature_lines(data: bytes) -> int:
    try:
        return len(note.parse_note(data)[1])
    except ProofError:
        return 0
