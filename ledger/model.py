"""Statements and entries: the signed objects and their exact bytes (SPEC.md sections 4-5).

A *statement* is what authors sign. An *entry* is a statement with its signatures, placed at
a sequence number, chained to the previous entry and sealed by the operator. This module
only builds and takes apart these objects; it decides nothing about authority.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any, Mapping

from . import canonical
from .errors import CanonicalError, SchemaError, SignatureError
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
        raise SignatureError(f"{what} is not valid base64") from None
    if len(raw) != length or b64encode(raw) != text:
        raise SignatureError(f"{what} must be the canonical base64 of {length} bytes")
    return raw


def statement_signing_message(statement_bytes: bytes) -> bytes:
    """The exact bytes an author signs: domain separation, then the canonical statement."""
    return STATEMENT_CONTEXT + statement_bytes


def seal_signing_message(unsealed_entry_bytes: bytes) -> bytes:
    """The exact bytes the operator signs to seal an entry (the entry without ``seal``)."""
    return ENTRY_CONTEXT + unsealed_entry_bytes


@dataclass(frozen=True)
class Signature:
    """One Ed25519 signature; ``key_id`` names the key, derived from it (SPEC 3)."""

    key_id: str
    sig: bytes

    def to_json(self) -> dict[str, str]:
        return {"key_id": self.key_id, "sig": b64encode(self.sig)}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "Signature":
        return cls(obj["key_id"], b64decode(obj["sig"], length=64, what=f"signature by {obj['key_id'][:12]}"))


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

    @property
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

    @property
    def leaf_hash(self) -> bytes:
        """RFC 6962 leaf hash of ``raw``; also the value the next entry's ``prev`` carries."""
        return leaf_hash(self.raw)

    @property
    def type(self) -> str:
        return self.statement.type

    def unsealed_bytes(self) -> bytes:
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
    seal = Signature(operator.public.key_id, operator.sign(seal_signing_message(
        unsealed_entry_bytes(seq, prev, statement, signatures))))
    obj = {
        "seq": seq,
        "prev": prev,
        "statement": statement.obj,
        "signatures": [s.to_json() for s in signatures],
        "seal": seal.to_json(),
    }
    return Entry(seq, prev, statement, signatures, seal, canonical.encode(obj))


def decode_entry(raw: bytes, obj: dict[str, Any]) -> Entry:
    """Build an Entry from bytes already parsed and schema-checked (see ``verify``)."""
    statement_obj = obj["statement"]
    try:
        signatures = tuple(Signature.from_json(s) for s in obj["signatures"])
        seal = Signature.from_json(obj["seal"])
    except KeyError as exc:  # pragma: no cover - the schema guarantees presence
        raise SchemaError(f"missing member {exc}") from None
    return Entry(
        seq=obj["seq"],
        prev=obj["prev"],
        statement=Statement(statement_obj, canonical.encode(statement_obj)),
        signatures=signatures,
        seal=seal,
        raw=raw,
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
