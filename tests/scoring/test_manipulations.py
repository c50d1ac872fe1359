"""Each scoring manipulation of the brief, constructed with real signatures and caught."""

from __future__ import annotations

import hashlib

import pytest

from ledger.scoring import authoring as A
from ledger.scoring.replay import replay

from scoring_fixtures import TWO_SOURCES, MiniLedger, one_round


def opened(**rules) -> tuple[MiniLedger, str]:
    m = MiniLedger()
    m.orgs("alpha", "beta", "gamma")
    digest = m.adopt(1, **rules)
    m.open(1, digest, ["alpha", "beta", "gamma"])
    for i in range(5):
        m.incident(f"a-{i}", "2026-01-10", "alpha")
    for i in range(3):
        m.incident(f"b-{i}", "2026-01-11", "beta")
    m.incident("g-1", "2026-01-12", "gamma")
    return m, digest  # alpha 15, beta 9, gamma 3: alpha stands out


def test_clean_round_verifies_and_replays():
    m = one_round()
    result = m.verify()
    assert result.violations == [] and result.notices == []
    assert m.state.rounds[1].decision["ranking"] == m.replay(1).digest


def test_weights_changed_after_open_detected():
    m, _ = opened()
    # New weights adopted after the round opened; the decision is scored with them.
    weights = {k: dict(v) for k, v in A.DEFAULT_WEIGHTS.items()}
    weights["killing"]["ordinary_citizen"] = "10"
    m.adopt(2, weights=weights)
    m.close(1, "2026-02-01")
    digest_v2 = m.state.rules_versions[-1]
    cheat = replay(m.state, 1, rules_digest=digest_v2)
    body = {"round": 1, "ranking": cheat.digest, "target": cheat.selection["target"], "justification": None}
    m.add("round.decide", body, force=True)
    assert "R-12.2" in m.verify().rules


def test_round_scored_with_rules_it_did_not_commit_to_is_r_12_1_when_unknown():
    m, _ = opened()
    m.close(1, "2026-02-01")
    body = {"round": 1, "ranking": hashlib.sha256(b"some other ranking").hexdigest(), "target": "alpha", "justification": None}
    m.add("round.decide", body, force=True)
    assert m.verify().rules == {"R-12.1"}


def test_backfilled_incident_never_counts():
    m, _ = opened()
    m.close(1, "2026-02-01")
    honest = m.replay(1)
    # Recorded after the close, dated inside the window: it must not count.
    m.incident("late-1", "2026-01-15", "beta", killed=40)
    late = m.replay(1)
    assert late.document["ranking"] == honest.document["ranking"]
    assert {"incident": "late-1", "org": None, "reason": "recorded_after_close", "seq": m.state.incidents["late-1"].versions[0][0]} in late.document["excluded"]
    # A decision that counts the backfill (computed on a ledger where it came before the close) fails.
    fork = MiniLedger()
    fork.orgs("alpha", "beta", "gamma")
    fork_digest = fork.adopt(1)
    fork.open(1, fork_digest, ["alpha", "beta", "gamma"])
    for i in range(5):
        fork.incident(f"a-{i}", "2026-01-10", "alpha")
    for i in range(3):
        fork.incident(f"b-{i}", "2026-01-11", "beta")
    fork.incident("g-1", "2026-01-12", "gamma")
    fork.incident("late-1", "2026-01-15", "beta", killed=40)
    fork.close(1, "2026-02-01")
    cheat = fork.replay(1)
    assert cheat.selection["target"] == "beta" and honest.selection["target"] == "alpha"
    m.add("round.decide", {"round": 1, "ranking": cheat.digest, "target": "beta", "justification": None}, force=True)
    assert m.verify().rules == {"R-12.1", "R-12.3"}


def test_decision_naming_wrong_org_without_justification():
    m, _ = opened()
    m.close(1, "2026-02-01")
    m.decide(1, target="beta", force=True)
    result = m.verify()
    assert result.rules == {"R-12.3"}


def test_justified_deviation_is_a_notice_not_silent():
    m, _ = opened()
    m.close(1, "2026-02-01")
    m.decide(1, target="beta", justification="alpha's leadership is already in custody; beta's escalation is imminent")
    result = m.verify()
    assert result.violations == []
    assert [n.rule for n in result.notices] == ["R-12.4"]
    assert m.state.rounds[1].decision_status == "deviation_justified"


def test_ineligible_target():
    m, _ = opened()
    m.orgs("delta")
    m.close(1, "2026-02-01")
    m.decide(1, target="delta", justification="because", force=True)
    assert "R-11.10" in m.verify().rules


def test_decision_signed_below_threshold():
    m, _ = opened()
    m.close(1, "2026-02-01")
    m.decide(1, signers=["p1", "p2"], force=True)
    assert "R-7.13" in m.verify().rules


def test_decision_signed_by_recorders_only():
    m, _ = opened()
    m.close(1, "2026-02-01")
    m.decide(1, signers=["r1", "r2"], force=True)
    assert {"R-7.12", "R-7.13"} <= m.verify().rules


def test_round_opened_while_target_active():
    m = one_round()
    digest = m.state.latest_rules.digest
    m.open(2, digest, ["alpha", "beta", "gamma"], start="2026-02-02", end="2026-02-28", force=True)
    assert m.verify().rules == {"R-11.2"}


def test_round_opens_after_dismantled():
    m = one_round()
    m.add("target.progress", {"round": 1, "org": "alpha", "date": "2027-01-05", "summary": "arrests", "sources": []})
    m.add("target.dismantled", {"round": 1, "org": "alpha", "date": "2027-01-10", "summary": "done"})
    digest = m.state.latest_rules.digest
    m.open(2, digest, ["beta", "gamma"], start="2026-02-02", end="2026-02-28")
    # A dismantled organization is never eligible again.
    m2 = one_round()
    m2.add("target.dismantled", {"round": 1, "org": "alpha", "date": "2027-01-10", "summary": "done"})
    m2.open(2, m2.state.latest_rules.digest, ["alpha", "beta", "gamma"], start="2026-02-02", end="2026-02-28", force=True)
    assert m.verify().violations == [] and m2.verify().rules == {"R-11.5"}


def test_rounds_out_of_order():
    m = MiniLedger()
    m.orgs("alpha", "beta")
    digest = m.adopt(1)
    m.open(2, digest, ["alpha", "beta"], force=True)
    assert m.verify().rules == {"R-11.1"}


def test_round_commits_to_unknown_or_superseded_rules():
    m = MiniLedger()
    m.orgs("alpha", "beta")
    v1 = m.adopt(1)
    m.adopt(2, joint="full")
    m.open(1, v1, ["alpha", "beta"], force=True)
    m.open(1, hashlib.sha256(b"rules adopted later").hexdigest(), ["alpha", "beta"], force=True)
    assert [v.rule for v in m.verify().violations] == ["R-11.4", "R-11.3"]


def test_rules_version_must_increase_by_one():
    m = MiniLedger()
    m.adopt(1)
    m.add("rules.adopt", A.rules_body(3, "skip"), force=True)
    assert m.verify().rules == {"R-10.11"}


def test_decide_before_close_and_close_before_window_end():
    m, _ = opened()
    m.add("round.decide", {"round": 1, "ranking": "0" * 64, "target": "alpha", "justification": None}, force=True)
    m.set_date("2026-01-20")
    m.add("round.close", {"round": 1}, force=True)
    assert [v.rule for v in m.verify().violations] == ["R-11.9", "R-11.8"]


def test_incident_rules():
    m = MiniLedger()
    m.orgs("alpha")
    m.incident("x-1", "2026-01-10", "alpha")
    m.incident("x-1", "2026-01-11", "alpha", force=True)  # duplicate id
    m.incident("x-2", "2026-01-10", "ghost", force=True)  # unregistered org
    m.add("incident.retract", {"incident_id": "nope", "reason": "?"}, force=True)
    body = A.incident("nope", "2026-01-10", "killing", victims=[A.victim("police", 1)], sources=TWO_SOURCES)
    m.add("incident.amend", {"incident": body, "reason": "?"}, force=True)
    body = A.incident("x-3", "2026-02-30", "killing", victims=[A.victim("police", 3, 2, 4)], sources=TWO_SOURCES)
    m.add("incident.record", body, force=True)
    rules = [v.rule for v in m.verify().violations]
    assert rules == ["R-10.4", "R-10.7", "R-10.5", "R-10.5", "R-10.13", "R-10.6"]


def test_dispute_rules_and_contested_handling():
    m, _ = opened()
    m.add("attribution.dispute", {"dispute_id": "d1", "incident_id": "a-0", "org": "alpha", "basis": "false_flag",
                                  "raised_by": "organization", "grounds": "forged", "sources": []})
    m.add("attribution.dispute", {"dispute_id": "d2", "incident_id": "a-0", "org": "beta", "basis": "false_flag",
                                  "raised_by": "organization", "grounds": "x", "sources": []}, force=True)
    m.add("dispute.resolve", {"dispute_id": "d9", "outcome": "upheld", "justification": "x"}, force=True)
    assert [v.rule for v in m.verify().violations] == ["R-10.8", "R-10.9"]
    doc = m.replay(1).document
    alpha = next(r for r in doc["ranking"] if r["org"] == "alpha")
    contribution = next(i for i in alpha["incidents"] if i["incident"] == "a-0")
    assert contribution["exact"] == "3/2"  # contested: discounted by half under the default rules
    m.add("dispute.resolve", {"dispute_id": "d1", "outcome": "upheld", "justification": "ballistics"})
    doc = m.replay(1).document
    assert {"incident": "a-0", "org": "alpha", "reason": "dispute_upheld", "seq": 6} in doc["excluded"]


@pytest.mark.parametrize("mode,expected", [("exclude", "contested"), ("discount", None)])
def test_contested_modes(mode, expected):
    m, _ = opened(contested={"mode": mode, "factor": "0.5"})
    m.add("attribution.dispute", {"dispute_id": "d1", "incident_id": "b-0", "org": "beta", "basis": "misidentification",
                                  "raised_by": "journalist", "grounds": "unclear", "sources": []})
    reasons = {e["reason"] for e in m.replay(1).document["excluded"]}
    assert (expected in reasons) if expected else ("contested" not in reasons)
