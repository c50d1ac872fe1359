"""Aggravating features (R-10.17, SPEC.md 10.3, 10.7, 12.3) and the splinters treatment
(SPEC.md 10.7, 12.1 step 7), with raw entries signed by real keys (MiniLedger)."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from ledger.core.validation import validate
from ledger.scoring import authoring as A
from ledger.scoring.process import round_notices
from ledger.scoring.replay import replay

from scoring_fixtures import TWO_SOURCES, MiniLedger, one_round

SCHEMA = "urn:violence-scoring-ledger:v1:ranking-document"
FEATURE_WEIGHTS = {"public_display": "2", "torture": "1.5"}  # mass_killing missing: weighs 0


def killing(incident_id: str, day: str, orgs: list[str], killed: int = 1, role: str = "ordinary_citizen", **extra):
    return A.incident(incident_id, day, "killing", victims=[A.victim(role, killed)],
                      attributions=[A.attribution(o) for o in orgs], sources=TWO_SOURCES, **extra)


def features_round(rules: dict | None, joint: str = "split") -> MiniLedger:
    """alpha: one killing (weight 3) with public display and torture; beta: a killing of 5
    (mass killing) shared with gamma."""
    m = MiniLedger()
    m.orgs("alpha", "beta", "gamma")
    extra = {} if rules is None else {"features": rules}
    digest = m.adopt(1, joint=joint, **extra)
    m.open(1, digest, ["alpha", "beta", "gamma"])
    m.add("incident.record", killing("f-1", "2026-01-10", ["alpha"], features=["torture", "public_display"]))
    m.add("incident.record", killing("f-2", "2026-01-11", ["beta", "gamma"], killed=5, features=["mass_killing"]))
    m.add("incident.record", killing("f-3", "2026-01-12", ["gamma"]))
    m.close(1, "2026-02-01")
    return m


def rows(document) -> dict[str, dict]:
    return {row["org"]: row for row in document.document["ranking"]}


# -- the features list -----------------------------------------------------------------

@pytest.mark.parametrize("features, kind, killed, message", [
    (["torture", "public_display"], "killing", 1, "code-point order"),
    (["torture", "torture"], "killing", 1, "distinct"),
    (["mass_killing"], "killing", 3, "at least 4 killed"),
    (["mass_killing"], "kidnapping", 9, "kind 'killing'"),
])
def test_a_bad_features_list_is_r_10_16_and_has_no_effect(features, kind, killed, message):
    m = MiniLedger()
    m.orgs("alpha")
    body = A.incident("x-1", "2026-01-10", kind, victims=[A.victim("police", killed)],
                      attributions=[A.attribution("alpha")], sources=TWO_SOURCES)
    body["features"] = features  # written raw: A.incident would sort them
    violations = m.add("incident.record", body, force=True)
    assert [v.rule for v in violations] == ["R-10.17"]
    assert message in violations[0].message and "incident.features" in violations[0].message
    assert m.state.incidents.get("x-1") is None  # a violation has no effect
    assert "R-10.17" in m.verify().rules


def test_an_amendment_is_checked_too_and_a_good_list_is_admitted():
    m = MiniLedger()
    m.orgs("alpha")
    m.add("incident.record", killing("x-1", "2026-01-10", ["alpha"], killed=4, features=["mass_killing", "torture"]))
    assert m.state.incidents["x-1"].current.features == ("mass_killing", "torture")
    amended = killing("x-1", "2026-01-10", ["alpha"], killed=2)
    amended["features"] = ["mass_killing"]  # now only 2 killed
    violations = m.add("incident.amend", {"incident": amended, "reason": "recount"}, force=True)
    assert [v.rule for v in violations] == ["R-10.17"]
    assert len(m.state.incidents["x-1"].versions) == 1


# -- features in the rules (10.7, 12.3) -------------------------------------------------------------

def test_without_a_features_member_features_are_not_scored_and_the_document_is_unchanged_in_shape():
    document = features_round(None).replay(1)
    by_org = rows(document)
    assert by_org["alpha"]["raw_exact"] == "3"  # weight 3 x 1 killed: the features add nothing
    assert all("features" not in row for row in document.document["ranking"])
    assert all("via" not in item for row in document.document["ranking"] for item in row["incidents"])


def test_feature_weights_add_once_per_incident_before_the_attribution_factors():
    m = features_round(FEATURE_WEIGHTS)
    document = m.replay(1)
    by_org = rows(document)
    # alpha: (3 x 1 + public_display 2 + torture 1.5) x 1 x 1 x share 1
    assert by_org["alpha"]["raw_exact"] == "13/2"
    assert by_org["alpha"]["features"] == {"public_display": {"exact": "2", "value": "2.0000"},
                                           "torture": {"exact": "3/2", "value": "1.5000"}}
    assert by_org["alpha"]["breakdown"] == {"killing": {"ordinary_citizen": {"exact": "3", "value": "3.0000"}}}
    # beta: (3 x 5 + mass_killing 0) x share 1/2; its cell is there with 0
    assert by_org["beta"]["raw_exact"] == "15/2"
    assert by_org["beta"]["features"] == {"mass_killing": {"exact": "0", "value": "0.0000"}}
    assert by_org["gamma"]["raw_exact"] == "21/2" and by_org["gamma"]["features"] == {"mass_killing": {"exact": "0", "value": "0.0000"}}
    validate(SCHEMA, json.loads(document.raw), "$")
    # raw = breakdown + features, for every organization
    for row in document.document["ranking"]:
        cells = [c["exact"] for roles in row["breakdown"].values() for c in roles.values()] + [c["exact"] for c in row["features"].values()]
        assert sum(map(Fraction, cells), Fraction(0)) == Fraction(row["raw_exact"])


def test_a_feature_weight_is_multiplied_by_every_attribution_factor():
    m = MiniLedger()
    m.orgs("alpha", "beta")
    digest = m.adopt(1, features={"public_display": "2"})
    m.open(1, digest, ["alpha", "beta"])
    body = killing("p-1", "2026-01-10", [], features=["public_display"])
    body["attributions"] = [A.attribution("alpha", "inference", "medium"), A.attribution("beta")]
    m.add("incident.record", body)
    m.close(1, "2026-02-01")
    alpha = rows(m.replay(1))["alpha"]
    # (3 + 2) x medium 0.6 x inference 0.4 x share 1/2 = 3/5; the feature's part 2 x 0.6 x 0.4 / 2
    assert alpha["raw_exact"] == "3/5" and alpha["features"]["public_display"]["exact"] == "6/25"


def test_a_decision_commits_to_the_feature_weighted_ranking():
    m = features_round(FEATURE_WEIGHTS, joint="full")
    m.decide(1)
    assert m.verify().violations == []
    # the same decision under the rules without features would rank differently: the
    # replay with features is what the verifier compared against
    assert m.state.rounds[1].decision["ranking"] == m.replay(1).digest


# -- splinters (10.7, 12.1 step 7) ----------------------------------------------------------------

def splinter_ledger(splinters: str | None, lineage_after_open: bool = False) -> MiniLedger:
    """Round 1 names alpha (one_round), which is dismantled; alpha-sur split from it; round 2
    on rules v2 (with ``splinters``) counts incidents attributed to alpha, alpha-sur and beta."""
    m = one_round()
    m.add("target.dismantled", {"round": 1, "org": "alpha", "date": "2026-02-02", "summary": "leaders arrested"})
    m.orgs("alpha-sur", "beta-bis")
    if not lineage_after_open:
        m.add("org.lineage", A.org_lineage("alpha-sur", "split_from", "alpha", "2026-02-03"))
    m.add("org.lineage", A.org_lineage("beta-bis", "split_from", "beta", "2026-02-03"))  # beta was never a target
    extra = {} if splinters is None else {"splinters": splinters}
    digest = m.adopt(2, **extra)
    m.set_date("2026-03-01")
    m.open(2, digest, ["alpha-sur", "beta", "beta-bis", "gamma"], start="2026-03-01", end="2026-03-31")
    if lineage_after_open:
        m.add("org.lineage", A.org_lineage("alpha-sur", "split_from", "alpha", "2026-02-03"))
    m.add("incident.record", killing("s-1", "2026-03-05", ["alpha"], killed=2))
    m.add("incident.record", killing("s-2", "2026-03-06", ["alpha", "alpha-sur"]))
    m.add("incident.record", killing("s-3", "2026-03-07", ["beta"], killed=2))
    m.add("incident.record", killing("s-4", "2026-03-08", ["alpha-sur"]))
    m.close(2, "2026-04-01")
    return m


def excluded(document) -> set[tuple[str, str, str | None]]:
    return {(e["incident"], e["reason"], e["org"]) for e in document.document["excluded"]}


@pytest.mark.parametrize("splinters", [None, "clean"])
def test_clean_splinters_start_with_a_clean_record(splinters):
    document = splinter_ledger(splinters).replay(2)
    sur = rows(document)["alpha-sur"]
    assert sur["raw_exact"] == "6"  # s-2 (3) and s-4 (3): its own attributions only
    assert ("s-1", "ineligible_org", "alpha") in excluded(document) and ("s-2", "ineligible_org", "alpha") in excluded(document)
    assert all("via" not in item for item in sur["incidents"])


def test_an_inheriting_splinter_counts_the_dismantled_targets_attributions():
    m = splinter_ledger("inherit")
    document = m.replay(2)
    sur = rows(document)["alpha-sur"]
    # s-1 (3 x 2, inherited), s-2 (attributed to both: counted once, 3), s-4 (3)
    assert sur["raw_exact"] == "12"
    assert [(i["incident"], i["via"]) for i in sur["incidents"]] == [("s-1", "alpha"), ("s-2", "alpha"), ("s-4", None)]
    assert ("s-2", "same_organization", "alpha-sur") in excluded(document)  # alpha's came first
    assert not any(e[1] == "ineligible_org" for e in excluded(document))
    assert all(i["via"] is None for i in rows(document)["beta-bis"]["incidents"] + rows(document)["beta"]["incidents"])
    assert rows(document)["beta-bis"]["raw_exact"] == "0"  # beta was never a target: nothing inherited
    validate(SCHEMA, json.loads(document.raw), "$")
    m.decide(2)
    assert m.verify().violations == []


@pytest.mark.parametrize("splinters", [None, "clean", "inherit"])
def test_every_inheritance_is_a_notice_of_the_round(splinters):
    """R-11.20: one recorder's split_from moves a dismantled target's attributions onto a
    splinter under "inherit"; so each inheritance is a notice every view of the round shows."""
    m = splinter_ledger(splinters)
    lineage = next(seq for seq, raw in enumerate(m.raws) if b'"org.lineage"' in raw and b'"alpha-sur"' in raw)
    open_seq = m.state.rounds[2].open_seq
    notices = [n for n in m.verify().notices if n.rule == "R-11.20"]
    if splinters != "inherit":
        assert notices == []
        return
    assert [n.seq for n in notices] == [open_seq]  # one: beta-bis's parent was never a target
    assert f"dismantled target alpha for alpha-sur, which split from it by the org.lineage entry {lineage}" in notices[0].message
    assert [rule for rule, _ in round_notices(m.state.rounds[2], m.state)] == ["R-11.20"]


def test_a_lineage_recorded_after_the_round_opened_is_not_inherited():
    document = splinter_ledger("inherit", lineage_after_open=True).replay(2)
    assert rows(document)["alpha-sur"]["raw_exact"] == "6"
    assert ("s-1", "ineligible_org", "alpha") in excluded(document)


def test_several_splinters_each_inherit_as_joint_attributions():
    m = one_round()
    m.add("target.dismantled", {"round": 1, "org": "alpha", "date": "2026-02-02", "summary": "leaders arrested"})
    m.orgs("alpha-sur", "alpha-norte")
    for child in ("alpha-sur", "alpha-norte"):
        m.add("org.lineage", A.org_lineage(child, "split_from", "alpha", "2026-02-03"))
    digest = m.adopt(2, splinters="inherit")  # joint = split
    m.set_date("2026-03-01")
    m.open(2, digest, ["alpha-norte", "alpha-sur", "beta", "gamma"], start="2026-03-01", end="2026-03-31")
    m.add("incident.record", killing("s-1", "2026-03-05", ["alpha"], killed=2))
    m.close(2, "2026-04-01")
    by_org = rows(m.replay(2))
    assert by_org["alpha-sur"]["raw_exact"] == by_org["alpha-norte"]["raw_exact"] == "3"  # 6 shared by 2


def test_absent_members_keep_every_old_document_byte_for_byte():
    # the stored worked example (SPEC 12.11) has neither member; test_ranking_document.py
    # checks its bytes. Here: an explicit "clean" and absent give the same document but for
    # the rules' own digest and seq.
    absent, clean = splinter_ledger(None).replay(2).document, splinter_ledger("clean").replay(2).document
    assert absent["rules"]["digest"] != clean["rules"]["digest"]
    assert {k: v for k, v in absent.items() if k != "rules"} == {k: v for k, v in clean.items() if k != "rules"}


# -- closed vocabularies: what a verifier does not know fails closed (SPEC.md 16) -------------------

def test_an_unknown_feature_or_splinters_value_is_a_schema_violation():
    m = MiniLedger()
    m.orgs("alpha")
    body = killing("x-1", "2026-01-10", ["alpha"])
    body["features"] = ["arson"]
    assert [v.rule for v in m.add("incident.record", body, force=True)] == ["R-7.2"]
    rules = A.rules_body(1, "v1", features={"arson": "1"})
    assert [v.rule for v in m.add("rules.adopt", rules, force=True)] == ["R-7.2"]
    rules = A.rules_body(1, "v1", splinters="forgive")
    assert [v.rule for v in m.add("rules.adopt", rules, force=True)] == ["R-7.2"]
    assert m.state.rules == {} and m.state.incidents.get("x-1") is None


def test_robustness_rescaling_of_the_weights_keeps_feature_weights():
    # robustness multiplies every weight by factor/scale over a larger weight_scale (SPEC 12.10);
    # the feature weights share that scale (12.3), so unit factors must leave the ranking as it is
    import dataclasses

    from ledger.scoring.robustness import weighted_rules

    m = features_round(FEATURE_WEIGHTS)
    state = m.state
    digest = state.rounds[1].rules
    probe = dataclasses.replace(state, rules=dict(state.rules))
    probe.rules[digest] = weighted_rules(state.rules[digest], {}, 1000)
    assert replay(probe, 1).raw == m.replay(1).raw
