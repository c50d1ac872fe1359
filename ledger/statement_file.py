"""Statement files: a statement plus the signatures gathered so far (SPEC.md section 4.4).

Panel members pass this file around and sign it on their own machines; the private keys
never meet the ledger host. Each signature carries its public key so that every signer can
check the ones already present without access to the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import canonical
from .authority import Status, requirement
from .entry_types import ENTRY_TYPES
from .errors import LedgerError, SignatureError
from .keys import PublicKey, SigningKey
from .model import Signature, Statement, b64encode
from .policy import Policy
from .validation import validate

FILE_SCHEMA = "urn:violence-scoring-ledger:v1:statement-file"


@dataclass
class StatementFile:
    """A statement with its verified signatures, keyed by key id."""

    statement: Statement
    signatures: dict[str, tuple[PublicKey, Signature]] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: bytes, name: str = "statement file") -> "StatementFile":
        """Parse strictly; every signature present must verify, or SignatureError."""
        try:
            obj = canonical.parse(data.rstrip(b"\n") if data.endswith(b"\n") else data)
            validate(FILE_SCHEMA, obj, "$")
            kind = ENTRY_TYPES.get(obj["statement"]["type"])
            if kind is None:
                raise SignatureError(f"unknown statement type {obj['statement']['type']!r}")
            validate(kind.schema_id, obj["statement"]["body"], "$.statement.body")
        except LedgerError as exc:
            raise type(exc)(f"{name}: {exc.message}") from None
        result = cls(Statement.from_obj(obj["statement"]))
        for item in obj["signatures"]:
            try:  # SPEC 3.1 "Public keys" and 3.3
                public = PublicKey.from_base64(item["public_key"])
            except SignatureError as exc:
                raise SignatureError(f"{name}: public key of signer {item['key_id'][:12]}: {exc.message}") from None
            if public.key_id != item["key_id"]:
                raise SignatureError(f"{name}: key id {item['key_id'][:12]} does not match its public key")
            result._add(public, Signature.from_json(item))
        return result

    def to_bytes(self) -> bytes:
        """Canonical JSON followed by a newline."""
        sigs = [
            {"key_id": kid, "public_key": pk.base64, "sig": b64encode(sig.sig)}
            for kid, (pk, sig) in sorted(self.signatures.items())
        ]
        return canonical.encode({"statement": self.statement.obj, "signatures": sigs}) + b"\n"

    def _add(self, public: PublicKey, signature: Signature) -> None:
        if signature.key_id in self.signatures:
            raise SignatureError(f"key {signature.key_id[:12]} has already signed this statement")
        if not public.verify(signature.sig, self.statement.signing_message):
            raise SignatureError(f"signature by key {signature.key_id[:12]} does not verify over this statement")
        self.signatures[signature.key_id] = (public, signature)

    def sign(self, key: SigningKey) -> Signature:
        """Add ``key``'s signature; refuses a second signature by the same key."""
        if key.public.key_id in self.signatures:
            raise SignatureError(f"key {key.public.key_id[:12]} has already signed this statement")
        signature = self.statement.sign(key)
        self._add(key.public, signature)
        return signature

    def signature_list(self) -> list[Signature]:
        return [sig for _, (_, sig) in sorted(self.signatures.items())]

    def status(self, policy_in_force: Policy | None) -> Status:
        """Who signed, who is missing, and whether the statement may be appended."""
        needed = requirement(self.statement, policy_in_force)
        counted = [k for k, (pk, _) in self.signatures.items() if needed.key(k) == pk and needed.may_sign(k)]
        return needed.evaluate(counted)
