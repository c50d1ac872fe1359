"""The application layer used by the CLI: verify a path, load a ledger in any form,
import data sets, snapshots and witnessed checkpoints."""
