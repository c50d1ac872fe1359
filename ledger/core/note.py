"""C2SP signed-note, tlog-checkpoint, tlog-cosignature (v1) and tlog-proof (SPEC.md section 14).

Pure module: bytes and objects in, bytes and objects out; times are passed in as ints.

* signed-note (c2sp.org/signed-note): ``text`` (UTF-8, ends in U+000A, no control characters
  other than U+000A) + ``"\\n"`` + one or more lines ``"— <name> <base64(keyid4 || sig)>\\n"``
  (U+2014 EM DASH, space). Ed25519 signature type ``0x01`` signs exactly ``text``.
  ``key ID = SHA-256(name || 0x0A || type || public key)[:4]``, big-endian uint32.
* Verifier keys (vkeys): ``<name>+<8 hex key ID>+<base64(type || public key)>``.
* tlog-checkpoint: origin line, decimal size (no leading zeros), base64 root hash, optional
  non-empty extension lines; each line ends in U+000A.
* tlog-cosignature v1 (type ``0x04``, Ed25519): signature bytes
  ``keyid4 || u64be timestamp || ed25519 sig (64)``; signed message
  ``"cosignature/v1\\ntime <timestamp>\\n" || checkpoint text``.
* tlog-proof (c2sp.org/tlog-proof): ``c2sp.org/tlog-proof@v1``, optional ``extra <b64>``,
  ``index <n>``, zero or more base64 inclusion-proof hashes, an empty line, then the signed
  checkpoint note verbatim.

Policy choices (all within the specs): base64 must be canonical standard base64 with
padding (RFC 4648 section 4); a note may carry at most :data:`MAX_SIGNATURES` signature
lines and :data:`MAX_NOTE_SIZE` bytes; identical signature lines are counted once; every
signature whose (name, key ID) matches a known key is verified, and a failure rejects the
whole note (the spec's SHOULD); checkpoints require a 32-byte root hash (RFC 6962 SHA-256).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import ProofError, SignatureError
from .keys import check_public_key
from .merkle import HASH_SIZE, leaf_hash as _leaf_hash, verify_inclusion

SIG_ED25519 = 0x01
SIG_COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100  # C2SP: verifiers MUST accept at least 16; golang.org/x/mod caps at 100
MAX_NOTE_SIZE = 1 << 20  # bytes, whole note
MAX_U64 = (1 << 64) - 1
MAX_TIMESTAMP = (1 << 63) - 1  # tlog-cosignature: MUST NOT exceed 2^63 - 1
EM_DASH_PREFIX = "\u2014 "
COSIGNATURE_V1_HEADER = "cosignature/v1\n"
TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"

_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_HEX8 = re.compile(r"[0-9a-fA-F]{8}\Z")


# --------------------------------------------------------------------------- encoding helpers


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, what: str) -> bytes:
    """Strict standard base64 with padding; the encoding must be canonical."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ProofError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise ProofError(f"{what} is not canonical base64")
    return raw


def _parse_decimal(text: str, what: str, maximum: int = MAX_U64) -> int:
    if not _DECIMAL.match(text):
        raise ProofError(f"{what} {text!r} is not a decimal number without leading zeros")
    value = int(text)
    if value > maximum:
        raise ProofError(f"{what} {text} is too large (maximum {maximum})")
    return value


def valid_key_name(name: str) -> bool:
    """signed-note: non-empty, no Unicode spaces, no '+', no control characters."""
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in name)
    )


# The characters _check_text refuses: controls other than "\n", and surrogates.
_BAD_TEXT_CHAR = re.compile("[\x00-\x09\x0b-\x1f\ud800-\udfff]")


def _check_text(text: str, what: str = "note text") -> None:
    found = _BAD_TEXT_CHAR.search(text)  # the first refused character, as a scan would find
    if found is not None:
        c = found.group()
        if ord(c) < 0x20:
            raise ProofError(f"{what} contains control character U+{ord(c):04X}")
        raise ProofError(f"{what} is not valid UTF-8")


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || type || public key)[:4]`` (4 bytes, big-endian uint32)."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


# --------------------------------------------------------------------------- Ed25519 boundary


def _ed25519_verify(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


class _Ed25519Key:
    """Adapts a signing key: ledger.core.keys.SigningKey (``.sign``/``.public``), a cryptography
    Ed25519PrivateKey, or a 32-byte RFC 8032 seed."""

    def __init__(self, key: Any) -> None:
        if isinstance(key, (bytes, bytearray)):
            if len(key) != 32:
                raise ProofError("an Ed25519 seed must be 32 bytes")
            key = Ed25519PrivateKey.from_private_bytes(bytes(key))
        if isinstance(key, Ed25519PrivateKey):
            self._sign = key.sign
            self.public = key.public_key().public_bytes_raw()
        elif hasattr(key, "sign") and hasattr(key, "public"):
            pub = key.public
            self._sign = key.sign
            self.public = bytes(pub.raw if hasattr(pub, "raw") else pub)
        else:
            raise TypeError("unsupported signing key type")
        if len(self.public) != 32:
            raise ProofError("an Ed25519 public key must be 32 bytes")

    def sign(self, message: bytes) -> bytes:
        sig = bytes(self._sign(message))
        if len(sig) != 64:
            raise ProofError("Ed25519 signature must be 64 bytes")
        return sig


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class VerifierKeyFields:
    """The syntactic fields of a vkey string (nothing about the key is checked)."""

    name: str
    key_id: bytes
    sig_type: int
    public_key: bytes


def parse_verifier_key(vkey: str) -> VerifierKeyFields:
    """Split a vkey ``name+hex8+base64(type||key)`` on its first two '+' (syntax only)."""
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise ProofError(f"verifier key {vkey!r} does not have the form name+keyid+key")
    name, hex8, b64 = parts
    if not valid_key_name(name):
        raise ProofError(f"verifier key has an invalid key name {name!r}")
    if not _HEX8.match(hex8):
        raise ProofError(f"verifier key id {hex8!r} is not 8 hex digits")
    raw = b64decode(b64, "verifier key material")
    if len(raw) < 1:
        raise ProofError("verifier key material is empty")
    return VerifierKeyFields(name, bytes.fromhex(hex8), raw[0], raw[1:])


def verifier_key_string(name: str, public_raw: bytes, sig_type: int = SIG_ED25519) -> str:
    """The vkey of an Ed25519 note key (type 0x01) or cosignature/v1 key (type 0x04)."""
    if not valid_key_name(name):
        raise ProofError(f"invalid key name {name!r}")
    if sig_type not in (SIG_ED25519, SIG_COSIGNATURE_V1) or len(public_raw) != 32:
        raise ProofError("only 32-byte Ed25519 keys of type 0x01 or 0x04 are supported")
    kid = key_id(name, sig_type, public_raw)
    return f"{name}+{kid.hex()}+{b64encode(bytes([sig_type]) + public_raw)}"


def cosigner_key_string(name: str, public_raw: bytes) -> str:
    """The vkey of an Ed25519 cosignature/v1 witness key (type 0x04)."""
    return verifier_key_string(name, public_raw, SIG_COSIGNATURE_V1)


def signer_key_string(name: str, seed: bytes) -> str:
    """golang.org/x/mod signer key ``PRIVATE+KEY+name+hex8+base64(0x01||seed)`` (tests only)."""
    if len(seed) != 32:
        raise ProofError("an Ed25519 seed must be 32 bytes")
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    kid = key_id(name, SIG_ED25519, public)
    return f"PRIVATE+KEY+{name}+{kid.hex()}+{b64encode(bytes([SIG_ED25519]) + seed)}"


def parse_signer_key(skey: str) -> tuple[str, bytes]:
    """``PRIVATE+KEY+name+hex8+base64(0x01||seed)`` -> (name, seed); the key id is checked."""
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise ProofError("signer key does not have the form PRIVATE+KEY+name+keyid+key")
    _, _, name, hex8, b64 = parts
    if not valid_key_name(name) or not _HEX8.match(hex8):
        raise ProofError("signer key has an invalid name or key id")
    raw = b64decode(b64, "signer key material")
    if len(raw) != 33 or raw[0] != SIG_ED25519:
        raise ProofError("signer key is not a type 0x01 Ed25519 seed")
    seed = raw[1:]
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    if key_id(name, SIG_ED25519, public) != bytes.fromhex(hex8):
        raise ProofError("signer key id does not match the key")
    return name, seed


class NoteVerifier:
    """A known key: name, 4-byte key ID, signature type (0x01 or 0x04), 32-byte Ed25519 key."""

    def __init__(self, name: str, public_raw: bytes, sig_type: int = SIG_ED25519) -> None:
        if not valid_key_name(name):
            raise ProofError(f"invalid key name {name!r}")
        if sig_type not in (SIG_ED25519, SIG_COSIGNATURE_V1):
            raise ProofError(f"unsupported signature type 0x{sig_type:02x}")
        if len(public_raw) != 32:
            raise ProofError(f"Ed25519 public key must be 32 bytes, got {len(public_raw)}")
        try:  # SPEC 3.1 "Public keys": no small-order or non-canonical note or witness key
            check_public_key(bytes(public_raw))
        except SignatureError as exc:
            raise ProofError(f"verifier key {name}: {exc.message}") from None
        self.name = name
        self.public_raw = bytes(public_raw)
        self.sig_type = sig_type
        self.key_id = key_id(name, sig_type, self.public_raw)

    @classmethod
    def from_string(cls, vkey: str) -> "NoteVerifier":
        f = parse_verifier_key(vkey)
        v = cls(f.name, f.public_key, f.sig_type)
        if v.key_id != f.key_id:
            raise ProofError(f"verifier key {f.name}: key id {f.key_id.hex()} does not match the key")
        return v

    def __str__(self) -> str:
        return verifier_key_string(self.name, self.public_raw, self.sig_type)

    def __repr__(self) -> str:
        return f"NoteVerifier({str(self)!r})"

    def verify(self, text: bytes, sig: bytes) -> int | None:
        """Verify ``sig`` (without its 4-byte key ID) over note ``text``.

        Returns ``None`` for a valid type-0x01 signature, the decoded timestamp for a valid
        cosignature/v1; raises :class:`ProofError` otherwise.
        """
        if self.sig_type == SIG_ED25519:
            if len(sig) != 64 or not _ed25519_verify(self.public_raw, sig, text):
                raise ProofError(f"invalid signature for key {self.name}+{self.key_id.hex()}")
            return None
        if len(sig) != 8 + 64:
            raise ProofError(
                f"cosignature from {self.name}+{self.key_id.hex()} must be 72 bytes "
                f"(timestamp and Ed25519 signature), got {len(sig)}"
            )
        (timestamp,) = struct.unpack(">Q", sig[:8])
        if timestamp > MAX_TIMESTAMP:
            raise ProofError(f"cosignature timestamp {timestamp} exceeds 2^63 - 1")
        if not _ed25519_verify(self.public_raw, sig[8:], cosignature_message(text, timestamp)):
            raise ProofError(f"invalid cosignature for key {self.name}+{self.key_id.hex()}")
        return timestamp


class NoteSigner:
    """Signs notes with Ed25519 (type 0x01) under ``name``."""

    sig_type = SIG_ED25519

    def __init__(self, name: str, signing_key: Any) -> None:
        if not valid_key_name(name):
            raise ProofError(f"invalid key name {name!r}")
        self.name = name
        self._key = _Ed25519Key(signing_key)
        self.public_raw = self._key.public
        self.key_id = key_id(name, SIG_ED25519, self.public_raw)

    @classmethod
    def from_string(cls, skey: str) -> "NoteSigner":
        name, seed = parse_signer_key(skey)
        return cls(name, seed)

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self.public_raw, SIG_ED25519)

    def cosigner_verifier(self) -> NoteVerifier:
        """The type-0x04 verifier for cosignatures made with :func:`cosign` by this key."""
        return NoteVerifier(self.name, self.public_raw, SIG_COSIGNATURE_V1)

    def sign(self, text: bytes) -> bytes:
        """Signature bytes over note text (without the key ID)."""
        return self._key.sign(text)

    def _sign_raw(self, message: bytes) -> bytes:
        return self._key.sign(message)


# --------------------------------------------------------------------------- notes


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID, signature bytes (after the key ID)."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{EM_DASH_PREFIX}{self.name} {b64encode(self.key_id + self.signature)}\n"


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that verified under a known key. ``timestamp`` is set for cosignatures."""

    name: str
    key_id: bytes
    signature: bytes
    sig_type: int
    timestamp: int | None = None
    verifier: NoteVerifier | None = None


def parse_signature_line(line: str) -> NoteSignature:
    """Parse ``"— name base64(keyid||sig)"`` (an optional final newline is allowed)."""
    if line.endswith("\n"):
        line = line[:-1]
    if "\n" in line or not line.startswith(EM_DASH_PREFIX):
        raise ProofError("signature line must start with an em dash and a space")
    name, sep, b64 = line[len(EM_DASH_PREFIX) :].partition(" ")
    if not sep or not valid_key_name(name):
        raise ProofError(f"signature line has an invalid key name {name!r}")
    raw = b64decode(b64, f"signature of {name}")
    if len(raw) < 5:
        raise ProofError(f"signature of {name} is too short")
    return NoteSignature(name, raw[:4], raw[4:])


def parse_note(note: bytes | str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and signature lines (syntax only, nothing verified)."""
    if isinstance(note, str):
        note = note.encode("utf-8")
    if len(note) > MAX_NOTE_SIZE:
        raise ProofError(f"malformed note: larger than {MAX_NOTE_SIZE} bytes")
    try:
        s = note.decode("utf-8")
    except UnicodeDecodeError:
        raise ProofError("malformed note: not valid UTF-8") from None
    try:
        _check_text(s)
    except ProofError as e:
        raise ProofError(f"malformed note: {e.message}") from None
    i = s.rfind("\n\n")
    if i < 0:
        raise ProofError("malformed note: no blank line before the signatures")
    text, block = s[: i + 1], s[i + 2 :]
    if not block:
        raise ProofError("malformed note: no signature lines")
    if not block.endswith("\n"):
        raise ProofError("malformed note: the last signature line does not end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise ProofError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    sigs = []
    for line in lines:
        try:
            sigs.append(parse_signature_line(line))
        except ProofError as e:
            raise ProofError(f"malformed note: {e.message}") from None
    return text, sigs


def sign_note(text: str, signers: Sequence[NoteSigner] | NoteSigner) -> bytes:
    """Sign ``text`` (ends in a newline) with each signer, in order; returns the note bytes."""
    if isinstance(signers, NoteSigner):
        signers = [signers]
    if not text.endswith("\n"):
        raise ProofError("note text must end with a newline")
    _check_text(text)
    if not signers:
        raise ProofError("a note needs at least one signature")
    data = text.encode("utf-8")
    lines = []
    for signer in signers:
        sig = NoteSignature(signer.name, signer.key_id, signer.sign(data))
        lines.append(sig.line())
    return (text + "\n" + "".join(lines)).encode("utf-8")


def add_signature_lines(note: bytes, lines: Iterable[str]) -> bytes:
    """Append signature lines (e.g. cosignatures) to a signed note; syntax is checked."""
    text, sigs = parse_note(note)
    extra = [parse_signature_line(line) for line in lines]
    out = (text + "\n" + "".join(x.line() for x in sigs + extra)).encode("utf-8")
    parse_note(out)
    return out


def open_note(
    note: bytes | str, verifiers: Iterable[NoteVerifier | str]
) -> tuple[str, list[VerifiedSignature]]:
    """Verify a signed note against known keys; returns (text, verified signatures).

    Signatures whose (name, key ID) match no known key are ignored. Every signature from a
    known key must verify, or the whole note is rejected. At least one must verify.
    Identical signature lines count once; each verified key is listed once, in note order.
    """
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for v in verifiers:
        if isinstance(v, str):
            v = NoteVerifier.from_string(v)
        known[(v.name, v.key_id)] = v
    text, sigs = parse_note(note)
    data = text.encode("utf-8")
    verified: list[VerifiedSignature] = []
    seen_lines: set[tuple[str, bytes, bytes]] = set()
    seen_keys: set[tuple[str, bytes]] = set()
    for sig in sigs:
        line_key = (sig.name, sig.key_id, sig.signature)
        if line_key in seen_lines:
            continue
        seen_lines.add(line_key)
        v = known.get((sig.name, sig.key_id))
        if v is None:
            continue
        timestamp = v.verify(data, sig.signature)  # raises on failure
        if (sig.name, sig.key_id) in seen_keys:
            continue
        seen_keys.add((sig.name, sig.key_id))
        verified.append(
            VerifiedSignature(sig.name, sig.key_id, sig.signature, v.sig_type, timestamp, v)
        )
    if not verified:
        raise ProofError("note has no verifiable signatures")
    return text, verified


def unverified_signatures(note: bytes | str, verifiers: Iterable[NoteVerifier | str]) -> list[NoteSignature]:
    """Distinct signature lines of ``note`` whose (name, key ID) match no given key."""
    known = set()
    for v in verifiers:
        if isinstance(v, str):
            v = NoteVerifier.from_string(v)
        known.add((v.name, v.key_id))
    out: list[NoteSignature] = []
    for sig in parse_note(note)[1]:
        if (sig.name, sig.key_id) not in known and sig not in out:
            out.append(sig)
    return out


# --------------------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint note body: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "extensions", tuple(self.extensions))
        if not isinstance(self.origin, str) or not self.origin or "\n" in self.origin:
            raise ProofError("checkpoint origin must be a non-empty single line")
        _check_text(self.origin, "checkpoint origin")
        if not isinstance(self.size, int) or isinstance(self.size, bool) or not 0 <= self.size <= MAX_U64:
            raise ProofError(f"checkpoint size {self.size!r} is not an unsigned 64-bit integer")
        if not isinstance(self.root_hash, bytes) or not self.root_hash:
            raise ProofError("checkpoint root hash must be non-empty bytes")
        for ext in self.extensions:
            if not isinstance(ext, str) or not ext or "\n" in ext:
                raise ProofError("checkpoint extension lines must be non-empty single lines")
            _check_text(ext, "checkpoint extension line")

    def format(self) -> str:
        """The note text: origin, size, base64 root hash, extension lines, each + newline."""
        lines = [self.origin, str(self.size), b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str, *, hash_size: int | None = HASH_SIZE) -> "Checkpoint":
        """Parse a checkpoint body; ``hash_size=None`` accepts a root hash of any length."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise ProofError("checkpoint is not valid UTF-8") from None
        if not text.endswith("\n"):
            raise ProofError("checkpoint must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise ProofError(f"checkpoint has {len(lines)} lines, needs at least 3")
        origin, size_line, root_line, *ext = lines
        if not origin:
            raise ProofError("checkpoint origin is empty")
        size = _parse_decimal(size_line, "checkpoint size")
        root_hash = b64decode(root_line, "checkpoint root hash")
        if hash_size is not None and len(root_hash) != hash_size:
            raise ProofError(f"checkpoint root hash is {len(root_hash)} bytes, expected {hash_size}")
        if any(not x for x in ext):
            raise ProofError("checkpoint extension lines must be non-empty")
        return cls(origin, size, root_hash, tuple(ext))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> bytes:
    """The signed checkpoint note (log signature, type 0x01)."""
    return sign_note(checkpoint.format(), [signer])


def open_checkpoint(
    note: bytes | str,
    log_verifier: NoteVerifier | str,
    *,
    origin: str | None = None,
    witnesses: Iterable[NoteVerifier | str] = (),
) -> tuple[Checkpoint, list[VerifiedSignature]]:
    """Verify a checkpoint note: the log key must have signed it, the body must parse, and
    the origin must equal ``origin`` (default: the log key's name). Witness verifiers are
    checked too (a bad cosignature from a known witness rejects the note); the verified
    signatures returned include the log's and the witnesses'."""
    if isinstance(log_verifier, str):
        log_verifier = NoteVerifier.from_string(log_verifier)
    ws = [NoteVerifier.from_string(w) if isinstance(w, str) else w for w in witnesses]
    try:
        text, sigs = open_note(note, [log_verifier, *ws])
    except ProofError as e:
        raise ProofError(f"checkpoint: {e.message}") from None
    if not any(s.name == log_verifier.name and s.key_id == log_verifier.key_id for s in sigs):
        raise ProofError(f"checkpoint is not signed by the log key {log_verifier.name}")
    cp = Checkpoint.parse(text)
    expected = log_verifier.name if origin is None else origin
    if cp.origin != expected:
        raise ProofError(f"checkpoint origin {cp.origin!r} is not the expected {expected!r}")
    return cp, sigs


# --------------------------------------------------------------------------- cosignatures


def cosignature_message(checkpoint_body: bytes | str, timestamp: int) -> bytes:
    """``"cosignature/v1\\ntime <timestamp>\\n" || checkpoint body`` (tlog-cosignature)."""
    if isinstance(checkpoint_body, str):
        checkpoint_body = checkpoint_body.encode("utf-8")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ProofError(f"cosignature timestamp {timestamp} is out of range")
    return f"{COSIGNATURE_V1_HEADER}time {timestamp}\n".encode("ascii") + checkpoint_body


def cosign(checkpoint_body: str, timestamp: int, signer: NoteSigner) -> str:
    """A cosignature/v1 signature line (type 0x04 key ID) over a checkpoint body."""
    if not checkpoint_body.endswith("\n"):
        raise ProofError("checkpoint body must end with a newline")
    message = cosignature_message(checkpoint_body, timestamp)
    sig = signer._sign_raw(message)
    kid = key_id(signer.name, SIG_COSIGNATURE_V1, signer.public_raw)
    return NoteSignature(signer.name, kid, struct.pack(">Q", timestamp) + sig).line()


def decode_cosignature(signature: bytes | str) -> tuple[bytes, int, bytes]:
    """Decode cosignature/v1 bytes (or their base64): (key ID, timestamp, Ed25519 signature)."""
    if isinstance(signature, str):
        signature = b64decode(signature, "cosignature")
    if len(signature) != 4 + 8 + 64:
        raise ProofError(
            f"cosignature/v1 must be 76 bytes (key id, timestamp, signature), got {len(signature)}"
        )
    (timestamp,) = struct.unpack(">Q", signature[4:12])
    if timestamp > MAX_TIMESTAMP:
        raise ProofError(f"cosignature timestamp {timestamp} exceeds 2^63 - 1")
    return signature[:4], timestamp, signature[12:]


def verify_cosignature(checkpoint_body: str, line: str, verifier: NoteVerifier | str) -> int:
    """Verify one cosignature line over a checkpoint body; returns its timestamp."""
    if isinstance(verifier, str):
        verifier = NoteVerifier.from_string(verifier)
    if verifier.sig_type != SIG_COSIGNATURE_V1:
        raise ProofError(f"key {verifier.name} is not a cosignature/v1 (type 0x04) key")
    sig = parse_signature_line(line)
    if sig.name != verifier.name or sig.key_id != verifier.key_id:
        raise ProofError(
            f"cosignature is from {sig.name}+{sig.key_id.hex()}, "
            f"not {verifier.name}+{verifier.key_id.hex()}"
        )
    data = checkpoint_body.encode("utf-8") if isinstance(checkpoint_body, str) else checkpoint_body
    ts = verifier.verify(data, sig.signature)
    assert ts is not None
    return ts


# --------------------------------------------------------------------------- tlog-proof


@dataclass(frozen=True)
class TlogProof:
    """A c2sp.org/tlog-proof@v1: index, inclusion proof, signed checkpoint note, extra data."""

    index: int
    inclusion: tuple[bytes, ...]
    checkpoint_note: bytes
    extra: bytes | None = None


def format_proof(
    index: int, inclusion: Sequence[bytes], checkpoint_note: bytes, extra: bytes | None = None
) -> bytes:
    """Serialize a tlog-proof (the checkpoint note is included verbatim)."""
    if not 0 <= index <= MAX_U64:
        raise ProofError(f"proof index {index} out of range")
    if any(len(h) != HASH_SIZE for h in inclusion):
        raise ProofError("inclusion proof hashes must be 32 bytes")
    parse_note(checkpoint_note)
    out = TLOG_PROOF_HEADER + "\n"
    if extra:
        out += f"extra {b64encode(extra)}\n"
    out += f"index {index}\n"
    out += "".join(b64encode(h) + "\n" for h in inclusion)
    out += "\n"
    return out.encode("utf-8") + bytes(checkpoint_note)


def parse_proof(proof_text: bytes | str) -> TlogProof:
    """Parse a tlog-proof; the embedded note is only checked for note syntax."""
    if isinstance(proof_text, bytes):
        try:
            proof_text = proof_text.decode("utf-8")
        except UnicodeDecodeError:
            raise ProofError("tlog-proof is not valid UTF-8") from None
    if len(proof_text) > MAX_NOTE_SIZE * 2:
        raise ProofError("tlog-proof is too large")
    lines = proof_text.split("\n")
    if lines[0] != TLOG_PROOF_HEADER:
        raise ProofError(f"tlog-proof must start with {TLOG_PROOF_HEADER!r}")
    i = 1
    extra = None
    if i < len(lines) and lines[i].startswith("extra "):
        extra = b64decode(lines[i][len("extra ") :], "tlog-proof extra data")
        if not extra:
            raise ProofError("tlog-proof extra line has no data")
        i += 1
    if i >= len(lines) or not lines[i].startswith("index "):
        raise ProofError("tlog-proof is missing its 'index' line")
    index = _parse_decimal(lines[i][len("index ") :], "tlog-proof index")
    i += 1
    hashes = []
    while i < len(lines) and lines[i] != "":
        h = b64decode(lines[i], f"tlog-proof inclusion hash {len(hashes)}")
        if len(h) != HASH_SIZE:
            raise ProofError(f"tlog-proof inclusion hash {len(hashes)} is not 32 bytes")
        hashes.append(h)
        i += 1
    if i >= len(lines) - 1:
        raise ProofError("tlog-proof is missing the empty line before its checkpoint")
    note = "\n".join(lines[i + 1 :]).encode("utf-8")
    parse_note(note)
    return TlogProof(index, tuple(hashes), note, extra)


def verify_proof(
    proof_text: bytes | str,
    leaf: bytes,
    verifier: NoteVerifier | str,
    *,
    leaf_is_hash: bool = False,
    origin: str | None = None,
    witnesses: Iterable[NoteVerifier | str] = (),
    min_witnesses: int = 0,
) -> Checkpoint:
    """Offline verification of a tlog-proof for ``leaf`` (entry bytes, or its RFC 9162 leaf
    hash if ``leaf_is_hash``): the checkpoint is signed by the log key ``verifier`` with the
    expected origin, at least ``min_witnesses`` of ``witnesses`` cosigned it, and the
    inclusion proof leads from the leaf to the checkpoint's root. Returns the checkpoint."""
    proof = parse_proof(proof_text)
    if isinstance(verifier, str):
        verifier = NoteVerifier.from_string(verifier)
    ws = [NoteVerifier.from_string(w) if isinstance(w, str) else w for w in witnesses]
    cp, sigs = open_checkpoint(proof.checkpoint_note, verifier, origin=origin, witnesses=ws)
    wkeys = {(w.name, w.key_id) for w in ws}
    cosigned = {(s.name, s.key_id) for s in sigs} & wkeys
    if len(cosigned) < min_witnesses:
        raise ProofError(
            f"checkpoint has {len(cosigned)} witness cosignatures, {min_witnesses} required"
        )
    if leaf_is_hash:
        if len(leaf) != HASH_SIZE:
            raise ProofError("leaf hash must be 32 bytes")
        lh = bytes(leaf)
    else:
        lh = _leaf_hash(leaf)
    verify_inclusion(lh, proof.index, cp.size, list(proof.inclusion), cp.root_hash)
    return cp
