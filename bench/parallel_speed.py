"""``ledger verify --jobs N`` against the 1-core bare loop, interleaved, on the same entries.

    python bench/parallel_speed.py BUNDLE [--entries 100000] [--jobs 2] [--rounds 3]

The first ``--entries`` lines of ``BUNDLE`` (e.g. the bundle ``bench/run.py --keep``
leaves) are copied to a temporary bundle; then, ``--rounds`` times in turn, a child
process runs the bare loop of ``cryptography``'s Ed25519 verify over every signature and
seal of those entries (``BARE_LOOP`` of ``bench/run.py``: only the verify calls are timed)
and another runs ``ledger verify --jobs N`` on them (wall time, start-up included).
Alternating puts both under the same machine load, which on a shared machine moves
either by 20% from one minute to the next. Prints one JSON object: every round's figures,
the speed-up per round (bare-loop seconds / verify wall seconds) and its median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import BARE_LOOP, CLI, PY, run_child  # noqa: E402


def interleaved_parallel(bundle: Path, entries: int, jobs: int, rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-parallel-") as tmp:
        prefix = Path(tmp) / "prefix.jsonl"
        count = 0
        with open(bundle, "rb") as source, open(prefix, "wb") as out:
            for line in source:
                if count >= entries:
                    break
                out.write(line)
                count += 1
        figures = []
        for _ in range(rounds):
            bare = run_child([PY, "-c", BARE_LOOP, str(prefix), "openssl"])
            if bare["exit"] != 0:
                raise SystemExit(f"bare loop failed: {bare['stderr']}")
            loop = json.loads(bare["stdout"])
            par = run_child(CLI + ["verify", str(prefix), "--jobs", str(jobs)])
            if par["exit"] != 0:
                raise SystemExit(f"ledger verify --jobs {jobs} failed: {par['stdout']}{par['stderr']}")
            figures.append({"bare_seconds": loop["seconds"], "signatures": loop["signatures"],
                            "verify_wall": par["wall"], "verify_cpu": par["cpu"],
                            "speedup": loop["seconds"] / par["wall"]})
    return {"entries": count, "jobs": jobs, "rounds": figures,
            "median_speedup": statistics.median(f["speedup"] for f in figures),
            "median_entries_per_second": statistics.median(count / f["verify_wall"] for f in figures),
            "median_bare_signatures_per_second": statistics.median(f["signatures"] / f["bare_seconds"] for f in figures)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(interleaved_parallel(args.bundle, args.entries, args.jobs, args.rounds), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
