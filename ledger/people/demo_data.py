"""The scoring part of ``ledger demo``: a seeded, synthetic, multi-round history.

Every organization, incident and source is invented. The generator uses
``random.Random(seed)`` through integer-only helpers (``randrange``), so the same seed gives
the same statements, byte for byte; nothing signed contains a float.

The story (SPEC.md 11 walks through the same lifecycle):

* round 1 (rules v1): ``halcones-del-norte`` is by far the most violent and stands out;
  an amendment, a retraction, a false-flag dispute upheld by the panel, and a second
  dispute still open at the close (contested, discounted); the target is named, progress
  is reported, and it is dismantled;
* rules v2 (contested attributions excluded, journalists weigh more, ratio 1.3);
  ``halcones-disidentes`` splits from the dismantled group;
* round 2: ``sierra-alta`` escalates and stands out; one incident is backfilled after the
  close (it appears as ``recorded_after_close`` and never counts); it is dismantled;
* rules v3 adds the critics' normalization: violence per USD 100 million of estimated
  revenue, with a floor of USD 50 million so that small groups are not inflated;
* round 3: the survivors are close to one another; nobody stands out: no target;
* rules v4 (issue 16) add aggravating features (public display of bodies, torture, mass
  killing: each adds its weight once per incident) and let a splinter of a dismantled
  target inherit the attributions still made to it (``splinters: inherit``);
* round 4: some killings carry features, and cells still operating under the Halcones del
  Norte name are counted for ``halcones-disidentes``; ``ledger explain`` shows each factor;
* afterwards the months between the windows are filled in (recorded late, so no round counts
  them) and the panel names the step-7 baseline (``outcome.baseline``): ``ledger outcomes``
  shows each target's violence before naming, while active and after dismantling.
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Protocol, Sequence

from ..core.model import Entry, Statement
from ..scoring import authoring as A
from ..scoring.process import scoring_process


class DemoBuilder(Protocol):
    """What the scoring history needs of :class:`ledger.people.demo.DemoBuilder` (which
    calls :func:`build_scoring`): its seed, clock, store and appends."""

    seed: int
    now: datetime
    store: Any

    @property
    def ledger_id(self) -> str: ...

    def advance(self, **delta: float) -> str: ...

    def append(self, statement: Statement, signers: Iterable[str]) -> Entry: ...

    def append_many(self, items: Sequence[tuple[Statement, Iterable[str]]]) -> list[Entry]: ...

PANEL_SIGNERS = ["panel-1", "panel-3", "panel-6"]
RECORDER_KEYS = ["recorder-1", "recorder-2b"]

ORGS: list[tuple[str, str, list[str], str, str]] = [
    # id, name, aliases, home state, best revenue estimate (USD)
    ("halcones-del-norte", "Halcones del Norte", ["HN", "Los Halcones"], "MX-TAM", "900000000"),
    ("sierra-alta", "Cartel de la Sierra Alta", ["CSA", "La Sierra"], "MX-SIN", "700000000"),
    ("golfo-unido", "Golfo Unido", ["GU"], "MX-VER", "260000000"),
    ("los-tejones", "Los Tejones", ["Tejones"], "MX-MIC", "180000000"),
    ("cartel-costa", "Cartel de la Costa", ["CDC", "La Costa"], "MX-GRO", "120000000"),
    ("nueva-frontera", "Nueva Frontera", ["NF"], "MX-CHH", "30000000"),
    ("barrio-azul", "Barrio Azul", ["BA", "Los Azules"], "MX-JAL", "12000000"),
    ("la-ruta", "La Ruta", [], "MX-ZAC", "4000000"),
]
SPLINTER = ("halcones-disidentes", "Halcones Disidentes", ["HD"], "MX-TAM")

PUBLISHERS: list[tuple[str, str]] = [
    ("diario-del-norte", "local"), ("la-voz-del-puerto", "local"), ("noticias-sierra", "local"),
    ("radio-costa", "local"), ("periodico-central", "national"), ("agencia-nacional", "national"),
    ("observatorio-civil", "national"), ("fiscalia-estatal", "national"),
    ("wire-international", "international"), ("monitor-ddhh", "international"),
]
KIND_WEIGHTS = [
    ("killing", 48), ("kidnapping", 12), ("forced_disappearance", 8), ("extortion", 16),
    ("terror_act_or_threat", 8), ("institutional_intimidation", 5), ("systematic_corruption", 3),
]
ROLE_WEIGHTS = {
    "killing": [("rival_member", 40), ("ordinary_citizen", 30), ("police", 10), ("military", 3),
                ("journalist", 2), ("community_leader", 3), ("official", 2), ("unknown", 10)],
    "kidnapping": [("ordinary_citizen", 70), ("journalist", 5), ("official", 5), ("unknown", 15), ("rival_member", 5)],
    "forced_disappearance": [("ordinary_citizen", 70), ("journalist", 5), ("community_leader", 10), ("unknown", 15)],
    "extortion": [("ordinary_citizen", 80), ("official", 5), ("unknown", 15)],
    "terror_act_or_threat": [("ordinary_citizen", 50), ("journalist", 15), ("official", 15), ("police", 10), ("unknown", 10)],
    "institutional_intimidation": [("official", 50), ("journalist", 25), ("police", 15), ("community_leader", 10)],
    "systematic_corruption": [("official", 70), ("police", 30)],
}
BASIS_WEIGHTS = [("official_finding", 35), ("forensic", 10), ("media", 35), ("claim", 8), ("inference", 12)]
CONFIDENCE_WEIGHTS = [("high", 50), ("medium", 35), ("low", 15)]


def pick(rng: random.Random, weighted: Sequence[tuple[Any, int]]) -> Any:
    """A weighted choice with integers only (stable across Python versions)."""
    cumulative: list[int] = []
    total = 0
    for _, weight in weighted:
        total += weight
        cumulative.append(total)
    return weighted[bisect_right(cumulative, rng.randrange(total))][0]


def _day(start: str, offset: int) -> str:
    return (date.fromisoformat(start) + timedelta(days=offset)).isoformat()


def _span(start: str, end: str) -> int:
    return (date.fromisoformat(end) - date.fromisoformat(start)).days + 1


class Story:
    """Generates the scoring history into a :class:`DemoBuilder`."""

    def __init__(self, builder: DemoBuilder) -> None:
        self.b = builder
        self.rng = random.Random(f"scoring-demo/{builder.seed}")
        self.serial = 0
        self.homes = {org: home for org, _, _, home, _ in ORGS}
        self.homes[SPLINTER[0]] = SPLINTER[3]
        self.turn = 0

    # -- plumbing -------------------------------------------------------------------------

    def recorder(self) -> str:
        self.turn += 1
        return RECORDER_KEYS[self.turn % 2]

    def statement(self, type_: str, body: dict[str, Any], **advance: float):
        return A.statement(type_, body, self.b.advance(**(advance or {"minutes": 7})), self.b.ledger_id)

    def record(self, type_: str, body: dict[str, Any], **advance: float):
        return self.b.append(self.statement(type_, body, **advance), [self.recorder()])

    def panel(self, type_: str, body: dict[str, Any], **advance: float) -> str:
        statement = self.statement(type_, body, **advance)
        self.b.append(statement, PANEL_SIGNERS)
        return statement.digest.hex()

    def go_to(self, day: str, hour: int = 9) -> None:
        target = self.b.now.replace(year=int(day[:4]), month=int(day[5:7]), day=int(day[8:]), hour=hour, minute=0, second=0)
        if target > self.b.now:
            self.b.now = target

    def state(self):
        return scoring_process(self.b.store.verifier()).state

    def source(self, day: str, publisher: tuple[str, str] | None = None) -> dict[str, str]:
        name, scale = publisher or PUBLISHERS[self.rng.randrange(len(PUBLISHERS))]
        salt = self.rng.getrandbits(256).to_bytes(32, "big")
        document = f"synthetic source document {self.serial} from {name}".encode()
        return A.source(name, scale, day, A.commitment(salt, document))

    def sources(self, day: str, n: int) -> list[dict[str, str]]:
        chosen = []
        for index in sorted(self._sample(len(PUBLISHERS), n)):
            chosen.append(self.source(_day(day, self.rng.randrange(3)), PUBLISHERS[index]))
        return chosen

    def _sample(self, population: int, n: int) -> list[int]:
        pool = list(range(population))
        out = []
        for _ in range(n):
            out.append(pool.pop(self.rng.randrange(len(pool))))
        return out

    def new_incident(self, org: str | None, day: str, *, kind: str | None = None, partner: str | None = None,
                     victims: list[dict[str, Any]] | None = None, n_sources: int | None = None,
                     basis: str | None = None, confidence: str | None = None, precision: str | None = None) -> dict[str, Any]:
        self.serial += 1
        rng = self.rng
        kind = kind or pick(rng, KIND_WEIGHTS)
        if victims is None:
            victims = []
            for role in sorted({pick(rng, ROLE_WEIGHTS[kind]) for _ in range(1 + (rng.randrange(4) == 0))}):
                best = 1 + (rng.randrange(3) if kind in ("killing", "kidnapping", "extortion") else 0)
                if rng.randrange(6) == 0:
                    best += rng.randrange(1, 5)
                victims.append(A.victim(role, max(1, best - rng.randrange(2)), best, best + rng.randrange(3)))
        attributions = []
        for o in [org, partner]:
            if o is not None:
                attributions.append(A.attribution(o, basis or pick(rng, BASIS_WEIGHTS), confidence or pick(rng, CONFIDENCE_WEIGHTS)))
        claims = []
        if org is not None and rng.randrange(12) == 0:
            claims.append({"org": org, "stance": "denied" if rng.randrange(3) == 0 else "claimed",
                           "channel": pick(rng, [("banner", 3), ("video", 2), ("social_media", 4), ("communique", 1)])})
        if n_sources is None:
            n_sources = pick(rng, [(1, 12), (2, 50), (3, 28), (4, 10)])
        home = self.homes.get(org or "", "MX-GRO")
        municipality = f"{home[3:].lower()}-{1 + rng.randrange(40):03d}" if rng.randrange(4) else None
        precision = precision or pick(rng, [("day", 92), ("week", 6), ("month", 2)])
        if precision == "month":
            day = day[:8] + "01"
        return A.incident(f"mx-{self.serial:05d}", day, kind, victims=victims, attributions=attributions,
                          sources=self.sources(day, n_sources), state=home, municipality=municipality,
                          date_precision=precision, claims=claims)

    def batch(self, bodies: list[dict[str, Any]]) -> None:
        """Record incidents in date order, each a day or two after it happened, in ONE transaction."""
        items = []
        for body in sorted(bodies, key=lambda x: (x["date"], x["incident_id"])):
            self.go_to(_day(body["date"], 1 + self.rng.randrange(2)), 8)
            items.append((self.statement("incident.record", body, minutes=1 + self.rng.randrange(50)), [self.recorder()]))
        self.b.append_many(items)

    def round_incidents(self, start: str, end: str, volume: dict[str, int]) -> list[dict[str, Any]]:
        span = _span(start, end)
        orgs = sorted(volume)
        out = []
        for org in orgs:
            for _ in range(volume[org]):
                partner = None
                if self.rng.randrange(25) == 0:
                    partner = orgs[self.rng.randrange(len(orgs))]
                    partner = None if partner == org else partner
                out.append(self.new_incident(org, _day(start, self.rng.randrange(span)), partner=partner))
        for _ in range(span // 3):  # unattributed incidents
            out.append(self.new_incident(None, _day(start, self.rng.randrange(span))))
        for _ in range(4):  # reported during the round, dated before its window
            out.append(self.new_incident(orgs[self.rng.randrange(len(orgs))], _day(start, -10 - self.rng.randrange(20))))
        return out

    # -- the story --------------------------------------------------------------------------

    def run(self) -> None:
        b = self.b
        self.go_to("2026-01-12")
        for org_id, name, aliases, _, _ in ORGS:
            self.record("org.register", A.org_register(org_id, name, aliases))
        for org_id, _, _, _, revenue in ORGS:
            self.estimate(org_id, revenue, "2025-01-01", "2025-12-31")
        rules1 = self.panel("rules.adopt", A.rules_body(1, "Kleiman weights, first edition", notes=(
            "Weights per incident kind and victim role; attribution multiplied by basis and confidence; "
            "contested attributions count half; at least two distinct publishers; best estimates of victims; "
            "the top organization must exceed the next by 25%.")), hours=3)
        all_orgs = [o for o, *_ in ORGS]

        # Round 1 -------------------------------------------------------------------------
        self.go_to("2026-01-19")
        self.panel("round.open", A.round_open(1, rules1, "2026-01-19", "2026-03-01", all_orgs, "2026-03-09",
                                               "Six-week window. Eligible: every registered organization."))
        volume = {"halcones-del-norte": 120, "sierra-alta": 46, "golfo-unido": 38, "los-tejones": 30,
                  "cartel-costa": 28, "nueva-frontera": 12, "barrio-azul": 9, "la-ruta": 4}
        incidents = self.round_incidents("2026-01-19", "2026-03-01", volume)
        # A staged massacre dressed up as Golfo Unido's work (the false flag), and an open dispute.
        false_flag = self.new_incident("golfo-unido", "2026-02-03", kind="killing", n_sources=3,
                                       victims=[A.victim("ordinary_citizen", 6, 7, 9)], basis="claim", confidence="medium")
        contested = self.new_incident("cartel-costa", "2026-02-14", kind="kidnapping", n_sources=2,
                                      victims=[A.victim("journalist", 1)], basis="media", confidence="high")
        amended = self.new_incident("los-tejones", "2026-02-07", kind="killing", n_sources=2,
                                    victims=[A.victim("police", 2)], basis="media", confidence="medium")
        retracted = self.new_incident("barrio-azul", "2026-02-10", kind="extortion", n_sources=2)
        first_half = [i for i in incidents if i["date"] < "2026-02-10"] + [false_flag, amended]
        self.batch(first_half)
        self.record("attribution.dispute", {
            "dispute_id": "dispute-0001", "incident_id": false_flag["incident_id"], "org": "golfo-unido",
            "basis": "false_flag", "raised_by": "organization", "grounds": (
                "Banner claiming the killings for Golfo Unido is a forgery; forensic findings point to Halcones del Norte"),
            "sources": [self.source("2026-02-06")]})
        fixed = dict(amended, victims=[A.victim("police", 3), A.victim("ordinary_citizen", 1)])
        fixed["sources"] = amended["sources"] + [self.source("2026-02-12", ("fiscalia-estatal", "national"))]
        self.record("incident.amend", {"incident": fixed, "reason": "prosecutor's report: three officers and a bystander killed"})
        self.batch([i for i in incidents if i["date"] >= "2026-02-10"] + [contested, retracted])
        self.record("incident.retract", {"incident_id": retracted["incident_id"], "reason": "duplicate of an incident reported under another id"})
        self.panel("dispute.resolve", {"dispute_id": "dispute-0001", "outcome": "upheld", "justification": (
            "Forensic ballistics match Halcones del Norte; the banner was staged. Attribution to Golfo Unido is void.")})
        self.record("attribution.dispute", {
            "dispute_id": "dispute-0002", "incident_id": contested["incident_id"], "org": "cartel-costa",
            "basis": "misidentification", "raised_by": "journalist", "grounds": "Witness accounts disagree on who took the reporter",
            "sources": [self.source("2026-02-20")]})
        self.go_to("2026-03-02")
        self.panel("round.close", {"round": 1, "notes": "Window ended 2026-03-01."})
        self.go_to("2026-03-09")
        self.panel("round.decide", A.decision_body(self.state(), 1))
        for day, summary in [("2026-04-02", "Financial intelligence unit froze 214 accounts; U.S. distributors warned"),
                             ("2026-05-15", "Leadership arrested; two logistics hubs closed")]:
            self.go_to(day)
            self.record("target.progress", {"round": 1, "org": "halcones-del-norte", "date": day, "summary": summary,
                                            "sources": [self.source(day, ("agencia-nacional", "national"))]})
        self.go_to("2026-06-20")
        self.panel("target.dismantled", {"round": 1, "org": "halcones-del-norte", "date": "2026-06-20",
                                          "summary": "Command structure dismantled; the remaining cells have split off"})

        # Between rounds: the splinter group and rules v2 ------------------------------
        self.record("org.register", A.org_register(SPLINTER[0], SPLINTER[1], SPLINTER[2], "Cells of the dismantled Halcones del Norte"))
        self.record("org.lineage", A.org_lineage(SPLINTER[0], "split_from", "halcones-del-norte", "2026-06-10"))
        weights = {k: dict(v) for k, v in A.DEFAULT_WEIGHTS.items()}
        weights["killing"]["journalist"] = "8"
        weights["forced_disappearance"]["journalist"] = "7"
        rules2 = self.panel("rules.adopt", A.rules_body(
            2, "Second edition: contested attributions excluded", weights=weights,
            contested={"mode": "exclude", "factor": "0"}, stand_out={"ratio": "1.3", "min_score": "10"},
            notes="After public consultation: disputed attributions no longer count until resolved; journalists weigh more."), days=2)

        # Round 2 -------------------------------------------------------------------------
        survivors = [o for o in all_orgs if o != "halcones-del-norte"] + [SPLINTER[0]]
        self.go_to("2026-07-06")
        self.panel("round.open", A.round_open(2, rules2, "2026-07-06", "2026-08-16", survivors, "2026-08-24"))
        volume = {"sierra-alta": 95, "golfo-unido": 34, "los-tejones": 26, "cartel-costa": 22, "nueva-frontera": 10,
                  "barrio-azul": 8, "la-ruta": 3, SPLINTER[0]: 18}
        self.batch(self.round_incidents("2026-07-06", "2026-08-16", volume))
        self.go_to("2026-08-17")
        self.panel("round.close", {"round": 2})
        # A backfilled incident: dated inside the window, recorded after the close.
        self.go_to("2026-08-20")
        self.record("incident.record", self.new_incident("golfo-unido", "2026-08-10", kind="killing", n_sources=3,
                                                          victims=[A.victim("ordinary_citizen", 12)]))
        self.go_to("2026-08-24")
        self.panel("round.decide", A.decision_body(self.state(), 2))
        self.go_to("2026-10-01")
        self.record("target.progress", {"round": 2, "org": "sierra-alta", "date": "2026-10-01",
                                        "summary": "Joint operation seized processing sites; U.S. buyers indicted",
                                        "sources": [self.source("2026-10-01", ("wire-international", "international"))]})
        self.go_to("2026-11-30")
        self.panel("target.dismantled", {"round": 2, "org": "sierra-alta", "date": "2026-11-30",
                                          "summary": "Remaining leadership captured; supply routes closed"})

        # Rules v3: violence intensity (per revenue) with a floor --------------------
        for org_id, _, _, _, revenue in ORGS[2:]:
            self.estimate(org_id, str(int(revenue) * 9 // 10), "2026-01-01", "2026-12-31")
        rules3 = self.panel("rules.adopt", A.rules_body(
            3, "Third edition: violence intensity", weights=weights, contested={"mode": "exclude", "factor": "0"},
            normalization={"metric": "revenue_usd", "point": "best", "floor": "50000000", "unit": "100000000"},
            stand_out={"ratio": "1.3", "min_score": "10"},
            notes="Score per USD 100 million of estimated revenue; revenue below USD 50 million counts as 50 million."),
            days=3)

        # Round 3: nobody stands out ------------------------------------------------------
        survivors = [o for o in survivors if o != "sierra-alta"]
        self.go_to("2027-01-11")
        self.panel("round.open", A.round_open(3, rules3, "2027-01-11", "2027-02-21", survivors, "2027-03-01"))
        volume = {"golfo-unido": 44, "los-tejones": 36, "cartel-costa": 30, "barrio-azul": 3, "la-ruta": 2}
        bodies = self.round_incidents("2027-01-11", "2027-02-21", volume)
        # The two small groups (both below the revenue floor) commit mirrored violence.
        for _ in range(16):
            day = _day("2027-01-11", self.rng.randrange(42))
            kind = pick(self.rng, KIND_WEIGHTS[:4])
            victims = [A.victim(pick(self.rng, ROLE_WEIGHTS[kind]), 1 + self.rng.randrange(2))]
            basis, confidence = pick(self.rng, BASIS_WEIGHTS), "high"
            for org in ("nueva-frontera", SPLINTER[0]):
                bodies.append(self.new_incident(org, day, kind=kind, victims=victims, n_sources=2, basis=basis,
                                                confidence=confidence, precision="day"))
        bodies.append(self.new_incident(SPLINTER[0], "2027-02-02", kind="extortion", n_sources=2,
                                        victims=[A.victim("ordinary_citizen", 2)], basis="media", confidence="medium"))
        self.batch(bodies)
        self.go_to("2027-02-22")
        self.panel("round.close", {"round": 3})
        self.go_to("2027-03-01")
        self.panel("round.decide", A.decision_body(self.state(), 3))
        self.round_four(weights, survivors)
        self.outcomes()

    def round_four(self, weights: dict[str, dict[str, str]], survivors: list[str]) -> None:
        """Rules v4 (features, splinters inherit) and round 4 (SPEC.md 10.3, 10.7, 12.1, 12.3)."""
        rules4 = self.panel("rules.adopt", A.rules_body(
            4, "Fourth edition: aggravating features and splinters", weights=weights,
            contested={"mode": "exclude", "factor": "0"},
            normalization={"metric": "revenue_usd", "point": "best", "floor": "50000000", "unit": "100000000"},
            stand_out={"ratio": "1.3", "min_score": "10"},
            features={"mass_killing": "6", "public_display": "3", "torture": "2"}, splinters="inherit",
            notes=("Kleiman's scoring elements list terroristic acts beside killings: a killing with bodies displayed in "
                   "public, with torture, or of four or more people adds a fixed weight once per incident. A splinter "
                   "of a dismantled target inherits the attributions still made to its parent: rebranding does not "
                   "wipe the record.")), hours=1)
        # One week, before the walkthroughs' round 5 (examples/walkthroughs/panel.md, from 2027-03-08).
        self.go_to("2027-03-01", 12)
        self.panel("round.open", A.round_open(4, rules4, "2027-03-01", "2027-03-07", survivors, "2027-03-08"))
        volume = {"golfo-unido": 8, "los-tejones": 7, "cartel-costa": 6, "nueva-frontera": 2, "barrio-azul": 1,
                  "la-ruta": 1, SPLINTER[0]: 3}
        bodies = self.round_incidents("2027-03-01", "2027-03-07", volume)
        for i in range(4):  # cells still using the dismantled group's name
            bodies.append(self.new_incident("halcones-del-norte", _day("2027-03-01", 1 + i), kind="killing", n_sources=2))
        for body in bodies:  # features from the incident itself (no random draw: earlier rounds stay as they were)
            if body["kind"] == "killing":
                serial = int(body["incident_id"][3:])
                features = {"public_display"} if serial % 5 == 0 else set()
                if serial % 7 == 0:
                    features.add("torture")
                if sum(v["low"] for v in body["victims"]) >= 4:
                    features.add("mass_killing")
                if features:
                    body["features"] = sorted(features)
        self.batch(bodies)
        self.go_to("2027-03-08", 7)
        self.panel("round.close", {"round": 4})
        self.panel("round.decide", A.decision_body(self.state(), 4), hours=1)

    def outcomes(self) -> None:
        """The observatory's series fills the months between the rounds' windows, recorded
        late (no round counts them), and the panel names the step-7 baseline (SPEC.md 10.8, 12.12)."""
        self.go_to("2027-03-08")
        gaps = [("2026-03-02", "2026-06-19", {"halcones-del-norte": 16, "sierra-alta": 8, "golfo-unido": 8, "los-tejones": 6, "cartel-costa": 6}),
                ("2026-06-20", "2026-07-05", {"golfo-unido": 3, "los-tejones": 2, SPLINTER[0]: 2}),
                ("2026-08-17", "2026-11-29", {"sierra-alta": 10, "golfo-unido": 12, "los-tejones": 10, "cartel-costa": 6, SPLINTER[0]: 6}),
                ("2026-11-30", "2027-01-10", {"golfo-unido": 8, "los-tejones": 6, "cartel-costa": 5, SPLINTER[0]: 5})]
        self.batch([body for start, end, volume in gaps for body in self.round_incidents(start, end, volume)])
        self.go_to("2027-03-15")
        self.panel("outcome.baseline", {
            "measure": "victims", "kinds": ["killing"], "level": {"value": "45", "per": "month"},
            "justification": ("Killings attributed to organized crime in these states in 2016, a decade before the first round "
                              "(national statistics office; a synthetic figure for the demo)"),
            "sources": [self.source("2027-03-10", ("observatorio-civil", "national"))]})

    def estimate(self, org: str, best: str, start: str, end: str) -> None:
        value = int(best)
        self.record("estimate.record", {
            "org_id": org, "metric": "revenue_usd", "period_start": start, "period_end": end,
            "low": str(value * 6 // 10), "best": best, "high": str(value * 15 // 10),
            "sources": [self.source(end if end < "2026-06-01" else "2026-06-01", ("observatorio-civil", "national"))]})


def build_scoring(builder: DemoBuilder) -> None:
    """Append the whole scoring history to ``builder``'s ledger (after ``build_core``)."""
    Story(builder).run()


def digest_of(text: str) -> str:  # pragma: no cover - convenience for notebooks
    return hashlib.sha256(text.encode()).hexdigest()
