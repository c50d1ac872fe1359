"""What `ledger verify` judged, and the checkpoints it judges (SPEC.md 8.2, 9, 14.6-14.9).

Real SQLite files edited with sqlite3, real keys and signatures, the real CLI in a
subprocess; a published directory is also served over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from ledger.core import merkle, note
from ledger.storage.store import LedgerStore
from ledger.storage.treestore import log_vkey

from core_fixtures import Chain
from transparency_fixtures import ORIGIN, build, key, run, serve


def rules(proc) -> list[str]:
    return [v["rule"] for v in json.loads(proc.stdout)["violations"]]


def report(proc) -> dict:
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    """A 10-entry SQLite ledger with stored checkpoints, its bundle, its publication, its log key."""
    d = tmp_path_factory.mktemp("verdict")
    b = build(d / "genuine.db", 9)
    run("export", str(b.path), "--out", str(d / "genuine.jsonl"), check=True)
    run("publish", str(b.path), "--out", str(d / "pub"), check=True)
    (d / "cp10.txt").write_bytes(run("checkpoint", str(b.path), check=True).stdout)
    return {"dir": d, "built": b, "db": b.path, "bundle": d / "genuine.jsonl", "pub": d / "pub",
            "cp": d / "cp10.txt", "vkey": log_vkey(ORIGIN, b.keys["operator"].public.raw)}


def copy_db(genuine, tmp_path: Path) -> Path:
    out = tmp_path / "copy.db"
    shutil.copyfile(genuine["db"], out)
    return out


def edit(db: Path, *sql: str) -> None:
    """Edit the file as anyone holding it can (sqlite3, no ledger code)."""
    conn = sqlite3.connect(str(db), isolation_level=None)
    try:
        for statement in sql:
            conn.execute(statement)
    finally:
        conn.close()


FOREIGN = log_vkey(ORIGIN, key("another log's operator").public.raw)


# --------------------------------------------------------------------------- the verdict


def test_a_bundle_alone_says_no_checkpoint_was_checked(genuine):
    proc = run("verify", str(genuine["bundle"]))
    assert proc.returncode == 0, proc.stdout_text
    assert "NO signed checkpoint was checked: a truncated copy, or a fork shown only to you, would pass" in proc.stdout_text
    assert "log key: not pinned; taken from the ledger itself" in proc.stdout_text
    data = report(run("verify", str(genuine["bundle"]), "--json"))
    assert data["checkpoints"] == [] and data["checkpoints_judged"] == 0
    assert data["log_key"] == {"pinned": False, "keys": [genuine["vkey"]]}
    assert data["witness_threshold"] == 0


def test_a_pinned_key_and_checkpoint_are_named_in_the_verdict(genuine):
    proc = run("verify", str(genuine["bundle"]), "--checkpoint", str(genuine["cp"]), "--log-key", genuine["vkey"])
    assert proc.returncode == 0, proc.stdout_text
    out = proc.stdout_text
    assert f"log key: pinned (--log-key) {genuine['vkey']}" in out
    assert (f"checkpoint {genuine['cp']}: size 10, origin {ORIGIN}, signed by {genuine['vkey']}; "
            f"no witness cosignature required (0 present); consistent with the ledger") in out
    assert "NO signed checkpoint" not in out
    data = report(run("verify", str(genuine["bundle"]), "--checkpoint", str(genuine["cp"]), "--log-key",
                      genuine["vkey"], "--json"))
    assert data["log_key"] == {"pinned": True, "keys": [genuine["vkey"]]}
    assert data["checkpoints_judged"] == 1
    [cp] = data["checkpoints"]
    assert (cp["size"], cp["origin"], cp["signed_by"], cp["consistent"], cp["stored"]) == (10, ORIGIN, genuine["vkey"], True, False)


def test_a_database_judges_its_own_stored_checkpoint_by_default(genuine):
    data = report(run("verify", str(genuine["db"]), "--json"))
    assert data["ok"] and data["checkpoints_judged"] == 1
    [cp] = data["checkpoints"]
    assert cp["stored"] is True and cp["size"] == 10 and cp["consistent"] is True
    assert "(stored checkpoint #" in cp["source"]


# --------------------------------------------------------------------------- --log-key


def test_a_malformed_log_key_is_a_usage_error_everywhere(genuine):
    with serve(genuine["dir"]) as base:
        for target in (genuine["bundle"], genuine["db"], genuine["pub"], f"{base}/pub"):
            for bad in ("garbage", genuine["vkey"][:-4] + "AAAA", note.cosigner_key_string(ORIGIN, key("w").public.raw)):
                proc = run("verify", str(target), "--log-key", bad)
                assert proc.returncode == 2, (target, bad, proc.stdout_text, proc.stderr_text)
                assert proc.stderr_text.startswith("error: --log-key") and proc.stdout == b""


def test_a_log_key_with_nothing_to_apply_it_to_is_refused(genuine, tmp_path):
    proc = run("verify", str(genuine["bundle"]), "--log-key", genuine["vkey"])
    assert proc.returncode == 2 and "--log-key cannot be applied" in proc.stderr_text and proc.stdout == b""
    bare = copy_db(genuine, tmp_path)
    edit(bare, "DELETE FROM checkpoints")
    assert run("verify", str(bare)).returncode == 0
    proc = run("verify", str(bare), "--log-key", genuine["vkey"])
    assert proc.returncode == 2 and "--log-key cannot be applied" in proc.stderr_text


def test_a_foreign_log_key_fails_verification_for_every_kind_of_input(genuine):
    with serve(genuine["dir"]) as base:
        cases = [
            [str(genuine["bundle"]), "--checkpoint", str(genuine["cp"])],
            [str(genuine["db"])],
            [str(genuine["pub"])],
            [f"{base}/pub"],
        ]
        for args in cases:
            good = run("verify", *args, "--log-key", genuine["vkey"], "--json")
            assert good.returncode == 0, (args, good.stdout_text)
            bad = run("verify", *args, "--log-key", FOREIGN, "--json")
            assert bad.returncode == 1, (args, bad.stdout_text, bad.stderr_text)
            assert set(rules(bad)) == {"R-14.1"}, args
            assert report(bad)["checkpoints_judged"] == 0


# --------------------------------------------------------------------------- stored checkpoints


def test_deleting_the_last_entries_of_a_database_is_caught_by_a_plain_verify(genuine, tmp_path):
    db = copy_db(genuine, tmp_path)
    edit(db, "DELETE FROM entries WHERE seq >= 8")
    proc = run("verify", str(db), "--json")
    assert proc.returncode == 1, proc.stdout_text
    assert rules(proc) == ["R-14.3"]
    message = report(proc)["violations"][0]["message"]
    assert "only 8 entries" in message and "entries 8..9" in message and "truncated after publication" in message


def test_deleting_a_middle_entry_is_reported_as_a_gap_not_a_truncation(genuine, tmp_path):
    db = copy_db(genuine, tmp_path)
    edit(db, "DELETE FROM entries WHERE seq = 4")
    proc = run("verify", str(db), "--json")
    assert proc.returncode == 1
    found = [(v["seq"], v["rule"]) for v in report(proc)["violations"]]
    assert found[0] == (4, "R-7.4") and (None, "R-14.3") in found
    [cp_message] = [v["message"] for v in report(proc)["violations"] if v["rule"] == "R-14.3"]
    assert "from seq 4 on (a gap in the sequence" in cp_message
    assert "truncated after publication" not in proc.stdout_text
    # a checkpoint smaller than the ledger at hand names the gap too
    cp7 = tmp_path / "cp7.txt"
    with LedgerStore.open(genuine["db"], readonly=True) as store:
        cp7.write_bytes(store.tree.checkpoint_at(7) or b"")
    assert cp7.read_bytes(), "the fixture ledger signs a checkpoint at every append"
    proc = run("verify", str(db), "--checkpoint", str(cp7), "--json")
    [message] = [v["message"] for v in report(proc)["violations"] if v["rule"] == "R-14.4"]
    assert "removed, inserted or reordered from seq 4 on" in message


# --------------------------------------------------------------------------- witnesses


def test_a_witness_policy_needs_a_witnessed_checkpoint(tmp_path):
    wa = key("wa")
    va = note.cosigner_key_string("wa.example", wa.public.raw)
    b = build(tmp_path / "w.db", 3, witnesses={"keys": [va], "threshold": 1})
    run("export", str(b.path), "--out", str(tmp_path / "w.jsonl"), check=True)
    # nothing cosigned yet: the stored checkpoint counts 0 of 1, and no witnessed one is judged
    for target in (b.path, tmp_path / "w.jsonl"):
        proc = run("verify", str(target), "--json")
        assert proc.returncode == 1, proc.stdout_text
        assert rules(proc) == ["R-14.6"]
        assert report(proc)["witness_threshold"] == 1
    assert "requires 1 witness cosignature(s)" in run("verify", str(b.path)).stdout_text
    # the witness cosigns the stored checkpoint; the operator attaches it
    cp = tmp_path / "cp.txt"
    cp.write_bytes(run("checkpoint", str(b.path), check=True).stdout)
    b.keys["wa"] = wa
    keyfile = b.write_key("wa", tmp_path / "keys")
    vkey = log_vkey(ORIGIN, b.keys["operator"].public.raw)
    sig = run("witness", "cosign", str(cp), "--key", str(keyfile), "--name", "wa.example", "--state",
              str(tmp_path / "state"), "--log-key", vkey, "--at", "1767225600", check=True).stdout
    (tmp_path / "wa.sig").write_bytes(sig)
    run("checkpoint", str(b.path), "--cosignature", str(tmp_path / "wa.sig"), check=True)
    ok = run("verify", str(b.path), "--json")
    assert ok.returncode == 0, ok.stdout_text
    assert report(ok)["checkpoints"][0]["witnesses"]["reached"] is True
    # the bundle with the cosigned checkpoint (as a witness would hand it out) passes
    cosigned = tmp_path / "cosigned.txt"
    cosigned.write_bytes(run("checkpoint", str(b.path), check=True).stdout)
    assert run("verify", str(tmp_path / "w.jsonl"), "--checkpoint", str(cosigned), "--log-key", vkey).returncode == 0
    # a newer, not yet cosigned checkpoint: the latest cosigned stored one is judged as well
    run("checkpoint", str(b.path), "--operator-key", str(b.write_key("operator", tmp_path / "keys")), check=True)
    again = run("verify", str(b.path), "--json")
    assert again.returncode == 0, again.stdout_text
    stored = report(again)["checkpoints"]
    assert [c["witnesses"]["reached"] for c in stored] == [False, True]
    assert "the latest cosigned" in stored[1]["source"]


# --------------------------------------------------------------------------- views and derived columns


def test_a_redefined_view_is_caught(genuine, tmp_path):
    db = copy_db(genuine, tmp_path)
    edit(db, "DROP VIEW statements",
         "CREATE VIEW statements AS SELECT seq, 'org.register' AS type, NULL AS time, 1 AS signatures, NULL AS body FROM entries")
    proc = run("verify", str(db), "--json")
    assert proc.returncode == 1 and rules(proc) == ["R-9.1"]
    assert "view statements has been redefined" in report(proc)["violations"][0]["message"]


def test_a_missing_view_is_no_violation(genuine, tmp_path):
    db = copy_db(genuine, tmp_path)
    edit(db, "DROP VIEW decisions")
    assert run("verify", str(db)).returncode == 0


@pytest.mark.parametrize("column, value", [("type", "'org.register'"), ("leaf_hash", "zeroblob(32)"),
                                           ("statement_digest", "zeroblob(32)")])
def test_an_edited_derived_column_is_caught(genuine, tmp_path, column, value):
    db = copy_db(genuine, tmp_path)
    edit(db, "DROP INDEX IF EXISTS idx_entries_statement_digest", f"UPDATE entries SET {column} = {value} WHERE seq = 3")
    proc = run("verify", str(db), "--json")
    assert proc.returncode == 1, proc.stdout_text
    found = [(v["seq"], v["rule"]) for v in report(proc)["violations"]]
    assert found == [(3, "R-9.2")]
    assert column in report(proc)["violations"][0]["message"]


# --------------------------------------------------------------------------- a checkpoint's authority


@pytest.fixture(scope="module")
def rotated(tmp_path_factory):
    """A ledger whose operator key is revoked at entry 3 (replaced by operator-2), as a bundle."""
    chain = Chain.new("authority")
    chain.append(chain.org("alpha"), ["recorder-1"])
    chain.append(chain.org("bravo"), ["recorder-1"])
    chain.append(
        chain.policy_update("operator key compromised", revoke=[chain.keys.id("operator")],
                            add=[("operator", chain.keys["operator-2"].public, "operator-2")]),
        ["panel-1", "panel-2", "panel-3", "operator-2"],
    )
    chain.append(chain.org("charlie"), ["recorder-1"], operator="operator-2")
    chain.append(chain.org("delta"), ["recorder-1"], operator="operator-2")
    assert chain.violations == [], chain.violations
    d = tmp_path_factory.mktemp("authority")
    bundle = d / "ledger.jsonl"
    bundle.write_bytes(chain.bundle())
    return chain, bundle, d


def _checkpoint(d: Path, name: str, origin: str, size: int, root: bytes, signer) -> Path:
    out = d / name
    out.write_bytes(note.sign_checkpoint(note.Checkpoint(origin, size, root), note.NoteSigner(origin, signer)))
    return out


def test_a_revoked_operator_key_cannot_frame_the_honest_operator(rotated):
    chain, bundle, d = rotated
    origin = "ledger.test.example/core"
    revoked, current = chain.keys["operator"], chain.keys["operator-2"]
    assert run("verify", str(bundle)).returncode == 0
    framed = _checkpoint(d, "framed.txt", origin, chain.size + 3, b"\x07" * 32, revoked)
    proc = run("verify", str(bundle), "--checkpoint", str(framed), "--json")
    assert proc.returncode == 1
    assert rules(proc) == ["R-14.7"]  # not: the ledger is not reported truncated
    message = report(proc)["violations"][0]["message"]
    assert "revoked at entry 3" in message and "no evidence of truncation" in message
    assert report(proc)["checkpoints"][0]["signed_by"] is None and report(proc)["checkpoints_judged"] == 0
    # pinning the revoked key does not give it back its authority
    pinned = run("verify", str(bundle), "--checkpoint", str(framed), "--log-key", log_vkey(origin, revoked.public.raw), "--json")
    assert pinned.returncode == 1 and rules(pinned) == ["R-14.7"]
    # the key in force at the end of the entries at hand does prove a truncation
    honest = _checkpoint(d, "honest.txt", origin, chain.size + 3, b"\x07" * 32, current)
    proc = run("verify", str(bundle), "--checkpoint", str(honest), "--json")
    assert proc.returncode == 1 and rules(proc) == ["R-14.3"]


def test_a_revoked_key_still_vouches_for_the_sizes_it_covered(rotated):
    chain, bundle, d = rotated
    origin = "ledger.test.example/core"
    tree = merkle.TreeBuilder()
    for raw in chain.raws[:4]:  # entry 3 revokes the key, sealed by it: 14.6 lets it sign size 4
        tree.append(merkle.leaf_hash(raw))
    old = _checkpoint(d, "old.txt", origin, 4, tree.root(), chain.keys["operator"])
    proc = run("verify", str(bundle), "--checkpoint", str(old), "--json")
    assert proc.returncode == 0, proc.stdout_text
    assert report(proc)["checkpoints"][0]["consistent"] is True
