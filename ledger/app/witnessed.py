"""When each round's opening was witnessed (SPEC.md 11.2, informative): the earliest witness
cosignature (C2SP tlog-cosignature, SPEC.md 14.3) on a checkpoint stored with the ledger
whose tree covers the round's ``round.open`` entry.

A statement's ``time`` is its author's claim; a witness's cosignature timestamp is an
independent party's statement that the tree (and so the round's rules and opening) existed
by then. Only checkpoints that an operator key of ``policy`` signed, whose root is this
ledger's tree at their size, and cosignatures by ``policy``'s witnesses count. Storage
layer: reads the operator's SQLite store; a bundle has no checkpoints (nothing is shown).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from ..core.note import open_checkpoint
from ..errors import LedgerError
from ..log.checkpoints import count_cosignatures, operator_verifiers, witness_config
from ..storage.store import LedgerStore, is_sqlite_file


@dataclass(frozen=True)
class Witnessed:
    """The earliest verified cosignature on a checkpoint covering an entry."""

    witness: str  # name+key id of the witness key
    timestamp: int  # seconds since the Unix epoch, as the witness signed it
    checkpoint_size: int

    @property
    def time(self) -> str:
        return datetime.fromtimestamp(self.timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def to_json(self) -> dict[str, Any]:
        return {"witness": self.witness, "timestamp": self.timestamp, "time": self.time, "checkpoint_size": self.checkpoint_size}


def witnessed_entries(path: str | os.PathLike[str], entries: Mapping[int, int], origin: str | None,
                      policy: Any) -> dict[int, Witnessed]:
    """For each ``key -> seq`` of ``entries`` (e.g. round number -> its ``round.open``), the
    earliest witness cosignature on a stored checkpoint of size > seq, if any."""
    if not entries or origin is None or policy is None or not is_sqlite_file(path):
        return {}
    try:
        witnesses, _ = witness_config(policy)
    except LedgerError:
        return {}
    operators = operator_verifiers(origin, policy)
    if not witnesses or not operators:
        return {}
    store = LedgerStore.open(path, readonly=True)
    try:
        if not store.tree.tables_exist():
            return {}
        rows = store.tree.conn.execute("SELECT size, note FROM checkpoints ORDER BY size").fetchall()
        found: dict[int, Witnessed] = {}
        for size, raw in rows:
            stamps = _cosignatures(store, bytes(raw), size, operators, witnesses)
            for label, timestamp in stamps.items():
                for key, seq in entries.items():
                    best = found.get(key)
                    if seq < size and (best is None or timestamp < best.timestamp):
                        found[key] = Witnessed(label, timestamp, size)
        return found
    finally:
        store.close()


def _cosignatures(store: LedgerStore, raw: bytes, size: int, operators: list, witnesses: list) -> dict[str, int]:
    """Verified witness timestamps of one stored checkpoint; {} unless an operator key signed
    it and its root is this ledger's tree at its size."""
    for operator in operators:
        try:
            checkpoint, _ = open_checkpoint(raw, operator)
        except LedgerError:
            continue
        try:
            if checkpoint.size != size or checkpoint.size > store.tree.size or store.tree.root(checkpoint.size) != checkpoint.root_hash:
                return {}
            return dict(count_cosignatures(raw, witnesses, 0).timestamps)
        except LedgerError:
            return {}
    return {}
