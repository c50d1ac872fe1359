"""The authority table: every statement type, the role that must sign it, its body schema.

This table is SPEC.md section 6.2 in code. A type not listed here is rejected (R-7.3).
"""

from __future__ import annotations

from dataclasses import dataclass

from .scoring.types import SCORING_TYPES


@dataclass(frozen=True)
class EntryType:
    """A statement type: ``role``'s threshold of distinct keys must sign it."""

    name: str
    role: str
    summary: str

    @property
    def schema_id(self) -> str:
        return f"urn:violence-scoring-ledger:v1:body:{self.name}"


def _table(*types: EntryType) -> dict[str, EntryType]:
    return {t.name: t for t in types}


ENTRY_TYPES: dict[str, EntryType] = _table(
    EntryType("ledger.genesis", "panel", "fixes the ledger's identity and initial policy"),
    EntryType("policy.update", "panel", "replaces the policy: keys, roles, thresholds, revocations"),
    *(EntryType(name, role, summary) for name, role, summary in SCORING_TYPES),  # SPEC.md 10.1
)


def entry_type(name: str) -> EntryType | None:
    return ENTRY_TYPES.get(name)
