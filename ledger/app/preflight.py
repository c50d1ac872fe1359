"""One check everywhere: a statement judged against the ledger as it stands, before it is
signed (``ledger status``, ``ledger sign --ledger``, every statement creation command).

The checks are the verifier's own (:meth:`ledger.core.verify.Verifier.preview` on the would-be
entry): schema, authority, and the scoring state, exactly what ``ledger append`` will
judge. Signatures still missing are not failures: they are reported as *waiting* (R-7.13,
R-7.14), from the same :class:`ledger.core.authority.Status` the verifier counts with.

The ledger, a SQLite file, a bundle, or a published directory or URL, is read by the one
loader (:func:`ledger.app.load.open_ledger`: never trusted, every entry goes through the
verifier).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from ..core import canonical
from ..core.authority import Status, requirement
from ..core.entry_types import ENTRY_TYPES
from ..core.model import GENESIS_TYPE
from ..core.policy import Policy
from ..core.statement_file import StatementFile
from ..core.verify import Violation
from ..errors import LedgerError
from ..scoring.process import new_verifier
from .load import Loaded

# Missing signatures: more valid signatures of the role or of the added keys
# make these pass; nothing in the statement has to change.
WAITING_RULES = frozenset({"R-7.13", "R-7.14"})


@dataclass
class Preflight:
    """What ``ledger append`` would say about a statement file now."""

    failures: list[Violation]  # problems the statement itself has: append refuses it
    status: Status | None  # who signed and who is still needed (None: cannot be judged)
    judge: Policy | None  # the policy that names the signers
    added: frozenset[str] = frozenset()  # keys the statement adds (each must sign it, R-7.14)

    @property
    def ready(self) -> bool:
        return not self.failures and self.status is not None and self.status.complete

    def label(self, key_id: str) -> str:
        return self.judge.label(key_id) if self.judge is not None and key_id in self.judge.keys else key_id[:12]

    def waiting(self) -> list[str]:
        """What is still missing, in words ("waiting for 2 more of role panel ...")."""
        if self.status is None:
            return []
        out = []
        threshold = self.status.threshold
        if not threshold.reached:
            more = threshold.threshold - len(threshold.signed)
            out.append(f"waiting for {more} more of role {threshold.role} ({signature_count(threshold)})")
        if self.status.missing_added:
            keys = ", ".join(self.labels(self.status.missing_added))
            out.append(f"waiting for {len(self.status.missing_added)} key(s) the statement adds to sign it "
                       f"(proof of possession): {keys}")
        return out

    def labels(self, key_ids: Iterable[str]) -> list[str]:
        """Labels of ``key_ids``, sorted by name (then key id)."""
        return [self.label(k) for k in sorted(key_ids, key=lambda k: (self.label(k).lower(), k))]

    def to_json(self, document: StatementFile) -> dict[str, Any]:
        """This judgement of ``document`` as ``ledger status --json`` prints it."""
        status = self.status
        threshold = status.threshold if status is not None else None
        return {
            "type": document.statement.type,
            "statement_digest": document.statement.digest.hex(),
            "role": threshold.role if threshold else None,
            "threshold": threshold.threshold if threshold else None,
            "signed": sorted(threshold.signed) if threshold else [],
            "missing": sorted(threshold.missing) if threshold else [],
            "missing_added_keys": sorted(status.missing_added) if status else [],
            "signers": {k: self.label(k) for k in sorted(document.signatures)},
            "waiting": self.waiting(),
            "failures": [{"rule": v.rule, "message": v.message} for v in self.failures],
            "complete": bool(status is not None and status.complete),
            "ready": self.ready,
        }


def signature_count(threshold: Any) -> str:
    """"2 signed, 3 required: not yet met" (distinct keys of the role)."""
    signed = len(threshold.signed)
    return f"{signed} signed, {threshold.threshold} required: {'met' if threshold.reached else 'not yet met'}"


def check(document: StatementFile, view: Loaded | None) -> Preflight:
    """Judge ``document`` as the next entry of ``view`` (None: of a new ledger, which only a
    genesis statement can found)."""
    verifier = view.verifier if view is not None else new_verifier()
    found = verifier.preview(document.statement, document.signature_list())
    failures = [v for v in found if v.rule not in WAITING_RULES]
    if view is not None and view.violations:
        failures.insert(0, Violation(None, view.violations[0].rule, f"{view.failing()}: the store refuses every append"))
    status = judge = None
    added: frozenset[str] = frozenset()
    try:
        status = document.status(verifier.context.policy)
        judge = _judge(document, verifier.context.policy)
        added = frozenset(requirement(document.statement, verifier.context.policy).added)
    except LedgerError:
        pass  # an invalid policy or no genesis: the failures above say why
    return Preflight(failures, status, judge, added)


def _judge(document: StatementFile, policy: Policy | None) -> Policy | None:
    """The policy whose names label the signers: the one in force, or the statement's own
    (genesis), with the names of keys a policy.update adds."""
    statement = document.statement
    if statement.type == GENESIS_TYPE:
        return Policy.from_json(statement.body["policy"])
    if statement.type == "policy.update" and policy is not None:
        new = Policy.from_json(statement.body["policy"])
        keys = {**new.keys, **policy.keys}
        names = {**new.names, **policy.names}
        return Policy(policy.version, keys, names, policy.roles)
    return policy


def describe(document: StatementFile, view: Loaded | None) -> list[tuple[str, str]]:
    """What is signed, in human terms: (label, value) lines for ``ledger sign`` and ``status``."""
    statement = document.statement
    body = statement.body
    kind = ENTRY_TYPES.get(statement.type)
    lines: list[tuple[str, str]] = []
    if statement.type == GENESIS_TYPE:
        lines.append(("ledger", f"{body['name']} (new ledger: its id will be {statement.digest.hex()})"))
    elif view is not None and view.ledger_id == statement.ledger_id:
        lines.append(("ledger", f"{view.name} ({statement.ledger_id})"))
    else:
        lines.append(("ledger", f"{statement.ledger_id} (name unknown: give --ledger to check it)"))
    lines.append(("type", f"{statement.type}" + (f": {kind.summary} (role {kind.role} signs)" if kind else "")))
    lines.append(("time", statement.time))
    lines.extend(_body_lines(statement.type, body, view))
    lines.append(("statement digest", statement.digest.hex()))
    return lines


def _rules_version(view: Loaded | None, digest: str | None) -> str:
    state = view.scoring_state() if view is not None else None
    rules = state.rules.get(digest) if state is not None and digest else None
    return f"version {rules.version} ({digest})" if rules is not None else f"{digest} (version unknown without --ledger)"


def _body_lines(type_: str, body: dict[str, Any], view: Loaded | None) -> list[tuple[str, str]]:
    if type_ == GENESIS_TYPE:
        policy = Policy.from_json(body["policy"])
        lines = [("origin", body["origin"])]
        for role, members in policy.roles.items():
            names = ", ".join(policy.label(k) for k in members.key_ids)
            lines.append((role, f"{members.threshold} of {len(members.key_ids)}: {names}"))
        return lines
    if type_ == "policy.update":
        policy = Policy.from_json(body["policy"])
        lines = [("policy version", str(policy.version)), ("reason", body["reason"])]
        for role, members in policy.roles.items():
            lines.append((role, f"{members.threshold} of {len(members.key_ids)}: "
                          + ", ".join(policy.label(k) for k in members.key_ids)))
        if body["revoke"]:
            lines.append(("revokes (for ever)", ", ".join(k[:12] for k in body["revoke"])))
        return lines
    if type_ in ("round.decide", "round.close", "round.open", "target.progress", "target.dismantled"):
        lines = [("round", str(body["round"]))]
        state = view.scoring_state() if view is not None else None
        round_ = state.rounds.get(body["round"]) if state is not None else None
        if type_ == "round.decide":
            lines.append(("target", body["target"] if body["target"] is not None else "no target"))
            lines.append(("ranking digest", body["ranking"]))
            lines.append(("rules", _rules_version(view, round_.rules if round_ is not None else None)))
            lines.append(("justification", body["justification"] if body["justification"] is not None else "none"))
        elif type_ == "round.open":
            lines.append(("rules", _rules_version(view, body["rules"])))
            lines.append(("window", f"{body['window']['start']} .. {body['window']['end']}, decision due {body['decision_date']}"))
            lines.append(("eligible", ", ".join(body["eligible"])))
        elif type_ == "round.close" and round_ is not None:
            lines.append(("window", f"{round_.body['window']['start']} .. {round_.body['window']['end']}"))
        if "org" in body:
            lines.append(("organization", body["org"]))
        return lines
    if type_ == "rules.adopt":
        return [("rules version", str(body["version"])), ("name", body["name"])]
    if type_ == "outcome.baseline":  # SPEC.md 10.8
        level, reference = body.get("level"), body.get("reference")
        what = (f"{level['value']} per {level['per']}" if level is not None
                else f"what the ledger records from {reference['start']} to {reference['end']}")
        return [("baseline", f"{body['measure']} of {', '.join(body['kinds'])}: {what}"), ("justification", body["justification"])]
    if type_ in ("incident.record", "incident.amend"):
        incident = body["incident"] if type_ == "incident.amend" else body
        victims = ", ".join(f"{v['role']} {v['best']}" for v in incident["victims"]) or "none"
        attributions = ", ".join(f"{a['org']} ({a['basis']}, {a['confidence']})" for a in incident["attributions"]) or "none"
        return [("incident", incident["incident_id"]), ("date", incident["date"]), ("kind", incident["kind"]),
                ("victims", victims), ("attributed to", attributions)]
    return [(key, value if isinstance(value, str) else canonical.encode(value).decode("utf-8"))
            for key, value in sorted(body.items()) if isinstance(value, (str, int)) and not isinstance(value, bool)]
