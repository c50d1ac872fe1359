"""``ledger outcomes`` and ``ledger new-baseline``: the real CLI in a subprocess, on the demo
(SPEC.md 10.8, 12.12)."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from ledger.core.validation import validate

from people_fixtures import build_demo, copy_demo, ledger_hash, run

SCHEMA = "urn:violence-scoring-ledger:v1:outcomes-document"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    directory = tmp_path_factory.mktemp("outcomes-demo")
    build_demo(directory)
    return directory


def test_outcomes_on_the_demo_show_each_target_before_and_after_and_the_baseline(demo):
    result = run("outcomes", demo / "ledger.db", check=True)
    text = result.stdout
    for number, target in ((1, "halcones-del-norte"), (2, "sierra-alta")):
        block = text[text.index(f"Round {number}: target {target}"):]
        for label in ("before naming", "while active", "after dismantling"):
            assert re.search(rf"^  {label} +\d{{4}}-\d\d-\d\d \.\. \d{{4}}-\d\d-\d\d +\d+ +\d+/\d+", block, re.M), label
    assert "Round 3" not in text  # no target: nothing to follow
    assert re.search(r"^  the industry, .* ratio \d+\.\d{3}: ABOVE the baseline$", text, re.M)
    doc = json.loads(run("outcomes", demo / "ledger.db", "--json", check=True).stdout)
    before = doc["rounds"][0]["windows"]["before"]["target"]["victims"]
    active = doc["rounds"][0]["windows"]["active"]["target"]["victims"]
    assert before > active > 0 and doc["rounds"][0]["windows"]["after"]["target"]["victims"] == 0
    assert doc["baseline"]["standing"]["at_or_below"] is False


def test_the_json_is_the_canonical_document_twice_the_same_bytes_and_its_digest_is_printed(demo):
    first = run("outcomes", demo / "ledger.db", "--json", check=True).stdout.encode()
    second = run("outcomes", demo / "ledger.db", "--json", check=True).stdout.encode()
    assert first == second and first.endswith(b"\n")
    digest = hashlib.sha256(first[:-1]).hexdigest()
    assert f"Outcomes digest: {digest}" in run("outcomes", demo / "ledger.db", check=True).stdout
    validate(SCHEMA, json.loads(first), "$")
    weekly = json.loads(run("outcomes", demo / "ledger.db", "--period", "week", "--json", check=True).stdout)
    assert all(re.fullmatch(r"\d{4}-W\d\d", p["period"]) for p in weekly["periods"])
    validate(SCHEMA, weekly, "$")


def test_as_of_an_entry_before_the_baseline(demo):
    doc = json.loads(run("outcomes", demo / "ledger.db", "--json", check=True).stdout)
    seq = doc["baseline"]["seq"]
    earlier = run("outcomes", demo / "ledger.db", "--as-of", seq - 1, check=True).stdout
    assert f"Outcomes as of entry {seq - 1}" in earlier and "Baseline: none recorded" in earlier


@pytest.mark.parametrize("args, message", [
    (["--as-of", "99999999"], "expected an entry of the ledger"),
    (["--period", "year"], "--period"),
])
def test_bad_requests_exit_2_with_one_line(demo, args, message):
    result = run("outcomes", demo / "ledger.db", *args)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_new_baseline_signed_by_the_panel_replaces_the_baseline(demo, tmp_path):
    db = copy_demo(demo, tmp_path / "copy")
    keys = tmp_path / "copy" / "keys"
    statement = tmp_path / "b.json"
    run("new-baseline", db, "--kind", "killing", "--kind", "kidnapping", "--reference", "2026-01-01:2026-03-31",
        "--justification", "the first quarter of the ledger", "--at", "2027-03-20T10:00:00Z", "--out", statement, check=True)
    for name in ("panel-1", "panel-3", "panel-6"):
        run("sign", statement, "--key", keys / f"{name}.key", check=True)
    run("append", db, statement, "--operator-key", keys / "operator.key", check=True)
    base = json.loads(run("outcomes", db, "--json", check=True).stdout)["baseline"]
    assert base["reference"] == {"start": "2026-01-01", "end": "2026-03-31"} and base["level"] is None
    assert base["kinds"] == ["killing", "kidnapping"] and base["reference_count"] > 0
    assert len(base["replaces"]) == 1  # the demo's own baseline: the goal moved, visibly
    text = run("outcomes", db, check=True)
    assert f"it replaces the baseline of entry {base['replaces'][0]} (notice R-10.18)" in text.stdout
    assert "[R-10.18]" in text.stdout and "level 45 per month; now victims of killing, kidnapping, reference 2026-01-01..2026-03-31" in text.stdout
    verify = run("verify", db)
    assert verify.returncode == 0 and "[R-10.18]" in verify.stdout


def test_new_baseline_refuses_bad_options_and_writes_nothing(demo, tmp_path):
    db = demo / "ledger.db"
    before = ledger_hash(db)
    out = tmp_path / "b.json"
    both = run("new-baseline", db, "--kind", "killing", "--reference", "2016-01-01:2016-12-31", "--level", "3/day",
               "--justification", "x", "--out", out)
    assert both.returncode == 2 and "exactly one of --reference" in both.stderr and "Traceback" not in both.stderr
    blank = run("new-baseline", db, "--kind", "killing", "--level", "3/day", "--justification", "  ", "--out", out)
    assert blank.returncode == 1 and "R-10.16" in blank.stderr  # the check `ledger append` runs
    assert not out.exists() and ledger_hash(db) == before


def test_every_verification_notice_is_shown(tmp_path):
    from scoring_fixtures import MiniLedger

    m = MiniLedger()
    m.orgs("alpha", "beta", "gamma")
    rules = m.adopt(1)
    m.open(1, rules, ["alpha", "beta"], retrospective="Founding round over January's history",
           left_out={"gamma": "Disbanded in December"})
    m.incident("a-1", "2026-01-10", "alpha", killed=3)
    m.close(1, "2026-02-02")
    m.decide(1, target="beta", justification="alpha's leadership is already in custody")
    bundle = tmp_path / "ledger.jsonl"
    bundle.write_bytes(b"".join(raw + b"\n" for raw in m.raws))
    text = run("outcomes", bundle, check=True)
    for rule in ("R-11.18", "R-11.19", "R-12.4"):
        assert re.search(rf"^NOTE .*\[{rule}\]$", text.stdout, re.M), rule
    as_json = run("outcomes", bundle, "--json", check=True)
    assert json.loads(as_json.stdout)["rounds"][0]["target"] == "beta"  # stdout is the document alone
    assert as_json.stderr.count("NOTE ") == 3
    earlier = run("outcomes", bundle, "--as-of", m.state.rounds[1].open_seq - 1, check=True)
    assert "NOTE" not in earlier.stdout  # notices up to the entry asked for
