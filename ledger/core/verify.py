"""The verifier: checks entries one at a time against everything before them (SPEC.md 7).

Pure: it takes the exact bytes of each entry and keeps only what later entries need (the
head hash, the policy in force, revocations, statement digests, and the state of each
registered *process*, such as the scoring process). It never touches files, SQLite or the
clock. ``ledger verify`` and the store's append path run this same code.

Each check names the SPEC.md rule it enforces. A check that fails produces a
:class:`Violation`; the entry then has no effect on the state except that the chain moves
on to its bytes, so one tampered entry is reported once, where it is, and verification
continues to the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Iterator, Protocol, Sequence

from ..errors import LedgerError, SchemaError
from . import canonical, fastpaths
from .authority import Requirement, requirement
from .entry_types import ENTRY_TYPES
from .merkle import leaf_hash
from .model import GENESIS_PREV, GENESIS_TYPE, MAX_ENTRY_BYTES, Entry, Signature, Statement, decode_entry, seal_signing_message
from .policy import Policy
from .validation import validate


@dataclass(frozen=True)
class Violation:
    """One broken rule, at one entry (``seq`` is None for whole-ledger findings)."""

    seq: int | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"entry {self.seq}" if self.seq is not None else "ledger"
        return f"{where}: {self.message} [{self.rule}]"

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "rule": self.rule, "message": self.message}


class StatementIndex(Protocol):
    """Statement digests seen so far (R-7.8): digest key -> seq of the first entry with it.

    A ``dict`` is the in-memory index; the storage layer provides one on disk
    (``ledger.storage.diskstate``) so that memory stays flat at 10^6 entries."""

    def get(self, key: bytes) -> int | None: ...

    def setdefault(self, key: bytes, seq: int) -> int: ...


class Process(Protocol):
    """A state machine over entries (e.g. the scoring process) plugged into the verifier.

    ``admit`` checks an entry that already passed every core rule, without changing state;
    ``apply`` records an admitted entry; ``finish`` reports whole-ledger findings.
    """

    def admit(self, entry: Entry, context: "Context") -> list[Violation]: ...

    def apply(self, entry: Entry, context: "Context") -> None: ...

    def finish(self, context: "Context") -> list[Violation]: ...


@dataclass
class Context:
    """Read-only view of the core state that processes may consult."""

    ledger_id: str | None = None
    origin: str | None = None
    policy: Policy | None = None
    size: int = 0


def _digest_key(digest: bytes) -> bytes:
    # 128 bits are enough to tell statements apart and keep the index small.
    return digest[:16]


_TIME_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def _valid_time(text: str) -> bool:
    # Fast path (ledger.core.fastpaths), same answer: on this exact shape (ASCII digits, fixed widths), strptime's
    # field patterns accept exactly the two-digit values 01-12, 01-31, 00-23, 00-59 and
    # 00-61, and then builds a datetime, which refuses everything that is not a real
    # date and time (Feb 30, year 0, second 60 or 61); fromisoformat reads the same six
    # fields of "YYYY-MM-DDTHH:MM:SS" and builds the same datetime, refusing the same.
    if fastpaths.ENABLED and _TIME_SHAPE.fullmatch(text):
        try:
            datetime.fromisoformat(text[:19])
        except ValueError:
            return False
        return True
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True


class _Reject(Exception):
    def __init__(self, violation: Violation) -> None:
        self.violation = violation


def decode_checked(raw: bytes, seq: int) -> Entry:
    """R-7.1 to R-7.3 on ``raw``, then the decoded entry; raises _Reject (at ``seq``).

    A pure function of the bytes (``seq`` only numbers the violation), so worker processes
    can run it ahead of the sequential rules (``ledger.core.parallel``)."""
    # the entry is strict, canonical RFC 8785 JSON.
    try:
        obj = canonical.parse_canonical(raw, max_bytes=MAX_ENTRY_BYTES)
    except LedgerError as exc:
        raise _Reject(Violation(seq, "R-7.1", exc.message)) from None
    # envelope and statement match their schemas.
    try:
        validate("urn:violence-scoring-ledger:v1:entry", obj, "$", seq=seq)
    except SchemaError as exc:
        raise _Reject(Violation(seq, "R-7.2", exc.message)) from None
    statement_type = obj["statement"]["type"]
    # the type is one SPEC.md defines.
    kind = ENTRY_TYPES.get(statement_type)
    if kind is None:
        raise _Reject(Violation(seq, "R-7.3", f"unknown statement type {statement_type!r}"))
    try:
        validate(kind.schema_id, obj["statement"]["body"], "$.statement.body", seq=seq)
        entry = decode_entry(raw, obj)
    except LedgerError as exc:
        raise _Reject(Violation(seq, exc.rule or "R-7.2", exc.message)) from None
    return entry


@dataclass
class Verifier:
    """Streams entries through every rule of SPEC.md section 7.

    Use :meth:`check` to judge a candidate entry without recording it, :meth:`feed` to
    judge and record it, and :meth:`finish` at the end of the ledger.
    """

    processes: Sequence[Process] = field(default_factory=tuple)
    context: Context = field(default_factory=Context)
    head: bytes | None = None  # leaf hash of the last entry seen
    revoked: dict[str, int] = field(default_factory=dict)  # key id -> seq of the revocation
    statements: StatementIndex = field(default_factory=dict)  # digest key -> seq
    violations_seen: int = 0
    # Signature results computed ahead of time for the entry being judged (parallel
    # verification, ledger.core.parallel): {(kind, raw public key, signature): valid}, kind "s"
    # for a statement signature and "e" for the seal. See _signature_valid.
    precomputed: dict[tuple[str, bytes, bytes], bool] | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return self.context.size

    @property
    def policy(self) -> Policy | None:
        return self.context.policy

    # -- public API ---------------------------------------------------------------------

    def check(self, raw: bytes, precomputed: dict[tuple[str, bytes, bytes], bool] | None = None
              ) -> tuple[Entry | None, list[Violation]]:
        """Judge ``raw`` as the next entry; returns the decoded entry (if any) and violations.

        ``precomputed``: signature results known in advance (see :meth:`_signature_valid`)."""
        if precomputed is not None:
            self.precomputed = precomputed
            try:
                return self.check(raw)
            finally:
                self.precomputed = None
        seq = self.context.size
        try:
            entry = self._decode(raw, seq)
        except _Reject as rejected:
            return None, [rejected.violation]
        # the shortcut is a fast path (ledger.core.fastpaths); _core_rules is the reference
        violations = [] if fastpaths.ENABLED and self._core_ok(entry) else list(self._core_rules(entry))
        if not violations:
            for process in self.processes:
                violations.extend(process.admit(entry, self.context))
        return entry, violations

    def feed(self, raw: bytes, precomputed: dict[tuple[str, bytes, bytes], bool] | None = None) -> list[Violation]:
        """Judge ``raw`` as the next entry and move the state past it.

        ``precomputed`` optionally carries signature results for this entry's bytes
        (``ledger.core.parallel``); they change nothing but the time taken."""
        entry, violations = self.check(raw, precomputed)
        self.record(raw, entry, admitted=not violations)
        self.violations_seen += len(violations)
        return violations

    def record(self, raw: bytes, entry: Entry | None, *, admitted: bool) -> None:
        """Move past ``raw``; an admitted entry also takes effect (policy, processes)."""
        seq = self.context.size
        if entry is not None:
            self.statements.setdefault(_digest_key(entry.statement.digest), seq)
            if admitted:
                self._apply(entry)
                for process in self.processes:
                    process.apply(entry, self.context)
        self.head = leaf_hash(raw)
        self.context.size = seq + 1

    def preview(self, statement: Statement, signatures: Sequence[Signature]) -> list[Violation]:
        """Judge ``statement`` with the ``signatures`` gathered so far as the next entry would
        be judged, before it is sealed, without changing any state (``ledger status``, the
        statement creation commands, ``ledger sign --ledger``).

        Every rule of :meth:`check` runs on the would-be entry, the same code, except the
        operator's seal (R-7.15: made at append), and the processes' rules (scoring) run even
        when core rules fail, so that every problem is listed at once. R-7.13 (threshold) and
        R-7.14 (added keys) are reported while signatures are still missing: the caller
        tells "waiting" from "refused" (``ledger.app.preflight``). The envelope (R-7.1, R-7.2)
        is judged with placeholder signatures up to the role's threshold when fewer are
        present: the schema wants one at least, and the size limit is then judged on an
        entry with as many signatures as the threshold asks for.
        """
        seq = self.context.size
        prev = GENESIS_PREV if self.head is None else self.head.hex()
        real = tuple(sorted(signatures, key=lambda s: s.key_id))
        placeholder = Signature("f" * 64, bytes(64))  # never verifies: only the shape counts
        kind = ENTRY_TYPES.get(statement.type)
        policy = self.context.policy
        wanted = 1 if kind is None or policy is None else policy.roles[kind.role].threshold
        shaped = real + (placeholder,) * max(0, wanted - len(real))
        raw = canonical.encode({"seq": seq, "prev": prev, "statement": statement.obj,
                                "signatures": [s.to_json() for s in shaped], "seal": placeholder.to_json()})
        try:
            entry = decode_checked(raw, seq)  # on the would-be bytes
        except _Reject as rejected:
            return [rejected.violation]
        entry = Entry(seq, prev, entry.statement, real, placeholder, raw)
        found = [v for v in self._core_rules(entry) if v.rule != "R-7.15"]
        for process in self.processes:
            found.extend(process.admit(entry, self.context))
        return found

    def finish(self) -> list[Violation]:
        """Whole-ledger findings after the last entry."""
        out: list[Violation] = []
        if self.context.size == 0:
            out.append(Violation(None, "R-7.18", "the ledger is empty: expected a genesis entry"))
        for process in self.processes:
            out.extend(process.finish(self.context))
        return out

    def run(self, raws: Iterable[bytes]) -> Iterator[Violation]:
        """Feed every entry and then finish; yields violations as they are found."""
        for raw in raws:
            yield from self.feed(raw)
        yield from self.finish()

    # -- rules --------------------------------------------------------------------------

    def _decode(self, raw: bytes, seq: int) -> Entry:
        # A worker process (ledger.core.parallel) may have run decode_checked on these very bytes
        # already and found nothing: it then hands over the Entry built from them.
        precomputed = self.precomputed
        if precomputed is not None:
            entry = getattr(precomputed, "entry", None)
            if entry is not None and entry.raw is raw:
                return entry
        return decode_checked(raw, seq)

    def _core_rules(self, entry: Entry) -> Iterator[Violation]:
        seq = self.context.size
        # sequence numbers are contiguous from 0.
        if entry.seq != seq:
            yield Violation(seq, "R-7.4", f"expected sequence number {seq}, found {entry.seq}")
        # prev is the leaf hash of the previous entry's bytes.
        expected_prev = GENESIS_PREV if self.head is None else self.head.hex()
        if entry.prev != expected_prev:
            yield Violation(seq, "R-7.5", f"prev does not link to the previous entry (expected {expected_prev[:16]}…, found {entry.prev[:16]}…)")
        # the claimed time is a real date and time.
        if not _valid_time(entry.statement.time):
            yield Violation(seq, "R-7.17", f"statement time {entry.statement.time!r} is not a valid UTC date-time")
        try:
            yield from self._binding_rules(entry, seq)
            needed = self._requirement(entry, seq)
            yield from self._signature_rules(entry, seq, needed)
            yield from self._seal_rule(entry, seq, needed.policy)
            if entry.type == GENESIS_TYPE:
                yield from self._genesis_rules(entry, seq)
            if entry.type == "policy.update":
                yield from self._policy_update_rules(entry, seq)
        except _Reject as rejected:
            yield rejected.violation

    def _core_ok(self, entry: Entry) -> bool:
        """True only if :meth:`_core_rules` would find nothing; False means "not decided here".

        The common case, an entry that is neither genesis nor ``policy.update`` (so nothing is
        added to the policy in force and the requirement is the policy's role for the type),
        checked without building requirements, threshold results or generators. Each test
        below is the negation of one rule of ``_core_rules`` for that case; an entry that
        fails any of them, or any other entry, is judged (and its violations worded) by
        ``_core_rules`` itself, so the report is unchanged."""
        context = self.context
        policy, head, ledger_id = context.policy, self.head, context.ledger_id
        seq = context.size
        if entry.seq != seq or policy is None or head is None or ledger_id is None:
            return False  # R-7.7 (no genesis yet, or entry 0)
        statement = entry.statement
        obj = statement.obj
        kind = ENTRY_TYPES.get(obj["type"])
        if kind is None or kind.name == GENESIS_TYPE or kind.name == "policy.update":
            return False
        if kind.escalate is not None:  # a body that needs another role (SPEC.md 10.1)
            kind = kind.for_body(obj["body"])
        if entry.prev != head.hex() or obj.get("ledger") != ledger_id:
            return False
        if not _valid_time(obj["time"]):
            return False
        if self.statements.get(_digest_key(statement.digest)) is not None:
            return False
        role = policy.roles.get(kind.role)
        operators = policy.roles.get("operator")
        if role is None or operators is None or len(entry.signatures) < role.threshold:
            return False
        keys, members = policy.keys, role.key_ids
        message = statement.signing_message
        previous = None
        for signature in entry.signatures:
            key_id = signature.key_id
            if previous is not None and key_id <= previous:  # sorted, one per key
                return False
            previous = key_id
            public = keys.get(key_id)
            if public is None or key_id not in members:
                return False
            if not self._signature_valid("s", public, signature.sig, message):
                return False
        # every signature is a distinct valid key of the role, at least threshold many.
        seal = entry.seal
        if seal.key_id not in operators.key_ids:
            return False
        return self._signature_valid("e", keys[seal.key_id], seal.sig, seal_signing_message(entry.unsealed_bytes()))

    def _binding_rules(self, entry: Entry, seq: int) -> Iterator[Violation]:
        is_genesis = entry.type == GENESIS_TYPE
        # exactly one genesis, at 0, unbound; every other statement names this ledger.
        if seq == 0 and not is_genesis:
            raise _Reject(Violation(seq, "R-7.7", f"the first entry must be {GENESIS_TYPE}, found {entry.type}"))
        if seq != 0 and is_genesis:
            raise _Reject(Violation(seq, "R-7.7", "a second genesis statement: a ledger has exactly one, at entry 0"))
        if is_genesis and entry.statement.ledger_id is not None:
            yield Violation(seq, "R-7.7", "the genesis statement must not carry a ledger id")
        if not is_genesis:
            if self.context.ledger_id is None:
                raise _Reject(Violation(seq, "R-7.7", "no valid genesis: nothing after it can be trusted"))
            if entry.statement.ledger_id != self.context.ledger_id:
                yield Violation(
                    seq,
                    "R-7.7",
                    f"statement belongs to another ledger (expected ledger {self.context.ledger_id[:16]}…, "
                    f"found {str(entry.statement.ledger_id)[:16]}…)",
                )
        # a statement is appended at most once.
        earlier = self.statements.get(_digest_key(entry.statement.digest))
        if earlier is not None:
            yield Violation(seq, "R-7.8", f"duplicate statement: already appended at entry {earlier}")

    def _requirement(self, entry: Entry, seq: int) -> Requirement:
        try:
            return requirement(entry.statement, self.context.policy)
        except LedgerError as exc:
            if exc.rule is not None:
                raise _Reject(Violation(seq, exc.rule, exc.message)) from None
            raise _Reject(Violation(seq, "R-7.16", f"invalid policy: {exc.message}")) from None

    def _signature_rules(self, entry: Entry, seq: int, needed: Requirement) -> Iterator[Violation]:
        policy, kind = needed.policy, needed.kind
        ids = [s.key_id for s in entry.signatures]
        # signatures are sorted by key id, one per key.
        if ids != sorted(set(ids)):
            yield Violation(seq, "R-7.9", "signatures must be sorted by key id with at most one per key")
        message = entry.statement.signing_message
        verified: set[str] = set()
        for signature in entry.signatures:
            label = signature.key_id[:12]
            public = needed.key(signature.key_id)
            # every signer is a key of the policy in force (or one this statement adds).
            if public is None:
                revoked_at = self.revoked.get(signature.key_id)
                if revoked_at is not None:
                    yield Violation(seq, "R-7.10", f"signature by key {label} which was revoked at entry {revoked_at}")
                else:
                    yield Violation(seq, "R-7.10", f"signature by key {label} which is not in policy version {policy.version}")
                continue
            # every signature verifies over the domain-separated statement.
            if not self._signature_valid("s", public, signature.sig, message):
                yield Violation(seq, "R-7.11", f"signature by {policy.label(signature.key_id) if signature.key_id in policy.keys else label} does not verify")
                continue
            # every signer holds the role the type requires (or is a key being added).
            if not needed.may_sign(signature.key_id):
                roles = ", ".join(policy.role_of(signature.key_id)) or "none"
                yield Violation(seq, "R-7.12", f"{entry.type} requires role {kind.role!r}; key {policy.label(signature.key_id)} has role {roles}")
                continue
            verified.add(signature.key_id)
        # the role's threshold of distinct keys is reached.
        status = needed.evaluate(verified)
        if not status.threshold.reached:
            yield Violation(seq, "R-7.13", f"{entry.type} needs {status.threshold.threshold} distinct {kind.role} signatures, found {len(status.threshold.signed)} valid")
        # every key the statement adds proves possession by signing it.
        for key_id in sorted(status.missing_added):
            yield Violation(seq, "R-7.14", f"key {key_id[:12]} is added by this statement but did not sign it")

    def _seal_rule(self, entry: Entry, seq: int, policy: Policy) -> Iterator[Violation]:
        # sealed by an operator key of the policy in force (for genesis, its own).
        operator_ids = policy.roles["operator"].key_ids
        if entry.seal.key_id not in operator_ids:
            yield Violation(seq, "R-7.15", f"seal by key {entry.seal.key_id[:12]} which is not an operator key of policy version {policy.version}")
            return
        if not self._signature_valid("e", policy.keys[entry.seal.key_id], entry.seal.sig,
                                     seal_signing_message(entry.unsealed_bytes())):
            yield Violation(seq, "R-7.15", "operator seal does not verify (the entry was changed after sealing)")

    def _signature_valid(self, kind: str, public: Any, sig: bytes, message: bytes) -> bool:
        """Ed25519 verification of ``sig`` over ``message`` (R-7.11, R-7.15).

        A precomputed result is used only for the same public key and signature bytes; it
        was computed over the message that this entry's bytes give for ``kind`` (the same
        decoding code on the same bytes), so it is the value ``public.verify`` returns."""
        if self.precomputed is not None:
            known = self.precomputed.get((kind, public.raw, sig))
            if known is not None:
                return known
        return public.verify(sig, message)

    def _genesis_rules(self, entry: Entry, seq: int) -> Iterator[Violation]:
        # the genesis policy is version 1 (SPEC 6.3); updates count up from it.
        version = entry.statement.body["policy"]["version"]
        if version != 1:
            yield Violation(seq, "R-7.19", f"the genesis policy must be version 1, found version {version}")

    def _policy_update_rules(self, entry: Entry, seq: int) -> Iterator[Violation]:
        assert self.context.policy is not None
        old = self.context.policy
        body = entry.statement.body
        new = Policy.from_json(body["policy"])  # valid: _requirement built it already
        # versions go up by one; revocations are of current keys and permanent.
        if new.version != old.version + 1:
            yield Violation(seq, "R-7.16", f"expected policy version {old.version + 1}, found {new.version}")
        for key_id in body["revoke"]:
            if key_id not in old.keys:
                yield Violation(seq, "R-7.16", f"revokes key {key_id[:12]} which is not in policy version {old.version}")
            if key_id in new.keys:
                yield Violation(seq, "R-7.16", f"revokes key {key_id[:12]} but keeps it in the new policy")
        if len(set(body["revoke"])) != len(body["revoke"]):
            yield Violation(seq, "R-7.16", "the revoke list names a key twice")
        for key_id in new.keys:
            if key_id in self.revoked:
                yield Violation(seq, "R-7.16", f"key {key_id[:12]} was revoked at entry {self.revoked[key_id]} and may not return")

    # -- effects ------------------------------------------------------------------------

    def _apply(self, entry: Entry) -> None:
        seq = self.context.size
        if entry.type == GENESIS_TYPE:
            self.context.ledger_id = entry.statement.digest.hex()
            self.context.origin = entry.statement.body["origin"]
            self.context.policy = Policy.from_json(entry.statement.body["policy"])
        elif entry.type == "policy.update":
            for key_id in entry.statement.body["revoke"]:
                self.revoked[key_id] = seq
            self.context.policy = Policy.from_json(entry.statement.body["policy"])
