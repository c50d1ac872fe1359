"""Verifying a whole ledger from a path: the edge around the pure verifier."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from .checkpoints import CheckpointAuditor, CheckpointResult
from .remote import is_published, open_published
from .store import open_entries
from .diskstate import DiskState, disk_verifier
from .verify import Verifier, Violation


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


def _verify_path(path: str | os.PathLike[str], verifier: Verifier, progress: Callable[[int], None] | None,
                 keep: int, checkpoints: Sequence[tuple[str, bytes]], log_keys: Sequence[str], jobs: int) -> AuditReport:
    report = AuditReport(str(path))

    def note(found: list[Violation]) -> None:
        report.violation_count += len(found)
        room = keep - len(report.violations)
        if room > 0:
            report.violations.extend(found[:room])

    given = list(checkpoints)
    if is_published(path):
        entries, published = open_published(path)
        given.insert(0, (f"{str(path).rstrip('/')}/checkpoint", published))
    else:
        entries = open_entries(path)
    auditor = CheckpointAuditor(given, log_keys) if given else None
    if jobs > 1:
        from .parallel import precomputed_signatures

        fed: Iterable[tuple[bytes, Any]] = precomputed_signatures(entries, jobs)
    else:
        fed = ((raw, None) for raw in entries)
    for raw, precomputed in fed:
        note(verifier.feed(raw, precomputed))
        if auditor is not None:
            assert verifier.head is not None
            auditor.observe(verifier.head, verifier.context.policy)
        if progress is not None:
            progress(1)
    note(verifier.finish())
    if auditor is not None:
        report.checkpoints = auditor.finish(verifier.context.origin)
        for result in report.checkpoints:
            note(result.violations)
    report.take_final_state(verifier)
    return report
