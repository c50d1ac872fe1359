"""Statement files and detached signature files (SPEC.md section 4.4).

Panel members pass a statement file around, or each signs a copy, or each writes a detached
signature file, on their own machines; the private keys never meet the ledger host. Each
signature carries its public key so that every signer can check the ones already present
without access to the ledger. ``ledger combine`` merges copies and signature files
(:func:`combine`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InputError, LedgerError, SignatureError
from . import canonical
from .authority import Status, requirement
from .entry_types import ENTRY_TYPES
from .keys import PublicKey, SigningKey
from .model import Signature, Statement, b64encode
from .policy import Policy
from .validation import validate

FILE_SCHEMA = "urn:violence-scoring-ledger:v1:statement-file"
SIGNATURE_SCHEMA = "urn:violence-scoring-ledger:v1:signature-file"
SIGNATURE_FORMAT = "violence-scoring-ledger/v1/signature"


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
        self.merge(public, signature)

    def merge(self, public: PublicKey, signature: Signature) -> bool:
        """Add a verified signature; False (and nothing added) if this key has signed already."""
        if public.key_id != signature.key_id:
            raise SignatureError(f"key id {signature.key_id[:12]} does not match its public key")
        if not public.verify(signature.sig, self.statement.signing_message):
            raise SignatureError(f"signature by key {signature.key_id[:12]} does not verify over this statement")
        if signature.key_id in self.signatures:
            return False
        self.signatures[signature.key_id] = (public, signature)
        return True

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


@dataclass(frozen=True)
class SignatureFile:
    """A detached signature (SPEC.md 4.4): one key's signature over one statement, named by
    the statement digest, as minisign and cosign users keep signatures beside the file."""

    statement_digest: str
    public: PublicKey
    signature: Signature

    @classmethod
    def of(cls, statement: Statement, key: SigningKey) -> "SignatureFile":
        return cls(statement.digest.hex(), key.public, statement.sign(key))

    @classmethod
    def parse(cls, data: bytes, name: str = "signature file") -> "SignatureFile":
        """Parse strictly (the signature itself is checked against a statement by merging)."""
        try:
            obj = canonical.parse(data[:-1] if data.endswith(b"\n") else data)
            validate(SIGNATURE_SCHEMA, obj, "$")
            public = PublicKey.from_base64(obj["public_key"])
            signature = Signature.from_json(obj)
        except LedgerError as exc:
            raise type(exc)(f"{name}: {exc.message}") from None
        if public.key_id != obj["key_id"]:
            raise SignatureError(f"{name}: key id {obj['key_id'][:12]} does not match its public key")
        return cls(obj["statement_digest"], public, signature)

    def to_bytes(self) -> bytes:
        """Canonical JSON followed by a newline."""
        return canonical.encode({
            "format": SIGNATURE_FORMAT, "statement_digest": self.statement_digest, "key_id": self.public.key_id,
            "public_key": self.public.base64, "sig": b64encode(self.signature.sig),
        }) + b"\n"


def is_signature_file(data: bytes) -> bool:
    """Whether ``data`` looks like a signature file rather than a statement file (by its
    ``format`` member; either is then parsed strictly)."""
    return b'"format":"' + SIGNATURE_FORMAT.encode() + b'"' in data[:200]


def differences(a: object, b: object, where: str = "statement") -> list[tuple[str, object, object]]:
    """Where two JSON values differ: (path, value in a, value in b), in a stable order."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[tuple[str, object, object]] = []
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                out.append((f"{where}.{key}", a.get(key, "(absent)"), b.get(key, "(absent)")))
            else:
                out.extend(differences(a[key], b[key], f"{where}.{key}"))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{where}[{i}]")]
    return [] if type(a) is type(b) and a == b else [(where, a, b)]


@dataclass
class Combined:
    """The outcome of :func:`combine`: the merged file and what was dropped."""

    document: StatementFile
    duplicates: int = 0


def combine(inputs: list[tuple[str, bytes]]) -> Combined:
    """Merge statement files (copies signed in parallel) and signature files, given as
    (name, bytes): every signature is checked, a key's second signature is dropped, and
    copies whose statement bytes differ are refused, naming each differing field."""
    first = next((i for i, (_, data) in enumerate(inputs) if not is_signature_file(data)), None)
    if first is None:
        raise InputError("no statement file among the inputs: a signature file needs the statement it signs")
    first_name = inputs[first][0]
    result = Combined(StatementFile.parse(inputs[first][1], first_name))
    reference = result.document.statement
    for name, data in inputs[:first] + inputs[first + 1:]:
        if is_signature_file(data):
            detached = SignatureFile.parse(data, name)
            if detached.statement_digest != reference.digest.hex():
                raise SignatureError(
                    f"{name}: signs statement {detached.statement_digest[:16]}…, not the statement of {first_name} "
                    f"({reference.digest.hex()[:16]}…)")
            pairs = [(detached.public, detached.signature)]
        else:
            copy = StatementFile.parse(data, name)
            if copy.statement.raw != reference.raw:
                shown = "; ".join(f"{path}: {_show(x)} in {first_name} vs {_show(y)} in {name}"
                                  for path, x, y in differences(reference.obj, copy.statement.obj)[:5])
                raise SignatureError(f"{name} holds a different statement from {first_name}: {shown}")
            pairs = list(copy.signatures.values())
        for public, signature in pairs:
            try:
                added = result.document.merge(public, signature)
            except SignatureError as exc:
                raise SignatureError(f"{name}: {exc.message}") from None
            result.duplicates += not added
    return result


def _show(value: object) -> str:
    text = value if isinstance(value, str) and value == "(absent)" else canonical.encode(value).decode("utf-8")
    return text if len(text) <= 80 else text[:77] + "..."
