"""Scoring statement commands: create the statements about organizations, incidents, disputes
and estimates without hand-writing JSON (SPEC.md section 10); each is checked as `ledger append`
will check it, then written. The round statements are in round_cmd."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, TypeVar

import click

from ledger.app.rounds import ScoringLedger
from ledger.errors import OptionError
from ledger.scoring import authoring as A
from ledger.scoring.types import BASES, CONFIDENCES, FEATURES, KINDS, ROLES

from ._common import at_option, resolve_at
from .scoring_cmd import PATH_ARG, ledger_arg, load
from .statement_cmd import write_new_statement

F = TypeVar("F", bound=Callable[..., Any])
OUT_OPT = click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Statement file to write (default: stdout).")


def _options(build: Callable[..., Any], *args: Any) -> Any:
    """``build(*args)``, a malformed option value reported as click reports a bad parameter."""
    try:
        return build(*args)
    except OptionError as exc:
        raise click.BadParameter(str(exc), param_hint=exc.option) from None


def parse_sources(values: tuple[str, ...]) -> list[dict[str, str]]:
    return _options(A.sources, values)


def emit(loaded: ScoringLedger, type_: str, body: dict[str, Any], at: str | None, out: Path | None) -> None:
    """Write the new statement after the checks `ledger append` will run (ledger.app.preflight)."""
    write_new_statement(A.statement(type_, body, resolve_at(at), loaded.ledger_id), out, loaded.view)


def _incident_options(f: F) -> F:
    for option in reversed([
        click.option("--id", "incident_id", required=True, help="Stable incident id, e.g. mx-00042."),
        click.option("--date", "day", required=True, help="Date YYYY-MM-DD."),
        click.option("--precision", "date_precision", type=click.Choice(["day", "week", "month"]), default="day", show_default=True),
        click.option("--state", "place_state", required=True, help="ISO 3166-2 subdivision, e.g. MX-GRO."),
        click.option("--municipality", help="Municipality code or name."),
        click.option("--kind", type=click.Choice(KINDS), required=True),
        click.option("--victim", "victims", multiple=True, metavar="ROLE=LOW[/BEST[/HIGH]]", help=f"Victims by role (repeat); roles: {', '.join(ROLES)}."),
        click.option("--attr", "attributions", multiple=True, metavar="ORG[:BASIS[:CONFIDENCE]]", help=f"Attribution (repeat); basis {'/'.join(BASES)}, confidence {'/'.join(CONFIDENCES)}."),
        click.option("--feature", "features", multiple=True, type=click.Choice(FEATURES),
                     help="An aggravating feature (repeat; SPEC.md 10.3): mass_killing needs kind killing and 4 or more killed."),
        click.option("--claim", "claims", multiple=True, metavar="ORG:STANCE:CHANNEL", help="A claim or denial, kept apart from attributions."),
        click.option("--source", "sources", multiple=True, required=True, metavar="PUBLISHER:SCALE:DATE:COMMITMENT", help="A source by commitment (see `ledger commitment`)."),
        click.option("--notes", help="Free text (never personal data)."),
    ]):
        f = option(f)
    return f



def _incident_body(incident_id, day, date_precision, place_state, municipality, kind, victims, attributions, features, claims, sources, notes) -> dict[str, Any]:
    return _options(A.incident_from_options, incident_id, day, date_precision, place_state, municipality, kind, victims,
                    attributions, claims, sources, notes, features)


@click.command("new-incident")
@ledger_arg("--verifier-state")  # --state is the incident's place
@_incident_options
@at_option
@OUT_OPT
def new_incident(path, at, out, **fields) -> None:
    """Create an unsigned incident.record statement (a recorder signs it).

    \b
    Example:
      ledger new-incident ledger.db --id mx-00042 --date 2026-02-03 --state MX-GRO \\
        --municipality acapulco --kind killing --victim ordinary_citizen=2/3/4 \\
        --attr golfo-unido:official_finding:high --source reforma:national:2026-02-04:<hex> \\
        --source radio-costa:local:2026-02-03:<hex> --out inc.json
    """
    emit(load(path), "incident.record", _incident_body(**fields), at, out)


@click.command("amend-incident")
@ledger_arg("--verifier-state")  # --state is the incident's place
@_incident_options
@click.option("--reason", required=True, help="Why the incident is corrected.")
@at_option
@OUT_OPT
def amend_incident(path, reason, at, out, **fields) -> None:
    """Create an incident.amend: the COMPLETE new version of an incident, superseding it.

    \b
    Example:
      ledger amend-incident ledger.db --id mx-00042 --date 2026-02-03 --state MX-GRO \\
        --kind killing --victim police=3 --attr golfo-unido --source ... --source ... \\
        --reason "prosecutor's report" --out amend.json
    """
    emit(load(path), "incident.amend", {"incident": _incident_body(**fields), "reason": reason}, at, out)


@click.command("retract-incident")
@PATH_ARG
@click.option("--id", "incident_id", required=True, help="Incident id.")
@click.option("--reason", required=True, help="Why it is withdrawn.")
@at_option
@OUT_OPT
def retract_incident(path, incident_id, reason, at, out) -> None:
    """Create an incident.retract statement.

    \b
    Example:
      ledger retract-incident ledger.db --id mx-00042 --reason "duplicate of mx-00040" --out r.json
    """
    emit(load(path), "incident.retract", {"incident_id": incident_id, "reason": reason}, at, out)


@click.command("new-org")
@PATH_ARG
@click.option("--id", "org_id", required=True, help="Stable organization id, e.g. golfo-unido.")
@click.option("--name", required=True)
@click.option("--alias", "aliases", multiple=True, help="Alias (repeat).")
@click.option("--notes")
@click.option("--update", is_flag=True, help="Create an org.update (new name and aliases) instead of org.register.")
@at_option
@OUT_OPT
def new_org(path, org_id, name, aliases, notes, update, at, out) -> None:
    """Create an org.register (or, with --update, org.update) statement.

    \b
    Example:
      ledger new-org ledger.db --id golfo-unido --name "Golfo Unido" --alias GU --out org.json
    """
    emit(load(path), "org.update" if update else "org.register", A.org_register(org_id, name, aliases, notes), at, out)


@click.command("org-lineage")
@PATH_ARG
@click.option("--org", required=True)
@click.option("--relation", type=click.Choice(["split_from", "merged_into"]), required=True)
@click.option("--other", required=True, help="The other organization.")
@click.option("--date", "day", required=True)
@click.option("--notes")
@at_option
@OUT_OPT
def org_lineage(path, org, relation, other, day, notes, at, out) -> None:
    """Create an org.lineage statement (a splinter group, or a merger).

    \b
    Example:
      ledger org-lineage ledger.db --org halcones-disidentes --relation split_from \\
        --other halcones-del-norte --date 2026-06-10 --out lineage.json
    """
    emit(load(path), "org.lineage", A.org_lineage(org, relation, other, day, notes), at, out)


@click.command("identify-org")
@PATH_ARG
@click.option("--org", required=True, help="The second registration (it stops being eligible).")
@click.option("--same-as", "same_as", required=True, help="The organization it is.")
@click.option("--justification", required=True)
@click.option("--notes")
@at_option
@OUT_OPT
def identify_org(path, org, same_as, justification, notes, at, out) -> None:
    """Create an org.identify (panel): two registered ids are one organization.

    Rounds opened after it count the second id's attributions for the first; rounds
    opened before it, and their published replays, never change (SPEC.md 10.2).

    \b
    Example:
      ledger identify-org ledger.db --org golfo-unido-2 --same-as golfo-unido \
        --justification "One command structure (prosecutor's report)" --out identify.json
    """
    body = {"org_id": org, "same_as": same_as, "justification": justification}
    if notes:
        body["notes"] = notes
    emit(load(path), "org.identify", body, at, out)


@click.command()
@PATH_ARG
@click.option("--id", "dispute_id", required=True)
@click.option("--incident", "incident_id", required=True)
@click.option("--org", required=True, help="The organization whose attribution is disputed.")
@click.option("--basis", type=click.Choice(["false_flag", "misidentification", "insufficient_evidence", "other"]), required=True)
@click.option("--raised-by", type=click.Choice(["recorder", "panel", "journalist", "civil_society", "official", "organization", "other"]), required=True)
@click.option("--grounds", required=True)
@click.option("--source", "sources", multiple=True, metavar="PUBLISHER:SCALE:DATE:COMMITMENT")
@at_option
@OUT_OPT
def dispute(path, dispute_id, incident_id, org, basis, raised_by, grounds, sources, at, out) -> None:
    """Create an attribution.dispute (e.g. a false flag).

    \b
    Example:
      ledger dispute ledger.db --id dispute-7 --incident mx-00042 --org golfo-unido \\
        --basis false_flag --raised-by organization --grounds "forged banner" --out d.json
    """
    emit(load(path), "attribution.dispute", {
        "dispute_id": dispute_id, "incident_id": incident_id, "org": org, "basis": basis,
        "raised_by": raised_by, "grounds": grounds, "sources": parse_sources(sources)}, at, out)


@click.command("resolve-dispute")
@PATH_ARG
@click.option("--id", "dispute_id", required=True)
@click.option("--outcome", type=click.Choice(["upheld", "rejected"]), required=True, help="upheld: the attribution is void.")
@click.option("--justification", required=True)
@at_option
@OUT_OPT
def resolve_dispute(path, dispute_id, outcome, justification, at, out) -> None:
    """Create a dispute.resolve (the panel threshold signs it).

    \b
    Example:
      ledger resolve-dispute ledger.db --id dispute-7 --outcome upheld \\
        --justification "ballistics match another group" --out res.json
    """
    emit(load(path), "dispute.resolve", {"dispute_id": dispute_id, "outcome": outcome, "justification": justification}, at, out)


@click.command("new-estimate")
@PATH_ARG
@click.option("--org", required=True)
@click.option("--metric", type=click.Choice(["revenue_usd", "drug_flow_kg"]), default="revenue_usd", show_default=True)
@click.option("--from", "start", required=True, help="Period start date.")
@click.option("--to", "end", required=True, help="Period end date.")
@click.option("--low", required=True)
@click.option("--best", required=True)
@click.option("--high", required=True)
@click.option("--source", "sources", multiple=True, required=True, metavar="PUBLISHER:SCALE:DATE:COMMITMENT")
@click.option("--notes")
@at_option
@OUT_OPT
def new_estimate(path, org, metric, start, end, low, best, high, sources, notes, at, out) -> None:
    """Create an estimate.record (revenue or drug flows, for normalization).

    \b
    Example:
      ledger new-estimate ledger.db --org golfo-unido --from 2026-01-01 --to 2026-12-31 \\
        --low 150000000 --best 260000000 --high 400000000 --source ... --out est.json
    """
    body = {"org_id": org, "metric": metric, "period_start": start, "period_end": end, "low": low, "best": best, "high": high,
            "sources": parse_sources(sources)}
    if notes:
        body["notes"] = notes
    emit(load(path), "estimate.record", body, at, out)


@click.command("new-baseline")
@PATH_ARG
@click.option("--measure", type=click.Choice(["victims", "incidents"]), default="victims", show_default=True)
@click.option("--kind", "kinds", multiple=True, required=True, type=click.Choice(KINDS), help="An incident kind the baseline covers (repeat).")
@click.option("--reference", metavar="START:END", help="A reference period: the level is what the ledger records in it.")
@click.option("--level", metavar="VALUE/PER", help="An explicit level, per day, week, month or year (e.g. 40/month).")
@click.option("--justification", required=True, help="Why this is the level of a decade earlier (Kleiman's step 7).")
@click.option("--source", "sources", multiple=True, metavar="PUBLISHER:SCALE:DATE:COMMITMENT")
@click.option("--notes")
@at_option
@OUT_OPT
def new_baseline(path, measure, kinds, reference, level, justification, sources, notes, at, out) -> None:
    """Create an outcome.baseline: the step-7 level the industry's violence is compared with
    (the panel threshold signs it; see `ledger outcomes`).

    \b
    Example:
      ledger new-baseline ledger.db --kind killing --level 120/month \\
        --justification "homicides attributed to organized crime, 2016 (national statistics)" --out b.json
    """
    body = _options(A.baseline_body, measure, kinds, justification, sources, reference, level, notes)
    emit(load(path), "outcome.baseline", body, at, out)


COMMANDS = [
    new_org, org_lineage, identify_org, new_incident, amend_incident, retract_incident, dispute,
    resolve_dispute, new_estimate, new_baseline,
]
