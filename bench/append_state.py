"""What one `ledger append` costs on a large ledger, with and without a state file.

    python bench/append_state.py --db WORK/ledger/ledger.db --state WORK/ledger/ledger.snapshot [--full]

Run it on the work directory of ``bench/run.py --workdir WORK`` (whose 1-process verify
saved the state file). Each measurement opens the store as a fresh ``ledger append`` does,
appends one signed ``org.register`` and closes it (which saves the state): with the state
file, the store hashes the stored prefix, checks it against the state and verifies only the
entries after it; ``--full`` also times the same append without a state file (the whole
stored ledger is verified first: minutes at 10^6 entries).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from ledger.people.demo import derive_key
from ledger.scoring import authoring as A
from ledger.people.demo_data import RECORDER_KEYS
from ledger.storage.store import LedgerStore

SEED = 2011  # bench/generate.py's default seed: the keys of the bench ledger


def append_one(db: Path, state: Path | None, serial: int) -> dict[str, float]:
    recorder, operator = derive_key(SEED, RECORDER_KEYS[0]), derive_key(SEED, "operator")
    started = time.perf_counter()
    with LedgerStore.open(db, state=state) as store:
        verifier = store.verifier()
        statement = A.statement("org.register", A.org_register(f"bench-append-{serial}", f"Bench {serial}", []),
                                "2026-12-01T00:00:00Z", verifier.context.ledger_id)
        store.append(statement, [statement.sign(recorder)], operator)
        size, resumed = store.size, store.resumed_from
    return {"seconds": time.perf_counter() - started, "size": size, "resumed_from": resumed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--full", action="store_true", help="also time an append without the state file")
    args = parser.parse_args()
    serial = int(time.time())
    results = {"catch_up_and_append": append_one(args.db, args.state, serial),
               "append_resumed": append_one(args.db, args.state, serial + 1)}
    if args.full:
        results["append_without_state"] = append_one(args.db, None, serial + 2)
    results["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
