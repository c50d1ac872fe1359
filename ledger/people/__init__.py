"""People-facing parts: the HTML report, synthetic data and the demo ledger."""
