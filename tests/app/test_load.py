"""The one loader (ledger.app.load, issue 14): every command's "verify this path and give me
its state", resuming from a verifier state file (SPEC.md 9) for any caller, and the typed
refusal of a ledger that fails verification."""

from __future__ import annotations

from pathlib import Path

import pytest
from scoring_fixtures import MiniLedger, one_round, src

from ledger.app.load import open_ledger, verify_path
from ledger.errors import LedgerRefused
from ledger.scoring import authoring as A
from ledger.scoring.replay import replay


def _bundle(path: Path, ledger: MiniLedger) -> Path:
    path.write_bytes(b"".join(raw + b"\n" for raw in ledger.raws))
    return path


def _with_violation() -> MiniLedger:
    """A decided round, then an incident signed (with a real key) by a panel member, who has
    no recorder role: R-7.12 (and R-7.13, no recorder signed) at the last entry."""
    ledger = one_round()
    body = A.incident("x-1", "2026-01-10", "killing", victims=[A.victim("ordinary_citizen", 1)],
                      attributions=[A.attribution("alpha")], sources=[src("a"), src("b")])
    assert {v.rule for v in ledger.add("incident.record", body, signers=["p1"], force=True)} == {"R-7.12", "R-7.13"}
    return ledger


def test_a_state_file_resumes_the_scoring_state_any_command_reads(tmp_path):
    ledger = one_round()
    bundle, state = _bundle(tmp_path / "b.jsonl", ledger), tmp_path / "state"
    with open_ledger(bundle) as full:
        expected = replay(full.scoring_state(), 1).digest
        assert full.name == "test ledger"
    with open_ledger(bundle, state=state) as first:
        assert (first.report.resumed_from, first.report.new_entries) == (0, len(ledger.raws))
        assert not state.exists()  # a fresh state file replaces the old one when closed
    assert state.exists()
    with open_ledger(bundle, state=state) as resumed:  # nothing verified again
        assert (resumed.report.resumed_from, resumed.report.new_entries) == (len(ledger.raws), 0)
        assert replay(resumed.scoring_state(), 1).digest == expected
        assert resumed.name == "test ledger"  # from the genesis entry, whose digest is the ledger id
    ledger.orgs("delta")
    _bundle(bundle, ledger)
    with open_ledger(bundle, state=state) as grown:
        assert (grown.report.resumed_from, grown.report.new_entries) == (len(ledger.raws) - 1, 1)
        assert "delta" in grown.scoring_state().orgs
    assert verify_path(bundle, state=state).resumed_from == len(ledger.raws)  # saved by the last run


def test_a_ledger_with_violations_is_refused_with_them_and_no_state_is_saved(tmp_path):
    ledger = _with_violation()
    bundle, state = _bundle(tmp_path / "bad.jsonl", ledger), tmp_path / "state"
    with open_ledger(bundle, state=state) as loaded:
        assert loaded.violation_count == 2
        with pytest.raises(LedgerRefused) as refused:
            loaded.refuse_if_invalid("refusing to write")
    last = len(ledger.raws) - 1
    assert [(v.seq, v.rule) for v in refused.value.violations] == [(last, "R-7.12"), (last, "R-7.13")]
    assert refused.value.count == 2
    assert str(refused.value).startswith(f"the ledger at {bundle} fails verification (2 violation(s), first: entry {last}: ")
    assert str(refused.value).endswith(": refusing to write")
    assert not state.exists()  # only a run in which every entry passed is saved
    with open_ledger(_bundle(tmp_path / "good.jsonl", one_round())) as clean:
        clean.refuse_if_invalid("never raised")


def test_jobs_and_watch_are_options_of_the_one_loop(tmp_path):
    ledger = _with_violation()
    bundle = _bundle(tmp_path / "b.jsonl", ledger)
    seen: list[tuple[int, int]] = []
    with open_ledger(bundle, jobs=2, watch=lambda v, raw, found: seen.append((v.size - 1, len(found)))) as loaded:
        report = loaded.report
    assert seen == [(seq, 2 if seq == len(ledger.raws) - 1 else 0) for seq in range(len(ledger.raws))]
    assert report.to_json() == verify_path(bundle).to_json()
