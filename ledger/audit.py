"""Verifying a whole ledger from a path: the edge around the pure verifier."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from . import note
from .checkpoints import CheckpointAuditor, CheckpointResult, operator_verifiers
from .errors import InputError, ProofError
from .remote import is_published, open_published
from .store import LedgerStore, is_sqlite_file, open_entries
from .diskstate import DiskState, disk_verifier
from .verify import Verifier, Violation
from .views import check_store


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


def verify_path(
    path: str | os.PathLike[str],
    *,
    progress: Callable[[int], None] | None = None,
    keep: int = 1000,
    checkpoints: Sequence[tuple[str, bytes]] = (),
    log_keys: Sequence[str] = (),
    jobs: int = 1,
) -> AuditReport:
    """Verify every entry at ``path`` (SQLite ledger, bundle, or published directory or URL);
    keeps the first ``keep`` violations.

    The Merkle tree is rebuilt from the entries and the ledger is checked against every
    given checkpoint ``(source, note bytes)``, and against a published ledger's own
    ``checkpoint``, with the pinned ``log_keys`` or else the ledger's operator keys (14.7).

    ``jobs`` > 1 checks signatures on that many worker processes (``ledger.parallel``);
    the report is the same.
    """
    disk = DiskState()  # the statement index and incidents on disk: flat memory (ledger.diskstate)
    try:
        return _verify_path(path, disk_verifier(disk), progress, keep, checkpoints, log_keys, jobs)
    finally:
        disk.close()


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


def first_gap(gap: int | None, found: Sequence[Violation], verifier: Verifier) -> int | None:
    """The first position whose entry carries another ``seq`` (R-7.4), given the violations
    ``found`` for the entry just fed: for the messages of R-14.3 and R-14.4."""
    if gap is None and any(v.rule == "R-7.4" for v in found):
        return verifier.size - 1
    return gap


def _verify_path(path: str | os.PathLike[str], verifier: Verifier, progress: Callable[[int], None] | None,
                 keep: int, checkpoints: Sequence[tuple[str, bytes]], log_keys: Sequence[str], jobs: int) -> AuditReport:
    report = AuditReport(str(path))
    parse_log_keys(log_keys)  # a malformed key is a usage error before anything is read

    def note_(found: list[Violation]) -> None:
        report.violation_count += len(found)
        room = keep - len(report.violations)
        if room > 0:
            report.violations.extend(found[:room])

    given = list(checkpoints)
    stored: list[tuple[str, bytes]] = []
    if is_published(path):
        entries, published = open_published(path)
        given.insert(0, (f"{str(path).rstrip('/')}/checkpoint", published))
    else:
        stored = stored_checkpoints(path)
        entries = open_entries(path)
    if log_keys and not given and not stored:
        # SPEC.md 14.8: a pinned key that judges nothing would be silently ignored; refuse.
        raise InputError(f"{path}: --log-key cannot be applied: there is no signed checkpoint to check it against "
                         f"(give --checkpoint FILE, or verify the published directory or URL)")
    auditor = CheckpointAuditor(given, log_keys, stored)
    if jobs > 1:
        from .parallel import precomputed_signatures

        fed: Iterable[tuple[bytes, Any]] = precomputed_signatures(entries, jobs)
    else:
        fed = ((raw, None) for raw in entries)
    gap: int | None = None  # the first position whose entry carries another seq
    for raw, precomputed in fed:
        found = verifier.feed(raw, precomputed)
        gap = first_gap(gap, found, verifier)
        note_(found)
        assert verifier.head is not None
        auditor.observe(verifier.head, verifier.context.policy)
        if progress is not None:
            progress(1)
    note_(verifier.finish())
    if not is_published(path) and is_sqlite_file(path):
        with LedgerStore.open(path, readonly=True) as store:
            note_(check_store(store.conn))  # SPEC.md 9: views and derived columns
    report.take_final_state(verifier)
    results = auditor.finish(verifier.context.origin, revoked=verifier.revoked, gap=gap)
    for result in results:
        note_(result.violations)
    note_(auditor.findings)
    report.take_checkpoints(auditor, results)
    return report
