"""Who must sign a statement, judged against the policy in force (SPEC.md section 6.2).

Shared by the verifier (is this entry authorized?) and the signing tools (who still has
to sign?), so both always give the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from ..errors import AuthorityError, SchemaError
from .entry_types import EntryType, entry_type_for
from .keys import PublicKey
from .model import GENESIS_TYPE, Statement
from .policy import Policy, ThresholdResult

POLICY_UPDATE_TYPE = "policy.update"


@dataclass(frozen=True)
class Requirement:
    """What a statement needs: ``role``'s threshold under ``policy``, plus every added key."""

    kind: EntryType
    policy: Policy
    added: Mapping[str, PublicKey]

    def key(self, key_id: str) -> PublicKey | None:
        return self.added.get(key_id) or self.policy.keys.get(key_id)

    def may_sign(self, key_id: str) -> bool:
        return key_id in self.added or key_id in self.policy.roles[self.kind.role].key_ids

    def evaluate(self, verified_signers: Iterable[str]) -> "Status":
        signers = frozenset(verified_signers)
        return Status(
            threshold=self.policy.check_threshold(self.kind.role, signers),
            missing_added=frozenset(self.added) - signers,
        )


@dataclass(frozen=True)
class Status:
    """The threshold result plus the added keys that have not yet proved possession."""

    threshold: ThresholdResult
    missing_added: frozenset[str]

    @property
    def complete(self) -> bool:
        return self.threshold.reached and not self.missing_added


def requirement(statement: Statement, policy_in_force: Policy | None) -> Requirement:
    """The signatures ``statement`` needs; ``policy_in_force`` is None only before genesis."""
    kind = entry_type_for(statement.type, statement.body)  # the body may escalate the role (10.1)
    if kind is None:
        raise SchemaError(f"unknown statement type {statement.type!r}", rule="R-7.3")
    if statement.type == GENESIS_TYPE:
        policy = Policy.from_json(statement.body["policy"])
        return Requirement(kind, policy, dict(policy.keys))
    if policy_in_force is None:
        raise AuthorityError("no policy in force: the ledger has no valid genesis", rule="R-7.7")
    if statement.type == POLICY_UPDATE_TYPE:
        new = Policy.from_json(statement.body["policy"])
        added = {k: v for k, v in new.keys.items() if k not in policy_in_force.keys}
        return Requirement(kind, policy_in_force, added)
    return Requirement(kind, policy_in_force, {})
