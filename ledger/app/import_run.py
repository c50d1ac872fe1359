"""One CSV import (SPEC.md 17), in two passes: read and judge every row (nothing is written
when any row has a problem), then sign and append, or for a dry run check, batch by batch."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator

from ..core.keys import SigningKey
from ..core.verify import Verifier
from ..errors import StoreError
from ..scoring.process import scoring_process
from ..storage.store import LedgerStore
from .import_formats import Actors, Context, Format, Places
from .importer import Importer, Problem, check_batch, held_incidents, row_problems, sign_rows, statements_of

Batch = list[tuple[int, str, dict[str, Any]]]


def reason_kind(reason: str) -> str:
    """The kind of a skip reason, for the summary: its words before the first parenthesis."""
    return reason.split(" (")[0].strip() or reason


class ImportRun:
    """An import of ``csv_file`` into ``store`` (whose verifier is ``verifier``): counts by
    action, skip reasons, the incidents the export no longer has, what is planned."""

    def __init__(self, store: LedgerStore, verifier: Verifier, csv_file: Path, fmt: Format | None, release: str | None,
                 mapping: Any, actors_file: Path | None, regions_file: Path | None, skipped_path: Path) -> None:
        process = scoring_process(verifier)
        assert process is not None
        state = process.state
        self.store, self.verifier, self.fmt, self.release, self.skipped_path = store, verifier, fmt, release, skipped_path
        self.held = held_incidents(store.conn.execute(
            "SELECT type, raw FROM entries WHERE type IN ('incident.record', 'incident.amend', 'incident.retract') ORDER BY seq"))
        self.context = Context(fmt.name, release, Actors(state, actors_file), Places(regions_file)) if fmt and release else None
        self.importer = Importer(csv_file, state, self.held, mapping=mapping, fmt=fmt, context=self.context)
        self.reason = f"revised in {fmt.title} {release}"[:200] if fmt and release else ""
        self.counts: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.missing: list[str] = []
        self.retractions: Batch = []
        self.planned = 0
        self.first = store.size
        self.ids: list[str] = []

    def check(self, retract_missing: bool, progress: Callable[[int], None]) -> list[Problem]:
        """Pass 1: read and judge every row, keeping only counts, ids and problems; skipped
        rows go to the skipped file with their reason. Returns the rows' problems."""
        problems: list[Problem] = []
        seen: set[str] = set()
        skipped_out = None
        try:
            for outcome in self.importer.outcomes():
                self.counts[outcome.action] += 1
                seen.add(outcome.record)
                if outcome.action == "problem":
                    problems.extend(outcome.problems)
                elif outcome.action == "skip":
                    self.reasons[reason_kind(outcome.reason)] += 1
                    if skipped_out is None:
                        handle = open(self.skipped_path, "w", encoding="utf-8", newline="")
                        skipped_out = (handle, csv.writer(handle))
                        skipped_out[1].writerow(["row", "reason", *self.importer.header])
                    skipped_out[1].writerow([outcome.row, outcome.reason, *outcome.cells])
                elif outcome.action in ("record", "amend"):
                    self.planned += len(outcome.bodies)
                progress(1)
        finally:
            if skipped_out is not None:
                skipped_out[0].close()
        fmt = self.fmt
        self.missing = sorted(i for i, h in self.held.items() if fmt and h.dataset == fmt.name and not h.retracted and h.record not in seen)
        if not problems:
            self.retractions = [(0, "incident.retract", {"incident_id": i, "reason": f"absent from {fmt.title} {self.release}"[:200]})
                                for i in self.missing] if retract_missing and fmt else []
            self.planned += len(self.retractions)
        return problems

    def _batches(self, size: int) -> Iterator[Batch]:
        batch: Batch = []
        for outcome in self.importer.outcomes() if self.planned > len(self.retractions) else ():
            if outcome.action in ("record", "amend"):
                for type_, body in statements_of(outcome, self.held, self.reason):
                    batch.append((outcome.row, type_, body))
            if len(batch) >= size:
                yield batch
                batch = []
        batch.extend(self.retractions)
        if batch:
            yield batch

    def append(self, batch_size: int, recorder: SigningKey, operator: SigningKey, stamp: str, committed: list[int],
               dry_run: bool, ignore_seal: bool) -> Iterator[tuple[int, list[Problem]]]:
        """Pass 2: sign and append (a dry run: check in memory) batch by batch; yields each
        batch's (size, problems) and adds the seq of every committed entry to ``committed``."""
        for batch in self._batches(batch_size):
            self.ids.extend(body.get("incident_id") or body["incident"]["incident_id"] for _, _, body in batch)
            if dry_run:
                problems = check_batch(self.verifier, batch, recorder, operator, stamp, ignore_seal=ignore_seal)
            else:
                items = sign_rows(self.verifier, batch, recorder, stamp)
                problems, collect = row_problems(batch)
                try:
                    entries = self.store.append_many(items, operator, on_violation=collect)
                except StoreError:
                    if not problems:
                        raise
                else:
                    committed.extend(e.seq for e in entries)
            yield len(batch), problems

    def summary(self, dry_run: bool, appended: int, stamp: str) -> dict[str, Any]:
        """The import's result as ``ledger import --json`` prints it."""
        counts = self.counts
        return {
            "ok": True, "dry_run": dry_run, "format": self.fmt.name if self.fmt else None, "release": self.release,
            "rows": sum(counts.values()), "recorded": counts["record"], "amended": counts["amend"], "unchanged": counts["unchanged"],
            "skipped": counts["skip"], "skipped_file": str(self.skipped_path) if counts["skip"] else None,
            "skip_reasons": dict(self.reasons), "unresolved_actors": dict(self.context.actors.unresolved) if self.context else {},
            "missing": self.missing, "retracted": len(self.retractions), "statements": self.planned, "appended": appended,
            "first_seq": self.first, "last_seq": self.first + self.planned - 1, "incidents": self.ids, "time": stamp,
        }
