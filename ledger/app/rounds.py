"""A verified ledger's scoring state: what ``replay``, ``explain``, ``rounds`` and the
statement-creation commands read (SPEC.md sections 10-12)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.policy import Policy
from ..scoring.process import ScoringProcess, round_notices, scoring_process
from ..scoring.replay import RankingDocument, decision_verdict
from ..scoring.state import Incident, ScoringState, Version
from .load import Loaded

#: ``rounds``' wording of each :func:`ledger.scoring.replay.decision_verdict`.
ROUND_CHECKS = {"pending": "pending", "matches": "replay matches", "deviation_justified": "deviation (justified)", "mismatch": "MISMATCH"}


@dataclass
class ScoringLedger:
    """A ledger read and verified (:class:`ledger.app.load.Loaded`) and its scoring state."""

    view: Loaded
    process: ScoringProcess

    @classmethod
    def of(cls, view: Loaded) -> ScoringLedger:
        process = scoring_process(view.verifier)
        assert isinstance(process, ScoringProcess)
        return cls(view, process)

    @property
    def state(self) -> ScoringState:
        return self.process.state

    @property
    def violations(self) -> int:
        return self.view.violation_count

    @property
    def ledger_id(self) -> str:
        return self.view.ledger_id or ""

    @property
    def origin(self) -> str | None:
        return self.view.origin

    @property
    def policy(self) -> Policy | None:
        return self.view.policy

    def notices(self, number: int) -> list[dict[str, str]]:
        """Round ``number``'s notices (SPEC.md 11.2: retrospective, organizations left out)."""
        return [{"rule": rule, "message": text} for rule, text in round_notices(self.state.rounds[number], self.state)]

    def verdict(self, number: int, document: RankingDocument | None) -> tuple[str, str]:
        """(kind of :func:`decision_verdict`, the line ``ledger replay`` prints)."""
        round_ = self.state.rounds[number]
        kind = decision_verdict(round_, document)
        if kind == "pending":
            return kind, f"no decision recorded for round {number} yet ({round_.status})"
        decision = round_.decision
        assert decision is not None and document is not None
        named = decision["target"] or "no target"
        if kind == "mismatch":
            return kind, f"DOES NOT MATCH the decision at entry {round_.decide_seq} (decision digest {decision['ranking']})"
        if kind == "deviation_justified":
            return kind, (f"digest matches, but the decision at entry {round_.decide_seq} names {named}, not the rules' selection; "
                          f"justification: {decision['justification']!r}")
        return kind, f"MATCHES the decision at entry {round_.decide_seq} (target: {named})"

    def excluded_for(self, document: dict[str, Any], org: str) -> list[dict[str, Any]]:
        """The exclusions of a ranking ``document`` that concern ``org``: its own, and those of
        incidents with no counted organization that attribute to it."""
        return [item for item in document["excluded"]
                if item["org"] == org or (item["org"] is None and self._attributes(item["incident"], item["seq"], org))]

    def _attributes(self, incident_id: str, seq: int, org: str) -> bool:
        incident = self.state.incidents.get(incident_id)
        return incident is not None and any(a[0] == org for a in version_at(incident, seq).attributions)


def version_at(incident: Incident, seq: int) -> Version:
    """The version of ``incident`` a ranking counted at entry ``seq`` (else its current one)."""
    return incident.version_at(seq) or incident.current
