"""Statements and entries: the signed objects and their exact bytes (SPEC.md sections 4-5).

A *statement* is what authors sign. An *entry* is a statement with its signatures, placed at
a sequence number, chained to the previous entry and sealed by the operator. This module
only builds and takes apart these objects; it decides nothing about authority.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Any, Mapping

import orjson

from ..errors import CanonicalError, SchemaError, SignatureError
from . import canonical, fastpaths
from .keys import PublicKey, SigningKey
from .merkle import leaf_hash

FORMAT_VERSION = 1
STATEMENT_CONTEXT = b"violence-scoring-ledger/v1/statement\n"
ENTRY_CONTEXT = b"violence-scoring-ledger/v1/entry\n"
GENESIS_PREV = "0" * 64
GENESIS_TYPE = "ledger.genesis"
# An entry fits a C2SP tlog-tiles entry bundle record (2-byte length prefix): at most 65535 bytes.
MAX_ENTRY_BYTES = 65535


def b64encode(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 section 4)."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, *, length: int, what: str) -> bytes:
    """Strict base64: the canonical encoding of exactly ``length`` bytes, or SignatureError."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise SignatureError(f"{what} is not valid base64", rule="R-7.2") from None
    if len(raw) != length or b64encode(raw) != text:  # SPEC 3.3: a malformed signature is
        raise SignatureError(f"{what} must be the canonical base64 of {length} bytes", rule="R-7.2")
    return raw


def statement_signing_message(statement_bytes: bytes) -> bytes:
    """The exact bytes an author signs: domain separation, then the canonical statement."""
    return STATEMENT_CONTEXT + statement_bytes


def seal_signing_message(unsealed_entry_bytes: bytes) -> bytes:
    """The exact bytes the operator signs to seal an entry (the entry without ``seal``)."""
    return ENTRY_CONTEXT + unsealed_entry_bytes


class _computed_once:
    """``functools.cached_property`` without its per-access lock (Python 3.11 takes an
    RLock on every first access): the value is a pure function of the frozen instance,
    so computing it twice in a race would store the same bytes."""

    def __init__(self, func: Any) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value


@dataclass(frozen=True)
class Signature:
    """One Ed25519 signature; ``key_id`` names the key, derived from it (SPEC 3)."""

    key_id: str
    sig: bytes

    def to_json(self) -> dict[str, str]:
        return {"key_id": self.key_id, "sig": b64encode(self.sig)}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "Signature":
        key_id = obj["key_id"]
        return cls(key_id, b64decode(obj["sig"], length=64, what=f"signature by {key_id[:12]}"))


@dataclass(frozen=True)
class Statement:
    """A parsed statement with its canonical bytes and SHA-256 digest."""

    obj: dict[str, Any]
    raw: bytes

    @property
    def type(self) -> str:
        return self.obj["type"]

    @property
    def body(self) -> dict[str, Any]:
        return self.obj["body"]

    @property
    def time(self) -> str:
        return self.obj["time"]

    @property
    def ledger_id(self) -> str | None:
        return self.obj.get("ledger")

    @_computed_once
    def digest(self) -> bytes:
        return hashlib.sha256(self.raw).digest()

    @property
    def signing_message(self) -> bytes:
        return statement_signing_message(self.raw)

    def sign(self, key: SigningKey) -> Signature:
        return Signature(key.public.key_id, key.sign(self.signing_message))

    @classmethod
    def build(cls, type_: str, body: Mapping[str, Any], time: str, ledger_id: str | None) -> "Statement":
        """Assemble a statement; ``ledger_id`` is None only for the genesis statement."""
        obj: dict[str, Any] = {"v": FORMAT_VERSION, "type": type_, "time": time, "body": dict(body)}
        if ledger_id is not None:
            obj["ledger"] = ledger_id
        return cls(obj, canonical.encode(obj))

    @classmethod
    def from_obj(cls, obj: dict[str, Any]) -> "Statement":
        return cls(obj, canonical.encode(obj))


def ledger_id_of(genesis: Statement) -> str:
    """A ledger's identity: lowercase hex SHA-256 of its genesis statement's bytes (SPEC 4.2)."""
    return genesis.digest.hex()


@dataclass(frozen=True)
class Entry:
    """A sealed entry as it appears on a bundle line; ``raw`` is exactly what was hashed."""

    seq: int
    prev: str
    statement: Statement
    signatures: tuple[Signature, ...]
    seal: Signature
    raw: bytes
    # The unsealed entry bytes when already known (decode_entry slices them from ``raw``).
    unsealed: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def leaf_hash(self) -> bytes:
        """RFC 6962 leaf hash of ``raw``; also the value the next entry's ``prev`` carries."""
        return leaf_hash(self.raw)

    @property
    def type(self) -> str:
        return self.statement.type

    def unsealed_bytes(self) -> bytes:
        if self.unsealed is not None:
            return self.unsealed
        return unsealed_entry_bytes(self.seq, self.prev, self.statement, self.signatures)


def unsealed_entry_bytes(seq: int, prev: str, statement: Statement, signatures: tuple[Signature, ...]) -> bytes:
    return canonical.encode(
        {"seq": seq, "prev": prev, "statement": statement.obj, "signatures": [s.to_json() for s in signatures]}
    )


def seal_entry(
    seq: int, prev: str, statement: Statement, signatures: tuple[Signature, ...], operator: SigningKey
) -> Entry:
    """Place a signed statement at ``seq`` after ``prev`` and seal it with the operator key."""
    signatures = tuple(sorted(signatures, key=lambda s: s.key_id))
    unsealed = unsealed_entry_bytes(seq, prev, statement, signatures)
    seal = Signature(operator.public.key_id, operator.sign(seal_signing_message(unsealed)))
    # The sealed entry's canonical bytes are the unsealed ones with the member "seal" put
    # in its sorted place, right after "prev" (prev < seal < seq): the inverse of
    # _split_canonical_entry, so the entry is encoded once, not twice.
    head = b'{"prev":' + canonical.encode(prev) + b","
    if unsealed.startswith(head):
        raw = head + b'"seal":' + canonical.encode(seal.to_json()) + b"," + unsealed[len(head):]
    else:  # pragma: no cover - canonical encoding always starts with the first member
        raw = canonical.encode({"seq": seq, "prev": prev, "statement": statement.obj,
                                "signatures": [s.to_json() for s in signatures], "seal": seal.to_json()})
    return Entry(seq, prev, statement, signatures, seal, raw, unsealed=unsealed)


_SORTED = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def _member_bytes(value: Any) -> bytes | None:
    """Some JSON encoding of a member value (orjson, sorted keys), or None if it has none.

    Used only for the entry's small members, and only as a candidate: the result is
    checked against ``raw`` by :func:`_split_canonical_entry`, never trusted on its own."""
    try:
        return orjson.dumps(value, option=_SORTED)
    except orjson.JSONEncodeError:
        return None


def _split_canonical_entry(raw: bytes, obj: dict[str, Any]) -> tuple[bytes, bytes] | None:
    """(statement bytes, unsealed entry bytes) sliced out of ``raw``, or None.

    Precondition: ``raw == canonical.encode(obj)`` and ``obj`` has exactly the members
    ``prev``, ``seal``, ``seq``, ``signatures``, ``statement`` (what ``parse_canonical``
    and the entry schema establish). RFC 8785 encodes an object member by member, sorted
    by name (here plain ASCII order, which is the order just listed), so

        raw = '{"prev":' E(prev) ',"seal":' E(seal) ',"seq":' E(seq)
              ',"signatures":' E(signatures) ',"statement":' E(statement) '}'

    where E is :func:`ledger.core.canonical.encode`. The statement is the last member, so its
    canonical bytes are what follows the head up to the final ``}``; and the canonical
    bytes of the entry without ``seal`` are ``raw`` with ``"seal":E(seal),`` cut out.

    Only the small members are encoded here (never the statement), and the result is used
    only if it is a prefix of ``raw``: each encoded member is one complete JSON value
    followed by a fixed delimiter, and a JSON value starting at a given offset of a JSON
    text is unique, so a matching head has exactly raw's member boundaries (whichever
    encoder wrote the candidate). On any mismatch (which the precondition rules out) the
    caller re-encodes instead.
    """
    if len(obj) != 5 or type(obj.get("seq")) is not int:
        return None
    prev, seal = _member_bytes(obj.get("prev")), _member_bytes(obj.get("seal"))
    seq, signatures = _member_bytes(obj.get("seq")), _member_bytes(obj.get("signatures"))
    if prev is None or seal is None or seq is None or signatures is None:  # pragma: no cover
        return None
    prev_member = b'{"prev":' + prev + b","
    seal_member = b'"seal":' + seal + b","
    head = prev_member + seal_member + b'"seq":' + seq + b',"signatures":' + signatures + b',"statement":'
    if raw[-1:] != b"}" or not raw.startswith(head):
        return None
    return raw[len(head):-1], prev_member + raw[len(prev_member) + len(seal_member):]


def decode_entry(raw: bytes, obj: dict[str, Any]) -> Entry:
    """Build an Entry from bytes already parsed and schema-checked (see ``verify``).

    ``raw`` must be the canonical encoding of ``obj`` (``canonical.parse_canonical``):
    the statement bytes and the unsealed bytes are then slices of ``raw``
    (:func:`_split_canonical_entry`), identical to re-encoding them.
    """
    statement_obj = obj["statement"]
    try:
        signatures = tuple(Signature.from_json(s) for s in obj["signatures"])
        seal = Signature.from_json(obj["seal"])
    except KeyError as exc:  # pragma: no cover - the schema guarantees presence
        raise SchemaError(f"missing member {exc}") from None
    parts = _split_canonical_entry(raw, obj) if fastpaths.ENABLED else None
    if parts is None:  # the reference path (or, never under the precondition, no match): encode
        statement = Statement(statement_obj, canonical.encode(statement_obj))
        unsealed = None
    else:
        statement = Statement(statement_obj, parts[0])
        unsealed = parts[1]
    return Entry(
        seq=obj["seq"],
        prev=obj["prev"],
        statement=statement,
        signatures=signatures,
        seal=seal,
        raw=raw,
        unsealed=unsealed,
    )


def verify_signature(public: PublicKey, signature: Signature, message: bytes) -> bool:
    return public.verify(signature.sig, message)


__all__ = [
    "CanonicalError",
    "Entry",
    "Signature",
    "Statement",
    "decode_entry",
    "ledger_id_of",
    "seal_entry",
]
