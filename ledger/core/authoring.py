"""Building statements for the core types (pure: keys, policies and times are passed in)."""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from ..errors import AuthorityError
from .keys import PublicKey
from .model import GENESIS_TYPE, Statement
from .policy import ROLES, Policy, build_policy_json

RoleSpec = Mapping[str, tuple[Sequence[tuple[PublicKey, str]], int]]


def genesis_statement(origin: str, name: str, roles: RoleSpec, at: str, description: str = "") -> Statement:
    """The genesis statement: ``roles`` maps role to ([(public key, display name)], threshold).

    Refuses (AuthorityError) a key listed twice for one role: the policy would silently
    count it once (SPEC.md 6.1), and the threshold would then be wrong."""
    keys: dict[str, tuple[PublicKey, str]] = {}
    role_ids: dict[str, tuple[list[str], int]] = {}
    for role, (members, threshold) in roles.items():
        for public, label in members:
            _refuse_twice(role, public, label, [p.key_id for p, _ in members])
            keys[public.key_id] = (public, label)
        role_ids[role] = ([p.key_id for p, _ in members], threshold)
    body = {"origin": origin, "name": name, "policy": build_policy_json(1, keys, role_ids)}
    if description:
        body["description"] = description
    return Statement.build(GENESIS_TYPE, body, at, None)


def policy_update_statement(
    ledger_id: str,
    current: Policy,
    at: str,
    *,
    reason: str,
    add: Iterable[tuple[str, PublicKey, str]] = (),
    remove: Iterable[str] = (),
    revoke: Iterable[str] = (),
    thresholds: Mapping[str, int] | None = None,
) -> Statement:
    """A policy.update from ``current``: ``add`` is (role, key, name); revoked keys are removed.

    Refuses (AuthorityError) a role that does not exist, and removing or revoking a key
    that is not in ``current``: a typo must not silently produce a different policy.
    """
    add = list(add)
    remove, revoke = list(remove), list(revoke)
    for role in [r for r, _, _ in add] + list(thresholds or {}):
        if role not in ROLES:
            raise AuthorityError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})")
    for verb, ids in (("remove", remove), ("revoke", revoke)):
        for key_id in ids:
            if key_id not in current.keys:
                raise AuthorityError(f"cannot {verb} key {key_id[:16]}: not in policy version {current.version}")
    revoke = sorted(set(revoke))
    gone = set(remove) | set(revoke)
    keys = {k: (pk, current.names.get(k, "")) for k, pk in current.keys.items() if k not in gone}
    members = {r: [k for k in current.roles[r].key_ids if k not in gone] for r in ROLES}
    for role, public, label in add:
        _refuse_twice(role, public, label, members[role] + [p.key_id for r, p, _ in add if r == role])
        keys[public.key_id] = (public, label)
        members[role].append(public.key_id)
    new_thresholds = {r: current.roles[r].threshold for r in ROLES}
    new_thresholds.update(thresholds or {})
    policy = build_policy_json(
        current.version + 1,
        keys,
        {r: (members[r], new_thresholds[r]) for r in ROLES},
        current.witnesses or None,
    )
    return Statement.build("policy.update", {"policy": policy, "revoke": revoke, "reason": reason}, at, ledger_id)


def _refuse_twice(role: str, public: PublicKey, label: str, key_ids: list[str]) -> None:
    if key_ids.count(public.key_id) > 1:
        name = f"{label} ({public.key_id[:12]})" if label else public.key_id[:12]
        raise AuthorityError(f"key {name} listed twice for role {role!r}: each key counts once towards a threshold")
