"""The transparency log over the verified ledger: checkpoint auditing and tiles (pure)."""
