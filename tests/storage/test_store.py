"""The operator's SQLite store: all-or-nothing appends, refusals, concurrency, export."""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
from pathlib import Path

import pytest

from core_fixtures import (
    OPERATOR,
    Chain,
    append_worker,
    file_state,
    lines_of,
    run_ledger,
    standard_chain,
    violations_of,
)
from ledger.app.load import verify_path
from ledger.storage.bundle import read_bundle, write_bundle
from ledger.errors import LedgerError, LedgerRefused, StoreError
from ledger.core.model import Statement
from ledger.storage.store import LedgerStore


@pytest.fixture(scope="module")
def chain() -> Chain:
    return standard_chain("store")


@pytest.fixture(scope="module")
def genuine_db(chain: Chain, tmp_path_factory) -> Path:
    return chain.to_store(tmp_path_factory.mktemp("genuine") / "ledger.db")


@pytest.fixture
def db(genuine_db: Path, tmp_path: Path) -> Path:
    """A fresh copy of the genuine ledger for each test (a closed WAL database is one file)."""
    path = tmp_path / "ledger.db"
    shutil.copyfile(genuine_db, path)
    return path


def _stored_raws(path: Path) -> list[bytes]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [bytes(r[0]) for r in conn.execute("SELECT raw FROM entries ORDER BY seq")]
    finally:
        conn.close()


def _signed(chain: Chain, statement: Statement, signers: list[str]):
    return statement, chain.sign(statement, signers)


BAD_ITEMS = {
    # name: (builder of the bad (statement, signatures), rule named in the error)
    "unknown-key": (lambda c: _signed(c, c.org("bad-unknown"), ["outsider"]), "R-7.10"),
    "revoked-key": (lambda c: _signed(c, c.org("bad-revoked"), ["recorder-2"]), "R-7.10"),
    "no-threshold": (lambda c: _signed(c, c.policy_update("too few"), ["panel-1", "panel-2"]), "R-7.13"),
    "wrong-role": (lambda c: _signed(c, c.org("bad-role"), ["panel-1"]), "R-7.12"),
    "other-ledger": (lambda c: _signed(c, c.statement("org.register", {"org_id": "x", "name": "X", "aliases": []}, ledger_id="ab" * 32), ["recorder-1"]), "R-7.7"),
    "already-in-ledger": (lambda c: c.items[1], "R-7.8"),
    "bad-signature": (lambda c: (c.org("bad-sig"), c.sign(c.org("other-body"), ["recorder-1"])), "R-7.11"),
    "schema": (lambda c: _signed(c, c.statement("org.register", {"org_id": "Not Valid!", "name": "X", "aliases": []}), ["recorder-1"]), "R-7.2"),
}


@pytest.mark.parametrize("position", ["first", "middle", "last"])
@pytest.mark.parametrize("bad", list(BAD_ITEMS))
def test_batch_with_one_bad_statement_changes_nothing(chain: Chain, db: Path, bad: str, position: str) -> None:
    make_bad, rule = BAD_ITEMS[bad]
    good = [_signed(chain, chain.org(f"good-{i}"), ["recorder-1"]) for i in range(3)]
    where = {"first": 0, "middle": 1, "last": 3}[position]
    batch = good[:where] + [make_bad(chain)] + good[where:]
    before = file_state(db)
    with LedgerStore.open(db) as store:
        size = store.size
        with pytest.raises(StoreError) as caught:
            store.append_many(batch, chain.keys[OPERATOR])
        assert store.size == size
        message = str(caught.value)
        assert "\n" not in message and f"[{rule}]" in message and f"entry {size + where}" in message
        # the same store object still works afterwards: the good statements go in
        store.append_many(good, chain.keys[OPERATOR])
        assert store.size == size + 3
    after_good = file_state(db)
    assert after_good[1] == before[1] + 3
    assert verify_path(db).ok


def test_failed_batch_leaves_file_byte_identical(chain: Chain, db: Path) -> None:
    before = file_state(db)
    duplicate = _signed(chain, chain.org("twice"), ["recorder-1"])
    with LedgerStore.open(db) as store:
        with pytest.raises(StoreError, match=r"R-7\.8"):
            store.append_many([_signed(chain, chain.org("once"), ["recorder-1"]), duplicate, duplicate], chain.keys[OPERATOR])
    assert file_state(db) == before  # same bytes, same row count
    assert not Path(str(db) + "-wal").exists() or Path(str(db) + "-wal").stat().st_size == 0


def test_refused_statement_is_one_line_ledger_error(chain: Chain, db: Path) -> None:
    statement, signatures = _signed(chain, chain.org("intruder"), ["outsider"])
    with LedgerStore.open(db) as store:
        with pytest.raises(LedgerError) as caught:
            store.append(statement, signatures, chain.keys[OPERATOR])
    text = str(caught.value)
    assert text.count("\n") == 0 and "not in policy" in text and "entry 9" in text


def test_store_refuses_to_append_to_a_ledger_that_fails_verification(chain: Chain, db: Path) -> None:
    conn = sqlite3.connect(str(db), isolation_level=None)
    raw = bytes(conn.execute("SELECT raw FROM entries WHERE seq = 4").fetchone()[0])
    conn.execute("UPDATE entries SET raw = ? WHERE seq = 4", (raw.replace(b"Organization charlie", b"Organization charliE"),))
    conn.close()
    before = file_state(db)
    statement, signatures = _signed(chain, chain.org("late"), ["recorder-1"])
    with pytest.raises(LedgerRefused, match=r"fails verification.*entry 4.*R-7\.11") as refused:
        with LedgerStore.open(db) as store:
            store.append(statement, signatures, chain.keys[OPERATOR])
    assert [(v.seq, v.rule) for v in refused.value.violations] == [(4, "R-7.11"), (4, "R-7.13"), (4, "R-7.15")]  # carried
    assert file_state(db) == before
    # and the CLI says the same, without a traceback
    result = run_ledger("verify", db)
    assert result.returncode == 1 and "entry 4" in result.stdout


def test_create_refuses_an_existing_path(chain: Chain, db: Path, tmp_path: Path) -> None:
    before = file_state(db)
    with pytest.raises(StoreError, match="already exists"):
        LedgerStore.create(db, chain.items[0], chain.keys[OPERATOR])
    assert file_state(db) == before
    other = tmp_path / "not-a-ledger.txt"
    other.write_bytes(b"precious")
    with pytest.raises(StoreError, match="already exists"):
        LedgerStore.create(other, chain.items[0], chain.keys[OPERATOR])
    assert other.read_bytes() == b"precious"


def test_create_with_bad_genesis_leaves_nothing(chain: Chain, tmp_path: Path) -> None:
    statement, signatures = chain.items[0]
    path = tmp_path / "new.db"
    with pytest.raises(StoreError, match=r"R-7\.14"):
        LedgerStore.create(path, (statement, signatures[:3]), chain.keys[OPERATOR])
    with pytest.raises(StoreError, match="starts with a ledger.genesis"):
        LedgerStore.create(path, chain.items[1], chain.keys[OPERATOR])
    assert list(tmp_path.iterdir()) == []  # no ledger, no temporary file, no -wal/-shm


def test_concurrent_appenders_produce_one_linear_chain(tmp_path: Path) -> None:
    seed, workers, count = "concurrency", 2, 30
    chain = Chain.new(seed)
    db = chain.to_store(tmp_path / "ledger.db")
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        results = pool.starmap(append_worker, [(str(db), seed, w, count) for w in range(workers)])
    got = sorted(seq for seqs in results for seq in seqs)
    assert got == list(range(1, 1 + workers * count))  # every append got its own number
    raws = _stored_raws(db)
    assert len(raws) == 1 + workers * count
    assert violations_of(raws) == []  # one chain, each entry linked to the one before
    report = verify_path(db)
    assert report.ok and report.size == len(raws)
    registered = {Statement.from_obj(__import__("json").loads(r)["statement"]).body["org_id"] for r in raws[1:]}
    assert registered == {f"w{w}-{i}" for w in range(workers) for i in range(count)}  # nothing lost


def test_export_bundle_round_trip_is_byte_identical(chain: Chain, db: Path, tmp_path: Path) -> None:
    stored = _stored_raws(db)
    assert stored == chain.raws
    # library
    path = tmp_path / "lib.jsonl"
    with LedgerStore.open(db, readonly=True) as store, open(path, "wb") as handle:
        assert write_bundle(store.iter_raw(), handle) == len(stored)
    with open(path, "rb") as handle:
        assert list(read_bundle(handle)) == stored
    assert path.read_bytes() == b"".join(r + b"\n" for r in stored)
    # the real CLI
    out = tmp_path / "cli.jsonl"
    result = run_ledger("export", db, "--out", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == path.read_bytes()
    assert lines_of(out.read_bytes()) == stored
    assert verify_path(out).ok
    # refuses to overwrite
    again = run_ledger("export", db, "--out", out)
    assert again.returncode != 0 and again.stderr.startswith("error:")
    assert lines_of(out.read_bytes()) == stored


def test_open_refuses_non_ledgers(tmp_path: Path) -> None:
    from ledger.errors import InputError

    plain = tmp_path / "plain.db"
    conn = sqlite3.connect(str(plain))
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    for path, match in ((tmp_path / "missing.db", "no such"), (plain, "not a ledger")):
        with pytest.raises(InputError, match=match):
            LedgerStore.open(path)


def test_empty_batch_appends_nothing(chain: Chain, db: Path) -> None:
    before = file_state(db)
    with LedgerStore.open(db) as store:
        assert store.append_many([], chain.keys[OPERATOR]) == []
        assert store.size == len(chain.raws)
    assert file_state(db) == before
