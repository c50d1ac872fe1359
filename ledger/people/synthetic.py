"""Seeded synthetic incident data for examples, imports and studies (never real events).

It reuses the demo's vocabularies and integer-only weighted choice
(:mod:`ledger.people.demo_data`: kinds, victim roles, attribution bases, publishers) and
adds what a *dataset* needs: a weekly volume, skewed organization sizes, splinters, and the
attribution failures that matter for Kleiman's proposal (missing, claimed, contested, false
flag), plus revisions of victim counts. Every draw is ``random.Random(seed).randrange``,
so the same parameters give the same files, byte for byte.

The generator writes two things, kept apart:

* the **recorded** data, as the importer's CSV (SPEC.md 17): what a recorder would see,
  false flags included (the framed organization is recorded as the perpetrator);
* the **ground truth**: for every incident, who really did it, whether the recorded
  attribution is a false flag, whether it is contested, and the revised victim count.

:func:`false_flag_study` measures how often false flags change the target, by scoring
simulated rounds twice with the replay engine, once on the recorded attributions and once
on the truth.

Parameters and the public figures they imitate (orders of magnitude, scaled down to one
region; check the sources before relying on any number):

* ``events_per_week`` = 60. ACLED records on the order of 10,000 or more political-violence
  and protest events a year in Mexico (a few hundred a week), and INEGI counted roughly
  30,000-36,000 homicides a year in 2019-2023; one region of a national programme sees
  tens of recorded incidents a week.
* victim-role mix: the demo's ``ROLE_WEIGHTS`` (most victims are ordinary citizens or
  rival members; police several percent: civil-society counts such as Causa en Comun's put
  police killed at several hundred a year; journalists rare, CPJ and Article 19 count
  roughly 5-15 killed a year in Mexico; officials and candidates in election years).
* ``unattributed_per_mille`` = 450: in GTD, the perpetrator is "Unknown" for roughly half
  of all incidents; ACLED's Mexico data attributes most events to unidentified armed groups.
* ``claimed_per_mille`` = 80: claims (banners, "narcomantas", videos) accompany a minority
  of incidents; GTD's ``claimed`` flag is set for a minority of incidents.
* ``contested_per_mille`` = 30 and ``false_flag_per_mille`` = 20: no public dataset measures
  these; they are assumptions to vary. Forged banners signed in a rival's name are
  documented in Mexican reporting, their frequency is not.
* ``revision_per_mille`` = 60: a later count differs from the first (ACLED and UCDP GED
  revise fatality figures as reporting improves); the truth holds the revised count.
* ``joint_per_mille`` = 40: incidents attributed to two organizations (ACLED actor1/actor2).
* organization sizes: Zipf-like, share proportional to 1/rank with a random factor of
  0.7-1.3, so that a few organizations dominate and many are small (as in UCDP/ACLED
  actor counts).
* ``splinter_confusion_per_mille`` = 150: a splinter's incidents recorded under its parent's
  name, as after the fragmentation of large cartels.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Iterable, Mapping

from ..scoring.replay import replay
from ..scoring.state import ScoringState
from .demo_data import BASIS_WEIGHTS, CONFIDENCE_WEIGHTS, KIND_WEIGHTS, PUBLISHERS, ROLE_WEIGHTS, pick

#: The demo's organizations that survive round 3, with their home states (ledger demo).
DEMO_ORGS: tuple[tuple[str, str], ...] = (
    ("golfo-unido", "MX-VER"), ("los-tejones", "MX-MIC"), ("cartel-costa", "MX-GRO"), ("nueva-frontera", "MX-CHH"),
    ("barrio-azul", "MX-JAL"), ("la-ruta", "MX-ZAC"), ("halcones-disidentes", "MX-TAM"),
)

CSV_COLUMNS = (
    "event_id", "event_date", "time_precision", "admin1_code", "admin2", "event_type", "victims",
    "actor1", "actor1_basis", "actor1_confidence", "actor2", "actor2_basis", "actor2_confidence",
    "claims", "sources", "notes",
)
TRUTH_COLUMNS = ("event_id", "true_actor", "recorded_actor", "false_flag", "contested", "claimed", "revised_best", "splinter_confusion")


@dataclass(frozen=True)
class Params:
    seed: int = 1
    start: str = "2027-03-08"  # the walkthroughs' round 5 window starts here (after the demo's round 4)
    weeks: int = 6
    events_per_week: int = 60
    orgs: tuple[tuple[str, str], ...] = DEMO_ORGS
    splinters: Mapping[str, str] = field(default_factory=dict)  # splinter -> parent
    unattributed_per_mille: int = 450
    claimed_per_mille: int = 80
    contested_per_mille: int = 30
    false_flag_per_mille: int = 20
    revision_per_mille: int = 60
    joint_per_mille: int = 40
    splinter_confusion_per_mille: int = 150
    id_prefix: str = "syn"


@dataclass
class Event:
    row: dict[str, str]  # the recorded CSV row
    body: dict[str, Any]  # the recorded incident.record body
    truth: dict[str, Any]  # the ground truth
    true_body: dict[str, Any]  # the body as it should have been recorded


def _per_mille(rng: random.Random, rate: int) -> bool:
    return rng.randrange(1000) < rate


def _sizes(rng: random.Random, orgs: list[str]) -> list[tuple[str, int]]:
    order = list(orgs)
    for i in range(len(order) - 1, 0, -1):  # Fisher-Yates with randrange (stable across versions)
        j = rng.randrange(i + 1)
        order[i], order[j] = order[j], order[i]
    return [(org, (100_000 // (rank + 1)) * (70 + rng.randrange(61)) // 100) for rank, org in enumerate(order)]


def _victims(rng: random.Random, kind: str) -> list[dict[str, Any]]:
    victims = []
    for role in sorted({pick(rng, ROLE_WEIGHTS[kind]) for _ in range(1 + (rng.randrange(4) == 0))}):
        best = 1 + (rng.randrange(3) if kind in ("killing", "kidnapping", "extortion") else 0)
        if rng.randrange(6) == 0:
            best += rng.randrange(1, 5)
        victims.append({"role": role, "low": max(1, best - rng.randrange(2)), "best": best, "high": best + rng.randrange(3)})
    return victims


def _sources(rng: random.Random, day: str, serial: int) -> list[dict[str, str]]:
    n = pick(rng, [(1, 12), (2, 50), (3, 28), (4, 10)])
    pool = list(range(len(PUBLISHERS)))
    chosen = sorted(pool.pop(rng.randrange(len(pool))) for _ in range(n))
    out = []
    for index in chosen:
        publisher, scale = PUBLISHERS[index]
        salt = rng.getrandbits(256).to_bytes(32, "big")
        commitment = hashlib.sha256(salt + f"synthetic document {serial} from {publisher}".encode()).hexdigest()
        out.append({"publisher": publisher, "scale": scale, "date": day, "commitment": commitment})
    return out


def generate(params: Params) -> list[Event]:
    """The recorded incidents and their ground truth, in date order."""
    rng = random.Random(f"synthetic/{params.seed}")
    homes = dict(params.orgs)
    sizes = _sizes(rng, [o for o, _ in params.orgs])
    ranked = [o for o, _ in sorted(sizes, key=lambda s: -s[1])]
    start = date.fromisoformat(params.start)
    events: list[Event] = []
    serial = 0
    for week in range(params.weeks):
        count = params.events_per_week * (80 + rng.randrange(41)) // 100
        for _ in range(count):
            serial += 1
            day = (start + timedelta(days=7 * week + rng.randrange(7))).isoformat()
            kind = pick(rng, KIND_WEIGHTS)
            true_org = pick(rng, sizes)
            victims = _victims(rng, kind)
            revised = [dict(v) for v in victims]
            if _per_mille(rng, params.revision_per_mille):  # the first report undercounts
                revised[0]["best"] += 1 + rng.randrange(3)
                revised[0]["high"] = max(revised[0]["high"], revised[0]["best"])
            basis, confidence = pick(rng, BASIS_WEIGHTS), pick(rng, CONFIDENCE_WEIGHTS)
            honest_basis = basis
            recorded_org: str | None = true_org
            false_flag = splinter = False
            if _per_mille(rng, params.false_flag_per_mille):
                # Framing the neighbour in size, the rival whose place in the ranking matters.
                i = ranked.index(true_org)
                neighbours = [ranked[j] for j in (i - 1, i + 1) if 0 <= j < len(ranked)]
                recorded_org = neighbours[rng.randrange(len(neighbours))] if neighbours else true_org
                false_flag = recorded_org != true_org
                basis = "claim"  # the forged banner is the evidence
            elif true_org in params.splinters and _per_mille(rng, params.splinter_confusion_per_mille):
                recorded_org, splinter = params.splinters[true_org], True
            if not false_flag and _per_mille(rng, params.unattributed_per_mille):
                recorded_org = None
            claimed = recorded_org is not None and (false_flag or _per_mille(rng, params.claimed_per_mille))
            contested = recorded_org is not None and (_per_mille(rng, params.contested_per_mille) or (false_flag and rng.randrange(2) == 0))
            partner = None
            if recorded_org is not None and not false_flag and _per_mille(rng, params.joint_per_mille):
                partner = ranked[rng.randrange(len(ranked))]
                partner = None if partner == recorded_org else partner
            sources = _sources(rng, day, serial)
            event_id = f"{params.id_prefix}-{params.seed}-{serial:05d}"
            state = homes.get(recorded_org or true_org, "MX-GRO")
            municipality = f"{state[3:].lower()}-{1 + rng.randrange(40):03d}"

            def body_for(org: str | None, basis_: str, victims_: list[dict[str, Any]], claims_: bool) -> dict[str, Any]:
                attributions = [] if org is None else [{"org": org, "basis": basis_, "confidence": confidence}]
                if partner is not None and org is not None:
                    attributions.append({"org": partner, "basis": basis_, "confidence": confidence})
                return {
                    "incident_id": event_id, "date": day, "date_precision": "day",
                    "place": {"state": state, "precision": "municipality", "municipality": municipality},
                    "kind": kind, "victims": victims_, "attributions": attributions,
                    "claims": [{"org": org, "stance": "claimed", "channel": "banner"}] if claims_ and org else [],
                    "sources": sources,
                }

            body = body_for(recorded_org, basis, victims, claimed)
            # The truth differs from the record by the false flag only (revisions and
            # splinter confusion are kept in ``truth`` for other studies).
            true_body = body if not false_flag else body_for(true_org, honest_basis, victims, False)
            row = {
                "event_id": event_id, "event_date": day, "time_precision": "day", "admin1_code": state, "admin2": municipality,
                "event_type": kind, "victims": "; ".join(f"{v['role']}={v['low']}/{v['best']}/{v['high']}" for v in victims),
                "actor1": recorded_org or "", "actor1_basis": basis if recorded_org else "", "actor1_confidence": confidence if recorded_org else "",
                "actor2": partner or "", "actor2_basis": basis if partner else "", "actor2_confidence": confidence if partner else "",
                "claims": f"{recorded_org}:claimed:banner" if claimed and recorded_org else "",
                "sources": "; ".join(f"{s['publisher']}:{s['scale']}:{s['date']}:{s['commitment']}" for s in sources),
                "notes": "synthetic",
            }
            truth = {"event_id": event_id, "true_actor": true_org, "recorded_actor": recorded_org or "", "false_flag": int(false_flag),
                     "contested": int(contested), "claimed": int(claimed), "revised_best": sum(v["best"] for v in revised),
                     "splinter_confusion": int(splinter)}
            events.append(Event(row, body, truth, true_body))
    events.sort(key=lambda e: (e.body["date"], e.body["incident_id"]))
    return events


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Iterable[str]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def window(params: Params) -> tuple[str, str]:
    start = date.fromisoformat(params.start)
    return params.start, (start + timedelta(days=7 * params.weeks - 1)).isoformat()


def simulated_state(events: Iterable[Event], params: Params, rules_body: Mapping[str, Any], *, truth: bool) -> ScoringState:
    """A scoring state holding one closed round of ``events``, built with the state's own
    :meth:`~ledger.scoring.state.ScoringState.apply` (no signatures: a simulation, not a ledger)."""
    state = ScoringState(ledger_id="0" * 64)
    seq = 0

    def apply(type_: str, body: Mapping[str, Any]) -> str:
        nonlocal seq
        digest = hashlib.sha256(f"{seq}/{type_}".encode()).hexdigest()
        state.apply(seq, type_, dict(body), digest)
        seq += 1
        return digest

    orgs = sorted({o for o, _ in params.orgs} | set(params.splinters.values()))
    for org in orgs:
        apply("org.register", {"org_id": org, "name": org, "aliases": []})
    rules = apply("rules.adopt", dict(rules_body, version=1))
    start, end = window(params)
    eligible = sorted(o for o, _ in params.orgs)
    apply("round.open", {"round": 1, "rules": rules, "window": {"start": start, "end": end}, "eligible": eligible, "decision_date": end})
    for event in events:
        apply("incident.record", event.true_body if truth else event.body)
    apply("round.close", {"round": 1})
    state.size = seq
    return state


def false_flag_study(rules_body: Mapping[str, Any], rounds: int = 200, seed: int = 1, params: Params | None = None) -> dict[str, Any]:
    """How often would false flags have changed the target? One simulated round per seed
    ``seed .. seed + rounds - 1``, scored on the recorded data and on the ground truth."""
    base = params or Params()
    changed = with_ff = 0
    cases = []
    for s in range(seed, seed + rounds):
        p = replace(base, seed=s)
        events = generate(p)
        recorded = replay(simulated_state(events, p, rules_body, truth=False), 1).document["selection"]
        true = replay(simulated_state(events, p, rules_body, truth=True), 1).document["selection"]
        flags = sum(e.truth["false_flag"] for e in events)
        with_ff += flags > 0
        if recorded["target"] != true["target"]:
            changed += 1
            cases.append({"seed": s, "recorded_target": recorded["target"], "true_target": true["target"], "false_flags": flags})
    return {"rounds": rounds, "first_seed": seed, "false_flag_per_mille": base.false_flag_per_mille,
            "rounds_with_false_flags": with_ff, "target_changed": changed, "cases": cases}
