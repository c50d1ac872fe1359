"""Scoring commands that read a ledger: replay and explain a round's ranking, list the
rounds, and compute a source commitment (SPEC.md sections 10-12)."""

from __future__ import annotations

import secrets
from collections import Counter
from pathlib import Path

import click

from ledger.app.rounds import ROUND_CHECKS, ScoringLedger, version_at
from ledger.scoring import authoring as A
from ledger.scoring.explanation import contribution_formula, normalization_formula
from ledger.scoring.replay import RankingDocument, ReplayError, replay, write_document
from ledger.storage.diskstate import FileSpool

from ._common import EXIT_FAILED, echo_json, open_verified, read_input, state_option
from ._terminal import progress as show_progress, say  # `progress` is a command elsewhere


def ledger_arg(*state_names: str):
    """LEDGER (SQLite file, bundle, or published directory or URL) and --state FILE (or ``state_names``)."""
    return lambda f: state_option(*state_names)(click.argument("path", metavar="LEDGER")(f))


PATH_ARG = ledger_arg()
ROUND_OPT = click.option("--round", "number", required=True, type=click.IntRange(min=1), help="Round number.")
JSON_OPT = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def load(path: str) -> ScoringLedger:
    """The ledger at ``path`` (SQLite file, bundle, or published directory or URL), verified
    (resuming from --state FILE if given)."""
    return ScoringLedger.of(open_verified(path))


def _warn(loaded: ScoringLedger) -> None:
    if loaded.violations:
        say(f"warning: the ledger has {loaded.violations} violation(s); entries with violations are ignored (run ledger verify)", err=True)


def _document(loaded: ScoringLedger, number: int) -> RankingDocument:
    with show_progress(f"replaying round {number}") as shown:
        shown(0)  # a status line while the round is replayed (seconds on a large ledger)
        return replay(loaded.state, number)


def _echo_notices(loaded: ScoringLedger, number: int, indent: str = "") -> None:
    for notice in loaded.notices(number):
        say(f"{indent}NOTE {notice['message']} [{notice['rule']}]")


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
    loaded = load(path)
    _warn(loaded)
    if as_json:
        # Written as it is computed, its long lists through temporary files: the document
        # (~143 MB for 10^6 incidents) is never held whole.
        loaded.state.spool = FileSpool
        out = click.get_binary_stream("stdout")
        streamed = write_document(loaded.state, number, out.write)
        out.write(b"\n")
        out.flush()
        kind, _ = loaded.verdict(number, streamed)
        raise SystemExit(0 if kind == "matches" else EXIT_FAILED)
    document = _document(loaded, number)
    kind, verdict = loaded.verdict(number, document)
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
    raise SystemExit(0 if kind == "matches" else EXIT_FAILED)


@click.command()
@PATH_ARG
@ROUND_OPT
@click.option("--org", required=True, help="Organization id.")
@JSON_OPT
def explain(path: Path, number: int, org: str, as_json: bool) -> None:
    """Explain an organization's score in round N: every incident counted with every factor
    of its contribution (weight x count + feature weights, x confidence x basis x contested
    x share), the sum, the normalization with the estimate entry it used, the breakdown by
    element and victim role, and each excluded incident with the reason.

    \b
    Example:
      ledger explain demo/ledger.db --round 1 --org halcones-del-norte
    """
    loaded = load(path)
    _warn(loaded)
    with show_progress(f"replaying round {number}") as shown:
        shown(0)
        document = replay(loaded.state, number, factors=True)  # every factor, from the one engine
    doc = document.document
    rows = [r for r in doc["ranking"] if r["org"] == org]
    if not rows:
        raise ReplayError(f"{org!r} is not eligible in round {number} (eligible: {', '.join(doc['eligible'])})")
    row = rows[0]
    assert document.factors is not None
    factors = document.factors[org]
    excluded = loaded.excluded_for(doc, org)
    incidents = loaded.state.incidents
    if as_json:
        echo_json({"round": number, "org": org, "row": row, "factors": factors, "excluded": excluded,
                   "selection": doc["selection"], "notices": loaded.notices(number)})
        return
    say(f"{org} in round {number}: rank {row['rank']}, score {row['score']} (exact {row['score_exact']}), "
        f"raw {row['raw']} (exact {row['raw_exact']})")
    _echo_notices(loaded, number)
    say("Breakdown by element and victim role (and aggravating feature):")
    for kind, roles in row["breakdown"].items():
        for role, cell in roles.items():
            say(f"  {kind:<28} {role:<18} {cell['value']:>12}")
    for feature, cell in row.get("features", {}).items():
        say(f"  {'feature':<28} {feature:<18} {cell['value']:>12}")
    say(f"Incidents counted ({len(row['incidents'])}), each = (weight x victims counted [{factors['incidents'][0]['count'] if factors['incidents'] else '-'}]"
        " + feature weights) x confidence x basis x contested x share:")
    for item, factor in zip(row["incidents"], factors["incidents"]):
        version = version_at(incidents[item["incident"]], item["seq"])
        victims = ", ".join(f"{role} {low}/{best}/{high}" for role, low, best, high in version.victims)
        via = f"  (inherited from {factor['via']}, 12.1)" if factor["via"] else ""
        say(f"  {item['incident']:<14} entry {item['seq']:>6}  {version.date}  {version.kind:<26} {victims:<32} +{item['contribution']}{via}")
        say(f"      = {contribution_formula(factor)}")
    say(f"Raw = the sum of the contributions above = {row['raw_exact']} (shown {row['raw']})")
    say(normalization_formula(factors["normalization"], row["raw_exact"], row["score_exact"]) + f" (shown {row['score']})")
    say(f"Incidents excluded ({len(excluded)}):")
    for item in excluded:
        say(f"  {item['incident']:<14} entry {item['seq']:>6}  {item['reason']}")


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

    loaded = load(path)
    _warn(loaded)
    out = []
    witnessed = witnessed_entries(path, {n: r.open_seq for n, r in loaded.state.rounds.items()}, loaded.origin, loaded.policy)
    for number, round_ in sorted(loaded.state.rounds.items()):
        rules = loaded.state.rules[round_.rules]
        document = _document(loaded, number) if round_.decision is not None else None
        check = ROUND_CHECKS[loaded.verdict(number, document)[0]]
        out.append({
            "round": number, "status": round_.status, "window": round_.body["window"],
            "rules": {"version": rules.version, "digest": rules.digest}, "eligible": len(round_.eligible),
            "opened": round_.open_seq, "closed": round_.close_seq, "decided": round_.decide_seq,
            "target": round_.target, "dismantled": round_.dismantled_seq, "verification": check,
            "retrospective": round_.retrospective, "left_out": round_.left_out, "notices": loaded.notices(number),
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




COMMANDS = [replay_cmd, explain, rounds, commitment]
