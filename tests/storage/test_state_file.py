"""The state file of ``ledger verify --state`` is data, never code (SPEC.md 9, issue 14).

A state file is a local cache: reading one must run nothing it names. These tests put a
pickle whose ``__reduce__`` would create a file where the state used to be a pickle (the
verifier, a block of records), in a file of today's format and in one of the previous
format, and check that the file is never created and that verification runs from the
start (or, for a damaged block met while resuming, stops with a one-line InputError).
"""

from __future__ import annotations

import pickle
import sqlite3
from pathlib import Path

import orjson
import pytest

from core_fixtures import bundle_of, run_ledger
from ledger.app.load import verify_path
from ledger.storage.diskstate import LAYOUT, DiskState
from ledger.errors import InputError
from ledger.storage.incremental import MAGIC, load, verifier_from_json, verifier_to_json
from test_incremental import _same, _scoring_raws

OLD_MAGIC = b"violence-scoring-ledger/verifier-state/v3"
OLD_LAYOUT = b"blocks/pickle-5/incident:seq,digest,date,precision,first,last,kind,sources,publishers,victims,attributions"


class _Trap:
    """Unpickling this creates ``path`` (what a hostile state file would do)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return open, (str(self.path), "w")


@pytest.fixture
def ledger(tmp_path) -> tuple[Path, list[bytes]]:
    raws = _scoring_raws().raws
    bundle = tmp_path / "ledger.jsonl"
    bundle.write_bytes(bundle_of(raws))
    return bundle, raws


def _saved(bundle: Path, state: Path) -> None:
    report = verify_path(bundle, state=state)
    assert report.ok and state.exists()


def _set_meta(state: Path, **values: bytes) -> None:
    db = sqlite3.connect(state)
    with db:
        for key, value in values.items():
            db.execute("INSERT OR REPLACE INTO meta VALUES(?,?)", (key, value))
    db.close()


@pytest.mark.parametrize("magic, layout", [(MAGIC, LAYOUT), (OLD_MAGIC, OLD_LAYOUT)], ids=["current", "v3"])
def test_a_pickled_verifier_is_never_unpickled(ledger, tmp_path, magic, layout):
    bundle, _ = ledger
    state, marker = tmp_path / "state", tmp_path / "pwned"
    _saved(bundle, state)
    _set_meta(state, magic=magic, layout=layout, verifier=pickle.dumps(_Trap(marker)))
    assert load(state) is None
    report = verify_path(bundle, state=state)  # a full run, which replaces the file
    assert not marker.exists()
    assert report.ok and report.resumed_from == 0
    _same(report, verify_path(bundle))
    assert verify_path(bundle, state=state).resumed_from == report.size  # the new file is usable


def test_the_cli_does_not_run_a_pickled_state_file(ledger, tmp_path):
    bundle, _ = ledger
    state, marker = tmp_path / "state", tmp_path / "pwned"
    _saved(bundle, state)
    _set_meta(state, verifier=pickle.dumps(_Trap(marker)))
    result = run_ledger("verify", bundle, "--state", state)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()


def test_a_pickled_block_of_records_is_refused_with_a_clear_error(ledger, tmp_path):
    bundle, _ = ledger
    state, marker = tmp_path / "state", tmp_path / "pwned"
    _saved(bundle, state)
    db = sqlite3.connect(state)
    with db:
        stored = dict(db.execute("SELECT store, count(*) FROM blocks GROUP BY store").fetchall())
        assert stored["incidents"] >= 1 and stored["statements"] >= 1
        db.execute("UPDATE blocks SET data=?", (pickle.dumps([(_Trap(marker), 1)]),))
    db.close()
    disk = DiskState(str(state))
    try:
        with pytest.raises(InputError, match="state file: a block of incidents is not MessagePack"):
            list(disk.incidents.values())
        key = db_first_statement_key(state)
        with pytest.raises(InputError, match="state file: a block of statement digests"):
            disk.statements.get(key)
    finally:
        disk.close()
    assert not marker.exists()


def db_first_statement_key(state: Path) -> bytes:
    db = sqlite3.connect(state)
    try:
        return db.execute("SELECT first FROM blocks WHERE store='statements' ORDER BY first LIMIT 1").fetchone()[0]
    finally:
        db.close()


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_truncated_state_file_means_a_full_run(ledger, tmp_path, cut):
    bundle, _ = ledger
    state = tmp_path / "state"
    _saved(bundle, state)
    data = state.read_bytes()
    state.write_bytes(data[:int(len(data) * cut)])
    report = verify_path(bundle, state=state)
    assert report.ok and report.resumed_from == 0
    _same(report, verify_path(bundle))


def _verifier_json(state: Path) -> dict:
    db = sqlite3.connect(state)
    try:
        return orjson.loads(db.execute("SELECT value FROM meta WHERE key='verifier'").fetchone()[0])
    finally:
        db.close()


def _garbled(obj: dict) -> list[tuple[str, object]]:
    """(what, a changed copy of the saved verifier JSON) for each kind of damage."""
    out: list[tuple[str, object]] = [("a list", [obj]), ("a member too many", {**obj, "extra": 1}),
                                     ("a float size", {**obj, "size": float(obj["size"])}),
                                     ("a short head", {**obj, "head": obj["head"][:10]}),
                                     ("a policy without keys", {**obj, "policy": {"version": 1}})]
    scoring = obj["scoring"]
    assert scoring["orgs"] and scoring["rounds"] and scoring["rules"] and scoring["disputes"]
    out.append(("an organization of 7 members", {**obj, "scoring": {**scoring, "orgs": [scoring["orgs"][0][:7]]}}))
    out.append(("a round number as text", {**obj, "scoring": {**scoring, "rounds": [["1", *scoring["rounds"][0][1:]]]}}))
    out.append(("rules that are not rules", {**obj, "scoring": {**scoring, "rules": [[scoring["rules"][0][0], 1, {}]]}}))
    out.append(("a missing member", {k: v for k, v in obj.items() if k != "revoked"}))
    return out


def test_a_garbled_verifier_is_refused_and_means_a_full_run(ledger, tmp_path):
    bundle, _ = ledger
    state = tmp_path / "state"
    _saved(bundle, state)
    saved = state.read_bytes()
    obj = _verifier_json(state)
    disk = DiskState()
    try:
        for what, bad in _garbled(obj):
            with pytest.raises(InputError, match="state file"):
                verifier_from_json(orjson.dumps(bad), disk)
        with pytest.raises(InputError, match="not strict JSON"):
            verifier_from_json(b'{"size": 1.5}', disk)
        with pytest.raises(InputError, match="not strict JSON"):
            verifier_from_json(orjson.dumps(obj)[:-1], disk)
    finally:
        disk.close()
    for what, bad in _garbled(obj):
        state.write_bytes(saved)
        _set_meta(state, verifier=orjson.dumps(bad))
        assert load(state) is None, what
        report = verify_path(bundle, state=state)
        assert report.ok and report.resumed_from == 0, what


def test_the_saved_verifier_reads_back_to_the_same_state(ledger, tmp_path):
    bundle, raws = ledger
    state = tmp_path / "state"
    _saved(bundle, state)
    loaded = load(state)
    assert loaded is not None
    size, _, verifier, disk = loaded
    try:
        assert size == len(raws)
        data = disk.get_meta("verifier")
        assert data is not None and verifier_to_json(verifier) == data
    finally:
        disk.close()


def test_a_state_file_of_the_previous_format_is_not_used(ledger, tmp_path):
    bundle, _ = ledger
    state = tmp_path / "state"
    _saved(bundle, state)
    _set_meta(state, magic=OLD_MAGIC)
    assert load(state) is None
    _set_meta(state, magic=MAGIC, layout=OLD_LAYOUT)
    assert load(state) is None
    assert verify_path(bundle, state=state).resumed_from == 0


def test_a_damaged_block_met_while_resuming_is_an_input_error(tmp_path):
    # Saved before the round.decide, whose replay reads every incident block.
    raws = _scoring_raws().raws
    decide = 17
    bundle, state, marker = tmp_path / "ledger.jsonl", tmp_path / "state", tmp_path / "pwned"
    bundle.write_bytes(bundle_of(raws[:decide]))
    _saved(bundle, state)
    db = sqlite3.connect(state)
    with db:
        assert db.execute("UPDATE blocks SET data=? WHERE store='incidents'",
                          (pickle.dumps([("a-1", _Trap(marker))]),)).rowcount >= 1
    db.close()
    bundle.write_bytes(bundle_of(raws))
    result = run_ledger("verify", bundle, "--state", state)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "state file: a block of incidents is not MessagePack" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not marker.exists()
    with pytest.raises(InputError):
        verify_path(bundle, state=state)
    state.unlink()  # what the message asks for: then a full run
    assert verify_path(bundle, state=state).ok


def test_an_incident_block_of_another_shape_is_refused():
    import msgpack

    from ledger.storage.diskstate import INCIDENT_CODEC
    from ledger.scoring.state import Version

    version = Version(3, bytes(32), "2026-01-02", "day", "2026-01-02", "2026-01-02", "killing", 2, 2,
                      (("police", 1, 2, 3),), (("alpha", "claimed", "high"),))
    good = [("a-1", ((9, "hoax"), [version]))]
    assert INCIDENT_CODEC.decode(INCIDENT_CODEC.encode(good)) == good
    v = list(version)
    bad = {
        "a version of 10 members": ["a-1", None, [v[:10]]],
        "a seq as text": ["a-1", None, [["3", *v[1:]]]],
        "a count as text": ["a-1", None, [[*v[:9], [["police", "1", 2, 3]], v[10]]]],
        "a float count": ["a-1", None, [[*v[:9], [["police", 1.0, 2, 3]], v[10]]]],
        "an attribution of 2": ["a-1", None, [[*v[:10], [["alpha", "claimed"]]]]],
        "a digest as text": ["a-1", None, [[v[0], "00" * 32, *v[2:]]]],
        "a short digest": ["a-1", None, [[v[0], b"\0" * 31, *v[2:]]]],
        "victims as a map": ["a-1", None, [[*v[:9], {"police": 1}, v[10]]]],
        "an extension type": ["a-1", None, [msgpack.ExtType(1, b"x")]],
        "no versions": ["a-1", None, []],
        "a retraction of 3": ["a-1", [9, "hoax", 1], [v]],
        "an id as a number": [1, None, [v]],
    }
    for what, item in bad.items():
        with pytest.raises(InputError, match="state file"):
            INCIDENT_CODEC.decode(msgpack.packb([item]))
            pytest.fail(what)
    for data in (b"", msgpack.packb([]), msgpack.packb({}), msgpack.packb([1]), b"\xc1", msgpack.packb([v]) + b"x"):
        with pytest.raises(InputError, match="state file"):
            INCIDENT_CODEC.decode(data)


def test_the_demo_ledger_resumes_from_every_part_of_its_history(tmp_path):
    # The demo holds every kind of scoring state (lineage, estimates, identities, several
    # rules versions and rounds, a dismantled target, notices): each is saved and read back.
    from ledger.storage.store import LedgerStore
    from people_fixtures import build_demo

    db = build_demo(tmp_path / "demo")
    with LedgerStore.open(db, readonly=True) as store:
        raws = list(store.iter_raw())
    bundle = tmp_path / "demo.jsonl"
    bundle.write_bytes(bundle_of(raws))
    full = verify_path(bundle)
    resumed_cuts = 0
    for cut in sorted({len(raws) // 4, len(raws) // 2, 3 * len(raws) // 4, len(raws) - 1}):
        state = tmp_path / f"state-{cut}"
        bundle.write_bytes(bundle_of(raws[:cut]))
        if not verify_path(bundle, state=state).ok:
            continue  # a cut inside a round that the rest completes: nothing saved
        loaded = load(state)
        assert loaded is not None
        try:
            assert verifier_to_json(loaded[2]) == loaded[3].get_meta("verifier")
        finally:
            loaded[3].close()
        bundle.write_bytes(bundle_of(raws))
        resumed = verify_path(bundle, state=state)
        assert resumed.resumed_from == cut
        _same(resumed, full)
        resumed_cuts += 1
    assert resumed_cuts >= 3
