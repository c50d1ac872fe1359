"""Parallel verification: Ed25519 checks on worker processes, the state pass unchanged.

Signature verification is most of the cost of ``ledger verify`` and is a pure function of
(public key, signature, message). Worker processes compute it ahead of the main process,
chunk by chunk; the main process runs the ordinary sequential :class:`Verifier` over every
entry, in order, and when it reaches a signature check it uses the worker's answer for the
same public key and signature bytes (``Verifier.feed(raw, precomputed)``). Everything
else (parsing, canonical form, schemas, chain, authority, thresholds, scoring, Merkle tree)
is judged by the main process exactly as in a sequential run, so the report is identical.

Why a worker's answer is the right one: the worker derives the signed messages from the
entry's bytes with the same code the verifier uses (``model._split_canonical_entry``
on the parsed value, which for the bytes of a valid entry is the same value
``parse_canonical`` returns); it keys each answer by (kind, raw public key, signature),
and the verifier consults it only for that kind, key and signature on that same entry.
An entry the worker cannot take apart simply gets no answers, and the verifier computes.

Workers learn public keys from the policies in the ledger itself: before a chunk is sent,
the main process reads the policies of the genesis and ``policy.update`` entries in it
(a key id is the SHA-256 of its key, and answers are keyed by the key bytes, so a bogus
directory entry can only produce an unused answer). Memory stays bounded: at most a few
chunks are in flight.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import deque
from typing import Any, Callable, Iterable, Iterator

from .keys import PublicKey
from .model import STATEMENT_CONTEXT, _split_canonical_entry, b64decode, seal_signing_message

CHUNK = 256
Results = list[dict[tuple[str, bytes, bytes], bool] | None]

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


def _signatures_of(raw: bytes, directory: dict[str, bytes]) -> dict[tuple[str, bytes, bytes], bool] | None:
    try:
        obj = json.loads(raw)
        parts = _split_canonical_entry(raw, obj)
        if parts is None:
            return None
        statement_bytes, unsealed = parts
        out: dict[tuple[str, bytes, bytes], bool] = {}
        message = STATEMENT_CONTEXT + statement_bytes
        for item in obj["signatures"]:
            key = _public(item["key_id"], directory)
            if key is not None:
                sig = b64decode(item["sig"], length=64, what="signature")
                out[("s", key.raw, sig)] = key.verify(sig, message)
        seal = obj["seal"]
        key = _public(seal["key_id"], directory)
        if key is not None:
            sig = b64decode(seal["sig"], length=64, what="seal")
            out[("e", key.raw, sig)] = key.verify(sig, seal_signing_message(unsealed))
        return out
    except Exception:  # anything malformed: no answers, the verifier judges it
        return None


def _work(task: tuple[list[bytes], dict[str, bytes]]) -> Results:
    raws, directory = task
    return [_signatures_of(raw, directory) for raw in raws]


_POLICY_MARKERS = (b'"type":"ledger.genesis"', b'"type":"policy.update"')


def _learn_keys(raw: bytes, directory: dict[str, bytes]) -> None:
    if not any(marker in raw for marker in _POLICY_MARKERS):
        return
    try:
        keys = json.loads(raw)["statement"]["body"]["policy"]["keys"]
        for key_id, item in keys.items():
            directory[key_id] = b64decode(item["public_key"], length=32, what="public key")
    except Exception:
        return


def precomputed_signatures(raws: Iterable[bytes], workers: int) -> Iterator[tuple[bytes, Any]]:
    """Yield ``(raw, precomputed)`` for every entry, in order, with the signature results
    computed on ``workers`` processes (at most ``3 * workers`` chunks in flight)."""
    directory: dict[str, bytes] = {}
    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    with context.Pool(workers) as pool:
        pending: deque[tuple[list[bytes], Any]] = deque()
        chunk: list[bytes] = []

        def submit(batch: list[bytes]) -> None:
            for raw in batch:
                _learn_keys(raw, directory)
            pending.append((batch, pool.apply_async(_work, ((batch, dict(directory)),))))

        for raw in raws:
            chunk.append(raw)
            if len(chunk) >= CHUNK:
                submit(chunk)
                chunk = []
                while len(pending) >= 3 * workers:
                    batch, result = pending.popleft()
                    yield from zip(batch, result.get())
        if chunk:
            submit(chunk)
        while pending:
            batch, result = pending.popleft()
            yield from zip(batch, result.get())


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


__all__ = ["precomputed_signatures", "feed_parallel", "default_workers"]
