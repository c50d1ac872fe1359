"""Run one coverage-guided fuzz target (atheris), seeded from the demo ledger.

    pip install -e '.[fuzz]'
    python fuzz/run.py signed -max_total_time=600        # any libFuzzer option after the name
    python fuzz/run.py canonical -runs=100000

The corpus grows in ``fuzz/corpus/TARGET/`` (not versioned); a finding is written as
``crash-<sha1>`` in the current directory. Keep each finding, once fixed, as a regression
input under ``tests/regressions/`` (see its README).
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

with atheris.instrument_imports(include=["ledger"]):
    import targets


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in targets.TARGETS:
        sys.exit(f"usage: python fuzz/run.py {{{','.join(targets.TARGETS)}}} [libFuzzer options]")
    name = sys.argv[1]
    corpus = HERE / "corpus" / name
    if not corpus.is_dir():
        corpus.mkdir(parents=True)
        for i, seed in enumerate(targets.seeds(name)):
            (corpus / f"seed-{i:03d}").write_bytes(seed)
    target = targets.TARGETS[name]
    atheris.Setup([sys.argv[0], *sys.argv[2:], str(corpus)], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
