"""Shared helpers for the transparency tests: small real ledgers, keys, a local HTTP server."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, Sequence

from ledger.core.authoring import genesis_statement, policy_update_statement
from ledger.storage.keyfiles import write_private_key_file, write_public_key_file
from ledger.core.keys import SigningKey
from ledger.core.model import Statement
from ledger.storage.store import LedgerStore

LEDGER = str(Path(sys.executable).parent / "ledger")
ORIGIN = "test.violence-ledger.example/transparency"
PANEL = ("panel-1", "panel-2", "panel-3")


def key(label: str, seed: str = "t") -> SigningKey:
    return SigningKey.from_raw_seed(hashlib.sha256(f"transparency/{seed}/{label}".encode()).digest())


def run(*args: str, check: bool | None = None, input: bytes | None = None) -> subprocess.CompletedProcess:
    """Run the real ``ledger`` CLI; returns the completed process (text output)."""
    proc = subprocess.run([LEDGER, *args], capture_output=True, input=input, timeout=120)
    proc.stdout_text = proc.stdout.decode("utf-8", "replace")  # type: ignore[attr-defined]
    proc.stderr_text = proc.stderr.decode("utf-8", "replace")  # type: ignore[attr-defined]
    if check and proc.returncode != 0:
        raise AssertionError(f"ledger {' '.join(args)} -> {proc.returncode}\n{proc.stderr_text}{proc.stdout_text}")
    return proc


@dataclass
class Built:
    """A ledger built in a test: its path, keys by label, the statements appended."""

    path: Path
    keys: dict[str, SigningKey]
    statements: list[tuple[Statement, list[str]]] = field(default_factory=list)
    clock: datetime = datetime(2026, 2, 1, 12, 0, 0, tzinfo=timezone.utc)

    def at(self) -> str:
        self.clock += timedelta(minutes=1)
        return self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def open(self) -> LedgerStore:
        return LedgerStore.open(self.path)

    def write_key(self, label: str, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        out = directory / f"{label}.key"
        if not out.exists():
            write_private_key_file(out, self.keys[label], None)
            write_public_key_file(directory / f"{label}.pub", self.keys[label].public, label)
        return out


def build(
    path: Path,
    updates: int = 2,
    *,
    seed: str = "t",
    reasons: Sequence[str] | None = None,
    witnesses: dict | None = None,
    batch: int = 1,
) -> Built:
    """genesis + ``updates`` policy updates (each a new ``reason``), appended ``batch`` at a time.

    With ``witnesses`` (a policy ``witnesses`` member) the first update installs it."""
    keys = {label: key(label, seed) for label in (*PANEL, "recorder", "operator")}
    b = Built(path, keys)
    genesis = genesis_statement(
        ORIGIN,
        "Transparency test ledger",
        {
            "panel": ([(keys[p].public, p) for p in PANEL], 2),
            "recorder": ([(keys["recorder"].public, "recorder")], 1),
            "operator": ([(keys["operator"].public, "operator")], 1),
        },
        b.at(),
    )
    signers = [*PANEL, "recorder", "operator"]
    store = LedgerStore.create(path, (genesis, [genesis.sign(keys[s]) for s in signers]), keys["operator"])
    b.statements.append((genesis, signers))
    try:
        pending: list = []
        for i in range(updates):
            verifier = store.verifier()
            policy = verifier.context.policy
            for statement, _ in pending:  # policies of statements queued in this batch
                from ledger.core.policy import Policy

                policy = Policy.from_json(statement.body["policy"])
            reason = reasons[i] if reasons is not None else f"routine update {i + 1}"
            statement = policy_update_statement(verifier.context.ledger_id, policy, b.at(), reason=reason)
            if witnesses is not None and i == 0:
                body = dict(statement.body)
                body["policy"] = dict(body["policy"], witnesses=witnesses)
                statement = Statement.build("policy.update", body, statement.time, statement.ledger_id)
            pending.append((statement, ["panel-1", "panel-2"]))
            if len(pending) >= batch or i == updates - 1:
                store.append_many(
                    [(s, [s.sign(keys[x]) for x in signers_]) for s, signers_ in pending], keys["operator"]
                )
                b.statements.extend(pending)
                pending = []
    finally:
        store.close()
    return b


def rebuild_rewritten(original: Built, path: Path, *, change: int, new_reason: str) -> Built:
    """The same ledger re-created from its statements with update ``change`` (1-based entry
    number) re-authored with another reason and re-signed by the panel, and everything after
    it re-sealed by the operator: every core rule passes, only the history differs."""
    reasons = []
    for i, (statement, _) in enumerate(original.statements[1:], start=1):
        reasons.append(new_reason if i == change else statement.body["reason"])
    rebuilt = build(path, len(reasons), reasons=reasons)
    return rebuilt


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 (ephemeral port); yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
