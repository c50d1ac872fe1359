"""The operator's SQLite store (SPEC.md section 9): a thin, durable layer around the verifier.

The store keeps the exact bytes of every entry. Every append runs the same
:class:`~ledger.core.verify.Verifier` that ``ledger verify`` runs, inside one ``BEGIN IMMEDIATE``
transaction: concurrent appenders queue on SQLite's write lock, each sees the latest head,
and an append lands whole or not at all (WAL journal, ``synchronous=FULL``).
"""

from __future__ import annotations

import base64
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import sqlite_utils

from ..core import canonical
from ..core.keys import SigningKey
from ..core.model import ENTRY_CONTEXT, GENESIS_PREV, GENESIS_TYPE, STATEMENT_CONTEXT, Entry, Signature, Statement
from ..core.verify import Verifier, Violation
from ..errors import InputError, LedgerError, LedgerRefused, StoreError
from ..gcpause import collector_paused
from ..scoring.process import new_verifier
from .treestore import TreeStore, log_signer
from .views import create_views, ensure_views

SQLITE_MAGIC = b"SQLite format 3\x00"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000
WRITER_CACHE_KIB = 65_536  # page cache of a read-write connection (SQLite's default: 2,000 KiB)
# A batch at least this long is sealed, and its authors' signatures checked, by a worker
# process ahead of the verifier (append_many's ``jobs``); shorter ones are not worth a fork.
PARALLEL_MIN_BATCH = 1024

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
            # A writer inserts each statement digest at a random place of its unique index
            # (about 50 MB at 10^6 entries): SQLite's default 2 MiB page cache would read most
            # of those index pages back from the OS at every append. Pages are cached as they
            # are used, up to this bound (no effect on what is written or when it is synced).
            conn.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
        return conn
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: cannot open as a SQLite ledger ({exc})") from None


class LedgerStore:
    """An open ledger database. Use :meth:`create` or :meth:`open`; close when done."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, checkpoint_interval: float = 0.0) -> None:
        self.path = path
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self._verifier: Verifier | None = None
        self.tree = TreeStore(conn)  # Merkle tree and signed checkpoints (SPEC.md 9, 14)
        self.last_checkpoint: bytes | None = None  # the checkpoint this store signed last
        # Checkpoints (SPEC.md 14.6): an append transaction signs one unless this store
        # signed one less than ``checkpoint_interval`` seconds ago (0: every transaction).
        # Entries appended since are covered by the next one, by :meth:`checkpoint`, or by
        # :meth:`close`.
        self.checkpoint_interval = checkpoint_interval
        self._signed_at: float | None = None  # time.monotonic() of this store's last signature
        self._unsigned = False  # entries appended by this store that no checkpoint covers yet
        self._operator: SigningKey | None = None  # the key that sealed them (signs at close)
        self._signers: dict[tuple[str, bytes], Any] = {}
        # A state file of the verifier (``open(..., state=PATH)``, SPEC.md 9): resumed on the
        # first append instead of verifying the whole stored ledger, saved at close.
        self._state: Any = None
        self.resumed_from = 0  # entries the verifier took from the state file instead of verifying

    # -- opening ------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike[str], genesis: SignedStatement, operator: SigningKey, *,
               checkpoint_interval: float = 0.0) -> "LedgerStore":
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
        return cls.open(path, checkpoint_interval=checkpoint_interval)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, readonly: bool = False,
             checkpoint_interval: float = 0.0, state: str | os.PathLike[str] | None = None) -> "LedgerStore":
        """Open a ledger. ``state``: a verifier state file of one's own (SPEC.md 9) that
        spares appends from verifying the whole stored ledger first; kept up to date."""
        path = Path(path)
        if not path.is_file():
            from .remote import refuse_unfinished_publication

            refuse_unfinished_publication(path)
            raise InputError(f"{path}: no such ledger file")
        if not is_sqlite_file(path):
            raise InputError(f"{path}: not a SQLite database")
        store = cls(path, _connect(path, readonly=readonly), checkpoint_interval=checkpoint_interval)
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
            ensure_views(store.conn)  # readable views for SQLite tools (ledger/storage/views.py), never verified
            if state is not None:
                from .incremental import StateCache

                store._state = StateCache(Path(state))
        return store

    def _stored_leaf_hash(self, seq: int) -> bytes | None:
        row = self.conn.execute("SELECT leaf_hash FROM entries WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else bytes(row[0])

    def close(self) -> None:
        """Sign a checkpoint covering what this store appended since its last one, then close."""
        try:
            if self._unsigned:
                self.checkpoint()
            if self._state is not None and self._verifier is not None:
                self._state.save(self._verifier)
        finally:
            self._close_state()
            self.conn.close()

    def _close_state(self) -> None:
        if self._state is not None:
            self._state.close()
            self._state = None

    def __enter__(self) -> "LedgerStore":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            self._close_state()
            self.conn.close()  # leaving on an error: no new signature, keep the original error
        else:
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
        create_views(self.conn)  # readable views derived from raw (ledger/storage/views.py)
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
            resumed = self._state.open(self.iter_raw) if self._state is not None else None
            if resumed is None and self._state is not None:
                self._state = None  # locked by another process: verify in memory
            self._verifier = resumed or new_verifier()
            self.resumed_from = resumed.size if resumed is not None else 0
        verifier = self._verifier
        for raw in self.iter_raw(verifier.size):
            violations = verifier.feed(raw)
            if self._state is not None:
                self._state.fed(raw)
            if progress is not None:
                progress(1)
            if violations:
                self._forget_verifier()
                raise LedgerRefused(f"stored ledger fails verification, refusing to append: {violations[0]}", violations)
        return verifier

    # -- appending ----------------------------------------------------------------------

    def append(self, statement: Statement, signatures: Sequence[Signature], operator: SigningKey) -> Entry:
        """Verify, seal and durably append one signed statement; returns the entry."""
        return self.append_many([(statement, signatures)], operator)[0]

    def append_many(self, items: Iterable[SignedStatement], operator: SigningKey, *, jobs: int | None = None,
                    on_violation: Callable[[int, list[Violation]], None] | None = None) -> list[Entry]:
        """Append several statements in ONE transaction: all land, or none does.

        A refused statement stops the batch at once, unless ``on_violation`` is given: then it
        is called with the item's index and its violations, the verifier moves on as
        ``ledger verify`` would (the entry takes no effect), every item is judged, and the
        batch is refused at the end (nothing lands) if any item was.

        ``jobs``: for a long batch, seal and check the authors' signatures in a worker
        process ahead of the verifier (None: when there are two or more CPUs; 1: never).
        Every rule is still judged here, in order, by the store's verifier (:func:`_sealed`)."""
        items = list(items)
        if not items:
            return []  # nothing to append: no transaction, no checkpoint
        with self._write_transaction(), collector_paused():
            verifier = self.verifier()
            appended: list[Entry] = []
            hashes: list[bytes] = []  # leaf hash of each entry, as the verifier computed it (its head)
            try:
                refused = 0
                with _sealed(items, verifier, operator, jobs) as sealed:
                    for index, (raw, seal_sig, known) in enumerate(sealed):
                        # The seal was just made by this key over exactly these bytes: an
                        # Ed25519 signature from a correct signer verifies, so its check is
                        # answered in advance (every rule still runs, R-7.15 included).
                        known[("e", operator.public.raw, seal_sig)] = True
                        checked, violations = verifier.check(raw, known)
                        if violations:
                            if on_violation is None:
                                raise StoreError(f"rejected: {violations[0]}", seq=None)
                            on_violation(index, violations)
                            refused += 1
                        verifier.record(raw, checked, admitted=not violations)
                        appended.append(checked)
                        hashes.append(verifier.head)
                if refused:
                    raise StoreError(f"rejected: {refused} of {len(items)} statements break a rule; nothing was appended")
                signed = self._insert(appended, operator, hashes)
            except BaseException:
                self._forget_verifier()  # the verifier's state ran ahead of the database
                raise
        # committed: the entries are durable
        if self._state is not None:
            for entry in appended:
                self._state.fed(entry.raw)
        self._operator = operator
        if signed is None:
            self._unsigned = True
        else:
            self.last_checkpoint, self._signed_at, self._unsigned = signed, time.monotonic(), False
        return appended

    def _insert(self, entries: Sequence[Entry], operator: SigningKey, hashes: Sequence[bytes]) -> bytes | None:
        """``hashes``: the entries' leaf hashes (SHA-256(0x00 || raw), computed once)."""
        try:
            self.conn.executemany(
                "INSERT INTO entries (seq, leaf_hash, statement_digest, type, raw) VALUES (?, ?, ?, ?, ?)",
                [(e.seq, h, e.statement.digest, e.type, e.raw) for e, h in zip(entries, hashes, strict=True)],
            )
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"database refused the append ({exc})") from None
        return self._after_insert(entries, operator, hashes)

    def _after_insert(self, entries: Sequence[Entry], operator: SigningKey, hashes: Sequence[bytes]) -> bytes | None:
        """Derived tables kept in the same transaction: the Merkle tree gets the new leaves
        and, when one is due, the operator signs a checkpoint of the new tree (SPEC.md 14.6).
        Returns the checkpoint note signed, or None."""
        builder = self.tree.append_leaves(hashes, start=entries[0].seq, head=self._head_before(entries))
        if self._signed_at is not None and time.monotonic() - self._signed_at < self.checkpoint_interval:
            return None
        return self._sign(operator, builder)

    def _head_before(self, entries: Sequence[Entry]) -> bytes | None:
        """The leaf hash of the entry before the first new one (what its ``prev`` names)."""
        return None if entries[0].seq == 0 else bytes.fromhex(entries[0].prev)

    def _sign(self, operator: SigningKey, builder: Any) -> bytes:
        """Sign the current tree (the caller holds the write transaction)."""
        origin = self._verifier.context.origin if self._verifier is not None else None
        assert origin is not None
        signer = self._signers.get((origin, operator.public.raw))
        if signer is None:
            signer = self._signers[(origin, operator.public.raw)] = log_signer(origin, operator)
        return self.tree.sign_checkpoint(origin, signer, builder)

    def checkpoint(self, operator: SigningKey | None = None) -> bytes:
        """A signed checkpoint of the whole ledger as it is now: the latest stored one if it
        already covers every entry, otherwise a new one signed by ``operator`` (default: the
        key that sealed this store's last append). Never inconsistent with earlier ones."""
        with self._write_transaction():
            verifier = self.verifier()
            latest = self.tree.latest_checkpoint()
            signed = None
            if latest is not None and latest[0] == verifier.size and self.tree.size == verifier.size:
                note_bytes = latest[2]
            else:
                key = operator or self._operator
                if key is None:
                    raise StoreError("the latest checkpoint does not cover every entry; an operator key is needed to sign one")
                builder = self.tree.append_leaves((), start=verifier.size, head=verifier.head)  # level with the entries
                note_bytes = signed = self._sign(key, builder)
        if signed is not None:
            self.last_checkpoint, self._signed_at = signed, time.monotonic()
        self._unsigned = False
        return note_bytes

    def sign_checkpoint_now(self, key: SigningKey) -> bytes:
        """Sign a checkpoint of the current tree with ``key``, which must be an operator key of
        the policy in force; the tree store refuses one inconsistent with an earlier one."""
        context = self.verifier().context
        assert context.policy is not None and context.origin is not None
        if key.public.key_id not in context.policy.roles["operator"].key_ids:
            raise StoreError(f"key {key.public.key_id[:12]} is not an operator key of policy version {context.policy.version}")
        with self._write_transaction():
            return self.tree.sign_checkpoint(context.origin, log_signer(context.origin, key))

    def replace_checkpoint_note(self, old_note: bytes, new_note: bytes) -> None:
        """Replace a stored checkpoint note by the same checkpoint with more signatures."""
        with self._write_transaction():
            self.tree.replace_checkpoint_note(old_note, new_note)

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
            self._forget_verifier()
            raise StoreError(f"{self.path}: the write failed, nothing was appended: {sqlite_problem(exc)}") from None
        except BaseException:
            self._rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback()
            self._forget_verifier()
            raise StoreError(f"{self.path}: commit failed, nothing was appended: {sqlite_problem(exc)}") from None

    def _forget_verifier(self) -> None:
        self._verifier = None
        if self._state is not None:
            self._state.drop()

    def _rollback(self) -> None:
        self.tree.forget()  # the in-memory frontier may hold leaves that were not committed
        # SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR): then
        # there is no transaction left to end, and the original error is the one to report.
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.DatabaseError:
                pass


def seal_new_entry(seq: int, prev: str, statement: Statement, signatures: Sequence[Signature],
                   operator: SigningKey) -> Entry:
    """Place a signed statement at ``seq`` after ``prev`` and seal it (SPEC.md 5.3).

    The same bytes as :func:`ledger.core.model.seal_entry`, without re-encoding the statement:
    RFC 8785 writes an object member by member in sorted key order (``prev`` < ``seal`` <
    ``seq`` < ``signatures`` < ``statement``), and ``statement.raw`` is already the
    canonical encoding of the statement (every :class:`Statement` is built by encoding its
    value or sliced from canonical entry bytes). The result is never trusted on that
    argument alone: the store's verifier then judges these exact bytes (R-7.1 parses,
    re-encodes and compares) before anything is written.
    """
    signatures = tuple(sorted(signatures, key=lambda s: s.key_id))
    head = b'{"prev":' + _encode_plain(prev) + b","
    rest = (b'"seq":' + _encode_seq(seq) + b',"signatures":' + _encode_signatures(signatures)
            + b',"statement":' + statement.raw + b"}")
    unsealed = head + rest
    seal = Signature(operator.public.key_id, operator.sign(ENTRY_CONTEXT + unsealed))
    raw = head + b'"seal":' + _encode_signature(seal) + b"," + rest
    return Entry(seq, prev, statement, signatures, seal, raw, unsealed=unsealed)


# The small members of an entry, encoded directly when their RFC 8785 form is evident: a
# string of printable ASCII without '"' or '\\' (hex, base64, a key id) is its characters
# between quotes, since RFC 8785 escapes only '"', '\\' and the control characters, and an
# integer within +-(2**53 - 1) is its decimal digits. Anything else goes through
# canonical.encode. (The verifier's judges the resulting bytes in any case.)

def _plain(text: Any) -> bytes | None:
    if type(text) is str and text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return b'"' + text.encode("ascii") + b'"'
    return None


def _encode_plain(text: Any) -> bytes:
    plain = _plain(text)
    return canonical.encode(text) if plain is None else plain


def _encode_seq(seq: Any) -> bytes:
    if type(seq) is int and 0 <= seq <= canonical.MAX_SAFE_INTEGER:
        return str(seq).encode("ascii")
    return canonical.encode(seq)


def _encode_signature(signature: Signature) -> bytes:
    key_id = _plain(signature.key_id)
    if key_id is None or type(signature.sig) is not bytes:
        return canonical.encode(signature.to_json())
    return b'{"key_id":' + key_id + b',"sig":"' + base64.b64encode(signature.sig) + b'"}'


def _encode_signatures(signatures: Sequence[Signature]) -> bytes:
    return b"[" + b",".join([_encode_signature(s) for s in signatures]) + b"]"


Answers = dict[tuple[str, bytes, bytes], bool]
Sealed = tuple[bytes, bytes, Answers]  # entry bytes, seal signature, signature answers


def _seal_chain(items: Sequence[SignedStatement], seq: int, prev: str, operator: SigningKey
                ) -> Iterator[tuple[bytes, bytes]]:
    """(entry bytes, seal) of ``items`` sealed in order from position ``seq`` after ``prev``."""
    for statement, signatures in items:
        entry = seal_new_entry(seq, prev, statement, signatures, operator)
        yield entry.raw, entry.seal.sig
        seq, prev = seq + 1, entry.leaf_hash.hex()


def _check_chunks(items: Sequence[SignedStatement], keys: Any, first: int, step: int) -> Iterator[Answers]:
    """The answers to the authors' signature checks (by keys known in ``keys``: key id ->
    public key) of the items in chunks ``first``, ``first + step``, … of _CHUNK items."""
    for start in range(first * _CHUNK, len(items), step * _CHUNK):
        for statement, signatures in items[start : start + _CHUNK]:
            message = STATEMENT_CONTEXT + statement.raw
            answers: Answers = {}
            for s in signatures:
                public = keys.get(s.key_id)
                if public is not None:
                    answers[("s", public.raw, s.sig)] = public.verify(s.sig, message)
            yield answers


_CHUNK = 256


def _produce(conn: Any, results: Iterator[Any]) -> None:
    """Worker process body: send ``results`` down the pipe in chunks of _CHUNK, then None
    (or the error's text). Forked, the worker has the batch without copying it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (it ends us)
    try:
        chunk: list[Any] = []
        for result in results:
            chunk.append(result)
            if len(chunk) >= _CHUNK:
                conn.send(chunk)
                chunk = []
        if chunk:
            conn.send(chunk)
        conn.send(None)
    except BaseException as exc:  # pragma: no cover - the parent reports it
        conn.send(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


@contextmanager
def _sealed(items: Sequence[SignedStatement], verifier: Verifier, operator: SigningKey,
            jobs: int | None) -> Iterator[Iterator[Sealed]]:
    """The entries of ``items`` sealed in order after the verifier's head, each with the
    answers to its authors' signature checks known in advance (an empty dict: none).

    A batch of at least PARALLEL_MIN_BATCH statements on a machine with two or more CPUs
    (``jobs`` None: all of them; 1: none) is sealed by a forked worker process, and its
    authors' signatures are verified by others (``jobs - 1`` of them, each taking every
    ``jobs - 1``-th chunk), while this process runs the verifier over the entries already
    sealed: the seal chain is sequential (each seal covers ``prev``, the previous entry's
    hash including its seal), but it need not wait for the verifier.

    Why the answers are the verifier's own: Ed25519 verification is a pure function of
    (public key, signature, message). A worker verifies each author's signature over
    ``STATEMENT_CONTEXT || statement.raw`` with the key of the policy in force before the
    batch, by the same :meth:`PublicKey.verify`, and the entry is built around
    ``statement.raw`` (:func:`seal_new_entry`); for entry bytes that pass R-7.1 the
    verifier derives exactly that message, and the seal's unsealed bytes, from them, and it
    consults an answer only for the same kind, key bytes and signature bytes of that same
    entry. A key the batch itself adds gets no answer (the verifier computes). Every rule,
    R-7.4 and R-7.5 (position and chain) included, is still judged here, in order.
    """
    seq, prev = verifier.size, GENESIS_PREV if verifier.head is None else verifier.head.hex()
    policy = verifier.context.policy
    if len(items) < PARALLEL_MIN_BATCH:  # a short batch (a single append): not worth asking the CPUs
        workers = 1
    else:
        from ..core.parallel import default_workers

        workers = default_workers() if jobs is None or jobs < 1 else jobs
    if workers < 2 or len(items) < PARALLEL_MIN_BATCH or policy is None or not hasattr(os, "fork"):
        yield ((raw, sig, {}) for raw, sig in _seal_chain(items, seq, prev, operator))
        return
    import multiprocessing

    context = multiprocessing.get_context("fork")
    keys = dict(policy.keys)
    checkers = max(1, workers - 1)
    children: list[Any] = []
    receivers: list[Any] = []
    for results in [_seal_chain(items, seq, prev, operator)] + [_check_chunks(items, keys, j, checkers)
                                                                 for j in range(checkers)]:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_produce, args=(sender, results), daemon=True)
        child.start()
        sender.close()
        children.append(child)
        receivers.append(receiver)

    def chunks(receiver: Any) -> Iterator[list[Any]]:
        while True:
            try:
                chunk = receiver.recv()
            except EOFError:
                raise StoreError("a worker process stopped unexpectedly; nothing was appended") from None
            if chunk is None:
                return
            if isinstance(chunk, str):
                raise StoreError(f"a worker process failed ({chunk}); nothing was appended")
            yield chunk

    def merged() -> Iterator[Sealed]:
        answer_streams = [chunks(r) for r in receivers[1:]]
        for index, sealed in enumerate(chunks(receivers[0])):
            answers = next(answer_streams[index % checkers], None)
            if answers is None or len(answers) != len(sealed):
                raise StoreError("a worker process returned an incomplete result; nothing was appended")
            for (raw, sig), known in zip(sealed, answers):
                yield raw, sig, known

    try:
        yield merged()
    finally:
        for receiver in receivers:
            receiver.close()
        for child in children:
            if child.is_alive():
                child.terminate()
            child.join()


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


def open_entries(path: str | os.PathLike[str], start: int = 0) -> Iterator[bytes]:
    """The raw entries of a SQLite ledger or a bundle file from ``start`` on, streaming, by
    sniffing the file (a bundle's earlier lines are read, not parsed or hashed)."""
    import itertools

    from .bundle import read_bundle

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        from .remote import refuse_unfinished_publication

        refuse_unfinished_publication(path)  # SPEC.md 15, R-15.1: unreadable, not a verdict
        raise InputError(f"{path}: is a directory (expected a ledger database or a bundle)")
    if is_sqlite_file(path):
        store = LedgerStore.open(path, readonly=True)
        try:
            yield from store.iter_raw(start)
        finally:
            store.close()
        return
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        yield from itertools.islice(read_bundle(handle, str(path)), start, None)


__all__ = ["LedgerStore", "LedgerError", "Violation", "open_entries", "is_sqlite_file"]
