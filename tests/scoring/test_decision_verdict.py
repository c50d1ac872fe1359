"""One verdict of a round's decision (issue 14): ledger.scoring.replay.decision_verdict is
what ``replay``, ``rounds`` and the report print, and agrees with the admission check."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from people_fixtures import build_demo


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("verdict") / "demo")


def test_every_view_of_a_round_uses_the_one_verdict(demo_db: Path) -> None:
    from ledger.app.load import open_ledger
    from ledger.app.rounds import ScoringLedger
    from ledger.app.snapshot import load
    from ledger.scoring.replay import decision_verdict, replay

    snapshot, scored = load(demo_db), ScoringLedger.of(open_ledger(str(demo_db)))
    kinds = {}
    for number, round_ in sorted(scored.state.rounds.items()):
        document = replay(scored.state, number) if round_.decision is not None else None
        kind = decision_verdict(round_, document)
        assert snapshot.verdict(number)[0] == kind
        assert scored.verdict(number, document)[0] == kind
        if round_.decision is not None:  # the verifier's own classification when it admitted the decision
            assert kind == round_.decision_status
        kinds[number] = kind
    assert kinds and set(kinds.values()) == {"matches"}, kinds  # the demo's panel follows the rules


def test_a_changed_decision_changes_the_verdict(demo_db: Path) -> None:
    from ledger.app.load import open_ledger
    from ledger.app.rounds import ScoringLedger
    from ledger.scoring.replay import decision_verdict, replay

    scored = ScoringLedger.of(open_ledger(str(demo_db)))
    number, round_ = next((n, r) for n, r in sorted(scored.state.rounds.items()) if r.decision is not None)
    document = replay(scored.state, number)
    assert decision_verdict(round_, document) != "mismatch"
    other = dataclasses.replace(round_, decision=dict(round_.decision, ranking="0" * 64))
    assert decision_verdict(other, document) == "mismatch"
    other = dataclasses.replace(round_, decision=dict(round_.decision, target="not-the-rules-selection"))
    assert decision_verdict(other, document) == "deviation_justified"
    assert decision_verdict(dataclasses.replace(round_, decision=None), None) == "pending"
