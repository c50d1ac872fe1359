"""Thresholds, key rotation and revocation, table-driven (in the spirit of python-tuf's
tests/test_updater_key_rotations.py): each case is a sequence of policy updates, each with
the keys that sign it and the rules the real verifier must report for it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

import pytest

from core_fixtures import PANEL, Chain, pairs, violations_of
from ledger.errors import AuthorityError, SignatureError
from ledger.core.policy import Policy, build_policy_json
from ledger.core.statement_file import StatementFile

P1, P2, P3, P4, P5 = PANEL
P6, P7, P8 = "panel-6", "panel-7", "panel-8"


def rules(found) -> list[str]:
    return sorted(v.rule for v in found)


# -- thresholds count distinct keys ---------------------------------------------------------

@pytest.mark.parametrize(
    "threshold, signers, expected",
    [
        pytest.param(3, [P1, P2, P3], [], id="exactly-threshold"),
        pytest.param(3, [P1, P2, P3, P4, P5], [], id="all-panel"),
        pytest.param(3, [P1, P2], ["R-7.13"], id="one-short"),
        pytest.param(3, [P1, P2, P2], ["R-7.13", "R-7.9"], id="same-key-twice-is-one-key"),
        pytest.param(2, [P1, P1], ["R-7.13", "R-7.9"], id="same-key-twice-cannot-meet-2"),
        pytest.param(2, [P1, P1, P2], ["R-7.9"], id="duplicate-but-two-distinct"),
        pytest.param(1, [P4], [], id="threshold-1"),
        pytest.param(5, [P1, P2, P3, P4], ["R-7.13"], id="threshold-5-four-signers"),
        pytest.param(3, [P1, P2, "recorder-1"], ["R-7.12", "R-7.13"], id="recorder-does-not-count"),
        pytest.param(3, [P1, P2, "operator"], ["R-7.12", "R-7.13"], id="operator-does-not-count"),
        pytest.param(3, [P1, P2, "outsider"], ["R-7.10", "R-7.13"], id="unknown-key-does-not-count"),
    ],
)
def test_panel_threshold_counts_distinct_keys(threshold, signers, expected) -> None:
    chain = Chain.new(panel_threshold=threshold)
    found = chain.append(chain.policy_update("threshold probe"), signers)
    assert rules(found) == expected
    assert all(v.seq == 1 for v in found)
    # the verifier's view after the fact agrees with a fresh verification of the bytes
    assert pairs(violations_of(chain.raws)) == pairs(found)


@pytest.mark.parametrize(
    "signers, expected",
    [
        pytest.param(["recorder-1"], [], id="one-recorder"),
        pytest.param(["recorder-1", "recorder-2"], [], id="two-recorders"),
        pytest.param([P1], ["R-7.12", "R-7.13"], id="panel-key-is-not-a-recorder"),
        pytest.param(["operator"], ["R-7.12", "R-7.13"], id="operator-is-not-a-recorder"),
        pytest.param(["recorder-1", "recorder-1"], ["R-7.9"], id="recorder-twice"),
    ],
)
def test_recorder_threshold(signers, expected) -> None:
    chain = Chain.new()
    assert rules(chain.append(chain.org("alpha"), signers)) == expected


def test_policy_check_threshold_counts_keys_not_signatures() -> None:
    chain = Chain.new(panel_threshold=2)
    policy = chain.policy
    p1 = chain.keys.id(P1)
    once = policy.check_threshold("panel", [p1, p1, p1])
    assert once.signed == frozenset({p1}) and not once.reached
    twice = policy.check_threshold("panel", [p1, chain.keys.id(P2), p1])
    assert twice.reached and len(twice.missing) == 3
    # a recorder key is not counted for the panel
    assert not policy.check_threshold("panel", [p1, chain.keys.id("recorder-1")]).reached


def test_statement_file_refuses_second_signature_by_same_key() -> None:
    chain = Chain.new(panel_threshold=2)
    document = StatementFile(chain.policy_update("probe"))
    document.sign(chain.keys[P1])
    with pytest.raises(SignatureError, match="already signed"):
        document.sign(chain.keys[P1])
    status = document.status(chain.policy)
    assert status.threshold.signed == frozenset({chain.keys.id(P1)}) and not status.complete
    document.sign(chain.keys[P2])
    assert document.status(chain.policy).complete


# -- key rotation: sequences of policy updates ------------------------------------------------

@dataclass(frozen=True)
class Step:
    panel: list[str]
    threshold: int
    signers: list[str]
    expected: list[str]


ROTATIONS = {
    "rotate-one-key": [
        Step([P1, P2, P3, P4, P6], 3, [P1, P2, P3, P6], []),
        # the rotated-out key lost its authority: its signature is no longer counted
        Step([P1, P2, P3, P4, P6], 3, [P1, P2, P5], ["R-7.10", "R-7.13"]),
        Step([P1, P2, P3, P4, P6], 3, [P2, P4, P6], []),
    ],
    "added-key-must-prove-possession": [
        Step([P1, P2, P3, P4, P6], 3, [P1, P2, P3], ["R-7.14"]),
    ],
    "added-key-does-not-count-toward-old-threshold": [
        Step([P1, P2, P3, P4, P6], 3, [P1, P2, P6], ["R-7.13"]),
    ],
    "raise-threshold-judged-by-old-policy-then-new": [
        Step(PANEL, 4, [P1, P2, P3], []),
        Step(PANEL, 4, [P1, P2, P3], ["R-7.13"]),
        Step(PANEL, 4, [P1, P2, P3, P4], []),
    ],
    "lower-threshold": [
        Step(PANEL, 1, [P1, P2, P3], []),
        Step(PANEL, 1, [P5], []),
    ],
    "replace-whole-panel": [
        Step([P6, P7, P8], 2, [P1, P2, P3, P6, P7, P8], []),
        Step([P6, P7, P8], 2, [P1, P2, P3], ["R-7.10", "R-7.10", "R-7.10", "R-7.13"]),
        Step([P6, P7, P8], 2, [P6, P8], []),
    ],
    "refused-update-has-no-effect": [
        Step([P1, P2, P3, P4, P6], 3, [P1, P2], ["R-7.13", "R-7.14"]),
        # still version 2 next (the refused one did not count), still judged by the old panel
        Step([P1, P2, P3, P4, P6], 3, [P1, P2, P3, P6], []),
    ],
    "removed-key-may-return-after-rotation": [
        Step([P1, P2, P3, P4], 3, [P1, P2, P3], []),
        Step(PANEL, 3, [P1, P2, P3], ["R-7.14"]),  # returning key is "added": must sign
        Step(PANEL, 3, [P1, P2, P3, P5], []),
    ],
}


@pytest.mark.parametrize("steps", list(ROTATIONS.values()), ids=list(ROTATIONS))
def test_key_rotation(steps: list[Step]) -> None:
    chain = Chain.new()
    versions = [chain.policy.version]
    for n, step in enumerate(steps, start=1):
        statement = chain.raw_policy_update(chain.panel_policy(step.panel, step.threshold), reason=f"step {n}")
        found = chain.append(statement, step.signers)
        assert rules(found) == sorted(step.expected), (n, found)
        versions.append(chain.policy.version)
        admitted = not step.expected
        assert versions[-1] == versions[-2] + (1 if admitted else 0)
        if admitted:
            assert sorted(chain.policy.roles["panel"].key_ids) == sorted(chain.keys.id(p) for p in step.panel)
    # the whole ledger, verified from its bytes, reports exactly what each step reported
    assert pairs(violations_of(chain.raws)) == pairs(chain.violations)


def test_rotated_out_key_keeps_validity_of_earlier_entries() -> None:
    chain = Chain.new()
    assert chain.append(chain.org("alpha"), ["recorder-2"]) == []
    rotation = chain.policy_update(
        "rotate recorder-2", remove=[chain.keys.id("recorder-2")],
        add=[("recorder", chain.keys["recorder-2b"].public, "recorder-2b")],
    )
    assert chain.append(rotation, [P1, P2, P3, "recorder-2b"]) == []
    after = chain.append(chain.org("bravo"), ["recorder-2"])
    assert rules(after) == ["R-7.10", "R-7.13"] and "not in policy version 2" in after[0].message
    assert chain.append(chain.org("charlie"), ["recorder-2b"]) == []
    # entry 1, signed by the rotated-out key, is still valid: only entry 3 is reported
    assert pairs(violations_of(chain.raws)) == [(3, "R-7.10"), (3, "R-7.13")]


# -- revocation ----------------------------------------------------------------------------

def _revoke_p5(chain: Chain) -> None:
    update = chain.policy_update(
        "panel-5 lost", revoke=[chain.keys.id(P5)], add=[("panel", chain.keys[P6].public, P6)]
    )
    assert chain.append(update, [P1, P2, P3, P6]) == []


def test_revoked_key_loses_authority_but_earlier_entries_stay_valid() -> None:
    chain = Chain.new()
    assert chain.append(chain.policy_update("before"), [P3, P4, P5]) == []  # P5 signs while valid
    _revoke_p5(chain)
    found = chain.append(chain.policy_update("after"), [P1, P2, P5])
    assert rules(found) == ["R-7.10", "R-7.13"]
    assert "revoked at entry 2" in [v for v in found if v.rule == "R-7.10"][0].message
    assert pairs(violations_of(chain.raws)) == [(3, "R-7.10"), (3, "R-7.13")]


@pytest.mark.parametrize("gap", [0, 1, 3], ids=["immediately", "one-update-later", "three-updates-later"])
def test_revoked_key_can_never_return(gap: int) -> None:
    chain = Chain.new()
    _revoke_p5(chain)
    for i in range(gap):
        assert chain.append(chain.policy_update(f"intermediate {i}"), [P1, P2, P3]) == []
    back = chain.raw_policy_update(chain.panel_policy([P1, P2, P3, P4, P5, P6], 3), reason="bring back panel-5")
    found = chain.append(back, [P1, P2, P3, P5])
    assert [v.rule for v in found] == ["R-7.16"]
    assert "may not return" in found[0].message
    assert chain.keys.id(P5) not in chain.policy.keys


def _body_policy(chain: Chain) -> dict[str, Any]:
    return copy.deepcopy(chain.policy.to_json())


@pytest.mark.parametrize(
    "make, signers, message",
    [
        pytest.param(lambda c: (c.panel_policy([P1, P2, P3, P4], 3), ["outsider"]), [P1, P2, P3], "not in policy version 1", id="revoke-unknown-key"),
        pytest.param(lambda c: (c.panel_policy(PANEL, 3), [c.keys.id(P5)]), [P1, P2, P3], "keeps it in the new policy", id="revoke-but-keep"),
        pytest.param(lambda c: (c.panel_policy([P1, P2, P3, P4], 3), [c.keys.id(P5), c.keys.id(P5)]), [P1, P2, P3], "names a key twice", id="revoke-twice"),
    ],
)
def test_invalid_revocations(make, signers, message) -> None:
    chain = Chain.new()
    policy, revoke = make(chain)
    revoke = [chain.keys.id("outsider") if r == "outsider" else r for r in revoke]
    found = chain.append(chain.raw_policy_update(policy, revoke), signers)
    assert "R-7.16" in [v.rule for v in found]
    assert any(message in v.message for v in found if v.rule == "R-7.16"), found
    assert chain.policy.version == 1  # refused: no effect


# -- policy versions go up by exactly one -----------------------------------------------------

@pytest.mark.parametrize(
    "version, expected",
    [
        pytest.param(2, [], id="plus-one"),
        pytest.param(1, ["R-7.16"], id="same"),
        pytest.param(3, ["R-7.16"], id="plus-two"),
        pytest.param(0, ["R-7.2"], id="zero-fails-schema"),
    ],
)
def test_policy_version_must_increase_by_one(version, expected) -> None:
    chain = Chain.new()
    policy = _body_policy(chain)
    policy["version"] = version
    found = chain.append(chain.raw_policy_update(policy), [P1, P2, P3])
    assert [v.rule for v in found] == expected
    assert chain.policy.version == (2 if not expected else 1)


# -- invalid policies are rejected when built ---------------------------------------------------

def _threshold(role: str, value: int) -> Callable[[dict, Chain], None]:
    def change(policy: dict, chain: Chain) -> None:
        policy["roles"][role]["threshold"] = value
    return change


def _duplicate_key_id(policy: dict, chain: Chain) -> None:
    ids = policy["roles"]["panel"]["key_ids"]
    policy["roles"]["panel"]["key_ids"] = sorted(ids + [ids[0]])


def _unsorted(policy: dict, chain: Chain) -> None:
    policy["roles"]["panel"]["key_ids"].reverse()


def _mismatched_key_id(policy: dict, chain: Chain) -> None:
    # the entry for panel-1's id carries panel-2's public key
    p1, p2 = chain.keys.id(P1), chain.keys.id(P2)
    policy["keys"][p1] = dict(policy["keys"][p2])


def _operator_threshold_2(policy: dict, chain: Chain) -> None:
    second = chain.keys["operator-2"]
    policy["keys"][second.public.key_id] = {"public_key": second.public.base64}
    policy["roles"]["operator"] = {"key_ids": sorted([*policy["roles"]["operator"]["key_ids"], second.public.key_id]), "threshold": 2}


def _key_in_no_role(policy: dict, chain: Chain) -> None:
    stray = chain.keys["stray"]
    policy["keys"][stray.public.key_id] = {"public_key": stray.public.base64}


def _unknown_key_in_role(policy: dict, chain: Chain) -> None:
    ghost = chain.keys.id("ghost")
    policy["roles"]["recorder"]["key_ids"] = sorted([*policy["roles"]["recorder"]["key_ids"], ghost])


INVALID_POLICIES = [
    pytest.param(_threshold("panel", 0), "between 1 and", "R-7.2", id="threshold-0"),
    pytest.param(_threshold("panel", 6), "between 1 and 5", "R-7.16", id="threshold-above-keys"),
    pytest.param(_duplicate_key_id, "sorted and distinct", "R-7.16", id="duplicate-key-id"),
    pytest.param(_unsorted, "sorted and distinct", "R-7.16", id="unsorted-key-ids"),
    pytest.param(_mismatched_key_id, "does not match its key", "R-7.16", id="key-id-not-matching-key"),
    pytest.param(_operator_threshold_2, "threshold must be 1", "R-7.16", id="operator-threshold-2"),
    pytest.param(_key_in_no_role, "belongs to no role", "R-7.16", id="key-in-no-role"),
    pytest.param(_unknown_key_in_role, "unknown key", "R-7.16", id="role-names-unknown-key"),
]


@pytest.mark.parametrize("change, message, rule", INVALID_POLICIES)
def test_invalid_policy_rejected_at_construction(change, message, rule) -> None:
    chain = Chain.new()
    policy = _body_policy(chain)
    Policy.from_json(policy)  # the unchanged policy is valid
    change(policy, chain)
    with pytest.raises(AuthorityError, match=message):
        Policy.from_json(policy)


@pytest.mark.parametrize("change, message, rule", INVALID_POLICIES)
def test_invalid_policy_update_refused_by_verifier(change, message, rule) -> None:
    chain = Chain.new()
    policy = _body_policy(chain)
    policy["version"] = 2
    change(policy, chain)
    signers = [P1, P2, P3]
    # keys the policy adds sign too, so that only the policy's invalidity is at stake
    signers += [label for label in ("operator-2", "stray") if chain.keys.id(label) in policy["keys"]]
    found = chain.append(chain.raw_policy_update(policy), signers)
    assert [v.rule for v in found] == [rule], found
    assert chain.policy.version == 1


def test_build_policy_json_refuses_invalid_policy() -> None:
    chain = Chain.new()
    keys = {chain.keys.id(l): (chain.keys[l].public, l) for l in (P1, "recorder-1", "operator")}
    roles = {"panel": ([chain.keys.id(P1)], 2), "recorder": ([chain.keys.id("recorder-1")], 1), "operator": ([chain.keys.id("operator")], 1)}
    with pytest.raises(AuthorityError, match="between 1 and 1"):
        build_policy_json(1, keys, roles)
    roles["panel"] = ([chain.keys.id(P1)], 1)
    assert Policy.from_json(build_policy_json(1, keys, roles)).roles["panel"].threshold == 1


def test_genesis_with_invalid_policy_admits_nothing() -> None:
    chain = Chain.new()
    statement, _ = chain.items[0]
    body = copy.deepcopy(statement.body)
    body["policy"]["roles"]["panel"]["threshold"] = 6
    from ledger.core.model import Statement

    bad = Chain(chain.keys)
    genesis = Statement.build("ledger.genesis", body, statement.time, None)
    found = bad.append(genesis, [*PANEL, "recorder-1", "recorder-2", "operator"])
    assert [v.rule for v in found] == ["R-7.16"]
    later = bad.statement("org.register", {"org_id": "alpha", "name": "Alpha", "aliases": []}, ledger_id=genesis.digest.hex())
    assert [v.rule for v in bad.append(later, ["recorder-1"])] == ["R-7.7"]


def test_genesis_requires_every_key_to_sign() -> None:
    chain = Chain(Chain.new().keys)
    genesis = chain.genesis_statement("ledger.test.example/g", "g", PANEL, 3, ["recorder-1", "recorder-2"], "operator")
    found = chain.append(genesis, [P1, P2, P3, "recorder-1", "operator"])  # threshold met; 3 keys silent
    assert rules(found) == ["R-7.14"] * 3
