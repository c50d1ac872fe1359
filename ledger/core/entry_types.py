"""The authority table: every statement type, the role that must sign it, its body schema.

This table is SPEC.md section 6.2 in code. A type not listed here is rejected (R-7.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


RECORDER = "recorder"
PANEL = "panel"

#: (type, role, summary), in the order of SPEC.md section 10.1.
SCORING_TYPES: tuple[tuple[str, str, str], ...] = (
    ("org.register", RECORDER, "registers an organization"),
    ("org.update", RECORDER, "replaces an organization's name and aliases"),
    ("org.lineage", RECORDER, "records a split from another organization (a merger: panel)"),
    ("incident.record", RECORDER, "records an incident"),
    ("incident.amend", RECORDER, "supersedes an incident with a full new version"),
    ("incident.retract", RECORDER, "withdraws an incident"),
    ("attribution.dispute", RECORDER, "disputes one attribution of an incident (false flag)"),
    ("estimate.record", RECORDER, "records a revenue or drug-flow estimate"),
    ("target.progress", RECORDER, "reports enforcement progress against a target"),
    ("org.identify", PANEL, "declares two registered ids one organization"),
    ("rules.adopt", PANEL, "adopts a version of the scoring rules"),
    ("dispute.resolve", PANEL, "resolves an attribution dispute"),
    ("round.open", PANEL, "opens a selection round"),
    ("round.close", PANEL, "closes a round's scoring window"),
    ("round.decide", PANEL, "decides a round: ranking digest and target"),
    ("target.dismantled", PANEL, "declares a round's target dismantled"),
    ("outcome.baseline", PANEL, "names the step-7 baseline of the industry's violence"),
)

#: Types whose body can change who may be targeted, and so need the panel's threshold
#: (SPEC.md 10.1): type -> (body member, value, role).
ROLE_BY_BODY: dict[str, tuple[str, str, str]] = {
    "org.lineage": ("relation", "merged_into", PANEL),
}


@dataclass(frozen=True)
class EntryType:
    """A statement type: ``role``'s threshold of distinct keys must sign it."""

    name: str
    role: str
    summary: str
    #: (body member, value, role): a body whose member has that value needs that role's
    #: threshold instead (SPEC.md 10.1: an ``org.lineage`` merger is the panel's).
    escalate: tuple[str, str, str] | None = None

    @property
    def schema_id(self) -> str:
        return f"urn:violence-scoring-ledger:v1:body:{self.name}"

    def for_body(self, body: Mapping[str, Any]) -> "EntryType":
        """The type as ``body`` needs it signed: itself, or its escalated variant."""
        escalate = self.escalate
        if escalate is None or not isinstance(body, Mapping) or body.get(escalate[0]) != escalate[1]:
            return self
        return EntryType(self.name, escalate[2], self.summary)


def _table(*types: EntryType) -> dict[str, EntryType]:
    return {t.name: t for t in types}


ENTRY_TYPES: dict[str, EntryType] = _table(
    EntryType("ledger.genesis", "panel", "fixes the ledger's identity and initial policy"),
    EntryType("policy.update", "panel", "replaces the policy: keys, roles, thresholds, revocations"),
    *(EntryType(name, role, summary, ROLE_BY_BODY.get(name)) for name, role, summary in SCORING_TYPES),  # SPEC.md 10.1
)


def entry_type(name: str) -> EntryType | None:
    return ENTRY_TYPES.get(name)


def entry_type_for(name: str, body: Any) -> EntryType | None:
    """The type ``name`` as a statement with ``body`` must be signed (SPEC.md 6.2, 10.1)."""
    kind = ENTRY_TYPES.get(name)
    return kind if kind is None or kind.escalate is None else kind.for_body(body)
