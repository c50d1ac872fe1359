"""Scoring commands: replay and explain rankings, list rounds, and create every scoring
statement without hand-writing JSON (SPEC.md sections 10-12)."""

from __future__ import annotations

import secrets
from collections import Counter
from pathlib import Path
from typing import Any

import click

from ledger.errors import InputError
from ledger.scoring import authoring as A
from ledger.scoring.process import ScoringProcess, round_notices, scoring_process
from ledger.storage.diskstate import FileSpool
from ledger.scoring.replay import RankingDocument, ReplayError, replay, write_document
from ledger.scoring.state import Incident, ScoringState, Version
from ledger.scoring.types import BASES, CONFIDENCES, KINDS, ROLES

from ._common import EXIT_FAILED, at_option, echo_json, read_input, resolve_at
from ._terminal import progress as show_progress, say  # `progress` is a command here
from .statement_cmd import ledger_view, write_new_statement

PATH_ARG = click.argument("path", metavar="LEDGER")  # SQLite file, bundle, or published directory or URL
ROUND_OPT = click.option("--round", "number", required=True, type=click.IntRange(min=1), help="Round number.")
JSON_OPT = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
OUT_OPT = click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Statement file to write (default: stdout).")


class Loaded:
    """A ledger read and verified from PATH (SQLite file, bundle, or published directory or
    URL): its scoring state and violation count."""

    def __init__(self, path: str) -> None:
        self.view = ledger_view(path)
        self.violations = len(self.view.violations)
        process = scoring_process(self.view.verifier)
        assert isinstance(process, ScoringProcess)
        self.process = process
        self.state: ScoringState = process.state
        self.ledger_id: str = self.view.ledger_id or ""
        context = self.view.verifier.context
        self.path, self.origin, self.policy = path, context.origin, context.policy

    def warn(self) -> None:
        if self.violations:
            say(f"warning: the ledger has {self.violations} violation(s); entries with violations are ignored (run ledger verify)", err=True)

    def document(self, number: int) -> RankingDocument:
        with show_progress(f"replaying round {number}") as shown:
            shown(0)  # a status line while the round is replayed (seconds on a large ledger)
            return replay(self.state, number)


def _notices(loaded: Loaded, number: int) -> list[dict[str, str]]:
    """The round's notices (SPEC.md 11.2: retrospective, organizations left out)."""
    return [{"rule": rule, "message": text} for rule, text in round_notices(loaded.state.rounds[number])]


def _echo_notices(loaded: Loaded, number: int, indent: str = "") -> None:
    for notice in _notices(loaded, number):
        say(f"{indent}NOTE {notice['message']} [{notice['rule']}]")


def _verdict(loaded: Loaded, number: int, document: RankingDocument) -> tuple[bool, str]:
    round_ = loaded.state.rounds[number]
    if round_.decision is None:
        return False, f"no decision recorded for round {number} yet ({round_.status})"
    decision = round_.decision
    named = decision["target"] or "no target"
    if decision["ranking"] != document.digest:
        return False, f"DOES NOT MATCH the decision at entry {round_.decide_seq} (decision digest {decision['ranking']})"
    if decision["target"] not in document.allowed_targets():
        return False, f"digest matches, but the decision at entry {round_.decide_seq} names {named}, not the rules' selection; justification: {decision['justification']!r}"
    return True, f"MATCHES the decision at entry {round_.decide_seq} (target: {named})"


@click.command("replay")
@PATH_ARG
@ROUND_OPT
@click.option("--json", "as_json", is_flag=True, help="Print the canonical ranking document (its SHA-256 is the digest).")
def replay_cmd(path: Path, number: int, as_json: bool) -> None:
    """Recompute round N's ranking from the ledger and compare it with the panel's decision.

    Exit 0 when the recorded decision commits to this exact ranking and names the rules'
    selection; 1 otherwise (mismatch, deviation, or no decision yet).

    \b
    Example:
      ledger replay demo/ledger.db --round 1
      ledger replay ledger.jsonl --round 2 --json > ranking-2.json
    """
    loaded = Loaded(path)
    loaded.warn()
    if as_json:
        # Written as it is computed, its long lists through temporary files: the document
        # (~143 MB for 10^6 incidents) is never held whole.
        loaded.state.spool = FileSpool
        out = click.get_binary_stream("stdout")
        streamed = write_document(loaded.state, number, out.write)
        out.write(b"\n")
        out.flush()
        ok, _ = _verdict(loaded, number, streamed)
        raise SystemExit(0 if ok else EXIT_FAILED)
    document = loaded.document(number)
    ok, verdict = _verdict(loaded, number, document)
    doc = document.document
    rules = doc["rules"]
    say(f"Round {number}: window {doc['window']['start']} .. {doc['window']['end']}; rules version {rules['version']} "
               f"(entry {rules['seq']}, {rules['digest'][:16]}…); opened at entry {doc['opened']}, closed at entry {doc['closed']}")
    _echo_notices(loaded, number)
    say(f"{'rank':>4}  {'organization':<24} {'score':>14} {'raw':>14}  incidents")
    for row in doc["ranking"]:
        say(f"{row['rank']:>4}  {row['org']:<24} {row['score']:>14} {row['raw']:>14}  {len(row['incidents'])}")
    for tie in doc["ties"]:
        say(f"TIE at rank {tie['rank']} (score {tie['score']}): {', '.join(tie['orgs'])}")
    selection = doc["selection"]
    ratio = f"ratio {selection['ratio']}" if selection["ratio"] is not None else "no runner-up score"
    pick = selection["target"] or ("panel chooses among " + ", ".join(selection["candidates"]) if selection["candidates"] else "no target")
    say(f"Selection: {selection['outcome']} -> {pick} (top {selection['top_score']}, runner-up {selection['runner_up_score']}, "
               f"{ratio}; required ratio {selection['required_ratio']}, minimum score {selection['min_score']})")
    reasons = Counter(e["reason"] for e in doc["excluded"])
    say(f"Counted incidents: {doc['counts']['incidents_counted']}; exclusions: "
               + (", ".join(f"{r} {n}" for r, n in sorted(reasons.items())) or "none"))
    say(f"Ranking digest: {document.digest}")
    say(verdict)
    raise SystemExit(0 if ok else EXIT_FAILED)


@click.command()
@PATH_ARG
@ROUND_OPT
@click.option("--org", required=True, help="Organization id.")
@JSON_OPT
def explain(path: Path, number: int, org: str, as_json: bool) -> None:
    """Explain an organization's score in round N: every incident counted and what it
    contributed, the breakdown by element and victim role, and each excluded incident
    with the reason.

    \b
    Example:
      ledger explain demo/ledger.db --round 1 --org halcones-del-norte
    """
    loaded = Loaded(path)
    loaded.warn()
    doc = loaded.document(number).document
    rows = [r for r in doc["ranking"] if r["org"] == org]
    if not rows:
        raise ReplayError(f"{org!r} is not eligible in round {number} (eligible: {', '.join(doc['eligible'])})")
    row = rows[0]
    excluded = []
    for item in doc["excluded"]:
        if item["org"] == org or (item["org"] is None and _attributes(loaded.state, item["incident"], item["seq"], org)):
            excluded.append(item)
    incidents = loaded.state.incidents
    if as_json:
        echo_json({"round": number, "org": org, "row": row, "excluded": excluded, "selection": doc["selection"],
                   "notices": _notices(loaded, number)})
        return
    say(f"{org} in round {number}: rank {row['rank']}, score {row['score']} (exact {row['score_exact']}), raw {row['raw']}")
    _echo_notices(loaded, number)
    if row["normalization"] is not None:
        n = row["normalization"]
        say(f"  normalized: raw x unit / divisor {n['divisor']} (estimate {n['estimate'] or 'none: the floor applies'})")
    say("Breakdown by element and victim role:")
    for kind, roles in row["breakdown"].items():
        for role, cell in roles.items():
            say(f"  {kind:<28} {role:<18} {cell['value']:>12}")
    say(f"Incidents counted ({len(row['incidents'])}):")
    for item in row["incidents"]:
        version = _version(incidents[item["incident"]], item["seq"])
        victims = ", ".join(f"{role} {low}/{best}/{high}" for role, low, best, high in version.victims)
        say(f"  {item['incident']:<14} entry {item['seq']:>6}  {version.date}  {version.kind:<26} {victims:<32} +{item['contribution']}")
    say(f"Incidents excluded ({len(excluded)}):")
    for item in excluded:
        say(f"  {item['incident']:<14} entry {item['seq']:>6}  {item['reason']}")


def _version(incident: Incident, seq: int) -> Version:
    return incident.version_at(seq) or incident.current


def _attributes(state: ScoringState, incident_id: str, seq: int, org: str) -> bool:
    incident = state.incidents.get(incident_id)
    return incident is not None and any(a[0] == org for a in _version(incident, seq).attributions)


@click.command()
@PATH_ARG
@JSON_OPT
def rounds(path: Path, as_json: bool) -> None:
    """List every round: window, rules, status, target, and whether the decision replays.

    Also each round's notices (retrospective, organizations left out) and, for a store
    with witness-cosigned checkpoints, when a witness first saw the round's opening.

    \b
    Example:
      ledger rounds demo/ledger.db
    """
    from ledger.app.witnessed import witnessed_entries

    loaded = Loaded(path)
    loaded.warn()
    out = []
    witnessed = witnessed_entries(path, {n: r.open_seq for n, r in loaded.state.rounds.items()}, loaded.origin, loaded.policy)
    for number, round_ in sorted(loaded.state.rounds.items()):
        rules = loaded.state.rules[round_.rules]
        check = "pending"
        if round_.decision is not None:
            document = loaded.document(number)
            ok, _ = _verdict(loaded, number, document)
            if ok:
                check = "replay matches"
            elif round_.decision["ranking"] == document.digest:
                check = "deviation (justified)"
            else:
                check = "MISMATCH"
        out.append({
            "round": number, "status": round_.status, "window": round_.body["window"],
            "rules": {"version": rules.version, "digest": rules.digest}, "eligible": len(round_.eligible),
            "opened": round_.open_seq, "closed": round_.close_seq, "decided": round_.decide_seq,
            "target": round_.target, "dismantled": round_.dismantled_seq, "verification": check,
            "retrospective": round_.retrospective, "left_out": round_.left_out, "notices": _notices(loaded, number),
            "opened_on": round_.opened_on, "witnessed": witnessed[number].to_json() if number in witnessed else None,
        })
    if as_json:
        echo_json(out)
        return
    if not out:
        say("no rounds yet")
    for r in out:
        target = r["target"] or ("no target" if r["decided"] is not None else "-")
        say(f"round {r['round']}: {r['window']['start']} .. {r['window']['end']}  rules v{r['rules']['version']}  "
                   f"{r['eligible']} eligible  {r['status']:<18} target {target:<22} {r['verification']}")
        _echo_notices(loaded, r["round"], "  ")
        if r["witnessed"] is not None:
            w = r["witnessed"]
            say(f"  opening (entry {r['opened']}, claimed {r['opened_on']}) witnessed by {w['witness']} at {w['time']} "
                       f"(cosigned checkpoint of size {w['checkpoint_size']})")


# -- statement creation ------------------------------------------------------------------


def _split(value: str, n: int, what: str, option: str) -> list[str]:
    parts = value.split(":")
    if len(parts) != n:
        raise click.BadParameter(f"expected {what}, got {value!r}", param_hint=option)
    return parts


def _sources(values: tuple[str, ...]) -> list[dict[str, str]]:
    return [A.source(*_split(v, 4, "PUBLISHER:SCALE:DATE:COMMITMENT", "--source")) for v in values]


def _emit(loaded: Loaded, type_: str, body: dict[str, Any], at: str | None, out: Path | None) -> None:
    """Write the new statement after the checks `ledger append` will run (ledger.app.preflight)."""
    write_new_statement(A.statement(type_, body, resolve_at(at), loaded.ledger_id), out, loaded.view)


def _incident_options(f):
    for option in reversed([
        click.option("--id", "incident_id", required=True, help="Stable incident id, e.g. mx-00042."),
        click.option("--date", "day", required=True, help="Date YYYY-MM-DD."),
        click.option("--precision", "date_precision", type=click.Choice(["day", "week", "month"]), default="day", show_default=True),
        click.option("--state", "place_state", required=True, help="ISO 3166-2 subdivision, e.g. MX-GRO."),
        click.option("--municipality", help="Municipality code or name."),
        click.option("--kind", type=click.Choice(KINDS), required=True),
        click.option("--victim", "victims", multiple=True, metavar="ROLE=LOW[/BEST[/HIGH]]", help=f"Victims by role (repeat); roles: {', '.join(ROLES)}."),
        click.option("--attr", "attributions", multiple=True, metavar="ORG[:BASIS[:CONFIDENCE]]", help=f"Attribution (repeat); basis {'/'.join(BASES)}, confidence {'/'.join(CONFIDENCES)}."),
        click.option("--claim", "claims", multiple=True, metavar="ORG:STANCE:CHANNEL", help="A claim or denial, kept apart from attributions."),
        click.option("--source", "sources", multiple=True, required=True, metavar="PUBLISHER:SCALE:DATE:COMMITMENT", help="A source by commitment (see `ledger commitment`)."),
        click.option("--notes", help="Free text (never personal data)."),
    ]):
        f = option(f)
    return f


def _incident_body(incident_id, day, date_precision, place_state, municipality, kind, victims, attributions, claims, sources, notes) -> dict[str, Any]:
    parsed_victims = []
    for value in victims:
        role, _, counts = value.partition("=")
        try:
            numbers = [int(x) for x in counts.split("/")]
        except ValueError:
            raise click.BadParameter(f"expected ROLE=LOW[/BEST[/HIGH]], got {value!r}", param_hint="--victim") from None
        if role not in ROLES or not 1 <= len(numbers) <= 3:
            raise click.BadParameter(f"expected ROLE=LOW[/BEST[/HIGH]] with a role of {', '.join(ROLES)}, got {value!r}", param_hint="--victim")
        parsed_victims.append(A.victim(role, *numbers))
    parsed_attributions = []
    for value in attributions:
        parts = value.split(":")
        parsed_attributions.append(A.attribution(parts[0], *(parts[1:3])))
    parsed_claims = [dict(zip(("org", "stance", "channel"), _split(v, 3, "ORG:STANCE:CHANNEL", "--claim"))) for v in claims]
    return A.incident(incident_id, day, kind, victims=parsed_victims, attributions=parsed_attributions, sources=_sources(sources),
                      state=place_state, municipality=municipality, date_precision=date_precision, claims=parsed_claims, notes=notes)


@click.command("new-incident")
@PATH_ARG
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
    _emit(Loaded(path), "incident.record", _incident_body(**fields), at, out)


@click.command("amend-incident")
@PATH_ARG
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
    _emit(Loaded(path), "incident.amend", {"incident": _incident_body(**fields), "reason": reason}, at, out)


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
    _emit(Loaded(path), "incident.retract", {"incident_id": incident_id, "reason": reason}, at, out)


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
    _emit(Loaded(path), "org.update" if update else "org.register", A.org_register(org_id, name, aliases, notes), at, out)


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
    _emit(Loaded(path), "org.lineage", A.org_lineage(org, relation, other, day, notes), at, out)


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
    _emit(Loaded(path), "org.identify", body, at, out)


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
    _emit(Loaded(path), "attribution.dispute", {
        "dispute_id": dispute_id, "incident_id": incident_id, "org": org, "basis": basis,
        "raised_by": raised_by, "grounds": grounds, "sources": _sources(sources)}, at, out)


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
    _emit(Loaded(path), "dispute.resolve", {"dispute_id": dispute_id, "outcome": outcome, "justification": justification}, at, out)


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
            "sources": _sources(sources)}
    if notes:
        body["notes"] = notes
    _emit(Loaded(path), "estimate.record", body, at, out)


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

    loaded = Loaded(path)
    version = len(loaded.state.rules_versions) + 1
    if rules_file is None:
        body = A.rules_body(version, name or f"rules version {version}")
    else:
        body = canonical.parse(read_input(rules_file, "rules file").strip())
        if not isinstance(body, dict):
            raise InputError(f"{rules_file}: the rules must be a JSON object")
        body.setdefault("version", version)
        if name:
            body["name"] = name
    _emit(loaded, "rules.adopt", body, at, out)


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
    loaded = Loaded(path)
    state = loaded.state
    if rules_digest is None:
        if state.latest_rules is None:
            raise InputError("no rules adopted yet: create one with ledger adopt-rules")
        rules_digest = state.latest_rules.digest
    number = 1 if state.last_round is None else state.last_round.number + 1
    reasons = dict(_pair(item, "--left-out") for item in left_out)
    if not eligible:
        eligible = tuple(o for o in sorted(state.orgs) if state.eligible_now(o) is None and o not in reasons)
    _emit(loaded, "round.open", A.round_open(number, rules_digest, start, end, eligible, decision_date, notes,
                                             retrospective=retrospective, left_out=reasons), at, out)


def _pair(item: str, option: str) -> tuple[str, str]:
    org, sep, reason = item.partition("=")
    if not sep or not org:
        raise InputError(f"{option} {item!r}: expected ORG=REASON")
    return org, reason


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
    _emit(Loaded(path), "round.close", body, at, out)


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
    loaded = Loaded(path)
    kwargs: dict[str, Any] = {"justification": justification}
    if target is not None or no_target:
        kwargs["target"] = None if no_target else target
    body = A.decision_body(loaded.state, number, **kwargs)
    _emit(loaded, "round.decide", body, at, out)


@click.command()
@PATH_ARG
@ROUND_OPT
@click.option("--org", required=True)
@click.option("--date", "day", required=True)
@click.option("--summary", required=True)
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
    _emit(Loaded(path), "target.progress", {"round": number, "org": org, "date": day, "summary": summary, "sources": _sources(sources)}, at, out)


@click.command()
@PATH_ARG
@ROUND_OPT
@click.option("--org", required=True)
@click.option("--date", "day", required=True)
@click.option("--summary", required=True)
@at_option
@OUT_OPT
def dismantled(path, number, org, day, summary, at, out) -> None:
    """Create a target.dismantled: the target leaves the eligible set; the next round may open.

    \b
    Example:
      ledger dismantled ledger.db --round 1 --org halcones-del-norte --date 2026-06-20 \\
        --summary "command structure dismantled" --out d.json
    """
    _emit(Loaded(path), "target.dismantled", {"round": number, "org": org, "date": day, "summary": summary}, at, out)


@click.command()
@click.argument("document", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--salt", help="64 hex digits (default: a fresh random salt, printed: keep it off the ledger).")
@JSON_OPT
def commitment(document: Path, salt: str | None, as_json: bool) -> None:
    """Compute the salted SHA-256 commitment to a source document (for --source).

    \b
    Example:
      ledger commitment report.pdf
    """
    try:
        salt_bytes = bytes.fromhex(salt) if salt else secrets.token_bytes(32)
    except ValueError:
        raise click.BadParameter("expected 64 hex digits", param_hint="--salt") from None
    if len(salt_bytes) != 32:
        raise click.BadParameter("expected 64 hex digits", param_hint="--salt")
    value = A.commitment(salt_bytes, read_input(document, "document"))
    if as_json:
        echo_json({"salt": salt_bytes.hex(), "commitment": value})
    else:
        click.echo(f"salt {salt_bytes.hex()}\ncommitment {value}")


COMMANDS = [
    replay_cmd, explain, rounds, new_org, org_lineage, identify_org, new_incident, amend_incident, retract_incident, dispute,
    resolve_dispute, new_estimate, adopt_rules, open_round, close_round, decide, progress, dismantled, commitment,
]
