"""The scoring vocabulary: incident kinds, victim roles, attribution bases and confidences.
The scoring statement types themselves, with the role that signs each, are part of the
core's authority table (:mod:`ledger.core.entry_types`, SPEC.md 10.1)."""

from __future__ import annotations

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
#: Aggravating features an incident may carry besides its one ``kind`` (SPEC.md 10.3),
#: in code-point order (a body lists them sorted, R-10.17).
FEATURES = ("mass_killing", "public_display", "torture")
#: ``mass_killing`` means at least this many killed (the victims' ``low`` counts, summed).
MASS_KILLING_MIN = 4
#: How a rules version treats a splinter of a dismantled target (SPEC.md 10.7, 12.1).
SPLINTERS = ("clean", "inherit")
