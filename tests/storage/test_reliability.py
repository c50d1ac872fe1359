"""Crashes, concurrent writers and damaged storage, with real processes and real SQLite.

* appending processes killed with SIGKILL at random points, many times (seeded): the
  ledger still verifies, every acknowledged append is there, nothing is half-written;
* several processes appending at once: one linear chain, nothing lost, no "database is
  locked" reaching anyone (writers wait, boundedly; after the timeout, a clear error);
* a damaged file, a read-only file and a full disk: a clear one-line error, and the
  ledger is no worse (it still verifies, with the same content).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core_fixtures import OPERATOR, Chain, run_ledger, standard_chain
from ledger.core import merkle
from ledger.storage import store as store_mod
from ledger.app.load import verify_path
from ledger.errors import StoreError
from ledger.core.model import Statement
from ledger.storage.store import LedgerStore

TESTS = Path(__file__).resolve().parents[1]
SEED = "reliability"

# A child process that appends org.register statements one at a time and acknowledges
# each one (seq and statement digest) on its own line of ACK, fsync'ed, only after
# ``append`` has returned.
CHILD = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {tests!r})
    from core_fixtures import KeyRing, OPERATOR
    from ledger.core.model import Statement
    from ledger.storage.store import LedgerStore
    path, worker, count, ack_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    keys = KeyRing({seed!r})
    store = LedgerStore.open(path)
    ledger_id = store.verifier().context.ledger_id
    fd = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.write(fd, b"ready\\n")
    for i in range(count):
        body = {{"org_id": f"w{{worker}}-{{i}}", "name": f"Worker {{worker}} org {{i}}", "aliases": []}}
        statement = Statement.build("org.register", body, "2026-03-01T00:00:00Z", ledger_id)
        entry = store.append(statement, [statement.sign(keys["recorder-1"])], keys[OPERATOR])
        os.write(fd, f"{{entry.seq}} {{statement.digest.hex()}}\\n".encode())
        os.fsync(fd)
    store.close()
    """
).format(tests=str(TESTS), seed=SEED)


@pytest.fixture(scope="module")
def genuine(tmp_path_factory) -> Path:
    return standard_chain(SEED).to_store(tmp_path_factory.mktemp("genuine") / "ledger.db")


@pytest.fixture
def db(genuine: Path, tmp_path: Path) -> Path:
    path = tmp_path / "ledger.db"
    shutil.copyfile(genuine, path)
    return path


def _spawn(db: Path, worker: str, count: int, ack: Path) -> subprocess.Popen:
    # -P: do not put the working directory on sys.path, where the source tree's ledger/
    # would shadow the installed package (which alone has ledger.cli and ledger.schemas).
    return subprocess.Popen([sys.executable, "-P", "-c", CHILD, str(db), worker, str(count), str(ack)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _acks(ack: Path) -> list[tuple[int, str]]:
    out = []
    if ack.exists():
        for line in ack.read_text().splitlines():
            if line and line != "ready":
                seq, digest = line.split()
                out.append((int(seq), digest))
    return out


def _stored(db: Path) -> dict[int, str]:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {seq: bytes(d).hex() for seq, d in conn.execute("SELECT seq, statement_digest FROM entries")}
    finally:
        conn.close()


def _assert_sound(db: Path) -> None:
    report = verify_path(db)
    assert report.ok, [str(v) for v in report.violations]
    stored = _stored(db)
    assert sorted(stored) == list(range(len(stored)))  # no gap, no partial entry
    with LedgerStore.open(db) as store:  # read-write open: the Merkle tree is level with the entries
        assert store.tree.size == store.size == len(stored)
        assert store.tree.root() == merkle.root([merkle.leaf_hash(raw) for raw in store.iter_raw()])


@pytest.mark.slow
def test_sigkill_at_random_points_loses_no_acknowledged_append(db: Path, tmp_path: Path) -> None:
    rng = random.Random(20111201)
    acknowledged: dict[int, str] = {}
    kills = 0
    for round_ in range(12):
        ack = tmp_path / f"ack-{round_}"
        child = _spawn(db, f"k{round_}", 400, ack)
        deadline = time.monotonic() + 60
        while "ready" not in (ack.read_text() if ack.exists() else "") and time.monotonic() < deadline:
            if child.poll() is not None:
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.6))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait(timeout=60)
        if child.returncode not in (0, -signal.SIGKILL):
            pytest.fail(child.stderr.read().decode())
        for seq, digest in _acks(ack):
            acknowledged[seq] = digest
        stored = _stored(db)
        for seq, digest in acknowledged.items():
            assert stored.get(seq) == digest, f"acknowledged entry {seq} is missing after a kill"
    assert kills >= 8  # the children were really killed mid-way, most of the time
    assert len(acknowledged) > 12
    _assert_sound(db)
    result = run_ledger("verify", db)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_concurrent_appenders_make_one_chain_and_lose_nothing(db: Path, tmp_path: Path) -> None:
    before = len(_stored(db))
    children = [(_spawn(db, f"c{i}", 25, tmp_path / f"ack-{i}"), tmp_path / f"ack-{i}") for i in range(4)]
    acknowledged = {}
    for child, ack in children:
        _, err = child.communicate(timeout=300)
        assert child.returncode == 0, err.decode()
        assert b"locked" not in err and b"Traceback" not in err
        for seq, digest in _acks(ack):
            assert seq not in acknowledged  # nobody got the same sequence number
            acknowledged[seq] = digest
    stored = _stored(db)
    assert len(stored) == before + 100
    assert all(stored[seq] == digest for seq, digest in acknowledged.items())
    _assert_sound(db)


def test_a_writer_that_waits_too_long_gets_a_clear_error(db: Path, monkeypatch) -> None:
    monkeypatch.setattr(store_mod, "BUSY_TIMEOUT_MS", 300)
    chain = standard_chain(SEED)
    holder = sqlite3.connect(str(db), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with LedgerStore.open(db) as store:
            statement = chain.org("late")
            started = time.monotonic()
            with pytest.raises(StoreError) as raised:
                store.append(statement, chain.sign(statement, ["recorder-1"]), chain.keys[OPERATOR])
            assert time.monotonic() - started < 10
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    message = str(raised.value)
    assert "write lock" in message and "try again" in message and "database is locked" not in message
    assert "\n" not in message
    _assert_sound(db)


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _content(db: Path) -> list[bytes]:
    with LedgerStore.open(db, readonly=True) as store:
        return list(store.iter_raw())


def test_full_disk_is_a_clear_error_and_changes_nothing(db: Path, monkeypatch) -> None:
    chain = standard_chain(SEED)
    before = _content(db)
    real_connect = store_mod._connect

    def tiny(path, *, readonly):  # SQLite's own "disk full": no page may be added
        conn = real_connect(path, readonly=readonly)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(store_mod, "_connect", tiny)
    big = [chain.org(f"filler-{i}") for i in range(300)]
    with LedgerStore.open(db) as store:
        with pytest.raises(StoreError) as raised:
            store.append_many([(s, chain.sign(s, ["recorder-1"])) for s in big], chain.keys[OPERATOR])
    message = str(raised.value)
    assert "disk is full" in message and "nothing was appended" in message and "\n" not in message
    monkeypatch.undo()
    assert _content(db) == before
    _assert_sound(db)


def test_damaged_file_is_a_clear_error_on_verify_and_append(db: Path, tmp_path: Path) -> None:
    # Damage the middle of the file (past the header): a page of the entries b-tree.
    data = bytearray(db.read_bytes())
    page = 4096
    for offset in range(2 * page, min(len(data), 4 * page), 7):
        data[offset] ^= 0x5A
    db.write_bytes(bytes(data))
    digest = _file_digest(db)
    result = run_ledger("verify", db)
    # SPEC 8.2: a corrupted database is unreadable (2), said in one line naming the file.
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"error: {db}: not a ledger database (database disk image is malformed)"]
    chain = standard_chain(SEED)
    appended = _append_in_process(db, chain.org("after-damage"), chain)
    assert appended.returncode != 0
    assert "Traceback" not in appended.stderr and "internal error" not in appended.stderr
    assert len(appended.stderr.strip().splitlines()) == 1
    assert _file_digest(db) == digest  # not made worse


class _Outcome:
    def __init__(self, returncode: int, stderr: str) -> None:
        self.returncode, self.stderr, self.stdout = returncode, stderr, ""


def _append_in_process(db: Path, statement: Statement, chain: Chain) -> _Outcome:
    from ledger.errors import LedgerError

    try:
        with LedgerStore.open(db) as store:
            store.append(statement, chain.sign(statement, ["recorder-1"]), chain.keys[OPERATOR])
    except LedgerError as exc:
        return _Outcome(1, str(exc) + "\n")
    return _Outcome(0, "")


def _can_remount() -> bool:
    return sys.platform.startswith("linux") and os.geteuid() == 0 and shutil.which("mount") is not None


def test_read_only_file_is_a_clear_error_and_still_verifies(db: Path, tmp_path: Path) -> None:
    chain = standard_chain(SEED)
    before = _content(db)
    if os.geteuid() != 0:
        db.chmod(0o444)
        target = db
        cleanup = lambda: db.chmod(0o644)  # noqa: E731
    elif _can_remount():
        mnt = tmp_path / "ro"
        mnt.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)]).returncode != 0:
            pytest.skip("cannot mount a tmpfs here")
        target = mnt / "ledger.db"
        shutil.copyfile(db, target)
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        cleanup = lambda: subprocess.run(["umount", "-l", str(mnt)])  # noqa: E731
    else:
        pytest.skip("root without mount: a read-only file cannot be simulated")
    try:
        statement = chain.org("read-only")
        outcome = _append_in_process(target, statement, chain)
        assert outcome.returncode != 0
        assert "read-only" in outcome.stderr or "cannot" in outcome.stderr
        assert len(outcome.stderr.strip().splitlines()) == 1
        result = run_ledger("verify", target)
        assert result.returncode == 0, result.stderr
        assert _content(target) == before
    finally:
        cleanup()
