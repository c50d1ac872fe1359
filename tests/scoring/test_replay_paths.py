"""The replay's fast paths give exactly the bytes of the plain definitions.

* the ranking document's bytes are spliced from canonical item bytes: they must be
  ``canonical.encode(document)``, from memory and from disk, for every kind of exclusion,
  multi-victim incidents, amendments, disputes and rule variants;
* the disk store's block-wise merge of overlapping runs must read like a dict (newest
  value wins, ascending keys);
* identifiers written without the general encoder must be written as it writes them.
"""

from __future__ import annotations

import gc
import hashlib
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core import canonical
from ledger.storage.diskstate import DiskState, _merged_blocks, attach
from ledger.scoring import authoring as A
from ledger.scoring.process import scoring_process
from ledger.scoring.replay import ReplayError, _json_text, replay, write_document
from ledger.scoring.state import MemoryIncidents, ScoringState
from ledger.scoring.process import new_verifier

from scoring_fixtures import TWO_SOURCES, MiniLedger, src

TINY = {"buffer": 3, "block": 2, "bloom_bits": 64}


def varied_ledger(disputes: bool = True) -> MiniLedger:
    """One round with every exclusion reason, several victims and attributions per
    incident, an amendment, disputes (upheld and open; unless ``disputes`` is False) and a
    late incident."""
    m = MiniLedger()
    m.orgs("alpha", "beta", "gamma")
    first = m.adopt(1, contested={"mode": "discount", "factor": "0.5"}, joint="split")
    m.add("estimate.record", {"org_id": "alpha", "metric": "revenue_usd", "period_start": "2025-01-01",
                              "period_end": "2025-12-31", "low": "1", "best": "2", "high": "3", "sources": [src("x")]})
    m.orgs("alpha-2")
    m.add("org.identify", {"org_id": "alpha-2", "same_as": "alpha", "justification": "one organization"})
    m.incident("early", "2026-01-03", "beta")  # recorded before the open: recorded_before_open
    m.open(1, first, ["alpha", "beta"], left_out={"gamma": "a ceasefire"})
    m.incident("twin", "2026-01-04", ["alpha", "alpha-2", "beta"])  # same_organization
    for i in range(14):
        orgs = [["alpha"], ["beta"], ["alpha", "beta"], ["gamma"], ["alpha", "gamma", "beta"]][i % 5]
        m.incident(f"i-{i:02d}", f"2026-01-{i + 2:02d}", orgs, killed=i % 4)
    body = A.incident("multi", "2026-01-12", "killing",
                      victims=[A.victim("police", 2), A.victim("journalist", 1), A.victim("ordinary_citizen", 3)],
                      attributions=[A.attribution("alpha", "forensic", "high"), A.attribution("beta", "claim", "low")],
                      sources=TWO_SOURCES)
    m.add("incident.record", body)
    m.incident("week", "2026-01-27", "alpha", date_precision="week")
    m.incident("month", "2026-01-01", "beta", date_precision="month")
    m.incident("one-source", "2026-01-10", "gamma", sources=TWO_SOURCES[:1])
    m.incident("nobody", "2026-01-10", None)
    m.incident("outside", "2026-03-10", "alpha")
    amended = A.incident("i-01", "2026-01-20", "kidnapping", victims=[A.victim("police", 3), A.victim("unknown", 2)],
                         attributions=[A.attribution("gamma"), A.attribution("alpha")], sources=TWO_SOURCES)
    m.add("incident.amend", {"incident": amended, "reason": "new facts"})
    m.add("incident.retract", {"incident_id": "i-05", "reason": "hoax"})
    for dispute, incident, org in (("d1", "i-02", "alpha"), ("d2", "i-06", "beta"), ("d3", "multi", "alpha"))[:3 * disputes]:
        m.add("attribution.dispute", {"dispute_id": dispute, "incident_id": incident, "org": org, "basis": "other",
                                      "raised_by": "panel", "grounds": "g", "sources": [src("y")]})
    if disputes:
        m.add("dispute.resolve", {"dispute_id": "d1", "outcome": "upheld", "justification": "ballistics"})
    m.close(1, "2026-02-01")
    m.incident("late", "2026-01-15", "beta")  # recorded after the close
    m.decide(1)
    m.adopt(2, contested={"mode": "exclude", "factor": "0.5"}, joint="full")  # replayed with rules_digest
    return m


def _disk_state(m: MiniLedger, disk: DiskState) -> ScoringState:
    verifier = attach(new_verifier(), disk)
    for raw in m.raws:
        verifier.feed(raw)
    verifier.finish()
    return scoring_process(verifier).state


@pytest.mark.parametrize("sizes", [TINY, {}])
def test_the_document_bytes_are_its_canonical_encoding(sizes):
    m = varied_ledger()
    memory = m.state
    disk = DiskState(**sizes)
    try:
        on_disk = _disk_state(m, disk)
        reasons = set()
        for digest in memory.rules_versions:
            whole = replay(memory, 1, rules_digest=digest)
            assert whole.raw == canonical.encode(whole.document)
            assert whole.digest == hashlib.sha256(whole.raw).hexdigest()
            assert replay(on_disk, 1, rules_digest=digest).raw == whole.raw
            for source in (memory, on_disk):
                streamed = replay(source, 1, rules_digest=digest, digest_only=True)
                assert streamed.digest == whole.digest and streamed.raw is None
            reasons |= {e["reason"] for e in whole.document["excluded"]}
            assert whole.document["counts"]["exclusions"] == len(whole.document["excluded"])
        assert reasons >= {"recorded_after_close", "superseded", "outside_window", "retracted", "too_few_sources",
                           "unattributed", "ineligible_org", "dispute_upheld", "contested", "recorded_before_open",
                           "same_organization"}
        assert memory.rounds[1].decision["ranking"] == replay(memory, 1).digest
    finally:
        disk.close()


def test_the_documents_items_keep_their_member_order():
    # Callers that print the document as it is (json.dumps without sorting) see the
    # members in the order SPEC.md 12.9 lists them.
    document = replay(varied_ledger().state, 1).document
    row = next(r for r in document["ranking"] if r["incidents"])
    assert list(row["incidents"][0]) == ["incident", "seq", "statement", "contribution", "exact"]
    assert list(document["excluded"][0]) == ["incident", "seq", "reason", "org"]
    assert json.loads(canonical.encode(document)) == document


class _ValuesOnly:
    """An incident index with only the protocol's methods (no ``records``)."""

    def __init__(self, inner: MemoryIncidents) -> None:
        self.inner = inner

    def values(self):
        return self.inner.values()

    def __len__(self) -> int:
        return len(self.inner)


def test_an_index_without_records_is_read_through_values():
    state = varied_ledger().state
    expected = replay(state, 1)
    assert [(k, v) for k, v in state.incidents.records()] == [
        (i.incident_id, (i.retracted, i.versions)) for i in state.incidents.values()]
    state.incidents = _ValuesOnly(state.incidents)
    assert replay(state, 1).raw == expected.raw
    assert replay(state, 1, digest_only=True).digest == expected.digest


def test_the_collector_is_left_as_it_was():
    state = varied_ledger().state
    assert gc.isenabled()
    replay(state, 1)
    replay(state, 1, digest_only=True)
    assert gc.isenabled()
    gc.disable()
    try:
        replay(state, 1)
        assert not gc.isenabled()
    finally:
        gc.enable()


def _blocks(records, rng):
    blocks, i = [], 0
    while i < len(records):
        n = rng.choice([0, 1, 1, 2, 3, 5])
        blocks.append(records[i:i + n])
        i += n
    if rng.random() < 0.3:
        blocks.append([])
    return iter(blocks)


@pytest.mark.parametrize("seed", range(40))
def test_block_merge_of_runs_reads_like_a_dict(seed):
    rng = random.Random(seed)
    keys = [f"k-{i:03d}" for i in range(rng.choice([3, 30, 200]))]
    model: dict[str, tuple[int, int]] = {}
    runs = []
    for position in range(rng.randrange(1, 7)):  # oldest first
        chosen = sorted(rng.sample(keys, rng.randrange(0, len(keys) + 1)))
        records = [(k, (position, rng.randrange(9))) for k in chosen]
        model.update(records)
        runs.append(records)
    merged = list(_merged_blocks([_blocks(r, rng) for r in runs]))
    assert merged == sorted(model.items())


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_identifier_text_is_the_canonical_encoding(text):
    try:
        expected = canonical.encode(text)
    except Exception as exc:  # a lone surrogate: both refuse it the same way
        with pytest.raises(type(exc)):
            _json_text(text)
        return
    assert _json_text(text) == expected


@pytest.mark.parametrize("sizes", [TINY, None])
def test_written_document_is_the_replayed_bytes(sizes):
    m = varied_ledger()
    disk = DiskState(**sizes) if sizes is not None else None
    try:
        state = _disk_state(m, disk) if disk is not None else m.state  # FileSpool / list spools
        for digest in state.rules_versions:
            pieces: list[bytes] = []
            written = write_document(state, 1, pieces.append, rules_digest=digest)
            whole = replay(state, 1, rules_digest=digest)
            assert b"".join(pieces) == whole.raw and len(pieces) > 3
            assert written.digest == whole.digest and written.selection == whole.selection
        pieces = []
        with pytest.raises(ReplayError):
            write_document(state, 7, pieces.append)
        assert pieces == []
    finally:
        if disk is not None:
            disk.close()


def test_replay_json_prints_the_document_bytes(tmp_path):
    # The real CLI in a subprocess: `ledger replay --json` streams the document; its bytes
    # are the replayed ones and a newline, the exit code is the verdict's.
    from ledger.app.snapshot import load

    ledger = Path(sys.executable).parent / "ledger"
    assert subprocess.run([ledger, "demo", str(tmp_path / "demo")], capture_output=True, timeout=300).returncode == 0
    db = tmp_path / "demo" / "ledger.db"
    state = load(db).state
    for number in sorted(state.rounds):
        result = subprocess.run([ledger, "replay", str(db), "--round", str(number), "--json"], capture_output=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert result.stdout == replay(state, number).raw + b"\n"
    missing = subprocess.run([ledger, "replay", str(db), "--round", "99", "--json"], capture_output=True, timeout=300)
    assert missing.returncode != 0 and missing.stdout == b"" and b"no round 99" in missing.stderr


@pytest.mark.parametrize("count", [0, 1, 5, 30_000])
def test_a_file_spool_joins_its_items_with_commas(count):
    from ledger.storage.diskstate import FileSpool

    rng = random.Random(count)
    items = [b'{"i":%d,"t":"%s"}' % (i, b"x" * rng.randrange(0, 90)) for i in range(count)]
    spool, again = FileSpool(), FileSpool()
    for item in items:
        spool.append(item)
        again.append(item)
    assert len(spool) == len(again) == count
    pieces = list(spool.joined())
    assert b"".join(pieces) == b",".join(items) == b",".join(list(again))
    assert count < 30_000 or len(pieces) > 1  # more than a MiB: several pieces


@pytest.mark.parametrize("disputes", [False, True])
def test_the_usual_incidents_fast_steps_give_the_general_steps_result(disputes, monkeypatch):
    from ledger.scoring import replay as module

    state = varied_ledger(disputes).state
    fast = {d: replay(state, 1, rules_digest=d) for d in state.rules_versions}
    monkeypatch.setattr(module, "_FAST_PATH", False)
    for digest, document in fast.items():
        general = replay(state, 1, rules_digest=digest)
        assert general.raw == document.raw and general.document == document.document
        assert document.document["counts"]["incidents_counted"] > 5
