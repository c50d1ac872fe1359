"""Ed25519 keys (RFC 8032, pure Ed25519) through ``cryptography``: bytes in, bytes out.

No file access here (see :mod:`ledger.storage.keyfiles`). Key material and passphrases never appear
in error messages or reprs.

* ``key_id``: lowercase hex SHA-256 of the 32-byte raw public key.
* Public keys travel as standard base64 (with padding) of the 32 raw bytes; signatures as
  standard base64 of the 64 raw bytes (encoding/decoding of signatures is the caller's).
* Verification is OpenSSL's: strict, ``S < L`` required, non-canonical encodings rejected;
  it accepts every ``valid`` and rejects every ``invalid`` Wycheproof EdDSA case.
  libsodium (through PyNaCl) answers first and may only *accept*: it checks the same
  cofactorless equation with stricter decoding (small-order or non-canonical ``A`` and
  small-order ``R`` refused), so whatever it accepts OpenSSL accepts; what it refuses is
  decided by OpenSSL. Same verdicts, about 1.8x faster (ADR 0007).
* Private keys with a passphrase are written in the OpenSSH private key format
  (``-----BEGIN OPENSSH PRIVATE KEY-----``, cipher aes256-ctr, KDF bcrypt-pbkdf with
  ``kdf_rounds`` rounds, 16 by default as in ``ssh-keygen``; about 0.7 s per load on a small
  machine, which is the point). cryptography's PKCS#8 encryption offers only PBKDF2 with
  2048 iterations, too weak against offline guessing. Without a passphrase (only on
  request) keys are written as unencrypted PKCS#8 PEM. Reading accepts PKCS#8 PEM
  (encrypted or not) and OpenSSH private keys (encrypted or not; needs ``bcrypt``).
* Every public key is checked where it enters (:func:`check_public_key`, SPEC 3.1): the
  canonical encoding of a point of edwards25519 whose order is not a divisor of 8. Anyone can
  sign for a small-order key (R = B, S = 1 verifies under OpenSSL for the identity), and a
  non-canonical encoding gives one point a second key id. The check is plain arithmetic
  here, independent of both libsodium and OpenSSL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from nacl.bindings import crypto_sign_open as _sodium_open
from nacl.exceptions import BadSignatureError as _SodiumRejects
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ..errors import KeyFileError, SignatureError
from . import fastpaths

__all__ = [
    "PUBLIC_KEY_BYTES",
    "SIGNATURE_BYTES",
    "SEED_BYTES",
    "key_id",
    "check_public_key",
    "PublicKey",
    "SigningKey",
    "serialize_private_key",
    "load_private_key",
]

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
SEED_BYTES = 32

_OPENSSH_BEGIN = b"-----BEGIN OPENSSH PRIVATE KEY-----"


def key_id(public_raw: bytes) -> str:
    """Lowercase hex SHA-256 of a 32-byte raw Ed25519 public key (64 characters); the key
    must pass :func:`check_public_key`, so a key id always names a canonical encoding."""
    check_public_key(public_raw)
    return hashlib.sha256(public_raw).hexdigest()


# edwards25519 (RFC 8032 section 5.1): -x^2 + y^2 = 1 + d x^2 y^2 over GF(p).
_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def check_public_key(raw: bytes) -> None:
    """Refuse what no key holder can own (SPEC 3.1 "Public keys"): ``raw`` must be 32 bytes that are
    the *canonical* encoding (RFC 8032 5.1.3: ``y < p``; not ``x = 0`` with the sign bit set)
    of a point on edwards25519 that is *not of small order* ([8]A is not the identity).
    Raises :class:`SignatureError` naming the defect."""
    if type(raw) is not bytes or len(raw) != PUBLIC_KEY_BYTES:
        raise SignatureError(
            f"an Ed25519 public key is {PUBLIC_KEY_BYTES} raw bytes, got {_length(raw)}"
        )
    n = int.from_bytes(raw, "little")
    y, sign = n & ((1 << 255) - 1), n >> 255
    if y >= _P:
        raise SignatureError("Ed25519 public key is not canonically encoded (y >= p)")
    # x^2 = (y^2 - 1) / (d y^2 + 1); the square root as in RFC 8032 5.1.3 step 3.
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    if v * x * x % _P != u:
        x = x * _SQRT_M1 % _P
        if v * x * x % _P != u:
            raise SignatureError("Ed25519 public key is not a point on edwards25519")
    if x == 0 and sign:
        raise SignatureError("Ed25519 public key is not canonically encoded (x = 0 with the sign bit set)")
    X, Y, Z = x, y, 1
    for _ in range(3):  # [8]A by three doublings (projective, a = -1)
        b, c, d = (X + Y) ** 2 % _P, X * X % _P, Y * Y % _P
        f = (d - c) % _P
        j = (f - 2 * Z * Z) % _P
        X, Y, Z = (b - c - d) * j % _P, f * (-c - d) % _P, f * j % _P
    if X == 0 and Y == Z:
        raise SignatureError("Ed25519 public key is a small-order point (anyone can sign for it)")


def _length(value: object) -> str:
    try:
        return f"{len(value)} bytes"  # type: ignore[arg-type]
    except TypeError:
        return type(value).__name__


class PublicKey:
    """An Ed25519 public key. Equal and hashable by its raw bytes."""

    __slots__ = ("_raw", "_key", "_key_id")

    def __init__(self, raw: bytes) -> None:
        if isinstance(raw, (bytearray, memoryview)):
            raw = bytes(raw)
        check_public_key(raw)  # SPEC 3.1 "Public keys": every key enters through here
        try:
            self._key = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            raise SignatureError("invalid Ed25519 public key") from None
        self._raw = raw
        self._key_id = hashlib.sha256(raw).hexdigest()

    @classmethod
    def from_raw(cls, raw: bytes) -> PublicKey:
        return cls(raw)

    @classmethod
    def from_base64(cls, text: str) -> PublicKey:
        """Strict standard base64 with padding of the 32 raw bytes (44 characters)."""
        if isinstance(text, bytes):
            try:
                text = text.decode("ascii")
            except UnicodeDecodeError:
                raise SignatureError("public key is not base64") from None
        if not isinstance(text, str):
            raise SignatureError(f"public key must be a base64 string, got {type(text).__name__}")
        try:
            raw = base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise SignatureError("public key is not valid standard base64") from None
        if len(raw) != PUBLIC_KEY_BYTES:
            raise SignatureError(
                f"public key decodes to {len(raw)} bytes, expected {PUBLIC_KEY_BYTES}"
            )
        if base64.b64encode(raw).decode("ascii") != text:  # non-zero padding bits etc.
            raise SignatureError("public key is not canonical standard base64")
        return cls(raw)

    @classmethod
    def from_cryptography(cls, key: Ed25519PublicKey) -> PublicKey:
        return cls(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))

    @property
    def raw(self) -> bytes:
        return self._raw

    @property
    def base64(self) -> str:
        return base64.b64encode(self._raw).decode("ascii")

    @property
    def key_id(self) -> str:
        return self._key_id

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True iff ``signature`` is a valid Ed25519 signature of ``message``. Never raises
        for a bad signature (wrong type or length included)."""
        if isinstance(signature, (bytearray, memoryview)):
            signature = bytes(signature)
        if type(signature) is not bytes or len(signature) != SIGNATURE_BYTES:
            return False
        if isinstance(message, (bytearray, memoryview)):
            message = bytes(message)
        if type(message) is not bytes:
            raise TypeError(f"message must be bytes, got {type(message).__name__}")
        # Accept-only fast path: libsodium's acceptance implies OpenSSL's (module docstring,
        # ADR 0007); a refusal there is judged by OpenSSL, whose verdict is the rule (3.1).
        if fastpaths.ENABLED:  # a fast path (ledger.core.fastpaths)
            try:
                _sodium_open(signature + message, self._raw)
                return True
            except _SodiumRejects:
                pass
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicKey):
            return NotImplemented
        return self._raw == other._raw

    def __hash__(self) -> int:
        return hash((PublicKey, self._raw))

    def __repr__(self) -> str:
        return f"PublicKey(key_id={self._key_id!r})"


class SigningKey:
    """An Ed25519 private key. Its repr shows only the key id."""

    __slots__ = ("_key", "_public")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"not an Ed25519 key (found {_algorithm_name(key)})")
        self._key = key
        self._public = PublicKey.from_cryptography(key.public_key())

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_raw_seed(cls, seed: bytes) -> SigningKey:
        """The RFC 8032 32-byte private key ("seed")."""
        if isinstance(seed, (bytearray, memoryview)):
            seed = bytes(seed)
        if type(seed) is not bytes or len(seed) != SEED_BYTES:
            raise KeyFileError(f"an Ed25519 seed is {SEED_BYTES} bytes, got {_length(seed)}")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public(self) -> PublicKey:
        return self._public

    @property
    def key_id(self) -> str:
        return self._public.key_id

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message`` (deterministic, RFC 8032)."""
        if isinstance(message, (bytearray, memoryview)):
            message = bytes(message)
        if type(message) is not bytes:
            raise TypeError(f"message must be bytes, got {type(message).__name__}")
        return self._key.sign(message)

    def _seed(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    def __repr__(self) -> str:
        return f"SigningKey(key_id={self._public.key_id!r})"

    __str__ = __repr__

    def __reduce__(self) -> object:  # keep private keys out of pickles by accident
        raise TypeError("SigningKey cannot be pickled; use serialize_private_key")


def _algorithm_name(key: object) -> str:
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"ECDSA {key.curve.name}"
    if isinstance(key, (dsa.DSAPrivateKey, dsa.DSAPublicKey)):
        return "DSA"
    if isinstance(key, ed448.Ed448PrivateKey):
        return "Ed448"
    if isinstance(key, x25519.X25519PrivateKey):
        return "X25519"
    if isinstance(key, x448.X448PrivateKey):
        return "X448"
    return type(key).__name__


DEFAULT_KDF_ROUNDS = 16


def serialize_private_key(key: SigningKey, passphrase: bytes | None, *, kdf_rounds: int = DEFAULT_KDF_ROUNDS) -> bytes:
    """Encrypted OpenSSH private key (bcrypt-pbkdf, ``kdf_rounds``) iff a passphrase is given;
    otherwise unencrypted PKCS#8 PEM."""
    if not isinstance(key, SigningKey):
        raise KeyFileError(f"expected a SigningKey, got {type(key).__name__}")
    if passphrase is None:
        return key._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    if not isinstance(passphrase, bytes) or not passphrase:
        raise KeyFileError("passphrase must be non-empty bytes")
    if not 1 <= kdf_rounds <= 1024:
        raise KeyFileError(f"kdf_rounds must be between 1 and 1024, got {kdf_rounds}")
    fmt = serialization.PrivateFormat.OpenSSH
    return key._key.private_bytes(
        serialization.Encoding.PEM, fmt, fmt.encryption_builder().kdf_rounds(kdf_rounds).build(passphrase)
    )


def load_private_key(data: bytes, passphrase: bytes | None) -> SigningKey:
    """Load an Ed25519 private key from PKCS#8 PEM or OpenSSH format (encrypted or not).

    A passphrase given for an unencrypted key is ignored. Raises :class:`KeyFileError` with a
    message that never contains key material or the passphrase.
    """
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if type(data) is not bytes:
        raise KeyFileError(f"key data must be bytes, got {type(data).__name__}")
    if passphrase is not None and (not isinstance(passphrase, bytes) or not passphrase):
        raise KeyFileError("passphrase must be non-empty bytes")
    stripped = data.lstrip()
    if stripped.startswith(_OPENSSH_BEGIN):
        key = _load_openssh(stripped, passphrase)
    elif stripped.startswith(b"-----BEGIN ") and b"PRIVATE KEY-----" in stripped.split(b"\n", 1)[0]:
        key = _load_pem(stripped, passphrase)
    elif stripped.startswith(b"-----BEGIN PUBLIC KEY-----") or stripped.startswith(b"ssh-"):
        raise KeyFileError("not a private key file (found a public key)")
    else:
        raise KeyFileError("not a private key file")
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"not an Ed25519 key (found {_algorithm_name(key)})")
    return SigningKey(key)


def _load_pem(data: bytes, passphrase: bytes | None) -> object:
    try:
        return serialization.load_pem_private_key(data, passphrase)
    except TypeError as exc:
        if passphrase is None:  # "Password was not given but private key is encrypted"
            raise KeyFileError("key is encrypted: a passphrase is required") from None
        if "not encrypted" in str(exc):
            return _load_pem(data, None)
        raise KeyFileError("wrong passphrase or corrupted key") from None
    except UnsupportedAlgorithm:
        raise KeyFileError("unsupported private key encryption or key type") from None
    except ValueError:
        if passphrase is not None and _pem_is_encrypted(data):
            raise KeyFileError("wrong passphrase or corrupted key") from None
        raise KeyFileError("corrupted or unsupported private key file") from None


def _load_openssh(data: bytes, passphrase: bytes | None) -> object:
    try:
        return serialization.load_ssh_private_key(data, passphrase)
    except TypeError as exc:
        if passphrase is None:  # "Key is password-protected, but password was not provided."
            raise KeyFileError("key is encrypted: a passphrase is required") from None
        if "not encrypted" in str(exc):
            return _load_openssh(data, None)
        raise KeyFileError("wrong passphrase or corrupted key") from None
    except UnsupportedAlgorithm as exc:
        if "bcrypt" in str(exc):
            raise KeyFileError(
                "encrypted OpenSSH private keys need the 'bcrypt' package, which is not "
                "installed; install it, or remove the key's passphrase with ssh-keygen -p "
                "and load the unencrypted key"
            ) from None
        raise KeyFileError("unsupported OpenSSH private key cipher or key type") from None
    except ValueError:
        if passphrase is not None and openssh_is_encrypted(data):
            raise KeyFileError("wrong passphrase or corrupted key") from None
        raise KeyFileError("corrupted or unsupported OpenSSH private key file") from None


def _pem_is_encrypted(data: bytes) -> bool:
    head = data.lstrip()[:200]
    return head.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") or b"Proc-Type: 4,ENCRYPTED" in head


def openssh_is_encrypted(data: bytes) -> bool:
    """True if an OpenSSH private key (``openssh-key-v1``) names a cipher other than none."""
    body = data.strip()
    if not body.startswith(_OPENSSH_BEGIN):
        return False
    body = body[len(_OPENSSH_BEGIN):]
    end = body.find(b"-----END")
    if end >= 0:
        body = body[:end]
    try:
        blob = base64.b64decode(b"".join(body.split()))
    except (binascii.Error, ValueError):
        return False
    magic = b"openssh-key-v1\x00"
    if not blob.startswith(magic) or len(blob) < len(magic) + 4:
        return False
    n = int.from_bytes(blob[len(magic):len(magic) + 4], "big")
    cipher = blob[len(magic) + 4:len(magic) + 4 + n]
    return cipher != b"none"


def is_encrypted(data: bytes) -> bool:
    """True if ``data`` is an encrypted PEM (PKCS#8 or legacy) or OpenSSH private key."""
    return _pem_is_encrypted(data) or openssh_is_encrypted(data)
