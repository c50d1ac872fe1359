"""Issue 12, attacks 1-4: the selection cannot be tailored. Each attack is written as RAW
entries signed with real keys (``MiniLedger.add(..., force=True)`` appends what the
verifier refuses) and is caught as a violation naming the entry and rule, or shows as a
notice (SPEC.md 10.2, 11.2, 12.1)."""

from __future__ import annotations

import pytest

from ledger.scoring import authoring as A
from ledger.scoring.replay import replay
from ledger.scoring.text import WHITESPACE, is_blank, name_key

from scoring_fixtures import TWO_SOURCES, MiniLedger, one_round

ORGS = ["alpha", "beta", "gamma"]


def rules_of(m: MiniLedger, rule: str) -> list[int]:
    """Entries with a violation of ``rule``."""
    return [v.seq for v in m.verify().violations if v.rule == rule]


# -- attack 1: rules tailored after the data ----------------------------------------------


def tailored() -> MiniLedger:
    """The incidents of January are recorded first; only then are rules adopted (weighting
    the victims of the org to be framed) and a round opened over the past window."""
    m = MiniLedger()
    m.orgs(*ORGS)
    m.set_date("2026-02-01")
    for i in range(5):
        m.incident(f"a-{i}", "2026-01-10", "alpha")
    for i in range(3):
        m.incident(f"b-{i}", "2026-01-11", "beta", role="journalist")
    return m


def test_round_over_data_already_recorded_is_refused():
    m = tailored()
    weights = {k: dict(v) for k, v in A.DEFAULT_WEIGHTS.items()}
    weights["killing"]["journalist"] = "9"
    rules = m.adopt(1, weights=weights)
    violations = m.open(1, rules, ORGS, start="2026-01-01", end="2026-01-31", force=True)
    # the window lies before the opening: it even starts before the rules existed.
    assert [(v.seq, v.rule) for v in violations] == [(len(m.raws) - 1, "R-11.13"), (len(m.raws) - 1, "R-11.15")]


def test_incidents_recorded_before_the_open_never_count():
    """Even with a window that starts on the opening day, an incident recorded before the
    round.open (and dated into the window, or amended into it) is excluded as
    recorded_before_open, and a decision that counted it fails R-12.1."""
    m = MiniLedger()
    m.orgs(*ORGS)
    m.set_date("2026-01-05")
    m.incident("early-b", "2026-01-06", "beta", killed=20)  # forward-dated, recorded before the open
    m.incident("early-a", "2025-12-20", "alpha")  # dated before the window: amended into it later
    rules = m.adopt(1)
    m.open(1, rules, ORGS, start="2026-01-05", end="2026-01-31")
    for i in range(3):
        m.incident(f"a-{i}", "2026-01-10", "alpha")
    m.add("incident.amend", {"incident": A.incident("early-a", "2026-01-07", "killing", victims=[A.victim("ordinary_citizen", 30)],
                                                     attributions=[A.attribution("beta")], sources=TWO_SOURCES), "reason": "date corrected"})
    m.close(1, "2026-02-01")
    document = m.replay(1).document
    excluded = {(e["incident"], e["reason"]) for e in document["excluded"]}
    assert ("early-b", "recorded_before_open") in excluded and ("early-a", "recorded_before_open") in excluded
    assert document["selection"]["target"] == "alpha"
    assert document["counts"]["incidents_counted"] == 3
    # The same ledger replayed as if the round were retrospective would pick beta: a decision
    # built that way commits to another digest and fails.
    m.state.rounds[1].body["retrospective"] = {"justification": "pretend"}
    cheat = replay(m.state, 1)
    del m.state.rounds[1].body["retrospective"]
    assert cheat.selection["target"] == "beta"
    m.add("round.decide", {"round": 1, "ranking": cheat.digest, "target": "beta", "justification": None}, force=True)
    assert {v.rule for v in m.verify().violations} == {"R-12.1", "R-12.3"}


def test_declared_retrospective_round_counts_history_and_is_a_notice():
    m = tailored()
    rules = m.adopt(1)
    m.open(1, rules, ORGS, start="2026-01-01", end="2026-01-31",
           retrospective="Founding round: the programme starts from the incidents of January, recorded before the panel existed")
    m.close(1, "2026-02-02")
    m.decide(1)
    result = m.verify()
    assert result.violations == []
    assert [n.rule for n in result.notices] == ["R-11.18"]
    assert "RETROSPECTIVE" in result.notices[0].message and "Founding round" in result.notices[0].message
    assert m.replay(1).document["counts"]["incidents_counted"] == 8


@pytest.mark.parametrize("justification", ["", " \t\n", "\u3000\u00a0\u2028"])
def test_retrospective_needs_a_non_blank_justification(justification):
    m = tailored()
    rules = m.adopt(1)
    violations = m.open(1, rules, ORGS, start="2026-01-01", end="2026-01-31", retrospective=justification, force=True)
    assert [v.rule for v in violations] == ["R-11.13"]


def test_window_length_notice_and_overlap_are_bounded_by_the_rules():
    m = MiniLedger()
    m.orgs(*ORGS)
    rules = m.adopt(1, schedule={"max_window_days": 42, "min_notice_days": 7})
    # 2026-01-01 adoption: a window from 2026-01-05 (4 days' notice) of 43 days.
    violations = m.open(1, rules, ORGS, start="2026-01-05", end="2026-02-16", force=True)
    assert sorted(v.rule for v in violations) == ["R-11.14", "R-11.15"]
    m.open(1, rules, ORGS, start="2026-01-08", end="2026-02-18")
    m.close(1, "2026-02-19")
    m.decide(1)
    # Default schedule (rules without one): at most 91 days.
    v2 = m.adopt(2)
    assert m.open(2, v2, ORGS, start="2026-02-20", end="2026-05-22", force=True)[0].rule == "R-11.14"
    # The next window may not overlap the previous one, retrospective or not.
    assert [v.rule for v in m.open(2, v2, ORGS, start="2026-02-18", end="2026-03-01", force=True,
                                   retrospective="a look back")] == ["R-11.16"]
    assert m.open(2, v2, ORGS, start="2026-02-19", end="2026-03-01") == []


# -- attack 2: one recorder removes an organization from targeting ------------------------


def test_recorder_only_merger_is_a_violation():
    m = MiniLedger()
    m.orgs(*ORGS)
    body = A.org_lineage("alpha", "merged_into", "beta", "2026-01-01")
    violations = m.add("org.lineage", body, signers=["r1"], force=True)
    assert {"R-7.12", "R-7.13"} <= {v.rule for v in violations}
    assert m.state.orgs["alpha"].merged_into is None  # no effect: alpha stays eligible
    # The panel's threshold may merge; a split stays the recorders'.
    assert m.add("org.lineage", body, signers=["p1", "p2", "p3"]) == []
    assert m.add("org.lineage", A.org_lineage("gamma", "split_from", "beta", "2026-01-01"), signers=["r2"]) == []
    assert m.state.eligible_now("alpha") == "merged into beta"


def test_merger_into_an_organization_that_itself_merged_is_r_10_3():
    m = MiniLedger()
    m.orgs(*ORGS)
    m.add("org.lineage", A.org_lineage("beta", "merged_into", "gamma", "2026-01-01"), signers=["p1", "p2", "p3"])
    violations = m.add("org.lineage", A.org_lineage("alpha", "merged_into", "beta", "2026-01-02"), signers=["p1", "p2", "p3"], force=True)
    assert [v.rule for v in violations] == ["R-10.3"]


# -- attack 4: a quiet exclusion --------------------------------------------------------


def test_leaving_out_an_active_organization_needs_a_justification_and_is_a_notice():
    m = MiniLedger()
    m.orgs(*ORGS)
    rules = m.adopt(1)
    assert [(v.rule, "'alpha'" in v.message) for v in m.open(1, rules, ["beta", "gamma"], force=True)] == [("R-11.17", True)]
    assert [v.rule for v in m.open(1, rules, ["beta", "gamma"], left_out={"alpha": " "}, force=True)] == ["R-11.17"]
    assert [v.rule for v in m.open(1, rules, ["alpha", "beta", "gamma"], left_out={"alpha": "x"}, force=True)] == ["R-11.17"]
    m.open(1, rules, ["beta", "gamma"], left_out={"alpha": "Under a negotiated ceasefire verified by the UN mission"})
    result = m.verify()
    assert {v.rule for v in result.violations} == {"R-11.17"}  # the three refused attempts only
    assert [n.rule for n in result.notices] == ["R-11.19"]
    assert "alpha: Under a negotiated ceasefire" in result.notices[0].message


# -- attack 3: a twin registration ----------------------------------------------------------


@pytest.mark.parametrize("twin_name", ["ALPHA", "  alpha ", "ａｌｐｈａ", "alpha\u00a0", "Alpha"])
def test_twin_registration_is_refused(twin_name):
    m = MiniLedger()
    m.orgs(*ORGS)  # names ALPHA, BETA, GAMMA
    violations = m.add("org.register", A.org_register("alpha-2", twin_name, ["A2"]), force=True)
    assert [v.rule for v in violations] == ["R-10.14"]


def test_alias_clash_on_register_and_update():
    m = MiniLedger()
    m.add("org.register", A.org_register("halcones", "Halcones del Norte", ["Los Halcones", "HN"]))
    m.add("org.register", A.org_register("sierra", "Cartel de la Sierra", ["CSA"]))
    assert [v.rule for v in m.add("org.register", A.org_register("hn2", "Norteños", ["los\u3000HALCONES"]), force=True)] == ["R-10.14"]
    assert [v.rule for v in m.add("org.update", A.org_register("sierra", "Cartel de la Sierra", ["CSA", "hn"]), force=True)] == ["R-10.14"]
    # An organization may keep its own names when it updates them.
    assert m.add("org.update", A.org_register("halcones", "HALCONES DEL NORTE", ["HN"])) == []
    # ...and a name it gave up is free again.
    assert m.add("org.register", A.org_register("halcones-2", "Los Halcones", [])) == []


def test_twin_split_incidents_count_as_one_after_org_identify():
    """A twin registered under another name takes half of alpha's incidents: round 1 is
    decided that way. The panel declares the twin alpha: round 1's replay is unchanged;
    from round 2 on, the twin's attributions count for alpha and the twin is not eligible."""
    m = MiniLedger()
    m.orgs(*ORGS)
    m.add("org.register", A.org_register("alfa-bis", "Los del Norte", []))
    rules = m.adopt(1)
    m.open(1, rules, [*ORGS, "alfa-bis"])
    for i in range(6):
        m.incident(f"a-{i}", "2026-01-10", "alpha" if i % 2 else "alfa-bis")
    for i in range(4):
        m.incident(f"b-{i}", "2026-01-11", "beta")
    m.close(1, "2026-02-01")
    assert m.replay(1).selection["target"] == "beta"  # beta 4 incidents; alpha's 6 split 3 + 3
    m.decide(1)
    before = m.replay(1).digest
    # Recorder cannot identify; the panel can.
    identify = {"org_id": "alfa-bis", "same_as": "alpha", "justification": "Same command structure (prosecutor's report)"}
    assert {"R-7.12", "R-7.13"} <= {v.rule for v in m.add("org.identify", identify, signers=["r1"], force=True)}
    assert m.add("org.identify", identify) == []
    assert m.replay(1).digest == before  # published replays never change
    assert m.state.eligible_now("alfa-bis") is not None
    m.add("target.dismantled", {"round": 1, "org": "beta", "date": "2026-02-01", "summary": "done"})
    eligible = ["alpha", "gamma"]
    assert [v.rule for v in m.open(2, rules, [*eligible, "alfa-bis"], start="2026-02-02", end="2026-02-28", force=True)] == ["R-11.5"]
    m.open(2, rules, eligible, start="2026-02-02", end="2026-02-28")
    for i in range(6):
        m.incident(f"a2-{i}", "2026-02-10", "alpha" if i % 2 else "alfa-bis")
    m.incident("both", "2026-02-11", ["alpha", "alfa-bis"])  # one organization: counted once
    m.close(2, "2026-03-01")
    document = m.replay(2).document
    alpha = next(r for r in document["ranking"] if r["org"] == "alpha")
    assert len(alpha["incidents"]) == 7 and document["selection"]["target"] == "alpha"
    assert {"incident": "both", "org": "alfa-bis", "reason": "same_organization",
            "seq": m.state.incidents["both"].versions[0][0]} in document["excluded"]
    m.decide(2)
    assert {v.rule for v in m.verify().violations} == {"R-7.12", "R-7.13", "R-11.5"}  # the refused attempts only


def test_org_identify_rules():
    m = MiniLedger()
    m.orgs(*ORGS, "delta")
    bad = [
        ({"org_id": "alpha", "same_as": "alpha", "justification": "x"}, "R-10.15"),
        ({"org_id": "alpha", "same_as": "zeta", "justification": "x"}, "R-10.2"),
        ({"org_id": "alpha", "same_as": "beta", "justification": "\u2003"}, "R-10.15"),
    ]
    for body, rule in bad:
        assert rule in {v.rule for v in m.add("org.identify", body, force=True)}
    m.add("org.identify", {"org_id": "alpha", "same_as": "beta", "justification": "one group"})
    for body in ({"org_id": "alpha", "same_as": "gamma", "justification": "x"},  # already identified
                 {"org_id": "gamma", "same_as": "alpha", "justification": "x"},  # alpha is itself an alias
                 {"org_id": "beta", "same_as": "delta", "justification": "x"}):  # beta has aliases
        assert [v.rule for v in m.add("org.identify", body, force=True)] == ["R-10.15"]


# -- SPEC precision: blank text and names, by code point -----------------------------------


def test_blank_is_the_unicode_white_space_set():
    assert len(WHITESPACE) == 25
    assert is_blank("\u0009\u0085\u1680\u205f") and is_blank(None) and is_blank("")
    assert not is_blank("\u001c\u001d\u001e\u001f")  # str.isspace() says True; not White_Space
    assert not is_blank("\u200b")  # zero width space is not White_Space


def test_blank_justification_of_a_deviation_uses_that_set():
    m = one_round()
    m2 = MiniLedger()
    m2.orgs(*ORGS)
    rules = m2.adopt(1)
    m2.open(1, rules, ORGS)
    for i in range(5):
        m2.incident(f"a-{i}", "2026-01-10", "alpha")
    m2.close(1, "2026-02-01")
    # U+001C..U+001F are not blank: the deviation is admitted (a notice), not.
    assert m2.decide(1, target="beta", justification="\u001c") == []
    assert [n.rule for n in m2.verify().notices] == ["R-12.4"]
    assert m.verify().violations == []


def test_name_key_is_nfkc_casefold_and_collapsed_white_space():
    assert name_key(" Los\u00a0HALCONES\u3000 del\tNorte ") == "los halcones del norte"
    assert name_key("ＣＳＡ") == name_key("csa") == "csa"
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("ﬁ") == "fi"


@pytest.mark.parametrize("type_, body", [
    ("target.progress", {"round": 1, "org": "alpha", "date": "2026-02-30", "summary": "x", "sources": []}),
    ("target.dismantled", {"round": 1, "org": "alpha", "date": "2026-13-01", "summary": "x"}),
])
def test_round_event_dates_are_calendar_dates(type_, body):
    m = one_round()
    assert "R-10.13" in {v.rule for v in m.add(type_, body, force=True)}


def test_dispute_and_estimate_source_dates_are_calendar_dates():
    m = one_round()
    bad = A.source("reforma", "national", "2026-02-29", "0" * 64)
    dispute = {"dispute_id": "d-1", "incident_id": "a-1", "org": "alpha", "basis": "other", "raised_by": "journalist",
               "grounds": "x", "sources": [bad]}
    estimate = {"org_id": "alpha", "metric": "revenue_usd", "period_start": "2025-01-01", "period_end": "2025-12-31",
                "low": "1", "best": "2", "high": "3", "sources": [bad]}
    assert [v.rule for v in m.add("attribution.dispute", dispute, force=True)] == ["R-10.13"]
    assert [v.rule for v in m.add("estimate.record", estimate, force=True)] == ["R-10.13"]


# -- the notices, in every view of the round (the real CLI in a subprocess) ----------------


def test_retrospective_and_left_out_are_notices_in_verify_rounds_replay_and_report(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    ledger = str(Path(sys.executable).parent / "ledger")
    m = tailored()
    rules = m.adopt(1)
    m.open(1, rules, ["alpha", "beta"], start="2026-01-01", end="2026-01-31",
           retrospective="Founding round over January's history", left_out={"gamma": "Disbanded in December; no activity reported"})
    m.close(1, "2026-02-02")
    m.decide(1)
    bundle = tmp_path / "ledger.jsonl"
    bundle.write_bytes(b"".join(raw + b"\n" for raw in m.raws))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([ledger, *args], capture_output=True, text=True, timeout=300)

    verified = run("verify", str(bundle))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "RETROSPECTIVE" in verified.stdout and "[R-11.18]" in verified.stdout and "[R-11.19]" in verified.stdout
    notices = json.loads(run("verify", str(bundle), "--json").stdout)["notices"]
    assert [n["rule"] for n in notices] == ["R-11.18", "R-11.19"]
    rounds_text = run("rounds", str(bundle)).stdout
    assert "NOTE round 1 is RETROSPECTIVE" in rounds_text and "gamma: Disbanded in December" in rounds_text
    rounds_json = json.loads(run("rounds", str(bundle), "--json").stdout)
    assert rounds_json[0]["retrospective"] == "Founding round over January's history"
    assert [n["rule"] for n in rounds_json[0]["notices"]] == ["R-11.18", "R-11.19"]
    replayed = run("replay", str(bundle), "--round", "1")
    assert replayed.returncode == 0 and "NOTE round 1 is RETROSPECTIVE" in replayed.stdout
    page = tmp_path / "round-1.html"
    assert run("report", str(bundle), "--round", "1", "--out", str(page), "--samples", "0").returncode == 0
    html = page.read_text()
    first_screen = html[:html.index('id="fig-target"')]  # before the key figures
    assert 'id="notice-R-11.18"' in first_screen and "RETROSPECTIVE" in first_screen and 'id="notice-R-11.19"' in first_screen


def test_a_witness_cosignature_dates_the_opening_in_rounds_and_the_report(tmp_path):
    """A checkpoint covering the round.open, cosigned by a policy witness: its timestamp is
    shown by `ledger rounds` and the report as independent evidence of when the rules were
    committed; a checkpoint before the opening shows nothing."""
    import json

    from ledger.core import note
    from ledger.storage.treestore import log_vkey

    from transparency_fixtures import ORIGIN, build, key, run

    witness = key("wa")
    vkey = note.cosigner_key_string("wa.example", witness.public.raw)
    b = build(tmp_path / "w.db", 1, witnesses={"keys": [vkey], "threshold": 1})
    b.keys["wa"] = witness
    panel = ["panel-1", "panel-2"]
    with b.open() as store:
        ledger_id = store.verifier().context.ledger_id

        def append(type_, body, signers):
            statement = A.statement(type_, body, b.at(), ledger_id)
            store.append(statement, [statement.sign(b.keys[s]) for s in signers], b.keys["operator"])
            return statement

        for org in ORGS:
            append("org.register", A.org_register(org, org.upper()), ["recorder"])
        rules = append("rules.adopt", A.rules_body(1, "v1"), panel).digest.hex()
    keyfile = b.write_key("wa", tmp_path / "keys")

    def cosign(checkpoint, at: str) -> str:
        out = run("witness", "cosign", str(checkpoint), "--key", str(keyfile), "--name", "wa.example", "--state", str(tmp_path / "ws"),
                  "--log-key", log_vkey(ORIGIN, b.keys["operator"].public.raw), "--at", at, "--ledger", str(b.path), check=True)
        sig = tmp_path / f"sig-{at}"
        sig.write_bytes(out.stdout)
        return str(sig)

    early = tmp_path / "early.txt"
    early.write_bytes(run("checkpoint", str(b.path), check=True).stdout)  # before the opening
    run("checkpoint", str(b.path), "--cosignature", cosign(early, "1769990000"), check=True)
    with b.open() as store:
        statement = A.statement("round.open", A.round_open(1, rules, "2026-02-02", "2026-03-01", ORGS, "2026-03-09"), b.at(), ledger_id)
        store.append(statement, [statement.sign(b.keys[s]) for s in panel], b.keys["operator"])
    assert json.loads(run("rounds", str(b.path), "--json", check=True).stdout)[0]["witnessed"] is None
    late = tmp_path / "late.txt"
    late.write_bytes(run("checkpoint", str(b.path), check=True).stdout)
    run("checkpoint", str(b.path), "--cosignature", cosign(late, "1769990400"), check=True)
    seen = json.loads(run("rounds", str(b.path), "--json", check=True).stdout)[0]["witnessed"]
    assert seen["timestamp"] == 1769990400 and seen["time"] == "2026-02-02T00:00:00Z" and seen["witness"].startswith("wa.example+")
    assert "witnessed by wa.example+" in run("rounds", str(b.path), check=True).stdout_text
    page = tmp_path / "r.html"
    run("report", str(b.path), "--round", "1", "--out", str(page), "--samples", "0", check=True)
    assert 'id="witnessed"' in page.read_text() and "2026-02-02T00:00:00Z" in page.read_text()
