"""JSON Schemas (2020-12) for the ledger envelope and every entry type."""
