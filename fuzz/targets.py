"""Coverage-guided fuzz targets (atheris) for the parsers, the statement intake and the verifier.

Each target takes arbitrary bytes and may only end in one of the outcomes SPEC.md allows:
a :class:`ledger.errors.LedgerError` (a one-line refusal) or reported violations. Anything
else (another exception, a disagreement with the RFC 8785 reference, a mutated verifier
state) is a finding: atheris stops and writes the input as ``crash-<sha1>``.

Targets (``python fuzz/run.py TARGET``):

``canonical``  ``parse`` and ``parse_canonical`` on raw bytes; whatever ``parse_canonical``
               accepts must be byte-identical to the ``rfc8785`` reference encoding of
               the value (a differential check of the strict reader against the reference).
``statement``  the statement-file intake (``StatementFile.parse``).
``bundle``     the bundle reader and the verifier over a real demo prefix plus the input.
``signed``     the input is ``TYPE\\n`` + a JSON body; the harness signs it with the keys
               that the type's role names (as a real author would), seals it with the
               operator key and asks the verifier of the demo ledger to judge it. This
               is the target that reaches schemas, authority and the scoring rules:
               mutated bytes of a real entry never get past the signatures.
"""

from __future__ import annotations

import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Callable

from ledger.core import canonical
from ledger.storage.bundle import read_bundle
from ledger.people.demo import build_demo
from ledger.core.entry_types import ENTRY_TYPES
from ledger.errors import LedgerError
from ledger.core.keys import SigningKey
from ledger.core.model import GENESIS_TYPE, Statement, seal_entry
from ledger.core.statement_file import StatementFile
from ledger.storage.store import open_entries
from ledger.core.verify import Verifier
from ledger.scoring.process import new_verifier


@cache
def demo() -> tuple[list[bytes], dict[str, SigningKey]]:
    """The demo ledger's entries and its private keys by key id (built once per process)."""
    directory = Path(tempfile.mkdtemp(prefix="ledger-fuzz-"))
    builder = build_demo(directory / "demo")
    raws = list(open_entries(directory / "demo" / "ledger.db"))
    return raws, {key.public.key_id: key for key in builder.keys.values()}


@cache
def verifier_before_last_round() -> Verifier:
    """A verifier that has seen the demo up to (not including) its last ``round.decide``:
    a round is open and closed, so round, dispute and incident rules are all reachable."""
    raws, _ = demo()
    last_decide = max(i for i, raw in enumerate(raws) if b'"type":"round.decide"' in raw)
    verifier = new_verifier()
    for raw in raws[:last_decide]:
        verifier.feed(raw)
    return verifier


def target_canonical(data: bytes) -> None:
    import rfc8785

    try:
        canonical.parse(data)
    except LedgerError:
        pass
    try:
        value = canonical.parse_canonical(data)
    except LedgerError:
        return
    if rfc8785.dumps(value) != data:
        raise AssertionError("parse_canonical accepted bytes that are not the RFC 8785 encoding of their value")
    if canonical.encode(value) != data:
        raise AssertionError("canonical.encode disagrees with the bytes parse_canonical accepted")


def target_statement(data: bytes) -> None:
    try:
        StatementFile.parse(data)
    except LedgerError:
        pass


def target_bundle(data: bytes) -> None:
    import io

    raws, _ = demo()
    verifier = new_verifier()
    for raw in raws[:40]:
        verifier.feed(raw)
    try:
        for raw in read_bundle(io.BytesIO(data)):
            verifier.feed(raw)
    except LedgerError:
        pass
    verifier.feed(data)
    verifier.finish()


def signed_entry(type_name: str, body: dict) -> bytes:
    """``body`` as a statement of ``type_name``, signed by the threshold of the keys of the
    type's role in the demo's current policy and sealed as the verifier's next entry."""
    verifier = verifier_before_last_round()
    _, private = demo()
    policy = verifier.context.policy
    assert policy is not None and verifier.head is not None
    statement = Statement.build(type_name, body, "2026-12-01T00:00:00Z", verifier.context.ledger_id)
    role = policy.roles[ENTRY_TYPES[type_name].role]
    signers = [private[k] for k in role.key_ids if k in private][: role.threshold]
    operator = private[policy.roles["operator"].key_ids[0]]
    return seal_entry(verifier.size, verifier.head.hex(), statement,
                      tuple(statement.sign(k) for k in signers), operator).raw


def target_signed(data: bytes) -> None:
    type_, _, body_bytes = data.partition(b"\n")
    try:
        type_name = type_.decode("ascii")
        body = json.loads(body_bytes)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return
    kind = ENTRY_TYPES.get(type_name)
    if kind is None or not isinstance(body, dict):
        return
    try:
        raw = signed_entry(type_name, body)
    except LedgerError:
        return  # not encodable (float, big integer...): a real author could not sign it either
    verifier = verifier_before_last_round()
    size, head = verifier.size, verifier.head
    verifier.check(raw)  # violations or none; never another exception
    if (verifier.size, verifier.head) != (size, head):
        raise AssertionError("Verifier.check changed the verifier's state")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "canonical": target_canonical,
    "statement": target_statement,
    "bundle": target_bundle,
    "signed": target_signed,
}


def seeds(target: str) -> list[bytes]:
    """Starting inputs: real entries, statements and bodies from the demo ledger."""
    raws, _ = demo()
    picked = raws[:12] + raws[-12:] + [r for r in raws if b'"type":"incident.' in r][:20]
    if target in ("canonical", "bundle"):
        return picked
    if target == "statement":
        _, private = demo()
        files = []
        for raw in picked:
            file = StatementFile(Statement.from_obj(json.loads(raw)["statement"]))
            for signature in json.loads(raw)["signatures"]:
                file.sign(private[signature["key_id"]])
            files.append(file.to_bytes())
        return files
    bodies = []
    for raw in raws:
        statement = json.loads(raw)["statement"]
        if statement["type"] in ENTRY_TYPES and statement["type"] not in (GENESIS_TYPE, "policy.update"):
            bodies.append(statement["type"].encode() + b"\n" + canonical.encode(statement["body"]))
    seen: dict[bytes, bytes] = {}
    for b in bodies:  # one or two of each type
        seen.setdefault(b.partition(b"\n")[0] + bytes([len(seen) % 2]), b)
    return list(seen.values())
