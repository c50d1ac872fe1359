"""The verifier's large state on disk, so that memory stays flat as the ledger grows.

The pure core keeps two things per entry: the statement digests seen so far (R-7.8,
:class:`~ledger.core.verify.StatementIndex`) and the scoring state's incidents
(:class:`~ledger.scoring.state.IncidentIndex`). Both are given an in-memory
implementation by the core; this module (the storage layer) gives them one in SQLite:

* each index is a small *log-structured* store: new keys go to an in-memory buffer; a full
  buffer is written, sorted, as a *run* of blocks (``BLOCK`` records per row, in the
  store's :class:`Codec`: fixed-width binary for statement digests, MessagePack for incidents;
  never pickle, so reading a state file runs no code it names, SPEC.md 9);
  runs of the same size tier are merged (:data:`MERGE` at a time), so a key is rewritten
  about log_8(n / buffer) times and the number of runs stays small;
* a Bloom filter of fixed size (``BLOOM_BITS``, 3 probes) answers "certainly absent" for almost every
  new key without touching the database; only keys it may hold are looked up, newest run
  first, one indexed row per run;
* ``values()`` merges the runs in key order (the replay reads incidents in id order).

Nothing here decides anything: the verifier asks the same questions of this store as of a
dict, and gets the same answers (``tests/storage/test_diskstate.py``).

:class:`DiskState` opens one SQLite file (a private temporary database by default, deleted
on close; or the file of ``ledger verify --state``) holding both indexes, and spools.
"""

from __future__ import annotations

import hashlib
import heapq
import sqlite3
import struct
import tempfile
from bisect import bisect_right
from operator import itemgetter
from typing import Any, Callable, Iterator, NamedTuple

import msgpack

from ..errors import InputError
from ..scoring.process import new_verifier
from ..scoring.state import Incident, Version, incidents_from_records

BLOCK = 256  # records per stored row (an encoded list of (key, value), see Codec)
BUFFER = 32_768  # records kept in memory before a run is written
MERGE = 8  # runs of one size tier merged together
BLOOM_BITS = 1 << 25  # 4 MiB per index

#: What the stored records look like (SPEC.md 9): a state file written with another layout
#: (such as the pickled blocks of earlier versions) is not used, never decoded.
LAYOUT = ("blocks/v2/statement:16s-u64le/incident:msgpack:" + ",".join(Version._fields)).encode()


class Codec(NamedTuple):
    """How a :class:`RunStore` writes a block of sorted ``(key, value)`` records as bytes
    and reads it back; ``decode`` raises InputError for bytes ``encode`` cannot have made."""

    encode: Callable[[list[tuple[Any, Any]]], bytes]
    decode: Callable[[bytes], list[tuple[Any, Any]]]


_STATEMENT = struct.Struct("<16sQ")  # digest key, seq of its first entry


def _encode_statements(records: list[tuple[bytes, int]]) -> bytes:
    pack = _STATEMENT.pack
    for key, _ in records:
        if len(key) != 16:  # 16s would pad or cut it: a different key once read
            raise ValueError(f"a statement key has {len(key)} bytes, expected 16")
    return b"".join([pack(key, seq) for key, seq in records])


def _decode_statements(data: bytes) -> list[tuple[bytes, int]]:
    if not data or len(data) % _STATEMENT.size:
        raise InputError(f"state file: a block of statement digests has {len(data)} bytes, "
                         f"not a multiple of {_STATEMENT.size}: the file is damaged (delete it: it is only a cache)")
    return list(_STATEMENT.iter_unpack(data))


def _encode_incidents(records: list[tuple[str, tuple[Any, list[Version]]]]) -> bytes:
    return msgpack.packb([(incident_id, retracted, versions) for incident_id, (retracted, versions) in records])


def _decode_incidents(data: bytes) -> list[tuple[str, tuple[Any, list[Version]]]]:
    try:  # arrays as tuples; no extension type is registered (an ExtType is refused below)
        items = msgpack.unpackb(data, use_list=False, raw=False, strict_map_key=True)
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise InputError(f"state file: a block of incidents is not MessagePack ({exc}): "
                         "the file is damaged (delete it: it is only a cache)") from None
    if type(items) is not tuple or not items:
        raise InputError("state file: a block of incidents is not an array of records: "
                         "the file is damaged (delete it: it is only a cache)")
    return incidents_from_records(items)


STATEMENT_CODEC = Codec(_encode_statements, _decode_statements)
INCIDENT_CODEC = Codec(_encode_incidents, _decode_incidents)

SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks(store TEXT, run INTEGER, first, data BLOB, PRIMARY KEY(store, run, first)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs(store TEXT, run INTEGER, count INTEGER, PRIMARY KEY(store, run)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;
"""


class Bloom:
    """A Bloom filter over uniformly random bits: 3 slices of ``width`` bits of the hash."""

    __slots__ = ("bits", "mask", "width")

    def __init__(self, bits: bytearray) -> None:
        self.bits = bits
        self.mask = len(bits) * 8 - 1  # a power of two minus one
        self.width = self.mask.bit_length()

    def add(self, h: int) -> None:
        bits, mask, width = self.bits, self.mask, self.width
        i = h & mask
        bits[i >> 3] |= 1 << (i & 7)
        i = (h >> width) & mask
        bits[i >> 3] |= 1 << (i & 7)
        i = (h >> (2 * width)) & mask
        bits[i >> 3] |= 1 << (i & 7)

    def __contains__(self, h: int) -> bool:
        bits, mask, width = self.bits, self.mask, self.width
        i = h & mask
        if not bits[i >> 3] & (1 << (i & 7)):
            return False
        i = (h >> width) & mask
        if not bits[i >> 3] & (1 << (i & 7)):
            return False
        i = (h >> (2 * width)) & mask
        return bool(bits[i >> 3] & (1 << (i & 7)))


def _tier(count: int) -> int:
    tier = 0
    while count >= MERGE:
        count //= MERGE
        tier += 1
    return tier


def _hash_digest(key: bytes) -> int:
    return int.from_bytes(key, "little")  # a digest prefix: already uniformly random


def _hash_text(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=16).digest(), "little")


def _newest(streams: list[Iterator[tuple[Any, int, Any]]]) -> Iterator[tuple[Any, Any]]:
    """Merge sorted (key, -position, value) streams; for a key in several, the newest value
    (the smallest -position comes first in the merge)."""
    last: Any = None
    first = True
    for key, _, value in heapq.merge(*streams):
        if first or key != last:
            yield key, value
            last, first = key, False


_first = itemgetter(0)


def _merged_blocks(runs: list[Iterator[list[tuple[Any, Any]]]]) -> Iterator[tuple[Any, Any]]:
    """Merge runs given as sorted blocks of (key, value), oldest run first, in key order;
    for a key in several runs, the newest run's value (read side of :meth:`RunStore.items`).

    A block at a time rather than a record at a time: every key up to the smallest last
    key among the runs' current blocks is final (no run holds a smaller key further on),
    so those records are taken at once: as they are when one run holds them all (the
    usual case: the runs' key ranges barely overlap), else through a dict (newer runs
    overwrite) sorted by key."""
    pending: list[list[tuple[Any, Any]]] = []  # each run's records not yet yielded
    sources: list[Iterator[list[tuple[Any, Any]]]] = []
    for blocks in runs:
        block = next(blocks, None)
        while block is not None and not block:
            block = next(blocks, None)
        if block is not None:
            pending.append(block)
            sources.append(blocks)
    while pending:
        bound = min(records[-1][0] for records in pending)
        taken: list[list[tuple[Any, Any]]] = []
        for i, records in enumerate(pending):
            cut = bisect_right(records, bound, key=_first)
            if cut:
                taken.append(records if cut == len(records) else records[:cut])
                pending[i] = records[cut:]
        if len(taken) == 1:
            yield from taken[0]
        else:
            merged: dict[Any, Any] = {}
            for records in taken:
                merged.update(records)
            yield from sorted(merged.items())  # keys are distinct: values never compared
        for i in range(len(pending) - 1, -1, -1):
            if not pending[i]:
                block = next(sources[i], None)
                while block is not None and not block:
                    block = next(sources[i], None)
                if block is None:
                    del pending[i], sources[i]
                else:
                    pending[i] = block


class RunStore:
    """key -> value (as ``codec`` writes them), newest value wins; see the module docstring."""

    def __init__(self, db: sqlite3.Connection, name: str, hash_: Callable[[Any], int], codec: Codec, *,
                 buffer: int = BUFFER, block: int = BLOCK, bloom_bits: int = BLOOM_BITS) -> None:
        self.db = db
        self.encode, self.decode = codec
        self.limit, self.block_size = buffer, block
        self.name = name
        self.hash = hash_
        self.buffer: dict[Any, Any] = {}
        self.runs: list[tuple[int, int]] = [  # (run id, count), oldest first
            (r, c) for r, c in db.execute("SELECT run, count FROM runs WHERE store=? ORDER BY run", (name,))
        ]
        row = db.execute("SELECT value FROM meta WHERE key=?", (f"{name}.bloom",)).fetchone()
        if row is not None and len(row[0]) != bloom_bits // 8:  # a damaged filter would answer "absent" wrongly
            raise InputError(f"state file: the {name} filter has {len(row[0])} bytes, expected {bloom_bits // 8}")
        self.bloom = Bloom(bytearray(row[0]) if row is not None else bytearray(bloom_bits // 8))
        row = db.execute("SELECT value FROM meta WHERE key=?", (f"{name}.count",)).fetchone()
        if row is not None and not bytes(row[0]).isdigit():
            raise InputError(f"state file: the {name} count is not a number")
        self.count = int(row[0]) if row is not None else 0  # distinct keys
        self._block: tuple[int, Any, list[tuple[Any, Any]]] | None = None  # last block read
        self._absent: tuple[Any, int] | None = None  # (key, hash) of the last key found absent

    # -- reading --------------------------------------------------------------------

    def get(self, key: Any) -> Any | None:
        value = self.buffer.get(key)
        if value is not None:
            return value
        absent = self._absent
        if absent is not None and absent[0] == key:  # asked again before any put
            return None
        h = self.hash(key)
        if h not in self.bloom:
            self._absent = (key, h)
            return None
        return self._stored(key)

    def _stored(self, key: Any) -> Any | None:
        for run, _ in reversed(self.runs):
            cached = self._block
            if cached is not None and cached[0] == run and cached[1] <= key and cached[2] and key <= cached[2][-1][0]:
                records = cached[2]
            else:
                row = self.db.execute(
                    "SELECT first, data FROM blocks WHERE store=? AND run=? AND first<=? ORDER BY first DESC LIMIT 1",
                    (self.name, run, key)).fetchone()
                if row is None:
                    continue
                records = self.decode(row[1])
                self._block = (run, row[0], records)
            i = bisect_right(records, key, key=lambda r: r[0]) - 1
            if i >= 0 and records[i][0] == key:
                return records[i][1]
        return None

    def items(self) -> Iterator[tuple[Any, Any]]:
        """Every (key, value) in ascending key order, the newest value of each key.

        Runs whose key ranges overlap are merged; runs that follow one another (ids given
        in increasing order, the usual case) are read one after the other."""
        self.flush()
        ranges = []
        for position, (run, _) in enumerate(self.runs):
            low = self.db.execute("SELECT first FROM blocks WHERE store=? AND run=? ORDER BY first LIMIT 1",
                                  (self.name, run)).fetchone()
            last = self.db.execute("SELECT data FROM blocks WHERE store=? AND run=? ORDER BY first DESC LIMIT 1",
                                   (self.name, run)).fetchone()
            if low is not None and last is not None:
                ranges.append((low[0], self.decode(last[0])[-1][0], position, run))
        ranges.sort()
        clusters: list[list[tuple[Any, Any, int, int]]] = []
        high: Any = None
        for item in ranges:
            if clusters and item[0] <= high:
                clusters[-1].append(item)
                high = max(high, item[1])
            else:
                clusters.append([item])
                high = item[1]
        for cluster in clusters:
            if len(cluster) == 1:
                yield from self._run_records(cluster[0][3])
                continue
            cluster.sort(key=lambda item: item[2])  # oldest run first: newer values win
            yield from _merged_blocks([self._run_blocks(run) for _, _, _, run in cluster])

    def _run_blocks(self, run: int) -> Iterator[list[tuple[Any, Any]]]:
        cursor = self.db.execute("SELECT data FROM blocks WHERE store=? AND run=? ORDER BY first", (self.name, run))
        for (data,) in cursor:
            yield self.decode(data)

    def _run_records(self, run: int) -> Iterator[tuple[Any, Any]]:
        cursor = self.db.execute("SELECT data FROM blocks WHERE store=? AND run=? ORDER BY first", (self.name, run))
        for (data,) in cursor:
            yield from self.decode(data)

    def _run_items(self, run: int, rank: int) -> Iterator[tuple[Any, int, Any]]:
        # rank: newer runs sort first among equal keys (heapq.merge is ordered by the tuple).
        cursor = self.db.execute("SELECT data FROM blocks WHERE store=? AND run=? ORDER BY first", (self.name, run))
        for (data,) in cursor:
            for key, value in self.decode(data):
                yield key, rank, value

    # -- writing --------------------------------------------------------------------

    def put(self, key: Any, value: Any) -> bool:
        """Store ``value`` under ``key``; True if the key is new."""
        new = False
        if key not in self.buffer:
            absent, self._absent = self._absent, None
            if absent is not None and absent[0] == key:  # get() just found it absent
                new = True
                self.bloom.add(absent[1])
            else:
                h = self.hash(key)
                if h not in self.bloom:
                    new = True
                    self.bloom.add(h)
                else:
                    new = self._stored(key) is None
        if new:
            self.count += 1
        self.buffer[key] = value
        if len(self.buffer) >= self.limit:
            self.flush()
        return new

    def flush(self) -> None:
        if not self.buffer:
            return
        records = sorted(self.buffer.items())  # keys are distinct: values never compared
        self.buffer = {}
        self._block = None
        self._write_run(records, len(records))
        self._merge_tiers()

    def _write_run(self, records: Any, count: int) -> None:
        run = (self.runs[-1][0] + 1) if self.runs else 1
        rows: list[tuple[str, int, Any, bytes]] = []
        block: list[tuple[Any, Any]] = []
        name = self.name
        for record in records:
            block.append(record)
            if len(block) == self.block_size:
                rows.append((name, run, block[0][0], self.encode(block)))
                block = []
                if len(rows) >= 256:
                    self.db.executemany("INSERT INTO blocks VALUES(?,?,?,?)", rows)
                    rows = []
        if block:
            rows.append((name, run, block[0][0], self.encode(block)))
        self.db.executemany("INSERT INTO blocks VALUES(?,?,?,?)", rows)
        self.db.execute("INSERT INTO runs VALUES(?,?,?)", (name, run, count))
        self.runs.append((run, count))

    def _merge_tiers(self) -> None:
        # Keep the runs' size tiers (tier: floor(log_MERGE(count))) non-increasing from the
        # oldest run to the newest, with fewer than MERGE runs per tier: a newer run of a
        # higher tier absorbs its predecessor, and MERGE runs of one tier become one run.
        # So every key is rewritten O(log_MERGE n) times and there are O(MERGE log n) runs.
        while len(self.runs) >= 2:
            if _tier(self.runs[-1][1]) > _tier(self.runs[-2][1]):
                self._merge(self.runs[-2:])
                continue
            tier = _tier(self.runs[-1][1])
            same = 0
            for _, count in reversed(self.runs):
                if _tier(count) != tier:
                    break
                same += 1
            if same < MERGE:
                return
            self._merge(self.runs[-same:])

    def _merge(self, tail: list[tuple[int, int]]) -> None:
        self._block = None
        base = len(self.runs) - len(tail)
        streams = [self._run_items(run, -position) for position, (run, _) in enumerate(tail)]
        merged = list(_newest(streams)) if sum(c for _, c in tail) <= self.limit else None
        if merged is None:  # large: stream through a temporary run id range
            records: Any = _newest(streams)
            count = 0
            run = (self.runs[-1][0] + 1)
            rows: list[tuple[str, int, Any, bytes]] = []
            block: list[tuple[Any, Any]] = []
            for record in records:
                count += 1
                block.append(record)
                if len(block) == self.block_size:
                    rows.append((self.name, run, block[0][0], self.encode(block)))
                    block = []
                    if len(rows) >= 256:
                        self.db.executemany("INSERT INTO blocks VALUES(?,?,?,?)", rows)
                        rows = []
            if block:
                rows.append((self.name, run, block[0][0], self.encode(block)))
            self.db.executemany("INSERT INTO blocks VALUES(?,?,?,?)", rows)
            self._drop(tail)
            self.db.execute("INSERT INTO runs VALUES(?,?,?)", (self.name, run, count))
            self.runs[base:] = [(run, count)]
        else:
            self._drop(tail)
            del self.runs[base:]
            self._write_run(merged, len(merged))

    def _drop(self, tail: list[tuple[int, int]]) -> None:
        for run, _ in tail:
            self.db.execute("DELETE FROM blocks WHERE store=? AND run=?", (self.name, run))
            self.db.execute("DELETE FROM runs WHERE store=? AND run=?", (self.name, run))

    def save_meta(self) -> None:
        self.flush()
        self.db.execute("INSERT OR REPLACE INTO meta VALUES(?,?)", (f"{self.name}.bloom", bytes(self.bloom.bits)))
        self.db.execute("INSERT OR REPLACE INTO meta VALUES(?,?)", (f"{self.name}.count", str(self.count).encode()))


class DiskStatements:
    """:class:`~ledger.core.verify.StatementIndex` on a :class:`RunStore` (16-byte digest keys)."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def get(self, key: bytes) -> int | None:
        return self.store.get(key)

    def setdefault(self, key: bytes, seq: int) -> int:
        found = self.store.get(key)
        if found is not None:
            return found
        self.store.put(key, seq)
        return seq

    def __len__(self) -> int:
        return self.store.count


def _encode(incident: Incident) -> tuple[Any, ...]:
    return incident.retracted, incident.versions


def _decode(incident_id: str, value: tuple[Any, ...]) -> Incident:
    retracted, versions = value
    return Incident(incident_id, list(versions), retracted)


class DiskIncidents:
    """:class:`~ledger.scoring.state.IncidentIndex` on a :class:`RunStore`."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def get(self, incident_id: str) -> Incident | None:
        value = self.store.get(incident_id)
        return None if value is None else _decode(incident_id, value)

    def __getitem__(self, incident_id: str) -> Incident:
        found = self.get(incident_id)
        if found is None:
            raise KeyError(incident_id)
        return found

    def __contains__(self, incident_id: object) -> bool:
        return isinstance(incident_id, str) and self.store.get(incident_id) is not None

    def put(self, incident: Incident) -> None:
        self.store.put(incident.incident_id, _encode(incident))

    def values(self) -> Iterator[Incident]:
        for incident_id, value in self.store.items():
            yield _decode(incident_id, value)

    def records(self) -> Iterator[tuple[str, tuple[Any, Any]]]:
        """``(incident_id, (retracted, versions))`` in ascending id order: what the replay
        reads, without an :class:`Incident` per record (``versions`` must not be changed)."""
        return self.store.items()

    def __len__(self) -> int:
        return self.store.count


class FileSpool:
    """A :class:`~ledger.scoring.state.Spool` in an anonymous temporary file (one item a line:
    items are canonical JSON, which has no raw newline)."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()
        self.count = 0  # items written to the file
        self.pending: list[bytes] = []  # items not yet written (at most 4,096)

    def append(self, item: bytes) -> None:
        pending = self.pending
        pending.append(item)
        if len(pending) >= 4096:
            self._write()

    def _write(self) -> None:
        if self.pending:
            self.file.write(b"\n".join(self.pending) + b"\n")
            self.count += len(self.pending)
            self.pending = []

    def __len__(self) -> int:
        return self.count + len(self.pending)

    def __iter__(self) -> Iterator[bytes]:
        self._write()
        self.file.flush()
        self.file.seek(0)
        for line in self.file:
            yield line[:-1]
        self.file.close()

    def joined(self) -> Iterator[bytes]:
        """The items joined by ``,``, in pieces of about a MiB (what the replay hashes):
        every item is followed by a newline and holds none, so each newline but the last
        becomes a comma. Like iterating, this reads the spool once and closes it."""
        self._write()
        self.file.flush()
        self.file.seek(0)
        pending = b""
        while True:
            block = self.file.read(1 << 20)
            if not block:
                break
            if pending:
                yield pending
            pending = block.replace(b"\n", b",")
        if pending:
            yield pending[:-1]
        self.file.close()


class DiskState:
    """One SQLite database holding the statement index and the incidents.

    ``path`` None: a private temporary database (SQLite deletes it on close). Writes happen
    in one transaction; :meth:`commit` makes them durable (``ledger verify --state``)."""

    def __init__(self, path: str | None = None, **sizes: int) -> None:
        self.db = sqlite3.connect(path or "", isolation_level=None)
        self.db.execute("PRAGMA cache_size=-8192")  # 8 MiB of pages
        if path is None:
            self.db.execute("PRAGMA journal_mode=OFF")
            self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(SCHEMA)
        self.db.execute("BEGIN")
        self.statements = DiskStatements(RunStore(self.db, "statements", _hash_digest, STATEMENT_CODEC, **sizes))
        self.incidents = DiskIncidents(RunStore(self.db, "incidents", _hash_text, INCIDENT_CODEC, **sizes))

    def spool(self) -> FileSpool:
        return FileSpool()

    def get_meta(self, key: str) -> bytes | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def set_meta(self, key: str, value: bytes) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES(?,?)", (key, value))

    def commit(self) -> None:
        self.statements.store.save_meta()
        self.incidents.store.save_meta()
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")

    def close(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        self.db.close()


def attach(verifier: Any, disk: DiskState) -> Any:
    """Make ``verifier`` (fresh, or read from a state file without its indexes) keep its large state in
    ``disk``; returns the verifier."""
    from ..scoring.process import scoring_process

    verifier.statements = disk.statements
    process = scoring_process(verifier)
    if process is not None:
        process.state.incidents = disk.incidents
        process.state.spool = disk.spool
    return verifier


def disk_verifier(disk: DiskState) -> Any:
    """A verifier with every default process whose large state is in ``disk``."""
    return attach(new_verifier(), disk)
