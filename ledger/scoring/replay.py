"""The replay engine: a round's ranking, recomputed from the ledger (SPEC.md section 12).

``replay(source, round_number)`` is a pure function of the ledger's entries and a round
number. Arithmetic is exact: contributions are integers over the rules' common
denominator, per-organization totals are :class:`fractions.Fraction`, and only the
*displayed* figures are rounded (half to even, a fixed number of places). Ranking uses
the exact values; ties are reported, never broken silently. The result is a canonical
JSON document whose SHA-256 is the digest a ``round.decide`` entry commits to.
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from math import gcd
from typing import Any, Iterable

from .. import canonical
from ..errors import LedgerError
from .rules import Rules, display, exact, parse_decimal
from .state import Round, ScoringState

DOCUMENT_FORMAT = "violence-scoring-ledger/v1/ranking"

# Exclusion reasons (SPEC.md 12.4), incident-level then attribution-level.
RECORDED_AFTER_CLOSE = "recorded_after_close"
SUPERSEDED = "superseded"
RETRACTED = "retracted"
OUTSIDE_WINDOW = "outside_window"
TOO_FEW_SOURCES = "too_few_sources"
UNATTRIBUTED = "unattributed"
INELIGIBLE_ORG = "ineligible_org"
DISPUTE_UPHELD = "dispute_upheld"
CONTESTED = "contested"


class ReplayError(LedgerError):
    """A round cannot be replayed (unknown round, unknown rules)."""


@dataclass(frozen=True)
class RankingDocument:
    """The canonical ranking document of one round and its digest."""

    round: int
    document: dict[str, Any]
    raw: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def selection(self) -> dict[str, Any]:
        return self.document["selection"]

    def allowed_targets(self) -> list[str | None]:
        """The targets a decision may name without a justification (SPEC.md 12.8)."""
        selection = self.selection
        if selection["target"] is not None:
            return [selection["target"]]
        if selection["candidates"]:
            return list(selection["candidates"])
        return [None]


def date_interval(day: str, precision: str) -> tuple[str, str]:
    """The first and last day an incident date with its precision may denote (12.4)."""
    if precision == "day":
        return day, day
    d = date.fromisoformat(day)
    if precision == "week":
        return day, (d + timedelta(days=6)).isoformat()
    last = calendar.monthrange(d.year, d.month)[1]
    return day[:8] + "01", day[:8] + f"{last:02d}"


def in_window(body: dict[str, Any], start: str, end: str) -> bool:
    if body["date_precision"] == "day":
        return start <= body["date"] <= end
    first, last = date_interval(body["date"], body["date_precision"])
    return start <= first and last <= end


def replay(source: ScoringState | Iterable[bytes], round_number: int, *, rules_digest: str | None = None) -> RankingDocument:
    """The ranking document of ``round_number``.

    ``source`` is the scoring state after the ledger (or a prefix of it) or the raw entries
    of a ledger, which are then verified first. ``rules_digest`` replays the round with
    other adopted rules than those it committed to (only to diagnose a mismatch, R-12.2).
    """
    state = source if isinstance(source, ScoringState) else state_of(source)
    round_ = state.rounds.get(round_number)
    if round_ is None:
        raise ReplayError(f"no round {round_number} in this ledger")
    digest = rules_digest or round_.rules
    rules = state.rules.get(digest)
    if rules is None:  # pragma: no cover - R-11.3 admits no such round
        raise ReplayError(f"round {round_number} commits to unknown rules {digest[:16]}…")
    document = _rank(state, round_, rules)
    return RankingDocument(round_number, document, canonical.encode(document))


def state_of(raws: Iterable[bytes]) -> ScoringState:
    """Verify ``raws`` and return the scoring state they leave (violations are ignored here:
    an entry with a violation has no effect, exactly as in ``ledger verify``)."""
    from ..verify import new_verifier
    from .process import scoring_process

    verifier = new_verifier()
    for raw in raws:
        verifier.feed(raw)
    process = scoring_process(verifier)
    if process is None:  # pragma: no cover
        raise ReplayError("the verifier has no scoring process")
    return process.state


def _rank(state: ScoringState, round_: Round, rules: Rules) -> dict[str, Any]:
    body = round_.body
    start, end = body["window"]["start"], body["window"]["end"]
    eligible = sorted(body["eligible"])
    eligible_set = set(eligible)
    # Entries before ``cutoff`` count; entries in [cutoff, limit) are shown as late.
    limit = round_.decide_seq if round_.decide_seq is not None else state.size
    cutoff = round_.close_seq if round_.close_seq is not None else limit
    count_key = rules.count
    weight = rules.weight
    min_sources = rules.min_sources
    split = rules.joint == "split"
    exclude_contested = rules.contested_mode == "exclude"
    disputed = state.disputes_by_attribution
    multipliers: dict[tuple[str, str, bool], int] = {}

    raw_by_org: dict[str, dict[int, int]] = {o: {} for o in eligible}
    breakdown: dict[str, dict[tuple[str, str, int], int]] = {o: {} for o in eligible}
    contributions: dict[str, list[tuple[str, int, str, int, int]]] = {o: [] for o in eligible}
    excluded: list[tuple[str, int, str, str]] = []  # (incident, seq, reason, org or "")
    counted_incidents = 0

    for incident in state.incidents.values():
        first_seq = incident.versions[0][0]
        if first_seq >= cutoff:
            if first_seq < limit and in_window(incident.versions[0][1], start, end):
                excluded.append((incident.incident_id, first_seq, RECORDED_AFTER_CLOSE, ""))
            continue
        index = len(incident.versions) - 1
        if incident.versions[index][0] >= cutoff:
            index = incident.version_before(cutoff)
        seq, inc = incident.versions[index]
        for old_seq, old in incident.versions[:index]:
            if in_window(old, start, end) or in_window(inc, start, end):
                excluded.append((incident.incident_id, old_seq, SUPERSEDED, ""))
        if not in_window(inc, start, end):
            if first_seq > round_.open_seq:  # recorded during the round, dated outside it
                excluded.append((incident.incident_id, seq, OUTSIDE_WINDOW, ""))
            continue
        if incident.retracted is not None and incident.retracted[0] < cutoff:
            excluded.append((incident.incident_id, seq, RETRACTED, ""))
            continue
        sources = inc["sources"]
        if len(sources) < min_sources or len({s["publisher"] for s in sources}) < min_sources:
            excluded.append((incident.incident_id, seq, TOO_FEW_SOURCES, ""))
            continue
        attributions = inc["attributions"]
        if not attributions:
            excluded.append((incident.incident_id, seq, UNATTRIBUTED, ""))
            continue
        counted: list[tuple[str, int]] = []
        for attribution in attributions:
            org = attribution["org"]
            if org not in eligible_set:
                excluded.append((incident.incident_id, seq, INELIGIBLE_ORG, org))
                continue
            status = state.attribution_status(incident.incident_id, org, cutoff) if (incident.incident_id, org) in disputed else "clear"
            if status == "upheld":
                excluded.append((incident.incident_id, seq, DISPUTE_UPHELD, org))
                continue
            contested = status == "contested"
            if contested and exclude_contested:
                excluded.append((incident.incident_id, seq, CONTESTED, org))
                continue
            key = (attribution["basis"], attribution["confidence"], contested)
            multiplier = multipliers.get(key)
            if multiplier is None:
                multiplier = multipliers[key] = rules.multiplier(*key)
            counted.append((org, multiplier))
        if not counted:
            continue
        counted_incidents += 1
        share = len(counted) if split else 1
        kind = inc["kind"]
        parts = [(v["role"], weight[(kind, v["role"])] * v[count_key]) for v in inc["victims"]]
        base = sum(p for _, p in parts)
        for org, multiplier in counted:
            total = base * multiplier
            by_share = raw_by_org[org]
            by_share[share] = by_share.get(share, 0) + total
            cells = breakdown[org]
            for role, part in parts:
                cell = (kind, role, share)
                cells[cell] = cells.get(cell, 0) + part * multiplier
            contributions[org].append((incident.incident_id, seq, incident.digests[index], share, total))

    denominator = rules.denominator
    places = rules.places
    scores: dict[str, Fraction] = {}
    rows: dict[str, dict[str, Any]] = {}
    for org in eligible:
        raw = sum((Fraction(n, denominator * k) for k, n in raw_by_org[org].items()), Fraction(0))
        divisor: Fraction | None = None
        estimated: Fraction | None = None
        if rules.normalization is not None:
            norm = rules.normalization
            estimate = state.estimate_before(org, norm["metric"], cutoff)
            estimated = parse_decimal(estimate[norm["point"]]) if estimate is not None else None
            assert rules.floor is not None and rules.unit is not None
            divisor = rules.floor if estimated is None or estimated < rules.floor else estimated
            score = raw * rules.unit / divisor
        else:
            score = raw
        scores[org] = score
        cells: dict[tuple[str, str], Fraction] = {}
        for (kind, role, k), n in breakdown[org].items():
            cells[(kind, role)] = cells.get((kind, role), Fraction(0)) + Fraction(n, denominator * k)
        table: dict[str, dict[str, Any]] = {}
        for (kind, role), value in sorted(cells.items()):
            table.setdefault(kind, {})[role] = {"value": display(value, places), "exact": exact(value)}
        items = sorted(contributions[org])
        rows[org] = {
            "org": org,
            "score": display(score, places),
            "score_exact": exact(score),
            "raw": display(raw, places),
            "raw_exact": exact(raw),
            "normalization": None if divisor is None else {
                "estimate": None if estimated is None else exact(estimated),
                "divisor": exact(divisor),
            },
            "breakdown": table,
            "incidents": [
                {"incident": i, "seq": s, "statement": d, "contribution": shown, "exact": text}
                for i, s, d, k, n in items
                for shown, text in (_ratio_texts(n, denominator * k, places),)
            ],
        }
    order = sorted(eligible, key=lambda o: (-scores[o], o))
    ranking: list[dict[str, Any]] = []
    ties: list[dict[str, Any]] = []
    rank = 0
    for position, org in enumerate(order):
        if position == 0 or scores[org] != scores[order[position - 1]]:
            rank = position + 1
            group = [o for o in order[position:] if scores[o] == scores[org]]
            if len(group) > 1:
                ties.append({"rank": rank, "score": display(scores[org], places), "score_exact": exact(scores[org]), "orgs": group})
        ranking.append({"rank": rank, **rows[org]})
    excluded.sort()
    return {
        "format": DOCUMENT_FORMAT,
        "ledger": state.ledger_id,
        "round": round_.number,
        "rules": {"digest": rules.digest, "version": rules.version, "seq": rules.seq},
        "window": {"start": start, "end": end},
        "opened": round_.open_seq,
        "closed": round_.close_seq,
        "eligible": eligible,
        "places": places,
        "ranking": ranking,
        "ties": ties,
        "selection": _select(order, scores, rules),
        "excluded": [
            {"incident": i, "seq": s, "reason": r, "org": o or None} for i, s, r, o in excluded
        ],
        "counts": {"incidents_counted": counted_incidents, "exclusions": len(excluded)},
    }


def _ratio_texts(numerator: int, denominator: int, places: int) -> tuple[str, str]:
    """``display`` and ``exact`` of numerator/denominator (both >= 0) with integers only:
    the same strings as :func:`display` and :func:`exact` of the Fraction, but faster."""
    g = gcd(numerator, denominator)
    a, b = numerator // g, denominator // g
    text = str(a) if b == 1 else f"{a}/{b}"
    q, r = divmod(numerator * 10**places, denominator)
    if 2 * r > denominator or (2 * r == denominator and q & 1):
        q += 1
    digits = str(q).rjust(places + 1, "0")
    return (digits if places == 0 else f"{digits[:-places]}.{digits[-places:]}"), text


def _select(order: list[str], scores: dict[str, Fraction], rules: Rules) -> dict[str, Any]:
    """The stand-out criterion and tie handling (SPEC.md 12.7)."""
    places = rules.places
    top_score = scores[order[0]]
    top = [o for o in order if scores[o] == top_score]
    rest = [o for o in order if scores[o] != top_score]
    runner_up = scores[rest[0]] if rest else Fraction(0)
    stands = top_score > rules.min_score and top_score >= rules.ratio * runner_up
    target: str | None = None
    candidates: list[str] = []
    if top_score <= rules.min_score:
        outcome = "below_minimum"
    elif len(top) > 1:
        outcome = "tie"
        if stands and rules.ties == "panel_choice":
            candidates = top
    elif stands:
        outcome = "stands_out"
        target = top[0]
    else:
        outcome = "no_standout"
    ratio = None if runner_up == 0 else top_score / runner_up
    return {
        "outcome": outcome,
        "target": target,
        "candidates": candidates,
        "top": top,
        "top_score": display(top_score, places),
        "runner_up_score": display(runner_up, places),
        "ratio": None if ratio is None else display(ratio, places),
        "ratio_exact": None if ratio is None else exact(ratio),
        "required_ratio": rules.body["stand_out"]["ratio"],
        "min_score": rules.body["stand_out"]["min_score"],
    }
