"""What each fast path earns end to end: CPU time with it on and off, alternated.

    python bench/fastpaths.py [--bundle /tmp/fast30k.jsonl] [--state FILE] [--repeat 3] [--only NAME ...]

For every fast path below, a child process runs the real work with that one path on, then a
child runs it with the path off (its reference path taken instead), alternated ``--repeat``
times; the figure is the median **process CPU time** of the child (user + system, from
``wait4``): robust to the other load on a shared machine, unlike wall time.

* verifier paths: ``ledger verify BUNDLE`` (the whole command: start-up, reading, parsing,
  every rule, the report), in a child;
* the replay path: ``replay(state, 1)`` from a copy of the state file that
  ``ledger verify BUNDLE --state FILE`` saved (loading not timed, as ``bench/replay_speed.py``);
  the figure is the child's CPU time around the call (``time.process_time``).

Each path is turned off the way the equivalence tests used to (a monkeypatch in the child),
so paths that are no longer in the tree show as "not in this tree" rows. The last row turns
off everything at once with the one switch (``ledger.core.fastpaths.ENABLED = False``).
If the bundle is missing it is built (``bench/generate.py``, ``--entries``, seeded) and the
state file is saved by one ``ledger verify --state``. Every run must exit 0 (the verdict is
the same either way; the equivalence tests check the reports byte for byte).
Prints a table: path, CPU on, CPU off, gain % (= (off - on) / off).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# the installed ledger package, never the checkout's ledger/ directory (see bench/run.py)
os.environ["PYTHONSAFEPATH"] = "1"
PY = sys.executable

# name -> (what it is, code run in the child to turn it off, "verify" or "replay").
# Turning a path off must make its caller take the reference path; code that fails with
# AttributeError means the path is not in this tree (removed).
PATHS: dict[str, tuple[str, str, str]] = {
    "split_canonical_entry": (
        "model._split_canonical_entry: statement/unsealed bytes sliced, not re-encoded",
        "from ledger.core import model; model._split_canonical_entry; "
        "model._split_canonical_entry = lambda raw, obj: None", "verify"),
    "time_shape": (
        "verify._TIME_SHAPE: regex + fromisoformat, not strptime",
        "from ledger.core import verify\n"
        "class Never:\n    def fullmatch(self, text): return None\n"
        "verify._TIME_SHAPE; verify._TIME_SHAPE = Never()", "verify"),
    "orjson_canonical": (
        "canonical._orjson_canonical: orjson round trip, not the reference encoder",
        "from ledger.core import canonical; canonical._orjson_canonical; "
        "canonical._orjson_canonical = lambda data, max_bytes, max_depth: None", "verify"),
    "fast_decoder": (
        "canonical._FAST_DECODER: stdlib round trip without the pairs hook",
        "from ledger.core import canonical\n"
        "class Refuse:\n    def decode(self, text): raise ValueError('off')\n"
        "canonical._FAST_DECODER; canonical._FAST_DECODER = Refuse()", "verify"),
    "b64_canonical": (
        "model._b64_canonical: binascii strict, not base64 + re-encode",
        "from ledger.core import model; model._b64_canonical; "
        "model._b64_canonical = lambda text, length: None", "verify"),
    "core_ok": (
        "Verifier._core_ok: core rules checked without wording",
        "from ledger.core.verify import Verifier; Verifier._core_ok; "
        "Verifier._core_ok = lambda self, entry: False", "verify"),
    "content_ok": (
        "ScoringProcess._content_ok: incident content checked without wording",
        "from ledger.scoring.process import ScoringProcess; ScoringProcess._content_ok; "
        "ScoringProcess._content_ok = lambda self, inc: False", "verify"),
    "sodium_accept": (
        "keys: libsodium accepts first, OpenSSL decides refusals (ADR 0007)",
        "from ledger.core import keys\n"
        "def refuse(signed, key): raise keys._SodiumRejects()\n"
        "keys._sodium_open; keys._sodium_open = refuse", "verify"),
    "replay_fast_path": (
        "replay._FAST_PATH: the usual incident in a few steps",
        "from ledger.scoring import replay as r; r._FAST_PATH; r._FAST_PATH = False", "replay"),
    "ratio_texts": (
        "replay._ratio_texts: display/exact texts with integers, not rules.display/exact",
        "from fractions import Fraction\n"
        "from ledger.scoring import replay as r\n"
        "from ledger.scoring.rules import display, exact\n"
        "r._ratio_texts; r._ratio_texts = lambda n, d, places: (display(Fraction(n, d), places), exact(Fraction(n, d)))",
        "replay"),
    "switch (verify)": (
        "every remaining path off: ledger.core.fastpaths.ENABLED = False",
        "from ledger.core import fastpaths; fastpaths.ENABLED = False", "verify"),
}

VERIFY = r"""
import sys
{off}
from ledger.cli import main
sys.argv = ["ledger", "verify", sys.argv[1]]
try:
    main()
except SystemExit as exit:
    sys.exit(exit.code)
"""

REPLAY = r"""
import json, sys, time
from pathlib import Path
{off}
from ledger.storage import incremental
from ledger.scoring.replay import replay
from ledger.scoring.process import scoring_process
size, _, verifier, disk = incremental.load(Path(sys.argv[1]))
state = scoring_process(verifier).state
t = time.process_time(); doc = replay(state, 1); t = time.process_time() - t
print(json.dumps({{"cpu": t, "digest": doc.digest}}))
"""


def run(code: str, arg: str) -> tuple[int, float, str, str]:
    """Run ``[PY, -c, code, arg]``; (exit code, its CPU time user+system, stdout, stderr)."""
    proc = subprocess.Popen([PY, "-c", code, arg], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    return (os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime,
            out.decode(errors="replace"), err.decode(errors="replace"))


def measure(kind: str, off: str, target: str) -> float | None:
    """CPU seconds of one run; None if the path is absent from this tree."""
    template = VERIFY if kind == "verify" else REPLAY
    code, cpu, out, err = run(template.format(off=off), target)
    if code != 0:
        if any(name in err for name in ("AttributeError", "ImportError", "ModuleNotFoundError")):
            return None
        raise SystemExit(f"fastpaths: a {kind} run failed (exit {code}):\n{err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])["cpu"] if kind == "replay" else cpu


def ensure_inputs(bundle: Path, state: Path, entries: int) -> None:
    if not bundle.exists():
        from generate import build
        from ledger.storage.bundle import write_bundle

        work = Path(tempfile.mkdtemp(prefix="fastpaths-"))
        builder, _ = build(work / "ledger", entries)
        with open(bundle, "wb") as out:
            write_bundle(builder.store.iter_raw(), out)
        shutil.rmtree(work, ignore_errors=True)
    if not state.exists():
        subprocess.run([PY, "-c", "import sys; from ledger.cli import main; sys.exit(main())", "verify",
                        str(bundle), "--state", str(state)], check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, default=Path("/tmp/fast30k.jsonl"))
    parser.add_argument("--state", type=Path, default=None, help="default: BUNDLE with suffix .state")
    parser.add_argument("--entries", type=int, default=30_000, help="entries if the bundle is built")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None, help="measure only these paths")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure here")
    args = parser.parse_args()
    state = args.state or args.bundle.with_suffix(".state")
    ensure_inputs(args.bundle, state, args.entries)
    copy_dir = Path(tempfile.mkdtemp(prefix="fastpaths-state-"))
    state_copy = copy_dir / state.name  # loading opens it as SQLite: never the original
    shutil.copyfile(state, state_copy)

    results: dict[str, dict[str, object]] = {}
    print(f"{'path':<24} {'CPU on':>9} {'CPU off':>9} {'gain':>7}   (median of {args.repeat}, process CPU s)")
    try:
        for name, (what, off, kind) in PATHS.items():
            if args.only and name not in args.only:
                continue
            target = str(args.bundle if kind == "verify" else state_copy)
            on_runs: list[float] = []
            off_runs: list[float] = []
            absent = False
            for _ in range(args.repeat):
                off_cpu = measure(kind, off, target)
                if off_cpu is None:
                    absent = True
                    break
                off_runs.append(off_cpu)
                on_runs.append(measure(kind, "", target))
            if absent:
                results[name] = {"what": what, "absent": True}
                print(f"{name:<24} {'(not in this tree)':>27}", flush=True)
                continue
            on, off_median = statistics.median(on_runs), statistics.median(off_runs)
            gain = (off_median - on) / off_median * 100
            results[name] = {"what": what, "kind": kind, "on": on_runs, "off": off_runs, "gain_percent": gain}
            print(f"{name:<24} {on:>9.3f} {off_median:>9.3f} {gain:>6.1f}%", flush=True)
    finally:
        shutil.rmtree(copy_dir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
