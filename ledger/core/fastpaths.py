"""The one switch for every fast path (issue 14).

A fast path computes exactly what its reference path computes, only faster; the reference
path is the definition (SPEC.md). Each fast path consults :data:`ENABLED` and, when it is
False, its caller takes the reference path. Tests turn it off (``monkeypatch.setattr(
fastpaths, "ENABLED", False)``) to show both give the same verdicts and bytes
(tests/core/test_fastpaths.py). A fast path is kept only where
``bench/fastpaths.py`` shows it earns at least 3% of CPU time end to end
(docs/performance.md, "Fast paths audited"; ADR 0004 addendum). The ones kept:

* ``canonical._orjson_canonical``: the canonical check as an orjson round trip;
* ``model._split_canonical_entry``: statement and unsealed bytes sliced out of the entry;
* ``verify._TIME_SHAPE``: the time check by shape and ``fromisoformat``, not ``strptime``;
* ``Verifier._core_ok``: the core rules checked without wording;
* ``keys.PublicKey.verify``: libsodium's accept-only first check (ADR 0007).

New fast paths consult this flag too, and come with a benchmark row and a test that
compares them with their reference path.
"""

from __future__ import annotations

#: False: every fast path above is skipped and its reference path runs.
ENABLED: bool = True
