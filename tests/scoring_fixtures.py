"""Shared helpers for the scoring tests: a small, really signed ledger kept in memory.

``MiniLedger`` seals entries with real Ed25519 keys and runs them through the real
verifier as it goes (``add``), or appends them unchecked (``force``) so that a test can
construct a manipulated ledger and show that ``verify`` catches it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from ledger.core.authoring import genesis_statement
from ledger.core.keys import SigningKey
from ledger.core.model import GENESIS_PREV, Statement, seal_entry
from ledger.scoring import authoring as A
from ledger.scoring.process import ScoringProcess, scoring_process
from ledger.scoring.replay import replay
from ledger.core.entry_types import SCORING_TYPES
from ledger.core.verify import Verifier, Violation
from ledger.scoring.process import new_verifier

ROLE_OF = {name: role for name, role, _ in SCORING_TYPES}
PANEL = ["p1", "p2", "p3", "p4", "p5"]


def key(label: str) -> SigningKey:
    return SigningKey.from_raw_seed(hashlib.sha256(f"scoring-test/{label}".encode()).digest())


def src(publisher: str, day: str = "2026-01-10") -> dict[str, str]:
    return A.source(publisher, "national", day, hashlib.sha256(f"{publisher}/{day}".encode()).hexdigest())


TWO_SOURCES = [src("la-jornada"), src("reforma")]


@dataclass
class Result:
    violations: list[Violation]
    notices: list[Violation]

    @property
    def rules(self) -> set[str]:
        return {v.rule for v in self.violations}


@dataclass
class MiniLedger:
    keys: dict[str, SigningKey] = field(default_factory=dict)
    raws: list[bytes] = field(default_factory=list)
    verifier: Verifier = field(default_factory=new_verifier)
    clock: datetime = datetime(2026, 1, 1, 8, 0, 0, tzinfo=timezone.utc)

    def __post_init__(self) -> None:
        for label in [*PANEL, "r1", "r2", "op"]:
            self.keys[label] = key(label)
        roles = {
            "panel": ([(self.keys[p].public, p) for p in PANEL], 3),
            "recorder": ([(self.keys[r].public, r) for r in ("r1", "r2")], 1),
            "operator": ([(self.keys["op"].public, "op")], 1),
        }
        genesis = genesis_statement("test.example/scoring", "test ledger", roles, self.at(), "")
        self._append(genesis, [*PANEL, "r1", "r2", "op"], force=False)

    # -- plumbing -------------------------------------------------------------------------

    def at(self) -> str:
        return self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def tick(self) -> str:
        self.clock += timedelta(minutes=1)
        return self.at()

    def set_date(self, day: str) -> None:
        self.clock = datetime.fromisoformat(day + "T09:00:00+00:00")

    @property
    def ledger_id(self) -> str:
        return self.verifier.context.ledger_id

    @property
    def process(self) -> ScoringProcess:
        process = scoring_process(self.verifier)
        assert process is not None
        return process

    @property
    def state(self):
        return self.process.state

    def _append(self, statement: Statement, signers: Iterable[str], *, force: bool) -> list[Violation]:
        signatures = tuple(statement.sign(self.keys[s]) for s in signers)
        prev = GENESIS_PREV if self.verifier.head is None else self.verifier.head.hex()
        entry = seal_entry(self.verifier.size, prev, statement, signatures, self.keys["op"])
        violations = self.verifier.feed(entry.raw)
        if violations and not force:
            raise AssertionError(f"unexpected violations: {[str(v) for v in violations]}")
        self.raws.append(entry.raw)
        return violations

    def add(self, type_: str, body: dict[str, Any], *, signers: Iterable[str] | None = None, force: bool = False) -> list[Violation]:
        """Append a statement of ``type_``; default signers: r1, or p1-p3 for panel types."""
        if signers is None:
            signers = ["r1"] if ROLE_OF[type_] == "recorder" else ["p1", "p2", "p3"]
        return self._append(A.statement(type_, body, self.tick(), self.ledger_id), signers, force=force)

    def verify(self) -> Result:
        verifier = new_verifier()
        violations = [v for raw in self.raws for v in verifier.feed(raw)] + verifier.finish()
        return Result(violations, list(scoring_process(verifier).notices))

    # -- scoring helpers ----------------------------------------------------------------------

    def orgs(self, *ids: str) -> None:
        for org in ids:
            self.add("org.register", A.org_register(org, org.upper()))

    def incident(self, incident_id: str, day: str, org: str | list | None, *, killed: int = 1, role: str = "ordinary_citizen",
                 kind: str = "killing", sources: list | None = None, force: bool = False, **extra: Any) -> list[Violation]:
        orgs = [] if org is None else ([org] if isinstance(org, str) else org)
        body = A.incident(incident_id, day, kind, victims=[A.victim(role, killed)],
                          attributions=[A.attribution(o) for o in orgs], sources=TWO_SOURCES if sources is None else sources, **extra)
        return self.add("incident.record", body, force=force)

    def adopt(self, version: int = 1, **overrides: Any) -> str:
        body = A.rules_body(version, f"rules v{version}", **overrides)
        self.add("rules.adopt", body)
        return hashlib.sha256(Statement.build("rules.adopt", body, self.at(), self.ledger_id).raw).hexdigest()

    def open(self, number: int, rules: str, eligible: list[str], start: str = "2026-01-01", end: str = "2026-01-31",
             force: bool = False, signers: list[str] | None = None, **extra: Any) -> list[Violation]:
        """``extra``: ``retrospective`` (a justification) and ``left_out`` (org -> reason)."""
        return self.add("round.open", A.round_open(number, rules, start, end, eligible, "2026-12-31", **extra), force=force, signers=signers)

    def close(self, number: int, day: str = "2026-12-31", force: bool = False) -> list[Violation]:
        self.set_date(day)
        return self.add("round.close", {"round": number}, force=force)

    def decide(self, number: int, force: bool = False, signers: list[str] | None = None, **kw: Any) -> list[Violation]:
        return self.add("round.decide", A.decision_body(self.state, number, **kw), force=force, signers=signers)

    def replay(self, number: int):
        return replay(self.state, number)


def one_round(target_active: bool = True) -> MiniLedger:
    """Three orgs, rules v1, round 1 decided: 'alpha' stands out (8 killings vs 2 and 1)."""
    m = MiniLedger()
    m.orgs("alpha", "beta", "gamma")
    digest = m.adopt(1)
    m.open(1, digest, ["alpha", "beta", "gamma"])
    for i in range(8):
        m.incident(f"a-{i}", "2026-01-10", "alpha")
    m.incident("b-1", "2026-01-11", "beta", killed=2)
    m.incident("g-1", "2026-01-12", "gamma")
    m.close(1, "2026-02-01")
    m.decide(1)
    return m


def estimate(org: str, best: str) -> dict:
    """An ``estimate.record`` body: revenue (USD) of 2025, low = best = high."""
    return {"org_id": org, "metric": "revenue_usd", "period_start": "2025-01-01", "period_end": "2025-12-31",
            "low": best, "best": best, "high": best, "sources": [src("observatorio")]}


def features_and_splinters(normalized: bool = True) -> MiniLedger:
    """Round 2 (rules v2: features, splinters inherit, joint split, places 3, with or without
    a normalization) of alpha-sur (a splinter of round 1's dismantled target alpha), beta
    (an estimate above the floor) and gamma (below it): an incident with three features, two
    victims and an inherited attribution, a contested (discounted) one, and a feature on an
    extortion. Decided and verified."""
    m = one_round()  # round 1 names alpha
    m.add("target.dismantled", {"round": 1, "org": "alpha", "date": "2026-02-02", "summary": "dismantled"})
    m.orgs("alpha-sur")
    m.add("org.lineage", A.org_lineage("alpha-sur", "split_from", "alpha", "2026-02-03"))
    m.add("estimate.record", estimate("beta", "300000000"))
    m.add("estimate.record", estimate("gamma", "20000000"))  # below the floor
    norm = {"metric": "revenue_usd", "point": "best", "floor": "50000000", "unit": "100000000"} if normalized else None
    digest = m.adopt(2, features={"mass_killing": "4.5", "public_display": "2", "torture": "1.25"}, splinters="inherit",
                     normalization=norm, places=3, notes="Features weigh what a kind alone cannot; splinters inherit.")
    m.set_date("2026-03-01")
    m.open(2, digest, ["alpha-sur", "beta", "gamma"], start="2026-03-01", end="2026-03-31")
    m.add("incident.record", A.incident(
        "e-1", "2026-03-03", "killing", victims=[A.victim("ordinary_citizen", 3, 4, 6), A.victim("police", 1)],
        attributions=[A.attribution("alpha", "media", "medium"), A.attribution("beta", "inference", "low")],
        sources=TWO_SOURCES, features=["mass_killing", "public_display", "torture"]))
    m.add("incident.record", A.incident(
        "e-2", "2026-03-04", "kidnapping", victims=[A.victim("journalist", 1)],
        attributions=[A.attribution("gamma", "claim", "high"), A.attribution("beta")], sources=TWO_SOURCES))
    m.add("attribution.dispute", {"dispute_id": "d-1", "incident_id": "e-2", "org": "gamma", "basis": "false_flag",
                                  "raised_by": "journalist", "grounds": "staged", "sources": [src("reforma")]})
    m.add("incident.record", A.incident(
        "e-3", "2026-03-05", "extortion", victims=[A.victim("ordinary_citizen", 2)],
        attributions=[A.attribution("alpha-sur", "forensic", "high")], sources=TWO_SOURCES, features=["public_display"]))
    m.close(2, "2026-04-01")
    m.decide(2)
    assert m.verify().violations == []
    return m
