"""How sure can the public be of a ranking? Uncertainty analysis of one round (informative).

The method follows the uncertainty analysis of the OECD/JRC *Handbook on Constructing
Composite Indicators* (2008, section 7): the uncertain inputs of the index are varied, the
index is recomputed for every variation, and the distribution of each unit's rank is
reported. The uncertain inputs here are (SPEC.md 12.10):

1. **the weights**: every non-zero weight of the committed rules times a factor on the
   grid of ``[1 - p, 1 + p]``;
2. **the victim counts**: the low, best or high estimate;
3. **the attribution**: as committed, contested attributions dropped, or corroborated only;
4. **the estimates** the normalization divides by: each organization's own ``low``, the
   rules' ``point`` or its ``high`` (``estimate.record`` states all three);
5. **the stand-out ratio** and **6. the minimum score**, each within a stated spread;
7. **min_sources**, one less or one more;
8. **the unattributed incidents**: left out (the rules) or allocated to the organizations
   active in the same place (:class:`Allocation`: a sensitivity scenario, never a score).

Each input is varied **one at a time** (deterministic scenarios, every other input as
committed) and **jointly** (a Monte Carlo sample). Every scenario and sample is scored by
the replay engine itself (:func:`ledger.scoring.replay.replay`, with a
:class:`~ledger.scoring.rules.Rules` and a scoring state that differ only in the varied
inputs), so there is no second implementation of the scoring arithmetic. Arithmetic is
exact: weights and multipliers stay integers over a common scale, thresholds are decimals,
probabilities are fractions of the sample count, and draws are integers from
``random.Random(seed).randrange``. The same ledger, round, seed, sample count and spreads
give the same report, byte for byte.
"""

from __future__ import annotations

import dataclasses
import random
from fractions import Fraction
from math import lcm
from typing import Any, Callable, Iterator, Mapping

from ..errors import InputError
from .replay import UNATTRIBUTED, ReplayError, replay
from .rules import Rules, display, exact, parse_decimal
from .state import ScoringState
from .types import KINDS, ROLES

METHOD = "violence-scoring-ledger/robustness/v2"
STEPS = 1000  # N: a factor is drawn on a grid of 2N + 1 points
COUNTS = ("low", "best", "high")
ATTRIBUTION = ("committed", "contested_dropped", "corroborated_only")
POINTS = ("low", "best", "high")  # the values of an estimate.record
MIN_SOURCES = (-1, 0, 1)  # the min_sources draw: committed - 1, committed, committed + 1
PROBE = "robustness-probe"  # the key under which a varied rule set is handed to replay()
ALLOCATED = "allocated"  # the confidence (multiplier 1) of an allocated share
PLACES = 3  # decimals of the displayed probabilities
DEFAULT_SPREADS = {"weights": "0.25", "ratio": "0.1", "min_score": "0.25"}

Cell = tuple[str, str]


def attribution_rules(rules: Rules, mode: str) -> Rules:
    """The rules with one of the three attribution treatments."""
    if mode == "committed":
        return rules
    changed = dataclasses.replace(rules, contested_mode="exclude", contested_factor=0)
    if mode == "contested_dropped":
        return changed
    basis = dict(rules.basis)
    basis["claim"] = 0
    basis["inference"] = 0
    return dataclasses.replace(changed, basis=basis, min_sources=max(2, rules.min_sources))


def weighted_rules(rules: Rules, factors: Mapping[Cell, int], scale: int) -> Rules:
    """``rules`` with weight(cell) multiplied by factors[cell] / scale (integers only)."""
    weight = {cell: w * factors.get(cell, scale) for cell, w in rules.weight.items()}
    feature = None if rules.feature is None else {f: w * scale for f, w in rules.feature.items()}  # same value
    return dataclasses.replace(rules, weight=weight, weight_scale=rules.weight_scale * scale, feature=feature)


def decimal_text(value: Fraction) -> str:
    """A finite decimal as the shortest text (``Fraction(13, 10)`` -> ``"1.3"``)."""
    for places in range(64):
        if (value * 10**places).denominator == 1:
            return display(value, places)
    raise ValueError(f"{value} is not a finite decimal")  # pragma: no cover - every value here is one


def stand_out_rules(rules: Rules, ratio: Fraction, min_score: Fraction) -> Rules:
    """``rules`` with another stand-out ratio and minimum score (12.7), shown as decimals."""
    if ratio == rules.ratio and min_score == rules.min_score:
        return rules
    body = {**rules.body, "stand_out": {"ratio": decimal_text(ratio), "min_score": decimal_text(min_score)}}
    return dataclasses.replace(rules, ratio=ratio, min_score=min_score, body=body)


def factor(spread: Fraction, k: int) -> Fraction:
    """The factor ``1 + spread * (k - N) / N`` of a draw ``k`` in ``0 … 2N``."""
    return 1 + spread * (k - STEPS) / STEPS


def place_key(place: Mapping[str, Any]) -> str:
    """Where an incident happened, for the allocation: its ``state``, else its ``country``."""
    return place.get("state") or place["country"]


@dataclasses.dataclass(frozen=True)
class Allocation:
    """The unattributed incidents of a round, shared among the organizations active where
    they happened (SPEC.md 12.10): an unattributed incident in place P counts for every
    organization ``o`` with ``n_o`` counted incidents in P in the committed ranking, with the
    share ``n_o / N`` (``N`` = the sum of the ``n_o``) and multiplier 1. A sensitivity
    scenario, never a score; an incident where no organization is active stays unattributed."""

    shares: Mapping[str, tuple[tuple[str, int, int], ...]]  # incident -> ((org, n_o, N), ...)
    candidates: int  # unattributed incidents the round considers (whatever their sources)

    @classmethod
    def of(cls, state: ScoringState, number: int, committed: Rules, nominal: dict[str, Any],
           places: Mapping[int, str]) -> "Allocation":
        # The engine says which incidents are unattributed: replayed with min_sources 0, every
        # considered incident without an attribution is excluded as ``unattributed`` (12.1).
        loose = _score(state, number, dataclasses.replace(committed, min_sources=0))
        unattributed = [(e["incident"], e["seq"]) for e in loose["excluded"] if e["reason"] == UNATTRIBUTED]
        # Counted incidents per place and per country (a country holds its states: "MX-GRO" is in "MX").
        at: dict[str, dict[str, int]] = {}
        for row in nominal["ranking"]:
            for item in row["incidents"]:
                place = places.get(item["seq"])
                if place is not None:
                    for where in {place, place.partition("-")[0]}:
                        active = at.setdefault(where, {})
                        active[row["org"]] = active.get(row["org"], 0) + 1
        shares: dict[str, tuple[tuple[str, int, int], ...]] = {}
        for incident, seq in unattributed:
            active = at.get(places.get(seq, ""), {})
            total = sum(active.values())
            if total:
                shares[incident] = tuple((org, n, total) for org, n in sorted(active.items()))
        return cls(shares, len(unattributed))

    def rules(self, rules: Rules) -> Rules:
        """``rules`` extended so that an allocated attribution multiplies by its share: the
        basis ``allocated:n/N`` is worth n/N and the confidence ``allocated`` 1 (every basis
        over the common scale ``basis_scale * L``, L the lcm of the N)."""
        if not self.shares:
            return rules
        keys = {(n, total) for share in self.shares.values() for _, n, total in share}
        common = lcm(*(total for _, total in keys))
        scale = rules.basis_scale * common
        basis = {b: v * common for b, v in rules.basis.items()}
        basis.update({f"{ALLOCATED}:{n}/{total}": scale * n // total for n, total in keys})
        confidence = {**rules.confidence, ALLOCATED: rules.confidence_scale}
        return dataclasses.replace(rules, basis=basis, basis_scale=scale, confidence=confidence)

    def state(self, state: ScoringState) -> ScoringState:
        """``state`` whose unattributed incidents are replaced by their allocated shares."""
        return dataclasses.replace(state, incidents=_AllocatedIncidents(state.incidents, self.shares))


class _AllocatedIncidents:
    """An incident index that shows each allocated incident as one incident per share
    (id ``"<incident> <org>"``, one attribution ``(org, allocated:n/N, allocated)``)."""

    def __init__(self, base: Any, shares: Mapping[str, tuple[tuple[str, int, int], ...]]) -> None:
        self.base = base
        self.shares = shares

    def records(self) -> Iterator[tuple[str, Any]]:
        records = getattr(self.base, "records", None)
        items = records() if records is not None else (
            (i.incident_id, (i.retracted, i.versions)) for i in self.base.values())
        for incident_id, (retracted, versions) in items:
            share = self.shares.get(incident_id)
            if share is None:
                yield incident_id, (retracted, versions)
                continue
            for org, n, total in share:  # " " sorts before every character of an id
                attribution = ((org, f"{ALLOCATED}:{n}/{total}", ALLOCATED),)
                yield f"{incident_id} {org}", (retracted, [v._replace(attributions=attribution) for v in versions])


@dataclasses.dataclass(frozen=True)
class Inputs:
    """The value of every uncertain input in one scenario or sample."""

    count: str
    attribution: str
    estimates: Mapping[str, str]  # org -> low | best | high (absent: the rules' point)
    ratio: Fraction
    min_score: Fraction
    min_sources: int
    allocated: bool
    factors: Mapping[Cell, int] = dataclasses.field(default_factory=dict)  # weight factors over ``scale``
    scale: int = 1
    features: bool = True  # False: incident features not scored (one at a time only)
    inherit: bool = True  # False: splinters "clean" (one at a time only)


def _score(state: ScoringState, number: int, rules: Rules) -> dict[str, Any]:
    probe = dataclasses.replace(state, rules={**state.rules, PROBE: rules})
    return replay(probe, number, rules_digest=PROBE).document


class Analysis:
    """One round, ready to be scored with any :class:`Inputs` (``base``: every input as committed)."""

    def __init__(self, state: ScoringState, number: int, places: Mapping[int, str]) -> None:
        round_ = state.rounds.get(number)
        if round_ is None:
            raise ReplayError(f"no round {number} in this ledger")  # refused, as by replay (SPEC 8.2: exit 1)
        self.state, self.number = state, number
        self.committed = committed = state.rules[round_.rules]
        self.nominal = replay(state, number)
        cutoff, _ = state.seen_by(round_)  # SPEC.md 12: what the replay sees
        norm = committed.normalization
        self.metric: str | None = norm["metric"] if norm else None
        self.point: str | None = norm["point"] if norm else None
        # org -> (seq, body) of the estimate.record the normalization uses (12.5)
        self.estimates: dict[str, tuple[int, dict[str, Any]]] = {}
        if self.metric is not None:
            for org in sorted(round_.body["eligible"]):
                before = [(s, b) for s, b in state.estimates.get((org, self.metric), ()) if s < cutoff]
                if before:
                    self.estimates[org] = before[-1]
        self.allocation = Allocation.of(state, number, committed, self.nominal.document, places)
        self.allocated_state = self.allocation.state(state)
        self.base = Inputs(committed.count, "committed", {}, committed.ratio, committed.min_score,
                           committed.min_sources, False)

    def rules(self, inputs: Inputs) -> Rules:
        rules = dataclasses.replace(self.committed, min_sources=inputs.min_sources, count=inputs.count)
        rules = attribution_rules(rules, inputs.attribution)
        if inputs.factors:
            rules = weighted_rules(rules, inputs.factors, inputs.scale)
        rules = stand_out_rules(rules, inputs.ratio, inputs.min_score)
        if not inputs.features:
            rules = dataclasses.replace(rules, feature=None)
        if not inputs.inherit:
            rules = dataclasses.replace(rules, splinters="clean")
        return self.allocation.rules(rules) if self.allocates(inputs) else rules

    def allocates(self, inputs: Inputs) -> bool:
        # An allocation is an inference: corroborated_only counts none (12.10).
        return inputs.allocated and inputs.attribution != "corroborated_only"

    def score(self, inputs: Inputs) -> dict[str, Any]:
        state = self.allocated_state if self.allocates(inputs) else self.state
        changed = {}
        for org, level in inputs.estimates.items():
            if level != self.point and org in self.estimates:
                seq, body = self.estimates[org]
                changed[(org, self.metric)] = [(seq, {**body, self.point: body[level]})]
        if changed:
            state = dataclasses.replace(state, estimates={**state.estimates, **changed})
        return _score(state, self.number, self.rules(inputs))


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


def _spread(option: str, text: str) -> Fraction:
    try:
        value = parse_decimal(text)
    except ValueError:
        raise InputError(f"{option} must be a decimal between 0 and 1, got {text!r}") from None
    if not 0 <= value <= 1:
        raise InputError(f"{option} must be between 0 and 1, got {text}")
    return value


def _scenarios(r: Analysis, ratio_spread: Fraction, min_score_spread: Fraction) -> Iterator[tuple[str, str, str | None, str, Inputs]]:
    """The one-at-a-time scenarios (SPEC.md 12.10), in their order: (input, value, org,
    label, inputs); every input other than the one named is as committed."""
    base, c = r.base, r.committed
    for count in COUNTS:
        yield "victim_count", count, None, f"{count} victim counts", dataclasses.replace(base, count=count)
    for mode in ATTRIBUTION:
        yield "attribution", mode, None, f"attribution {mode.replace('_', ' ')}", dataclasses.replace(base, attribution=mode)
    if r.estimates:
        for level in POINTS:
            yield ("estimates", level, None, f"every {r.metric} estimate at its {level}",
                   dataclasses.replace(base, estimates=dict.fromkeys(r.estimates, level)))
        for org, (_, body) in r.estimates.items():
            for level in ("low", "high"):
                yield ("estimate", level, org, f"{org} at its {level} {body[level]} ({r.point} {body[r.point]})",
                       dataclasses.replace(base, estimates={org: level}))
    # Numeric inputs: below, then above; a value equal to the committed one is left out.
    for sign in (-1, 1):
        ratio = max(Fraction(1), c.ratio * (1 + sign * ratio_spread))
        if ratio != c.ratio:
            yield "ratio", decimal_text(ratio), None, f"stand-out ratio {decimal_text(ratio)}", dataclasses.replace(base, ratio=ratio)
    for sign in (-1, 1):
        floor = c.min_score * (1 + sign * min_score_spread)
        if floor != c.min_score:
            yield "min_score", decimal_text(floor), None, f"minimum score {decimal_text(floor)}", dataclasses.replace(base, min_score=floor)
    for step in (-1, 1):
        n = max(1, c.min_sources + step)
        if n != c.min_sources:
            yield "min_sources", str(n), None, f"min_sources {n}", dataclasses.replace(base, min_sources=n)
    yield ("unattributed", "allocated", None, f"{len(r.allocation.shares)} of {r.allocation.candidates} unattributed allocated by place", dataclasses.replace(base, allocated=True))
    # The recorders' claims that rules v4 members turn into score (10.3, 10.2): without them.
    if c.feature is not None:
        yield "features", "ignored", None, "incident features not scored", dataclasses.replace(base, features=False)
    if c.splinters == "inherit":
        yield "splinters", "clean", None, "splinters clean (nothing inherited)", dataclasses.replace(base, inherit=False)


def sample_inputs(rng: random.Random, r: Analysis, cells: list[Cell], spread: Fraction, ratio_spread: Fraction,
                  min_score_spread: Fraction) -> Inputs:
    """One Monte Carlo sample's inputs, drawn from ``rng`` in the order of SPEC.md 12.10."""
    c = r.committed
    scale = STEPS * spread.denominator  # every factor is an integer over it
    factors = {cell: int(factor(spread, rng.randrange(2 * STEPS + 1)) * scale) for cell in cells}
    count = COUNTS[rng.randrange(3)]
    mode = ATTRIBUTION[rng.randrange(3)]
    levels = {org: POINTS[rng.randrange(3)] for org in r.estimates}
    ratio = max(Fraction(1), c.ratio * factor(ratio_spread, rng.randrange(2 * STEPS + 1)))
    min_score = c.min_score * factor(min_score_spread, rng.randrange(2 * STEPS + 1))
    min_sources = max(1, c.min_sources + MIN_SOURCES[rng.randrange(3)])
    allocated = rng.randrange(2) == 1
    return Inputs(count, mode, levels, ratio, min_score, min_sources, allocated, factors, scale)


def analyse(
    state: ScoringState,
    number: int,
    *,
    places: Mapping[int, str],
    samples: int = 1000,
    seed: int = 0,
    spread: str = DEFAULT_SPREADS["weights"],
    ratio_spread: str = DEFAULT_SPREADS["ratio"],
    min_score_spread: str = DEFAULT_SPREADS["min_score"],
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The robustness report of round ``number`` (a JSON-ready dict of strings and integers).

    ``places`` maps the ``seq`` of every incident version to its :func:`place_key` (the
    allocation of unattributed incidents needs it; ``ledger.app.snapshot.load(path, places=True)``
    reads it in the verifying pass)."""
    if samples < 1:
        raise InputError("--samples must be at least 1")
    p = _spread("--spread", spread)
    p_ratio = _spread("--ratio-spread", ratio_spread)
    p_min = _spread("--min-score-spread", min_score_spread)
    r = Analysis(state, number, places)
    committed = r.committed
    nominal = r.nominal.document
    orgs = list(nominal["eligible"])
    nominal_rank = _rank_of(nominal)
    nominal_top = [row["org"] for row in nominal["ranking"] if row["rank"] == 1]
    nominal_target = nominal["selection"]["target"]

    scenarios = []
    for input_, value, org, label, inputs in _scenarios(r, p_ratio, p_min):
        selection = r.score(inputs)["selection"]
        scenarios.append({
            "input": input_, "value": value, "org": org, "label": label,
            "estimate": None if org is None else {"seq": r.estimates[org][0], "value": r.estimates[org][1][value]},
            "top": selection["top"], "target": selection["target"], "outcome": selection["outcome"],
            "ratio": selection["ratio"], "ratio_exact": selection["ratio_exact"],
            "required_ratio": selection["required_ratio"], "min_score": selection["min_score"],
            "changes_selection": selection["target"] != nominal_target,
        })

    # Monte Carlo: every input drawn, in the order of SPEC.md 12.10.
    cells = [(k, role) for k in KINDS for role in ROLES if committed.weight[(k, role)] != 0]
    rng = random.Random(seed)
    ranks: dict[str, list[int]] = {o: [] for o in orgs}
    first = dict.fromkeys(orgs, 0)
    targets: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    for _ in range(samples):
        document = r.score(sample_inputs(rng, r, cells, p, p_ratio, p_min))
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
    rows.sort(key=lambda row: (row["nominal_rank"], row["org"]))
    same_target = targets.get(nominal_target or "", 0)
    return {
        "method": METHOD,
        "ledger": state.ledger_id,
        "round": number,
        "ranking_digest": r.nominal.digest,
        "rules": {"version": committed.version, "digest": committed.digest},
        "samples": samples,
        "seed": seed,
        "perturbation": {
            "weights": f"each non-zero weight x (1 + {spread} * (k - {STEPS}) / {STEPS}), k uniform on the integers 0..{2 * STEPS}",
            "spread": spread,
            "weights_perturbed": len(cells),
            "counts": list(COUNTS),
            "attribution": list(ATTRIBUTION),
            "estimates": {"metric": r.metric, "point": r.point, "levels": list(POINTS) if r.estimates else [],
                          "orgs": list(r.estimates)},
            "ratio": {"committed": committed.body["stand_out"]["ratio"], "spread": ratio_spread,
                      "range": [decimal_text(max(Fraction(1), committed.ratio * (1 - p_ratio))),
                                decimal_text(committed.ratio * (1 + p_ratio))]},
            "min_score": {"committed": committed.body["stand_out"]["min_score"], "spread": min_score_spread,
                          "range": [decimal_text(committed.min_score * (1 - p_min)), decimal_text(committed.min_score * (1 + p_min))]},
            "min_sources": {"committed": committed.min_sources,
                            "values": sorted({max(1, committed.min_sources + d) for d in MIN_SOURCES})},
            "unattributed": {"allocation": "by place, in proportion to counted incidents there (sensitivity scenario, never a score)",
                             "incidents": r.allocation.candidates, "allocated": len(r.allocation.shares)},
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
        "verdict": _verdict(nominal_target, rows, Fraction(same_target, samples), scenarios),
    }


def _verdict(target: str | None, rows: list[dict[str, Any]], same: Fraction, scenarios: list[dict[str, Any]]) -> str:
    """Sentences for people; the thresholds 0.9 and 0.5 are stated, not hidden."""
    share = display(same, PLACES)
    if target is None:
        if same >= Fraction(9, 10):
            text = f"No organization stands out, and that holds in {share} of the perturbed rankings."
        else:
            text = f"No organization stands out as committed, but in {display(1 - same, PLACES)} of the perturbed rankings one would."
    else:
        p_first = next(parse_decimal(row["p_first"]["value"]) for row in rows if row["org"] == target)
        if same >= Fraction(9, 10):
            text = (f"{target} stands out robustly: the rules select it in {share} of the perturbed rankings "
                    f"(ranked first in {display(p_first, PLACES)}).")
        elif same >= Fraction(1, 2):
            text = (f"{target} is selected in {share} of the perturbed rankings: the choice depends on the uncertain inputs "
                    f"more than the 0.9 benchmark allows.")
        else:
            text = f"{target} is selected in only {share} of the perturbed rankings: the selection is fragile."
    changed = [s for s in scenarios if s["changes_selection"]]
    if not changed:
        return text + f" One input at a time, none of the {len(scenarios)} scenarios changes the selection."
    examples = "; ".join(f"{s['label']}: {s['target'] or 'no target'}" + (f" (ratio {s['ratio']})" if s["ratio"] else "")
                         for s in changed[:3])
    return text + f" One input at a time, {len(changed)} of {len(scenarios)} scenarios change the selection: {examples}."


def text_lines(report: dict[str, Any]) -> list[str]:
    """The report for a terminal (``ledger robustness`` without ``--json``), verdict aside."""
    nominal, pert, samples = report["nominal"], report["perturbation"], report["samples"]
    lines = [f"Round {report['round']}: nominal {nominal['outcome']} -> {nominal['target'] or 'no target'} "
             f"(ratio {nominal['ratio']}, required {nominal['required_ratio']})",
             "One input at a time (every other input as committed; * = changes the selection):",
             f"  {'input':<13} {'scenario':<50} {'selection':<20} ratio"]
    for s in report["scenarios"]:
        selection = (s["target"] or s["outcome"]) + (" *" if s["changes_selection"] else "")
        lines.append(f"  {s['input']:<13} {s['label']:<50} {selection:<20} {s['ratio'] or 'n/a'} (required {s['required_ratio']})")
    estimates = pert["estimates"]
    lines += [
        f"All inputs jointly: {samples} samples, seed {report['seed']}; weights x U[1-{pert['spread']}, 1+{pert['spread']}] "
        f"({pert['weights_perturbed']} weights), counts low/best/high, attribution committed/contested dropped/corroborated only, "
        + (f"each {estimates['metric']} estimate low/best/high, " if estimates["orgs"] else "")
        + f"ratio {'..'.join(pert['ratio']['range'])}, min_score {'..'.join(pert['min_score']['range'])}, "
        f"min_sources {'/'.join(map(str, pert['min_sources']['values']))}, unattributed allocated or not",
        f"{'rank':>4}  {'organization':<24} {'P(first)':>9}  {'rank 5-95%':>10}  median",
    ]
    for row in report["organizations"]:
        interval = f"{row['rank_5']}-{row['rank_95']}"
        lines.append(f"{row['nominal_rank']:>4}  {row['org']:<24} {row['p_first']['value']:>9}  {interval:>10}  {row['rank_50']}")
    lines.append("Selection across samples: " + ", ".join(f"{t['target'] or 'no target'} {t['value']}"
                                                           for t in report["selection"]["targets"]))
    return lines


def is_spread(text: str) -> bool:
    """Whether ``text`` is a plain decimal such as ``0.25``, as the spread options take."""
    try:
        parse_decimal(text)
    except ValueError:
        return False
    return text.replace(".", "", 1).isdigit()
