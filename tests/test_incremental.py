"""Incremental verification from a saved verifier state (SPEC.md 9, ledger.incremental)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core_fixtures import OPERATOR, bundle_of, run_ledger, standard_chain
from ledger.audit import verify_path
from ledger.incremental import load, verify_incremental
from ledger.scoring import authoring as A
from ledger.store import LedgerStore
from scoring_fixtures import TWO_SOURCES, one_round, src


@pytest.fixture(scope="module")
def chain():
    return standard_chain("incremental")


@pytest.fixture
def db(chain, tmp_path_factory) -> Path:
    return chain.to_store(tmp_path_factory.mktemp("inc") / "ledger.db")


def _same(a, b) -> None:
    assert {**a.to_json(), "path": None} == {**b.to_json(), "path": None}


def _append_orgs(chain, db: Path, names: list[str]) -> None:
    with LedgerStore.open(db) as store:
        for name in names:
            statement = chain.org(name)
            store.append(statement, chain.sign(statement, ["recorder-1"]), chain.keys[OPERATOR])


def _verified_raws(db: Path, state: Path) -> list[bytes]:
    """Verify ``db`` saving ``state``; the ledger's entries."""
    assert verify_incremental(db, state).ok
    with LedgerStore.open(db, readonly=True) as store:
        return list(store.iter_raw())


def test_resumes_and_verifies_only_new_entries(chain, db, tmp_path):
    state = tmp_path / "state"
    first = verify_incremental(db, state)
    assert first.ok and first.resumed_from == 0 and state.exists()
    assert state.stat().st_mode & 0o777 == 0o600
    size = first.size
    _append_orgs(chain, db, ["new-1", "new-2", "new-3"])
    second = verify_incremental(db, state)
    assert second.ok and second.resumed_from == size and second.new_entries == 3
    _same(second, verify_path(db))
    third = verify_incremental(db, state)  # nothing new
    assert third.resumed_from == size + 3 and third.new_entries == 0
    _same(third, verify_path(db))


def test_a_rewritten_prefix_is_not_trusted(chain, db, tmp_path):
    state = tmp_path / "state"
    raws = _verified_raws(db, state)
    tampered = tmp_path / "tampered.jsonl"
    forged = raws[1].replace(b'"name":"', b'"name":"X', 1)
    tampered.write_bytes(bundle_of([raws[0], forged] + raws[2:]))
    report = verify_incremental(tampered, state)
    assert report.resumed_from == 0 and not report.ok
    _same(report, verify_path(tampered))


def test_a_truncated_ledger_or_another_ledger_is_not_resumed(chain, db, tmp_path):
    state = tmp_path / "state"
    raws = _verified_raws(db, state)
    short = tmp_path / "short.jsonl"
    short.write_bytes(bundle_of(raws[:-2]))
    report = verify_incremental(short, state)
    assert report.resumed_from == 0 and report.ok and report.size == len(raws) - 2
    other = standard_chain("another")
    other_bundle = tmp_path / "other.jsonl"
    other_bundle.write_bytes(bundle_of(other.raws))
    report = verify_incremental(other_bundle, tmp_path / "state2")
    assert report.resumed_from == 0


def test_garbage_state_file_is_ignored(db, tmp_path):
    state = tmp_path / "state"
    state.write_bytes(b"not a state file")
    report = verify_incremental(db, state)
    assert report.ok and report.resumed_from == 0
    loaded = load(state)
    assert loaded is not None
    loaded[3].close()


def test_no_state_is_saved_for_a_ledger_with_violations(db, tmp_path):
    with LedgerStore.open(db, readonly=True) as store:
        raws = list(store.iter_raw())
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(bundle_of(raws[:2] + raws[3:]))
    state = tmp_path / "state"
    report = verify_incremental(bad, state)
    assert not report.ok and not state.exists()


def test_cli_state_option(chain, db, tmp_path):
    state = tmp_path / "state"
    result = run_ledger("verify", db, "--state", state)
    assert result.returncode == 0, result.stderr
    _append_orgs(chain, db, ["cli-1"])
    again = run_ledger("verify", db, "--state", state, "--json")
    assert again.returncode == 0, again.stderr
    usage = run_ledger("verify", db, "--state", state, "--jobs", "2")
    assert usage.returncode == 2 and "cannot be combined" in usage.stderr
    copy = tmp_path / "copy.db"
    shutil.copyfile(db, copy)
    assert run_ledger("verify", copy, "--state", state).returncode == 0


def _scoring_raws():
    m = one_round()
    body = A.incident("a-1", "2026-01-10", "killing", victims=[A.victim("police", 4)],
                      attributions=[A.attribution("beta")], sources=TWO_SOURCES)
    m.add("incident.amend", {"incident": body, "reason": "new facts"})
    m.add("incident.retract", {"incident_id": "a-2", "reason": "hoax"})
    m.add("attribution.dispute", {"dispute_id": "d1", "incident_id": "a-3", "org": "alpha", "basis": "false_flag",
                                  "raised_by": "journalist", "grounds": "g", "sources": [src("y")]})
    return m


def test_resuming_in_the_middle_of_the_scoring_process_equals_a_full_run(tmp_path):
    m = _scoring_raws()
    for cut in (3, 9, len(m.raws) - 2):  # before the round, inside it, before the amendments
        state, bundle = tmp_path / f"state-{cut}", tmp_path / f"ledger-{cut}.jsonl"
        bundle.write_bytes(bundle_of(m.raws[:cut]))
        assert verify_incremental(bundle, state).ok
        bundle.write_bytes(bundle_of(m.raws))
        resumed = verify_incremental(bundle, state)
        assert resumed.resumed_from == cut and resumed.new_entries == len(m.raws) - cut
        _same(resumed, verify_path(bundle))
    # The state on disk knows the retraction recorded before the cut: amending the retracted
    # incident after resuming is, as in a full run.
    state, bundle = tmp_path / "state-all", tmp_path / "all.jsonl"
    bundle.write_bytes(bundle_of(m.raws))
    assert verify_incremental(bundle, state).ok
    body = A.incident("a-2", "2026-01-10", "killing", victims=[A.victim("police", 1)],
                      attributions=[A.attribution("alpha")], sources=TWO_SOURCES)
    assert {v.rule for v in m.add("incident.amend", {"incident": body, "reason": "x"}, force=True)} == {"R-10.5"}
    bundle.write_bytes(bundle_of(m.raws))
    resumed = verify_incremental(bundle, state)
    assert resumed.resumed_from == len(m.raws) - 1 and {v.rule for v in resumed.violations} == {"R-10.5"}
    _same(resumed, verify_path(bundle))


def test_new_entries_with_violations_leave_the_state_as_it_was(tmp_path):
    m = _scoring_raws()
    state, bundle = tmp_path / "state", tmp_path / "ledger.jsonl"
    cut = len(m.raws) - 3
    bundle.write_bytes(bundle_of(m.raws[:cut]))
    assert verify_incremental(bundle, state).ok
    bad = m.raws + [m.raws[-1]]  # the last entry twice
    bundle.write_bytes(bundle_of(bad))
    report = verify_incremental(bundle, state)
    assert report.resumed_from == cut and not report.ok
    _same(report, verify_path(bundle))
    bundle.write_bytes(bundle_of(m.raws))
    report = verify_incremental(bundle, state)  # still resumes from the last clean run
    assert report.ok and report.resumed_from == cut
    _same(report, verify_path(bundle))


# -- appends that resume from a state file (LedgerStore.open(..., state=), ledger append --state)

def _state_size(state: Path) -> int:
    loaded = load(state)
    assert loaded is not None
    loaded[3].close()
    return loaded[0]


def _append_org(chain, db: Path, name: str, state: Path | None) -> int:
    """Append one organization through a store opened with ``state``; its resumed_from."""
    with LedgerStore.open(db, state=state) as store:
        statement = chain.org(name)
        store.append(statement, chain.sign(statement, ["recorder-1"]), chain.keys[OPERATOR])
        return store.resumed_from


def test_appends_resume_from_the_state_and_keep_it_current(chain, db, tmp_path):
    state = tmp_path / "append.state"
    size = verify_path(db).size
    assert _append_org(chain, db, "s-1", state) == 0  # no state yet: verified in full, then saved
    assert _state_size(state) == size + 1
    assert _append_org(chain, db, "s-2", state) == size + 1  # resumed: the prefix was not verified again
    assert _state_size(state) == size + 2
    report = verify_incremental(db, state)  # the same file serves `ledger verify --state`
    assert report.ok and report.resumed_from == size + 2 and report.new_entries == 0
    _same(report, verify_path(db))


def test_a_state_behind_the_ledger_is_caught_up(chain, db, tmp_path):
    state = tmp_path / "append.state"
    _append_org(chain, db, "b-1", state)
    _append_orgs(chain, db, ["b-2", "b-3"])  # appended without the state: it is now behind
    assert _append_org(chain, db, "b-4", state) == verify_path(db).size - 3
    assert _state_size(state) == verify_path(db).size


def test_a_state_for_a_rewritten_ledger_is_not_trusted_and_the_append_is_refused(chain, db, tmp_path):
    state = tmp_path / "append.state"
    _append_org(chain, db, "r-1", state)
    import sqlite3
    conn = sqlite3.connect(db)
    raw = conn.execute("SELECT raw FROM entries WHERE seq = 1").fetchone()[0]
    conn.execute("UPDATE entries SET raw = ? WHERE seq = 1", (bytes(raw).replace(b'"name":"', b'"name":"X', 1),))
    conn.commit()
    conn.close()
    with pytest.raises(Exception, match="stored ledger fails verification"):
        _append_org(chain, db, "r-2", state)
    assert _state_size(state) == verify_path(db).size  # the state still describes the prefix as it was
    assert not verify_path(db).ok


def test_a_refused_append_leaves_the_state_as_it_was(chain, db, tmp_path):
    state = tmp_path / "append.state"
    _append_org(chain, db, "f-1", state)
    before = state.read_bytes()
    with LedgerStore.open(db, state=state) as store:
        statement = chain.org("f-2")
        with pytest.raises(Exception, match="rejected"):
            store.append(statement, chain.sign(statement, ["outsider"]), chain.keys[OPERATOR])
        good = chain.org("f-3")
        store.append(good, chain.sign(good, ["recorder-1"]), chain.keys[OPERATOR])
    assert state.read_bytes() != before
    assert _state_size(state) == verify_path(db).size
    assert verify_incremental(db, state).ok


def test_cli_append_with_state(chain, db, tmp_path):
    from ledger.keyfiles import write_private_key_file
    from ledger.statement_file import StatementFile

    state = tmp_path / "cli.state"
    key = tmp_path / "operator.key"
    write_private_key_file(key, chain.keys[OPERATOR], None)
    for name in ("c-1", "c-2"):
        document = StatementFile(chain.org(name))
        document.sign(chain.keys["recorder-1"])
        path = tmp_path / f"{name}.json"
        path.write_bytes(document.to_bytes())
        result = run_ledger("append", db, path, "--operator-key", key, "--state", state)
        assert result.returncode == 0, result.stderr
    assert _state_size(state) == verify_path(db).size
