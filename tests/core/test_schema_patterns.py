"""One schema validator, the same rules everywhere (SPEC 1, R-7.2; ADR 0008).

Schema ``pattern``s have ECMA-262 semantics: a final ``$`` does not match before a newline,
``\\d`` and ``\\w`` are ASCII. They hold for a schema validated at the top *and* for the same
schema reached through a ``$ref`` into a resource with its own ``$schema`` (entry ->
statement, policy.update -> policy, incident.amend -> incident.record): issue 12, attack 7.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ledger.errors import SchemaError
from ledger.scoring import authoring as A
from ledger.core.validation import schema_ids, validate, validator
from scoring_fixtures import MiniLedger, src

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
STATEMENT = "urn:violence-scoring-ledger:v1:statement"
GOOD = {"v": 1, "type": "org.register", "time": "2026-01-01T00:00:00Z", "ledger": "ab" * 32, "body": {}}


@pytest.mark.parametrize("field", ["time", "ledger", "type"])
def test_trailing_newline_is_rejected_at_the_top(field: str) -> None:
    validate(STATEMENT, GOOD)  # the unmodified statement passes
    bad = dict(GOOD, **{field: GOOD[field] + "\n"})
    with pytest.raises(SchemaError, match=rf"\$\.{field}: .* does not match"):
        validate(STATEMENT, bad)


@pytest.mark.parametrize("field", ["time", "ledger", "type"])
def test_trailing_newline_is_rejected_in_the_statement_nested_in_an_entry(field: str) -> None:
    entry = {"seq": 1, "prev": "cd" * 32, "statement": dict(GOOD, **{field: GOOD[field] + "\n"}),
             "signatures": [{"key_id": "ef" * 32, "sig": "A" * 86 + "=="}], "seal": {"key_id": "ef" * 32, "sig": "A" * 86 + "=="}}
    with pytest.raises(SchemaError, match=rf"\$\.statement\.{field}: .* does not match") as raised:
        validate("urn:violence-scoring-ledger:v1:entry", entry, seq=1)
    assert str(raised.value).startswith("entry 1: ") and raised.value.rule == "R-7.2"


def _incident(publishers: list[str]) -> dict:
    return A.incident("mx-00001", "2026-01-10", "killing", victims=[A.victim("ordinary_citizen", 1)],
                      attributions=[A.attribution("alpha")], sources=[src(p) for p in publishers])


def test_incident_amend_with_reforma_and_reforma_newline_is_refused_like_the_record() -> None:
    """Issue 12 attack 7, as raw entries signed with real keys: ``reforma`` and ``reforma\\n``
    must not count as two publishers in an amendment any more than in a record."""
    m = MiniLedger()
    m.orgs("alpha")
    twin = ["la-jornada", "reforma\n"]
    record = m.add("incident.record", _incident(twin), force=True)
    assert [(v.rule, v.seq) for v in record] == [("R-7.2", 2)], record
    assert "$.statement.body.sources[1].publisher" in record[0].message
    m.incident("mx-00001", "2026-01-10", "alpha")  # the honest record
    amend = m.add("incident.amend", {"incident": _incident(["reforma", "reforma\n"]), "reason": "second source"}, force=True)
    assert [(v.rule, v.seq) for v in amend] == [("R-7.2", 4)], amend
    assert "$.statement.body.incident.sources[1].publisher" in amend[0].message
    assert "does not match" in amend[0].message
    assert m.verify().rules == {"R-7.2"}


def _pattern_schemas() -> list[tuple[str, str, str]]:
    """(schema id, JSON pointer, pattern) of every pattern in schemas/."""
    out = []

    def walk(node, pointer, sid):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "pattern" and isinstance(v, str):
                    out.append((sid, pointer, v))
                walk(v, f"{pointer}/{k}", sid)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{pointer}/{i}", sid)

    for path in sorted(SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        walk(schema, "", schema["$id"])
    return out


PATTERNS = _pattern_schemas()


def test_every_schema_is_shipped_and_compiles() -> None:
    ids = {json.loads(p.read_text(encoding="utf-8"))["$id"] for p in SCHEMAS.glob("*.json")}
    assert set(schema_ids()) == ids
    assert len(ids) == len(list(SCHEMAS.glob("*.json")))  # one $id per file, none shared
    for sid in ids:
        validator(sid)


def test_patterns_use_only_constructs_whose_ecma_semantics_are_checked() -> None:
    """A guard: jsonschema-rs gives ``$``, ``\\d``, ``\\w``, ``\\s`` ECMA-262 meaning (tested
    below) but ``\\b`` is Unicode-aware there (not ECMA-262). Patterns in schemas/ are limited
    to ``^``, a final ``$``, literal characters, ASCII classes, ``\\.``, groups, ``|``, ``?``
    and counted quantifiers; a new construct must come with its own semantics test."""
    allowed = re.compile(r"\^(?:\[[A-Za-z0-9.+/_~-]+\]|\\\.|[A-Za-z0-9._/=+:-]|[(){}|?*,]|[0-9])*\$")
    assert PATTERNS
    for sid, pointer, pattern in PATTERNS:
        assert allowed.fullmatch(pattern), (sid, pointer, pattern)


@pytest.mark.parametrize("pattern,text,ecma", [
    (r"^a$", "a\n", False), (r"^[0-9]+$", "12\n", False), (r"^\d+$", "\u0661\u0662", False),
    (r"^\d+$", "12", True), (r"^\w+$", "\u00e9", False), (r"^\s$", "\u00a0", True), (r"^.$", "\n", False),
])
def test_the_validator_has_ecma_262_regex_semantics_top_level_and_nested(pattern: str, text: str, ecma: bool) -> None:
    import jsonschema_rs

    d = "https://json-schema.org/draft/2020-12/schema"
    registry = jsonschema_rs.Registry([("urn:t:inner", {"$schema": d, "$id": "urn:t:inner", "type": "string", "pattern": pattern})],
                                      draft=jsonschema_rs.Draft202012)
    nested = {"$schema": d, "type": "object", "properties": {"x": {"$ref": "urn:t:inner"}}}
    options = jsonschema_rs.RegexOptions()
    assert jsonschema_rs.Draft202012Validator({"pattern": pattern}, pattern_options=options).is_valid(text) is ecma
    assert jsonschema_rs.Draft202012Validator(nested, registry=registry, pattern_options=options).is_valid({"x": text}) is ecma


@pytest.mark.parametrize("sid,pointer,pattern", PATTERNS, ids=[f"{s.rsplit(':', 1)[-1]}{p}" for s, p, _ in PATTERNS])
def test_every_schema_pattern_refuses_a_trailing_newline_at_the_top_and_nested(sid: str, pointer: str, pattern: str) -> None:
    """Each pattern of schemas/, reached the way the verifier reaches it: through the entry
    schema (statement, body, policy, incident.record inside incident.amend) and directly."""
    checker = validator(f"{sid}#{pointer.rsplit('/pattern', 1)[0]}")
    sample = _sample(pattern)
    assert checker.is_valid(sample), (pattern, sample)
    assert not checker.is_valid(sample + "\n")
    # the same sub-schema behind one more $ref hop, from a resource with its own $schema
    import jsonschema_rs
    from ledger.core.validation import _registry

    outer = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "array",
             "items": {"$ref": f"{sid}#{pointer.rsplit('/pattern', 1)[0]}"}}
    nested = jsonschema_rs.Draft202012Validator(outer, registry=_registry(), pattern_options=jsonschema_rs.RegexOptions())
    assert nested.is_valid([sample]) and not nested.is_valid([sample + "\n"])


_SAMPLES = {
    r"^(0|[1-9][0-9]{0,17})(\.[0-9]{1,18})?$": "1.5",
    r"^-?(0|[1-9][0-9]{0,17})(\.[0-9]{1,18})?$": "-1.5",
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "2026-01-10",
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$": "2026-01-10T09:00:00Z",
    r"^[0-9a-f]{64}$": "ab" * 32,
    r"^[A-Z]{2}-[A-Z0-9]{1,3}$": "MX-GRO",
    r"^[A-Za-z0-9+/]{43}=$": "A" * 43 + "=",
    r"^[A-Za-z0-9+/]{86}==$": "A" * 86 + "==",
    r"^[a-z0-9][a-z0-9.-]*(/[A-Za-z0-9._~-]+)*$": "ledger.example/x",
    r"^[a-z0-9][a-z0-9._-]{0,63}$": "reforma",
    r"^[a-z]+(\.[a-z_]+)+$": "org.register",
    r"^[A-Z]{2}$": "MX",
    r"^(0|[1-9][0-9]*(/([2-9]|[1-9][0-9]+))?)$": "3/2",
    r"^(0|[1-9][0-9]*)(\.[0-9]{1,12})?$": "1.5",
}


def _sample(pattern: str) -> str:
    assert pattern in _SAMPLES, f"add a sample for the new pattern {pattern!r}"
    return _SAMPLES[pattern]
