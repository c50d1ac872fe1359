"""Memory and time of the verifier's large state (ledger.storage.diskstate), replay and resuming.

    python bench/state.py --bundle /tmp/b20k/bundle.jsonl [--synthetic 1000000] [--skip ...]

Measures, on an existing bundle (``bench/run.py --keep`` or ``bench/generate.py``):

* ``verify``: peak RSS of a child ``ledger verify BUNDLE`` (os.wait4), wall and CPU;
* ``overhead``: the cost per entry of keeping the state on disk rather than in memory,
  interleaved in one process (chunks of entries fed to an in-memory verifier and to a
  disk-backed one in turn, process CPU time of each), medians over the chunks;
* ``replay``: round 1 replayed from the state after the bundle, in memory (the whole
  document, as ``ledger replay``) and from the disk state (digest only, as verification);
* ``synthetic``: a scoring state of N incidents (the bundle's incident bodies under new
  ids) and a statement index of N digests, on disk, then round 1 replayed (digest only, and
  the whole document): time and peak RSS in a child process;
* ``incremental``: ``verify --state`` over the bundle minus its last ``--new + 2`` entries,
  then resumed with ``--new`` more entries (the bundle's entries, truncated copies).

Prints one JSON object per measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# the ledger package is the installed one (bin/test or pip install .), never the checkout's
# ledger/ directory, which lacks ledger.schemas and ledger.cli.
# ...and so is every child process (`python -c ...`): run from the checkout, Python would put
# the working directory first on sys.path and import the checkout's ledger/ instead.
os.environ["PYTHONSAFEPATH"] = "1"

PY = sys.executable


def child(code: str, *args: str) -> dict:
    started = time.perf_counter()
    proc = subprocess.Popen([PY, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    result = {"wall": round(wall, 2), "cpu": round(usage.ru_utime + usage.ru_stime, 2),
              "maxrss_mb": round(usage.ru_maxrss / 1024, 1), "exit": os.waitstatus_to_exitcode(status)}
    if result["exit"] != 0:
        result["stderr"] = err[-800:]
    try:
        result.update(json.loads(out.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        result["stdout"] = out[-300:]
    return result


VERIFY = r"""
import json, sys
from ledger.app.load import verify_path
r = verify_path(sys.argv[1])
print(json.dumps({"ok": r.ok, "entries": r.size}))
"""


OVERHEAD = r"""
import json, sys, time, statistics
from ledger.storage.bundle import read_bundle
from ledger.storage.diskstate import DiskState, disk_verifier
from ledger.scoring.process import new_verifier
memory, disk = new_verifier(), disk_verifier(DiskState())
raws = []
m, d = [], []
def run(v, chunk):
    t = time.process_time()
    for raw in chunk:
        v.feed(raw)
    return time.process_time() - t
with open(sys.argv[1], "rb") as f:
    for raw in read_bundle(f):
        raws.append(raw)
        if len(raws) == 1000:
            # alternate which goes first, so that neither always meets a warm cache
            if len(m) % 2:
                m.append(run(memory, raws)); d.append(run(disk, raws))
            else:
                d.append(run(disk, raws)); m.append(run(memory, raws))
            raws = []
if raws:
    m.append(run(memory, raws)); d.append(run(disk, raws))
per = [(b - a) / 1000 * 1e6 for a, b in zip(m[:-1], d[:-1])]
print(json.dumps({"chunks": len(per), "memory_us_per_entry_median": round(statistics.median(m[:-1]) / 1000 * 1e6, 1),
                  "disk_us_per_entry_median": round(statistics.median(d[:-1]) / 1000 * 1e6, 1),
                  "disk_minus_memory_us_median": round(statistics.median(per), 2),
                  "disk_minus_memory_us_total_mean": round((sum(d) - sum(m)) / sum(1 for _ in range(len(m))) / 1000 * 1e6, 2)}))
"""


REPLAY = r"""
import json, sys, time
from ledger.storage.bundle import read_bundle
from ledger.storage.diskstate import DiskState, disk_verifier
from ledger.scoring.process import scoring_process
from ledger.scoring.replay import replay
from ledger.scoring.process import new_verifier
mode = sys.argv[2]
v = new_verifier() if mode == "memory" else disk_verifier(DiskState())
with open(sys.argv[1], "rb") as f:
    for raw in read_bundle(f):
        v.feed(raw)
state = scoring_process(v).state
out = {"mode": mode, "incidents": len(state.incidents)}
for label, only in (("digest_only", True), ("document", False)):
    times = []
    for _ in range(3):
        t = time.perf_counter(); doc = replay(state, 1, digest_only=only); times.append(time.perf_counter() - t)
    out[label + "_seconds_median"] = round(sorted(times)[1], 3)
    out[label + "_digest"] = doc.digest
print(json.dumps(out))
"""


SYNTHETIC = r"""
import json, resource, sys, time
from ledger.core import canonical
from ledger.storage.bundle import read_bundle
from ledger.storage.diskstate import DiskState, disk_verifier
from ledger.scoring.process import scoring_process
from ledger.scoring.replay import replay
from ledger.scoring.process import new_verifier
n, mode = int(sys.argv[2]), sys.argv[3]
v = new_verifier()
bodies = []
with open(sys.argv[1], "rb") as f:
    for raw in read_bundle(f):
        obj = canonical.parse(raw)
        if obj["statement"]["type"] == "incident.record":
            if len(bodies) < 5000:
                bodies.append(obj["statement"]["body"])
            continue
        v.feed(raw)  # everything else: genesis, orgs, rules, round.open, close, decide
disk = DiskState()
state = scoring_process(v).state
state.incidents, state.spool = disk.incidents, disk.spool
round_ = state.rounds[1]
# Incidents recorded between the round's open and close, under new ids (same bodies).
round_.close_seq, round_.decide_seq = round_.open_seq + n + 1, round_.open_seq + n + 2
state.size = round_.decide_seq
import hashlib
statements = disk.statements  # the verifier's other per-entry index, filled as verification would
t = time.perf_counter()
for i in range(n):
    body = dict(bodies[i % len(bodies)], incident_id=f"syn-{i:07d}")
    digest = hashlib.sha256(b"%d" % i).digest()
    key = digest[:16]
    if statements.get(key) is None:
        statements.setdefault(key, i)
    state.apply(round_.open_seq + 1 + i, "incident.record", body, digest.hex())
build = time.perf_counter() - t
disk.incidents.store.flush()
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
c, t = time.process_time(), time.perf_counter()
doc = replay(state, 1, digest_only=(mode == "digest_only"))
seconds, cpu = time.perf_counter() - t, time.process_time() - c
print(json.dumps({"incidents": n, "mode": mode, "build_seconds": round(build, 1), "replay_seconds": round(seconds, 2),
                  "replay_cpu_seconds": round(cpu, 2),
                  "rss_before_replay_mb": round(rss_before, 1), "digest": doc.digest,
                  "counted": doc.document["counts"]["incidents_counted"]}))
"""


INCREMENTAL = r"""
import json, sys, time
from ledger.app.load import verify_path
t = time.perf_counter(); r = verify_path(sys.argv[1], state=sys.argv[2]); t = time.perf_counter() - t
print(json.dumps({"seconds": round(t, 2), "ok": r.ok, "resumed_from": r.resumed_from, "new_entries": r.new_entries}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--synthetic", type=int, default=0, help="incidents of the synthetic state (0: skip)")
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["verify", "overhead", "replay", "synthetic", "incremental"])
    args = parser.parse_args()
    bundle = str(args.bundle)
    if "verify" not in args.skip:
        print(json.dumps({"verify": child(VERIFY, bundle)}), flush=True)
    if "overhead" not in args.skip:
        print(json.dumps({"overhead": child(OVERHEAD, bundle)}), flush=True)
    if "replay" not in args.skip:
        for mode in ("memory", "disk"):
            print(json.dumps({"replay": child(REPLAY, bundle, mode)}), flush=True)
    if args.synthetic and "synthetic" not in args.skip:
        for mode in ("digest_only", "document"):
            print(json.dumps({"synthetic": child(SYNTHETIC, bundle, str(args.synthetic), mode)}), flush=True)
    if "incremental" not in args.skip:
        # (The bundle is copied line by line, never held here: a child forked from a big
        # parent would report the parent's pages in its peak RSS.)
        with open(args.bundle, "rb") as handle:
            total = sum(1 for _ in handle)
        keep = total - args.new - 2  # stop before the round's close and decision

        def part_of(n: int, path: Path) -> None:
            with open(args.bundle, "rb") as src, open(path, "wb") as out:
                for i, line in enumerate(src):
                    if i >= n:
                        break
                    out.write(line)

        with tempfile.TemporaryDirectory() as work:
            state, part = Path(work) / "state", Path(work) / "part.jsonl"
            part_of(keep - args.new, part)
            first = child(INCREMENTAL, str(part), str(state))
            size = state.stat().st_size / 2**20
            part_of(keep, part)
            second = child(INCREMENTAL, str(part), str(state))
            print(json.dumps({"incremental": {"first": first, "state_mb": round(size, 1), "resume": second}}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
