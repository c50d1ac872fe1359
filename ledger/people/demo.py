"""``ledger demo``: a complete, realistic example ledger built from a seed.

Keys are derived from the seed so that the same seed gives the same ledger, byte for byte,
on every machine. They are demo keys: real deployments generate keys with ``ledger keygen``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Sequence

from ..core.authoring import genesis_statement, policy_update_statement
from ..core.keys import SigningKey
from ..core.model import Entry, Statement
from ..storage.keyfiles import write_private_key_file, write_public_key_file
from ..storage.store import LedgerStore
from .demo_data import build_scoring

DEMO_PASSPHRASE = "demo-passphrase"
DEMO_ORIGIN = "demo.violence-ledger.example/mx"
DEMO_START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=timezone.utc)


def derive_key(seed: int, label: str) -> SigningKey:
    return SigningKey.from_raw_seed(hashlib.sha256(f"ledger-demo/{seed}/{label}".encode()).digest())


@dataclass
class DemoBuilder:
    """Holds the demo's keys, its store and a clock that moves forward by explicit steps."""

    directory: Path
    seed: int
    keys: dict[str, SigningKey] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    store: LedgerStore | None = None
    now: datetime = DEMO_START

    def key(self, label: str, name: str) -> SigningKey:
        if label not in self.keys:
            self.keys[label] = derive_key(self.seed, label)
            self.names[label] = name
        return self.keys[label]

    def at(self) -> str:
        return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")

    def advance(self, **delta: float) -> str:
        self.now += timedelta(**delta)
        return self.at()

    @property
    def ledger_id(self) -> str:
        assert self.store is not None
        return self.store.verifier().context.ledger_id

    def signed(self, statement: Statement, signers: Iterable[str]):
        return statement, [statement.sign(self.keys[s]) for s in signers]

    def append(self, statement: Statement, signers: Iterable[str]) -> Entry:
        assert self.store is not None
        return self.store.append(*self.signed(statement, signers), self.keys["operator"])

    def append_many(self, items: Sequence[tuple[Statement, Iterable[str]]]) -> list[Entry]:
        assert self.store is not None
        return self.store.append_many([self.signed(s, signers) for s, signers in items], self.keys["operator"])

    def write_keys(self) -> None:
        keys_dir = self.directory / "keys"
        keys_dir.mkdir(parents=True, exist_ok=True)
        for label, key in sorted(self.keys.items()):
            # The demo passphrase is public, so KDF strength buys nothing here: one round.
            write_private_key_file(keys_dir / f"{label}.key", key, DEMO_PASSPHRASE.encode(), kdf_rounds=1)
            write_public_key_file(keys_dir / f"{label}.pub", key.public, self.names[label])


PANEL = [f"panel-{i}" for i in range(1, 6)]
RECORDERS = ["recorder-1", "recorder-2"]


def build_core(builder: DemoBuilder) -> None:
    """Genesis (panel of five, threshold three; two recorders; an operator), a recorder key
    rotation, and the revocation of a compromised panel key with its replacement."""
    panel = [(builder.key(p, f"Panel member {p[-1]}").public, f"Panel member {p[-1]}") for p in PANEL]
    recorders = [(builder.key(r, f"Data steward {r[-1]}").public, f"Data steward {r[-1]}") for r in RECORDERS]
    operator = builder.key("operator", "Ledger operator")
    genesis = genesis_statement(
        DEMO_ORIGIN,
        "Demo: violence scoring ledger (synthetic data)",
        {"panel": (panel, 3), "recorder": (recorders, 1), "operator": ([(operator.public, "Ledger operator")], 1)},
        builder.at(),
        "Synthetic demonstration ledger. Every organization, incident and source is invented.",
    )
    path = builder.directory / "ledger.db"
    builder.store = LedgerStore.create(path, builder.signed(genesis, [*PANEL, *RECORDERS, "operator"]), operator)

    # Scheduled rotation of recorder-2's key: the old key leaves, the new one proves possession.
    new_recorder = builder.key("recorder-2b", "Data steward 2 (rotated key)")
    _change_policy(
        builder, 1, "scheduled rotation of recorder-2's key", ["panel-1", "panel-2", "panel-3", "recorder-2b"],
        add=[("recorder", new_recorder.public, "Data steward 2 (rotated key)")],
        remove=[builder.keys["recorder-2"].public.key_id],
    )

    # Panel member 5 reports a lost laptop: the key is revoked for ever and replaced.
    replacement = builder.key("panel-6", "Panel member 6")
    _change_policy(
        builder, 2, "panel-5 key reported lost; revoked and replaced", ["panel-2", "panel-3", "panel-4", "panel-6"],
        add=[("panel", replacement.public, "Panel member 6")],
        revoke=[builder.keys["panel-5"].public.key_id],
    )


def _change_policy(builder: DemoBuilder, days: int, reason: str, signers: list[str], **changes) -> None:
    """Append a policy.update ``days`` after the last entry, signed by ``signers``."""
    policy = builder.store.verifier().context.policy
    statement = policy_update_statement(builder.ledger_id, policy, builder.advance(days=days), reason=reason, **changes)
    builder.append(statement, signers)


def build_demo(directory: str | Path, seed: int = 2011) -> DemoBuilder:
    """Build the demo ledger in ``directory`` (which must not already hold one)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    builder = DemoBuilder(directory, seed)
    build_core(builder)
    build_scoring(builder)
    builder.write_keys()
    assert builder.store is not None
    builder.store.close()
    return builder
