"""The outcomes document (SPEC.md 12.12) and the step-7 baseline entry (10.8, R-10.16):
the worked example against SPEC.md, which version of an incident counts, the windows around
a target, determinism and the digest, and raw-signed attacks on ``outcome.baseline``."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from ledger.core import canonical
from ledger.core.validation import validate
from ledger.errors import InputError
from ledger.scoring import authoring as A
from ledger.scoring.outcomes import outcomes, period_of
from ledger.scoring.process import state_of

from outcomes_fixtures import baseline, example
from scoring_fixtures import MiniLedger, src

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "urn:violence-scoring-ledger:v1:outcomes-document"


@pytest.fixture(scope="module")
def doc() -> dict:
    return outcomes(example().state).document


def spec_example() -> dict:
    """The JSON block of SPEC.md 12.12's worked example."""
    text = (ROOT / "SPEC.md").read_text(encoding="utf-8")
    section = text[text.index("### 12.12 "):text.index("## 13. ")]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))


def test_the_worked_example_of_the_spec_is_what_the_code_computes(doc):
    expected = spec_example()
    assert doc["rounds"][0] == expected["rounds"][0]
    assert doc["baseline"]["per_day"] == expected["baseline"]["per_day"]
    assert doc["baseline"]["standing"] == expected["baseline"]["standing"]
    assert doc["periods"][1] == expected["periods"][1]
    assert doc["counts"] == expected["counts"]


def test_the_example_windows_have_the_lengths_the_spec_defines(doc):
    windows = doc["rounds"][0]["windows"]
    # Named 2026-02-05, dismantled 2026-02-25: active 20 days, before the same 20 days,
    # after from the dismantling to the data's end (2026-03-01).
    assert (windows["active"]["start"], windows["active"]["end"], windows["active"]["days"]) == ("2026-02-05", "2026-02-24", 20)
    assert (windows["before"]["start"], windows["before"]["end"], windows["before"]["days"]) == ("2026-01-16", "2026-02-04", 20)
    assert (windows["after"]["start"], windows["after"]["end"], windows["after"]["days"]) == ("2026-02-25", "2026-03-01", 5)
    assert windows["before"]["target"]["incidents"] == 1  # a-2 (a-1 is dated before the window)
    assert windows["before"]["others"]["incidents"] == 1  # b-1
    assert windows["before"]["unattributed"] == {"incidents": 1, "victims": 2, "roles": {"ordinary_citizen": 2}}


def test_amended_incidents_count_their_last_version_and_retracted_ones_never(doc):
    february = doc["periods"][1]
    assert february["period"] == "2026-02"
    assert february["all"]["by_kind"]["extortion"] == {"incidents": 1, "victims": {"ordinary_citizen": 2}}  # b-3 as amended
    assert february["all"]["by_kind"]["killing"]["incidents"] == 2  # a-3, b-2; a-4 is retracted
    assert doc["counts"]["retracted"] == 1


def test_as_of_an_earlier_entry_counts_the_versions_then_in_force():
    m = example()
    state = m.state
    retract_seq = next(s for s, raw in enumerate(m.raws) if b'"incident.retract"' in raw)
    before = outcomes(state, through=retract_seq - 1).document
    assert before["counts"]["retracted"] == 0
    assert before["periods"][1]["all"]["by_kind"]["killing"]["incidents"] == 3  # a-4 not yet retracted
    amend_seq = next(s for s, raw in enumerate(m.raws) if b'"incident.amend"' in raw)
    first_version = outcomes(state, through=amend_seq - 1).document["periods"][1]["all"]["by_kind"]["extortion"]
    assert first_version == {"incidents": 1, "victims": {"ordinary_citizen": 1}}
    assert outcomes(state, through=amend_seq - 1).document["baseline"] is None  # the baseline came later
    assert before["rounds"][0]["dismantled"] is None and before["rounds"][0]["windows"]["after"] is None


def test_an_upheld_dispute_voids_the_attribution_and_an_identity_merges_the_counts():
    m = MiniLedger()
    m.orgs("alpha", "beta", "gamma")
    m.incident("x-1", "2026-01-10", ["alpha", "beta"])
    m.incident("x-2", "2026-01-11", "gamma")
    m.add("attribution.dispute", {"dispute_id": "d-1", "incident_id": "x-1", "org": "beta", "basis": "false_flag",
                                  "raised_by": "organization", "grounds": "forged banner", "sources": []})
    contested = outcomes(m.state).document
    assert [o["total"]["incidents"] for o in contested["organizations"]] == [1, 1, 1]  # an open dispute still counts
    m.add("dispute.resolve", {"dispute_id": "d-1", "outcome": "upheld", "justification": "ballistics"})
    m.add("org.identify", {"org_id": "gamma", "same_as": "alpha", "justification": "one command structure"})
    doc = outcomes(m.state).document
    totals = {o["org"]: o["total"]["incidents"] for o in doc["organizations"]}
    assert totals == {"alpha": 2, "beta": 0, "gamma": 0}
    assert doc["counts"] == {"incidents": 2, "attributed": 2, "unattributed": 0, "retracted": 0}


def test_iso_weeks_and_months():
    assert period_of("2026-12-31", "week") == ("2026-W53", "2026-12-28", "2027-01-03")
    assert period_of("2027-01-03", "week")[0] == "2026-W53"
    assert period_of("2024-02-10", "month") == ("2024-02", "2024-02-01", "2024-02-29")
    weekly = outcomes(example().state, period="week").document
    keys = [p["period"] for p in weekly["periods"]]
    assert keys[0] == "2026-W02" and keys[-1] == "2026-W09" and len(keys) == 8  # empty weeks listed too


def test_a_reference_period_baseline_is_what_the_ledger_records_in_it_per_day():
    m = example()
    m.set_date("2026-03-10")
    m.add("outcome.baseline", baseline(level=None, reference={"start": "2026-01-01", "end": "2026-01-31"}))
    base = outcomes(m.state).document["baseline"]
    assert base["reference_count"] == 6  # killings in January: a-1 3, b-1 1, u-1 2
    assert base["per_day"] == {"value": "0.194", "exact": "6/31"}
    assert base["seq"] == len(m.raws) - 1  # the last baseline replaces the earlier one


def test_the_document_is_deterministic_canonical_and_valid(doc):
    first = outcomes(example().state)
    second = outcomes(state_of(example().raws))  # a fresh verification of the same bytes
    assert first.raw == second.raw
    assert first.digest == hashlib.sha256(canonical.encode(json.loads(first.raw))).hexdigest()
    validate(SCHEMA, json.loads(first.raw), "$")
    validate(SCHEMA, outcomes(example().state, period="week").document, "$")
    assert b"." not in re.sub(rb'"[^"]*"', b"", first.raw)  # no binary number anywhere: only integers and strings


def test_bad_requests_are_input_errors():
    state = example().state
    with pytest.raises(InputError, match="expected an entry of the ledger"):
        outcomes(state, through=state.size)
    with pytest.raises(InputError, match="period"):
        outcomes(state, period="year")


# -- outcome.baseline: raw entries signed with real keys (R-10.16, R-10.13, 10.1) ---------------


def attempt(body: dict, signers: list[str] | None = None, day: str = "2026-03-10") -> tuple[set[str], MiniLedger]:
    m = MiniLedger()
    m.set_date(day)
    seq = len(m.raws)
    m.add("outcome.baseline", body, signers=signers, force=True)
    rules = {v.rule for v in m.verify().violations if v.seq == seq}
    return rules, m


@pytest.mark.parametrize("body, rule", [
    (baseline(justification=" \u00a0\t"), "R-10.16"),
    (baseline(level={"value": "0.0", "per": "month"}), "R-10.16"),
    (baseline(level=None, reference={"start": "2016-02-01", "end": "2016-01-31"}), "R-10.16"),
    (baseline(level=None, reference={"start": "2016-02-30", "end": "2016-03-31"}), "R-10.16"),
    (baseline(level=None, reference={"start": "2026-01-01", "end": "2026-03-11"}), "R-10.16"),  # ends after the statement's day
    (baseline(sources=[src("inegi", "2016-02-30")]), "R-10.13"),
])
def test_a_bad_baseline_is_refused_and_has_no_effect(body, rule):
    rules, m = attempt(body)
    assert rules == {rule}
    assert m.state.baselines == []


def test_a_valid_baseline_is_admitted_with_the_panel_threshold():
    rules, m = attempt(baseline(level=None, reference={"start": "2016-01-01", "end": "2026-03-10"}))
    assert rules == set() and len(m.state.baselines) == 1


def test_a_baseline_signed_by_recorders_only_has_no_effect():
    rules, m = attempt(baseline(), signers=["r1", "r2"])
    assert {"R-7.12", "R-7.13"} <= rules
    assert m.state.baselines == []
    rules, m = attempt(baseline(), signers=["p1", "p2"])  # below the panel threshold of 3
    assert "R-7.13" in rules and m.state.baselines == []


def test_a_baseline_with_both_a_reference_and_a_level_fails_its_schema():
    rules, m = attempt(baseline(reference={"start": "2016-01-01", "end": "2016-12-31"}))
    assert rules == {"R-7.2"} and m.state.baselines == []


def test_the_first_and_last_calendar_days_do_not_break_the_periods_or_windows():
    m = MiniLedger()
    m.orgs("alpha")
    m.incident("early", "0001-01-01", "alpha")
    m.add("outcome.baseline", baseline())
    standing = outcomes(m.state, period="week").document["baseline"]["standing"]
    assert (standing["start"], standing["end"]) == ("0001-01-01", "0001-01-01")  # 90 days earlier is before the calendar
    m.add("incident.retract", {"incident_id": "early", "reason": "a typo"})
    m.incident("late", "9999-12-31", "alpha", date_precision="week")  # a week that would end in year 10000
    m.incident("before", "9999-12-20", "alpha")
    weekly = outcomes(m.state, period="week").document
    assert [(p["period"], p["start"], p["end"]) for p in weekly["periods"]] == [
        ("9999-W51", "9999-12-20", "9999-12-26"), ("9999-W52", "9999-12-27", "9999-12-31")]


def test_a_replaced_baseline_is_a_notice_and_listed_in_the_document():
    """R-10.18: a panel that moves the goal instead of reaching it is seen (SPEC.md 10.8)."""
    m = example()
    first = len(m.raws) - 1
    m.set_date("2026-03-12")
    m.add("outcome.baseline", baseline(level={"value": "20", "per": "week"}))
    second = len(m.raws) - 1
    report = m.verify()
    assert report.violations == []
    notices = [n for n in report.notices if n.rule == "R-10.18"]
    assert [n.seq for n in notices] == [second]
    assert f"entry {first} said victims of killing, level 7 per week; now victims of killing, level 20 per week" in notices[0].message
    doc = outcomes(m.state).document
    assert doc["baseline"]["seq"] == second and doc["baseline"]["replaces"] == [first]
    validate(SCHEMA, doc, "$")
    before = outcomes(m.state, through=first).document  # as of the first: nothing replaced yet
    assert before["baseline"]["seq"] == first and before["baseline"]["replaces"] == []


def test_the_first_baseline_is_no_notice():
    report = example().verify()
    assert [n for n in report.notices if n.rule == "R-10.18"] == []
