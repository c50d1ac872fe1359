"""Building scoring statement bodies (pure), shared by the CLI, the demo and the tests.

Each function returns a body that matches its schema; :func:`statement` wraps a body into
an unsigned :class:`~ledger.core.model.Statement`. :func:`decision_body` computes the ranking
digest and the rules' selection by replaying the round, exactly as the verifier will.
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable, Mapping, Sequence

from ..core.model import Statement
from ..errors import InputError, OptionError
from .replay import replay
from .state import ScoringState
from .types import ROLES


def statement(type_: str, body: Mapping[str, Any], at: str, ledger_id: str) -> Statement:
    return Statement.build(type_, body, at, ledger_id)


def commitment(salt: bytes, document: bytes) -> str:
    """The salted commitment to a source document (SPEC.md 10.3): hex SHA-256(salt || doc)."""
    if len(salt) != 32:
        raise ValueError("the salt must be 32 bytes")
    return hashlib.sha256(salt + document).hexdigest()


def source(publisher: str, scale: str, date: str, commitment_hex: str) -> dict[str, str]:
    return {"publisher": publisher, "scale": scale, "date": date, "commitment": commitment_hex}


def org_register(org_id: str, name: str, aliases: Iterable[str] = (), notes: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"org_id": org_id, "name": name, "aliases": list(aliases)}
    if notes:
        body["notes"] = notes
    return body


def org_lineage(org_id: str, relation: str, other: str, date: str, notes: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"org_id": org_id, "relation": relation, "other": other, "date": date}
    if notes:
        body["notes"] = notes
    return body


def victim(role: str, low: int, best: int | None = None, high: int | None = None) -> dict[str, Any]:
    best = low if best is None else best
    high = best if high is None else high
    return {"role": role, "low": low, "best": best, "high": high}


def attribution(org: str, basis: str = "official_finding", confidence: str = "high") -> dict[str, str]:
    return {"org": org, "basis": basis, "confidence": confidence}


def incident(
    incident_id: str,
    date: str,
    kind: str,
    *,
    victims: Sequence[Mapping[str, Any]] = (),
    attributions: Sequence[Mapping[str, Any]] = (),
    sources: Sequence[Mapping[str, Any]] = (),
    state: str = "MX-GRO",
    municipality: str | None = None,
    date_precision: str = "day",
    claims: Sequence[Mapping[str, Any]] = (),
    notes: str | None = None,
    features: Iterable[str] = (),
) -> dict[str, Any]:
    """An incident body (SPEC.md 10.3); ``features`` are sorted and deduplicated (R-10.17)
    and the member is left out when there are none."""
    place: dict[str, Any] = {"state": state, "precision": "municipality" if municipality else "state"}
    if municipality:
        place["municipality"] = municipality
    body: dict[str, Any] = {
        "incident_id": incident_id,
        "date": date,
        "date_precision": date_precision,
        "place": place,
        "kind": kind,
        "victims": [dict(v) for v in victims],
        "attributions": [dict(a) for a in attributions],
        "claims": [dict(c) for c in claims],
        "sources": [dict(s) for s in sources],
    }
    listed = sorted(set(features))
    if listed:
        body["features"] = listed
    if notes:
        body["notes"] = notes
    return body


DEFAULT_WEIGHTS: dict[str, dict[str, str]] = {
    "killing": {
        "rival_member": "1", "ordinary_citizen": "3", "police": "4", "military": "4",
        "journalist": "6", "community_leader": "5", "official": "5", "unknown": "2",
    },
    "kidnapping": {"ordinary_citizen": "2", "journalist": "4", "official": "3", "unknown": "1.5", "rival_member": "0.5"},
    "forced_disappearance": {"ordinary_citizen": "2.5", "journalist": "5", "community_leader": "4", "unknown": "2"},
    "extortion": {"ordinary_citizen": "0.5", "official": "1", "unknown": "0.25"},
    "terror_act_or_threat": {"ordinary_citizen": "1.5", "journalist": "3", "official": "2", "police": "1.5", "unknown": "1"},
    "institutional_intimidation": {"official": "2", "journalist": "2", "police": "1", "community_leader": "1.5"},
    "systematic_corruption": {"official": "1.5", "police": "1"},
}


def rules_body(version: int, name: str, **overrides: Any) -> dict[str, Any]:
    """A complete rules body; ``overrides`` replaces top-level members (SPEC.md 10.7)."""
    body: dict[str, Any] = {
        "version": version,
        "name": name,
        "weights": {k: dict(v) for k, v in DEFAULT_WEIGHTS.items()},
        "confidence": {"low": "0.25", "medium": "0.6", "high": "1"},
        "basis": {"claim": "0.8", "official_finding": "1", "forensic": "1", "media": "0.7", "inference": "0.4"},
        "contested": {"mode": "discount", "factor": "0.5"},
        "joint": "split",
        "min_sources": 2,
        "count": "best",
        "normalization": None,
        "stand_out": {"ratio": "1.25", "min_score": "0"},
        "ties": "no_target",
        "places": 4,
    }
    body.update(overrides)
    return body


def round_open(
    number: int, rules_digest: str, start: str, end: str, eligible: Iterable[str], decision_date: str, notes: str | None = None,
    *, retrospective: str | None = None, left_out: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A ``round.open`` body (SPEC.md 11.1): ``retrospective`` is the justification of a
    round that looks back; ``left_out`` maps each registered, active organization that is
    not eligible to the reason (R-11.17)."""
    body: dict[str, Any] = {
        "round": number,
        "rules": rules_digest,
        "window": {"start": start, "end": end},
        "eligible": sorted(set(eligible)),
        "decision_date": decision_date,
    }
    if notes:
        body["notes"] = notes
    if retrospective is not None:
        body["retrospective"] = {"justification": retrospective}
    if left_out:
        body["left_out"] = dict(left_out)
    return body


_UNSET: Any = object()


def decision_body(
    state: ScoringState, number: int, *, target: str | None = _UNSET, justification: str | None = None
) -> dict[str, Any]:
    """A ``round.decide`` body for ``state`` (the ledger as it is now, before the decision).

    Without ``target`` it names the rules' selection (which must be unique); with one
    that is not the rules' pick, ``justification`` is required by R-12.3.
    """
    document = replay(state, number)
    if target is _UNSET:
        allowed = document.allowed_targets()
        if len(allowed) != 1:
            raise InputError(f"round {number}: the rules leave the choice to the panel among {', '.join(map(str, allowed))}; name --target")
        target = allowed[0]
    return {"round": number, "ranking": document.digest, "target": target, "justification": justification}


def split_value(value: str, n: int, what: str, option: str) -> list[str]:
    """``value`` split at ``:`` into exactly ``n`` parts (``what`` describes them)."""
    parts = value.split(":")
    if len(parts) != n:
        raise OptionError(f"expected {what}, got {value!r}", option)
    return parts


def sources(values: Iterable[str]) -> list[dict[str, str]]:
    """Sources from ``PUBLISHER:SCALE:DATE:COMMITMENT`` strings (the ``--source`` option)."""
    return [source(*split_value(v, 4, "PUBLISHER:SCALE:DATE:COMMITMENT", "--source")) for v in values]


def incident_from_options(
    incident_id: str, day: str, date_precision: str, place_state: str, municipality: str | None, kind: str,
    victims: Sequence[str], attributions: Sequence[str], claims: Sequence[str], sources_: Sequence[str], notes: str | None,
    features: Sequence[str] = (),
) -> dict[str, Any]:
    """An incident body from option strings: victims ``ROLE=LOW[/BEST[/HIGH]]``, attributions
    ``ORG[:BASIS[:CONFIDENCE]]``, claims ``ORG:STANCE:CHANNEL``, sources as :func:`sources`."""
    parsed_victims = []
    for value in victims:
        role, _, counts = value.partition("=")
        try:
            numbers = [int(x) for x in counts.split("/")]
        except ValueError:
            raise OptionError(f"expected ROLE=LOW[/BEST[/HIGH]], got {value!r}", "--victim") from None
        if role not in ROLES or not 1 <= len(numbers) <= 3:
            raise OptionError(f"expected ROLE=LOW[/BEST[/HIGH]] with a role of {', '.join(ROLES)}, got {value!r}", "--victim")
        parsed_victims.append(victim(role, *numbers))
    parsed_attributions = []
    for value in attributions:
        parts = value.split(":")
        parsed_attributions.append(attribution(parts[0], *(parts[1:3])))
    parsed_claims = [dict(zip(("org", "stance", "channel"), split_value(v, 3, "ORG:STANCE:CHANNEL", "--claim"))) for v in claims]
    return incident(incident_id, day, kind, victims=parsed_victims, attributions=parsed_attributions, sources=sources(sources_),
                    state=place_state, municipality=municipality, date_precision=date_precision, claims=parsed_claims, notes=notes,
                    features=features)


def baseline_body(measure: str, kinds: Sequence[str], justification: str, sources_: Sequence[str] = (),
                  reference: str | None = None, level: str | None = None, notes: str | None = None) -> dict[str, Any]:
    """An ``outcome.baseline`` body (SPEC.md 10.8): exactly one of ``reference``
    (``START:END``) and ``level`` (``VALUE/PER``, e.g. ``40/month``); sources as :func:`sources`."""
    if (reference is None) == (level is None):
        raise OptionError("expected exactly one of --reference START:END and --level VALUE/PER", "--reference")
    body: dict[str, Any] = {"measure": measure, "kinds": list(dict.fromkeys(kinds)), "justification": justification,
                            "sources": sources(sources_)}
    if reference is not None:
        start, end = split_value(reference, 2, "START:END", "--reference")
        body["reference"] = {"start": start, "end": end}
    else:
        value, sep, per = (level or "").partition("/")
        if not sep:
            raise OptionError(f"expected VALUE/PER (per day, week, month or year), got {level!r}", "--level")
        body["level"] = {"value": value, "per": per}
    if notes:
        body["notes"] = notes
    return body


def next_rules(state: ScoringState, body: Any = None, name: str | None = None, where: str = "rules") -> dict[str, Any]:
    """A ``rules.adopt`` body as the next version: ``body`` (parsed JSON; its version is
    filled in if absent) or, when None, the default rules."""
    version = len(state.rules_versions) + 1
    if body is None:
        return rules_body(version, name or f"rules version {version}")
    if not isinstance(body, dict):
        raise InputError(f"{where}: the rules must be a JSON object")
    body.setdefault("version", version)
    if name:
        body["name"] = name
    return body


def next_round(
    state: ScoringState, start: str, end: str, decision_date: str, eligible: Iterable[str] = (), left_out: Iterable[str] = (),
    retrospective: str | None = None, rules_digest: str | None = None, notes: str | None = None,
) -> dict[str, Any]:
    """A ``round.open`` body for the next round: the latest rules unless ``rules_digest``;
    ``left_out`` as ``ORG=REASON``; eligible by default every registered, active
    organization not left out (R-11.17)."""
    if rules_digest is None:
        if state.latest_rules is None:
            raise InputError("no rules adopted yet: create one with ledger adopt-rules")
        rules_digest = state.latest_rules.digest
    number = 1 if state.last_round is None else state.last_round.number + 1
    reasons = dict(_org_reason(item, "--left-out") for item in left_out)
    eligible = tuple(eligible)
    if not eligible:
        eligible = tuple(o for o in sorted(state.orgs) if state.eligible_now(o) is None and o not in reasons)
    return round_open(number, rules_digest, start, end, eligible, decision_date, notes, retrospective=retrospective, left_out=reasons)


def _org_reason(item: str, option: str) -> tuple[str, str]:
    org, sep, reason = item.partition("=")
    if not sep or not org:
        raise InputError(f"{option} {item!r}: expected ORG=REASON")
    return org, reason
