"""Appends: single durable appends and bulk imports on a fresh ledger, one process.

Run from the repository root:

    python bench/appends.py --base 2000 --single 1000 --bulk 10000
    python bench/appends.py --compare /path/to/other/checkout    # interleaved A/B runs

Builds a seeded ledger of ``--base`` entries (``bench/generate.py``), signs the new
statements as their authors would (not timed), then times, on a store opened once:

* ``single``: one ``store.append`` per statement (one transaction, one fsync each), with
  a checkpoint signed by every append (``checkpoint_interval`` 0, the default) and with at
  most one per second (``checkpoint_interval`` 1.0, SPEC.md 14.6);
* ``bulk``: ``append_many`` of ``--bulk`` pre-signed statements in one transaction, with the
  authors' signatures checked in the main process only (``jobs=1``) and on worker processes
  (``jobs=None``: one per CPU).

``--existing DB --state FILE [--interval S] [--bulk-batches K]`` instead appends
``--single`` statements to an existing ledger of ``bench/generate.py`` (a copy of the 10^6
ledger of ``bench/run.py`` and of its state file: the copy grows), resumed from the state
file, as a long-running appender, then ``K`` bulk batches of ``--bulk`` statements.

Prints one JSON object. ``--compare DIR`` runs this script alternately with the library of
DIR (e.g. ``git archive HEAD | tar -x -C DIR``) and with this checkout, ``--rounds`` times,
and prints the medians of each figure side by side (the machine is shared: interleaving
puts both under the same load).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _items(builder, story, count: int):
    from generate import ROUND_START

    from ledger.people.demo_data import _day

    out = []
    for i in range(count):
        body = story.new_incident("golfo-unido", _day(ROUND_START, i % 40))
        out.append(builder.signed(story.statement("incident.record", body, seconds=1), [story.recorder()]))
    return out


def run(base: int, single: int, bulk: int) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="bench-appends-"))
    try:
        return _run(work, base, single, bulk)
    finally:
        shutil.rmtree(work)


def _run(work: Path, base: int, single: int, bulk: int) -> dict[str, float]:
    sys.path.insert(0, str(HERE))
    from generate import build

    from ledger.people.demo_data import Story
    from ledger.storage.store import LedgerStore

    builder, _ = build(work / "ledger", base)
    operator = builder.keys["operator"]
    db = work / "ledger" / "ledger.db"
    story = Story(builder)
    story.rng = random.Random("bench/appends")
    story.serial = 30_000_000
    lazy = "checkpoint_interval" in inspect.signature(LedgerStore.open).parameters
    parallel = "jobs" in inspect.signature(LedgerStore.append_many).parameters
    modes = [("single_every", 0.0)] + ([("single_interval_1s", 1.0)] if lazy else [])
    batches = [("bulk_jobs1", 1)] + ([("bulk_jobs_all", None)] if parallel else [])
    sets = {name: _items(builder, story, single) for name, _ in modes}
    sets.update({name: _items(builder, story, bulk) for name, _ in batches})
    builder.store.close()  # the statements are signed; the timed stores open the file afresh
    out: dict[str, float] = {"base_entries": base}

    for name, interval in modes:
        t0 = time.perf_counter()
        store = LedgerStore.open(db, checkpoint_interval=interval) if lazy else LedgerStore.open(db)
        store.verifier()  # a long-running appender verifies the stored ledger once, at start
        out[f"open_and_verify_{name}_s"] = time.perf_counter() - t0
        items = sets[name]
        c0, t0 = time.process_time(), time.perf_counter()
        for statement, signatures in items:
            store.append(statement, signatures, operator)
        out[f"{name}_per_s"] = len(items) / (time.perf_counter() - t0)
        out[f"{name}_cpu_ms_each"] = (time.process_time() - c0) / len(items) * 1000
        t0 = time.perf_counter()
        store.close()  # with an interval: signs the checkpoint covering the last appends
        out[f"{name}_close_s"] = time.perf_counter() - t0

    for name, jobs in batches:
        store = LedgerStore.open(db)
        store.verifier()
        items = sets[name]
        k0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        c0, t0 = time.process_time(), time.perf_counter()
        if parallel:
            store.append_many(items, operator, jobs=jobs)
        else:
            store.append_many(items, operator)
        out[f"{name}_per_s"] = len(items) / (time.perf_counter() - t0)
        out[f"{name}_main_cpu_ms_each"] = (time.process_time() - c0) / len(items) * 1000  # this process only
        k1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker, once joined
        out[f"{name}_worker_cpu_ms_each"] = ((k1.ru_utime + k1.ru_stime) - (k0.ru_utime + k0.ru_stime)) / len(items) * 1000
        store.close()
    return out


def run_existing(db: Path, state: Path | None, count: int, interval: float, seed: int = 2011,
                 bulk: int = 0, bulk_batches: int = 0) -> dict[str, object]:
    """Single appends on an existing ledger built by ``bench/generate.py`` (e.g. a COPY of
    the 10^6 ledger of ``bench/run.py``, with a copy of its state file): the store is opened
    once, resumed from ``state`` (not timed), and appends ``count`` new incidents signed by
    the seeded keys. The file grows by ``count`` entries per run; each run picks fresh
    incident ids from the ledger's size, so runs can follow each other on one copy.
    ``bulk_batches`` > 0: then that many ``append_many`` batches of ``bulk`` statements
    (the bulk path at that size; entries per second of each batch)."""
    import sqlite3

    sys.path.insert(0, str(HERE))
    from generate import ROUND_START, SETUP_ENTRIES, TAIL_ENTRIES, build

    from ledger.people.demo_data import Story, _day
    from ledger.storage.store import LedgerStore

    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    size = conn.execute("SELECT max(seq) + 1 FROM entries").fetchone()[0]
    conn.close()
    # The same seed gives the same genesis, keys and ledger id whatever the size: a tiny
    # ledger of our own provides the signing keys and the statements' context.
    small = Path(tempfile.mkdtemp(prefix="bench-appends-keys-"))
    builder, _ = build(small / "ledger", SETUP_ENTRIES + TAIL_ENTRIES + 1, seed=seed)
    story = Story(builder)
    story.rng = random.Random(f"bench/appends/existing/{size}")
    story.serial = 100_000_000 + size
    builder.advance(days=30)
    items = []
    for i in range(count):
        body = story.new_incident("golfo-unido", _day(ROUND_START, i % 40))
        items.append(builder.signed(story.statement("incident.record", body, seconds=5), [story.recorder()]))
    batches = [[builder.signed(story.statement("incident.record",
                                               story.new_incident("golfo-unido", _day(ROUND_START, i % 40)), seconds=1),
                               [story.recorder()]) for i in range(bulk)] for _ in range(bulk_batches)]
    operator = builder.keys["operator"]
    builder.store.close()
    shutil.rmtree(small)
    out: dict[str, float] = {"entries_before": size, "appends": count, "checkpoint_interval": interval}
    t0 = time.perf_counter()
    store = LedgerStore.open(db, state=state, checkpoint_interval=interval)
    store.verifier()
    out["open_and_resume_s"] = time.perf_counter() - t0
    out["resumed_from"] = store.resumed_from
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    c0, t0 = time.process_time(), time.perf_counter()
    for statement, signatures in items:
        store.append(statement, signatures, operator)
    store.checkpoint()  # every append covered by a signed checkpoint (as bench/run.py)
    out["per_s"] = count / (time.perf_counter() - t0)
    out["cpu_ms_each"] = (time.process_time() - c0) / count * 1000
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    out["user_ms_each"] = (r1.ru_utime - r0.ru_utime) / count * 1000
    out["sys_ms_each"] = (r1.ru_stime - r0.ru_stime) / count * 1000
    rates = []
    for batch in batches:
        t0 = time.perf_counter()
        store.append_many(batch, operator)
        rates.append(len(batch) / (time.perf_counter() - t0))
    if rates:
        out["bulk_per_s_each_batch"] = rates
    t0 = time.perf_counter()
    store.close()  # saves the state file
    out["close_s"] = time.perf_counter() - t0
    out["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def compare(other: Path, rounds: int, args: list[str]) -> None:
    mine = HERE.parent
    results: dict[str, list[dict[str, float]]] = {"other": [], "this": []}
    for r in range(rounds):
        for label, root in (("other", other), ("this", mine)):
            env = dict(os.environ, PYTHONPATH=str(root))
            proc = subprocess.run([sys.executable, str(HERE / "appends.py"), *args], env=env, capture_output=True,
                                  text=True, cwd=str(root))
            if proc.returncode != 0:
                print(f"{label} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
                raise SystemExit(1)
            results[label].append(json.loads(proc.stdout))
            print(f"round {r + 1} {label}: {proc.stdout.strip()}", file=sys.stderr, flush=True)
    keys = sorted({k for runs in results.values() for run_ in runs for k in run_})
    table = {}
    for key in keys:
        table[key] = {label: statistics.median(run_[key] for run_ in runs if key in run_) if any(key in r for r in runs)
                      else None for label, runs in results.items()}
    print(json.dumps({"rounds": rounds, "medians": table, "runs": results}, indent=2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=int, default=2000, help="entries in the ledger before the appends")
    parser.add_argument("--single", type=int, default=1000, help="single appends per mode")
    parser.add_argument("--bulk", type=int, default=10000, help="statements in each bulk batch")
    parser.add_argument("--compare", type=Path, default=None, help="another checkout to run against, interleaved")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--existing", type=Path, default=None,
                        help="instead: single appends on this ledger (a copy: it grows), built by bench/generate.py")
    parser.add_argument("--state", type=Path, default=None, help="with --existing: its verifier state file (a copy)")
    parser.add_argument("--interval", type=float, default=0.0, help="with --existing: checkpoint interval (s)")
    parser.add_argument("--bulk-batches", type=int, default=0,
                        help="with --existing: then this many append_many batches of --bulk statements")
    args = parser.parse_args()
    if args.existing is not None:
        forward = ["--existing", str(args.existing.resolve()), "--single", str(args.single),
                   "--interval", str(args.interval), "--bulk", str(args.bulk),
                   "--bulk-batches", str(args.bulk_batches)]
        forward += ["--state", str(args.state.resolve())] if args.state is not None else []
    else:
        forward = ["--base", str(args.base), "--single", str(args.single), "--bulk", str(args.bulk)]
    if args.compare is not None:
        compare(args.compare.resolve(), args.rounds, forward)
        return 0
    if args.existing is not None:
        print(json.dumps(run_existing(args.existing, args.state, args.single, args.interval,
                                             bulk=args.bulk, bulk_batches=args.bulk_batches)))
        return 0
    print(json.dumps(run(args.base, args.single, args.bulk)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
