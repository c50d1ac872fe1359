"""Violence-scoring ledger: signed, hash-chained entries with deterministic replay.

The package is layered; each layer imports only from those below it (ADR 0013, checked by
tests/test_layers.py): ``people`` (report, synthetic data, demo) -> ``app`` (what the
commands call) -> ``storage`` (files and SQLite) -> ``scoring`` -> ``log`` -> ``core``
(canonical JSON, keys, model, policy, verifier) -> ``errors``. core, log and scoring are pure.
"""

FORMAT_VERSION = 1
__version__ = "0.1.0"
