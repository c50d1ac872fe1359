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
