"""Replay of a round from a verifier state file: this tree against an older revision, A/B.

    python bench/replay_speed.py STATE [--round 1] [--baseline REV] [--repeat 3] [--copy DIR]

``STATE`` is a state file of ``ledger verify --state`` (``bench/run.py`` leaves one beside
its ledger). Never used in place: it is copied first (to ``--copy``, default a temporary
directory), because loading opens it as SQLite. In one process, loading not timed, as
``measure_replay`` in ``bench/run.py`` does, in turn (A, B, A, B...):

* ``before``: ``ledger/scoring/replay.py`` and ``ledger/storage/diskstate.py`` as they were at
  ``--baseline`` (``git show``), reading the same file;
* ``after``: this tree's;

each as ``replay(state, N)`` (the whole document: ``ledger replay``) and
``replay(state, N, digest_only=True)`` (what ``ledger verify`` computes at a decision).
Every run's digest must be the same. Prints one JSON object: medians and every figure.
The baseline must read the same state-file layout (SPEC.md 9) as this tree: across a layout
change, time each revision from its own virtual environment and its own ``ledger verify
--state`` instead (docs/performance.md, "The full run of 2026-11-24").
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# the ledger package is the installed one (bin/test or pip install .), never the checkout's
# ledger/ directory, which lacks ledger.schemas and ledger.cli.
# ...and so is every child process (`python -c ...`): run from the checkout, Python would put
# the working directory first on sys.path and import the checkout's ledger/ instead.
os.environ["PYTHONSAFEPATH"] = "1"


def old_module(name: str, path: str, rev: str):
    """Module ``name`` (inside the ``ledger`` package, so relative imports work) from the
    file ``path`` as it was at revision ``rev``."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], check=True,
                            capture_output=True).stdout
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__file__ = f"{rev}:{path}"
    module.__package__ = name.rpartition(".")[0]
    sys.modules[name] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("state", type=Path)
    parser.add_argument("--round", type=int, default=1)
    parser.add_argument("--baseline", default="HEAD", help="git revision to compare with (default HEAD)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--copy", type=Path, help="directory for the copy of STATE (default: a temporary one)")
    parser.add_argument("--skip-digest-only", action="store_true")
    args = parser.parse_args()

    from ledger.storage import incremental
    from ledger.scoring.process import scoring_process
    from ledger.scoring.replay import replay

    workdir = Path(tempfile.mkdtemp(prefix="replay-speed-", dir=args.copy))
    try:
        copy = workdir / "state"
        shutil.copyfile(args.state, copy)
        loaded = incremental.load(copy)
        if loaded is None:
            print(f"{args.state}: not a state file", file=sys.stderr)
            return 2
        _, _, verifier, disk = loaded
        state = scoring_process(verifier).state
        new_incidents = state.incidents
        old_disk = old_module("ledger.storage._bench_old_diskstate", "ledger/storage/diskstate.py", args.baseline)
        old_replay = old_module("ledger.scoring._bench_old_replay", "ledger/scoring/replay.py", args.baseline)
        old_incidents = old_disk.DiskIncidents(old_disk.RunStore(disk.db, "incidents", old_disk._hash_text, old_disk.INCIDENT_CODEC))

        variants = [("before", old_replay.replay, old_incidents), ("after", replay, new_incidents)]
        kinds = [("document", False)] + ([] if args.skip_digest_only else [("digest_only", True)])
        times: dict[str, list[float]] = {}
        digests: set[str] = set()
        for _ in range(args.repeat):
            for kind, digest_only in kinds:
                for name, function, incidents in variants:
                    state.incidents = incidents
                    gc.collect()
                    started = time.perf_counter()
                    document = function(state, args.round, digest_only=digest_only)
                    elapsed = time.perf_counter() - started
                    digests.add(document.digest)
                    del document
                    times.setdefault(f"{kind}_{name}", []).append(round(elapsed, 2))
                    print(json.dumps({"run": f"{kind}_{name}", "seconds": round(elapsed, 2)}), file=sys.stderr, flush=True)
        state.incidents = new_incidents
        result = {
            "incidents": len(new_incidents),
            "baseline": args.baseline,
            "digest": sorted(digests),
            "same_digest": len(digests) == 1,
            "load_average": os.getloadavg(),
            "median": {k: statistics.median(v) for k, v in times.items()},
            "runs": times,
        }
        print(json.dumps(result))
        disk.close()
        return 0 if len(digests) == 1 else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
