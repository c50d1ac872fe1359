"""Core questions SPEC.md now answers (issue 12, "SPEC precision"), each as raw entries signed
with real keys: R-7.19 (genesis policy version 1), a malformed signature is R-7.2 (3.3),
which rules judge an entry that fails R-7.1/R-7.2 (section 7), no leap second (section 1,
R-7.17), the empty bundle (R-7.18, exit 1), the 1 MiB bundle line without its newline
(8.1), and witness keys distinct by name and by public key (14.9)."""

from __future__ import annotations

import io

import pytest

from core_fixtures import OPERATOR, PANEL, RECORDERS, Chain, entry_obj, pairs, reseal, run_ledger, violations_of
from ledger.storage.bundle import read_bundle
from ledger.core.canonical import MAX_DOCUMENT_BYTES
from ledger.errors import InputError
from ledger.core.keys import SigningKey
from ledger.core.model import GENESIS_TYPE, Statement
from ledger.core.note import cosigner_key_string


def _genesis_with_version(version: int) -> Chain:
    chain = Chain(Chain.new("precision-genesis").keys)
    statement = chain.genesis_statement("ledger.test.example/core", "v", PANEL, 3, RECORDERS, OPERATOR)
    body = dict(statement.body)
    body["policy"] = dict(body["policy"], version=version)
    chain.append(Statement.build(GENESIS_TYPE, body, statement.time, None), [*PANEL, *RECORDERS, OPERATOR])
    return chain


def test_genesis_policy_must_be_version_1() -> None:
    assert _genesis_with_version(1).violations == []
    chain = _genesis_with_version(2)
    assert pairs(chain.violations) == [(0, "R-7.19")]
    assert "must be version 1, found version 2" in chain.violations[0].message
    # nothing after it can be admitted: the ledger has no valid genesis
    statement = Statement.build("org.register", {"org_id": "alpha", "name": "Alpha", "aliases": []},
                                chain.tick(), chain.ledger_id)
    assert pairs(chain.append(statement, ["recorder-1"])) == [(1, "R-7.7")]


def _bad_padding(sig: str) -> str:
    """The same 64 bytes' base64 with non-zero padding bits: decodes, but is not canonical."""
    last = sig[-3]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return sig[:-3] + alphabet[alphabet.index(last) ^ 1] + "=="


@pytest.mark.parametrize("where", ["signature", "seal"])
def test_a_malformed_signature_is_r_7_2_and_nothing_else(where: str) -> None:
    chain = Chain.new("precision-sig")
    raw = chain.seal(chain.org("alpha"), chain.sign(chain.org("alpha"), ["recorder-1"]))
    obj = entry_obj(raw)
    if where == "signature":
        obj["signatures"][0]["sig"] = _bad_padding(obj["signatures"][0]["sig"])
        raw = reseal(obj, chain.keys[OPERATOR])
    else:
        obj["seal"]["sig"] = _bad_padding(obj["seal"]["sig"])
        from ledger.core import canonical
        raw = canonical.encode(obj)
    found = chain.append_raw(raw)
    assert pairs(found) == [(1, "R-7.2")], found
    assert "canonical base64" in found[0].message


def test_an_entry_failing_r_7_2_is_judged_by_no_other_rule_and_its_statement_is_not_remembered() -> None:
    chain = Chain.new("precision-judged")
    statement = chain.org("alpha")
    raw = chain.seal(statement, chain.sign(statement, ["recorder-1"]))
    obj = entry_obj(raw)
    obj["statement"]["time"] = "2026-02-30T25:00:00Z\n"  # breaks R-7.2 (pattern) and would break
    obj["seq"] = 99  # would break
    obj["signatures"][0]["sig"] = _bad_padding(obj["signatures"][0]["sig"])
    found = chain.append_raw(reseal(obj, chain.keys[OPERATOR]))
    assert pairs(found) == [(1, "R-7.2")], found
    # the same statement, properly signed, is not a duplicate of the refused entry
    assert chain.append(statement, ["recorder-1"]) == []


@pytest.mark.parametrize("time, ok", [("2016-12-31T23:59:59Z", True), ("2016-12-31T23:59:60Z", False),
                                      ("2026-02-29T00:00:00Z", False), ("2024-02-29T00:00:00Z", True)])
def test_no_leap_second_in_a_statement_time(time: str, ok: bool) -> None:
    chain = Chain.new("precision-time")
    statement = Statement.build("org.register", {"org_id": "alpha", "name": "Alpha", "aliases": []}, time, chain.ledger_id)
    found = chain.append(statement, ["recorder-1"])
    assert pairs(found) == ([] if ok else [(1, "R-7.17")]), found


def test_an_empty_bundle_is_readable_and_fails_r_7_18(tmp_path) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert pairs(violations_of([])) == [(None, "R-7.18")]
    result = run_ledger("verify", tmp_path / "empty.jsonl")
    assert result.returncode == 1, result
    assert "R-7.18" in result.stdout + result.stderr


def test_the_bundle_line_limit_does_not_count_the_newline(tmp_path) -> None:
    at_limit = b"x" * MAX_DOCUMENT_BYTES + b"\n"
    assert [len(line) for line in read_bundle(io.BytesIO(at_limit))] == [MAX_DOCUMENT_BYTES]
    with pytest.raises(InputError, match="longer than"):
        list(read_bundle(io.BytesIO(b"x" + at_limit)))
    (tmp_path / "at.jsonl").write_bytes(at_limit)
    (tmp_path / "over.jsonl").write_bytes(b"x" + at_limit)
    at, over = run_ledger("verify", tmp_path / "at.jsonl"), run_ledger("verify", tmp_path / "over.jsonl")
    assert at.returncode == 1 and "R-7.1" in at.stdout, at  # read, then judged as an entry
    assert over.returncode == 2 and "longer than" in over.stderr, over


def _witness_policy(chain: Chain, vkeys: list[str]) -> dict:
    policy = chain.policy.to_json()
    policy["version"] += 1
    policy["witnesses"] = {"keys": vkeys, "threshold": len(vkeys)}
    return policy


def test_witness_keys_are_distinct_by_public_key_and_by_name() -> None:
    chain = Chain.new("precision-witness")
    one, two = SigningKey.generate().public.raw, SigningKey.generate().public.raw
    same_key = [cosigner_key_string("w1.example", one), cosigner_key_string("w2.example", one)]
    found = chain.append(chain.raw_policy_update(_witness_policy(chain, same_key)), PANEL[:3])
    assert pairs(found) == [(1, "R-7.16")] and "same public key" in found[0].message, found
    same_name = [cosigner_key_string("w1.example", one), cosigner_key_string("w1.example", two)]
    found = chain.append(chain.raw_policy_update(_witness_policy(chain, same_name)), PANEL[:3])
    assert pairs(found) == [(2, "R-7.16")] and "listed twice" in found[0].message, found
    distinct = [cosigner_key_string("w1.example", one), cosigner_key_string("w2.example", two)]
    assert chain.append(chain.raw_policy_update(_witness_policy(chain, distinct)), PANEL[:3]) == []
