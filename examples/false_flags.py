#!/usr/bin/env python3
"""How often would false flags have changed the target? Prints the figure.

    python examples/false_flags.py                      # 200 simulated rounds, example rules
    python examples/false_flags.py --rounds 500 --false-flag-per-mille 50 --json

Each simulated round (one seed each) is generated with ledger/people/synthetic.py, then scored
twice by the replay engine: on the recorded attributions (false flags included, as a
recorder would have them) and on the ground truth. The figure is the share of rounds in
which the two targets differ (a different organization, or a target in one and none in
the other).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ledger.core import canonical
from ledger.people.synthetic import Params, false_flag_study

RULES = Path(__file__).resolve().parent / "rules" / "harm-index.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1, help="first seed")
    parser.add_argument("--false-flag-per-mille", type=int, default=Params().false_flag_per_mille)
    parser.add_argument("--events-per-week", type=int, default=Params().events_per_week)
    parser.add_argument("--rules", type=Path, default=RULES, help="a rules.adopt body (JSON)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rules = canonical.parse(args.rules.read_bytes().strip())
    params = Params(false_flag_per_mille=args.false_flag_per_mille, events_per_week=args.events_per_week)
    result = false_flag_study(rules, rounds=args.rounds, seed=args.seed, params=params)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    changed, rounds = result["target_changed"], result["rounds"]
    percent = (1000 * changed + rounds // 2) // rounds  # tenths of a percent, integer arithmetic
    print(f"False flags changed the target in {changed} of {rounds} simulated rounds ({percent // 10}.{percent % 10}%), "
          f"at {args.false_flag_per_mille} false flags per 1000 incidents "
          f"({result['rounds_with_false_flags']} rounds had at least one).")
    for case in result["cases"][:10]:
        print(f"  seed {case['seed']}: recorded data name {case['recorded_target'] or 'no target'}, "
              f"the truth names {case['true_target'] or 'no target'} ({case['false_flags']} false flags)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
