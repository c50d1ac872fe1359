"""Benchmarks at scale: build a ledger of N entries, then measure verify, appends, replay, proofs.

Run from the repository root:

    python bench/run.py --entries 1000000 --keep /tmp/bundle.jsonl   # the full run
    python bench/run.py --entries 100000 --keep /tmp/bundle.jsonl    # a quicker one

Prints a table, writes ``bench/out/results.json`` and leaves the exported bundle at
``--keep`` (so that other tools can be timed on the same bytes). Every figure comes from
this run on this machine. CPU figures are process CPU time; "wall" is elapsed time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# the ledger package is the installed one (bin/test or pip install .), never the checkout's
# ledger/ directory, which lacks ledger.schemas and ledger.cli.
# ...and so is every child process (`python -c ...`): run from the checkout, Python would put
# the working directory first on sys.path and import the checkout's ledger/ instead.
os.environ["PYTHONSAFEPATH"] = "1"

from generate import build  # noqa: E402

from ledger.core import canonical  # noqa: E402
from ledger.storage.bundle import read_bundle, write_bundle  # noqa: E402
from ledger.core.model import STATEMENT_CONTEXT, decode_entry, seal_signing_message  # noqa: E402

PY = sys.executable


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform()}


# Peak memory: ru_maxrss of a child counts the pages of the parent it was forked from (the
# kernel carries the old address space's high-water mark across exec), and this parent
# holds a large ledger by then. So a Python child reports the high-water mark of its own
# address space (VmHWM) on its last stderr line, and that is the figure used.
PEAK_MARK = "bench-peak-kb:"
_REPORT_PEAK = ("import atexit, sys\n"
                f"atexit.register(lambda: print('{PEAK_MARK}' + [l.split()[1] for l in open('/proc/self/status') "
                "if l.startswith('VmHWM')][0], file=sys.stderr))\n")


def run_child(args: list[str]) -> dict[str, float]:
    """Run a child process; wall time and CPU time of that child alone, and its own peak RSS
    (MB) for a ``[PY, "-c", CODE, ...]`` child (else ru_maxrss, which may include ours)."""
    if args[:2] == [PY, "-c"]:
        args = [PY, "-c", _REPORT_PEAK + args[2], *args[3:]]
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = b"", b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    code = os.waitstatus_to_exitcode(status)
    peak_mb = usage.ru_maxrss / 1024
    lines = err.decode(errors="replace").rstrip("\n").split("\n")
    if lines and lines[-1].startswith(PEAK_MARK):
        peak_mb = int(lines.pop()[len(PEAK_MARK):]) / 1024
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "maxrss_mb": peak_mb,
            "exit": code, "stdout": out.decode(errors="replace"), "stderr": "\n".join(lines)}


CLI = [PY, "-c", "import sys; from ledger.cli import main; sys.exit(main())"]

# A child that loops cryptography's Ed25519 verify (argv[2] "openssl", the floor) or
# libsodium's (argv[2] "sodium": the verifier's first check, ADR 0007) over every statement
# signature and seal of a bundle. Messages are prepared chunk by chunk (not timed); only
# the verify calls are.
BARE_LOOP = r"""
import json, sys, time, base64
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_sign_open
from ledger.core import canonical
from ledger.storage.bundle import read_bundle
from ledger.core.model import decode_entry, STATEMENT_CONTEXT, seal_signing_message
keys = {}
SODIUM = sys.argv[2] == "sodium"
def key(kid, directory):
    if kid not in keys:
        raw = base64.b64decode(directory[kid])
        keys[kid] = raw if SODIUM else Ed25519PublicKey.from_public_bytes(raw)
    return keys[kid]
directory = {}
timed = 0.0
count = 0
chunk = []
def flush():
    global timed, count
    t = time.perf_counter()
    if SODIUM:
        for k, s, m in chunk:
            crypto_sign_open(s + m, k)
    else:
        for k, s, m in chunk:
            k.verify(s, m)
    timed += time.perf_counter() - t
    count += len(chunk)
    chunk.clear()
with open(sys.argv[1], "rb") as f:
    for raw in read_bundle(f):
        obj = canonical.parse(raw)
        body = obj["statement"]["body"]
        if obj["statement"]["type"] in ("ledger.genesis", "policy.update"):
            directory.update({k: v["public_key"] for k, v in body["policy"]["keys"].items()})
        e = decode_entry(raw, obj)
        for s in e.signatures:
            chunk.append((key(s.key_id, directory), s.sig, e.statement.signing_message))
        chunk.append((key(e.seal.key_id, directory), e.seal.sig, seal_signing_message(e.unsealed_bytes())))
        if len(chunk) >= 20000:
            flush()
flush()
print(json.dumps({"seconds": timed, "signatures": count}))
"""


def interleaved_ratio(bundle: Path, limit: int) -> dict[str, float]:
    """Verifier vs bare loops (OpenSSL's and libsodium's) on the same entries, alternating
    chunk by chunk in one process, so that all see the same machine load. Covers the first
    ``limit`` entries."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from nacl.bindings import crypto_sign_open

    from ledger.scoring.process import new_verifier

    verifier = new_verifier()
    keys: dict[str, Ed25519PublicKey] = {}
    t_verify = t_bare = t_sodium = 0.0
    n = 0
    raws: list[bytes] = []

    def chunk_done() -> None:
        nonlocal t_verify, t_bare, t_sodium
        triples = []
        for raw in raws:
            obj = canonical.parse(raw)
            if obj["statement"]["type"] in ("ledger.genesis", "policy.update"):
                for kid, item in obj["statement"]["body"]["policy"]["keys"].items():
                    keys.setdefault(kid, Ed25519PublicKey.from_public_bytes(canonical_b64(item["public_key"])))
            e = decode_entry(raw, obj)
            for s in e.signatures:
                triples.append((keys[s.key_id], s.sig, STATEMENT_CONTEXT + e.statement.raw))
            triples.append((keys[e.seal.key_id], e.seal.sig, seal_signing_message(e.unsealed_bytes())))
        t0 = time.process_time()
        for raw in raws:
            verifier.feed(raw)
        t1 = time.process_time()
        for k, s, m in triples:
            k.verify(s, m)
        t2 = time.process_time()
        for k, s, m in triples:
            crypto_sign_open(s + m, k.public_bytes_raw())
        t3 = time.process_time()
        t_verify += t1 - t0
        t_bare += t2 - t1
        t_sodium += t3 - t2
        raws.clear()

    with open(bundle, "rb") as handle:
        for raw in read_bundle(handle):
            raws.append(raw)
            n += 1
            if len(raws) >= 500:
                chunk_done()
            if n >= limit:
                break
    chunk_done()
    return {"entries": n, "verify_cpu": t_verify, "bare_cpu": t_bare, "ratio": t_verify / t_bare,
            "sodium_cpu": t_sodium, "ratio_sodium": t_verify / t_sodium}


def canonical_b64(text: str) -> bytes:
    import base64

    return base64.b64decode(text)


def measure_appends(db: Path, builder, count: int, serial_base: int = 10_000_000,
                    checkpoint_interval: float = 0.0) -> dict[str, float]:
    """Single durable appends (one transaction and fsync each) on an open store; a checkpoint
    signed by every append (interval 0), or at most once per ``checkpoint_interval`` seconds
    and once more at the end (timed), as SPEC.md 14.6 allows."""
    from ledger.people.demo_data import _day

    from generate import ROUND_START
    from ledger.people.demo_data import Story

    import random

    story = Story(builder)
    story.rng = random.Random(f"bench-appends/{serial_base}")
    story.serial = serial_base  # new incident ids
    items = []
    for i in range(count):
        body = story.new_incident("golfo-unido", _day(ROUND_START, i % 40))
        items.append(builder.signed(story.statement("incident.record", body, seconds=5), [story.recorder()]))
    store = builder.store
    saved, store.checkpoint_interval = store.checkpoint_interval, checkpoint_interval
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        for statement, signatures in items:
            store.append(statement, signatures, builder.keys["operator"])
        store.checkpoint()  # every append covered by a signed checkpoint (already, with interval 0)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        store.checkpoint_interval = saved
    return {"appends": count, "seconds": elapsed, "per_second": count / elapsed, "cpu_ms_each": cpu / count * 1000,
            "checkpoint_interval": checkpoint_interval}


def measure_proofs(db: Path, size: int) -> dict[str, float]:
    import random

    from ledger.core import merkle
    from ledger.storage.store import LedgerStore

    rng = random.Random(7)
    with LedgerStore.open(db, readonly=True) as store:
        tree_size = store.tree.size
        root = store.tree.root(tree_size)
        indexes = [rng.randrange(tree_size) for _ in range(200)]
        leaves = {i: merkle.leaf_hash(store.raw_at(i)) for i in indexes}
        t0 = time.perf_counter()
        proofs = [(i, store.tree.inclusion_proof(i, tree_size)) for i in indexes]
        t1 = time.perf_counter()
        for i, proof in proofs:
            merkle.verify_inclusion(leaves[i], i, tree_size, proof, root)
        t2 = time.perf_counter()
    return {"tree_size": tree_size, "generate_ms": (t1 - t0) / len(indexes) * 1000,
            "verify_ms": (t2 - t1) / len(indexes) * 1000}


def measure_replay(state_file: Path) -> dict[str, float]:
    """Replay of round 1 from the verifier state that ``verify --state`` saved (loading the
    state is not timed; the replay reads every incident from it)."""
    code = r"""
import json, sys, time
from pathlib import Path
from ledger.storage import incremental
from ledger.scoring.replay import replay
from ledger.scoring.process import scoring_process
size, _, verifier, disk = incremental.load(Path(sys.argv[1]))
state = scoring_process(verifier).state
t = time.perf_counter(); doc = replay(state, 1); t = time.perf_counter() - t
print(json.dumps({"seconds": t, "incidents": len(state.incidents), "digest": doc.digest}))
"""
    child = run_child([PY, "-c", code, str(state_file)])
    if child["exit"] != 0:
        return {"error": child["stderr"][-500:]}
    return json.loads(child["stdout"]) | {"cpu": child["cpu"], "maxrss_mb": child["maxrss_mb"]}


def measure_incremental(db: Path, state_file: Path, builder, new: int) -> dict[str, float]:
    """Append ``new`` entries, then verify only the entries after the state that the full
    ``ledger verify --state`` run saved (the ledger's prefix is the same bytes): these and
    the ones the appends measurements added."""
    from ledger.app import load as snapshot
    from ledger.storage.store import LedgerStore

    appended = measure_appends(db, builder, new, serial_base=20_000_000)
    t1 = time.perf_counter()
    report = snapshot.verify_path(db, state=state_file)
    incremental = time.perf_counter() - t1
    # Anchored (--since-checkpoint): more entries, verified without re-reading the prefix,
    # tied to the store's latest signed checkpoint.
    measure_appends(db, builder, new, serial_base=21_000_000)
    t2 = time.perf_counter()
    anchored = snapshot.verify_path(db, state=state_file, since_checkpoint=True)
    anchored_seconds = time.perf_counter() - t2
    with LedgerStore.open(db, readonly=True) as store:
        size = store.size
    return {"new_entries": report.new_entries, "incremental_seconds": incremental, "incremental_ok": report.ok,
            "resumed_from": report.resumed_from, "size": size,
            "snapshot_mb": state_file.stat().st_size / 2**20, "appends_per_second_during": appended["per_second"],
            "anchored_new_entries": anchored.new_entries, "anchored_seconds": anchored_seconds,
            "anchored_ok": anchored.ok and anchored.anchored, "anchored_resumed_from": anchored.resumed_from}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, required=True, help="where to leave the exported bundle")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--appends", type=int, default=1000)
    parser.add_argument("--ratio-entries", type=int, default=20000, help="entries for the interleaved ratio")
    parser.add_argument("--parallel-entries", type=int, default=100_000,
                        help="entries for the interleaved --jobs speed-up (bench/parallel_speed.py)")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    results: dict[str, object] = {"machine": machine(), "entries": args.entries}
    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, value: str, goal: str = "", met: bool | None = None) -> None:
        rows.append((name, value, goal, "" if met is None else ("met" if met else "NOT met")))
        print(f"  {name}: {value}", flush=True)

    print(f"building {args.entries} entries in {work} ...", flush=True)
    builder, stats = build(work / "ledger", args.entries,
                           progress=lambda k: print(".", end="", flush=True) if k else None)
    print(flush=True)
    db = work / "ledger" / "ledger.db"
    bulk_rate = stats.bulk_entries / stats.bulk_seconds
    results["build"] = stats.__dict__ | {"bulk_per_second": bulk_rate}
    row("bulk import (append_many: sealing + signature checks on a worker, verification, Merkle, checkpoint)",
        f"{bulk_rate:,.0f} entries/s", ">= 15,000/s", bulk_rate >= 15000)

    args.keep.parent.mkdir(parents=True, exist_ok=True)
    with open(args.keep, "wb") as out:
        write_bundle(builder.store.iter_raw(), out)
    results["bundle"] = {"path": str(args.keep), "bytes": args.keep.stat().st_size}

    # Bare loop, verify (1 core), verify (all cores), peak memory.
    def bare_loop(library: str) -> dict[str, float]:
        child = run_child([PY, "-c", BARE_LOOP, str(args.keep), library])
        return json.loads(child["stdout"]) if child["exit"] == 0 else {"seconds": float("nan"), "signatures": 0}

    bare_j, sodium_j = bare_loop("openssl"), bare_loop("sodium")
    results["bare_loop"], results["bare_loop_sodium"] = bare_j, sodium_j
    row("bare Ed25519 verify loop (cryptography/OpenSSL: the issue's floor)",
        f"{bare_j['signatures'] / bare_j['seconds']:,.0f} signatures/s ({args.entries / bare_j['seconds']:,.0f} entries/s)")
    row("bare Ed25519 verify loop (libsodium: the verifier's first check, ADR 0007)",
        f"{sodium_j['signatures'] / sodium_j['seconds']:,.0f} signatures/s ({args.entries / sodium_j['seconds']:,.0f} entries/s)")

    # One full verification, as an auditor runs it: it also saves the verifier state
    # (--state) that the incremental measurement resumes from and the replay reads.
    state_file = db.with_suffix(".snapshot")
    single = run_child(CLI + ["verify", str(args.keep), "--json", "--state", str(state_file)])
    results["verify_1"] = {k: v for k, v in single.items() if k not in ("stdout", "stderr")}
    ok = single["exit"] == 0
    row("ledger verify, 1 process", f"{args.entries / single['wall']:,.0f} entries/s, {single['wall']:.1f} s wall, "
        f"exit {single['exit']}")
    ratio_cli = single["cpu"] / bare_j["seconds"]
    row("  verify CPU / bare loop (end to end, incl. start-up)", f"{ratio_cli:.2f}", "<= 1.25", ratio_cli <= 1.25)
    row("  verify CPU / libsodium bare loop (the verifier's own overhead)", f"{single['cpu'] / sodium_j['seconds']:.2f}")
    row("  peak memory of verify", f"{single['maxrss_mb']:.0f} MB", "< 300 MB", single["maxrss_mb"] < 300)

    inter = interleaved_ratio(args.keep, args.ratio_entries)
    results["ratio_interleaved"] = inter
    row(f"  verify / bare loop, interleaved on {inter['entries']:,} entries", f"{inter['ratio']:.2f}", "<= 1.25",
        inter["ratio"] <= 1.25)
    row("  verify / libsodium bare loop, interleaved (own overhead)", f"{inter['ratio_sodium']:.2f}")

    par = run_child(CLI + ["verify", str(args.keep), "--json", "--jobs", str(args.jobs)])
    results["verify_parallel"] = {k: v for k, v in par.items() if k not in ("stdout", "stderr")} | {"jobs": args.jobs}
    same = ok and par["exit"] == 0 and json.loads(par["stdout"]) == json.loads(single["stdout"])
    speedup = bare_j["seconds"] / par["wall"]
    row(f"ledger verify --jobs {args.jobs}", f"{args.entries / par['wall']:,.0f} entries/s, {par['wall']:.1f} s wall, "
        f"same report: {same}")
    row("  speed-up over the 1-core bare loop", f"{speedup:.2f}x", ">= 1.6x", speedup >= 1.6)
    row("  peak memory (main process)", f"{par['maxrss_mb']:.0f} MB")
    from parallel_speed import interleaved_parallel

    inter_par = interleaved_parallel(args.keep, min(args.parallel_entries, args.entries), args.jobs, rounds=3)
    results["parallel_interleaved"] = inter_par
    row(f"  speed-up over the bare loop, interleaved on {inter_par['entries']:,} entries (median of 3)",
        f"{inter_par['median_speedup']:.2f}x", ">= 1.6x", inter_par["median_speedup"] >= 1.6)

    proofs = measure_proofs(db, args.entries)
    results["proofs"] = proofs
    row(f"inclusion proof generation at {proofs['tree_size']:,}", f"{proofs['generate_ms']:.3f} ms", "< 5 ms",
        proofs["generate_ms"] < 5)
    row("inclusion proof verification", f"{proofs['verify_ms']:.3f} ms", "< 1 ms", proofs["verify_ms"] < 1)

    appends = measure_appends(db, builder, args.appends)
    results["appends"] = appends
    row("single durable appends (open store, one transaction + checkpoint each)",
        f"{appends['per_second']:,.0f}/s ({appends['cpu_ms_each']:.2f} ms CPU each)", ">= 1,000/s",
        appends["per_second"] >= 1000)
    lazy = measure_appends(db, builder, args.appends, serial_base=11_000_000, checkpoint_interval=1.0)
    results["appends_checkpoint_1s"] = lazy
    row("single durable appends (open store, one transaction each, checkpoint at most 1/s)",
        f"{lazy['per_second']:,.0f}/s ({lazy['cpu_ms_each']:.2f} ms CPU each)", ">= 1,000/s", lazy["per_second"] >= 1000)

    inc = measure_incremental(db, state_file, builder, min(1000, args.appends))
    results["incremental"] = inc
    row(f"incremental verify of {inc['new_entries']} new entries (prefix re-read)", f"{inc['incremental_seconds']:.2f} s "
        f"(resumed from {inc['resumed_from']:,}; state file {inc['snapshot_mb']:.0f} MB)", "", inc["incremental_ok"])
    row(f"incremental verify of {inc['anchored_new_entries']} new entries, --since-checkpoint",
        f"{inc['anchored_seconds']:.2f} s (resumed from {inc['anchored_resumed_from']:,})", "~ new entries only",
        inc["anchored_ok"])

    rep = measure_replay(state_file)
    results["replay"] = rep
    if "seconds" in rep:
        row(f"replay of round 1 ({rep['incidents']:,} incidents)", f"{rep['seconds']:.2f} s", "< 15 s", rep["seconds"] < 15)

    builder.store.close()
    results["table"] = rows
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print()
    print(f"N = {args.entries:,}; {results['machine']}")
    width = max(len(r[0]) for r in rows)
    for name, value, goal, met in rows:
        print(f"{name:<{width}}  {value:<40} {goal:<12} {met}")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
