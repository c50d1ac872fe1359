"""Verifying a whole ledger from a path: the edge around the pure verifier."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

from .store import open_entries
from .verify import Violation, new_verifier


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

    @property
    def ok(self) -> bool:
        return self.violation_count == 0

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
        }


def verify_path(
    path: str | os.PathLike[str],
    *,
    progress: Callable[[int], None] | None = None,
    keep: int = 1000,
) -> AuditReport:
    """Verify every entry at ``path`` (SQLite ledger or bundle); keeps the first ``keep`` violations."""
    verifier = new_verifier()
    report = AuditReport(str(path))

    def note(found: list[Violation]) -> None:
        report.violation_count += len(found)
        room = keep - len(report.violations)
        if room > 0:
            report.violations.extend(found[:room])

    for raw in open_entries(path):
        note(verifier.feed(raw))
        if progress is not None:
            progress(1)
    note(verifier.finish())
    context = verifier.context
    report.size = context.size
    report.ledger_id = context.ledger_id
    report.origin = context.origin
    report.head = verifier.head.hex() if verifier.head else None
    report.policy_version = context.policy.version if context.policy else None
    return report
