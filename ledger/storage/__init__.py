"""Files and SQLite: the ledger store, its tree and views, bundles, the on-disk verifier
state, publishing and reading a published ledger."""
