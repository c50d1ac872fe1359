"""``ledger outcomes``: did the selection work? Violence per period, around each round's
target and against the step-7 baseline (SPEC.md 12.12)."""

from __future__ import annotations

from typing import Any

import click

from ledger.scoring.outcomes import DEFAULT_PERIOD, PERIODS, outcomes

from ._terminal import say
from .scoring_cmd import PATH_ARG, _warn, load

WINDOWS = (("before", "before naming"), ("active", "while active"), ("after", "after dismantling"))


def _pair(counts: dict[str, Any]) -> str:
    return f"{counts['incidents']}/{counts['victims']}"


def _notices(loaded: Any, through: int, err: bool) -> None:
    """Every verification notice up to ``through`` (SPEC.md 11.2, R-12.4), as `ledger verify` prints them."""
    for notice in loaded.process.notices:
        if notice.seq <= through:
            say(f"NOTE {notice.message} [{notice.rule}]", err=err)


@click.command("outcomes")
@PATH_ARG
@click.option("--period", type=click.Choice(PERIODS), default=DEFAULT_PERIOD, show_default=True,
              help="Calendar months or ISO weeks.")
@click.option("--as-of", "as_of", type=click.IntRange(min=0), metavar="SEQ", help="Count only entries up to SEQ (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print the canonical outcomes document (its SHA-256 is the digest).")
def outcomes_cmd(path: str, period: str, as_of: int | None, as_json: bool) -> None:
    """Did it work? Incidents and victims (outcomes, not scores) per period, attributed and
    unattributed; each target's violence before naming, while active and after dismantling,
    and the other organizations' (displacement); the industry against its step-7 baseline.

    \b
    Example:
      ledger outcomes demo/ledger.db
      ledger outcomes demo/ledger.db --period week --json > outcomes.json
    """
    loaded = load(path)
    _warn(loaded)
    result = outcomes(loaded.state, period=period, through=as_of)
    doc = result.document
    _notices(loaded, doc["through"], err=as_json)
    if as_json:
        out = click.get_binary_stream("stdout")
        out.write(result.raw + b"\n")
        out.flush()
        return
    counts, data = doc["counts"], doc["data"]
    say(f"Outcomes as of entry {doc['through']}: violence counted as incidents and victims (best counts), every incident "
        f"whether attributed or counted in a round or not; retracted ones are left out ({counts['retracted']}).")
    say(f"Incidents {counts['incidents']} ({counts['attributed']} attributed, {counts['unattributed']} unattributed); "
        f"dated {data['first'] or '-'} .. {data['last'] or '-'}")
    say(f"{'period':<10} {'incidents':>9} {'victims':>8} {'attributed':>12} {'unattributed':>13} {'vs baseline':>12}")
    for row in doc["periods"]:
        base = row["baseline"]
        ratio = "-" if base is None else (base["ratio"] or "n/a")
        say(f"{row['period']:<10} {row['all']['incidents']:>9} {row['all']['victims']:>8} {_pair(row['attributed']):>12} "
            f"{_pair(row['unattributed']):>13} {ratio:>12}")
    for r in doc["rounds"]:
        say(f"Round {r['round']}: target {r['target']}, named {r['named']}, "
            + (f"dismantled {r['dismantled']}" if r["dismantled"] else "still active"))
        say(f"  {'incidents/victims':<18} {'dates':<24} {'days':>5} {'target':>9} {'others':>9} {'unattrib.':>9} {'all':>9}")
        for key, label in WINDOWS:
            w = r["windows"][key]
            if w is None:
                continue
            say(f"  {label:<18} {w['start'] + ' .. ' + w['end']:<24} {w['days']:>5} {_pair(w['target']):>9} "
                f"{_pair(w['others']):>9} {_pair(w['unattributed']):>9} {_pair(w['all']):>9}")
        for key, label in WINDOWS[1:]:
            change = r["change"][key]
            if change is not None:
                say(f"  victims per day {label}, over before naming: "
                    + ", ".join(f"{group} {change[group]['ratio'] or 'n/a'}" for group in ("target", "others", "all")))
    base = doc["baseline"]
    if base is None:
        say("Baseline: none recorded (the panel names it with an outcome.baseline entry: ledger new-baseline)")
    else:
        source = (f"level {base['level']['value']} per {base['level']['per']}" if base["level"] is not None else
                  f"reference {base['reference']['start']} .. {base['reference']['end']} ({base['reference_count']} recorded)")
        say(f"Baseline (entry {base['seq']}): {base['measure']} of {', '.join(base['kinds'])}, {source}: "
            f"{base['per_day']['value']} per day. Justification: {base['justification'][:200]}")
        if base["replaces"]:
            say(f"  it replaces the baseline of entr{'y' if len(base['replaces']) == 1 else 'ies'} "
                f"{', '.join(map(str, base['replaces']))} (notice R-10.18)")
        s = base["standing"]
        if s is not None:
            where = "n/a" if s["at_or_below"] is None else ("AT OR BELOW the baseline" if s["at_or_below"] else "ABOVE the baseline")
            say(f"  the industry, {s['start']} .. {s['end']} ({s['days']} days): {s['count']} against {s['expected']['value']} "
                f"expected, ratio {s['ratio'] or 'n/a'}: {where}")
    say(f"Outcomes digest: {result.digest}")


COMMANDS = [outcomes_cmd]
