"""Violence-scoring ledger: signed, hash-chained entries with deterministic replay."""

FORMAT_VERSION = 1
__version__ = "0.1.0"
