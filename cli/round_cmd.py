"""Round statement commands: adopt rules, open, close and decide a round, and report on its
target (SPEC.md sections 11-12), without hand-writing JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ledger.scoring import authoring as A

from ._common import at_option, read_input
from .authoring_cmd import OUT_OPT, emit, parse_sources
from .scoring_cmd import PATH_ARG, ROUND_OPT, load


@click.command("adopt-rules")
@PATH_ARG
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False, path_type=Path), help="JSON rules body; its version is filled in if absent.")
@click.option("--name", help="Name of this edition (with the default rules).")
@at_option
@OUT_OPT
def adopt_rules(path, rules_file, name, at, out) -> None:
    """Create a rules.adopt from a rules file (or the default rules), as the next version.

    \b
    Example:
      ledger adopt-rules ledger.db --rules rules-v2.json --out adopt.json
      ledger adopt-rules ledger.db --name "first edition" --out adopt.json
    """
    from ledger.core import canonical

    loaded = load(path)
    parsed = None if rules_file is None else canonical.parse(read_input(rules_file, "rules file").strip())
    body = A.next_rules(loaded.state, parsed, name, f"{rules_file}")
    emit(loaded, "rules.adopt", body, at, out)


@click.command("open-round")
@PATH_ARG
@click.option("--start", required=True, help="First day of the scoring window.")
@click.option("--end", required=True, help="Last day of the scoring window.")
@click.option("--decision-date", required=True, help="Day the decision is due.")
@click.option("--eligible", multiple=True, help="Eligible organization (repeat). Default: every registered, active one.")
@click.option("--left-out", "left_out", multiple=True, metavar="ORG=REASON",
              help="An active organization left out of --eligible, and why (repeat; R-11.17: every one needs a reason).")
@click.option("--retrospective", metavar="JUSTIFICATION",
              help="Declare a round that looks back (its window before its opening), and why; shown as a notice everywhere.")
@click.option("--rules", "rules_digest", help="Rules digest to commit to (default: the latest adopted).")
@click.option("--notes")
@at_option
@OUT_OPT
def open_round(path, start, end, decision_date, eligible, left_out, retrospective, rules_digest, notes, at, out) -> None:
    """Create a round.open for the next round, committing to the latest rules.

    Every registered, active organization is eligible unless it is left out with a
    reason (--left-out ORG=REASON); the window starts no earlier than the opening day,
    unless the round is declared --retrospective with a justification (SPEC.md 11.2).

    \b
    Example:
      ledger open-round ledger.db --start 2026-03-02 --end 2026-04-12 \\
        --decision-date 2026-04-20 --out open.json
    """
    loaded = load(path)
    body = A.next_round(loaded.state, start, end, decision_date, eligible, left_out, retrospective, rules_digest, notes)
    emit(loaded, "round.open", body, at, out)


@click.command("close-round")
@PATH_ARG
@ROUND_OPT
@click.option("--notes")
@at_option
@OUT_OPT
def close_round(path, number, notes, at, out) -> None:
    """Create a round.close: nothing recorded after it counts for the round.

    \b
    Example:
      ledger close-round ledger.db --round 3 --out close.json
    """
    body: dict[str, Any] = {"round": number}
    if notes:
        body["notes"] = notes
    emit(load(path), "round.close", body, at, out)


@click.command()
@PATH_ARG
@ROUND_OPT
@click.option("--target", help="Name a target other than the rules' selection (needs --justification).")
@click.option("--no-target", is_flag=True, help="Decide that the round has no target.")
@click.option("--justification", help="Required when the target is not the rules' selection.")
@at_option
@OUT_OPT
def decide(path, number, target, no_target, justification, at, out) -> None:
    """Create a round.decide: replays the round, commits to the ranking digest, and names
    the rules' selection (or, with a justification, another target).

    \b
    Example:
      ledger decide ledger.db --round 3 --out decide.json
      ledger sign decide.json --key keys/panel-1.key   # ... threshold of the panel
    """
    loaded = load(path)
    kwargs: dict[str, Any] = {"justification": justification}
    if target is not None or no_target:
        kwargs["target"] = None if no_target else target
    body = A.decision_body(loaded.state, number, **kwargs)
    emit(loaded, "round.decide", body, at, out)


def _target_report_options(f):
    """--org, --date and --summary: the options of target.progress and target.dismantled."""
    for option in reversed([click.option("--org", required=True), click.option("--date", "day", required=True),
                            click.option("--summary", required=True)]):
        f = option(f)
    return f


@click.command()
@PATH_ARG
@ROUND_OPT
@_target_report_options
@click.option("--source", "sources", multiple=True, metavar="PUBLISHER:SCALE:DATE:COMMITMENT")
@at_option
@OUT_OPT
def progress(path, number, org, day, summary, sources, at, out) -> None:
    """Create a target.progress report on a round's target.

    \b
    Example:
      ledger progress ledger.db --round 1 --org halcones-del-norte --date 2026-04-02 \\
        --summary "accounts frozen" --out p.json
    """
    emit(load(path), "target.progress", {"round": number, "org": org, "date": day, "summary": summary, "sources": parse_sources(sources)}, at, out)


@click.command()
@PATH_ARG
@ROUND_OPT
@_target_report_options
@at_option
@OUT_OPT
def dismantled(path, number, org, day, summary, at, out) -> None:
    """Create a target.dismantled: the target leaves the eligible set; the next round may open.

    \b
    Example:
      ledger dismantled ledger.db --round 1 --org halcones-del-norte --date 2026-06-20 \\
        --summary "command structure dismantled" --out d.json
    """
    emit(load(path), "target.dismantled", {"round": number, "org": org, "date": day, "summary": summary}, at, out)


COMMANDS = [adopt_rules, open_round, close_round, decide, progress, dismantled]
