"""Parallel verification: the Ed25519 checks run on worker processes; the main process
decodes every entry and runs the sequential rules, in order, unchanged.

The main process decodes each entry itself, ahead of the sequential pass, with the
verifier's own :func:`~ledger.core.verify.decode_checked` (R-7.1 to R-7.3), and derives from
that :class:`~ledger.core.model.Entry` the message of each signature exactly as the verifier
does: ``statement.signing_message`` for an author's signature ("s") and
``seal_signing_message(entry.unsealed_bytes())`` for the seal ("e"). Worker processes
verify those (public key, signature, message) triples with the same
:meth:`~ledger.core.keys.PublicKey.verify`, chunk by chunk, while the main process judges
earlier chunks. Each entry is then fed to the ordinary :class:`~ledger.core.verify.Verifier`
with a :class:`Precomputed` hint:

* ``hint.entry``: the Entry decoded from those very bytes; the verifier uses it only for
  that same ``raw`` object instead of decoding again. When ``decode_checked`` rejected the
  bytes there is no hint and the verifier decodes (and words the violation) itself.
* the mapping ``(kind, raw public key, signature) -> valid``: the verifier consults it only
  for that kind, key and signature on that same entry, whose message is the one the worker
  checked (computed from the same Entry object by the same functions).

So the report is identical to a sequential run (tested on every tampering case). Workers
are told public keys from the policies in the ledger itself (genesis and ``policy.update``
entries, learned in order as they are decoded); answers are keyed by the key bytes, so a
key the policy does not in fact hold can only produce an unused answer, and a signature by
a key not learned gets no answer (the verifier computes it). Memory stays bounded: at most
``3 * workers`` chunks are in flight.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from typing import Any, Callable, Iterable, Iterator

from .keys import PublicKey
from .model import GENESIS_TYPE, Entry, b64decode, seal_signing_message

CHUNK = 256

Answers = dict[tuple[str, bytes, bytes], bool]
# One signature check for a worker: (raw public key, signature, message).
Check = tuple[bytes, bytes, bytes]


class Precomputed(dict):  # type: ignore[type-arg]
    """Signature answers ``{(kind, raw key, sig): valid}`` plus the entry decoded from the
    same bytes (``entry``)."""

    __slots__ = ("entry",)

    def __init__(self, answers: Answers, entry: Entry | None) -> None:
        super().__init__(answers)
        self.entry = entry


_worker_keys: dict[bytes, PublicKey] = {}


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the parent, which stops the pool (no worker tracebacks)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _verify_checks(checks: list[Check]) -> list[bool | None]:
    """Worker process body: ``PublicKey.verify`` of each check (None: no answer)."""
    answers: list[bool | None] = []
    for key_raw, sig, message in checks:
        try:
            key = _worker_keys.get(key_raw)
            if key is None:
                key = _worker_keys[key_raw] = PublicKey.from_raw(key_raw)
            answers.append(key.verify(sig, message))
        except Exception:  # pragma: no cover - no answer: the verifier checks it itself
            answers.append(None)
    return answers


_POLICY_TYPES = (GENESIS_TYPE, "policy.update")


def _learn_keys(entry: Entry, directory: dict[str, PublicKey]) -> None:
    """Add the keys of a policy the entry states (schema-checked) to ``directory``."""
    if entry.type not in _POLICY_TYPES:
        return
    try:
        keys = entry.statement.body["policy"]["keys"].items()
    except Exception:  # pragma: no cover - the schemas require it; the verifier reports it
        return
    for key_id, item in keys:
        try:
            directory[key_id] = PublicKey.from_raw(b64decode(item["public_key"], length=32, what="public key"))
        except Exception:
            continue  # the verifier reports it; no answer for this key


def signature_checks(entry: Entry, directory: dict[str, PublicKey]) -> tuple[list[tuple[str, bytes, bytes]], list[Check]]:
    """The answers wanted for ``entry`` (kind, key bytes, signature) and the checks that give
    them, for each signature whose key id ``directory`` knows. Messages as the verifier's."""
    wanted: list[tuple[str, bytes, bytes]] = []
    checks: list[Check] = []
    message = entry.statement.signing_message
    for signature in entry.signatures:
        key = directory.get(signature.key_id)
        if key is not None:
            wanted.append(("s", key.raw, signature.sig))
            checks.append((key.raw, signature.sig, message))
    key = directory.get(entry.seal.key_id)
    if key is not None:
        wanted.append(("e", key.raw, entry.seal.sig))
        checks.append((key.raw, entry.seal.sig, seal_signing_message(entry.unsealed_bytes())))
    return wanted, checks


def precomputed_signatures(raws: Iterable[bytes], workers: int) -> Iterator[tuple[bytes, Precomputed | None]]:
    """Yield ``(raw, hint)`` for every entry, in order (``hint`` for ``Verifier.feed``:
    a :class:`Precomputed`, or None when the bytes do not decode), with the signatures
    verified on ``workers`` processes (at most ``3 * workers`` chunks in flight)."""
    from .verify import _Reject, decode_checked

    directory: dict[str, PublicKey] = {}
    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    with context.Pool(workers, initializer=_ignore_interrupts) as pool:
        pending: deque[tuple[list[bytes], list[Any], Any]] = deque()
        chunk: list[bytes] = []

        def submit(batch: list[bytes]) -> None:
            decoded: list[tuple[Entry, list[tuple[str, bytes, bytes]]] | None] = []
            checks: list[Check] = []
            for raw in batch:
                try:
                    entry = decode_checked(raw, 0)  # the number only words a rejection
                except _Reject:
                    decoded.append(None)
                    continue
                _learn_keys(entry, directory)  # a genesis is signed by its own policy's keys
                wanted, more = signature_checks(entry, directory)
                decoded.append((entry, wanted))
                checks.extend(more)
            pending.append((batch, decoded, pool.apply_async(_verify_checks, (checks,))))

        def drain() -> Iterator[tuple[bytes, Precomputed | None]]:
            batch, decoded, result = pending.popleft()
            answers = iter(result.get())
            for raw, item in zip(batch, decoded):
                if item is None:
                    yield raw, None
                    continue
                entry, wanted = item
                known = {w: a for w, a in zip(wanted, answers) if a is not None}
                yield raw, Precomputed(known, entry)

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


__all__ = ["Precomputed", "precomputed_signatures", "signature_checks", "feed_parallel", "default_workers"]
