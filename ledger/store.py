"""The operator's SQLite store (SPEC.md section 9): a thin, durable layer around the verifier.

The store keeps the exact bytes of every entry. Every append runs the same
:class:`~ledger.verify.Verifier` that ``ledger verify`` runs, inside one ``BEGIN IMMEDIATE``
transaction: concurrent appenders queue on SQLite's write lock, each sees the latest head,
and an append lands whole or not at all (WAL journal, ``synchronous=FULL``).
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import sqlite_utils

from .errors import InputError, LedgerError, StoreError
from .keys import SigningKey
from .model import GENESIS_PREV, GENESIS_TYPE, Entry, Signature, Statement, seal_entry
from .treestore import TreeStore, log_signer
from .verify import Verifier, Violation, new_verifier
from .views import create_views, ensure_views

SQLITE_MAGIC = b"SQLite format 3\x00"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000

SignedStatement = tuple[Statement, Sequence[Signature]]


def is_sqlite_file(path: str | os.PathLike[str]) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def _read_only_media(path: Path) -> bool:
    """True when nobody can write the ledger here: its directory is not writable (e.g. a
    read-only mount) and there is no write-ahead log with content waiting to be read."""
    wal = Path(str(path) + "-wal")
    try:
        pending = wal.exists() and wal.stat().st_size > 0
    except OSError:
        pending = True
    return not pending and not os.access(path.parent, os.W_OK)


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    try:
        if readonly:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError:
                # A WAL ledger on read-only media: SQLite cannot create the shared-memory
                # file, but with no log pending and no possible writer the file is immutable.
                if not _read_only_media(path):
                    raise
                conn.close()
                conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True,
                                       isolation_level=None)
        else:
            conn = sqlite3.connect(str(path), isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        return conn
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: cannot open as a SQLite ledger ({exc})") from None


class LedgerStore:
    """An open ledger database. Use :meth:`create` or :meth:`open`; close when done."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self._verifier: Verifier | None = None
        self.tree = TreeStore(conn)  # Merkle tree and signed checkpoints (SPEC.md 9, 14)
        self.last_checkpoint: bytes | None = None  # the checkpoint signed by the last append

    # -- opening ------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike[str], genesis: SignedStatement, operator: SigningKey) -> "LedgerStore":
        """Create a new ledger file holding only the genesis entry (checked like any append)."""
        path = Path(path)
        if path.exists():
            raise StoreError(f"{path} already exists; refusing to overwrite a ledger")
        statement, signatures = genesis
        if statement.type != GENESIS_TYPE:
            raise StoreError(f"a new ledger starts with a {GENESIS_TYPE} statement, not {statement.type}")
        tmp = path.with_name(path.name + ".creating")
        tmp.unlink(missing_ok=True)
        store = cls(tmp, _connect(tmp, readonly=False))
        try:
            store._create_tables()
            store._verifier = new_verifier()
            store.append(statement, signatures, operator)
            store.conn.close()
            os.replace(tmp, path)  # the ledger appears whole, with its genesis, or not at all
        except BaseException:
            store.conn.close()
            for suffix in ("", "-wal", "-shm"):
                Path(str(tmp) + suffix).unlink(missing_ok=True)
            raise
        return cls.open(path)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, readonly: bool = False) -> "LedgerStore":
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: no such ledger file")
        if not is_sqlite_file(path):
            raise InputError(f"{path}: not a SQLite database")
        store = cls(path, _connect(path, readonly=readonly))
        try:
            version = store.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            store.close()
            raise InputError(f"{path}: not a ledger database ({exc})") from None
        if version is None or int(version[0]) != SCHEMA_VERSION:
            store.close()
            raise InputError(f"{path}: unsupported ledger schema version {version[0] if version else None!r}")
        if not readonly:  # a ledger from before the tree tables, or with the tree behind: catch up
            store.tree.catch_up(store.size, store.iter_raw, store._stored_leaf_hash)
            ensure_views(store.conn)  # readable views for SQLite tools (ledger/views.py), never verified
        return store

    def _stored_leaf_hash(self, seq: int) -> bytes | None:
        row = self.conn.execute("SELECT leaf_hash FROM entries WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else bytes(row[0])

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "LedgerStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _create_tables(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.db["meta"].create({"key": str, "value": str}, pk="key")
        self.db["entries"].create(
            {"seq": int, "leaf_hash": bytes, "statement_digest": bytes, "type": str, "raw": bytes},
            pk="seq",
            not_null={"leaf_hash", "statement_digest", "type", "raw"},
        )
        self.db["entries"].create_index(["statement_digest"], unique=True)
        self.db["meta"].insert({"key": "schema_version", "value": str(SCHEMA_VERSION)})
        create_views(self.conn)  # readable views derived from raw (ledger/views.py)
        self.conn.execute("COMMIT")

    # -- reading ------------------------------------------------------------------------

    @property
    def size(self) -> int:
        row = self.conn.execute("SELECT max(seq) FROM entries").fetchone()
        return 0 if row[0] is None else row[0] + 1

    def iter_raw(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Entry bytes in sequence order (streaming; never the stored hashes)."""
        query = "SELECT seq, raw FROM entries WHERE seq >= ?" + (" AND seq < ?" if end is not None else "") + " ORDER BY seq"
        args = (start,) if end is None else (start, end)
        try:
            for _, raw in self.conn.execute(query, args):
                yield bytes(raw)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path}: database is corrupted ({exc})") from None

    def raw_at(self, seq: int) -> bytes:
        row = self.conn.execute("SELECT raw FROM entries WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise StoreError(f"no entry {seq} (the ledger has {self.size} entries)")
        return bytes(row[0])

    # -- verifier state -----------------------------------------------------------------

    def verifier(self, progress: Callable[[int], None] | None = None) -> Verifier:
        """The verifier state after the last stored entry, brought up to date.

        Fails closed: a ledger whose stored entries do not verify accepts no appends.
        """
        if self._verifier is None:
            self._verifier = new_verifier()
        verifier = self._verifier
        for raw in self.iter_raw(verifier.size):
            violations = verifier.feed(raw)
            if progress is not None:
                progress(1)
            if violations:
                self._verifier = None
                raise StoreError(f"stored ledger fails verification, refusing to append: {violations[0]}")
        return verifier

    # -- appending ----------------------------------------------------------------------

    def append(self, statement: Statement, signatures: Sequence[Signature], operator: SigningKey) -> Entry:
        """Verify, seal and durably append one signed statement; returns the entry."""
        return self.append_many([(statement, signatures)], operator)[0]

    def append_many(self, items: Iterable[SignedStatement], operator: SigningKey) -> list[Entry]:
        """Append several statements in ONE transaction: all land, or none does."""
        items = list(items)
        if not items:
            return []  # nothing to append: no transaction, no checkpoint
        with self._write_transaction():
            verifier = self.verifier()
            appended: list[Entry] = []
            try:
                for statement, signatures in items:
                    prev = GENESIS_PREV if verifier.head is None else verifier.head.hex()
                    entry = seal_entry(verifier.size, prev, statement, tuple(signatures), operator)
                    # The seal was just made by this key over exactly these bytes: an
                    # Ed25519 signature from a correct signer verifies, so its check is
                    # answered in advance (every rule still runs, R-7.15 included).
                    known = {("e", operator.public.raw, entry.seal.sig): True}
                    checked, violations = verifier.check(entry.raw, known)
                    if violations:
                        raise StoreError(f"rejected: {violations[0]}", seq=None)
                    verifier.record(entry.raw, checked, admitted=True)
                    appended.append(entry)
                self._insert(appended, operator)
            except BaseException:
                self._verifier = None  # the in-memory state ran ahead of the database
                raise
        return appended

    def _insert(self, entries: Sequence[Entry], operator: SigningKey) -> None:
        try:
            self.conn.executemany(
                "INSERT INTO entries (seq, leaf_hash, statement_digest, type, raw) VALUES (?, ?, ?, ?, ?)",
                [(e.seq, e.leaf_hash, e.statement.digest, e.type, e.raw) for e in entries],
            )
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"database refused the append ({exc})") from None
        self._after_insert(entries, operator)

    def _after_insert(self, entries: Sequence[Entry], operator: SigningKey) -> None:
        """Derived tables kept in the same transaction: the Merkle tree gets the new leaves
        and the operator signs a checkpoint of the new tree (SPEC.md 14.6)."""
        builder = self.tree.append_leaves((e.leaf_hash for e in entries), start=entries[0].seq)
        assert self._verifier is not None and self._verifier.context.origin is not None
        self.last_checkpoint = self.tree.sign_checkpoint(
            self._verifier.context.origin, log_signer(self._verifier.context.origin, operator), builder
        )

    @contextmanager
    def _write_transaction(self) -> Iterator[None]:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot start a write: {sqlite_problem(exc)}") from None
        try:
            yield
        except sqlite3.DatabaseError as exc:  # disk full, I/O error, corruption met while writing
            self._rollback()
            self._verifier = None
            raise StoreError(f"{self.path}: the write failed, nothing was appended: {sqlite_problem(exc)}") from None
        except BaseException:
            self._rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback()
            self._verifier = None
            raise StoreError(f"{self.path}: commit failed, nothing was appended: {sqlite_problem(exc)}") from None

    def _rollback(self) -> None:
        # SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR): then
        # there is no transaction left to end, and the original error is the one to report.
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.DatabaseError:
                pass


def sqlite_problem(exc: sqlite3.DatabaseError) -> str:
    """SQLite's complaint in words a ledger operator can act on (one line)."""
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return (f"another process has held the ledger's write lock for {BUSY_TIMEOUT_MS // 1000} s; "
                "try again when it has finished")
    if "readonly" in low or "read-only" in low:
        return f"the ledger file or its directory is read-only ({text})"
    if "full" in low:
        return f"the disk is full (or the database reached its size limit) ({text})"
    if "malformed" in low or "not a database" in low or "corrupt" in low:
        return f"the database file is damaged ({text}); verify the last exported bundle and restore from it"
    return text


def open_entries(path: str | os.PathLike[str]) -> Iterator[bytes]:
    """The raw entries of a SQLite ledger or a bundle file, streaming, by sniffing the file."""
    from .bundle import read_bundle

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        raise InputError(f"{path}: is a directory (expected a ledger database or a bundle)")
    if is_sqlite_file(path):
        store = LedgerStore.open(path, readonly=True)
        try:
            yield from store.iter_raw()
        finally:
            store.close()
        return
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        yield from read_bundle(handle, str(path))


__all__ = ["LedgerStore", "LedgerError", "Violation", "open_entries", "is_sqlite_file"]
