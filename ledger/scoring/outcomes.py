"""The outcomes document (SPEC.md 12.12): did the selection work?

Pure: a function of the scoring state, the last entry considered (``through``) and the
period unit. It counts violence, not scores: incidents and victims (``best`` counts, by
role), of every incident the ledger holds, attributed or not, counted or not in a round;
per period, per organization, around each decided round with a target, and against the
step-7 baseline (``outcome.baseline``, 10.8). Numbers are integers or exact fractions with
a displayed value (12.6); the document is canonical JSON and its digest the SHA-256 of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, Iterable

from ..core import canonical
from ..errors import InputError
from .rules import display, exact, parse_decimal
from .state import ScoringState, date_interval
from .types import KINDS

FORMAT = "violence-scoring-ledger/v1/outcomes"
PERIODS = ("month", "week")
DEFAULT_PERIOD = "month"
PLACES = 3  # decimals of every displayed value in the document
STANDING_DAYS = 91  # where the industry stands: the last 13 weeks of the data
#: Days in a baseline level's unit: the Gregorian calendar's mean month and year (exact).
DAYS_PER = {"day": Fraction(1), "week": Fraction(7), "month": Fraction(146097, 4800), "year": Fraction(146097, 400)}


@dataclass(frozen=True)
class Seen:
    """One incident as the outcomes count it: its version in force, and the organizations
    its attributions count for (12.12)."""

    incident_id: str
    day: str  # the first day the counted version's date denotes (12.2)
    kind: str
    victims: tuple[tuple[str, int], ...]  # (role, best)
    orgs: tuple[str, ...]  # distinct, sorted

    @property
    def total(self) -> int:
        return sum(n for _, n in self.victims)


@dataclass(frozen=True)
class OutcomesDocument:
    """The document and its canonical bytes; the digest is their SHA-256 (12.12)."""

    document: dict[str, Any]
    raw: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


def _value(value: Fraction) -> dict[str, str]:
    return {"value": display(value, PLACES), "exact": exact(value)}


def _ratio(numerator: Fraction, denominator: Fraction) -> dict[str, str | None]:
    if denominator == 0:
        return {"ratio": None, "ratio_exact": None}
    value = Fraction(numerator) / denominator
    return {"ratio": display(value, PLACES), "ratio_exact": exact(value)}


def _day(text: str, delta: int = 0) -> str:
    """``text`` moved by ``delta`` days, kept within 0001-01-01 .. 9999-12-31 (12.12)."""
    try:
        return (date.fromisoformat(text) + timedelta(days=delta)).isoformat()
    except OverflowError:
        return "0001-01-01" if delta < 0 else "9999-12-31"


def _days(start: str, end: str) -> int:
    return max(0, (date.fromisoformat(end) - date.fromisoformat(start)).days + 1)


def period_of(day: str, unit: str) -> tuple[str, str, str]:
    """``(key, first day, last day)`` of the calendar month or ISO week containing ``day``."""
    if unit == "month":
        first, last = date_interval(day, "month")
        return day[:7], first, last
    year, week, weekday = date.fromisoformat(day).isocalendar()
    monday = _day(day, 1 - weekday)
    return f"{year:04d}-W{week:02d}", monday, _day(monday, 6)


def seen_incidents(state: ScoringState, through: int) -> tuple[list[Seen], int]:
    """Every incident as entry ``through`` left it, and the number retracted (12.12 steps 1-3)."""
    out: list[Seen] = []
    retracted = 0
    identities = {org: same for org, (same, seq) in state.identities.items() if seq <= through}
    for incident in state.iter_incidents():
        index = incident.version_before(through + 1)
        if index < 0:
            continue  # first recorded after ``through``
        if incident.retracted is not None and incident.retracted[0] <= through:
            retracted += 1
            continue
        version = incident.versions[index]
        orgs = {identities.get(org, org) for org, _, _ in version.attributions
                if state.attribution_status(incident.incident_id, org, through + 1) != "upheld"}
        out.append(Seen(incident.incident_id, version.first, version.kind,
                        tuple((role, best) for role, _, best, _ in version.victims), tuple(sorted(orgs))))
    return out, retracted


class _Counts:
    """Incidents and victims (by kind and role) of a set of incidents."""

    def __init__(self) -> None:
        self.incidents = 0
        self.victims = 0
        self.cells: dict[str, list[Any]] = {}  # kind -> [incidents, {role: victims}]

    def add(self, item: Seen) -> None:
        self.incidents += 1
        self.victims += item.total
        cell = self.cells.setdefault(item.kind, [0, {}])
        cell[0] += 1
        for role, n in item.victims:
            cell[1][role] = cell[1].get(role, 0) + n

    def roles(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _, roles in self.cells.values():
            for role, n in roles.items():
                out[role] = out.get(role, 0) + n
        return out

    def to_json(self) -> dict[str, Any]:
        return {"incidents": self.incidents, "victims": self.victims,
                "by_kind": {k: {"incidents": c[0], "victims": dict(c[1])} for k, c in self.cells.items()}}

    def brief(self) -> dict[str, Any]:
        return {"incidents": self.incidents, "victims": self.victims, "roles": self.roles()}


def _counted(items: Iterable[Seen]) -> _Counts:
    counts = _Counts()
    for item in items:
        counts.add(item)
    return counts


def _window(seen: list[Seen], start: str, end: str, target: str) -> dict[str, Any]:
    """The violence of ``target``, of the others and unattributed, dated in [start, end]."""
    inside = [s for s in seen if start <= s.day <= end]
    return {"start": start, "end": end, "days": _days(start, end),
            "target": _counted(s for s in inside if target in s.orgs).brief(),
            "others": _counted(s for s in inside if any(o != target for o in s.orgs)).brief(),
            "unattributed": _counted(s for s in inside if not s.orgs).brief(),
            "all": _counted(inside).brief()}


def _change(window: dict[str, Any] | None, before: dict[str, Any]) -> dict[str, Any] | None:
    """Victims per day in ``window`` over victims per day before naming, for each group."""
    if window is None:
        return None
    out = {}
    for group in ("target", "others", "all"):
        if window["days"] == 0 or before["days"] == 0:
            out[group] = {"ratio": None, "ratio_exact": None}
        else:
            out[group] = _ratio(Fraction(window[group]["victims"], window["days"]), Fraction(before[group]["victims"], before["days"]))
    return out


def _rounds(state: ScoringState, seen: list[Seen], through: int, last: str | None) -> list[dict[str, Any]]:
    out = []
    for number, round_ in sorted(state.rounds.items()):
        if round_.decide_seq is None or round_.decide_seq > through or round_.target is None:
            continue
        target, named = round_.target, round_.body["decision_date"]
        dismantled = round_.dismantled_on if round_.dismantled_seq is not None and round_.dismantled_seq <= through else None
        data_end = last if last is not None else _day(named, -1)
        active_end = min(_day(dismantled, -1), data_end) if dismantled is not None else data_end
        length = _days(named, active_end)
        active = _window(seen, named, _day(named, length - 1), target)
        before = _window(seen, _day(named, -length), _day(named, -1), target)
        after = None
        if dismantled is not None:
            full = _days(named, _day(dismantled, -1))
            after = _window(seen, dismantled, min(_day(dismantled, full - 1), max(data_end, _day(dismantled, -1))), target)
        out.append({"round": number, "target": target, "named": named, "dismantled": dismantled,
                    "decided_seq": round_.decide_seq,
                    "dismantled_seq": round_.dismantled_seq if dismantled is not None else None,
                    "windows": {"before": before, "active": active, "after": after},
                    "change": {"active": _change(active, before), "after": _change(after, before)}})
    return out


def _measure(items: Iterable[Seen], measure: str, kinds: set[str]) -> int:
    return sum((1 if measure == "incidents" else s.total) for s in items if s.kind in kinds)


def _baseline(state: ScoringState, seen: list[Seen], through: int, last: str | None) -> dict[str, Any] | None:
    found = state.baseline_at(through)
    if found is None:
        return None
    seq, digest, body = found
    kinds = set(body["kinds"])
    reference, level = body.get("reference"), body.get("level")
    counted = None
    if reference is not None:
        counted = _measure((s for s in seen if reference["start"] <= s.day <= reference["end"]), body["measure"], kinds)
        per_day = Fraction(counted, _days(reference["start"], reference["end"]))
    else:
        per_day = parse_decimal(level["value"]) / DAYS_PER[level["per"]]
    standing = None
    if last is not None:
        start = _day(last, 1 - STANDING_DAYS)
        now = _measure((s for s in seen if start <= s.day <= last), body["measure"], kinds)
        expected = per_day * STANDING_DAYS
        standing = {"start": start, "end": last, "days": STANDING_DAYS, "count": now, "expected": _value(expected),
                    **_ratio(Fraction(now), expected), "at_or_below": None if expected == 0 else now <= expected}
    replaces = [item[0] for item in state.baselines if item[0] < seq]  # 10.8, notice
    return {"seq": seq, "statement": digest, "replaces": replaces, "measure": body["measure"], "kinds": [k for k in KINDS if k in kinds],
            "reference": reference, "level": level, "justification": body["justification"],
            "reference_count": counted, "per_day": _value(per_day), "standing": standing}


def _periods(seen: list[Seen], unit: str, first: str | None, last: str | None,
             baseline: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every period from ``first``'s to ``last``'s, empty ones included (12.12)."""
    by_period: dict[str, list[Seen]] = {}
    for item in seen:
        by_period.setdefault(period_of(item.day, unit)[0], []).append(item)
    out: list[dict[str, Any]] = []
    day = first
    while day is not None and last is not None:
        key, start, end = period_of(day, unit)
        items = by_period.get(key, [])
        row: dict[str, Any] = {"period": key, "start": start, "end": end, "all": _counted(items).to_json(),
                               "attributed": _counted(s for s in items if s.orgs).to_json(),
                               "unattributed": _counted(s for s in items if not s.orgs).to_json(), "baseline": None}
        if baseline is not None:
            count = _measure(items, baseline["measure"], set(baseline["kinds"]))
            expected = Fraction(baseline["per_day"]["exact"]) * _days(start, end)
            row["baseline"] = {"count": count, "expected": _value(expected), **_ratio(Fraction(count), expected)}
        out.append(row)
        day = None if end >= last else _day(end, 1)
    return out


def outcomes(state: ScoringState, *, period: str = DEFAULT_PERIOD, through: int | None = None) -> OutcomesDocument:
    """The outcomes document of ``state`` as entry ``through`` (default: the last) left it."""
    if period not in PERIODS:
        raise InputError(f"period: expected one of {', '.join(PERIODS)}, found {period!r}")
    last_seq = state.size - 1
    through = last_seq if through is None else through
    if not 0 <= through <= last_seq:
        raise InputError(f"as of entry {through}: expected an entry of the ledger, 0 .. {last_seq}")
    seen, retracted = seen_incidents(state, through)
    first = min((s.day for s in seen), default=None)
    last = max((s.day for s in seen), default=None)
    baseline = _baseline(state, seen, through, last)
    by_org: dict[str, list[Seen]] = {}
    for item in seen:
        for org_id in item.orgs:
            by_org.setdefault(org_id, []).append(item)
    organizations = []
    for org_id in sorted(o for o, org in state.orgs.items() if org.seq <= through):
        mine = by_org.get(org_id, [])
        per: dict[str, _Counts] = {}
        for item in mine:
            per.setdefault(period_of(item.day, period)[0], _Counts()).add(item)
        organizations.append({"org": org_id, "total": _counted(mine).to_json(),
                              "periods": [{"period": k, "incidents": c.incidents, "victims": c.victims} for k, c in sorted(per.items())]})
    document = {
        "format": FORMAT, "ledger": state.ledger_id, "through": through, "period": period,
        "data": {"first": first, "last": last},
        "counts": {"incidents": len(seen), "attributed": sum(1 for s in seen if s.orgs),
                   "unattributed": sum(1 for s in seen if not s.orgs), "retracted": retracted},
        "periods": _periods(seen, period, first, last, baseline), "organizations": organizations,
        "rounds": _rounds(state, seen, through, last), "baseline": baseline,
    }
    return OutcomesDocument(document, canonical.encode(document))


__all__ = ["outcomes", "OutcomesDocument", "FORMAT", "PERIODS", "DEFAULT_PERIOD", "period_of", "seen_incidents"]
