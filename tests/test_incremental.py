"""Incremental verification from a saved verifier state (SPEC.md 9, ledger.incremental)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core_fixtures import OPERATOR, bundle_of, run_ledger, standard_chain
from ledger.audit import verify_path
from ledger.incremental import verify_incremental
from ledger.store import LedgerStore


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
    assert verify_incremental(db, state).ok
    with LedgerStore.open(db, readonly=True) as store:
        raws = list(store.iter_raw())
    tampered = tmp_path / "tampered.jsonl"
    forged = raws[1].replace(b'"name":"', b'"name":"X', 1)
    tampered.write_bytes(bundle_of([raws[0], forged] + raws[2:]))
    report = verify_incremental(tampered, state)
    assert report.resumed_from == 0 and not report.ok
    _same(report, verify_path(tampered))


def test_a_truncated_ledger_or_another_ledger_is_not_resumed(chain, db, tmp_path):
    state = tmp_path / "state"
    assert verify_incremental(db, state).ok
    with LedgerStore.open(db, readonly=True) as store:
        raws = list(store.iter_raw())
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
    assert state.read_bytes().startswith(b"violence-scoring-ledger/verifier-state/v1\n")


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
