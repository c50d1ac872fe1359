"""Incremental verification from a saved verifier state (SPEC.md 9; ledger.app.load,
ledger.storage.incremental)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core_fixtures import OPERATOR, bundle_of, run_ledger, standard_chain
from ledger.app.load import verify_path
from ledger.errors import InputError
from ledger.storage.incremental import load
from ledger.scoring import authoring as A
from ledger.storage.store import LedgerStore
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
    assert verify_path(db, state=state).ok
    with LedgerStore.open(db, readonly=True) as store:
        return list(store.iter_raw())


def test_resumes_and_verifies_only_new_entries(chain, db, tmp_path):
    state = tmp_path / "state"
    first = verify_path(db, state=state)
    assert first.ok and first.resumed_from == 0 and state.exists()
    assert state.stat().st_mode & 0o777 == 0o600
    size = first.size
    _append_orgs(chain, db, ["new-1", "new-2", "new-3"])
    second = verify_path(db, state=state)
    assert second.ok and second.resumed_from == size and second.new_entries == 3
    _same(second, verify_path(db))
    third = verify_path(db, state=state)  # nothing new
    assert third.resumed_from == size + 3 and third.new_entries == 0
    _same(third, verify_path(db))


def test_a_rewritten_prefix_is_not_trusted(chain, db, tmp_path):
    state = tmp_path / "state"
    raws = _verified_raws(db, state)
    tampered = tmp_path / "tampered.jsonl"
    forged = raws[1].replace(b'"name":"', b'"name":"X', 1)
    tampered.write_bytes(bundle_of([raws[0], forged] + raws[2:]))
    report = verify_path(tampered, state=state)
    assert report.resumed_from == 0 and not report.ok
    _same(report, verify_path(tampered))


def test_a_truncated_ledger_or_another_ledger_is_not_resumed(chain, db, tmp_path):
    state = tmp_path / "state"
    raws = _verified_raws(db, state)
    short = tmp_path / "short.jsonl"
    short.write_bytes(bundle_of(raws[:-2]))
    report = verify_path(short, state=state)
    assert report.resumed_from == 0 and report.ok and report.size == len(raws) - 2
    other = standard_chain("another")
    other_bundle = tmp_path / "other.jsonl"
    other_bundle.write_bytes(bundle_of(other.raws))
    report = verify_path(other_bundle, state=tmp_path / "state2")
    assert report.resumed_from == 0


def test_garbage_state_file_is_ignored(db, tmp_path):
    state = tmp_path / "state"
    state.write_bytes(b"not a state file")
    report = verify_path(db, state=state)
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
    report = verify_path(bad, state=state)
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
        assert verify_path(bundle, state=state).ok
        bundle.write_bytes(bundle_of(m.raws))
        resumed = verify_path(bundle, state=state)
        assert resumed.resumed_from == cut and resumed.new_entries == len(m.raws) - cut
        _same(resumed, verify_path(bundle))
    # The state on disk knows the retraction recorded before the cut: amending the retracted
    # incident after resuming is, as in a full run.
    state, bundle = tmp_path / "state-all", tmp_path / "all.jsonl"
    bundle.write_bytes(bundle_of(m.raws))
    assert verify_path(bundle, state=state).ok
    body = A.incident("a-2", "2026-01-10", "killing", victims=[A.victim("police", 1)],
                      attributions=[A.attribution("alpha")], sources=TWO_SOURCES)
    assert {v.rule for v in m.add("incident.amend", {"incident": body, "reason": "x"}, force=True)} == {"R-10.5"}
    bundle.write_bytes(bundle_of(m.raws))
    resumed = verify_path(bundle, state=state)
    assert resumed.resumed_from == len(m.raws) - 1 and {v.rule for v in resumed.violations} == {"R-10.5"}
    _same(resumed, verify_path(bundle))


def test_new_entries_with_violations_leave_the_state_as_it_was(tmp_path):
    m = _scoring_raws()
    state, bundle = tmp_path / "state", tmp_path / "ledger.jsonl"
    cut = len(m.raws) - 3
    bundle.write_bytes(bundle_of(m.raws[:cut]))
    assert verify_path(bundle, state=state).ok
    bad = m.raws + [m.raws[-1]]  # the last entry twice
    bundle.write_bytes(bundle_of(bad))
    report = verify_path(bundle, state=state)
    assert report.resumed_from == cut and not report.ok
    _same(report, verify_path(bundle))
    bundle.write_bytes(bundle_of(m.raws))
    report = verify_path(bundle, state=state)  # still resumes from the last clean run
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
    report = verify_path(db, state=state)  # the same file serves `ledger verify --state`
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
    assert verify_path(db, state=state).ok


def test_cli_append_with_state(chain, db, tmp_path):
    from ledger.storage.keyfiles import write_private_key_file
    from ledger.core.statement_file import StatementFile

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


# -- anchored to a checkpoint: the prefix is not read again (--since-checkpoint) -------------

def _fork(chain, path: Path, keep: int, orgs: list[str]) -> Path:
    """A store with the chain's first ``keep`` entries, then ``orgs``: the same operator's
    other history, with checkpoints signed by the same key."""
    genesis, rest = chain.items[0], chain.items[1:keep]
    with LedgerStore.create(path, genesis, chain.keys[OPERATOR]) as store:
        for statement, signatures in rest:
            store.append(statement, signatures, chain.keys[OPERATOR])
        for name in orgs:
            statement = chain.org(name)
            store.append(statement, chain.sign(statement, ["recorder-1"]), chain.keys[OPERATOR])
    return path


def _checkpoint_of(db: Path) -> bytes:
    with LedgerStore.open(db, readonly=True) as store:
        latest = store.tree.latest_checkpoint()
    assert latest is not None
    return latest[2]


def test_since_checkpoint_verifies_the_new_entries_against_the_stored_checkpoint(chain, db, tmp_path):
    state = tmp_path / "state"
    size = verify_path(db, state=state).size
    _append_orgs(chain, db, ["anchored-1", "anchored-2"])
    report = verify_path(db, state=state, since_checkpoint=True)
    assert report.ok and report.anchored and report.resumed_from == size and report.new_entries == 2
    assert [(c.size, c.ok, c.consistent) for c in report.checkpoints] == [(size + 2, True, True)]
    full = verify_path(db)
    assert (report.size, report.head, report.ledger_id) == (full.size, full.head, full.ledger_id)
    # the state it saved (no prefix digest: the prefix was not read) resumes both ways
    _append_orgs(chain, db, ["anchored-3"])
    assert verify_path(db, state=state, since_checkpoint=True).resumed_from == size + 2
    _append_orgs(chain, db, ["anchored-4"])
    default = verify_path(db, state=state)  # re-reads the prefix, compares its Merkle root
    assert default.ok and not default.anchored and default.resumed_from == size + 3
    _same(default, verify_path(db))


def test_since_checkpoint_does_not_read_the_prefix_but_the_default_mode_does(chain, db, tmp_path):
    """What the anchor trusts, shown: a bundle whose old entries were altered after the
    state was saved, with the operator's genuine checkpoint. The anchored run reads only
    the new entries (so it does not see the local damage; the checkpoint commits to the
    original bytes), the default run reads everything and does."""
    state = tmp_path / "state"
    raws = _verified_raws(db, state)
    _append_orgs(chain, db, ["later-1"])
    with LedgerStore.open(db, readonly=True) as store:
        grown = list(store.iter_raw())
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(bundle_of([raws[0], raws[1].replace(b'"name":"', b'"name":"X', 1)] + grown[2:]))
    checkpoint = [("cp", _checkpoint_of(db))]
    anchored = verify_path(damaged, state=state, since_checkpoint=True, checkpoints=checkpoint)
    assert anchored.ok and anchored.new_entries == 1
    assert not verify_path(damaged, state=tmp_path / "other-state").ok


def test_since_checkpoint_exposes_a_rewritten_history_signed_by_the_operator(chain, db, tmp_path):
    state = tmp_path / "state"
    size = verify_path(db, state=state).size
    # same length: no new entry to link, only the signed root can tell
    same_length = _fork(chain, tmp_path / "fork-a.db", size - 2, ["fork-1", "fork-2"])
    report = verify_path(same_length, state=state, since_checkpoint=True)
    assert not report.ok and report.new_entries == 0
    assert [v.rule for v in report.violations] == ["R-14.4"]
    # longer: the first new entry does not link to the verified head either
    longer = _fork(chain, tmp_path / "fork-b.db", size - 2, ["fork-1", "fork-2", "fork-3"])
    report = verify_path(longer, state=state, since_checkpoint=True)
    assert {v.rule for v in report.violations} == {"R-7.5", "R-14.4"}
    # the state is left as it was: the genuine ledger still resumes
    _append_orgs(chain, db, ["after-fork"])
    assert verify_path(db, state=state, since_checkpoint=True).ok


def test_since_checkpoint_needs_a_checkpoint_no_older_than_the_state(chain, db, tmp_path):
    state = tmp_path / "state"
    old_checkpoint = _checkpoint_of(db)
    raws = _verified_raws(db, state)
    bundle = tmp_path / "ledger.jsonl"
    _append_orgs(chain, db, ["cp-1"])
    with LedgerStore.open(db, readonly=True) as store:
        bundle.write_bytes(bundle_of(list(store.iter_raw())))
    with pytest.raises(InputError, match="no signed checkpoint"):
        verify_path(bundle, state=state, since_checkpoint=True)
    older = _truncated_checkpoint(chain, tmp_path, len(raws) - 1)
    with pytest.raises(InputError, match="older than the saved state"):
        verify_path(bundle, state=state, since_checkpoint=True, checkpoints=[("old", older)])
    # the checkpoint at exactly the state's size anchors it too (no new entry needed)
    at_state = verify_path(bundle, state=state, since_checkpoint=True,
                                  checkpoints=[("at-state", old_checkpoint), ("cp", _checkpoint_of(db))])
    assert at_state.ok and at_state.anchored and at_state.new_entries == 1
    assert [c.size for c in at_state.checkpoints] == [len(raws), len(raws) + 1]


def _truncated_checkpoint(chain, tmp_path: Path, size: int) -> bytes:
    """A genuine checkpoint of the chain's first ``size`` entries."""
    return _checkpoint_of(_fork(chain, tmp_path / f"first-{size}.db", size, []))


def test_cli_since_checkpoint(chain, db, tmp_path):
    state = tmp_path / "state"
    assert run_ledger("verify", db, "--state", state).returncode == 0
    _append_orgs(chain, db, ["cli-anchored"])
    result = run_ledger("verify", db, "--state", state, "--since-checkpoint")
    assert result.returncode == 0, result.stderr
    assert "consistent with the ledger" in result.stdout and "OK:" in result.stdout
    usage = run_ledger("verify", db, "--since-checkpoint")
    assert usage.returncode == 2 and "--since-checkpoint needs --state" in usage.stderr
