"""The ranking document's normative schema and worked example (SPEC.md 12.9, 12.11):
the stored example ledger, its documents' exact bytes and digests, and the schema, all
checked against the code."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest

from ledger.errors import SchemaError
from ledger.scoring.process import state_of
from ledger.scoring.replay import replay
from ledger.core.validation import validate

import ranking_example
from scoring_fixtures import one_round

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ranking-document"
SCHEMA = "urn:violence-scoring-ledger:v1:ranking-document"


def stored_raws() -> list[bytes]:
    data = (EXAMPLE / "ledger.jsonl").read_bytes()
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


def test_the_example_ledger_is_reproducible_and_verifies():
    m = ranking_example.build()
    assert b"".join(raw + b"\n" for raw in m.raws) == (EXAMPLE / "ledger.jsonl").read_bytes()
    result = m.verify()
    assert result.violations == [] and result.notices == []


@pytest.mark.parametrize("number", [1, 2])
def test_the_example_documents_are_the_replay_byte_for_byte(number):
    document = replay(state_of(stored_raws()), number)
    stored = (EXAMPLE / f"round-{number}.json").read_bytes()
    assert document.raw == stored
    digest = hashlib.sha256(stored).hexdigest()
    assert digest == document.digest
    assert f"`{digest}`" in (ROOT / "SPEC.md").read_text(encoding="utf-8")  # SPEC 12.11 quotes it
    validate(SCHEMA, json.loads(stored), "$")


def test_the_example_covers_the_choices_the_digest_depends_on():
    one = json.loads((EXAMPLE / "round-1.json").read_bytes())
    two = json.loads((EXAMPLE / "round-2.json").read_bytes())
    assert one["selection"]["candidates"] == [] and one["selection"]["top"] == ["alpha"]
    assert one["selection"]["ratio"] is not None and two["selection"]["ratio"] is None and two["selection"]["ratio_exact"] is None
    assert one["selection"]["required_ratio"] == "1.50" and one["selection"]["min_score"] == "0.0"  # as written
    cells = one["ranking"][0]["breakdown"]["killing"]
    assert cells["unknown"] == {"exact": "0", "value": "0.00"} and cells["police"] == {"exact": "0", "value": "0.00"}
    assert {e["reason"] for e in one["excluded"]} >= {
        "recorded_before_open", "recorded_after_close", "superseded", "outside_window", "retracted", "too_few_sources",
        "unattributed", "ineligible_org", "dispute_upheld"}
    assert two["places"] == 0 and two["ranking"][1]["incidents"] == [] and two["ranking"][1]["breakdown"] == {}
    beta = one["ranking"][1]
    assert beta["org"] == "beta" and beta["raw_exact"] == "1"  # split c = 2, the contested share counted and discounted


def test_other_documents_match_the_schema():
    m = one_round()
    validate(SCHEMA, m.replay(1).document, "$")


@pytest.mark.parametrize("change", [
    lambda d: d["selection"].update(candidates=None),
    lambda d: d["selection"].update(top="alpha"),
    lambda d: d["selection"].update(ratio=1.5),
    lambda d: d["ranking"][0].update(score="-1.00"),
    lambda d: d["excluded"][0].update(org="alpha"),
    lambda d: d.update(ties=None),
    lambda d: d["ranking"][0]["breakdown"]["killing"].update(rival_member={"exact": "0/1", "value": "0.00"}),
])
def test_the_schema_refuses_other_choices(change):
    document = json.loads((EXAMPLE / "round-1.json").read_bytes())
    bad = copy.deepcopy(document)
    change(bad)
    with pytest.raises(SchemaError):
        validate(SCHEMA, bad, "$")
