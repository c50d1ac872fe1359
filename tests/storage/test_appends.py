"""The append path at speed: sealing without re-encoding, bulk batches sealed and checked on
a worker process, the store's in-memory Merkle frontier, and checkpoints signed at most once
per interval (SPEC.md 9, 14.6). Everything is real: signatures, SQLite files, processes."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core_fixtures import OPERATOR, Chain, file_state, standard_chain
from ledger.core import merkle, note
from ledger.storage import store as store_module
from ledger.app.load import verify_path
from ledger.errors import StoreError
from ledger.core.model import Signature, Statement, seal_entry
from ledger.storage.store import LedgerStore, seal_new_entry
from ledger.storage.treestore import log_vkey
from test_store import BAD_ITEMS, _signed, db, genuine_db  # noqa: F401 (fixtures, built on this module's chain)


@pytest.fixture(scope="module")
def chain() -> Chain:
    return standard_chain("appends")


@pytest.fixture
def parallel_small(monkeypatch):
    """Let batches of any length take the worker-process path (it needs two CPUs' worth of
    jobs, asked for explicitly with ``jobs=2``), in chunks of 3 so that a short batch has
    several, spread over the checking workers."""
    monkeypatch.setattr(store_module, "PARALLEL_MIN_BATCH", 1)
    monkeypatch.setattr(store_module, "_CHUNK", 3)


def _stored(path: Path) -> tuple[list[bytes], list[tuple[int, bytes]]]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        raws = [bytes(r[0]) for r in conn.execute("SELECT raw FROM entries ORDER BY seq")]
        cps = [(r[0], bytes(r[1])) for r in conn.execute("SELECT size, note FROM checkpoints ORDER BY id")]
    finally:
        conn.close()
    return raws, cps


def _vkey(chain: Chain, origin: str = "ledger.test.example/core") -> str:
    return log_vkey(origin, chain.keys[OPERATOR].public.raw)


def _assert_tree_and_checkpoints_right(chain: Chain, path: Path) -> None:
    """The stored tree is the tree of the stored entries, and the checkpoints are a chain of
    consistent, validly signed trees."""
    raws, cps = _stored(path)
    leaves = [merkle.leaf_hash(r) for r in raws]
    with LedgerStore.open(path, readonly=True) as store:
        assert store.tree.size == len(raws)
        assert store.tree.root() == merkle.root(leaves)
    previous = None
    for size, data in cps:
        cp, _ = note.open_checkpoint(data, _vkey(chain))
        assert cp.size == size and cp.root_hash == merkle.root(leaves[:size])
        if previous is not None:
            assert previous <= size
        previous = size


def _orgs(chain: Chain, prefix: str, n: int, signer: str = "recorder-1"):
    return [_signed(chain, chain.org(f"{prefix}-{i}"), [signer]) for i in range(n)]


# --------------------------------------------------------------------------- sealing


def _statements(chain: Chain) -> list[tuple[Statement, list]]:
    odd = chain.statement("org.register", {"org_id": "odd", "name": "Ünïcode \"quoted\" \\ back\nslash \u2028 😂 \x1f",
                                            "aliases": ["\u00e9", "\ue000", "/"]})
    return list(chain.items) + [(odd, chain.sign(odd, ["recorder-1", "recorder-3", "panel-1"]))]


def test_seal_new_entry_gives_the_bytes_of_model_seal_entry(chain: Chain) -> None:
    # every statement of the standard chain (genesis, updates with several signers,
    # registrations) and one with escapes, non-ASCII and unsorted signatures
    for seq, (statement, signatures) in enumerate(_statements(chain)):
        prev = "0" * 64 if seq == 0 else f"{seq:064x}"
        for sigs in (tuple(signatures), tuple(reversed(signatures))):
            ours = seal_new_entry(seq, prev, statement, sigs, chain.keys[OPERATOR])
            reference = seal_entry(seq, prev, statement, sigs, chain.keys[OPERATOR])
            assert ours.raw == reference.raw
            assert ours.unsealed == reference.unsealed_bytes() == reference.unsealed
            assert ours.seal == reference.seal and ours.signatures == reference.signatures


def test_seal_new_entry_encodes_unusual_members_as_canonical_encode_does(chain: Chain) -> None:
    # the direct encoding of prev, seq and the signature list applies only to plain ASCII;
    # key ids and a prev with quotes, backslashes, controls, DEL or non-ASCII (which the
    # verifier would refuse, but the bytes must still be canonical) take the general path
    statement, signatures = chain.items[1]
    sig = signatures[0].sig
    odd_ids = ['a"b', "a\\b", "tab\there", "del\x7f", "\u00e9t\u00e9", "\U0001f602", "", "0" * 64]
    for key_id in odd_ids:
        for prev in ("0" * 64, key_id):
            sigs = (Signature(key_id, sig), Signature("f" * 64, sig))
            for seq in (0, 7, 2**53 - 1):
                ours = seal_new_entry(seq, prev, statement, sigs, chain.keys[OPERATOR])
                reference = seal_entry(seq, prev, statement, sigs, chain.keys[OPERATOR])
                assert ours.raw == reference.raw and ours.unsealed == reference.unsealed


# --------------------------------------------------------------------------- bulk path


def _batch_with_policy_change(chain: Chain) -> list:
    """Registrations, a policy.update adding recorder-4 (unknown to the policy before the
    batch), then registrations signed by recorder-4 and by two keys at once."""
    items = _orgs(chain, "before", 5)
    update = chain.policy_update("add recorder-4", add=[("recorder", chain.keys["recorder-4"].public, "recorder-4")])
    items.append(_signed(chain, update, ["panel-1", "panel-2", "panel-3", "recorder-4"]))
    items += _orgs(chain, "by-new-key", 4, signer="recorder-4")
    both = chain.org("two-signers")
    items.append((both, chain.sign(both, ["recorder-4", "recorder-1"])))
    return items


@pytest.mark.parametrize("jobs", [2, 4])
def test_batch_sealed_on_a_worker_is_the_same_ledger(chain: Chain, db: Path, tmp_path: Path, jobs: int,
                                                      parallel_small) -> None:
    other = tmp_path / "other.db"
    shutil.copyfile(db, other)
    items = _batch_with_policy_change(chain)
    with LedgerStore.open(db) as store:
        sequential = store.append_many(items, chain.keys[OPERATOR], jobs=1)
    with LedgerStore.open(other) as store:
        parallel = store.append_many(items, chain.keys[OPERATOR], jobs=jobs)
    assert [e.raw for e in parallel] == [e.raw for e in sequential]
    assert [(e.seq, e.leaf_hash, e.statement.digest, e.type) for e in parallel] == \
        [(e.seq, e.leaf_hash, e.statement.digest, e.type) for e in sequential]
    assert _stored(db) == _stored(other)
    assert verify_path(other).ok
    _assert_tree_and_checkpoints_right(chain, other)
    assert multiprocessing.active_children() == []  # the worker is gone


@pytest.mark.parametrize("bad", list(BAD_ITEMS))
def test_worker_path_refuses_exactly_as_the_sequential_one(chain: Chain, db: Path, bad: str, parallel_small) -> None:
    make_bad, rule = BAD_ITEMS[bad]
    batch = _orgs(chain, "good", 3)
    batch.insert(2, make_bad(chain))
    before = file_state(db)
    messages = []
    for jobs in (1, 2):
        with LedgerStore.open(db) as store:
            with pytest.raises(StoreError) as caught:
                store.append_many(batch, chain.keys[OPERATOR], jobs=jobs)
        messages.append(str(caught.value))
        assert file_state(db) == before
    assert messages[0] == messages[1] and f"[{rule}]" in messages[0]
    assert multiprocessing.active_children() == []


def test_bad_signature_by_a_key_the_batch_adds_is_refused_on_the_worker_path(chain: Chain, db: Path, parallel_small) -> None:
    items = _batch_with_policy_change(chain)
    forged = chain.org("forged")
    items.append((forged, chain.sign(chain.org("something-else"), ["recorder-4"])))
    before = file_state(db)
    with LedgerStore.open(db) as store:
        with pytest.raises(StoreError, match=r"R-7\.11"):
            store.append_many(items, chain.keys[OPERATOR], jobs=2)
    assert file_state(db) == before


@pytest.mark.parametrize("jobs", [1, 2])
def test_on_violation_reports_every_refused_item_and_appends_nothing(chain: Chain, db: Path, jobs: int,
                                                                     parallel_small) -> None:
    items = _orgs(chain, "fine", 5)
    items.insert(1, BAD_ITEMS["bad-signature"][0](chain))
    items.insert(4, items[0])  # the same statement twice: at its second place
    items.insert(5, BAD_ITEMS["wrong-role"][0](chain))
    before = file_state(db)
    seen: list[tuple[int, list[str]]] = []
    with LedgerStore.open(db) as store:
        size = store.size
        with pytest.raises(StoreError, match="3 of 8 statements break a rule; nothing was appended"):
            store.append_many(items, chain.keys[OPERATOR], jobs=jobs,
                              on_violation=lambda i, vs: seen.append((i, [v.rule for v in vs])))
        assert store.size == size
        assert seen == [(1, ["R-7.11", "R-7.13"]), (4, ["R-7.8"]), (5, ["R-7.12", "R-7.13"])]
        store.append_many(_orgs(chain, "then", 2), chain.keys[OPERATOR])  # the store still works
    assert file_state(db)[1] == before[1] + 2
    assert verify_path(db).ok


# --------------------------------------------------------------------------- the frontier kept in memory


def test_tree_is_right_after_a_refused_batch_and_after_another_writer(chain: Chain, db: Path) -> None:
    op = chain.keys[OPERATOR]
    with LedgerStore.open(db) as one, LedgerStore.open(db) as two:
        one.append_many(_orgs(chain, "one-a", 2), op)
        # a refused batch: its leaves were added to the frontier, then rolled back
        with pytest.raises(StoreError):
            one.append_many(_orgs(chain, "one-b", 2) + [BAD_ITEMS["bad-signature"][0](chain)], op)
        one.append_many(_orgs(chain, "one-c", 1), op)
        two.append_many(_orgs(chain, "two-a", 3), op)  # the other connection moves the tree
        one.append_many(_orgs(chain, "one-d", 2), op)  # ...and this one must notice
        two.append_many(_orgs(chain, "two-b", 1), op)
    assert verify_path(db).ok
    _assert_tree_and_checkpoints_right(chain, db)


def test_frontier_of_a_rolled_back_append_is_never_reused(chain: Chain, db: Path) -> None:
    """An append whose checkpoint is refused is rolled back after its leaves went into the
    in-memory frontier; another writer then appends as many entries. The next append of the
    first store must build on the stored tree, not on its own rolled-back leaves."""
    op = chain.keys[OPERATOR]
    with LedgerStore.open(db) as one, LedgerStore.open(db) as two:
        size = one.size
        bogus = note.sign_checkpoint(note.Checkpoint("ledger.test.example/core", size + 100, b"\x07" * 32),
                                     note.NoteSigner("ledger.test.example/core", op))
        raw = sqlite3.connect(str(db))
        raw.execute("INSERT INTO checkpoints (size, root, note) VALUES (?, ?, ?)", (size + 100, b"\x07" * 32, bogus))
        raw.commit()
        with pytest.raises(StoreError, match="rollback"):
            one.append_many(_orgs(chain, "refused", 2), op)
        raw.execute("DELETE FROM checkpoints WHERE size = ?", (size + 100,))
        raw.commit()
        raw.close()
        two.append_many(_orgs(chain, "other", 2), op)
        one.append_many(_orgs(chain, "after", 1), op)
    assert verify_path(db).ok
    _assert_tree_and_checkpoints_right(chain, db)


def test_a_store_extending_its_own_checkpoint_reads_no_stored_nodes(chain: Chain, db: Path) -> None:
    """Consecutive appends of one store: the checkpoint it signed last is still the latest
    and its frontier has only grown, so the next checkpoint is consistent by construction
    (SPEC.md 14.6): no node is read, neither for the frontier nor for a proof."""
    op = chain.keys[OPERATOR]
    with LedgerStore.open(db) as store:
        items = _orgs(chain, "own", 4)
        store.append(*items[0], op)  # the first append reads the frontier from the nodes
        queries = store.tree.nodes.queries
        for item in items[1:]:
            store.append(*item, op)
        assert store.tree.nodes.queries == queries
    assert verify_path(db).ok
    _assert_tree_and_checkpoints_right(chain, db)


@pytest.mark.parametrize("other", ["wrong-root", "cosigned-then-rewritten"])
def test_a_checkpoint_stored_by_someone_else_is_checked_against_the_stored_nodes(chain: Chain, db: Path,
                                                                                  other: str) -> None:
    """After another connection stores a checkpoint (here: one of the right size but the
    wrong root, signed by the operator key), the store must not rely on its own lineage: it
    computes the consistency proof and refuses to sign."""
    op = chain.keys[OPERATOR]
    origin = "ledger.test.example/core"
    with LedgerStore.open(db) as store:
        store.append(*_orgs(chain, "mine", 1)[0], op)
        size = store.size
        bogus = note.sign_checkpoint(note.Checkpoint(origin, size, b"\x07" * 32), note.NoteSigner(origin, op))
        raw = sqlite3.connect(str(db))
        if other == "wrong-root":
            raw.execute("INSERT INTO checkpoints (size, root, note) VALUES (?, ?, ?)", (size, b"\x07" * 32, bogus))
        else:  # the row this store signed, its note swapped for another one
            raw.execute("UPDATE checkpoints SET note = ? WHERE id = (SELECT max(id) FROM checkpoints)", (bogus,))
        raw.commit()
        raw.close()
        before = _stored(db)
        with pytest.raises(StoreError, match="not consistent"):
            store.append(*_orgs(chain, "refused", 1)[0], op)
        assert _stored(db) == before


# --------------------------------------------------------------------------- checkpoint interval


def test_with_an_interval_appends_sign_at_most_once_and_close_covers_the_rest(chain: Chain, db: Path) -> None:
    op = chain.keys[OPERATOR]
    _, before = _stored(db)
    store = LedgerStore.open(db, checkpoint_interval=3600)
    for item in _orgs(chain, "lazy", 4):
        store.append(*item, op)
    raws, cps = _stored(db)
    assert len(cps) == len(before) + 1 and cps[-1][0] == len(raws) - 3  # only the first append signed
    assert store.last_checkpoint == cps[-1][1]
    # asking for a checkpoint signs one of the whole ledger, once
    data = store.checkpoint()
    cp, _ = note.open_checkpoint(data, _vkey(chain))
    assert cp.size == len(raws) and store.checkpoint() == data and len(_stored(db)[1]) == len(before) + 2
    store.append(*_orgs(chain, "late", 1)[0], op)
    store.close()  # signs the checkpoint covering the last append
    raws, cps = _stored(db)
    assert cps[-1][0] == len(raws) and len(cps) == len(before) + 3
    _assert_tree_and_checkpoints_right(chain, db)
    assert verify_path(db).ok


def test_leaving_a_store_on_an_error_signs_nothing(chain: Chain, db: Path) -> None:
    op = chain.keys[OPERATOR]
    with pytest.raises(RuntimeError):
        with LedgerStore.open(db, checkpoint_interval=3600) as store:
            store.append_many(_orgs(chain, "first", 1), op)  # signs
            store.append_many(_orgs(chain, "second", 1), op)  # does not
            raise RuntimeError("the caller fails")
    raws, cps = _stored(db)
    assert cps[-1][0] == len(raws) - 1  # the unsigned entry stays durable, uncovered for now
    with LedgerStore.open(db) as store:
        data = store.checkpoint(op)
    assert note.open_checkpoint(data, _vkey(chain))[0].size == len(raws)
    _assert_tree_and_checkpoints_right(chain, db)


def test_checkpoint_needs_a_key_when_the_latest_does_not_cover_everything(chain: Chain, db: Path) -> None:
    with LedgerStore.open(db, checkpoint_interval=3600) as store:
        store.append_many(_orgs(chain, "x", 1), chain.keys[OPERATOR])
        assert store.checkpoint() == store.last_checkpoint  # covered already: nothing signed
    conn = sqlite3.connect(str(db))
    conn.execute("DELETE FROM checkpoints WHERE id = (SELECT max(id) FROM checkpoints)")
    conn.commit()
    conn.close()
    with LedgerStore.open(db) as store:
        with pytest.raises(StoreError, match="operator key is needed"):
            store.checkpoint()


def test_sigkill_with_an_interval_loses_no_entry_and_signs_nothing_inconsistent(chain: Chain, db: Path) -> None:
    """A writer killed between appends: every acknowledged entry is there, the latest
    checkpoint lags, and the next checkpoint is consistent with it."""
    ledger_id = chain.ledger_id
    child = textwrap.dedent(f"""
        import os, signal, sys
        from core_fixtures import KeyRing, OPERATOR
        from ledger.core.model import Statement
        from ledger.storage.store import LedgerStore
        keys = KeyRing("appends")
        store = LedgerStore.open({str(db)!r}, checkpoint_interval=3600)
        for i in range(5):
            st = Statement.build("org.register", {{"org_id": f"k{{i}}", "name": f"K {{i}}", "aliases": []}},
                                 "2026-03-01T00:00:00Z", {ledger_id!r})
            entry = store.append(st, [st.sign(keys["recorder-1"])], keys[OPERATOR])
            print(entry.seq, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.run([sys.executable, "-P", "-c", child], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    acknowledged = [int(x) for x in proc.stdout.split()]
    raws, cps = _stored(db)
    assert len(acknowledged) == 5 and acknowledged[-1] == len(raws) - 1
    assert cps[-1][0] == acknowledged[0] + 1  # only the first append signed
    assert verify_path(db).ok
    with LedgerStore.open(db) as store:
        store.checkpoint(chain.keys[OPERATOR])
    _assert_tree_and_checkpoints_right(chain, db)
