"""Conformance of ledger.core.note with C2SP signed-note, tlog-checkpoint, tlog-cosignature, tlog-proof."""

from __future__ import annotations

import base64

import pytest

from ledger.errors import ProofError
from ledger.core.merkle import DictNodeSource, TreeBuilder, inclusion_proof, leaf_hash
from ledger.core.note import (
    SIG_COSIGNATURE_V1,
    Checkpoint,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    add_signature_lines,
    cosign,
    cosignature_message,
    cosigner_key_string,
    decode_cosignature,
    format_proof,
    open_checkpoint,
    open_note,
    parse_note,
    parse_proof,
    parse_signature_line,
    parse_signer_key,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    signer_key_string,
    unverified_signatures,
    verifier_key_string,
    verify_cosignature,
    verify_proof,
)

from vector_files import load_vector

V = load_vector("signed_note.json")
COUNTED: dict[str, int] = {}


def test_vector_counts():
    sizes = {
        "verifier_keys": len(V["verifier_keys"]),
        "signer_key_pairs": len(V["signer_key_pairs"]),
        "signing": len(V["signing"]),
        "notes": len(V["notes"]),
        "cosigned_checkpoints": len(V["cosigned_checkpoints"]),
        "cosignature_timestamp": len(V["cosignature_timestamp"]),
        "cosignature_message_format": len(V["cosignature_message_format"]),
        "format_examples_without_keys": len(V["format_examples_without_keys"]),
        "checkpoint_body_parsing": len(V["checkpoint_body_parsing"]["cases"]),
    }
    assert sizes == {
        "verifier_keys": 13,
        "signer_key_pairs": 9,
        "signing": 1,
        "notes": 16,
        "cosigned_checkpoints": 1,
        "cosignature_timestamp": 2,
        "cosignature_message_format": 2,
        "format_examples_without_keys": 2,
        "checkpoint_body_parsing": 12,
    }
    assert sum(sizes.values()) == 58


# ----------------------------------------------------------------------------- keys


def test_verifier_keys():
    n_valid = n_invalid = n_parse_only = 0
    for case in V["verifier_keys"]:
        vkey = case["vkey"]
        if case.get("parse_only"):
            f = parse_verifier_key(vkey)
            assert f.name == case["name"]
            assert f.key_id.hex() == case["key_id"]
            assert f.sig_type == case["type"]
            assert f.public_key.hex() == case["public_key_hex"]
            with pytest.raises(ProofError):
                NoteVerifier.from_string(vkey)
            n_parse_only += 1
        elif case["valid"]:
            v = NoteVerifier.from_string(vkey)
            assert v.name == case["name"]
            assert v.key_id.hex() == case["key_id"]
            assert v.sig_type == case["type"]
            if "public_key_hex" in case:
                assert v.public_raw.hex() == case["public_key_hex"]
            assert verifier_key_string(v.name, v.public_raw, v.sig_type) == vkey
            assert str(v) == vkey
            n_valid += 1
        else:
            with pytest.raises(ProofError):
                NoteVerifier.from_string(vkey)
            n_invalid += 1
    assert (n_valid, n_invalid, n_parse_only) == (7, 5, 1)


def test_signer_key_pairs():
    count = 0
    for case in V["signer_key_pairs"]:
        name, seed = parse_signer_key(case["skey"])
        assert signer_key_string(name, seed) == case["skey"]
        signer = NoteSigner.from_string(case["skey"])
        if case["vkey"] is not None:
            assert verifier_key_string(name, signer.public_raw) == case["vkey"]
            assert str(signer.verifier()) == case["vkey"]
        # the same key as a cosigner has a type-0x04 vkey with a different key id
        cv = NoteVerifier.from_string(cosigner_key_string(name, signer.public_raw))
        assert cv.sig_type == SIG_COSIGNATURE_V1 and cv.key_id != signer.key_id
        count += 1
    assert count == 9
    with pytest.raises(ProofError):  # a vkey is not an skey
        parse_signer_key("logandmap+38581672+Ab/PCr1eCclRPRMBqw/r5An1xO71MCnImLiospEq6b4l")


# ----------------------------------------------------------------------------- signing


def test_signing_exact_bytes():
    count = 0
    for case in V["signing"]:
        signer = NoteSigner.from_string(case["skey"])
        note = sign_note(case["text"], [signer])
        assert note == case["expected_note"].encode("utf-8")
        text, sigs = open_note(note, [signer.verifier()])
        assert text == case["text"] and [s.name for s in sigs] == [signer.name]
        count += 1
    assert count == 1


# ----------------------------------------------------------------------------- opening


def _note_bytes(case: dict) -> bytes:
    if "note" in case:
        return case["note"].encode("utf-8")
    if "note_hex" in case:
        return bytes.fromhex(case["note_hex"])
    c = case["construction"]
    return (c["text"] + c["separator"] + c["repeat_line"] * c["count"]).encode("utf-8")


def test_notes():
    ok = bad = 0
    for case in V["notes"]:
        note = _note_bytes(case)
        exp = case["expect"]
        verifiers = case["verifiers"]
        if exp["ok"]:
            text, sigs = open_note(note, verifiers)
            if "text" in exp:
                assert text == exp["text"], case["id"]
            assert [s.name for s in sigs] == exp["verified"], case["id"]
            unverified = unverified_signatures(note, verifiers)
            if "unverified" in exp:
                assert [s.name for s in unverified] == exp["unverified"], case["id"]
            if "unverified_count" in exp:
                assert len(unverified) == exp["unverified_count"], case["id"]
            if "checkpoint" in exp:
                cp = Checkpoint.parse(text)
                assert cp.origin == exp["checkpoint"]["origin"]
                assert cp.size == exp["checkpoint"]["size"]
                assert base64.b64encode(cp.root_hash).decode() == exp["checkpoint"]["root_hash_b64"]
                # a checkpoint reader checks the origin it expects
                log = verifiers[0]
                got, _ = open_checkpoint(note, log, origin=exp["checkpoint"]["origin"])
                assert got == cp
                with pytest.raises(ProofError, match="origin"):
                    open_checkpoint(note, log, origin="example.com/some-other-log")
                with pytest.raises(ProofError, match="origin"):
                    open_checkpoint(note, log)  # default origin = key name, differs here
            ok += 1
        else:
            with pytest.raises(ProofError) as ei:
                open_note(note, verifiers)
            assert exp["error"] in str(ei.value), (case["id"], str(ei.value))
            if "unverified" in exp:
                assert [s.name for s in unverified_signatures(note, verifiers)] == exp["unverified"]
            bad += 1
    assert (ok, bad) == (6, 10)


def test_cosigned_checkpoint_real():
    count = 0
    for case in V["cosigned_checkpoints"]:
        note = case["note"].encode("utf-8")
        exp = case["expect"]
        cp, sigs = open_checkpoint(note, case["log_vkey"], witnesses=case["witness_vkeys"])
        assert cp.origin == exp["checkpoint"]["origin"]
        assert cp.size == exp["checkpoint"]["size"]
        assert base64.b64encode(cp.root_hash).decode() == exp["checkpoint"]["root_hash_b64"]
        log = NoteVerifier.from_string(case["log_vkey"])
        assert any(s.key_id == log.key_id for s in sigs) == exp["log_signature_verifies"]
        text, lines = parse_note(note)
        for wv in case["witness_vkeys"]:
            w = NoteVerifier.from_string(wv)
            line = next(x for x in lines if x.name == w.name and x.key_id == w.key_id)
            ts = verify_cosignature(text, line.line(), w)
            assert exp["cosignature_verifies"][w.name] is True
            verified = next(s for s in sigs if s.name == w.name)
            assert verified.timestamp == ts and verified.sig_type == SIG_COSIGNATURE_V1
        # every other line is ignored (ECDSA type 0x05 line, unconfigured witnesses)
        assert len(unverified_signatures(note, [case["log_vkey"], *case["witness_vkeys"]])) == 4

        # negative: change the size line; both the log signature and the cosignature fail
        assert case["negative"]["mutation"].startswith("replace the size line")
        bad = note.replace(b"\n1432088532\n", b"\n42\n", 1)
        with pytest.raises(ProofError, match="invalid signature"):
            open_note(bad, [case["log_vkey"]])
        bad_text, bad_lines = parse_note(bad)
        w = NoteVerifier.from_string(case["witness_vkeys"][0])
        wline = next(x for x in bad_lines if x.key_id == w.key_id)
        with pytest.raises(ProofError, match="invalid cosignature"):
            verify_cosignature(bad_text, wline.line(), w)
        with pytest.raises(ProofError):
            open_note(bad, case["witness_vkeys"])
        count += 1
    assert count == 1


# ----------------------------------------------------------------------------- cosignatures


def test_cosignature_timestamps():
    count = 0
    for case in V["cosignature_timestamp"]:
        if "expect_timestamp" in case:
            _, ts, sig = decode_cosignature(case["signature_b64"])
            assert ts == case["expect_timestamp"] and len(sig) == 64
        else:
            with pytest.raises(ProofError):
                decode_cosignature(case["signature_b64"])
        count += 1
    assert count == 2


def test_cosignature_message_format():
    count = 0
    for case in V["cosignature_message_format"]:
        msg = cosignature_message(case["checkpoint_text"], case["timestamp"])
        assert msg == case["expected_signed_message"].encode("utf-8")
        count += 1
    assert count == 2


def test_format_examples_without_keys():
    count = 0
    for case in V["format_examples_without_keys"]:
        exp = case["expect_parse"]
        if "note" in case:
            text, _ = parse_note(case["note"].encode("utf-8"))
            cp = Checkpoint.parse(text)
            assert (cp.origin, cp.size) == (exp["origin"], exp["size"])
            assert base64.b64encode(cp.root_hash).decode() == exp["root_hash_b64"]
            assert cp.format() == text
        else:
            sig = parse_signature_line(case["line"])
            assert sig.name == exp["name"] and sig.key_id.hex() == exp["key_id"]
            kid, ts, raw = decode_cosignature(sig.key_id + sig.signature)
            assert kid.hex() == exp["key_id"] and ts == exp["timestamp"]
            assert len(raw) == exp["signature_len"]
        count += 1
    assert count == 2


# ----------------------------------------------------------------------------- checkpoints


def test_checkpoint_body_parsing():
    strict_ok = strict_bad = lax_ok = 0
    for case in V["checkpoint_body_parsing"]["cases"]:
        body = case["body"]
        strict_valid = case["valid_upstream"] and case.get("hash_is_32_bytes", True)
        # extension lines MUST be non-empty (C2SP), stricter than upstream
        lax_valid = case["valid_upstream"] and "\n\n" not in body
        if strict_valid:
            Checkpoint.parse(body)
            strict_ok += 1
        else:
            with pytest.raises(ProofError):
                Checkpoint.parse(body)
            strict_bad += 1
        if lax_valid:
            cp = Checkpoint.parse(body, hash_size=None)
            if "origin" in case:
                assert cp.origin == case["origin"]
            if "size" in case:
                assert cp.size == case["size"]
            if "extension_lines" in case:
                assert list(cp.extensions) == case["extension_lines"]
            assert cp.format() == body
            lax_ok += 1
        else:
            with pytest.raises(ProofError):
                Checkpoint.parse(body, hash_size=None)
    assert (strict_ok, strict_bad, lax_ok) == (0, 12, 4)


def test_checkpoint_format_and_invalid_fields():
    root = bytes(range(32))
    cp = Checkpoint("example.com/log", 0, root)
    assert cp.format() == "example.com/log\n0\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    assert Checkpoint.parse(cp.format()) == cp
    for body in [
        "example.com/log\n01\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",  # leading zero
        "example.com/log\n+1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "example.com/log\n18446744073709551616\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "example.com/log\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",  # no padding
        "example.com/log\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n",  # empty ext
    ]:
        with pytest.raises(ProofError):
            Checkpoint.parse(body)
    Checkpoint.parse("example.com/log\n18446744073709551615\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n")
    with pytest.raises(ProofError):
        Checkpoint("", 1, root)
    with pytest.raises(ProofError):
        Checkpoint("a\nb", 1, root)
    with pytest.raises(ProofError):
        Checkpoint("a", -1, root)
    with pytest.raises(ProofError):
        Checkpoint("a", 1, root, ("",))


# ----------------------------------------------------------------------------- round trips


LOG = NoteSigner("example.com/ledger", bytes(range(32)))
W1 = NoteSigner("witness.example/w1", bytes(range(1, 33)))
W2 = NoteSigner("witness.example/w2", bytes(range(2, 34)))


def test_sign_open_rules():
    text = "hello\n\nworld\n"  # empty lines inside the text are fine
    note = sign_note(text, [LOG, W1])
    got, sigs = open_note(note, [LOG.verifier()])
    assert got == text and [s.name for s in sigs] == [LOG.name]
    # known name but different key id: ignored (unknown key), so no verified signature
    other = NoteSigner(LOG.name, bytes(range(3, 35)))
    with pytest.raises(ProofError, match="no verifiable"):
        open_note(note, [other.verifier()])
    # a bad signature from a known key rejects the whole note, even if another verifies
    t, lines = parse_note(note)
    broken = lines[1].signature[:-1] + bytes([lines[1].signature[-1] ^ 1])
    tampered = (t + "\n" + lines[0].line() + NoteSignature(lines[1].name, lines[1].key_id, broken).line()).encode()
    with pytest.raises(ProofError, match="invalid signature"):
        open_note(tampered, [LOG.verifier(), W1.verifier()])
    open_note(tampered, [LOG.verifier()])  # W1 unknown here: ignored
    for bad_text in ["no newline", "ctrl\x07\n"]:
        with pytest.raises(ProofError):
            sign_note(bad_text, [LOG])
    with pytest.raises(ProofError):
        NoteSigner("bad name", bytes(32))
    with pytest.raises(ProofError):
        NoteSigner("bad+name", bytes(32))
    # at least 16 signatures must be accepted
    many = sign_note("x\n", [NoteSigner(f"k{i}", bytes([i]) * 32) for i in range(16)])
    assert len(parse_note(many)[1]) == 16


def test_cosign_round_trip():
    cp = Checkpoint("example.com/ledger", 5, bytes(32))
    note = sign_checkpoint(cp, LOG)
    line = cosign(cp.format(), 1700000000, W1)
    assert verify_cosignature(cp.format(), line, W1.cosigner_verifier()) == 1700000000
    with pytest.raises(ProofError):
        verify_cosignature(cp.format(), line, W2.cosigner_verifier())
    with pytest.raises(ProofError):  # a type-0x01 key is not a cosigner key
        verify_cosignature(cp.format(), line, W1.verifier())
    other = Checkpoint("example.com/ledger", 6, bytes(32)).format()
    with pytest.raises(ProofError, match="invalid cosignature"):
        verify_cosignature(other, line, W1.cosigner_verifier())
    cosigned = add_signature_lines(note, [line])
    got, sigs = open_checkpoint(cosigned, LOG.verifier(), witnesses=[W1.cosigner_verifier()])
    assert got == cp
    assert [(s.name, s.timestamp) for s in sigs] == [(LOG.name, None), (W1.name, 1700000000)]
    with pytest.raises(ProofError):
        cosign(cp.format(), 1 << 63, W1)


def _proof_fixture(n: int = 11, index: int = 6):
    leaves = [f"entry {i}".encode() for i in range(n)]
    src = DictNodeSource()
    b = TreeBuilder()
    for x in leaves:
        src.add(b.append(leaf_hash(x)))
    cp = Checkpoint("example.com/ledger", n, b.root())
    note = add_signature_lines(
        sign_checkpoint(cp, LOG),
        [cosign(cp.format(), 1700000000, W1), cosign(cp.format(), 1700000001, W2)],
    )
    return leaves, inclusion_proof(index, n, src), note


def test_tlog_proof_round_trip_and_verify():
    leaves, proof, note = _proof_fixture()
    text = format_proof(6, proof, note, extra=b"context")
    lines = text.decode().split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    assert lines[1] == "extra " + base64.b64encode(b"context").decode()
    assert lines[2] == "index 6"
    assert text.endswith(note)
    p = parse_proof(text)
    assert (p.index, list(p.inclusion), p.checkpoint_note, p.extra) == (6, proof, note, b"context")
    assert format_proof(p.index, p.inclusion, p.checkpoint_note, p.extra) == text
    ws = [W1.cosigner_verifier(), W2.cosigner_verifier()]
    cp = verify_proof(text, leaves[6], LOG.verifier(), witnesses=ws, min_witnesses=2)
    assert cp.size == 11
    verify_proof(text, leaf_hash(leaves[6]), str(LOG.verifier()), leaf_is_hash=True)
    with pytest.raises(ProofError):
        verify_proof(text, leaves[5], LOG.verifier())
    with pytest.raises(ProofError, match="witness"):
        verify_proof(text, leaves[6], LOG.verifier(), witnesses=ws[:1], min_witnesses=2)
    with pytest.raises(ProofError):
        verify_proof(text, leaves[6], W1.verifier())  # not the log key
    with pytest.raises(ProofError, match="origin"):
        verify_proof(text, leaves[6], LOG.verifier(), origin="example.com/other")
    # wrong index
    with pytest.raises(ProofError):
        verify_proof(text.replace(b"index 6\n", b"index 7\n"), leaves[6], LOG.verifier())
    # no extra, empty proof (size-1 tree)
    leaves1, proof1, note1 = _proof_fixture(1, 0)
    t1 = format_proof(0, proof1, note1)
    assert t1.startswith(b"c2sp.org/tlog-proof@v1\nindex 0\n\n")
    verify_proof(t1, leaves1[0], LOG.verifier())


def test_tlog_proof_malformed():
    leaves, proof, note = _proof_fixture()
    good = format_proof(6, proof, note).decode()
    for bad in [
        good.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
        good.replace("index 6", "index 06"),
        good.replace("index 6", "index -6"),
        good.replace("index 6\n", ""),
        good.replace("index 6\n", "index 6\nnot-base64!\n"),
        good.replace("index 6\n", "index 6\nAAAA\n"),  # not 32 bytes
        good.split("\n\n")[0] + "\n",  # no checkpoint
        good[:-1],  # note without final newline
    ]:
        with pytest.raises(ProofError):
            parse_proof(bad)
