"""The verifier's state on disk (ledger.storage.diskstate) answers exactly as the in-memory one.

Small buffers, blocks and Bloom filters make every path run on small data: runs written,
merged by tiers, Bloom false positives looked up in the database, newest-value-wins.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3

import orjson
import pytest

from ledger.core import canonical
from ledger.storage.diskstate import MERGE, SCHEMA, Codec, DiskState, RunStore, _hash_digest, _hash_text, _tier, attach
from ledger.scoring import authoring as A
from ledger.scoring.process import new_verifier, scoring_process
from ledger.scoring.replay import replay

from scoring_fixtures import TWO_SOURCES, MiniLedger, src

TINY = {"buffer": 3, "block": 2, "bloom_bits": 64}
# str keys, tuple values: a JSON codec for the generic store's tests
TUPLES = Codec(orjson.dumps, lambda data: [(k, tuple(v)) for k, v in orjson.loads(data)])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("sizes", [TINY, {"buffer": 16, "block": 4, "bloom_bits": 1024}])
def test_run_store_equals_a_dict(seed, sizes):
    rng = random.Random(seed)
    db = sqlite3.connect("", isolation_level=None)
    db.executescript(SCHEMA)
    store = RunStore(db, "t", _hash_text, TUPLES, **sizes)
    model: dict[str, tuple[int, ...]] = {}
    keys = [f"k-{i:03d}" for i in range(120)] + ["10", "9", "ä", "z" * 64]
    for step in range(800):
        key = rng.choice(keys)
        if rng.random() < 0.6:
            value = (step, rng.randrange(5))
            assert store.put(key, value) == (key not in model)
            model[key] = value
        else:
            assert store.get(key) == model.get(key)
        assert store.count == len(model)
        if step % 97 == 0:
            assert list(store.items()) == sorted(model.items())
    assert list(store.items()) == sorted(model.items())
    tiers = [_tier(count) for _, count in store.runs]  # merged by tiers
    assert tiers == sorted(tiers, reverse=True) and all(tiers.count(t) < MERGE for t in tiers)


def test_a_reopened_store_keeps_everything(tmp_path):
    path = str(tmp_path / "state.db")
    disk = DiskState(path, **TINY)
    for i in range(50):
        disk.statements.setdefault(bytes([i]) * 16, i)
    disk.commit()
    disk.close()
    again = DiskState(path, **TINY)
    assert [again.statements.get(bytes([i]) * 16) for i in range(50)] == list(range(50))
    assert again.statements.get(b"\xff" * 16) is None and len(again.statements) == 50
    again.close()


def rich_ledger() -> MiniLedger:
    """Two rounds with every kind of scoring entry and a few violations."""
    m = MiniLedger()
    m.orgs("alpha", "beta", "gamma")
    digest = m.adopt(1, contested={"mode": "discount", "factor": "0.5"}, joint="split")
    m.add("estimate.record", {"org_id": "alpha", "metric": "revenue_usd", "period_start": "2025-01-01",
                              "period_end": "2025-12-31", "low": "1", "best": "2", "high": "3", "sources": [src("x")]})
    m.open(1, digest, ["alpha", "beta", "gamma"])
    for i in range(12):
        orgs = [["alpha"], ["beta"], ["alpha", "beta"], ["gamma"]][i % 4]
        m.incident(f"i-{i:02d}", f"2026-01-{i + 2:02d}", orgs, killed=i % 5)
    m.incident("week", "2026-01-27", "alpha", date_precision="week")
    m.incident("month", "2026-01-01", "beta", date_precision="month")
    m.incident("one-source", "2026-01-10", "gamma", sources=TWO_SOURCES[:1])
    m.incident("nobody", "2026-01-10", None)
    m.incident("outside", "2026-03-10", "alpha")
    m.incident("i-03", "2026-01-10", "alpha", force=True)
    body = A.incident("i-01", "2026-01-20", "kidnapping", victims=[A.victim("police", 3)],
                      attributions=[A.attribution("gamma")], sources=TWO_SOURCES)
    m.add("incident.amend", {"incident": body, "reason": "new facts"})
    m.add("incident.retract", {"incident_id": "i-05", "reason": "hoax"})
    m.add("incident.retract", {"incident_id": "i-05", "reason": "again"}, force=True)
    m.add("attribution.dispute", {"dispute_id": "d1", "incident_id": "i-02", "org": "alpha", "basis": "false_flag",
                                  "raised_by": "journalist", "grounds": "g", "sources": [src("y")]})
    m.add("attribution.dispute", {"dispute_id": "d2", "incident_id": "i-06", "org": "beta", "basis": "other",
                                  "raised_by": "panel", "grounds": "g", "sources": [src("y")]})
    m.add("dispute.resolve", {"dispute_id": "d1", "outcome": "upheld", "justification": "ballistics"})
    m.close(1, "2026-02-01")
    m.incident("late", "2026-01-15", "beta")  # recorded after the close
    m.decide(1)
    m.raws.append(m.raws[5])  # the same entry again
    return m


def _run(raws, verifier):
    violations = [v for raw in raws for v in verifier.feed(raw)] + verifier.finish()
    return violations, list(scoring_process(verifier).notices), scoring_process(verifier).state


@pytest.mark.parametrize("sizes", [TINY, {}])
def test_disk_verifier_reports_and_replays_exactly_as_the_memory_one(sizes):
    m = rich_ledger()
    expected, notices, memory = _run(m.raws, new_verifier())
    assert {v.rule for v in expected} >= {"R-10.4", "R-10.5", "R-7.8"}
    disk = DiskState(**sizes)
    try:
        found, disk_notices, state = _run(m.raws, attach(new_verifier(), disk))
        assert found == expected and disk_notices == notices
        assert len(state.incidents) == len(memory.incidents) == 18
        assert [i.versions for i in state.incidents.values()] == [i.versions for i in memory.incidents.values()]
        full = replay(memory, 1)
        for source in (memory, state):
            assert replay(source, 1).raw == full.raw
            assert replay(source, 1, digest_only=True).digest == full.digest
        assert full.raw == canonical.encode(full.document)
        assert state.rounds[1].decision["ranking"] == full.digest
    finally:
        disk.close()


def test_digest_only_is_the_digest_of_the_whole_document():
    m = rich_ledger()
    state = m.state
    for digest in state.rules_versions:
        whole = replay(state, 1, rules_digest=digest)
        streamed = replay(state, 1, rules_digest=digest, digest_only=True)
        assert streamed.digest == whole.digest and streamed.raw is None
        assert streamed.selection == whole.selection
        assert whole.document["counts"]["exclusions"] == len(whole.document["excluded"]) > 5


def test_hash_functions_are_stable():
    # The Bloom filter is saved with a --state file: its hashes must not depend on the process.
    assert _hash_text("i-01") == int.from_bytes(hashlib.blake2b(b"i-01", digest_size=16).digest(), "little")
    assert _hash_digest(b"\x01" * 16) == int("01" * 16, 16)


def test_an_interval_past_year_9999_lies_in_no_window():
    # 9999-12-30 + 6 days does not exist: the week lies outside every window (12.2); the
    # replay must say so rather than fail on the date arithmetic.
    from ledger.scoring.state import version_of

    body = A.incident("edge", "9999-12-30", "killing", victims=[A.victim("police", 1)],
                      attributions=[A.attribution("alpha")], sources=TWO_SOURCES, date_precision="week")
    version = version_of(7, body, b"\0" * 32)
    assert version.first == "9999-12-30" and version.last > "9999-12-31"
    assert not (version.first >= "2026-01-01" and version.last <= "9999-12-31")


def test_runs_of_increasing_keys_are_read_in_order_and_updates_win():
    # Ids recorded in increasing order give runs with disjoint key ranges (read one after
    # the other); an update of an old key makes ranges overlap (merged, newest wins).
    db = sqlite3.connect("", isolation_level=None)
    db.executescript(SCHEMA)
    store = RunStore(db, "t", _hash_text, TUPLES, buffer=5, block=2, bloom_bits=256)
    model = {}
    for i in range(60):
        key = f"id-{i:04d}"
        store.put(key, (i,))
        model[key] = (i,)
        if i % 17 == 16:
            old = f"id-{i // 2:04d}"
            store.put(old, (i, "updated"))
            model[old] = (i, "updated")
    assert list(store.items()) == sorted(model.items())
    assert all(store.get(k) == v for k, v in model.items())
