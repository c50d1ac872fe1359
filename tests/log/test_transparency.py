"""Transparency: the store's tree and checkpoints, receipts, verify against checkpoints,
witnesses, and tlog-tiles publication (SPEC.md sections 13-15).

Real signatures, real SQLite, and the real CLI in a subprocess for the commands.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from ledger.core import merkle, note
from ledger.log.checkpoints import WitnessRefusal, parse_consistency_proof, witness_check
from ledger.errors import ProofError, StoreError
from ledger.core.statement_file import StatementFile
from ledger.storage.store import LedgerStore
from ledger.log.tiles import (
    Tile,
    TileNodeSource,
    bundles_for_size,
    decode_bundle,
    encode_bundle,
    encode_tile,
    index_path,
    tiles_for_size,
)
from ledger.storage.treestore import log_vkey

from transparency_fixtures import ORIGIN, build, key, rebuild_rewritten, run, serve


def leaves_of(path: Path) -> list[bytes]:
    with LedgerStore.open(path, readonly=True) as store:
        return [merkle.leaf_hash(raw) for raw in store.iter_raw()]


def vkey_of(built) -> str:
    return log_vkey(ORIGIN, built.keys["operator"].public.raw)


def rules(proc) -> list[str]:
    return [v["rule"] for v in json.loads(proc.stdout)["violations"]]


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory):
    """A genuine ledger of 10 entries with its checkpoint at 7 and 10; its 7-entry prefix;
    a rewrite of it (entry 3 re-authored, everything after re-sealed); a longer genuine one."""
    d = tmp_path_factory.mktemp("ledgers")
    genuine = build(d / "genuine.db", 9)
    prefix = build(d / "prefix.db", 6)  # identical first 7 entries (deterministic build)
    rewritten = rebuild_rewritten(genuine, d / "rewritten.db", change=3, new_reason="nothing happened here")
    cp7 = d / "cp7.txt"
    cp7.write_bytes(run("checkpoint", str(d / "prefix.db"), check=True).stdout)
    cp10 = d / "cp10.txt"
    cp10.write_bytes(run("checkpoint", str(d / "genuine.db"), check=True).stdout)
    return {"dir": d, "genuine": genuine, "prefix": prefix, "rewritten": rewritten, "cp7": cp7, "cp10": cp10}


# --------------------------------------------------------------------------- store tree


def test_store_proofs_equal_reference_proofs(tmp_path):
    b = build(tmp_path / "l.db", 20, batch=6)
    leaves = leaves_of(b.path)
    ref = merkle.DictNodeSource.from_leaf_hashes(leaves)
    with b.open() as store:
        assert store.tree.size == len(leaves) == 21
        for n in range(1, 22):
            assert store.tree.root(n) == merkle.root(leaves[:n])
            for i in range(n):
                proof = store.tree.inclusion_proof(i, n)
                assert proof == merkle.inclusion_proof(i, n, ref)
                assert merkle.root_from_inclusion_proof(leaves[i], i, n, proof) == merkle.root(leaves[:n])
            for m in range(1, n + 1):
                before = store.tree.nodes.queries
                proof = store.tree.consistency_proof(m, n)
                assert store.tree.nodes.queries - before <= 1  # one query per proof
                merkle.verify_consistency(m, n, proof, merkle.root(leaves[:m]), merkle.root(leaves[:n]))
        # one checkpoint per append transaction: genesis, then batches of 6, 6, 6, 2
        sizes = [r[0] for r in store.conn.execute("SELECT size FROM checkpoints ORDER BY id")]
        assert sizes == [1, 7, 13, 19, 21]
        size, root, data = store.tree.latest_checkpoint()
        cp, _ = note.open_checkpoint(data, vkey_of(b))
        assert (cp.origin, cp.size, cp.root_hash) == (ORIGIN, 21, merkle.root(leaves))


def test_append_returns_a_receipt_that_verifies_offline(tmp_path):
    b = build(tmp_path / "l.db", 2)
    with b.open() as store:
        policy = store.verifier().context.policy
        from ledger.core.authoring import policy_update_statement

        st = policy_update_statement(store.verifier().context.ledger_id, policy, b.at(), reason="receipt test")
        entry = store.append(st, [st.sign(b.keys["panel-1"]), st.sign(b.keys["panel-3"])], b.keys["operator"])
        receipt = store.tree.receipt(entry.seq, store.last_checkpoint)
    cp = note.verify_proof(receipt, entry.raw, vkey_of(b))
    assert cp.size == entry.seq + 1


def test_missing_or_lagging_tree_is_rebuilt_on_open(tmp_path):
    b = build(tmp_path / "l.db", 5)
    expected = merkle.root(leaves_of(b.path))
    conn = sqlite3.connect(b.path)
    conn.execute("DROP TABLE merkle_nodes")
    conn.execute("DELETE FROM meta WHERE key = 'tree_size'")
    conn.commit()
    conn.close()
    with b.open() as store:  # an "old" ledger without the tree: rebuilt from the raw entries
        assert store.tree.size == 6 and store.tree.root() == expected
    conn = sqlite3.connect(b.path)
    conn.execute("DELETE FROM merkle_nodes WHERE idx >= 2")  # behind (and damaged)
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'tree_size'")
    conn.commit()
    conn.close()
    with b.open() as store:
        assert store.tree.size == 6 and store.tree.root() == expected


def test_operator_never_signs_a_checkpoint_inconsistent_with_an_earlier_one(tmp_path):
    b = build(tmp_path / "l.db", 5)
    keydir = tmp_path / "keys"
    operator = b.write_key("operator", keydir)
    conn = sqlite3.connect(b.path)  # the operator's database loses its last three entries
    conn.execute("DELETE FROM entries WHERE seq >= 3")
    conn.commit()
    conn.close()
    proc = run("checkpoint", str(b.path), "--operator-key", str(operator))
    assert proc.returncode == 1
    assert "rollback" in proc.stderr_text and "refusing to sign" in proc.stderr_text
    with b.open() as store:  # an append is refused the same way: nothing lands
        policy = store.verifier().context.policy
        from ledger.core.authoring import policy_update_statement

        st = policy_update_statement(store.verifier().context.ledger_id, policy, b.at(), reason="after the loss")
        with pytest.raises(StoreError, match="refusing to sign"):
            store.append(st, [st.sign(b.keys["panel-1"]), st.sign(b.keys["panel-2"])], b.keys["operator"])
        assert store.size == 3


# --------------------------------------------------------------------------- CLI: receipts and proofs


def test_cli_append_receipts_and_offline_check(tmp_path):
    b = build(tmp_path / "l.db", 1)
    operator = b.write_key("operator", tmp_path / "keys")
    with b.open() as store:
        context = store.verifier().context
        from ledger.core.authoring import policy_update_statement

        st = policy_update_statement(context.ledger_id, context.policy, b.at(), reason="via the CLI")
    doc = StatementFile(st)
    doc.sign(b.keys["panel-2"])
    doc.sign(b.keys["panel-3"])
    (tmp_path / "st.json").write_bytes(doc.to_bytes())
    receipts = tmp_path / "receipts"
    run("append", str(b.path), str(tmp_path / "st.json"), "--operator-key", str(operator), "--receipt-dir", str(receipts), check=True)
    receipt = receipts / "2.tlog-proof"
    assert receipt.read_bytes().startswith(b"c2sp.org/tlog-proof@v1\nindex 2\n")
    run("export", str(b.path), "--out", str(tmp_path / "b.jsonl"), check=True)
    entry = tmp_path / "e2.json"
    entry.write_bytes((tmp_path / "b.jsonl").read_bytes().splitlines(keepends=True)[2])
    vk = vkey_of(b)
    assert run("checkpoint", str(b.path), "--log-key").stdout_text.strip() == vk
    ok = run("check-proof", str(receipt), "--entry-file", str(entry), "--log-key", vk)
    assert ok.returncode == 0, ok.stderr_text
    leaf = merkle.leaf_hash(entry.read_bytes().rstrip(b"\n")).hex()
    assert run("check-proof", str(receipt), "--leaf-hash", leaf, "--log-key", vk).returncode == 0
    # `ledger prove` gives the same proof as the receipt
    assert run("prove", str(b.path), "--seq", "2", check=True).stdout == receipt.read_bytes()

    def refused(data: bytes, *extra: str) -> None:
        bad = tmp_path / "bad.proof"
        bad.write_bytes(data)
        proc = run("check-proof", str(bad), "--entry-file", str(entry), "--log-key", vk, *extra)
        assert proc.returncode == 1, proc.stdout_text
        assert proc.stderr_text.startswith("error: ")

    good = receipt.read_bytes()
    lines = good.split(b"\n")
    flipped = lines[2][:5] + (b"A" if lines[2][5:6] != b"A" else b"B") + lines[2][6:]
    refused(b"\n".join(lines[:2] + [flipped] + lines[3:]))  # a proof hash changed
    refused(good.replace(b"index 2\n", b"index 1\n"))  # another position
    refused(good.replace(b"\n3\n", b"\n4\n"))  # checkpoint size changed: signature fails
    other = log_vkey(ORIGIN, key("intruder").public.raw)
    proc = run("check-proof", str(receipt), "--entry-file", str(entry), "--log-key", other)
    assert proc.returncode == 1
    entry.write_bytes(entry.read_bytes().replace(b"via the CLI", b"via the cli"))
    refused(good)  # the entry changed


# --------------------------------------------------------------------------- verify against checkpoints


def test_consistent_ledgers_pass_against_earlier_checkpoints(ledgers):
    for cp in ("cp7", "cp10"):
        proc = run("verify", str(ledgers["genuine"].path), "--checkpoint", str(ledgers[cp]), "--json")
        assert proc.returncode == 0, proc.stdout_text
        report = json.loads(proc.stdout)
        assert report["checkpoints"][0]["consistent"] is True
    pinned = run("verify", str(ledgers["genuine"].path), "--checkpoint", str(ledgers["cp7"]), "--checkpoint",
                 str(ledgers["cp10"]), "--log-key", vkey_of(ledgers["genuine"]))
    assert pinned.returncode == 0, pinned.stdout_text


def test_truncation_after_a_published_checkpoint_is_caught(ledgers):
    prefix = ledgers["prefix"].path
    assert run("verify", str(prefix)).returncode == 0  # every core rule holds
    proc = run("verify", str(prefix), "--checkpoint", str(ledgers["cp10"]), "--json")
    assert proc.returncode == 1
    assert rules(proc) == ["R-14.3"]
    assert "missing (truncated" in json.loads(proc.stdout)["violations"][0]["message"]


def test_rewritten_and_resealed_history_is_caught(ledgers):
    rewritten = ledgers["rewritten"].path
    assert run("verify", str(rewritten)).returncode == 0  # the rewrite passes every core rule
    for cp in ("cp7", "cp10"):
        proc = run("verify", str(rewritten), "--checkpoint", str(ledgers[cp]), "--json")
        assert proc.returncode == 1
        assert rules(proc) == ["R-14.4"]
    text = run("verify", str(rewritten), "--checkpoint", str(ledgers["cp7"]))
    assert "rewritten, or this is a fork" in text.stdout_text and "[R-14.4]" in text.stdout_text


def test_checkpoint_from_another_key_or_origin_is_reported(ledgers, tmp_path):
    forged = note.sign_checkpoint(note.Checkpoint(ORIGIN, 7, b"\x01" * 32), note.NoteSigner(ORIGIN, key("intruder")))
    (tmp_path / "forged.txt").write_bytes(forged)
    proc = run("verify", str(ledgers["genuine"].path), "--checkpoint", str(tmp_path / "forged.txt"), "--json")
    assert proc.returncode == 1 and rules(proc) == ["R-14.1"]
    other = note.sign_checkpoint(note.Checkpoint("other.example/log", 7, b"\x01" * 32),
                                 note.NoteSigner("other.example/log", ledgers["genuine"].keys["operator"]))
    (tmp_path / "other.txt").write_bytes(other)
    proc = run("verify", str(ledgers["genuine"].path), "--checkpoint", str(tmp_path / "other.txt"), "--json")
    assert proc.returncode == 1 and rules(proc) == ["R-14.2"]
    pinned = run("verify", str(ledgers["genuine"].path), "--checkpoint", str(ledgers["cp7"]),
                 "--log-key", log_vkey(ORIGIN, key("intruder").public.raw), "--json")
    # the given checkpoint and the database's own stored one (judged by default) both fail
    assert pinned.returncode == 1 and rules(pinned) == ["R-14.1", "R-14.1"]


# --------------------------------------------------------------------------- publication


def test_published_directory_and_url_verify_and_a_served_fork_is_caught(ledgers, tmp_path):
    pub = tmp_path / "pub"
    fork = tmp_path / "fork"
    run("publish", str(ledgers["genuine"].path), "--out", str(pub), check=True)
    run("publish", str(ledgers["rewritten"].path), "--out", str(fork), check=True)
    assert (pub / "checkpoint").read_bytes() == ledgers["cp10"].read_bytes()
    assert (pub / "tile/0/000.p/10").stat().st_size == 10 * 32
    assert decode_bundle((pub / "tile/entries/000.p/10").read_bytes(), Tile(0, 0, 10)) == [
        line for line in (pub / "bundle.jsonl").read_bytes().splitlines()
    ]
    vk = vkey_of(ledgers["genuine"])
    assert run("verify", str(pub), "--checkpoint", str(ledgers["cp7"]), "--log-key", vk).returncode == 0
    with serve(tmp_path) as base:
        ok = run("verify", f"{base}/pub", "--checkpoint", str(ledgers["cp7"]), "--log-key", vk, "--json")
        assert ok.returncode == 0, ok.stdout_text
        assert len(json.loads(ok.stdout)["checkpoints"]) == 2  # the served one and the saved one
        # the same URL now serves the rewritten history: self-consistent, but not with cp7
        bad = run("verify", f"{base}/fork", "--checkpoint", str(ledgers["cp7"]), "--log-key", vk, "--json")
        assert bad.returncode == 1 and rules(bad) == ["R-14.4"]
        # inclusion proofs from the served tiles equal the operator's
        for seq in (0, 3, 9):
            served = run("prove", f"{base}/pub", "--seq", str(seq), check=True).stdout
            assert served == run("prove", str(ledgers["genuine"].path), "--seq", str(seq), check=True).stdout
        missing = run("verify", f"{base}/nothing-here")
        assert missing.returncode == 2 and "HTTP 404" in missing.stderr_text
    (pub / "tile/entries/000.p/10").unlink()
    assert run("verify", str(pub)).returncode == 2


def test_tile_paths_and_counts_follow_tlog_tiles():
    assert index_path(0) == "000" and index_path(1234067) == "x001/x234/067" and index_path(1000) == "x001/000"
    tiles = list(tiles_for_size(70_000))
    by_level = {}
    for t in tiles:
        by_level.setdefault(t.level, []).append(t)
    assert len([t for t in by_level[0] if not t.partial]) == 273 and by_level[0][-1].width == 112
    assert [t.width for t in by_level[1]] == [256, 17] and [t.width for t in by_level[2]] == [1]
    assert [t.path() for t in tiles_for_size(256)] == ["tile/0/000", "tile/1/000.p/1"]
    assert Tile(0, 1234067, 8).entries_path() == "tile/entries/x001/x234/067.p/8"
    assert [t.width for t in bundles_for_size(513)] == [256, 256, 1]
    entries = [b"", b"x", b"y" * 65535]
    assert decode_bundle(encode_bundle(entries)) == entries
    with pytest.raises(ProofError):
        decode_bundle(encode_bundle(entries)[:-1])


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 511, 70_000])
def test_tile_node_source_gives_the_same_proofs(size):
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size)]
    ref = merkle.DictNodeSource.from_leaf_hashes(leaves)
    files = {}
    for t in tiles_for_size(size):
        files[t.path()] = encode_tile(ref.nodes[k] for k in t.node_keys())
    source = TileNodeSource(size, files.__getitem__)
    assert merkle.tree_root(size, source) == merkle.root(leaves) if size <= 4096 else True
    for i in {0, size // 2, size - 1}:
        assert merkle.inclusion_proof(i, size, source) == merkle.inclusion_proof(i, size, ref)
    for m in {1, size // 3 or 1, size - 1 or 1}:
        assert merkle.consistency_proof(m, size, source) == merkle.consistency_proof(m, size, ref)
    assert len(source.fetched) <= 2 * (1 + size.bit_length() // 8) * 3  # only the tiles needed


# --------------------------------------------------------------------------- witnesses


def _witness(tmp_path, b, label: str) -> tuple[Path, str]:
    keyfile = b.write_key(label, tmp_path / "keys") if label in b.keys else None
    if keyfile is None:
        b.keys[label] = key(label)
        keyfile = b.write_key(label, tmp_path / "keys")
    return keyfile, note.cosigner_key_string(f"{label}.example", b.keys[label].public.raw)


def test_witness_cosigns_extensions_and_refuses_forks_and_rollbacks(ledgers, tmp_path):
    g = ledgers["genuine"]
    keyfile, wvk = _witness(tmp_path, g, "witness-a")
    state = tmp_path / "state"
    common = ["--key", str(keyfile), "--name", "witness-a.example", "--state", str(state), "--at", "1767225600"]
    vk = vkey_of(g)
    first = run("witness", "cosign", str(ledgers["cp7"]), *common, "--log-key", vk)
    assert first.returncode == 0, first.stderr_text
    note.verify_cosignature(note.parse_note(ledgers["cp7"].read_bytes())[0], first.stdout_text, wvk)
    # a fork at a larger size: the witness computes the proof from the forked ledger and refuses
    fork_cp = tmp_path / "fork10.txt"
    fork_cp.write_bytes(run("checkpoint", str(ledgers["rewritten"].path), check=True).stdout)
    proc = run("witness", "cosign", str(fork_cp), *common, "--ledger", str(ledgers["rewritten"].path))
    assert proc.returncode == 1 and "refusing to cosign" in proc.stderr_text and "not an append-only extension" in proc.stderr_text
    # the genuine extension, with a proof file
    proof = tmp_path / "c.txt"
    proof.write_bytes(run("prove", str(g.path), "--old-size", "7", check=True).stdout)
    assert parse_consistency_proof(proof.read_bytes())[0] == 7
    ok = run("witness", "cosign", str(ledgers["cp10"]), *common, "--proof", str(proof), "--out", str(tmp_path / "cp10.cosigned"))
    assert ok.returncode == 0, ok.stderr_text
    # now the fork at the same size, and the old checkpoint (rollback), are refused
    same = run("witness", "cosign", str(fork_cp), *common)
    assert same.returncode == 1 and "fork at size 10" in same.stderr_text
    back = run("witness", "cosign", str(ledgers["cp7"]), *common)
    assert back.returncode == 1 and "rollback" in back.stderr_text
    evidence = sorted(p.name for p in (state / "test.violence-ledger.example%2Ftransparency" / "cosigned").iterdir())
    assert len(evidence) == 2 and evidence[0].startswith("000000000007-")


def test_witness_check_is_pure_and_strict(ledgers):
    g = ledgers["genuine"]
    vk = note.NoteVerifier.from_string(vkey_of(g))
    cp7, cp10 = ledgers["cp7"].read_bytes(), ledgers["cp10"].read_bytes()
    with LedgerStore.open(g.path) as store:
        proof = store.tree.consistency_proof(7, 10)
    assert witness_check(cp10, vk, cp7, (7, proof)).size == 10
    with pytest.raises(WitnessRefusal, match="consistency proof from size 7"):
        witness_check(cp10, vk, cp7, None)
    with pytest.raises(WitnessRefusal):
        witness_check(cp10, vk, cp7, (7, [bytes(32)] * len(proof)))
    with pytest.raises(WitnessRefusal):
        witness_check(cp10, note.NoteVerifier.from_string(log_vkey(ORIGIN, key("x").public.raw)), None, None)


def test_policy_witness_threshold_is_enforced_by_verify(tmp_path):
    wa, wb = key("wa"), key("wb")
    va = note.cosigner_key_string("wa.example", wa.public.raw)
    vb = note.cosigner_key_string("wb.example", wb.public.raw)
    b = build(tmp_path / "w.db", 3, witnesses={"keys": [va, vb], "threshold": 2})
    with b.open() as store:
        assert store.verifier().context.policy.witnesses["threshold"] == 2
    cp = tmp_path / "cp.txt"
    cp.write_bytes(run("checkpoint", str(b.path), check=True).stdout)
    proc = run("verify", str(b.path), "--checkpoint", str(cp), "--json")
    assert proc.returncode == 1 and rules(proc) == ["R-14.5"]
    b.keys["wa"], b.keys["wb"] = wa, wb
    sigs = []
    for label, name in (("wa", "wa.example"), ("wb", "wb.example")):
        keyfile = b.write_key(label, tmp_path / "keys")
        res = run("witness", "cosign", str(cp), "--key", str(keyfile), "--name", name, "--state", str(tmp_path / f"s-{label}"),
                  "--log-key", vkey_of(b), "--at", "1767225600")
        assert res.returncode == 0, res.stderr_text
        (tmp_path / f"{label}.sig").write_bytes(res.stdout)
        sigs.append(str(tmp_path / f"{label}.sig"))
    run("witness", "attach", str(cp), sigs[0], "--witness", va, "--out", str(tmp_path / "one.txt"), check=True)
    one = run("verify", str(b.path), "--checkpoint", str(tmp_path / "one.txt"), "--json")
    assert one.returncode == 1 and "1 of 2 required" in json.loads(one.stdout)["violations"][0]["message"]
    run("witness", "attach", str(cp), *sigs, "--out", str(tmp_path / "both.txt"), check=True)
    both = run("verify", str(b.path), "--checkpoint", str(tmp_path / "both.txt"), "--json")
    assert both.returncode == 0, both.stdout_text
    assert json.loads(both.stdout)["checkpoints"][0]["witnesses"]["signed"] == [
        f"wa.example+{note.NoteVerifier.from_string(va).key_id.hex()}",
        f"wb.example+{note.NoteVerifier.from_string(vb).key_id.hex()}",
    ]
    # a tampered cosignature by a policy witness rejects the checkpoint's witness check
    text = (tmp_path / "both.txt").read_bytes()
    line = Path(sigs[1]).read_bytes().rstrip(b"\n")
    tampered = line[:-6] + (b"AAAAA=" if not line.endswith(b"AAAAA=") else b"BBBBB=")
    (tmp_path / "bad.txt").write_bytes(text.replace(line, tampered))
    bad = run("verify", str(b.path), "--checkpoint", str(tmp_path / "bad.txt"), "--json")
    assert bad.returncode == 1 and rules(bad) == ["R-14.5"]
    # the operator stores the cosignatures with its checkpoint, and publishes them
    run("checkpoint", str(b.path), "--cosignature", sigs[0], "--cosignature", sigs[1], check=True)
    run("publish", str(b.path), "--out", str(tmp_path / "pub"), check=True)
    assert run("verify", str(tmp_path / "pub")).returncode == 0


@pytest.mark.parametrize(
    "witnesses, message",
    [
        ({"keys": ["wa"], "threshold": 1}, "does not have the form"),
        ({"keys": [note.verifier_key_string("wa.example", key("wa").public.raw)], "threshold": 1}, "not a cosignature/v1"),
        ({"keys": [note.cosigner_key_string("wa.example", key("wa").public.raw)], "threshold": 2}, "exceeds the 1 witness keys"),
    ],
)
def test_invalid_witness_policy_is_refused(tmp_path, witnesses, message):
    with pytest.raises(StoreError, match=message) as info:
        build(tmp_path / "w.db", 1, witnesses=witnesses)
    assert "R-7.16" in str(info.value)  # an invalid policy, refused at append like any other


def test_node_query_uses_the_primary_key(tmp_path):
    """A proof is one indexed query, never a scan of the node table (O(log n) at 10^6)."""
    b = build(tmp_path / "l.db", 1)
    with b.open() as store:
        captured = []
        store.conn.set_trace_callback(captured.append)
        store.tree.inclusion_proof(0, 2)
        store.conn.set_trace_callback(None)
        query = next(q for q in captured if "merkle_nodes" in q)
        plan = " ".join(str(r[-1]) for r in store.conn.execute("EXPLAIN QUERY PLAN " + query))
    assert "USING PRIMARY KEY" in plan and "SCAN merkle_nodes" not in plan and "SCAN n" not in plan
