"""Transparency figures: tree + checkpoint cost per append transaction, proof time at size n.

Usage: python bench/transparency_speed.py [N]   (default 1_000_000 synthetic leaves)

The tree is exercised through the store's own TreeStore on a real SQLite file (WAL,
synchronous=FULL), with synthetic leaf hashes, so the figures isolate the transparency
work from entry verification.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from ledger.core import merkle, note
from ledger.core.keys import SigningKey
from ledger.storage.treestore import TreeStore, log_signer


def main(n: int) -> None:
    path = Path(tempfile.mkdtemp()) / "tree.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    tree = TreeStore(conn)
    signer = log_signer("bench.example/log", SigningKey.from_raw_seed(bytes(32)))
    leaf = lambda i: hashlib.sha256(i.to_bytes(8, "big")).digest()  # noqa: E731
    t0 = time.perf_counter()
    chunk = 50_000
    for start in range(0, n, chunk):
        conn.execute("BEGIN IMMEDIATE")
        tree.append_leaves(leaf(i) for i in range(start, min(n, start + chunk)))
        conn.execute("COMMIT")
    bulk = time.perf_counter() - t0
    conn.execute("BEGIN IMMEDIATE")
    tree.sign_checkpoint("bench.example/log", signer)
    conn.execute("COMMIT")
    # single appends, each its own durable transaction with a signed, consistency-checked checkpoint
    k = 200
    t0 = time.perf_counter()
    for i in range(n, n + k):
        conn.execute("BEGIN IMMEDIATE")
        builder = tree.append_leaves([leaf(i)])
        tree.sign_checkpoint("bench.example/log", signer, builder)
        conn.execute("COMMIT")
    per_append = (time.perf_counter() - t0) / k
    size = tree.size
    t0 = time.perf_counter()
    reps = 1000
    for j in range(reps):
        tree.inclusion_proof((j * 7919) % size, size)
    incl = (time.perf_counter() - t0) / reps
    t0 = time.perf_counter()
    for j in range(reps):
        tree.consistency_proof(1 + (j * 104729) % (size - 1), size)
    cons = (time.perf_counter() - t0) / reps
    t0 = time.perf_counter()
    receipt = tree.receipt(size // 3)
    rec = time.perf_counter() - t0
    note.verify_proof(receipt, leaf(size // 3), signer.verifier(), leaf_is_hash=True)
    print(f"leaves: {size}; bulk tree build {bulk:.1f} s ({bulk / n * 1e6:.1f} us/leaf); db {path.stat().st_size / 1e6:.0f} MB")
    print(f"append transaction (1 leaf + nodes + consistency check + signed checkpoint, fsync): {per_append * 1e3:.2f} ms")
    print(f"inclusion proof at size {size}: {incl * 1e6:.0f} us; consistency proof: {cons * 1e6:.0f} us; receipt: {rec * 1e3:.2f} ms")
    assert merkle.verify_inclusion is not None


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
