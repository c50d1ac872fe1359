"""Parallel verification: everything that depends only on an entry's bytes runs on worker
processes; the main process runs the sequential rules, in order, unchanged.

What an entry's bytes alone decide (``verify.decode_checked``: strict parse and canonical
form R-7.1, schemas R-7.2, type R-7.3, the decoded entry with its statement digest) and the
Ed25519 checks (a pure function of public key, signature and message) are computed by
worker processes, chunk by chunk, ahead of the main process. The main process feeds every
entry to the ordinary :class:`~ledger.verify.Verifier` with a :class:`Precomputed` hint:

* ``hint.entry``: when the worker's ``decode_checked`` accepted the bytes, the main
  process rebuilds the same :class:`~ledger.model.Entry` from them (``orjson.loads`` of
  bytes proven canonical gives the value ``parse_canonical`` returns; the statement and
  unsealed bytes are slices at offsets the worker checked against its own entry; the
  signature bytes and the statement digest are the worker's, computed by the same code
  from the same bytes). The verifier uses it only for that very ``raw`` object, instead
  of decoding again. When the worker rejected the bytes there is no ``entry`` and the
  verifier decodes (and words the violation) itself.
* the mapping ``(kind, raw public key, signature) -> valid``: the verifier consults it
  only for that kind ("s" statement, "e" seal), key and signature on that same entry, and
  the worker derived the message from the same bytes with the same code.

So the report is identical to a sequential run (tested on every tampering case). Workers
learn public keys from the policies in the ledger itself: before a chunk is sent, the main
process reads the policies of the genesis and ``policy.update`` entries in it (a key id is
the SHA-256 of its key, and answers are keyed by the key bytes, so a bogus directory entry
can only produce an unused answer). Memory stays bounded: at most a few chunks are in flight.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from typing import Any, Callable, Iterable, Iterator

import orjson

from .keys import PublicKey
from .model import Entry, Signature, Statement, b64decode, seal_signing_message

CHUNK = 256


class Precomputed(dict):  # type: ignore[type-arg]
    """Signature answers ``{(kind, raw key, sig): valid}`` plus the entry decoded from the
    same bytes by a worker (``entry``; None when the worker found a violation)."""

    __slots__ = ("entry",)

    def __init__(self, answers: dict[tuple[str, bytes, bytes], bool], entry: Entry | None) -> None:
        super().__init__(answers)
        self.entry = entry


# What a worker sends back per entry: None (rejected: the main process decodes and reports),
# or (answers, statement start, seal member start, seal member length, signature bytes,
# seal signature bytes, statement digest).
Result = tuple[dict[tuple[str, bytes, bytes], bool], int, int, int, tuple[bytes, ...], bytes, bytes] | None

_keys: dict[str, PublicKey] = {}


def _public(key_id: str, directory: dict[str, bytes]) -> PublicKey | None:
    key = _keys.get(key_id)
    if key is None:
        raw = directory.get(key_id)
        if raw is None:
            return None
        try:
            key = PublicKey.from_raw(raw)
        except Exception:
            return None
        _keys[key_id] = key
    return key


def _examine(raw: bytes, directory: dict[str, bytes]) -> Result:
    """The worker's part for one entry (see the module docstring)."""
    from .verify import _Reject, decode_checked

    try:
        entry = decode_checked(raw, 0)
    except _Reject:
        return None
    try:
        statement = entry.statement
        unsealed = entry.unsealed_bytes()
        start = len(raw) - 1 - len(statement.raw)
        cut = len(raw) - len(unsealed)
        # the seal member sits right after the prev member: '{"prev":' E(prev) ','
        seal_at = unsealed.index(b',"seq":') if cut > 0 else -1
        if (start < 0 or raw[start:-1] != statement.raw or seal_at < 0
                or raw[:seal_at + 1] + raw[seal_at + 1 + cut:] != unsealed):
            return None  # pragma: no cover - decode_entry slices exactly these
        answers: dict[tuple[str, bytes, bytes], bool] = {}
        message = statement.signing_message
        for signature in entry.signatures:
            key = _public(signature.key_id, directory)
            if key is not None:
                answers[("s", key.raw, signature.sig)] = key.verify(signature.sig, message)
        key = _public(entry.seal.key_id, directory)
        if key is not None:
            answers[("e", key.raw, entry.seal.sig)] = key.verify(entry.seal.sig, seal_signing_message(unsealed))
        return (answers, start, seal_at + 1, cut, tuple(s.sig for s in entry.signatures), entry.seal.sig,
                statement.digest)
    except Exception:  # pragma: no cover - anything odd: no hint, the verifier judges it
        return None


def _work(task: tuple[list[bytes], dict[str, bytes]]) -> list[Result]:
    raws, directory = task
    return [_examine(raw, directory) for raw in raws]


def _hint(raw: bytes, result: Result) -> Precomputed | None:
    """The main process's part: the Entry rebuilt from ``raw`` and the worker's result."""
    if result is None:
        return None
    answers, start, seal_at, cut, sigs, seal_sig, digest = result
    obj = orjson.loads(raw)
    statement = Statement(obj["statement"], raw[start:-1])
    statement.__dict__["digest"] = digest  # the worker's sha256 of these same bytes
    entry = Entry(
        seq=obj["seq"],
        prev=obj["prev"],
        statement=statement,
        signatures=tuple(Signature(item["key_id"], sig) for item, sig in zip(obj["signatures"], sigs)),
        seal=Signature(obj["seal"]["key_id"], seal_sig),
        raw=raw,
        unsealed=raw[:seal_at] + raw[seal_at + cut:],
    )
    return Precomputed(answers, entry)


# A policy object's first member in canonical form ("keys" < "roles" < "version" <
# "witnesses"); one scan per entry. Missing a key only costs the main process a check.
_POLICY_MARKER = b'"policy":{"keys":'


def _learn_keys(raw: bytes, directory: dict[str, bytes]) -> None:
    if _POLICY_MARKER not in raw:
        return
    try:
        keys = orjson.loads(raw)["statement"]["body"]["policy"]["keys"]
        for key_id, item in keys.items():
            directory[key_id] = b64decode(item["public_key"], length=32, what="public key")
    except Exception:
        return


def precomputed_signatures(raws: Iterable[bytes], workers: int) -> Iterator[tuple[bytes, Any]]:
    """Yield ``(raw, hint)`` for every entry, in order (``hint`` for ``Verifier.feed``:
    a :class:`Precomputed` or None), computed on ``workers`` processes (at most
    ``3 * workers`` chunks in flight)."""
    directory: dict[str, bytes] = {}
    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    with context.Pool(workers) as pool:
        pending: deque[tuple[list[bytes], Any]] = deque()
        chunk: list[bytes] = []

        def submit(batch: list[bytes]) -> None:
            for raw in batch:
                _learn_keys(raw, directory)
            pending.append((batch, pool.apply_async(_work, ((batch, dict(directory)),))))

        def drain() -> Iterator[tuple[bytes, Any]]:
            batch, result = pending.popleft()
            for raw, item in zip(batch, result.get()):
                yield raw, _hint(raw, item)

        for raw in raws:
            chunk.append(raw)
            if len(chunk) >= CHUNK:
                submit(chunk)
                chunk = []
                while len(pending) >= 3 * workers:
                    yield from drain()
        if chunk:
            submit(chunk)
        while pending:
            yield from drain()


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def feed_parallel(verifier: Any, raws: Iterable[bytes], workers: int,
                  each: Callable[[list], None]) -> None:
    """Feed every entry to ``verifier`` in order; ``each(violations)`` after each entry."""
    for raw, precomputed in precomputed_signatures(raws, workers):
        each(verifier.feed(raw, precomputed))


__all__ = ["Precomputed", "precomputed_signatures", "feed_parallel", "default_workers"]
