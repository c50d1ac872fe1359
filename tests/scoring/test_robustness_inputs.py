"""Robustness over what really is uncertain (SPEC.md 12.10, issue 16): the estimates, the
stand-out ratio and minimum score, min_sources and the allocation of unattributed incidents,
one at a time and jointly, every scenario scored by the replay engine."""

from __future__ import annotations

import dataclasses
import json
import random
from fractions import Fraction
from pathlib import Path

import pytest

from ledger.app.snapshot import load
from ledger.scoring import authoring as A
from ledger.scoring.replay import replay
from ledger.scoring.robustness import (
    ATTRIBUTION, COUNTS, POINTS, STEPS, Analysis, analyse, factor, sample_inputs,
)
from ledger.scoring.rules import display
from ledger.scoring.types import KINDS, ROLES
from people_fixtures import build_demo, leaves, run
from scoring_fixtures import TWO_SOURCES, MiniLedger, src


def _places(m: MiniLedger, tmp_path: Path) -> dict[int, str]:
    """The places as the CLI reads them: from a bundle of the ledger's raw entries."""
    bundle = tmp_path / "ledger.jsonl"
    bundle.write_bytes(b"".join(raw + b"\n" for raw in m.raws))
    snapshot = load(bundle, places=True)
    snapshot.close()
    return snapshot.places


def _raw(document, org: str) -> Fraction:
    return next(Fraction(row["raw_exact"]) for row in document["ranking"] if row["org"] == org)


@pytest.fixture
def places_ledger(tmp_path):
    """alpha: 2 killings in MX-GRO and 1 in MX-SIN; beta: 1 in MX-GRO; gamma: 1 in MX-CHH;
    unattributed: u-1 (3 killed, MX-GRO), u-2 (1, country MX), u-3 (1, MX-YUC, nobody
    active there), u-4 (1, MX-GRO, one source only). Default rules: a killing of an
    ordinary citizen weighs 3, official finding and high confidence multiply by 1."""
    m = MiniLedger()
    m.orgs("alpha", "beta", "gamma")
    digest = m.adopt(1)
    m.open(1, digest, ["alpha", "beta", "gamma"])
    m.incident("a-1", "2026-01-10", "alpha")
    m.incident("a-2", "2026-01-11", "alpha")
    m.incident("a-3", "2026-01-12", "alpha", state="MX-SIN")
    m.incident("b-1", "2026-01-12", "beta")
    m.incident("g-1", "2026-01-13", "gamma", state="MX-CHH")
    m.incident("u-1", "2026-01-14", None, killed=3)
    country = A.incident("u-2", "2026-01-15", "killing", victims=[A.victim("ordinary_citizen", 1)], sources=TWO_SOURCES)
    country["place"] = {"country": "MX", "precision": "country"}
    m.add("incident.record", country)
    m.incident("u-3", "2026-01-16", None, state="MX-YUC")
    m.incident("u-4", "2026-01-17", None, sources=[src("la-jornada")])
    m.close(1, "2026-02-01")
    return m, _places(m, tmp_path)


def test_unattributed_allocated_by_place_in_proportion_to_counted_incidents(places_ledger):
    m, places = places_ledger
    a = Analysis(m.state, 1, places)
    # u-4 is a candidate (whatever its sources); u-3 stays unattributed: nobody is active in MX-YUC
    assert a.allocation.candidates == 4
    assert dict(a.allocation.shares) == {
        "u-1": (("alpha", 2, 3), ("beta", 1, 3)),  # MX-GRO: alpha's a-1, a-2; beta's b-1
        "u-2": (("alpha", 3, 5), ("beta", 1, 5), ("gamma", 1, 5)),  # the country: every state of MX
        "u-4": (("alpha", 2, 3), ("beta", 1, 3)),
    }
    nominal = m.replay(1).document
    assert a.score(a.base) == nominal  # every input as committed: the round's own ranking document
    assert (_raw(nominal, "alpha"), _raw(nominal, "beta"), _raw(nominal, "gamma")) == (9, 3, 3)
    allocated = a.score(dataclasses.replace(a.base, allocated=True))
    # alpha 9 + 9*2/3 + 3*3/5; beta 3 + 9*1/3 + 3*1/5; gamma 3 + 3*1/5 (u-4 has too few sources)
    assert [_raw(allocated, o) for o in ("alpha", "beta", "gamma")] == [Fraction(84, 5), Fraction(33, 5), Fraction(18, 5)]
    loose = a.score(dataclasses.replace(a.base, allocated=True, min_sources=1))  # the varied min_sources applies to them
    assert [_raw(loose, o) for o in ("alpha", "beta")] == [Fraction(94, 5), Fraction(38, 5)]
    # an allocation is an inference: corroborated_only counts none of it
    corroborated = dataclasses.replace(a.base, attribution="corroborated_only")
    assert a.score(dataclasses.replace(corroborated, allocated=True)) == a.score(corroborated)


def test_allocated_scenario_is_reported_and_changes_the_selection(places_ledger):
    m, places = places_ledger
    report = analyse(m.state, 1, places=places, samples=3, seed=1)
    scenario = next(s for s in report["scenarios"] if s["input"] == "unattributed")
    assert scenario["value"] == "allocated" and scenario["label"].startswith("3 of 4 unattributed")
    assert scenario["ratio_exact"] == str(Fraction(84, 33))  # alpha 84/5 over beta 33/5
    assert report["perturbation"]["unattributed"]["incidents"] == 4 and report["perturbation"]["unattributed"]["allocated"] == 3
    # the rules have no normalization: no estimate scenario, no estimate draw
    assert not any(s["input"] in ("estimate", "estimates") for s in report["scenarios"])
    assert report["perturbation"]["estimates"]["orgs"] == []


@pytest.fixture
def estimates_ledger(tmp_path):
    """alpha 3 killings (raw 9), beta 2 (raw 6); score per 100 of revenue with a floor of 10;
    revenue alpha low/best/high 100/200/400, beta 50/100/200: beta stands out (6 vs 4.5)."""
    m = MiniLedger()
    m.orgs("alpha", "beta")
    for org, (low, best, high) in (("alpha", ("100", "200", "400")), ("beta", ("50", "100", "200"))):
        m.add("estimate.record", {"org_id": org, "metric": "revenue_usd", "period_start": "2025-01-01", "period_end": "2025-12-31",
                                  "low": low, "best": best, "high": high, "sources": [src("observatorio")]})
    digest = m.adopt(1, normalization={"metric": "revenue_usd", "point": "best", "floor": "10", "unit": "100"},
                     stand_out={"ratio": "1.25", "min_score": "2"})
    m.open(1, digest, ["alpha", "beta"])
    for i in range(3):
        m.incident(f"a-{i}", "2026-01-10", "alpha")
    for i in range(2):
        m.incident(f"b-{i}", "2026-01-10", "beta")
    m.close(1, "2026-02-01")
    return m, _places(m, tmp_path)


def test_each_estimate_at_its_own_low_and_high(estimates_ledger):
    m, places = estimates_ledger
    nominal = m.replay(1).document["selection"]
    assert (nominal["target"], nominal["ratio_exact"]) == ("beta", "4/3")
    report = analyse(m.state, 1, places=places, samples=4, seed=2)
    by_key = {(s["input"], s["org"], s["value"]): s for s in report["scenarios"]}
    alpha_low = by_key[("estimate", "alpha", "low")]  # alpha 9*100/100 = 9 against beta 6
    assert (alpha_low["target"], alpha_low["ratio_exact"], alpha_low["changes_selection"]) == ("alpha", "3/2", True)
    assert alpha_low["estimate"] == {"seq": 3, "value": "100"}  # the estimate.record used, and its low
    beta_high = by_key[("estimate", "beta", "high")]  # beta 6*100/200 = 3 against alpha 4.5
    assert (beta_high["target"], beta_high["ratio_exact"]) == ("alpha", "3/2")
    assert by_key[("estimates", None, "low")]["ratio_exact"] == "4/3"  # every one at its low: 12 vs 9
    assert by_key[("estimates", None, "best")]["changes_selection"] is False
    assert [s["value"] for s in report["scenarios"] if s["input"] == "estimate"] == ["low", "high", "low", "high"]
    assert report["perturbation"]["estimates"] == {"metric": "revenue_usd", "point": "best", "levels": list(POINTS),
                                                   "orgs": ["alpha", "beta"]}


def test_ratio_min_score_and_min_sources_scenarios(estimates_ledger):
    m, places = estimates_ledger
    report = analyse(m.state, 1, places=places, samples=2, ratio_spread="0.1", min_score_spread="0.5")
    values = {(s["input"], s["value"]): s for s in report["scenarios"]}
    assert values[("ratio", "1.125")]["required_ratio"] == "1.125" and values[("ratio", "1.375")]["target"] is None  # 4/3 < 1.375
    assert values[("ratio", "1.375")]["outcome"] == "no_standout"
    assert values[("min_score", "1")]["min_score"] == "1" and values[("min_score", "3")]["target"] == "beta"
    assert {s["value"] for s in report["scenarios"] if s["input"] == "min_sources"} == {"1", "3"}
    # every incident has two publishers: with min_sources 3 nothing counts, the top score 0 is below the minimum
    assert values[("min_sources", "3")]["outcome"] == "below_minimum"
    assert report["perturbation"]["ratio"] == {"committed": "1.25", "spread": "0.1", "range": ["1.125", "1.375"]}
    # a ratio spread reaching below 1 stops at 1 (R-10.12: a ratio is at least 1)
    wide = analyse(m.state, 1, places=places, samples=1, ratio_spread="0.5")
    assert [s["value"] for s in wide["scenarios"] if s["input"] == "ratio"] == ["1", "1.875"]
    # a numeric value equal to the committed one is left out (here: zero spreads)
    zero = analyse(m.state, 1, places=places, samples=1, ratio_spread="0", min_score_spread="0")
    assert not any(s["input"] in ("ratio", "min_score") for s in zero["scenarios"])
    assert zero["perturbation"]["ratio"]["range"] == ["1.25", "1.25"]


def test_draw_order_is_the_one_spec_states(estimates_ledger):
    """SPEC.md 12.10: weights, count, treatment, one level per estimated organization, ratio,
    minimum score, min_sources, allocation; integers from one random.Random(seed)."""
    m, places = estimates_ledger
    a = Analysis(m.state, 1, places)
    cells = [(k, r) for k in KINDS for r in ROLES if a.committed.weight[(k, r)] != 0]
    spread, ratio_spread, min_spread = Fraction(1, 4), Fraction(1, 10), Fraction(1, 4)
    for seed in range(5):
        drawn = sample_inputs(random.Random(seed), a, cells, spread, ratio_spread, min_spread)
        rng = random.Random(seed)
        factors = {cell: factor(spread, rng.randrange(2001)) for cell in cells}
        expected = (COUNTS[rng.randrange(3)], ATTRIBUTION[rng.randrange(3)],
                    {"alpha": POINTS[rng.randrange(3)], "beta": POINTS[rng.randrange(3)]},
                    max(1, Fraction(5, 4) * factor(ratio_spread, rng.randrange(2001))),
                    2 * factor(min_spread, rng.randrange(2001)), max(1, 2 + (-1, 0, 1)[rng.randrange(3)]), rng.randrange(2) == 1)
        got = (drawn.count, drawn.attribution, dict(drawn.estimates), drawn.ratio, drawn.min_score, drawn.min_sources, drawn.allocated)
        assert got == expected
        assert {cell: Fraction(n, drawn.scale) for cell, n in drawn.factors.items()} == factors
    assert STEPS == 1000


def test_same_seed_same_report_and_no_floats(estimates_ledger):
    m, places = estimates_ledger
    first = analyse(m.state, 1, places=places, samples=30, seed=9)
    assert first == analyse(m.state, 1, places=places, samples=30, seed=9)
    assert first != analyse(m.state, 1, places=places, samples=30, seed=10)
    assert not any(isinstance(v, float) for v in leaves(first))


# -- the demo: the case of issue 16 -------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return build_demo(tmp_path_factory.mktemp("robust-inputs") / "demo")


def test_demo_round_3_reports_the_revenue_estimate_scenarios(demo, tmp_path):
    report = json.loads(run("robustness", demo, "--round", 3, "--samples", 40, "--json", check=True).stdout)
    assert report["method"] == "violence-scoring-ledger/robustness/v2"
    assert report["nominal"]["target"] is None and report["nominal"]["outcome"] == "no_standout"
    estimated = report["perturbation"]["estimates"]["orgs"]
    assert report["perturbation"]["estimates"]["metric"] == "revenue_usd" and "los-tejones" in estimated
    pairs = [(s["org"], s["value"]) for s in report["scenarios"] if s["input"] == "estimate"]
    assert pairs == [(org, level) for org in estimated for level in ("low", "high")]
    # at its own recorded low revenue estimate, los-tejones would stand out with a ratio of 1.97
    low = next(s for s in report["scenarios"] if s["input"] == "estimate" and s["org"] == "los-tejones" and s["value"] == "low")
    assert (low["outcome"], low["target"], low["changes_selection"]) == ("stands_out", "los-tejones", True)
    assert display(Fraction(low["ratio_exact"]), 2) == "1.97"
    assert "los-tejones at its low" in report["verdict"]
    text = run("robustness", demo, "--round", 3, "--samples", 20, check=True).stdout
    assert "los-tejones at its low" in text and low["ratio"] in text
    page = tmp_path / "round-3.html"
    run("report", demo, "--round", 3, "--out", page, "--samples", 5, check=True)
    html = page.read_text()
    assert 'id="robustness-scenarios"' in html and "los-tejones at its low" in html


def test_bad_spreads(demo):
    for option, value in (("--ratio-spread", "x"), ("--min-score-spread", "-0.1"), ("--ratio-spread", "1.5")):
        result = run("robustness", demo, "--round", 3, "--samples", 2, option, value)
        assert result.returncode == 2 and "spread" in result.stderr and "Traceback" not in result.stderr, (option, value, result.stderr)


def test_features_ignored_and_splinters_clean_are_scenarios_of_rules_that_use_them(tmp_path):
    """What rests on a recorder's word alone (features, split_from) is tested one at a time
    (SPEC.md 12.10): scored by the replay engine with the rules without that member."""
    from scoring_fixtures import features_and_splinters, one_round

    m = features_and_splinters(normalized=False)
    report = analyse(m.state, 2, places=_places(m, tmp_path), samples=2, seed=0)
    values = {(s["input"], s["value"]): s for s in report["scenarios"]}
    committed = m.state.rules[m.state.rounds[2].rules]
    for key, rules in ((("features", "ignored"), dataclasses.replace(committed, feature=None)),
                       (("splinters", "clean"), dataclasses.replace(committed, splinters="clean"))):
        probe = dataclasses.replace(m.state, rules={**m.state.rules, "probe": rules})
        expected = replay(probe, 2, rules_digest="probe").document["selection"]
        assert (values[key]["top"], values[key]["ratio_exact"]) == (expected["top"], expected["ratio_exact"])
    nominal = m.replay(2).document["selection"]
    assert values[("features", "ignored")]["ratio_exact"] != nominal["ratio_exact"]  # the features weigh something here
    plain = one_round()  # rules without either member: neither scenario
    plain_report = analyse(plain.state, 1, places=_places(plain, tmp_path), samples=2, seed=0)
    assert not any(s["input"] in ("features", "splinters") for s in plain_report["scenarios"])
