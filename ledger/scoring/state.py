"""The scoring process's state: what every admitted scoring entry left behind (SPEC.md 10-11).

Pure data plus :meth:`ScoringState.apply`, which records an entry that the process has
already admitted (see :mod:`ledger.scoring.process`). Everything is indexed by sequence
number, so that the replay engine can ask "what did the ledger say just before entry N"
(the close of a round) without replaying history again.
"""

from __future__ import annotations

import calendar
import sys
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable, Iterator, NamedTuple, Protocol

from ..errors import InputError, LedgerError
from .rules import Rules, parse_rules
from .text import name_key


@dataclass
class Org:
    org_id: str
    seq: int
    name: str
    aliases: list[str]
    lineage: list[dict[str, Any]] = field(default_factory=list)  # {"relation", "other", "date", "seq"}
    merged_into: str | None = None
    dismantled: int | None = None  # round number whose target it was, once dismantled
    same_as: str | None = None  # the organization an org.identify declared it to be (10.2)

    @property
    def active(self) -> bool:
        """Registered and still targetable: not merged, dismantled or identified as another."""
        return self.merged_into is None and self.dismantled is None and self.same_as is None


class Version(NamedTuple):
    """What the rules and the replay need of one version of an incident (SPEC.md 10.3, 12).

    ``first``/``last`` are the interval the date denotes with its precision (12.2);
    ``sources`` and ``publishers`` count the sources and their distinct publishers;
    ``victims`` are ``(role, low, best, high)`` and ``attributions`` ``(org, basis,
    confidence)``, in the order of the body; ``features`` the aggravating features (10.3,
    sorted; empty when the body has none). The first member is the sequence number, so
    ``incident.versions[0][0]`` is the entry that first recorded the incident."""

    seq: int
    digest: bytes  # statement digest
    date: str
    precision: str
    first: str
    last: str
    kind: str
    sources: int
    publishers: int
    victims: tuple[tuple[str, int, int, int], ...]
    attributions: tuple[tuple[str, str, str], ...]
    features: tuple[str, ...] = ()


_new_tuple = tuple.__new__

#: Index of a victim count in a ``Version.victims`` item, by the rules' ``count``.
COUNT_INDEX = {"low": 1, "best": 2, "high": 3}
_AFTER_ANY_DATE = "9999-12-32"  # sorts after every date: an interval that overflows year 9999


def date_interval(day: str, precision: str) -> tuple[str, str]:
    """The first and last day an incident date with its precision may denote (12.2)."""
    if precision == "day":
        return day, day
    d = date.fromisoformat(day)
    if precision == "week":
        try:
            return day, (d + timedelta(days=6)).isoformat()
        except OverflowError:  # past 9999-12-31: inside no window
            return day, _AFTER_ANY_DATE
    last = calendar.monthrange(d.year, d.month)[1]
    return day[:8] + "01", day[:8] + f"{last:02d}"


def version_of(seq: int, body: dict[str, Any], digest: bytes) -> Version:
    """The :class:`Version` of an incident body (10.3) recorded at ``seq``."""
    intern = sys.intern
    precision = intern(body["date_precision"])
    day = body["date"]
    first, last = (day, day) if precision == "day" else date_interval(day, precision)
    sources = body["sources"]
    return _new_tuple(Version, (  # Version(...) without its Python-level __new__: faster, same tuple
        seq, digest, day, precision, first, last, intern(body["kind"]),
        len(sources), len({s["publisher"] for s in sources}),
        tuple([(intern(v["role"]), v["low"], v["best"], v["high"]) for v in body["victims"]]),
        tuple([(intern(a["org"]), intern(a["basis"]), intern(a["confidence"])) for a in body["attributions"]]),
        tuple([intern(f) for f in body["features"]]) if "features" in body else (),
    ))


class Incident:
    """An incident's versions (ascending ``seq``) and its retraction, if any."""

    __slots__ = ("incident_id", "versions", "retracted")

    def __init__(self, incident_id: str, versions: list[Version], retracted: tuple[int, str] | None = None) -> None:
        self.incident_id = incident_id
        self.versions = versions
        self.retracted = retracted  # (seq, reason)

    def __repr__(self) -> str:
        return f"Incident({self.incident_id!r}, {self.versions!r}, {self.retracted!r})"

    @property
    def current(self) -> Version:
        return self.versions[-1]

    @property
    def digests(self) -> list[str]:
        """Statement digest (hex) of each version."""
        return [v.digest.hex() for v in self.versions]

    def version_at(self, seq: int) -> Version | None:
        for version in self.versions:
            if version.seq == seq:
                return version
        return None

    def version_before(self, cutoff: int) -> int:
        """Index of the last version recorded before ``cutoff`` (-1 if none)."""
        return bisect_left(self.versions, cutoff, key=lambda v: v[0]) - 1


class IncidentIndex(Protocol):
    """Where the scoring state keeps its incidents: the one part of it that grows with the
    ledger. :class:`MemoryIncidents` keeps them in a dict; the storage layer provides a
    disk-backed one (``ledger.storage.diskstate``) so that verifying 10^6 entries needs flat memory.

    ``get`` returns an :class:`Incident` the caller may change and then ``put`` back;
    ``values`` yields every incident in ascending ``incident_id`` order (code points)."""

    def get(self, incident_id: str) -> Incident | None: ...

    def put(self, incident: Incident) -> None: ...

    def values(self) -> Iterator[Incident]: ...

    def __len__(self) -> int: ...

    def __getitem__(self, incident_id: str) -> Incident: ...


class MemoryIncidents:
    """The in-memory :class:`IncidentIndex`."""

    def __init__(self) -> None:
        self._by_id: dict[str, Incident] = {}

    def get(self, incident_id: str) -> Incident | None:
        return self._by_id.get(incident_id)

    def put(self, incident: Incident) -> None:
        self._by_id[incident.incident_id] = incident

    def values(self) -> Iterator[Incident]:
        by_id = self._by_id
        return (by_id[k] for k in sorted(by_id))

    def records(self) -> Iterator[tuple[str, tuple[tuple[int, str] | None, list[Version]]]]:
        """``(incident_id, (retracted, versions))`` in ascending id order (what the replay
        reads; an index without this method is read through :meth:`values`)."""
        by_id = self._by_id
        for k in sorted(by_id):
            incident = by_id[k]
            yield k, (incident.retracted, incident.versions)

    def __len__(self) -> int:
        return len(self._by_id)

    def __getitem__(self, incident_id: str) -> Incident:
        return self._by_id[incident_id]

    def __contains__(self, incident_id: object) -> bool:
        return incident_id in self._by_id


class Spool(Protocol):
    """An append-only sequence of byte strings (the replay's large lists, SPEC.md 12.9)."""

    def append(self, item: bytes) -> None: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[bytes]: ...


@dataclass
class Dispute:
    dispute_id: str
    seq: int
    incident_id: str
    org: str
    body: dict[str, Any]
    resolved: tuple[int, str] | None = None  # (seq, "upheld" | "rejected")


@dataclass
class Round:
    number: int
    open_seq: int
    body: dict[str, Any]
    close_seq: int | None = None
    decide_seq: int | None = None
    decision: dict[str, Any] | None = None
    dismantled_seq: int | None = None
    progress: list[int] = field(default_factory=list)
    decision_status: str | None = None  # "matches" | "deviation_justified" (admitted decisions only)
    opened_on: str = ""  # the UTC date of the round.open statement time
    dismantled_on: str | None = None  # the target.dismantled body's date (the outcomes document, 12.12)

    @property
    def rules(self) -> str:
        return self.body["rules"]

    @property
    def retrospective(self) -> str | None:
        """The justification of a round declared retrospective (SPEC.md 11.1), or None."""
        declared = self.body.get("retrospective")
        return None if declared is None else declared["justification"]

    @property
    def left_out(self) -> dict[str, str]:
        """Active organizations left out of ``eligible``, with the panel's reasons (R-11.17)."""
        return self.body.get("left_out", {})

    @property
    def eligible(self) -> list[str]:
        return self.body["eligible"]

    @property
    def target(self) -> str | None:
        return None if self.decision is None else self.decision["target"]

    @property
    def status(self) -> str:
        if self.decision is None:
            return "closed" if self.close_seq is not None else "open"
        if self.target is None:
            return "decided_no_target"
        return "target_dismantled" if self.dismantled_seq is not None else "target_active"


@dataclass
class ScoringState:
    """Organizations, incidents, disputes, estimates, rules versions and rounds."""

    ledger_id: str | None = None
    size: int = 0  # entries seen (the next sequence number)
    orgs: dict[str, Org] = field(default_factory=dict)
    incidents: IncidentIndex = field(default_factory=MemoryIncidents)
    disputes: dict[str, Dispute] = field(default_factory=dict)
    disputes_by_attribution: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    estimates: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    rules: dict[str, Rules] = field(default_factory=dict)  # statement digest hex -> rules
    rules_versions: list[str] = field(default_factory=list)  # digests in version order
    rounds: dict[int, Round] = field(default_factory=dict)
    rules_adopted_on: dict[str, str] = field(default_factory=dict)  # rules digest -> UTC date of its statement
    names: dict[str, str] = field(default_factory=dict)  # name_key of a name or alias -> org_id
    identities: dict[str, tuple[str, int]] = field(default_factory=dict)  # org.identify: org_id -> (same_as, seq)
    baselines: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)  # outcome.baseline: (seq, digest hex, body)
    # Where the replay keeps its long lists while it computes a ranking digest (a list in
    # memory unless the storage layer provides a spool on disk; not part of the state).
    spool: Callable[[], Spool] = field(default=list, repr=False, compare=False)

    # -- queries ------------------------------------------------------------------------

    @property
    def latest_rules(self) -> Rules | None:
        return self.rules[self.rules_versions[-1]] if self.rules_versions else None

    @property
    def last_round(self) -> Round | None:
        return self.rounds[max(self.rounds)] if self.rounds else None

    def open_dispute(self, incident_id: str, org: str) -> Dispute | None:
        for dispute_id in self.disputes_by_attribution.get((incident_id, org), ()):
            dispute = self.disputes[dispute_id]
            if dispute.resolved is None:
                return dispute
        return None

    def attribution_status(self, incident_id: str, org: str, cutoff: int) -> str:
        """"upheld", "contested" or "clear", judged on the entries before ``cutoff`` (12.4)."""
        ids = self.disputes_by_attribution.get((incident_id, org))
        if not ids:
            return "clear"
        status = "clear"
        for dispute_id in ids:
            dispute = self.disputes[dispute_id]
            if dispute.seq >= cutoff:
                continue
            if dispute.resolved is None or dispute.resolved[0] >= cutoff:
                status = "contested"
            elif dispute.resolved[1] == "upheld":
                return "upheld"
        return status

    def estimate_before(self, org: str, metric: str, cutoff: int) -> dict[str, Any] | None:
        found = self.estimate_entry_before(org, metric, cutoff)
        return None if found is None else found[1]

    def estimate_entry_before(self, org: str, metric: str, cutoff: int) -> tuple[int, dict[str, Any]] | None:
        """``(seq, body)`` of the last estimate for (org, metric) before ``cutoff`` (12.5)."""
        found = None
        for item in self.estimates.get((org, metric), ()):
            if item[0] >= cutoff:
                break
            found = item
        return found

    def eligible_now(self, org_id: str) -> str | None:
        """Why ``org_id`` may not be listed as eligible in a new round, or None."""
        org = self.orgs.get(org_id)
        if org is None:
            return "is not a registered organization"
        if org.merged_into is not None:
            return f"merged into {org.merged_into}"
        if org.dismantled is not None:
            return f"was dismantled as the target of round {org.dismantled}"
        if org.same_as is not None:
            return f"was declared the same organization as {org.same_as} (org.identify)"
        return None

    def name_holder(self, org_id: str, names: list[str]) -> tuple[str, str] | None:
        """``(name, holder)`` for the first of ``names`` that another organization, not
        declared the same as ``org_id``, already holds after :func:`name_key` (R-10.14)."""
        for name in names:
            holder = self.names.get(name_key(name))
            if holder is not None and holder != org_id and self.canonical(holder) != self.canonical(org_id):
                return name, holder
        return None

    def canonical(self, org_id: str) -> str:
        """The organization ``org_id`` was declared to be (org.identify), or itself."""
        found = self.identities.get(org_id)
        return org_id if found is None else found[0]

    def identities_before(self, seq: int) -> dict[str, str]:
        """org.identify declarations admitted before entry ``seq``: org_id -> same_as (12.1)."""
        return {org: same for org, (same, at) in self.identities.items() if at < seq}

    def active_target(self) -> Round | None:
        last = self.last_round
        if last is not None and last.status == "target_active":
            return last
        return None

    # -- effects ------------------------------------------------------------------------

    def apply(self, seq: int, type_: str, body: dict[str, Any], digest: str) -> None:
        """Record an admitted entry (the process has already checked it)."""
        handler = _HANDLERS.get(type_)
        if handler is not None:
            handler(self, seq, body, digest)

    def _hold_names(self, org: Org) -> None:
        for name in (org.name, *org.aliases):
            self.names.setdefault(name_key(name), org.org_id)

    def _org_register(self, seq: int, body: dict[str, Any], digest: str) -> None:
        org = self.orgs[body["org_id"]] = Org(body["org_id"], seq, body["name"], list(body["aliases"]))
        self._hold_names(org)

    def _org_update(self, seq: int, body: dict[str, Any], digest: str) -> None:
        org = self.orgs[body["org_id"]]
        for name in (org.name, *org.aliases):
            if self.names.get(name_key(name)) == org.org_id:
                del self.names[name_key(name)]
        org.name, org.aliases = body["name"], list(body["aliases"])
        self._hold_names(org)

    def _org_identify(self, seq: int, body: dict[str, Any], digest: str) -> None:
        self.identities[body["org_id"]] = (body["same_as"], seq)
        self.orgs[body["org_id"]].same_as = body["same_as"]

    def _org_lineage(self, seq: int, body: dict[str, Any], digest: str) -> None:
        org = self.orgs[body["org_id"]]
        org.lineage.append({"relation": body["relation"], "other": body["other"], "date": body["date"], "seq": seq})
        if body["relation"] == "merged_into":
            org.merged_into = body["other"]

    def _incident_record(self, seq: int, body: dict[str, Any], digest: str) -> None:
        self.incidents.put(Incident(body["incident_id"], [version_of(seq, body, bytes.fromhex(digest))]))

    def _incident_amend(self, seq: int, body: dict[str, Any], digest: str) -> None:
        incident = self.incidents.get(body["incident"]["incident_id"])
        assert incident is not None  # admitted
        incident.versions.append(version_of(seq, body["incident"], bytes.fromhex(digest)))
        self.incidents.put(incident)

    def _incident_retract(self, seq: int, body: dict[str, Any], digest: str) -> None:
        incident = self.incidents.get(body["incident_id"])
        assert incident is not None  # admitted
        incident.retracted = (seq, body["reason"])
        self.incidents.put(incident)

    def _dispute(self, seq: int, body: dict[str, Any], digest: str) -> None:
        dispute = Dispute(body["dispute_id"], seq, body["incident_id"], body["org"], body)
        self.disputes[dispute.dispute_id] = dispute
        self.disputes_by_attribution.setdefault((dispute.incident_id, dispute.org), []).append(dispute.dispute_id)

    def _resolve(self, seq: int, body: dict[str, Any], digest: str) -> None:
        self.disputes[body["dispute_id"]].resolved = (seq, body["outcome"])

    def _estimate(self, seq: int, body: dict[str, Any], digest: str) -> None:
        self.estimates.setdefault((body["org_id"], body["metric"]), []).append((seq, body))

    def _rules(self, seq: int, body: dict[str, Any], digest: str) -> None:
        self.rules[digest] = parse_rules(body, digest, seq)
        self.rules_versions.append(digest)

    def _open(self, seq: int, body: dict[str, Any], digest: str) -> None:
        self.rounds[body["round"]] = Round(body["round"], seq, body)

    def _close(self, seq: int, body: dict[str, Any], digest: str) -> None:
        self.rounds[body["round"]].close_seq = seq

    def _decide(self, seq: int, body: dict[str, Any], digest: str) -> None:
        round_ = self.rounds[body["round"]]
        round_.decide_seq, round_.decision = seq, body

    def _progress(self, seq: int, body: dict[str, Any], digest: str) -> None:
        self.rounds[body["round"]].progress.append(seq)

    def _dismantled(self, seq: int, body: dict[str, Any], digest: str) -> None:
        self.rounds[body["round"]].dismantled_seq = seq
        self.rounds[body["round"]].dismantled_on = body["date"]
        self.orgs[body["org"]].dismantled = body["round"]

    def _baseline(self, seq: int, body: dict[str, Any], digest: str) -> None:
        self.baselines.append((seq, digest, body))

    def baseline_at(self, through: int) -> tuple[int, str, dict[str, Any]] | None:
        """The ``outcome.baseline`` in force after entry ``through``: the last one admitted (10.8)."""
        found = None
        for item in self.baselines:
            if item[0] <= through:
                found = item
        return found

    def seen_by(self, round_: Round) -> tuple[int, int]:
        """``(cutoff, limit)`` of a round's replay (SPEC.md 12): entries before ``cutoff``
        count (its close, else its decision, else the ledger's end); those in
        ``[cutoff, limit)`` are shown as recorded late."""
        limit = round_.decide_seq if round_.decide_seq is not None else self.size
        return (round_.close_seq if round_.close_seq is not None else limit), limit

    def inheritances(self, round_: Round) -> list[tuple[str, str, int]]:
        """Splinters "inherit" (SPEC.md 12.1 step 7): ``(target, splinter, lineage seq)`` for
        each organization dismantled as a target before the round opened (and not eligible in
        it) and each of its eligible splinters (``org.lineage`` ``split_from`` it, admitted
        before the round opened), sorted. Fixed at the round's opening: only earlier entries count."""
        open_seq, eligible = round_.open_seq, set(round_.body["eligible"])
        out: set[tuple[str, str, int]] = set()
        for org_id in eligible:
            for link in self.orgs[org_id].lineage:
                parent = self.orgs.get(link["other"])
                if link["relation"] != "split_from" or link["seq"] >= open_seq or parent is None or parent.dismantled is None:
                    continue
                dismantled_seq = self.rounds[parent.dismantled].dismantled_seq
                if dismantled_seq is not None and dismantled_seq < open_seq and parent.org_id not in eligible:
                    out.add((parent.org_id, org_id, link["seq"]))
        return sorted(out)

    def heirs(self, round_: Round) -> dict[str, tuple[str, ...]]:
        """Each target a round's splinters inherit from -> its heirs, sorted (:meth:`inheritances`)."""
        out: dict[str, set[str]] = {}
        for parent, child, _ in self.inheritances(round_):
            out.setdefault(parent, set()).add(child)
        return {parent: tuple(sorted(children)) for parent, children in out.items()}

    def iter_incidents(self) -> Iterator[Incident]:
        return self.incidents.values()


_HANDLERS = {
    "org.register": ScoringState._org_register,
    "org.update": ScoringState._org_update,
    "org.lineage": ScoringState._org_lineage,
    "org.identify": ScoringState._org_identify,
    "incident.record": ScoringState._incident_record,
    "incident.amend": ScoringState._incident_amend,
    "incident.retract": ScoringState._incident_retract,
    "attribution.dispute": ScoringState._dispute,
    "dispute.resolve": ScoringState._resolve,
    "estimate.record": ScoringState._estimate,
    "rules.adopt": ScoringState._rules,
    "round.open": ScoringState._open,
    "round.close": ScoringState._close,
    "round.decide": ScoringState._decide,
    "target.progress": ScoringState._progress,
    "target.dismantled": ScoringState._dismantled,
    "outcome.baseline": ScoringState._baseline,
}


# -- the state file (SPEC.md 9): the scoring state as plain JSON values ---------------------
#
# ``ledger verify --state`` keeps the scoring state between runs. It is written as JSON
# values (lists in a fixed member order, see SPEC.md 9) and read back by the functions
# below, which accept exactly that shape and nothing else: a value of another type, a list
# of another length or a member too many is an InputError (the caller then does not use the
# file). Nothing here runs code named by the file: unlike a pickle, the file names no type.


def _bad(where: str, expected: str, value: Any) -> InputError:
    return InputError(f"state file: {where}: expected {expected}, got {type(value).__name__}")


def _int(value: Any, where: str) -> int:
    if type(value) is not int:
        raise _bad(where, "an integer", value)
    return value


def _str(value: Any, where: str) -> str:
    if type(value) is not str:
        raise _bad(where, "a string", value)
    return value


def _opt(check: Callable[[Any, str], Any], value: Any, where: str) -> Any:
    return None if value is None else check(value, where)


def _dict(value: Any, where: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise _bad(where, "an object", value)
    return value


def _list(value: Any, where: str, length: int | None = None) -> list[Any]:
    if type(value) is not list:
        raise _bad(where, "a list", value)
    if length is not None and len(value) != length:
        raise InputError(f"state file: {where}: expected {length} members, got {len(value)}")
    return value


def _pair(value: Any, where: str) -> tuple[int, str]:
    seq, text = _list(value, where, 2)
    return _int(seq, where), _str(text, where)


def incidents_from_records(items: Any) -> list[tuple[str, tuple[tuple[int, str] | None, list[Version]]]]:
    """``[(incident_id, (retracted, versions))...]`` from the decoded arrays of a block of
    incidents (SPEC.md 9: ``[id, retracted, [version...]]``, each version the members of a
    :class:`Version` in order, arrays read as tuples, the digest as bytes); InputError for
    anything else: a member count, a type or a digest that is not that shape. (Written out
    inline: it runs once per stored incident when a round is replayed from disk.)"""
    out = []
    new = _new_tuple
    try:
        for incident_id, retracted, versions_read in items:
            versions: list[Version] = []
            for version in versions_read:
                seq, digest, day, precision, first, last, kind, sources, publishers, victims, attributions, features = version
                if not (type(seq) is int is type(sources) is type(publishers) and type(version) is tuple
                        and type(day) is str is type(precision) is type(first) is type(last) is type(kind)
                        and type(digest) is bytes and len(digest) == 32
                        and type(victims) is tuple is type(attributions) is type(features)):
                    raise TypeError("a version member of the wrong type")
                for feature in features:
                    if type(feature) is not str:
                        raise TypeError("a feature is not a string")
                for role, low, best, high in victims:
                    if not (type(role) is str and type(low) is int is type(best) is type(high)):
                        raise TypeError("a victim is not [role, low, best, high]")
                for org, basis, confidence in attributions:
                    if not (type(org) is str is type(basis) is type(confidence)):
                        raise TypeError("an attribution is not [org, basis, confidence]")
                versions.append(new(Version, version))
            if type(incident_id) is not str or not versions:
                raise TypeError("an incident without id or versions")
            if retracted is not None and not (type(retracted) is tuple and len(retracted) == 2
                                              and type(retracted[0]) is int and type(retracted[1]) is str):
                raise TypeError("a retraction is not [seq, reason]")
            out.append((incident_id, (retracted, versions)))
    except (TypeError, ValueError) as exc:  # also: an array of another length, a non-array
        raise InputError(f"state file: an incident record is not [id, retracted, versions] of SPEC.md 9 ({exc})") from None
    return out


def scoring_state_to_json(state: ScoringState) -> dict[str, Any]:
    """Everything of ``state`` but its incidents and spool (kept elsewhere), as JSON values."""
    return {
        "ledger_id": state.ledger_id,
        "size": state.size,
        "orgs": [[o.org_id, o.seq, o.name, o.aliases, o.lineage, o.merged_into, o.dismantled, o.same_as]
                 for o in state.orgs.values()],
        "disputes": [[d.dispute_id, d.seq, d.incident_id, d.org, d.body, d.resolved] for d in state.disputes.values()],
        "disputes_by_attribution": [[i, o, ids] for (i, o), ids in state.disputes_by_attribution.items()],
        "estimates": [[o, m, items] for (o, m), items in state.estimates.items()],
        "rules": [[digest, rules.seq, rules.body] for digest, rules in state.rules.items()],
        "rules_versions": state.rules_versions,
        "rounds": [[r.number, r.open_seq, r.body, r.close_seq, r.decide_seq, r.decision, r.dismantled_seq,
                    r.progress, r.decision_status, r.opened_on, r.dismantled_on] for r in state.rounds.values()],
        "rules_adopted_on": state.rules_adopted_on,
        "names": state.names,
        "identities": {org: list(value) for org, value in state.identities.items()},
        "baselines": [list(item) for item in state.baselines],
    }


_STATE_MEMBERS = {"ledger_id", "size", "orgs", "disputes", "disputes_by_attribution", "estimates", "rules",
                  "rules_versions", "rounds", "rules_adopted_on", "names", "identities", "baselines"}


def _str_map(value: Any, where: str) -> dict[str, str]:
    for k, v in _dict(value, where).items():
        _str(v, f"{where}[{k[:40]!r}]")
    return value


def _ints(value: Any, where: str) -> list[int]:
    for item in _list(value, where):
        _int(item, where)
    return value


def _strs(value: Any, where: str) -> list[str]:
    for item in _list(value, where):
        _str(item, where)
    return value


def scoring_state_from_json(obj: Any, incidents: IncidentIndex) -> ScoringState:
    """The inverse of :func:`scoring_state_to_json`, with ``incidents``; InputError for
    anything that is not exactly its shape (the bodies are the entries' own JSON objects)."""
    obj = _dict(obj, "scoring state")
    if set(obj) != _STATE_MEMBERS:
        raise InputError(f"state file: scoring state members {sorted(obj)}, expected {sorted(_STATE_MEMBERS)}")
    state = ScoringState(ledger_id=_opt(_str, obj["ledger_id"], "ledger_id"), size=_int(obj["size"], "size"),
                         incidents=incidents)
    for item in _list(obj["orgs"], "orgs"):
        org_id, seq, name, aliases, lineage, merged_into, dismantled, same_as = _list(item, "orgs[]", 8)
        where = f"organization {_str(org_id, 'org_id')[:40]!r}"
        for link in _list(lineage, where):
            _dict(link, where)
        state.orgs[org_id] = Org(org_id, _int(seq, where), _str(name, where), _strs(aliases, where), lineage,
                                 _opt(_str, merged_into, where), _opt(_int, dismantled, where), _opt(_str, same_as, where))
    for item in _list(obj["disputes"], "disputes"):
        dispute_id, seq, incident_id, org, body, resolved = _list(item, "disputes[]", 6)
        where = f"dispute {_str(dispute_id, 'dispute_id')[:40]!r}"
        state.disputes[dispute_id] = Dispute(dispute_id, _int(seq, where), _str(incident_id, where), _str(org, where),
                                             _dict(body, where), _opt(_pair, resolved, where))
    for item in _list(obj["disputes_by_attribution"], "disputes_by_attribution"):
        incident_id, org, ids = _list(item, "disputes_by_attribution[]", 3)
        state.disputes_by_attribution[(_str(incident_id, "dispute incident"), _str(org, "dispute org"))] = _strs(ids, "dispute ids")
    for item in _list(obj["estimates"], "estimates"):
        org, metric, items = _list(item, "estimates[]", 3)
        where = "estimates"
        state.estimates[(_str(org, where), _str(metric, where))] = [
            (_int(s, where), _dict(b, where)) for s, b in (_list(e, where, 2) for e in _list(items, where))]
    for item in _list(obj["rules"], "rules"):
        digest, seq, body = _list(item, "rules[]", 3)
        try:
            state.rules[_str(digest, "rules digest")] = parse_rules(_dict(body, "rules body"), digest, _int(seq, "rules seq"))
        except LedgerError as exc:
            raise InputError(f"state file: rules {digest[:16]}: {exc.message}") from None
    state.rules_versions = _strs(obj["rules_versions"], "rules_versions")
    if sorted(state.rules_versions) != sorted(state.rules):
        raise InputError("state file: rules_versions do not name the saved rules")
    for item in _list(obj["rounds"], "rounds"):
        number, open_seq, body, close_seq, decide_seq, decision, dismantled_seq, progress, status, opened_on, dismantled_on = _list(item, "rounds[]", 11)
        where = f"round {_int(number, 'round number')}"
        state.rounds[number] = Round(number, _int(open_seq, where), _dict(body, where), _opt(_int, close_seq, where),
                                     _opt(_int, decide_seq, where), _opt(_dict, decision, where), _opt(_int, dismantled_seq, where),
                                     _ints(progress, where), _opt(_str, status, where), _str(opened_on, where),
                                     _opt(_str, dismantled_on, where))
    state.rules_adopted_on = _str_map(obj["rules_adopted_on"], "rules_adopted_on")
    state.names = _str_map(obj["names"], "names")
    for org, value in _dict(obj["identities"], "identities").items():
        same_as, seq = _list(value, f"identities[{org[:40]!r}]", 2)
        state.identities[org] = (_str(same_as, "identities"), _int(seq, "identities"))
    for item in _list(obj["baselines"], "baselines"):
        seq, digest, body = _list(item, "baselines[]", 3)
        state.baselines.append((_int(seq, "baseline seq"), _str(digest, "baseline digest"), _dict(body, "baseline body")))
    return state
