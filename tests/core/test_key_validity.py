"""SPEC 3.1 "Public keys": no small-order and no non-canonically encoded Ed25519 public key
enters anywhere (policies R-7.16, key files, statement files, signed-note and witness keys).

The small-order points are derived here with a separate, textbook affine implementation of
edwards25519 (RFC 8032 section 5.1), not with ``ledger.core.keys``: the torsion subgroup is
{[k]T : k = 0..7} for any point T of order 8. Every encoding of each of them is tried: the
8 canonical ones, the sign-bit variants of x = 0 (2), and y + p for the points whose y < 19
(4): "eight plus six alternative encodings", as C2SP CCTV's ed25519 vectors and "Taming the
many EdDSAs" (Chalkias et al., 2020) count them.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core_fixtures import PANEL, Chain
from ledger.core import canonical
from ledger.errors import AuthorityError, KeyFileError, ProofError, SignatureError
from ledger.storage.keyfiles import read_public_key_file
from ledger.core.keys import PublicKey, SigningKey, check_public_key, key_id
from ledger.core.model import Signature
from ledger.core.note import NoteVerifier, cosigner_key_string, key_id as note_key_id, SIG_COSIGNATURE_V1
from ledger.core.policy import Policy

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    return ((x1 * y2 + x2 * y1) * pow(1 + t, P - 2, P) % P, (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P)


def _mul(k: int, point: tuple[int, int]) -> tuple[int, int]:
    out = (0, 1)
    while k:
        if k & 1:
            out = _add(out, point)
        point, k = _add(point, point), k >> 1
    return out


def _x_for(y: int) -> int | None:
    xx = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(xx, (P + 3) // 8, P)
    if x * x % P != xx:
        x = x * pow(2, (P - 1) // 4, P) % P
    return x if x * x % P == xx else None


def _encode(x: int, y: int, sign: int | None = None) -> bytes:
    return (y | ((x & 1 if sign is None else sign) << 255)).to_bytes(32, "little")


def _small_order_points() -> list[tuple[int, int]]:
    for y in range(2, 100):
        x = _x_for(y)
        if x is None:
            continue
        torsion = _mul(L, (x, y))  # the point's component in the torsion subgroup
        if _mul(4, torsion) != (0, 1):  # of order 8
            return [_mul(k, torsion) for k in range(8)]
    raise AssertionError("no point with a torsion component of order 8 found")


SMALL_ORDER = _small_order_points()
CANONICAL = [_encode(x, y) for x, y in SMALL_ORDER]
NON_CANONICAL = (
    [_encode(x, y, 1) for x, y in SMALL_ORDER if x == 0]
    + [_encode(x, y + P, s) for x, y in SMALL_ORDER if y + P < 2**255 for s in (0, 1)]
)
IDENTITY = _encode(0, 1)
IDENTITY_Y_PLUS_P = _encode(0, 1 + P, 0)  # a second key id for the same point
BASE = bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666")
FORGED = BASE + (1).to_bytes(32, "little")  # R = B, S = 1: [1]B - [k]O = B = R for any message
ALL = [pytest.param(raw, id=f"canonical-{raw.hex()[:8]}") for raw in CANONICAL] + [
    pytest.param(raw, id=f"noncanonical-{raw.hex()[:4]}..{raw.hex()[-2:]}") for raw in NON_CANONICAL
]


def test_the_enumeration_is_complete_and_matches_the_published_list() -> None:
    assert len(set(SMALL_ORDER)) == 8 and len(set(CANONICAL)) == 8
    assert len(set(NON_CANONICAL)) == 6
    # canonical encodings known from libsodium's blocklist and RFC 8032 discussions
    for known in ("0100000000000000000000000000000000000000000000000000000000000000",
                  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                  "0000000000000000000000000000000000000000000000000000000000000000",
                  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
                  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"):
        assert bytes.fromhex(known) in CANONICAL


@pytest.mark.parametrize("raw", [IDENTITY, IDENTITY_Y_PLUS_P, _encode(0, 1, 1)], ids=["identity", "y+p", "sign-bit"])
def test_openssl_alone_accepts_a_forgery_for_the_identity(raw: bytes) -> None:
    """Why the check must be ours: OpenSSL takes every encoding of the identity as a key and
    verifies R = B, S = 1 for any message; libsodium refuses, but it may only accept (ADR 0007)."""
    Ed25519PublicKey.from_public_bytes(raw).verify(FORGED, b"any message at all")


@pytest.mark.parametrize("raw", ALL)
def test_every_small_order_encoding_is_refused_everywhere(raw: bytes, tmp_path: Path) -> None:
    with pytest.raises(SignatureError, match="small-order|not canonically encoded"):
        check_public_key(raw)
    with pytest.raises(SignatureError):
        PublicKey.from_raw(raw)
    with pytest.raises(SignatureError):
        PublicKey.from_base64(base64.b64encode(raw).decode())
    with pytest.raises(SignatureError):
        key_id(raw)
    # a key file naming it (with its matching key id) is refused
    path = tmp_path / "small.pub"
    path.write_bytes(canonical.encode({"key_id": hashlib.sha256(raw).hexdigest(), "name": "x",
                                       "public_key": base64.b64encode(raw).decode()}) + b"\n")
    with pytest.raises((KeyFileError, SignatureError)):
        read_public_key_file(path)
    # a signed-note or witness verifier key
    with pytest.raises(ProofError, match="small-order|not canonically encoded"):
        NoteVerifier("witness.example", raw, SIG_COSIGNATURE_V1)
    vkey = f"w.example+{note_key_id('w.example', SIG_COSIGNATURE_V1, raw).hex()}+" + base64.b64encode(bytes([SIG_COSIGNATURE_V1]) + raw).decode()
    with pytest.raises(ProofError):
        NoteVerifier.from_string(vkey)


def test_non_canonical_y_of_a_real_point_is_refused_and_a_point_off_the_curve_too() -> None:
    with pytest.raises(SignatureError, match="y >= p"):
        check_public_key((2**255 - 1).to_bytes(32, "little"))
    off = next(y for y in range(2, 100) if _x_for(y) is None)
    with pytest.raises(SignatureError, match="not a point"):
        check_public_key(off.to_bytes(32, "little"))
    # a real key is accepted, and its id is SHA-256 of the canonical encoding
    key = SigningKey.generate()
    check_public_key(key.public.raw)
    assert key_id(key.public.raw) == hashlib.sha256(key.public.raw).hexdigest() == key.key_id


def _policy_with(chain: Chain, extra: dict[str, bytes]) -> dict:
    policy = chain.policy.to_json()
    policy["version"] += 1
    for kid, raw in extra.items():
        policy["keys"][kid] = {"public_key": base64.b64encode(raw).decode()}
    policy["roles"]["panel"]["key_ids"] = sorted([*policy["roles"]["panel"]["key_ids"], *extra])
    return policy


def test_policy_update_adding_identity_keys_with_forged_signatures_is_refused() -> None:
    """Attack 5 of issue 12, with raw entries and real keys: the panel adds the identity point
    under two key ids (canonical and y + p), with 'proof of possession' forged as R = B, S = 1;
    afterwards one real panel member and the two forged keys would meet the threshold of 3."""
    chain = Chain.new("small-order")
    forged_ids = {hashlib.sha256(raw).hexdigest(): raw for raw in (IDENTITY, IDENTITY_Y_PLUS_P)}
    assert len(forged_ids) == 2  # one point, two key ids
    update = chain.raw_policy_update(_policy_with(chain, forged_ids), reason="add two experts")
    signatures = chain.sign(update, PANEL[:3]) + [Signature(kid, FORGED) for kid in forged_ids]
    found = chain.append_signed(update, sorted(signatures, key=lambda s: s.key_id))
    assert [(v.seq, v.rule) for v in found] == [(1, "R-7.16")], found
    assert "small-order" in found[0].message and "policy key" in found[0].message
    assert chain.policy.version == 1  # no effect
    # the takeover that would follow: one real member plus the two forged keys
    takeover = chain.raw_policy_update(chain.panel_policy(["panel-1", "outsider"], 1), reason="takeover")
    signatures = chain.sign(takeover, ["panel-1", "outsider"]) + [Signature(kid, FORGED) for kid in forged_ids]
    found = chain.append_signed(takeover, sorted(signatures, key=lambda s: s.key_id))
    assert {v.rule for v in found} >= {"R-7.10", "R-7.13"}, found


@pytest.mark.parametrize("raw", [IDENTITY, IDENTITY_Y_PLUS_P, CANONICAL[3]], ids=["identity", "y+p", "order-8"])
def test_genesis_naming_a_small_order_key_is_refused(raw: bytes) -> None:
    chain = Chain.new("small-order-genesis")
    policy = chain.policy.to_json()
    kid = hashlib.sha256(raw).hexdigest()
    policy["keys"][kid] = {"public_key": base64.b64encode(raw).decode()}
    policy["roles"]["recorder"]["key_ids"] = sorted([*policy["roles"]["recorder"]["key_ids"], kid])
    with pytest.raises(AuthorityError, match="small-order|not canonically encoded"):
        Policy.from_json(policy)


def test_witness_key_of_small_order_makes_the_policy_invalid() -> None:
    chain = Chain.new("small-order-witness")
    policy = chain.policy.to_json()
    policy["version"] += 1
    policy["witnesses"] = {"keys": [
        f"w.example+{note_key_id('w.example', SIG_COSIGNATURE_V1, IDENTITY).hex()}+"
        + base64.b64encode(bytes([SIG_COSIGNATURE_V1]) + IDENTITY).decode()], "threshold": 1}
    found = chain.append(chain.raw_policy_update(policy, reason="a witness"), PANEL[:3])
    assert [v.rule for v in found] == ["R-7.16"] and "small-order" in found[0].message, found
    # a real witness key still goes in
    real = cosigner_key_string("w.example", SigningKey.generate().public.raw)
    policy["witnesses"]["keys"] = [real]
    policy["version"] = chain.policy.version + 1
    assert chain.append(chain.raw_policy_update(policy, reason="a real witness"), PANEL[:3]) == []


def test_statement_file_with_a_small_order_signer_is_refused() -> None:
    from ledger.core.statement_file import StatementFile

    chain = Chain.new("small-order-file")
    statement = chain.org("alpha")
    document = {"statement": statement.obj, "signatures": [
        {"key_id": hashlib.sha256(IDENTITY).hexdigest(), "public_key": base64.b64encode(IDENTITY).decode(),
         "sig": base64.b64encode(FORGED).decode()}]}
    with pytest.raises(SignatureError, match="small-order"):
        StatementFile.parse(canonical.encode(document) + b"\n")
