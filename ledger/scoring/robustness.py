"""How sure can the public be of a ranking? Uncertainty analysis of one round (informative).

The method follows the uncertainty analysis of the OECD/JRC *Handbook on Constructing
Composite Indicators* (2008, section 7): the uncertain inputs of the index are sampled,
the index is recomputed for every sample, and the distribution of each unit's rank is
reported. The uncertain inputs here are (SPEC.md 12.10):

1. **the weights**: every non-zero weight of the committed rules is multiplied by its own
   factor ``1 + p * (k - N) / N`` with ``k`` drawn uniformly from the integers ``0 … 2N``
   (``N`` = 1000), i.e. a factor uniform on the grid of ``[1 - p, 1 + p]``;
2. **the victim counts**: the low, best or high estimate, one of the three with equal
   probability;
3. **the attribution**: with equal probability, (a) the committed treatment, (b) contested
   attributions dropped, or (c) contested attributions dropped *and* attributions resting on
   a single party's word dropped: incidents need at least two distinct publishers, and an
   attribution whose basis is a ``claim`` or an ``inference`` counts nothing.

Every sample is scored by the replay engine itself (:func:`ledger.scoring.replay.replay`,
with a :class:`~ledger.scoring.rules.Rules` that differs only in the sampled inputs), so
there is no second implementation of the scoring arithmetic. Arithmetic is exact: weights
stay integers over a common scale, probabilities are fractions of the sample count, and
draws are integers from ``random.Random(seed).randrange``. The same ledger, round, seed and
sample count give the same report, byte for byte.
"""

from __future__ import annotations

import dataclasses
import random
from fractions import Fraction
from typing import Any, Callable

from ..errors import InputError
from .replay import ReplayError, replay
from .rules import Rules, display, exact, parse_decimal
from .state import ScoringState
from .types import KINDS, ROLES

METHOD = "violence-scoring-ledger/robustness/v1"
STEPS = 1000  # N: the weight factor is drawn on a grid of 2N + 1 points
COUNTS = ("low", "best", "high")
ATTRIBUTION = ("committed", "contested_dropped", "corroborated_only")
PROBE = "robustness-probe"  # the key under which a sampled rule set is handed to replay()
PLACES = 3  # decimals of the displayed probabilities


def attribution_rules(rules: Rules, mode: str) -> Rules:
    """The committed rules with one of the three attribution treatments."""
    if mode == "committed":
        return rules
    changed = dataclasses.replace(rules, contested_mode="exclude", contested_factor=0)
    if mode == "contested_dropped":
        return changed
    basis = dict(rules.basis)
    basis["claim"] = 0
    basis["inference"] = 0
    return dataclasses.replace(changed, basis=basis, min_sources=max(2, rules.min_sources))


def weighted_rules(rules: Rules, factors: dict[tuple[str, str], int], scale: int) -> Rules:
    """``rules`` with weight(cell) multiplied by factors[cell] / scale (integers only)."""
    weight = {cell: w * factors.get(cell, scale) for cell, w in rules.weight.items()}
    feature = None if rules.feature is None else {f: w * scale for f, w in rules.feature.items()}  # same value
    return dataclasses.replace(rules, weight=weight, weight_scale=rules.weight_scale * scale, feature=feature)


def _rank_of(document: dict[str, Any]) -> dict[str, int]:
    return {row["org"]: row["rank"] for row in document["ranking"]}


def _quantile(sorted_ranks: list[int], percent: int) -> int:
    """Nearest-rank quantile: the value at 1-based position ceil(percent * K / 100)."""
    k = len(sorted_ranks)
    position = max(1, -(-percent * k // 100))
    return sorted_ranks[position - 1]


def _probability(count: int, total: int) -> dict[str, str]:
    value = Fraction(count, total)
    return {"value": display(value, PLACES), "exact": exact(value)}


def analyse(
    state: ScoringState,
    number: int,
    *,
    samples: int = 1000,
    seed: int = 0,
    spread: str = "0.25",
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The robustness report of round ``number`` (a JSON-ready dict of strings and integers)."""
    if samples < 1:
        raise InputError("--samples must be at least 1")
    p = parse_decimal(spread)
    if not 0 <= p <= 1:
        raise InputError(f"the spread must be between 0 and 1, got {spread}")
    round_ = state.rounds.get(number)
    if round_ is None:
        raise ReplayError(f"no round {number} in this ledger")  # refused, as by replay (SPEC 8.2: exit 1)
    committed = state.rules[round_.rules]
    probe = dataclasses.replace(state, rules=dict(state.rules))

    def score(rules: Rules) -> dict[str, Any]:
        probe.rules[PROBE] = rules
        return replay(probe, number, rules_digest=PROBE).document

    nominal = replay(state, number).document
    orgs = list(nominal["eligible"])
    nominal_rank = _rank_of(nominal)
    nominal_top = [row["org"] for row in nominal["ranking"] if row["rank"] == 1]
    nominal_target = nominal["selection"]["target"]

    # One-at-a-time scenarios: the discrete inputs at their every value, nominal weights.
    scenarios = []
    for count in COUNTS:
        for mode in ATTRIBUTION:
            document = score(dataclasses.replace(attribution_rules(committed, mode), count=count))
            selection = document["selection"]
            scenarios.append({
                "count": count, "attribution": mode,
                "top": [row["org"] for row in document["ranking"] if row["rank"] == 1],
                "target": selection["target"], "outcome": selection["outcome"], "ratio": selection["ratio"],
            })

    # Monte Carlo.
    cells = [(k, r) for k in KINDS for r in ROLES if committed.weight[(k, r)] != 0]
    scale = STEPS * p.denominator
    rng = random.Random(seed)
    ranks: dict[str, list[int]] = {o: [] for o in orgs}
    first = dict.fromkeys(orgs, 0)
    targets: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    for _ in range(samples):
        factors = {cell: STEPS * p.denominator + p.numerator * (rng.randrange(2 * STEPS + 1) - STEPS) for cell in cells}
        count = COUNTS[rng.randrange(len(COUNTS))]
        mode = ATTRIBUTION[rng.randrange(len(ATTRIBUTION))]
        rules = dataclasses.replace(weighted_rules(attribution_rules(committed, mode), factors, scale), count=count)
        document = score(rules)
        for row in document["ranking"]:
            ranks[row["org"]].append(row["rank"])
            if row["rank"] == 1:
                first[row["org"]] += 1
        selection = document["selection"]
        key = selection["target"] or ""
        targets[key] = targets.get(key, 0) + 1
        outcomes[selection["outcome"]] = outcomes.get(selection["outcome"], 0) + 1
        if progress is not None:
            progress(1)

    rows = []
    for org in orgs:
        ordered = sorted(ranks[org])
        rows.append({
            "org": org,
            "nominal_rank": nominal_rank[org],
            "p_first": _probability(first[org], samples),
            "rank_5": _quantile(ordered, 5),
            "rank_50": _quantile(ordered, 50),
            "rank_95": _quantile(ordered, 95),
        })
    rows.sort(key=lambda r: (r["nominal_rank"], r["org"]))
    same_target = targets.get(nominal_target or "", 0) if nominal_target is not None else targets.get("", 0)
    return {
        "method": METHOD,
        "ledger": state.ledger_id,
        "round": number,
        "ranking_digest": replay(state, number).digest,
        "rules": {"version": committed.version, "digest": committed.digest},
        "samples": samples,
        "seed": seed,
        "perturbation": {
            "weights": f"each non-zero weight x (1 + {spread} * (k - {STEPS}) / {STEPS}), k uniform on the integers 0..{2 * STEPS}",
            "spread": spread,
            "weights_perturbed": len(cells),
            "counts": list(COUNTS),
            "attribution": list(ATTRIBUTION),
        },
        "nominal": {"top": nominal_top, "target": nominal_target, "outcome": nominal["selection"]["outcome"],
                    "ratio": nominal["selection"]["ratio"], "required_ratio": nominal["selection"]["required_ratio"]},
        "organizations": rows,
        "selection": {
            "same_as_nominal": _probability(same_target, samples),
            "targets": [{"target": t or None, **_probability(n, samples)} for t, n in sorted(targets.items())],
            "outcomes": [{"outcome": o, **_probability(n, samples)} for o, n in sorted(outcomes.items())],
        },
        "scenarios": scenarios,
        "verdict": _verdict(nominal_target, nominal_top, rows, Fraction(same_target, samples)),
    }


def _verdict(target: str | None, top: list[str], rows: list[dict[str, Any]], same: Fraction) -> str:
    """One sentence for people; the thresholds 0.9 and 0.5 are stated, not hidden."""
    share = display(same, PLACES)
    if target is None:
        if same >= Fraction(9, 10):
            return f"No organization stands out, and that holds in {share} of the perturbed rankings."
        return f"No organization stands out as committed, but in {display(1 - same, PLACES)} of the perturbed rankings one would."
    p_first = next(parse_decimal(r["p_first"]["value"]) for r in rows if r["org"] == target)
    if same >= Fraction(9, 10):
        return (f"{target} stands out robustly: the rules select it in {share} of the perturbed rankings "
                f"(ranked first in {display(p_first, PLACES)}).")
    if same >= Fraction(1, 2):
        return (f"{target} is selected in {share} of the perturbed rankings: the choice depends on the weights "
                f"or the attribution treatment more than the 0.9 benchmark allows.")
    return f"{target} is selected in only {share} of the perturbed rankings: the selection is fragile."


def is_spread(text: str) -> bool:
    """Whether ``text`` is a plain decimal such as ``0.25``, as ``--spread`` takes."""
    try:
        parse_decimal(text)
    except ValueError:
        return False
    return text.replace(".", "", 1).isdigit()
