#!/usr/bin/env python3
"""Write seeded synthetic incidents for `ledger import`, and their ground truth, apart.

    python examples/generate.py --out data/ --seed 1
    python examples/generate.py --out data/ --seed 7 --weeks 6 --events-per-week 60 --false-flag-per-mille 50

Writes OUT/incidents.csv (what a recorder sees: the importer's default columns, SPEC.md 17)
and OUT/truth.csv (who really did it, false flags, contested, revised counts). Every
parameter, and the public figure it imitates, is documented in ledger/people/synthetic.py.
The default organizations are those still eligible after `ledger demo`'s third round, and
the default dates fall in a fifth round after it (2027-03-08 .. 2027-04-18).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, fields
from pathlib import Path

from ledger.people.synthetic import CSV_COLUMNS, TRUTH_COLUMNS, Params, generate, to_csv, window


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, help="directory to write incidents.csv and truth.csv into")
    for f in fields(Params):
        if f.type in ("int", "str") and f.name != "orgs":
            parser.add_argument("--" + f.name.replace("_", "-"), type=int if f.type == "int" else str, default=f.default)
    args = parser.parse_args(argv)
    params = Params(**{f.name: getattr(args, f.name) for f in fields(Params) if hasattr(args, f.name)})
    events = generate(params)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "incidents.csv").write_bytes(to_csv([e.row for e in events], CSV_COLUMNS))
    (args.out / "truth.csv").write_bytes(to_csv([e.truth for e in events], TRUTH_COLUMNS))
    meta = {k: v for k, v in asdict(params).items() if k not in ("splinters",)}
    (args.out / "params.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    flags = sum(e.truth["false_flag"] for e in events)
    start, end = window(params)
    print(f"wrote {len(events)} incidents ({start} .. {end}; {flags} false flags) to {args.out / 'incidents.csv'}; ground truth in {args.out / 'truth.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
