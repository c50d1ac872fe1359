"""The policy: keys, roles and thresholds in force (SPEC.md section 6).

Invariants are enforced when a :class:`Policy` is built, so an invalid policy can never
exist in memory: every key id is derived from its key, every role names known keys without
duplicates, and every threshold is between 1 and the number of the role's keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..errors import AuthorityError, SignatureError
from .keys import PublicKey

ROLES = ("panel", "recorder", "operator")


@dataclass(frozen=True)
class Role:
    key_ids: tuple[str, ...]
    threshold: int


@dataclass(frozen=True)
class ThresholdResult:
    """Who signed, who did not, and whether the threshold is reached (distinct keys)."""

    role: str
    threshold: int
    signed: frozenset[str]
    missing: frozenset[str]

    @property
    def reached(self) -> bool:
        return len(self.signed) >= self.threshold

    def describe(self) -> str:
        return f"{len(self.signed)} of {self.threshold} required {self.role} signatures"


@dataclass(frozen=True)
class Policy:
    """A validated policy: ``keys`` maps key id to public key, ``names`` to a display name."""

    version: int
    keys: Mapping[str, PublicKey]
    names: Mapping[str, str]
    roles: Mapping[str, Role]
    witnesses: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "Policy":
        """Build from the JSON form (schema-checked already); raises AuthorityError on invariants."""
        keys: dict[str, PublicKey] = {}
        names: dict[str, str] = {}
        for key_id, info in obj["keys"].items():
            try:  # 6.1 item 1 and SPEC 3.1 "Public keys": no small-order or non-canonical key
                public = PublicKey.from_base64(info["public_key"])
            except SignatureError as exc:
                raise AuthorityError(f"policy key {key_id[:16]}…: {exc.message}") from None
            if public.key_id != key_id:
                raise AuthorityError(
                    f"policy key id {key_id[:16]}… does not match its key (expected {public.key_id[:16]}…)"
                )
            keys[key_id] = public
            names[key_id] = info.get("name", "")
        roles: dict[str, Role] = {}
        for name in ROLES:
            if name not in obj["roles"]:
                raise AuthorityError(f"policy has no {name!r} role")
        used: set[str] = set()
        for name, role in obj["roles"].items():
            ids = tuple(role["key_ids"])
            if list(ids) != sorted(set(ids)):
                raise AuthorityError(f"role {name!r}: key ids must be sorted and distinct")
            unknown = [k for k in ids if k not in keys]
            if unknown:
                raise AuthorityError(f"role {name!r} names unknown key {unknown[0][:16]}…")
            threshold = role["threshold"]
            if not 1 <= threshold <= len(ids):
                raise AuthorityError(
                    f"role {name!r}: threshold must be between 1 and {len(ids)}, got {threshold}"
                )
            if name == "operator" and threshold != 1:
                raise AuthorityError(f"role 'operator': threshold must be 1, got {threshold}")
            roles[name] = Role(ids, threshold)
            used.update(ids)
        unused = sorted(set(keys) - used)
        if unused:
            raise AuthorityError(f"policy key {unused[0][:16]}… belongs to no role")
        witnesses = dict(obj.get("witnesses", {}))
        if witnesses:
            _check_witnesses(witnesses)
        return cls(obj["version"], keys, names, roles, witnesses)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": self.version,
            "keys": {
                k: ({"public_key": pk.base64, "name": self.names[k]} if self.names.get(k) else {"public_key": pk.base64})
                for k, pk in self.keys.items()
            },
            "roles": {n: {"key_ids": list(r.key_ids), "threshold": r.threshold} for n, r in self.roles.items()},
        }
        if self.witnesses:
            out["witnesses"] = dict(self.witnesses)
        return out

    def role_of(self, key_id: str) -> list[str]:
        return [name for name, role in self.roles.items() if key_id in role.key_ids]

    def check_threshold(self, role: str, signer_ids: Iterable[str]) -> ThresholdResult:
        """Count *distinct* keys of ``role`` among ``signer_ids`` (already verified signers)."""
        members = self.roles[role].key_ids
        signed = frozenset(k for k in signer_ids if k in members)
        return ThresholdResult(role, self.roles[role].threshold, signed, frozenset(members) - signed)

    def label(self, key_id: str) -> str:
        name = self.names.get(key_id)
        return f"{name} ({key_id[:12]})" if name else key_id[:12]


def _check_witnesses(witnesses: Mapping[str, Any]) -> None:
    """Witness keys are valid cosignature/v1 vkeys, pairwise distinct by public key *and* by
    name; 0 <= threshold <= their number (SPEC 14.9, R-7.16). One public key under two names
    would let one holder give two of the m cosignatures."""
    from ..errors import ProofError
    from .note import SIG_COSIGNATURE_V1, NoteVerifier

    names: set[str] = set()
    publics: dict[bytes, str] = {}
    for vkey in witnesses["keys"]:
        try:
            verifier = NoteVerifier.from_string(vkey)
        except ProofError as exc:
            raise AuthorityError(f"witness key {vkey[:40]!r}: {exc.message}") from None
        if verifier.sig_type != SIG_COSIGNATURE_V1:
            raise AuthorityError(f"witness key {verifier.name} is not a cosignature/v1 (type 0x04) key")
        if verifier.name in names:
            raise AuthorityError(f"witness name {verifier.name} is listed twice")
        if verifier.public_raw in publics:
            raise AuthorityError(
                f"witness key {verifier.name} has the same public key as witness {publics[verifier.public_raw]}"
            )
        names.add(verifier.name)
        publics[verifier.public_raw] = verifier.name
    if witnesses["threshold"] > len(witnesses["keys"]):
        raise AuthorityError(
            f"witnesses: threshold {witnesses['threshold']} exceeds the {len(witnesses['keys'])} witness keys"
        )


def build_policy_json(
    version: int,
    keys: Mapping[str, tuple[PublicKey, str]],
    roles: Mapping[str, tuple[Iterable[str], int]],
    witnesses: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the JSON form of a policy from key ids, public keys, names and roles."""
    obj: dict[str, Any] = {
        "version": version,
        "keys": {
            kid: ({"public_key": pk.base64, "name": name} if name else {"public_key": pk.base64})
            for kid, (pk, name) in keys.items()
        },
        "roles": {r: {"key_ids": sorted(set(ids)), "threshold": t} for r, (ids, t) in roles.items()},
    }
    if witnesses:
        obj["witnesses"] = dict(witnesses)
    Policy.from_json(obj)  # enforce invariants now, not at append time
    return obj
