"""Schema validation per entry: ``ledger.core.validation.validate`` (jsonschema-rs, the one
validator since issue 12, ADR 0008), jsonschema-rs alone and, if installed, python-jsonschema
(the reference before issue 12), on the entries of a ledger built by ``bench/generate.py``.

Run: python bench/schema_speed.py [--entries N]   (prints microseconds per entry: the
entry envelope plus its body, as the verifier validates them)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from ledger.core import canonical
from ledger.core.entry_types import ENTRY_TYPES
from ledger.storage.store import LedgerStore

ENTRY = "urn:violence-scoring-ledger:v1:entry"


def _entries(n: int) -> list[dict[str, Any]]:
    from generate import build  # bench/generate.py, next to this file

    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp), n)
        with LedgerStore.open(Path(tmp) / "ledger.db", readonly=True) as store:
            return [canonical.parse(raw) for raw in store.iter_raw()]


def _per_entry(check: Callable[[str, Any], Any], objs: list[dict[str, Any]], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for obj in objs:
            check(ENTRY, obj)
            check(ENTRY_TYPES[obj["statement"]["type"]].schema_id, obj["statement"]["body"])
        best = min(best, time.perf_counter() - started)
    return best / len(objs) * 1e6


def _candidates() -> dict[str, Callable[[str, Any], Any]]:
    out: dict[str, Callable[[str, Any], Any]] = {}
    schemas = [json.loads(p.read_text(encoding="utf-8"))
               for p in resources.files("ledger.schemas").iterdir() if p.name.endswith(".json")]
    from ledger.core.validation import validate

    out["ledger.core.validation.validate (as shipped)"] = lambda sid, obj: validate(sid, obj)
    try:  # not a dependency any more: compared only where it is installed
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource

        registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
        py = {s["$id"]: Draft202012Validator(s, registry=registry) for s in schemas}
        out["python-jsonschema is_valid"] = lambda sid, obj: py[sid].is_valid(obj)
    except ImportError:
        pass
    import jsonschema_rs

    rs_registry = jsonschema_rs.Registry([(s["$id"], s) for s in schemas], draft=jsonschema_rs.Draft202012)
    rs = {s["$id"]: jsonschema_rs.Draft202012Validator(s, registry=rs_registry) for s in schemas}
    out["jsonschema-rs is_valid"] = lambda sid, obj: rs[sid].is_valid(obj)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=2000)
    args = parser.parse_args()
    objs = _entries(args.entries)
    print(f"{len(objs)} entries ({sum(o['statement']['type'] == 'incident.record' for o in objs)} incident.record)")
    for name, check in _candidates().items():
        print(f"{name:45s} {_per_entry(check, objs):8.1f} µs/entry")


if __name__ == "__main__":
    main()
