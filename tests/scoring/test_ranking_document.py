"""The ranking document's normative schema and worked examples (SPEC.md 12.9, 12.11 and
12.11b): the stored example ledgers, their documents' exact bytes and digests, the schema
and 12.11b's arithmetic by hand, all checked against the code."""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import re
from fractions import Fraction
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
FEATURES = ROOT / "examples" / "ranking-document-features"  # SPEC 12.11b
SCHEMA = "urn:violence-scoring-ledger:v1:ranking-document"
SPEC = (ROOT / "SPEC.md").read_text(encoding="utf-8")
SECTION_12_11B = SPEC[SPEC.index("*Features and splinters (12.11b"):SPEC.index("### 12.10 ")]


def stored_raws(directory: Path = EXAMPLE) -> list[bytes]:
    data = (directory / "ledger.jsonl").read_bytes()
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


@pytest.mark.parametrize("directory, build, notices", [
    (EXAMPLE, ranking_example.build, []),
    (FEATURES, ranking_example.build_features, [(15, "R-11.20")]),  # alpha-norte inherits alpha (SPEC 11.2)
])
def test_the_example_ledger_is_reproducible_and_verifies(directory, build, notices):
    m = build()
    assert b"".join(raw + b"\n" for raw in m.raws) == (directory / "ledger.jsonl").read_bytes()
    result = m.verify()
    assert result.violations == [] and [(n.seq, n.rule) for n in result.notices] == notices


@pytest.mark.parametrize("directory, number, section", [
    (EXAMPLE, 1, SPEC), (EXAMPLE, 2, SPEC), (FEATURES, 1, SECTION_12_11B), (FEATURES, 2, SECTION_12_11B)])
def test_the_example_documents_are_the_replay_byte_for_byte(directory, number, section):
    document = replay(state_of(stored_raws(directory)), number)
    stored = (directory / f"round-{number}.json").read_bytes()
    assert document.raw == stored
    digest = hashlib.sha256(stored).hexdigest()
    assert digest == document.digest
    assert f"| {number} | `{digest}` |" in section  # SPEC 12.11 / 12.11b quote it
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


def test_the_features_example_covers_the_members_only_its_rules_have():
    one = json.loads((FEATURES / "round-1.json").read_bytes())
    two = json.loads((FEATURES / "round-2.json").read_bytes())
    assert one["selection"]["target"] == "alpha"  # the target whose attributions round 2 inherits
    assert all("features" not in row and all("via" not in i for i in row["incidents"]) for row in one["ranking"])
    by_org = {row["org"]: row for row in two["ranking"]}
    norte, beta, gamma = by_org["alpha-norte"], by_org["beta"], by_org["gamma"]
    # x-1: two features, split between an inherited attribution (via alpha) and beta's own
    assert [(i["incident"], i["via"]) for i in norte["incidents"]] == [("x-1", "alpha"), ("x-3", None)]
    assert [(i["incident"], i["via"]) for i in beta["incidents"]] == [("x-1", None)]
    assert set(norte["features"]) == set(beta["features"]) == {"public_display", "torture"} and gamma["features"] == {}
    # normalization: the floor for an estimate below it and for none; beta's own estimate
    assert norte["normalization"] == {"estimate": "30000000", "divisor": "50000000"}
    assert gamma["normalization"] == {"estimate": None, "divisor": "50000000"}
    assert beta["normalization"] == {"estimate": "200000000", "divisor": "200000000"}
    for row in two["ranking"]:  # raw = breakdown cells + feature cells (12.3)
        cells = [c["exact"] for roles in row["breakdown"].values() for c in roles.values()]
        cells += [c["exact"] for c in row["features"].values()]
        assert sum(map(Fraction, cells), Fraction(0)) == Fraction(row["raw_exact"])


HAND_LINE = re.compile(r'^    (?P<label>[a-z][^:]*): (?P<expr>.+) = (?P<exact>\d+(?:/\d+)?) → "(?P<display>[^"]*)"$', re.M)


def _exactly(node: ast.expr, text: str) -> Fraction:
    """The value of an arithmetic expression as written in SPEC, on exact rationals."""
    if isinstance(node, ast.Constant):
        return Fraction(ast.get_source_segment(text, node))  # "0.6" -> 3/5, never a binary float
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult, ast.Div)):
        left, right = _exactly(node.left, text), _exactly(node.right, text)
        if isinstance(node.op, ast.Add):
            return left + right
        return left * right if isinstance(node.op, ast.Mult) else left / right
    raise AssertionError(f"SPEC 12.11b: unexpected {ast.dump(node)} in {text!r}")


def _in_document(document: dict, label: str) -> dict[str, str]:
    """The exact and displayed value a line of SPEC 12.11b names."""
    what, *rest = label.split()
    if what == "ratio":
        return {"exact": document["selection"]["ratio_exact"], "value": document["selection"]["ratio"]}
    row = next(r for r in document["ranking"] if r["org"] == rest[-1])
    if what == "contribution":
        item = next(i for i in row["incidents"] if i["incident"] == rest[0])
        return {"exact": item["exact"], "value": item["contribution"]}
    if what == "cell":
        group, name = rest[0].split(".")
        return (row["features"] if group == "features" else row["breakdown"][group])[name]
    return {"exact": row[f"{what}_exact"], "value": row[what]}  # raw, score


def test_the_hand_arithmetic_of_spec_12_11b_is_the_documents():
    document = json.loads((FEATURES / "round-2.json").read_bytes())
    lines = list(HAND_LINE.finditer(SECTION_12_11B))
    labels = [m["label"] for m in lines]
    assert {"contribution x-1 alpha-norte", "contribution x-1 beta", "ratio"} <= set(labels) and len(lines) >= 10
    for m in lines:
        text = m["expr"].replace("×", "*")
        value = _exactly(ast.parse(text, mode="eval").body, text)
        assert value == Fraction(m["exact"]), m[0]
        assert _in_document(document, m["label"]) == {"exact": m["exact"], "value": m["display"]}, m[0]


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
