"""The verifier's fast paths decide exactly as the slow, reference paths do.

* ``model.decode_entry``'s slices (statement bytes, unsealed bytes) against re-encoding;
* ``verify._valid_time`` against ``strptime``;
* ``Verifier._core_ok`` never says yes where ``_core_rules`` finds a violation;
* the whole verifier with the fast paths on and off (``ledger.core.fastpaths.ENABLED``, the
  one switch), on every tampering case of ``test_tamper`` and on random mutations of real
  entries: identical violations; and the switch does turn every fast path off.

(The orjson canonical check is also pinned in test_canonical, libsodium's first check in
test_keys.)
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import test_tamper  # the tamper table of the core tests
from core_fixtures import Chain, standard_chain, violations_of
from test_tamper import world  # noqa: F401 - the fixture, shared
from ledger.core import canonical, fastpaths, model
from ledger.core import verify as verify_mod
from ledger.core.model import Statement, decode_entry, seal_signing_message, unsealed_entry_bytes
from ledger.scoring.process import new_verifier

def _corpus() -> list[bytes]:
    chain = standard_chain("fastpaths")
    raws = list(chain.raws)
    from scoring_fixtures import one_round

    return raws + list(one_round().raws)


CORPUS = _corpus()


# -- generated values ------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.integers(min_value=-3, max_value=70), st.text(max_size=8),
    st.sampled_from(["", "a", "0" * 64, "f" * 64 + "\n", "2026-01-05", "2026-01-05T09:00:00Z", "high",
                     "killing", "recorder", "1.5", "-0", "x" * 4001, "A" * 86 + "==", "mx-00001"]),
)
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if type(value) is dict:
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif type(value) is list:
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


def _mutate(value: Any, data: st.DataObject) -> Any:
    """A copy of ``value`` with one node replaced, deleted, duplicated or added to."""
    value = json.loads(json.dumps(value))
    paths = _paths(value)
    path = data.draw(st.sampled_from(paths))
    op = data.draw(st.sampled_from(["replace", "delete", "add", "scalar-swap"]))
    if not path:
        return data.draw(_json)
    parent = value
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if op == "replace":
        parent[last] = data.draw(_json)
    elif op == "delete":
        del parent[last]
    elif op == "add":
        target = parent[last]
        if type(target) is dict:
            target[data.draw(st.text(max_size=6))] = data.draw(_json)
        elif type(target) is list:
            target.append(data.draw(_json) if data.draw(st.booleans()) else (target[0] if target else 1))
        else:
            parent[last] = [target]
    else:
        parent[last] = data.draw(_scalars)
    return value


# -- decode_entry slices ------------------------------------------------------------------

@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_slices_equal_reencoding(index):
    raw = CORPUS[index]
    obj = canonical.parse_canonical(raw)
    entry = decode_entry(raw, obj)
    assert entry.unsealed is not None  # the fast path was taken
    assert entry.statement.raw == canonical.encode(obj["statement"])
    assert entry.unsealed_bytes() == unsealed_entry_bytes(
        entry.seq, entry.prev, Statement(obj["statement"], canonical.encode(obj["statement"])), entry.signatures)
    assert entry.unsealed_bytes() == canonical.encode({k: v for k, v in obj.items() if k != "seal"})


_tricky_text = st.text(
    alphabet=st.sampled_from(['"', "\\", "\n", "\x00", "\x1f", "/", "\u2028", "é", "😂", "\ue000", "a", "}", ",", ":"]),
    max_size=10,
)


@settings(max_examples=300, deadline=None)
@given(body=st.dictionaries(_tricky_text, st.one_of(_tricky_text, st.integers(-5, 5), st.lists(_tricky_text, max_size=3)),
                            max_size=5),
       nested_statement=st.booleans())
def test_slices_equal_reencoding_on_generated_entries(body, nested_statement):
    chain = Chain.new("slices")
    if nested_statement:  # a member named "statement" inside the statement's body
        body = dict(body, statement={"statement": body.copy()})
    statement = Statement.build("org.register", body, "2026-01-01T00:00:00Z", chain.ledger_id)
    raw = chain.seal(statement, [statement.sign(chain.keys["recorder-1"])], seq=1, prev="0" * 64)
    obj = canonical.parse_canonical(raw)
    entry = decode_entry(raw, obj)
    assert entry.statement.raw == canonical.encode(obj["statement"]) == statement.raw
    assert entry.unsealed_bytes() == canonical.encode({k: v for k, v in obj.items() if k != "seal"})


# -- the time check ----------------------------------------------------------------------

@settings(max_examples=500, deadline=None)
@given(st.one_of(
    st.builds(lambda y, mo, d, h, mi, s: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z",
              st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99), st.integers(0, 99),
              st.integers(0, 99), st.integers(0, 99)),
    st.text(alphabet="0123456789-T:Z tz\n", max_size=22),
))
def test_valid_time_equals_strptime(text):
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
        expected = True
    except ValueError:
        expected = False
    assert verify_mod._valid_time(text) is expected


# -- the whole verifier, fast paths on and off ----------------------------------------------

@pytest.fixture
def slow_paths(monkeypatch):
    """A function that turns every fast path off (ledger.core.fastpaths, the one switch)."""

    def disable() -> None:
        _disable_fast_paths(monkeypatch)

    return disable


def _disable_fast_paths(monkeypatch) -> None:
    monkeypatch.setattr(fastpaths, "ENABLED", False)


def test_the_switch_turns_every_fast_path_off(monkeypatch):
    from ledger.core import keys

    raw = CORPUS[1]
    obj = canonical.parse_canonical(raw)
    assert decode_entry(raw, obj).unsealed is not None  # on: sliced
    taken: list[str] = []

    class Spy:
        def fullmatch(self, text):
            taken.append("time")

    def sodium(signed, key):
        taken.append("sodium")
        raise keys._SodiumRejects()

    monkeypatch.setattr(canonical, "_orjson_canonical", lambda *args: taken.append("orjson"))
    monkeypatch.setattr(verify_mod, "_TIME_SHAPE", Spy())
    monkeypatch.setattr(verify_mod.Verifier, "_core_ok", lambda self, entry: taken.append("core"))
    monkeypatch.setattr(keys, "_sodium_open", sodium)
    violations_of(CORPUS[:3])
    assert sorted(set(taken)) == ["core", "orjson", "sodium", "time"]  # the spies see the paths
    taken.clear()
    _disable_fast_paths(monkeypatch)
    assert decode_entry(raw, obj).unsealed is None  # off: re-encoded
    assert _report(list(standard_chain("fastpaths").raws)) == []  # a genuine ledger, judged the reference way
    assert taken == []


def _report(raws: list[bytes]) -> list[tuple]:
    return [(v.seq, v.rule, v.message) for v in violations_of(raws)]


def test_tamper_cases_give_identical_violations(world, slow_paths):
    tampered = [(case.id, case.values[0](world)) for case in test_tamper.CASES]
    fast = [(name, _report(raws)) for name, raws in tampered]
    slow_paths()
    slow = [(name, _report(raws)) for name, raws in tampered]
    assert fast == slow
    assert all(found for _, found in fast)  # every case is caught


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_entries_give_identical_violations(data, monkeypatch):
    raws = list(CORPUS[:9])
    index = data.draw(st.integers(0, len(raws) - 1))
    obj = canonical.parse(raws[index])
    mutated = _mutate(obj, data)
    try:
        raws[index] = canonical.encode(mutated)
    except Exception:
        assume(False)
    fast = _report(raws)
    _disable_fast_paths(monkeypatch)
    slow = _report(raws)
    monkeypatch.undo()
    assert fast == slow


# -- the core-rules shortcut -------------------------------------------------------------

def _core_ok_agrees(raws: list[bytes]) -> int:
    """Feed ``raws``; wherever Verifier._core_ok says yes, _core_rules must find nothing.
    Returns how often it said yes."""
    verifier = new_verifier()
    said_yes = 0
    for raw in raws:
        try:
            entry = verifier._decode(raw, verifier.context.size)
        except verify_mod._Reject:
            entry = None
        if entry is not None and verifier._core_ok(entry):
            said_yes += 1
            assert list(verifier._core_rules(entry)) == [], entry.seq
        verifier.feed(raw)
    return said_yes


def test_core_shortcut_is_taken_on_genuine_entries_and_never_hides_a_violation(world):
    from scoring_fixtures import one_round

    for raws in (list(standard_chain("fastpaths").raws), list(one_round().raws)):
        assert _core_ok_agrees(raws) >= len(raws) // 2  # it is the common path
    for case in test_tamper.CASES:
        _core_ok_agrees(case.values[0](world))


# -- parallel verification -----------------------------------------------------------------

def test_parallel_verification_gives_the_same_report_on_every_tamper_case(world, tmp_path, monkeypatch):
    from ledger.core import parallel
    from ledger.app.load import verify_path

    monkeypatch.setattr(parallel, "CHUNK", 3)  # several chunks in flight even on tiny ledgers
    cases = [(case.id, case.values[0](world)) for case in test_tamper.CASES] + [("genuine", list(world.raws))]
    for name, raws in cases:
        bundle = tmp_path / f"{name}.jsonl"
        bundle.write_bytes(b"".join(raw + b"\n" for raw in raws))
        one = verify_path(bundle).to_json()
        two = verify_path(bundle, jobs=2).to_json()
        assert one == two, name


def test_parallel_checks_are_the_verifiers_messages_and_only_for_known_keys():
    from ledger.core.parallel import _learn_keys, _verify_checks, signature_checks

    genesis = decode_entry(CORPUS[0], canonical.parse_canonical(CORPUS[0]))
    entry = decode_entry(CORPUS[1], canonical.parse_canonical(CORPUS[1]))
    assert signature_checks(entry, {}) == ([], [])  # no keys known: nothing asked, no answers
    directory: dict = {}
    _learn_keys(entry, directory)  # not a policy entry: teaches nothing
    assert directory == {}
    _learn_keys(genesis, directory)
    assert directory and all(directory[k].key_id == k for k in directory)
    wanted, checks = signature_checks(entry, directory)
    assert [kind for kind, _, _ in wanted] == ["s"] * len(entry.signatures) + ["e"]
    assert [message for _, _, message in checks] == (
        [entry.statement.signing_message] * len(entry.signatures) + [seal_signing_message(entry.unsealed_bytes())])
    assert [(key, sig) for _, key, sig in wanted] == [(key, sig) for key, sig, _ in checks]
    assert _verify_checks(checks) == [True] * len(checks)
    key, sig, message = checks[-1]
    flipped = bytes([sig[0] ^ 1]) + sig[1:]
    assert _verify_checks([(key, flipped, message), (key, sig, message + b" ")]) == [False, False]


def test_parallel_hints_carry_the_decoded_entry_or_nothing_for_bad_bytes():
    from ledger.core.parallel import precomputed_signatures

    raws = list(CORPUS) + [b"{not json", CORPUS[1].replace(b'"seq":1', b'"seq":01')]
    hints = dict(precomputed_signatures(raws, 2))
    for raw in CORPUS:
        assert hints[raw] is not None and hints[raw].entry == decode_entry(raw, canonical.parse_canonical(raw))
        assert hints[raw].entry.raw is raw
    assert hints[b"{not json"] is None and hints[raws[-1]] is None  # the verifier words the rejection


def test_parallel_workers_learn_the_keys_and_decode_every_genuine_entry():
    from ledger.core.parallel import precomputed_signatures

    raws = list(standard_chain("fastpaths").raws)
    hints = [hint for _, hint in precomputed_signatures(raws, 2)]
    assert all(hint is not None and hint.entry is not None for hint in hints)
    assert all(hint and all(hint.values()) for hint in hints)  # every signature answered, valid


@settings(max_examples=200, deadline=None)
@given(body=st.dictionaries(_tricky_text, st.one_of(_tricky_text, st.integers(-5, 5)), max_size=5),
       prev=st.sampled_from(["0" * 64, "ab" * 32, "x\n", "é"]), seq=st.integers(0, 2**53 - 1))
def test_seal_entry_bytes_equal_encoding_the_whole_entry(body, prev, seq):
    chain = Chain.new("seal-bytes")
    statement = Statement.build("org.register", body, "2026-01-01T00:00:00Z", chain.ledger_id)
    entry = model.seal_entry(seq, prev, statement, tuple(chain.sign(statement, ["recorder-1", "recorder-2"])),
                             chain.keys["operator"])
    obj = {"seq": seq, "prev": prev, "statement": statement.obj,
           "signatures": [s.to_json() for s in entry.signatures], "seal": entry.seal.to_json()}
    assert entry.raw == canonical.encode(obj)
    assert entry.unsealed_bytes() == canonical.encode({k: v for k, v in obj.items() if k != "seal"})
