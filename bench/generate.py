"""A seeded, realistic ledger of N entries built through the bulk path (``append_many``).

It reuses the demo's keys and core history (``ledger.people.demo.build_core``: genesis, a key
rotation, a revocation) and the scoring demo's incident generator
(``ledger.people.demo_data.Story``): organizations, revenue estimates, rules, one round
whose window holds (almost) all of the N entries as ``incident.record``, then the round's
close and its decision. The same (N, seed) gives the same ledger, byte for byte.

Statements are signed by their authors *before* the timed part: ``append_many`` is timed
alone (sealing, verification, insertion, Merkle nodes and the checkpoint), since authors
sign on their own machines.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ledger.people.demo import DemoBuilder, build_core
from ledger.scoring import authoring as A
from ledger.people.demo_data import ORGS, PUBLISHERS, Story, _day, _span

ROUND_START, ROUND_END = "2026-01-19", "2026-03-01"
# Relative incident volume per organization: one stands out (a clear target).
VOLUME = {"halcones-del-norte": 30, "sierra-alta": 12, "golfo-unido": 10, "los-tejones": 8,
          "cartel-costa": 7, "nueva-frontera": 3, "barrio-azul": 2, "la-ruta": 1}
SETUP_ENTRIES = 3 + 2 * len(ORGS) + 2  # core, registrations and estimates, rules, round.open
TAIL_ENTRIES = 2  # round.close, round.decide


@dataclass
class BuildStats:
    entries: int = 0
    bulk_entries: int = 0
    bulk_seconds: float = 0.0  # time inside append_many for the incident batches
    sign_seconds: float = 0.0  # authors' signing (not part of the import)
    total_seconds: float = 0.0
    batches: list[int] = field(default_factory=list)


def build(directory: Path, n: int, *, seed: int = 2011, batch: int = 5000,
          progress: Callable[[int], None] | None = None) -> tuple[DemoBuilder, BuildStats]:
    """Build ``directory/ledger.db`` with exactly ``n`` entries (n >= SETUP + TAIL + 1)."""
    if n < SETUP_ENTRIES + TAIL_ENTRIES + 1:
        raise ValueError(f"need at least {SETUP_ENTRIES + TAIL_ENTRIES + 1} entries")
    started = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    b = DemoBuilder(directory, seed)
    build_core(b)
    story = Story(b)
    story.go_to("2026-01-12")
    for org_id, name, aliases, _, _ in ORGS:
        story.record("org.register", A.org_register(org_id, name, aliases))
    for org_id, _, _, _, revenue in ORGS:
        story.estimate(org_id, revenue, "2025-01-01", "2025-12-31")
    rules = story.panel("rules.adopt", A.rules_body(1, "Kleiman weights, benchmark edition"), hours=3)
    story.go_to(ROUND_START)
    orgs = sorted(VOLUME)
    story.panel("round.open", A.round_open(1, rules, ROUND_START, ROUND_END, orgs, "2026-03-09"))
    assert b.store is not None
    stats = BuildStats()
    remaining = n - SETUP_ENTRIES - TAIL_ENTRIES
    weighted = [(org, w) for org, w in VOLUME.items()]
    total_weight = sum(w for _, w in weighted)
    span = _span(ROUND_START, ROUND_END)
    rng = story.rng
    step = max(2, 2 * span * 86400 // max(1, remaining))  # spread the recording times over the window
    while remaining > 0:
        count = min(batch, remaining)
        bodies = []
        for _ in range(count):
            r = rng.randrange(total_weight + 2)
            org = None  # a few unattributed incidents
            for name, w in weighted:
                if r < w:
                    org = name
                    break
                r -= w
            bodies.append(story.new_incident(org, _day(ROUND_START, rng.randrange(span))))
        t0 = time.perf_counter()
        items = []
        for body in sorted(bodies, key=lambda x: (x["date"], x["incident_id"])):
            statement = story.statement("incident.record", body, seconds=1 + rng.randrange(step))
            items.append(b.signed(statement, [story.recorder()]))
        t1 = time.perf_counter()
        b.store.append_many(items, b.keys["operator"])
        t2 = time.perf_counter()
        stats.sign_seconds += t1 - t0
        stats.bulk_seconds += t2 - t1
        stats.bulk_entries += count
        remaining -= count
        if progress is not None:
            progress(count)
    story.go_to("2026-03-02")
    story.panel("round.close", {"round": 1, "notes": "Window ended 2026-03-01."})
    story.go_to("2026-03-09")
    story.panel("round.decide", A.decision_body(story.state(), 1))
    stats.entries = b.store.size
    stats.total_seconds = time.perf_counter() - started
    return b, stats


__all__ = ["build", "BuildStats", "PUBLISHERS"]
