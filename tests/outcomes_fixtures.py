"""The worked example of SPEC.md 12.12 (the outcomes document), shared by the scoring, CLI
and report tests: a small ledger with fixed keys and clock, so the same bytes every time."""

from __future__ import annotations

from ledger.scoring import authoring as A

from scoring_fixtures import MiniLedger, src


def baseline(**overrides) -> dict:
    body = {"measure": "victims", "kinds": ["killing"], "level": {"value": "7", "per": "week"},
            "justification": "killings a decade earlier (national statistics)", "sources": [src("inegi", "2026-01-02")]}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def example() -> MiniLedger:
    """The worked example of SPEC.md 12.12 (fixed keys and clock: the same bytes every time)."""
    m = MiniLedger()
    m.orgs("alpha", "beta")
    rules = m.adopt(1)
    m.add("round.open", A.round_open(1, rules, "2026-01-01", "2026-01-31", ["alpha", "beta"], "2026-02-05"))
    m.incident("a-1", "2026-01-10", "alpha", killed=3)
    m.incident("a-2", "2026-01-20", "alpha", kind="kidnapping", role="journalist")
    m.incident("b-1", "2026-01-17", "beta", role="police")
    m.incident("u-1", "2026-01-25", None, killed=2)
    m.close(1, "2026-02-01")
    m.set_date("2026-02-05")
    m.decide(1)
    m.incident("a-3", "2026-02-10", "alpha")
    m.incident("b-2", "2026-02-12", "beta", killed=2, role="rival_member")
    m.incident("a-4", "2026-02-20", "alpha")
    m.add("incident.retract", {"incident_id": "a-4", "reason": "duplicate"})
    m.incident("b-3", "2026-02-14", "beta", kind="extortion")
    amended = A.incident("b-3", "2026-02-14", "extortion", victims=[A.victim("ordinary_citizen", 2)],
                         attributions=[A.attribution("beta")], sources=[src("la-jornada"), src("reforma")])
    m.add("incident.amend", {"incident": amended, "reason": "a second victim"})
    m.add("target.dismantled", {"round": 1, "org": "alpha", "date": "2026-02-25", "summary": "leadership arrested"})
    m.incident("b-4", "2026-03-01", "beta", killed=4)
    m.add("outcome.baseline", baseline())
    return m
