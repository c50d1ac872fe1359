"""The scoring process's statement types and the role that must sign each (SPEC.md 10.1).

Plain data, imported by :mod:`ledger.entry_types` to complete the authority table; it
imports nothing so that the table can be built without import cycles.
"""

from __future__ import annotations

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
)

#: Types whose body can change who may be targeted, and so need the panel's threshold
#: (SPEC.md 10.1): type -> (body member, value, role).
ROLE_BY_BODY: dict[str, tuple[str, str, str]] = {
    "org.lineage": ("relation", "merged_into", PANEL),
}

KINDS = (
    "killing",
    "kidnapping",
    "forced_disappearance",
    "extortion",
    "terror_act_or_threat",
    "institutional_intimidation",
    "systematic_corruption",
)
ROLES = (
    "rival_member",
    "ordinary_citizen",
    "police",
    "military",
    "journalist",
    "community_leader",
    "official",
    "unknown",
)
BASES = ("claim", "official_finding", "forensic", "media", "inference")
CONFIDENCES = ("low", "medium", "high")
