"""ledger.core.keys and ledger.storage.keyfiles: RFC 8032 and Wycheproof vectors, key files, error messages."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from ledger.core import canonical
from ledger.errors import KeyFileError, LedgerError, SignatureError
from ledger.storage.keyfiles import (
    is_encrypted_private_key,
    read_private_key_file,
    read_public_key_file,
    write_private_key_file,
    write_public_key_file,
)
from ledger.core.keys import PublicKey, SigningKey, key_id, load_private_key, serialize_private_key

PASSPHRASE = b"correct horse battery staple"

from vector_files import vector_path


@pytest.fixture(scope="module")
def vectors() -> Path:
    """The vectors directory (tests/vectors). Missing vectors are a failure, never a skip."""
    return vector_path(".")


# ----------------------------------------------------------------- RFC 8032


def test_rfc8032_vectors(vectors: Path) -> None:
    data = json.loads((vectors / "ed25519_rfc8032.json").read_text())
    cases = data["vectors"]
    assert [c["name"] for c in cases] == ["TEST 1", "TEST 2", "TEST 3", "TEST 1024", "TEST SHA(abc)"]
    for case in cases:
        seed = bytes.fromhex(case["secret_key"])
        public_raw = bytes.fromhex(case["public_key"])
        message = bytes.fromhex(case["message"])
        signature = bytes.fromhex(case["signature"])
        key = SigningKey.from_raw_seed(seed)
        assert key.public.raw == public_raw, case["name"]
        assert key.public == PublicKey.from_raw(public_raw)
        assert key.sign(message) == signature, case["name"]
        assert key.public.verify(signature, message), case["name"]
        assert not key.public.verify(signature, message + b"x"), case["name"]
        tampered = bytearray(signature)
        tampered[0] ^= 1
        assert not key.public.verify(bytes(tampered), message), case["name"]
        assert key.public.key_id == hashlib.sha256(public_raw).hexdigest()


# ----------------------------------------------------------------- Wycheproof


def test_wycheproof_all_cases(vectors: Path) -> None:
    data = json.loads((vectors / "ed25519_wycheproof.json").read_text())
    counts = {"valid": 0, "invalid": 0}
    wrong: list[int] = []
    for group in data["testGroups"]:
        public = PublicKey.from_raw(bytes.fromhex(group["publicKey"]["pk"]))
        for case in group["tests"]:
            assert case["result"] in counts, case  # no "acceptable" cases in this file
            accepted = public.verify(bytes.fromhex(case["sig"]), bytes.fromhex(case["msg"]))
            if accepted != (case["result"] == "valid"):
                wrong.append(case["tcId"])
            counts[case["result"]] += 1
    assert wrong == []
    assert counts["valid"] + counts["invalid"] == data["numberOfTests"] == 151
    assert counts == {"valid": 88, "invalid": 63}


# ----------------------------------------------------------------- libsodium accept path
# PublicKey.verify asks libsodium first and lets it only accept (ADR 0007): sound as long
# as everything libsodium accepts, OpenSSL (the rule, SPEC.md 3.1) accepts too.

L_ORDER = 2**252 + 27742317777372353535851937790883648493


def _openssl(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _sodium(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    try:
        crypto_sign_open(signature + message, public_raw)
    except BadSignatureError:
        return False
    return True


def _vector_cases(vectors: Path) -> list[tuple[bytes, bytes, bytes]]:
    cases = []
    for case in json.loads((vectors / "ed25519_rfc8032.json").read_text())["vectors"]:
        cases.append((bytes.fromhex(case["public_key"]), bytes.fromhex(case["signature"]),
                      bytes.fromhex(case["message"])))
    for group in json.loads((vectors / "ed25519_wycheproof.json").read_text())["testGroups"]:
        for case in group["tests"]:
            cases.append((bytes.fromhex(group["publicKey"]["pk"]), bytes.fromhex(case["sig"]),
                          bytes.fromhex(case["msg"])))
    return cases


def _flipped(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def test_libsodium_acceptance_implies_openssl_on_vectors_and_bit_flips(vectors: Path) -> None:
    rng = random.Random(8032)
    checked = accepted = 0
    for public_raw, signature, message in _vector_cases(vectors):
        variants = [(public_raw, signature, message)]
        if len(signature) == 64:
            variants += [(public_raw, _flipped(signature, rng.randrange(512)), message) for _ in range(6)]
            variants += [(_flipped(public_raw, rng.randrange(256)), signature, message) for _ in range(2)]
            if message:
                variants.append((public_raw, signature, _flipped(message, rng.randrange(len(message) * 8))))
        for variant in variants:
            openssl = _openssl(*variant)
            if len(variant[1]) == 64:
                assert not _sodium(*variant) or openssl, variant
            try:
                ours = PublicKey.from_raw(variant[0]).verify(variant[1], variant[2])
            except SignatureError:  # not a curve point: no signature verifies
                ours = False
            assert ours == openssl, variant
            checked += 1
            accepted += openssl
    assert checked > 1300 and accepted >= 93  # every valid vector at least


def test_signature_only_openssl_accepts_is_still_accepted() -> None:
    """R = the identity point with S = k*a: the cofactorless equation holds, so OpenSSL (the
    rule) accepts; libsodium refuses a small-order R. verify() must still say True."""
    seed = bytes(range(32))
    key = SigningKey.from_raw_seed(seed)
    scalar = bytearray(hashlib.sha512(seed).digest()[:32])
    scalar[0] &= 248
    scalar[31] = (scalar[31] & 127) | 64
    a = int.from_bytes(scalar, "little")
    identity = (1).to_bytes(32, "little")
    message = b"identity R"
    k = int.from_bytes(hashlib.sha512(identity + key.public.raw + message).digest(), "little") % L_ORDER
    signature = identity + (k * a % L_ORDER).to_bytes(32, "little")
    assert _openssl(key.public.raw, signature, message)
    assert not _sodium(key.public.raw, signature, message)
    assert key.public.verify(signature, message)
    assert not key.public.verify(signature, message + b"!")


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(max_size=300), st.integers(0, 511))
def test_verify_matches_openssl_on_random_keys_and_corruptions(seed: bytes, message: bytes, bit: int) -> None:
    key = SigningKey.from_raw_seed(seed)
    signature = key.sign(message)
    assert key.public.verify(signature, message) and _sodium(key.public.raw, signature, message)
    corrupted = _flipped(signature, bit)
    assert key.public.verify(corrupted, message) == _openssl(key.public.raw, corrupted, message)
    assert not _sodium(key.public.raw, corrupted, message) or _openssl(key.public.raw, corrupted, message)


# ----------------------------------------------------------------- key ids and encodings


def test_key_id_is_sha256_of_raw_public_key() -> None:
    key = SigningKey.generate()
    raw = key.public.raw
    assert len(raw) == 32
    assert key_id(raw) == hashlib.sha256(raw).hexdigest() == key.public.key_id == key.key_id
    assert len(key.public.key_id) == 64 and key.public.key_id == key.public.key_id.lower()
    with pytest.raises(SignatureError):
        key_id(raw[:31])


def test_public_key_base64() -> None:
    key = SigningKey.from_raw_seed(bytes(range(32)))
    text = key.public.base64
    assert len(text) == 44 and text.endswith("=")
    assert base64.b64decode(text) == key.public.raw
    assert PublicKey.from_base64(text) == key.public
    assert hash(PublicKey.from_base64(text)) == hash(key.public)
    assert len({key.public, PublicKey.from_raw(key.public.raw)}) == 1
    assert key.public != SigningKey.generate().public
    assert repr(key.public) == f"PublicKey(key_id='{key.public.key_id}')"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "AAAA",  # 3 bytes
        base64.b64encode(bytes(31)).decode(),
        base64.b64encode(bytes(33)).decode(),
        base64.b64encode(bytes(32)).decode().rstrip("="),  # missing padding
        base64.urlsafe_b64encode(b"\xff" * 32).decode(),  # URL-safe alphabet
        " " + base64.b64encode(bytes(32)).decode(),
        base64.b64encode(bytes(32)).decode()[:-2] + "B=",  # non-zero padding bits
        "é" * 44,
    ],
)
def test_public_key_from_base64_rejects(text: str) -> None:
    with pytest.raises(SignatureError):
        PublicKey.from_base64(text)


def test_public_key_from_raw_rejects_wrong_length() -> None:
    with pytest.raises(SignatureError, match="32 raw bytes, got 31 bytes"):
        PublicKey.from_raw(bytes(31))


def test_verify_never_raises_for_bad_signatures() -> None:
    key = SigningKey.generate()
    signature = key.sign(b"m")
    assert len(signature) == 64
    assert key.public.verify(signature, b"m")
    for bad in [b"", signature[:63], signature + b"\x00", bytes(64), b"\xff" * 64, "text", None, 7]:
        assert key.public.verify(bad, b"m") is False  # type: ignore[arg-type]


def test_sign_is_deterministic_and_from_raw_seed_checks_length() -> None:
    key = SigningKey.from_raw_seed(b"\x01" * 32)
    assert key.sign(b"abc") == key.sign(b"abc")
    with pytest.raises(KeyFileError, match="32 bytes, got 31 bytes"):
        SigningKey.from_raw_seed(b"\x01" * 31)


def _seed(key: SigningKey) -> bytes:
    return key._seed()


def test_repr_never_shows_the_seed() -> None:
    key = SigningKey.generate()
    seed = _seed(key)
    forms = [
        seed.hex(),
        seed.hex().upper(),
        base64.b64encode(seed).decode(),
        base64.urlsafe_b64encode(seed).decode().rstrip("="),
        base64.b64encode(seed).decode().rstrip("=")[:40],
        repr(seed),
    ]
    for text in (repr(key), str(key), f"{key}", f"{key!r}"):
        assert key.key_id in text
        for form in forms:
            assert form not in text
    assert repr(key) == f"SigningKey(key_id='{key.key_id}')"
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(key)


# ----------------------------------------------------------------- private key serialization


def test_encrypted_round_trip() -> None:
    key = SigningKey.generate()
    pem = serialize_private_key(key, PASSPHRASE)
    assert pem.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----\n")
    assert is_encrypted_private_key(pem)
    loaded = load_private_key(pem, PASSPHRASE)
    assert loaded.public == key.public
    assert _seed(loaded) == _seed(key)


def test_encryption_is_openssh_aes256ctr_bcrypt_16_rounds() -> None:
    blob = base64.b64decode(b"".join(serialize_private_key(SigningKey.generate(), b"pw").splitlines()[1:-1]))
    assert blob.startswith(b"openssh-key-v1\x00")
    assert b"\x00\x00\x00\x0aaes256-ctr\x00\x00\x00\x06bcrypt" in blob
    # kdf options: string salt (16 bytes) then uint32 rounds
    options = blob[blob.index(b"bcrypt") + 6:]
    assert options[:8] == bytes.fromhex("00000018" "00000010")  # options length 24, salt length 16
    assert int.from_bytes(options[24:28], "big") == 16


def test_unencrypted_round_trip() -> None:
    key = SigningKey.generate()
    pem = serialize_private_key(key, None)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert not is_encrypted_private_key(pem)
    assert load_private_key(pem, None).public == key.public
    # a passphrase offered for an unencrypted key is ignored
    assert load_private_key(pem, PASSPHRASE).public == key.public


def test_wrong_passphrase_and_missing_passphrase() -> None:
    key = SigningKey.generate()
    pem = serialize_private_key(key, PASSPHRASE)
    with pytest.raises(KeyFileError, match="^wrong passphrase or corrupted key$") as info:
        load_private_key(pem, b"not the passphrase")
    assert "not the passphrase" not in str(info.value)
    with pytest.raises(KeyFileError, match="^key is encrypted: a passphrase is required$"):
        load_private_key(pem, None)
    with pytest.raises(KeyFileError, match="non-empty"):
        serialize_private_key(key, b"")


def test_corrupted_encrypted_key() -> None:
    pem = serialize_private_key(SigningKey.generate(), PASSPHRASE)
    lines = pem.splitlines(keepends=True)
    body = bytearray(lines[2])
    body[10] = ord("A") if body[10] != ord("A") else ord("B")
    lines[2] = bytes(body)
    with pytest.raises(KeyFileError, match="wrong passphrase or corrupted key|corrupted"):
        load_private_key(b"".join(lines), PASSPHRASE)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "^not a private key file$"),
        (b"hello world", "^not a private key file$"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "^not a private key file$"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "corrupted or unsupported"),
        (b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", "corrupted or unsupported"),
    ],
)
def test_not_a_private_key(data: bytes, message: str) -> None:
    with pytest.raises(KeyFileError, match=message):
        load_private_key(data, None)


def test_public_key_given_as_private_key() -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    ssh = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    for data in (pem, ssh):
        with pytest.raises(KeyFileError, match=r"^not a private key file \(found a public key\)$"):
            load_private_key(data, None)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_rsa_key_is_rejected(rsa_key: rsa.RSAPrivateKey) -> None:
    forms = [
        (rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), None),
        (rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")), b"pw"),
        (rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()), None),
        (rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()), None),
    ]
    for data, passphrase in forms:
        with pytest.raises(KeyFileError, match=r"^not an Ed25519 key \(found RSA\)$"):
            load_private_key(data, passphrase)


def test_ec_key_is_rejected() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(KeyFileError, match=r"^not an Ed25519 key \(found ECDSA secp256r1\)$"):
        load_private_key(data, None)


def test_openssh_ed25519_key_is_accepted() -> None:
    key = Ed25519PrivateKey.generate()
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    assert data.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    assert not is_encrypted_private_key(data)
    loaded = load_private_key(data, None)
    assert loaded.public.raw == key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert loaded.sign(b"x") == key.sign(b"x")


# Made with: ssh-keygen -t ed25519 -N pw -C test (OpenSSH 9, aes256-ctr + bcrypt-pbkdf).
ENCRYPTED_OPENSSH = b"""-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABB4n/31eg
pfLXcTs24KlLnVAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIIIdMHVWDUtJOiK8
nmLwklI4qpEvAOKM9QB25ue6KtPDAAAAkH4K+SGZGoLlrAq0VQbgC9ZO5vClNZ6hk/Adkn
0MSuuTqcpqT5rWKUAb/aIdTeatuJAakqOdJho4kMhiKgVlZbbqRwQgr3PpxxZ2JtCl77S3
7HSkM2P2ghMS+jmKFU7jrZ4eOasoM2jH67CyR3NGRD9e0LWhTua7NfMgkVjxFa4zAIqU52
dvFo0MsHMX2BDoKw==
-----END OPENSSH PRIVATE KEY-----
"""
ENCRYPTED_OPENSSH_PUBLIC = "821d3075560d4b493a22bc9e62f0925238aa912f00e28cf50076e6e7ba2ad3c3"


def test_encrypted_openssh_key() -> None:
    assert is_encrypted_private_key(ENCRYPTED_OPENSSH)
    with pytest.raises(KeyFileError, match="^key is encrypted: a passphrase is required$"):
        load_private_key(ENCRYPTED_OPENSSH, None)
    assert load_private_key(ENCRYPTED_OPENSSH, b"pw").public.raw.hex() == ENCRYPTED_OPENSSH_PUBLIC
    with pytest.raises(KeyFileError, match="^wrong passphrase or corrupted key$"):
        load_private_key(ENCRYPTED_OPENSSH, b"wrong")


def test_error_messages_hold_no_key_material(rsa_key: rsa.RSAPrivateKey) -> None:
    key = SigningKey.generate()
    seed = _seed(key)
    pem = serialize_private_key(key, PASSPHRASE)
    messages = []
    for data, passphrase in [(pem, b"secret-guess"), (pem, None), (pem[:-40], PASSPHRASE), (pem[:100], PASSPHRASE)]:
        with pytest.raises(KeyFileError) as info:
            load_private_key(data, passphrase)
        messages.append(str(info.value))
    for message in messages:
        assert seed.hex() not in message and base64.b64encode(seed).decode() not in message
        assert "secret-guess" not in message and PASSPHRASE.decode() not in message
        assert "BEGIN" not in message and len(message) < 200


# ----------------------------------------------------------------- key files


def test_private_key_file_mode_and_round_trip(tmp_path: Path) -> None:
    key = SigningKey.generate()
    path = tmp_path / "panel.key"
    old = os.umask(0)  # even with a permissive umask the file is 0600
    try:
        write_private_key_file(path, key, PASSPHRASE)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert is_encrypted_private_key(path.read_bytes())
    assert read_private_key_file(path, PASSPHRASE).public == key.public
    with pytest.raises(KeyFileError, match=rf"^{path}: wrong passphrase or corrupted key$"):
        read_private_key_file(path, b"wrong")
    with pytest.raises(KeyFileError, match=rf"^{path}: key is encrypted: a passphrase is required$"):
        read_private_key_file(str(path), None)


def test_private_key_file_unencrypted(tmp_path: Path) -> None:
    key = SigningKey.generate()
    path = tmp_path / "k.key"
    write_private_key_file(path, key, None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not is_encrypted_private_key(path.read_bytes())
    assert read_private_key_file(path, None).public == key.public


def test_private_key_file_refuses_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    path.write_bytes(b"precious")
    with pytest.raises(KeyFileError, match="already exists; refusing to overwrite"):
        write_private_key_file(path, SigningKey.generate(), PASSPHRASE)
    assert path.read_bytes() == b"precious"
    # nor through a symlink (even a dangling one)
    link = tmp_path / "link.key"
    link.symlink_to(tmp_path / "target.key")
    with pytest.raises(KeyFileError, match="already exists"):
        write_private_key_file(link, SigningKey.generate(), None)
    assert not (tmp_path / "target.key").exists()


def test_private_key_file_errors(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="cannot read private key file"):
        read_private_key_file(tmp_path / "missing.key", None)
    with pytest.raises(KeyFileError, match="cannot create key file"):
        write_private_key_file(tmp_path / "no" / "dir.key", SigningKey.generate(), None)
    junk = tmp_path / "junk.key"
    junk.write_bytes(b"junk")
    with pytest.raises(KeyFileError, match=rf"^{junk}: not a private key file$"):
        read_private_key_file(junk, None)


def test_public_key_file(tmp_path: Path) -> None:
    key = SigningKey.generate()
    path = tmp_path / "panel.pub"
    write_public_key_file(path, key.public, "Panel member Á")
    data = path.read_bytes()
    assert data.endswith(b"}\n") and data.count(b"\n") == 1
    assert canonical.parse_canonical(data[:-1]) == {
        "key_id": key.public.key_id,
        "name": "Panel member Á",
        "public_key": key.public.base64,
    }
    assert data.startswith(b'{"key_id":"')
    public, name = read_public_key_file(path)
    assert public == key.public and name == "Panel member Á"
    # rewriting replaces atomically
    write_public_key_file(path, key.public, "renamed")
    assert read_public_key_file(path)[1] == "renamed"
    assert [p.name for p in tmp_path.iterdir()] == ["panel.pub"]


def test_public_key_file_rejects_mismatch_and_garbage(tmp_path: Path) -> None:
    key = SigningKey.generate()
    other = SigningKey.generate()
    path = tmp_path / "x.pub"
    path.write_bytes(
        canonical.encode({"key_id": other.key_id, "name": "", "public_key": key.public.base64}) + b"\n"
    )
    with pytest.raises(KeyFileError, match="does not match the public key"):
        read_public_key_file(path)
    for bad in [b"", b"[]", b'{"key_id":"x"}', b'{"key_id":1,"name":"","public_key":""}', b"\xff",
                canonical.encode({"key_id": key.key_id, "name": "", "public_key": "AAAA"})]:
        path.write_bytes(bad)
        with pytest.raises(KeyFileError):
            read_public_key_file(path)
    with pytest.raises(KeyFileError, match="cannot read public key file"):
        read_public_key_file(tmp_path / "missing.pub")


def test_errors_are_ledger_errors() -> None:
    assert issubclass(KeyFileError, LedgerError) and issubclass(SignatureError, LedgerError)
