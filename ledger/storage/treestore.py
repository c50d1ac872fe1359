"""The Merkle tree and signed checkpoints inside the operator's SQLite store (SPEC.md 9, 14).

Tables (created on first use; a ledger without them is caught up from its raw entries):

* ``merkle_nodes(level, idx, hash)`` — every complete node of the RFC 9162 tree
  (section 13.2), ``WITHOUT ROWID`` keyed by ``(level, idx)``; proofs read all their nodes
  in one query.
* ``meta['tree_size']`` — how many leaves the node table covers. The frontier is read back
  from the node table (one query) whenever it is needed.
* ``checkpoints(id, size, root, note)`` — every checkpoint note the operator signed, in
  signing order; the latest is the one with the largest ``id``.

Everything here runs on a connection the caller already holds; the store calls
:meth:`TreeStore.append_leaves` and :meth:`TreeStore.sign_checkpoint` inside its append
transaction, so entries, nodes and the checkpoint land together or not at all.
"""

from __future__ import annotations

import sqlite3
from typing import Callable, Iterable, Iterator, Sequence

from ..core import merkle, note
from ..core.merkle import TreeBuilder, leaf_hash
from ..errors import ProofError, StoreError

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS merkle_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, "
    "hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS checkpoints (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "size INTEGER NOT NULL, root BLOB NOT NULL, note BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS checkpoints_size ON checkpoints (size)",
)
_CHUNK = 400  # keys per query (two parameters each; well under SQLite's variable limit)


class SqliteNodeSource:
    """:class:`ledger.core.merkle.NodeSource` backed by the ``merkle_nodes`` table (one query)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.queries = 0

    def get_nodes(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        out: dict[tuple[int, int], bytes] = {}
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i : i + _CHUNK]
            values = ",".join("(?,?)" for _ in chunk)
            args = [x for key in chunk for x in key]
            self.queries += 1
            # CROSS JOIN from the key list: one primary-key search per key. (A row-value
            # "(level, idx) IN (VALUES ...)" makes SQLite 3.40 scan the whole table.)
            rows = self.conn.execute(
                f"WITH k(level, idx) AS (VALUES {values}) SELECT n.level, n.idx, n.hash FROM k "
                "CROSS JOIN merkle_nodes AS n ON n.level = k.level AND n.idx = k.idx",
                args,
            )
            for level, idx, h in rows:
                out[(level, idx)] = bytes(h)
        return out

    def level_range(self, level: int, start: int, end: int) -> list[bytes]:
        """Hashes of nodes ``(level, start) .. (level, end - 1)``, in order (tiles)."""
        rows = self.conn.execute(
            "SELECT idx, hash FROM merkle_nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx",
            (level, start, end),
        ).fetchall()
        if len(rows) != end - start:
            raise StoreError(f"Merkle nodes ({level}, {start}..{end - 1}) are missing from the store")
        return [bytes(h) for _, h in rows]


class TreeStore:
    """The tree and checkpoint tables of one store connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.nodes = SqliteNodeSource(conn)
        self._ready = False
        # The frontier after the last leaves this connection wrote, and the hash of that
        # last leaf: reused by the next append when the stored tree is still exactly that
        # tree (same size, same last leaf), instead of being read back from the nodes.
        self._builder: TreeBuilder | None = None
        self._last_leaf: bytes | None = None
        # (id, note, origin, size, root) of the latest stored checkpoint as this connection
        # last signed it: the same note need not be parsed again.
        self._latest_seen: tuple[int, bytes, str, int, bytes] | None = None
        # The builder whose tree that checkpoint is (this connection signed it from this very
        # object). A TreeBuilder only ever appends leaves, so while it is the one being
        # signed again, the new tree extends the signed one by construction (sign_checkpoint).
        self._signed_builder: TreeBuilder | None = None

    def forget(self) -> None:
        """Drop the in-memory frontier (after a rollback: it may hold uncommitted leaves)."""
        self._builder = None
        self._last_leaf = None
        self._latest_seen = None
        self._signed_builder = None

    # -- schema and state ---------------------------------------------------------------

    def tables_exist(self) -> bool:
        row = self.conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('merkle_nodes', 'checkpoints')"
        ).fetchone()
        return row[0] == 2

    def ensure_tables(self) -> None:
        """Create the tables if missing (inside the caller's transaction, if any)."""
        if not self._ready:
            for statement in _SCHEMA:
                self.conn.execute(statement)
            self._ready = True

    @property
    def size(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'tree_size'").fetchone()
        return 0 if row is None else int(row[0])

    def _set_size(self, size: int) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('tree_size', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (str(size),),
        )

    def builder(self) -> TreeBuilder:
        """The frontier of the stored tree (one query)."""
        try:
            return TreeBuilder.from_source(self.size, self.nodes)
        except ProofError as exc:
            raise StoreError(f"the stored Merkle tree is damaged ({exc.message}); reopen the ledger read-write to rebuild it") from None

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default: all), from stored nodes in one query."""
        size = self.size if size is None else size
        if size > self.size:
            raise StoreError(f"the tree has {self.size} leaves, not {size}")
        return merkle.tree_root(size, self.nodes)

    # -- writing ------------------------------------------------------------------------

    def append_leaves(
        self, leaf_hashes: Iterable[bytes], builder: TreeBuilder | None = None, *, start: int | None = None,
        head: bytes | None = None,
    ) -> TreeBuilder:
        """Add leaves and every node they complete; the caller holds the write transaction.

        ``start`` (the first new leaf's index) guards against a tree out of step with the
        entries table. ``head``: the leaf hash of leaf ``start - 1`` as the caller knows it
        (the previous entry's hash); when the frontier this connection kept from its last
        append ends at that size and that leaf, it is reused (the last leaf fixes the whole
        tree: each entry names its predecessor's hash), else it is read from the nodes."""
        self.ensure_tables()
        if builder is None:
            builder = self._cached_builder(start, head)
        if start is not None and builder.size != start:
            raise StoreError(f"the Merkle tree has {builder.size} leaves but the next entry is {start}; reopen the ledger to rebuild it")
        self._builder = self._last_leaf = None  # until the new frontier is complete
        rows: list[tuple[int, int, bytes]] = []
        last = None
        for h in leaf_hashes:
            rows.extend(builder.append(h))
            last = h
        self.conn.executemany("INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)", rows)
        self._set_size(builder.size)
        if last is not None or head is not None:
            self._builder, self._last_leaf = builder, (last if last is not None else head)
        return builder

    def _cached_builder(self, start: int | None, head: bytes | None) -> TreeBuilder:
        cached = self._builder
        if (cached is not None and start is not None and head is not None and cached.size == start
                and self._last_leaf == head and self.size == start):
            return cached
        return self.builder()

    def catch_up(self, ledger_size: int, iter_raw: Callable[[int], Iterator[bytes]], stored_leaf: Callable[[int], bytes | None]) -> int:
        """Bring the tree level with the entries table; returns how many leaves were added.

        Missing tables are created; a tree that is behind is extended from the raw entries;
        a tree that is ahead of the entries, or whose last leaf is not the stored entry's
        hash, is dropped and rebuilt from the raw entries. (Signing then refuses any
        checkpoint inconsistent with the ones already signed.) Runs its own transaction.
        """
        if self.tables_exist():
            size = self.size
            if size <= ledger_size and (size == 0 or self._leaf_ok(size - 1, stored_leaf)):
                if size == ledger_size:
                    return 0
            else:
                size = -1
        else:
            size = -1
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.ensure_tables()
            if size < 0:
                self.conn.execute("DELETE FROM merkle_nodes")
                self._set_size(0)
                size = 0
            else:  # drop any node beyond the recorded size (it will be recomputed)
                self.conn.execute("DELETE FROM merkle_nodes WHERE ((idx + 1) << level) > ?", (size,))
            builder = self.builder()
            added = 0
            batch: list[bytes] = []
            for raw in iter_raw(size):
                batch.append(leaf_hash(raw))
                if len(batch) >= 10_000:
                    self.append_leaves(batch, builder)
                    added += len(batch)
                    batch = []
            self.append_leaves(batch, builder)
            added += len(batch)
            self.conn.execute("COMMIT")
        except BaseException:
            self.forget()
            self.conn.execute("ROLLBACK")
            raise
        return added

    def _leaf_ok(self, index: int, stored_leaf: Callable[[int], bytes | None]) -> bool:
        got = self.nodes.get_nodes([(0, index)]).get((0, index))
        return got is not None and got == stored_leaf(index)

    # -- proofs -------------------------------------------------------------------------

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        self._check_size(size)
        return merkle.inclusion_proof(index, size, self.nodes)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        self._check_size(size2)
        return merkle.consistency_proof(size1, size2, self.nodes)

    def _check_size(self, size: int) -> None:
        if size > self.size:
            raise StoreError(f"the tree has {self.size} leaves, not {size}")

    # -- checkpoints --------------------------------------------------------------------

    def latest_checkpoint(self) -> tuple[int, bytes, bytes] | None:
        """(size, root, note) of the last signed checkpoint, or None."""
        if not self.tables_exist():
            return None
        row = self.conn.execute("SELECT size, root, note FROM checkpoints ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else (row[0], bytes(row[1]), bytes(row[2]))

    def checkpoint_at(self, size: int) -> bytes | None:
        """The last checkpoint note signed at exactly ``size``, or None."""
        if not self.tables_exist():
            return None
        row = self.conn.execute(
            "SELECT note FROM checkpoints WHERE size = ? ORDER BY id DESC LIMIT 1", (size,)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def sign_checkpoint(self, origin: str, signer: note.NoteSigner, builder: TreeBuilder | None = None) -> bytes:
        """Sign the current tree as a checkpoint, after checking it extends the last one.

        The caller holds the write transaction. Never signs a tree that is not an append-only
        extension of the last signed checkpoint (same origin, size not smaller, consistency
        proof from stored nodes verifies against the *signed* old root).
        """
        self.ensure_tables()
        builder = builder or self.builder()
        size, root = builder.size, builder.root()
        last = self.conn.execute("SELECT id, note FROM checkpoints ORDER BY id DESC LIMIT 1").fetchone()
        if last is not None:
            last_id, old_note = last[0], bytes(last[1])
            seen = self._latest_seen
            extended = False
            if seen is not None and seen[0] == last_id and seen[1] == old_note:
                old_origin, old_size, old_root = seen[2:]  # the same note as parsed last time
                extended = builder is self._signed_builder
            else:
                old = note.Checkpoint.parse(note.parse_note(old_note)[0])
                old_origin, old_root, old_size = old.origin, old.root_hash, old.size
            if old_origin != origin:
                raise StoreError(f"refusing to sign: origin {origin!r} differs from the last checkpoint's {old_origin!r}")
            if old_size > size:
                raise StoreError(
                    f"refusing to sign a checkpoint of size {size}: a checkpoint of size {old_size} was already signed (rollback)"
                )
            try:
                if old_size == 0:
                    pass  # nothing to be consistent with
                elif extended:
                    # The last checkpoint is still the note this connection signed from this
                    # builder when it had old_size leaves and root old_root; the builder has
                    # only had leaves appended since (in this connection's transactions; a
                    # rollback drops it, see forget). The tree of size n is therefore D[0:m]
                    # followed by more leaves, and PROOF(m, D[n]) verifies by RFC 9162's own
                    # construction: computing it from the stored nodes would prove nothing
                    # more about the two signed roots (SPEC.md 14.6).
                    pass
                else:
                    proof = merkle.consistency_proof(old_size, size, self.nodes)
                    merkle.verify_consistency(old_size, size, proof, old_root, root)
            except ProofError as exc:
                raise StoreError(
                    f"refusing to sign: the tree of size {size} is not consistent with the checkpoint "
                    f"of size {old_size} already signed ({exc.message})"
                ) from None
        cp = note.Checkpoint(origin, size, root)
        signed = note.sign_checkpoint(cp, signer)
        cur = self.conn.execute("INSERT INTO checkpoints (size, root, note) VALUES (?, ?, ?)", (size, root, signed))
        self._latest_seen = (cur.lastrowid, signed, origin, size, root)
        self._signed_builder = builder
        return signed

    def replace_checkpoint_note(self, old_note: bytes, new_note: bytes) -> None:
        """Swap a stored note for the same checkpoint with more signatures (cosignatures)."""
        if note.parse_note(old_note)[0] != note.parse_note(new_note)[0]:
            raise StoreError("a cosigned checkpoint must have exactly the text of the stored one")
        cur = self.conn.execute("UPDATE checkpoints SET note = ? WHERE note = ?", (new_note, old_note))
        if cur.rowcount == 0:
            raise StoreError("no such stored checkpoint")

    def receipt(self, index: int, checkpoint_note: bytes | None = None) -> bytes:
        """A C2SP tlog-proof for leaf ``index`` against a stored checkpoint (default: latest)."""
        if checkpoint_note is None:
            last = self.latest_checkpoint()
            if last is None:
                raise StoreError("the ledger has no signed checkpoint yet (run ledger checkpoint --operator-key)")
            checkpoint_note = last[2]
        cp = note.Checkpoint.parse(note.parse_note(checkpoint_note)[0])
        if index >= cp.size:
            raise StoreError(f"entry {index} is not in the checkpoint of size {cp.size}")
        proof = self.inclusion_proof(index, cp.size)
        return note.format_proof(index, proof, checkpoint_note)


def log_signer(origin: str, key: object) -> note.NoteSigner:
    """The operator's checkpoint signer: key name = origin (SPEC.md 14.6)."""
    return note.NoteSigner(origin, key)


def log_vkey(origin: str, public_raw: bytes) -> str:
    """The log's verifier key string ``<origin>+<keyid>+<base64(0x01 || key)>``."""
    return note.verifier_key_string(origin, public_raw)


def leaf_hashes(raws: Iterable[bytes]) -> Iterator[bytes]:
    for raw in raws:
        yield leaf_hash(raw)


__all__: Sequence[str] = ["SqliteNodeSource", "TreeStore", "log_signer", "log_vkey"]
