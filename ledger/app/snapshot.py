"""A ledger read once, verified, and kept for people-facing tools (reports, robustness).

:func:`load` reads a ledger with the one loader of every command (:mod:`ledger.app.load`)
and keeps what reports need besides the scoring state: the display name of every key that
any policy ever named (so that a decision signed by a key that was later rotated still
shows who signed it), the signers and claimed time of panel entries, and the bodies of
progress reports. Nothing here is used to decide whether the ledger is
valid; that is ``ledger verify``'s job.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

from ..core import canonical
from ..core.verify import Verifier, Violation
from ..errors import InputError, LedgerError
from ..scoring.outcomes import OutcomesDocument, outcomes
from ..scoring.process import ScoringProcess, scoring_process
from ..scoring.replay import RankingDocument, decision_verdict, replay
from ..scoring.state import ScoringState
from ..storage.store import open_entries
from .load import Loaded, open_ledger

#: Entry types whose signers, time and body a report shows.
KEPT_TYPES = (
    "rules.adopt", "round.open", "round.close", "round.decide", "target.progress", "target.dismantled",
    "dispute.resolve",
)
_MARKERS = tuple(f'"type":"{t}"'.encode() for t in KEPT_TYPES)
_INCIDENT_MARKERS = (b'"type":"incident.record"', b'"type":"incident.amend"')


@dataclass
class KeptEntry:
    seq: int
    type: str
    time: str
    signers: list[str]  # key ids
    body: dict[str, Any]


@dataclass
class Snapshot:
    path: str
    state: ScoringState
    process: ScoringProcess
    ledger_id: str
    origin: str | None
    size: int
    head: str | None
    violations: list[Violation] = field(default_factory=list)  # the first ones (all are counted)
    violation_count: int = 0
    key_names: dict[str, str] = field(default_factory=dict)
    kept: dict[int, KeptEntry] = field(default_factory=dict)
    witnessed: dict[int, Any] = field(default_factory=dict)  # round -> ledger.app.witnessed.Witnessed of its opening
    _documents: dict[int, RankingDocument] = field(default_factory=dict)
    _outcomes: OutcomesDocument | None = None
    loaded: Loaded | None = field(default=None, repr=False)  # the verified state the scoring state lives in
    places: dict[int, str] = field(default_factory=dict)  # seq -> place key, when loaded with places=True

    def outcomes(self) -> OutcomesDocument:
        """The outcomes document of the whole ledger, by month (SPEC.md 12.12), computed once."""
        if self._outcomes is None:
            self._outcomes = outcomes(self.state)
        return self._outcomes

    def close(self) -> None:
        if self.loaded is not None:
            self.loaded.close()

    def document(self, number: int) -> RankingDocument:
        if number not in self._documents:
            self._documents[number] = replay(self.state, number)
        return self._documents[number]

    def signer_names(self, seq: int) -> list[str]:
        entry = self.kept.get(seq)
        if entry is None:
            return []
        return [self.key_label(k) for k in entry.signers]

    def key_label(self, key_id: str) -> str:
        name = self.key_names.get(key_id)
        return f"{name} ({key_id[:12]})" if name else f"key {key_id[:12]}"

    def verdict(self, number: int) -> tuple[str, str]:
        """("matches" | "deviation_justified" | "mismatch" | "pending", one-line explanation)."""
        round_ = self.state.rounds[number]
        if round_.decision is None:
            return "pending", f"no decision recorded for round {number} yet ({round_.status})"
        kind = decision_verdict(round_, self.document(number))
        decision = round_.decision
        named = decision["target"] or "no target"
        if kind == "mismatch":
            return kind, f"the decision at entry {round_.decide_seq} commits to {decision['ranking']}, not to the replayed ranking {self.document(number).digest}"
        if kind == "deviation_justified":
            return kind, (f"the digest matches, but the decision at entry {round_.decide_seq} names {named} instead of the rules' "
                          f"selection, with the signed justification: {decision['justification']}")
        return "matches", f"the replay matches the decision at entry {round_.decide_seq} (target: {named})"


def load(path: str | os.PathLike[str], progress: Callable[[int], None] | None = None, *,
         places: bool = False) -> Snapshot:
    """Verify and read the ledger at ``path`` with the one loader (:func:`ledger.app.load.open_ledger`),
    watching every entry (a state file cannot be used: the entries it covers would not be
    seen); entries with violations have no effect. The verified state stays open while the
    snapshot is used (:meth:`Snapshot.close`). With ``places``, :attr:`Snapshot.places` maps
    the ``seq`` of every valid incident version to its place key (the robustness analysis
    allocates unattributed incidents by it, SPEC.md 12.10), read in the same single pass."""
    from ..scoring.robustness import place_key

    names: dict[str, str] = {}
    kept: dict[int, KeptEntry] = {}
    where: dict[int, str] = {}
    last: list[Any] = [None]  # the policy whose names were taken last

    def watch(verifier: Verifier, raw: bytes, found: list[Violation]) -> None:
        policy = verifier.context.policy
        if policy is not last[0] and policy is not None:
            last[0] = policy
            names.update({k: v for k, v in policy.names.items() if v})
        if not found and any(marker in raw for marker in _MARKERS):
            entry = canonical.parse(raw)
            statement = entry["statement"]
            seq = verifier.size - 1
            kept[seq] = KeptEntry(seq, statement["type"], statement["time"], [s["key_id"] for s in entry["signatures"]], statement["body"])
        if places and not found and any(marker in raw for marker in _INCIDENT_MARKERS):
            body = canonical.parse(raw)["statement"]["body"]
            where[verifier.size - 1] = place_key(body.get("incident", body)["place"])  # an amend carries the new version

    loaded = open_ledger(path, progress=progress, watch=watch)
    process = scoring_process(loaded.verifier)
    if process is None or not loaded.ledger_id:
        loaded.close()
        raise InputError(f"{path}: no valid genesis entry")
    from .witnessed import witnessed_entries

    opens = {n: r.open_seq for n, r in process.state.rounds.items()}
    return Snapshot(
        path=str(path), state=process.state, process=process, ledger_id=loaded.ledger_id,
        origin=loaded.origin, size=loaded.verifier.size, head=loaded.report.head,
        violations=loaded.violations, violation_count=loaded.violation_count, key_names=names, kept=kept,
        witnessed=witnessed_entries(path, opens, loaded.origin, loaded.policy), loaded=loaded, places=where,
    )
