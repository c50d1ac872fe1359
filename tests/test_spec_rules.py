"""Every numbered rule of SPEC.md is named by a test, and the scoring rules that were only
reached through the CLI (or not at all) are exercised in-process, entry by entry.

The table below builds each ledger with real Ed25519 signatures (``scoring_fixtures``): a
valid prefix through the real verifier, then the offending entries appended unchecked. Each
case expects the exact list of ``(seq, rule)`` violations, so a rule that stops firing, fires
on another entry, or fires on a valid neighbour fails its case.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pytest

import hashlib
import json

from ledger.core.model import GENESIS_PREV, Statement, seal_entry
from ledger.scoring import authoring as A
from ledger.scoring.process import new_verifier

from scoring_fixtures import PANEL, TWO_SOURCES, MiniLedger, key, one_round, src

ROOT = Path(__file__).resolve().parent.parent
RULE_ID = re.compile(r"R-\d+\.\d+(?![\d])")


# -- every rule id in SPEC.md is named by a test ----------------------------------------------


def spec_rule_ids() -> set[str]:
    """The rule ids SPEC.md names, read at test time (new sections bring new ids)."""
    return set(RULE_ID.findall((ROOT / "SPEC.md").read_text(encoding="utf-8")))


def ids_named_by_tests() -> set[str]:
    named: set[str] = set()
    for path in Path(__file__).resolve().parent.rglob("test_*.py"):
        named |= set(RULE_ID.findall(path.read_text(encoding="utf-8")))
    return named


def test_rule_id_pattern_matches_exactly():
    # Ids outside SPEC.md (section 99), so that this test names no real rule.
    assert RULE_ID.findall("R-99.13 and R-99.1, R-98.1. R-99.10") == ["R-99.13", "R-99.1", "R-98.1", "R-99.10"]
    assert "R-99.1" not in RULE_ID.findall("R-99.13 R-99.12 R-99.10")


def test_every_spec_rule_is_named_by_a_test():
    spec = spec_rule_ids()
    assert len(spec) >= 50, f"SPEC.md names only {len(spec)} rule ids: the pattern no longer matches its tables"
    missing = sorted(spec - ids_named_by_tests(), key=lambda r: tuple(int(p) for p in r[2:].split(".")))
    assert missing == [], f"rule ids of SPEC.md that no test names: {', '.join(missing)}"


# -- scoring rules, in-process, on the exact entry --------------------------------------------

PANEL3 = ["p1", "p2", "p3"]


def forced(m: MiniLedger, type_: str, body: dict[str, Any], *, signers: list[str] | None = None) -> int:
    """Append ``body`` unchecked and return its seq."""
    seq = len(m.raws)
    m.add(type_, body, signers=signers, force=True)
    return seq


def three_orgs() -> MiniLedger:
    m = MiniLedger()
    m.orgs("alpha", "beta", "gamma")
    return m


def estimate(org: str, low: str = "1", best: str = "2", high: str = "3", start: str = "2025-01-01", end: str = "2025-12-31") -> dict[str, Any]:
    return {"org_id": org, "metric": "revenue_usd", "period_start": start, "period_end": end,
            "low": low, "best": best, "high": high, "sources": [src("insight-crime")]}


def r_10_1() -> tuple[MiniLedger, list]:
    m = three_orgs()
    seq = forced(m, "org.register", A.org_register("alpha", "ALPHA AGAIN"))
    return m, [(seq, "R-10.1")]


def r_10_2() -> tuple[MiniLedger, list]:
    m = three_orgs()
    update = forced(m, "org.update", A.org_register("zeta", "ZETA"))
    split = forced(m, "org.lineage", A.org_lineage("zeta", "split_from", "alpha", "2026-01-01"))
    merge = forced(m, "org.lineage", A.org_lineage("alpha", "merged_into", "omega", "2026-01-01"), signers=PANEL3)
    identify = forced(m, "org.identify", {"org_id": "zeta", "same_as": "alpha", "justification": "one cartel"})
    return m, [(update, "R-10.2"), (split, "R-10.2"), (merge, "R-10.2"), (identify, "R-10.2")]


def r_10_3() -> tuple[MiniLedger, list]:
    m = three_orgs()
    itself = forced(m, "org.lineage", A.org_lineage("alpha", "split_from", "alpha", "2026-01-01"))
    m.add("org.lineage", A.org_lineage("beta", "merged_into", "gamma", "2026-01-02"), signers=PANEL3)
    again = forced(m, "org.lineage", A.org_lineage("beta", "merged_into", "alpha", "2026-01-03"), signers=PANEL3)
    into_merged = forced(m, "org.lineage", A.org_lineage("alpha", "merged_into", "beta", "2026-01-03"), signers=PANEL3)
    # A split may name a merged organization (SPEC 10.2): no violation on this entry.
    m.add("org.lineage", A.org_lineage("alpha", "split_from", "beta", "2026-01-04"))
    return m, [(itself, "R-10.3"), (again, "R-10.3"), (into_merged, "R-10.3")]


def r_10_10() -> tuple[MiniLedger, list]:
    m = three_orgs()
    m.add("estimate.record", estimate("alpha"))  # the valid one: no violation
    unregistered = forced(m, "estimate.record", estimate("zeta"))
    unordered = forced(m, "estimate.record", estimate("alpha", "5", "4", "6"))
    high_low = forced(m, "estimate.record", estimate("alpha", "1", "3", "2"))
    reversed_ = forced(m, "estimate.record", estimate("alpha", start="2025-12-31", end="2025-01-01"))
    not_a_day = forced(m, "estimate.record", estimate("alpha", start="2025-02-29"))
    return m, [(unregistered, "R-10.10"), (unordered, "R-10.10"), (high_low, "R-10.10"), (reversed_, "R-10.10"), (not_a_day, "R-10.10")]


def r_10_12() -> tuple[MiniLedger, list]:
    m = MiniLedger()
    norm = {"metric": "revenue_usd", "point": "best", "floor": "1", "unit": "1000000"}
    factor = forced(m, "rules.adopt", A.rules_body(1, "factor", contested={"mode": "discount", "factor": "1.01"}))
    ratio = forced(m, "rules.adopt", A.rules_body(1, "ratio", stand_out={"ratio": "0.99", "min_score": "0"}))
    floor = forced(m, "rules.adopt", A.rules_body(1, "floor", normalization={**norm, "floor": "0"}))
    unit = forced(m, "rules.adopt", A.rules_body(1, "unit", normalization={**norm, "unit": "0.0"}))
    m.adopt(1, normalization=norm, contested={"mode": "discount", "factor": "1"}, stand_out={"ratio": "1", "min_score": "0"})
    return m, [(factor, "R-10.12"), (ratio, "R-10.12"), (floor, "R-10.12"), (unit, "R-10.12")]


def r_11_6() -> tuple[MiniLedger, list]:
    m = three_orgs()
    digest = m.adopt(1)
    eligible = ["alpha", "beta", "gamma"]
    not_a_day = forced(m, "round.open", A.round_open(1, digest, "2026-01-01", "2026-02-30", eligible, "2026-12-31"))
    reversed_ = forced(m, "round.open", A.round_open(1, digest, "2026-01-31", "2026-01-01", eligible, "2026-12-31"))
    decided_early = forced(m, "round.open", A.round_open(1, digest, "2026-01-01", "2026-01-31", eligible, "2026-01-30"))
    m.open(1, digest, eligible)  # the valid one
    return m, [(not_a_day, "R-11.6"), (reversed_, "R-11.6"), (decided_early, "R-11.6")]


def r_11_7() -> tuple[MiniLedger, list]:
    m = three_orgs()
    m.open(1, m.adopt(1), ["alpha", "beta", "gamma"])
    m.set_date("2026-02-01")
    never_opened = forced(m, "round.close", {"round": 2})
    m.add("round.close", {"round": 1})
    twice = forced(m, "round.close", {"round": 1})
    return m, [(never_opened, "R-11.7"), (twice, "R-11.7")]


def progress(number: int, org: str) -> dict[str, Any]:
    return {"round": number, "org": org, "date": "2027-01-05", "summary": "arrests", "sources": []}


def dismantled(number: int, org: str) -> dict[str, Any]:
    return {"round": number, "org": org, "date": "2027-01-10", "summary": "done"}


def r_11_11() -> tuple[MiniLedger, list]:
    m = one_round()  # round 1 decided, target alpha
    m.add("target.progress", progress(1, "alpha"))  # the valid one
    other_org = forced(m, "target.progress", progress(1, "beta"))
    no_round = forced(m, "target.progress", progress(2, "alpha"))
    m.add("target.dismantled", dismantled(1, "alpha"))
    after = forced(m, "target.progress", progress(1, "alpha"))
    return m, [(other_org, "R-11.11"), (no_round, "R-11.11"), (after, "R-11.11")]


def r_11_12() -> tuple[MiniLedger, list]:
    m = one_round()
    other_org = forced(m, "target.dismantled", dismantled(1, "beta"))
    no_round = forced(m, "target.dismantled", dismantled(2, "alpha"))
    m.add("target.dismantled", dismantled(1, "alpha"))  # the valid one
    twice = forced(m, "target.dismantled", dismantled(1, "alpha") | {"summary": "done again"})
    return m, [(other_org, "R-11.12"), (no_round, "R-11.12"), (twice, "R-11.12")]


def r_11_12_no_target() -> tuple[MiniLedger, list]:
    m = three_orgs()
    m.open(1, m.adopt(1), ["alpha", "beta", "gamma"])
    m.close(1, "2026-02-01")
    m.decide(1, target=None, justification="the panel names no target this round")
    seq = forced(m, "target.dismantled", dismantled(1, "alpha"))
    return m, [(seq, "R-11.12")]


def r_10_5() -> tuple[MiniLedger, list]:
    m = three_orgs()
    m.incident("x-1", "2026-01-10", "alpha")
    m.add("incident.retract", {"incident_id": "x-1", "reason": "duplicate of a press report"})
    unknown = forced(m, "incident.retract", {"incident_id": "x-9", "reason": "?"})
    again = forced(m, "incident.retract", {"incident_id": "x-1", "reason": "again"})
    body = A.incident("x-1", "2026-01-10", "killing", victims=[A.victim("police", 1)], attributions=[A.attribution("alpha")], sources=TWO_SOURCES)
    amended = forced(m, "incident.amend", {"incident": body, "reason": "new count"})
    return m, [(unknown, "R-10.5"), (again, "R-10.5"), (amended, "R-10.5")]


def r_10_6() -> tuple[MiniLedger, list]:
    m = three_orgs()
    roles = forced(m, "incident.record", A.incident("x-1", "2026-01-10", "killing", victims=[A.victim("police", 1), A.victim("police", 2)],
                                                    attributions=[A.attribution("alpha")], sources=TWO_SOURCES))
    orgs = forced(m, "incident.record", A.incident("x-2", "2026-01-10", "killing", victims=[A.victim("police", 1)],
                                                   attributions=[A.attribution("alpha"), A.attribution("alpha", "claim")], sources=TWO_SOURCES))
    counts = forced(m, "incident.record", A.incident("x-3", "2026-01-10", "killing", victims=[A.victim("police", 2, 1, 3)],
                                                     attributions=[A.attribution("alpha")], sources=TWO_SOURCES))
    return m, [(roles, "R-10.6"), (orgs, "R-10.6"), (counts, "R-10.6")]


def dispute(dispute_id: str, incident_id: str, org: str) -> dict[str, Any]:
    return {"dispute_id": dispute_id, "incident_id": incident_id, "org": org, "basis": "false_flag",
            "raised_by": "organization", "grounds": "forged claim", "sources": []}


def r_10_8() -> tuple[MiniLedger, list]:
    m = three_orgs()
    m.incident("x-1", "2026-01-10", "alpha")
    m.incident("x-2", "2026-01-10", ["alpha", "beta"])
    m.add("attribution.dispute", dispute("d1", "x-1", "alpha"))
    reused = forced(m, "attribution.dispute", dispute("d1", "x-2", "beta"))
    unknown = forced(m, "attribution.dispute", dispute("d2", "x-9", "alpha"))
    not_attributed = forced(m, "attribution.dispute", dispute("d3", "x-1", "beta"))
    open_ = forced(m, "attribution.dispute", dispute("d4", "x-1", "alpha"))
    return m, [(reused, "R-10.8"), (unknown, "R-10.8"), (not_attributed, "R-10.8"), (open_, "R-10.8")]


def r_10_9() -> tuple[MiniLedger, list]:
    m = three_orgs()
    m.incident("x-1", "2026-01-10", "alpha")
    m.add("attribution.dispute", dispute("d1", "x-1", "alpha"))
    m.add("dispute.resolve", {"dispute_id": "d1", "outcome": "upheld", "justification": "forensics"})
    unknown = forced(m, "dispute.resolve", {"dispute_id": "d9", "outcome": "upheld", "justification": "x"})
    again = forced(m, "dispute.resolve", {"dispute_id": "d1", "outcome": "rejected", "justification": "changed our mind"})
    return m, [(unknown, "R-10.9"), (again, "R-10.9")]


def r_11_2() -> tuple[MiniLedger, list]:
    m = three_orgs()
    digest = m.adopt(1)
    m.open(1, digest, ["alpha", "beta", "gamma"])
    m.close(1, "2026-02-01")
    undecided = forced(m, "round.open", A.round_open(2, digest, "2026-02-02", "2026-02-28", ["alpha", "beta", "gamma"], "2026-12-31"))
    return m, [(undecided, "R-11.2")]


def r_11_9() -> tuple[MiniLedger, list]:
    m = three_orgs()
    m.open(1, m.adopt(1), ["alpha", "beta", "gamma"])
    early = forced(m, "round.decide", {"round": 1, "ranking": "0" * 64, "target": None, "justification": None})
    m.close(1, "2026-02-01")
    m.decide(1)
    twice = forced(m, "round.decide", A.decision_body(m.state, 1) | {"justification": "once more"})
    return m, [(early, "R-11.9"), (twice, "R-11.9")]


def r_11_17() -> tuple[MiniLedger, list]:
    m = three_orgs()
    digest = m.adopt(1)
    body = A.round_open(1, digest, "2026-01-01", "2026-01-31", ["alpha", "beta"], "2026-12-31")
    silent = forced(m, "round.open", body)
    unregistered = forced(m, "round.open", body | {"left_out": {"gamma": "fled the country", "zeta": "unknown"}})
    eligible = forced(m, "round.open", body | {"left_out": {"gamma": "fled the country", "beta": "both"}})
    blank = forced(m, "round.open", body | {"left_out": {"gamma": "   "}})
    m.open(1, digest, ["alpha", "beta"], left_out={"gamma": "fled the country"})  # the valid one
    return m, [(silent, "R-11.17"), (unregistered, "R-11.17"), (eligible, "R-11.17"), (blank, "R-11.17")]


CASES: dict[str, Callable[[], tuple[MiniLedger, list]]] = {
    "R-10.1": r_10_1,
    "R-10.2": r_10_2,
    "R-10.3": r_10_3,
    "R-10.5": r_10_5,
    "R-10.6": r_10_6,
    "R-10.8": r_10_8,
    "R-10.9": r_10_9,
    "R-10.10": r_10_10,
    "R-10.12": r_10_12,
    "R-11.6": r_11_6,
    "R-11.2": r_11_2,
    "R-11.7": r_11_7,
    "R-11.9": r_11_9,
    "R-11.11": r_11_11,
    "R-11.12": r_11_12,
    "R-11.12 (no target)": r_11_12_no_target,
    "R-11.17": r_11_17,
}


@pytest.mark.parametrize("case", list(CASES))
def test_scoring_rule_on_its_entry(case: str):
    m, expected = CASES[case]()
    assert expected, "a case must expect at least one violation"
    found = [(v.seq, v.rule) for v in m.verify().violations]
    assert found == expected


def test_offending_entries_have_no_effect():
    """An entry with a violation changes nothing (SPEC 7): a second registration keeps the
    first name, a refused merger leaves the organization eligible, refused rules are not
    adopted, a refused dismantling leaves the target active."""
    m, _ = r_10_1()
    assert m.state.orgs["alpha"].name == "ALPHA"
    m, _ = r_10_3()
    assert m.state.orgs["alpha"].merged_into is None and m.state.orgs["beta"].merged_into == "gamma"
    m, _ = r_10_12()
    assert len(m.state.rules_versions) == 1
    m, _ = r_11_12()
    assert m.state.rounds[1].status == "target_dismantled"
    m = one_round()
    m.add("target.dismantled", dismantled(1, "beta"), force=True)
    assert m.state.rounds[1].status == "target_active"


# -- core rules that no other in-process test reached ----------------------------------------


def first_entry(statement: Statement, signers: list[str]) -> list[tuple[int, str, str]]:
    """Seal ``statement`` as entry 0 with the MiniLedger's keys; its (seq, rule, message)s."""
    keys = {label: key(label) for label in [*PANEL, "r1", "r2", "op"]}
    entry = seal_entry(0, GENESIS_PREV, statement, tuple(statement.sign(keys[s]) for s in signers), keys["op"])
    return [(v.seq, v.rule, v.message) for v in new_verifier().feed(entry.raw)]


def test_genesis_carrying_a_ledger_id_is_r_7_7():
    """R-7.7: entry 0 is a ledger.genesis *without* ``ledger``; with one it is refused."""
    honest = Statement.from_obj(json.loads(MiniLedger().raws[0])["statement"])
    bound = Statement.build(honest.type, honest.body, honest.time, hashlib.sha256(b"another ledger").hexdigest())
    signers = [*PANEL, "r1", "r2", "op"]
    assert first_entry(honest, signers) == []
    assert [(seq, rule) for seq, rule, _ in first_entry(bound, signers)] == [(0, "R-7.7")]


def test_a_first_entry_that_is_not_a_genesis_is_r_7_7():
    """R-7.7: a non-genesis at 0 is named as such (not only as 'no valid genesis')."""
    m = MiniLedger()
    org = A.statement("org.register", A.org_register("alpha", "ALPHA"), m.tick(), m.ledger_id)
    [(seq, rule, message)] = first_entry(org, ["r1"])
    assert (seq, rule) == (0, "R-7.7") and "first entry must be ledger.genesis, found org.register" in message
