"""Commands for the people who use the ledger: CSV import, robustness, HTML reports."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ledger.errors import InputError, LedgerError

from ._common import EXIT_FAILED, echo_json, entry_total, load_key, passphrase_options, read_input, resolve_at, write_atomic
from ._terminal import clean, say
from .ledger_cmd import progress

PATH_ARG = click.argument("path", type=click.Path(dir_okay=False, path_type=Path))


def _colour(text: str, fg: str) -> str:
    """Colour for terminals, never when NO_COLOR is set (https://no-color.org) or output is piped."""
    import os

    if os.environ.get("NO_COLOR") or not sys.stdout.isatty():
        return text
    return click.style(text, fg=fg)


# -- import --------------------------------------------------------------------------------


@click.command("import")
@PATH_ARG
@click.option("--csv", "csv_file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Incidents, one per row (SPEC.md 17).")
@click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False, path_type=Path), help="JSON mapping for other column layouts and vocabularies.")
@click.option("--key", "recorder_key", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The recorder's private key: signs every statement.")
@click.option("--operator-key", type=click.Path(dir_okay=False, path_type=Path), help="The operator's private key, which seals entries (optional with --dry-run).")
@click.option("--dry-run", is_flag=True, help="Check every row and report what would be appended; write nothing.")
@click.option("--at", metavar="TIME", help="Claimed time of the statements, RFC 3339 UTC. Default: now.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result (problems as a list).")
@passphrase_options
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="A verifier state file of yours (SPEC.md 9): resume from it instead of verifying the whole stored ledger first, and keep it up to date.")
def import_cmd(path: Path, csv_file: Path, mapping_file: Path | None, recorder_key: Path, operator_key: Path | None,
               dry_run: bool, at: str | None, as_json: bool, passphrase_file, passphrase_env,
               state_file: Path | None) -> None:
    """Import incidents from a CSV file (ACLED/GTD style) as ONE signed batch: all rows or none.

    Every row is checked first (columns, values, organizations, and the same rules as
    `ledger verify`); each problem is reported as `row R, column C: problem`, where the
    header is row 1. Only when every row is good is the batch appended, in one
    transaction. Organizations may be named by id, registered name or alias.

    \b
    Example:
      ledger import demo/ledger.db --csv incidents.csv --key demo/keys/recorder-1.key --dry-run
      ledger import demo/ledger.db --csv incidents.csv --key demo/keys/recorder-1.key \\
        --operator-key demo/keys/operator.key
      ledger import ledger.db --csv acled-export.csv --mapping examples/mappings/acled.json ...
    """
    import hashlib
    import time

    from ledger.errors import StoreError
    from ledger.importer import check_batch, parse_csv, read_mapping, row_problems, sign_rows
    from ledger.keys import SigningKey
    from ledger.scoring.process import scoring_process
    from ledger.store import LedgerStore

    if operator_key is None and not dry_run:
        raise click.UsageError("--operator-key is required unless --dry-run")
    stamp = resolve_at(at)
    mapping = read_mapping(read_input(mapping_file, "mapping file"), str(mapping_file)) if mapping_file else None
    data = read_input(csv_file, "CSV file")
    recorder = load_key(recorder_key, passphrase_file, passphrase_env)
    operator = load_key(operator_key, passphrase_file, passphrase_env) if operator_key else SigningKey.from_raw_seed(hashlib.sha256(b"dry-run").digest())
    started = time.monotonic()
    with LedgerStore.open(path, readonly=dry_run, state=None if dry_run else state_file) as store:
        with progress("loading ledger", store.size) as bar:
            verifier = store.verifier(progress=bar)  # the store's own state: verified once
        process = scoring_process(verifier)
        assert process is not None
        rows, problems = parse_csv(data, process.state, mapping, str(csv_file))
        first = store.size
        if not problems and dry_run:
            with progress("checking rows", len(rows)) as bar:
                _, problems = check_batch(verifier, rows, recorder, operator, stamp, ignore_seal=operator_key is None,
                                          progress=bar)
        elif not problems:
            # Checked once, under the write lock, by the same verifier: every row's problems
            # are collected and nothing lands unless every row is good (SPEC.md 17.3).
            with progress("signing rows", len(rows)) as bar:
                items = sign_rows(verifier, rows, recorder, stamp, progress=bar)
            problems, collect = row_problems(rows)
            with progress("appending", None) as bar:
                try:
                    entries = store.append_many(items, operator, on_violation=collect)
                except StoreError:
                    if not problems:
                        raise
                else:
                    bar(len(entries))
                    first = entries[0].seq
        if problems:
            if as_json:
                echo_json({"ok": False, "appended": 0, "rows": len(rows), "problems": [p.to_json() for p in problems]})
            else:
                for problem in problems[:50]:
                    click.echo(f"error: {problem}", err=True)
                if len(problems) > 50:
                    click.echo(f"error: … and {len(problems) - 50} more", err=True)
                click.echo(f"error: {len(problems)} problem(s) in {csv_file}; nothing was appended", err=True)
            raise SystemExit(EXIT_FAILED)
    elapsed = time.monotonic() - started
    ids = [body["incident_id"] for _, body in rows]
    summary = {"ok": True, "dry_run": dry_run, "rows": len(rows), "appended": 0 if dry_run else len(rows),
               "first_seq": first, "last_seq": first + len(rows) - 1, "incidents": ids, "time": stamp}
    if as_json:
        echo_json(summary)
        return
    if dry_run:
        click.echo(f"dry run: {len(rows)} incident(s) would be appended as entries {first}..{first + len(rows) - 1}; nothing was written")
        for number, body in rows[:20]:
            who = ", ".join(a["org"] for a in body["attributions"]) or "unattributed"
            click.echo(f"  row {number}: {body['incident_id']} {body['date']} {body['kind']} ({who})")
        if len(rows) > 20:
            click.echo(f"  … and {len(rows) - 20} more")
    else:
        click.echo(_colour(f"appended {len(rows)} incident(s) as entries {first}..{first + len(rows) - 1}", "green")
                   + f" in one transaction ({elapsed:.1f} s)")


# -- robustness ----------------------------------------------------------------------------


@click.command("robustness")
@PATH_ARG
@click.option("--round", "number", required=True, type=click.IntRange(min=1), help="Round number.")
@click.option("--samples", default=1000, show_default=True, type=click.IntRange(min=1, max=1_000_000), help="Monte Carlo samples.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed of random.Random: same seed, same output.")
@click.option("--spread", default="0.25", show_default=True, help="Each weight is multiplied by a factor uniform on [1-p, 1+p]; a decimal 0..1.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report (probabilities as exact decimal strings).")
def robustness_cmd(path: Path, number: int, samples: int, seed: int, spread: str, as_json: bool) -> None:
    """How sure can the public be of round N's ranking? Monte Carlo over the weights, the
    low/best/high victim counts and the attribution treatment (contested and
    single-party attributions dropped), each sample scored by the replay engine.

    Prints, per organization, the probability of ranking first and the 5-95% rank
    interval, and how often the rules would select the same target (SPEC.md 12.10).

    \b
    Example:
      ledger robustness demo/ledger.db --round 1
      ledger robustness demo/ledger.db --round 3 --samples 2000 --seed 7 --json
    """
    from ledger.robustness import analyse
    from ledger.scoring.rules import parse_decimal

    try:
        parse_decimal(spread)
        if not spread.replace(".", "", 1).isdigit():
            raise ValueError
    except ValueError:
        raise click.BadParameter(f"expected a decimal such as 0.25, got {spread!r}", param_hint="--spread") from None
    snapshot = _load(path)
    with progress(f"round {number}", samples) as bar:
        report = analyse(snapshot.state, number, samples=samples, seed=seed, spread=spread, progress=bar)
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False))
        return
    nominal = report["nominal"]
    say(f"Round {number}: {samples} samples, seed {seed}; weights x U[1-{spread}, 1+{spread}] ({report['perturbation']['weights_perturbed']} weights), "
               f"counts low/best/high, attribution committed/contested dropped/corroborated only")
    say(f"Nominal: {nominal['outcome']} -> {nominal['target'] or 'no target'} (ratio {nominal['ratio']}, required {nominal['required_ratio']})")
    say(f"{'rank':>4}  {'organization':<24} {'P(first)':>9}  {'rank 5-95%':>10}  median")
    for row in report["organizations"]:
        say(f"{row['nominal_rank']:>4}  {row['org']:<24} {row['p_first']['value']:>9}  {str(row['rank_5']) + '-' + str(row['rank_95']):>10}  {row['rank_50']}")
    say("Selection across samples: " + ", ".join(f"{t['target'] or 'no target'} {t['value']}" for t in report["selection"]["targets"]))
    same = parse_decimal(report["selection"]["same_as_nominal"]["value"])
    click.echo(_colour(clean(report["verdict"]), "green" if same >= parse_decimal("0.9") else "yellow"))


def _load(path: Path):
    from ledger.snapshot import load

    with progress("reading ledger", entry_total(path)) as bar:
        snapshot = load(path, progress=bar)
    if snapshot.violations:
        say(f"warning: the ledger has {len(snapshot.violations)} violation(s); entries with violations are ignored (run ledger verify)", err=True)
    return snapshot


# -- report --------------------------------------------------------------------------------


@click.command("report")
@PATH_ARG
@click.option("--round", "number", type=click.IntRange(min=1), help="One round: --out is an HTML file. Without it: --out is a directory.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="HTML file (with --round) or directory (whole ledger).")
@click.option("--samples", default=200, show_default=True, type=click.IntRange(min=0), help="Robustness samples per round (0: skip).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Robustness seed.")
@click.option("--source", help="How readers should name the ledger in the reproduce commands (default: PATH).")
@click.option("--json", "as_json", is_flag=True, help="Print the files written as JSON.")
def report_cmd(path: Path, number: int | None, out: Path, samples: int, seed: int, source: str | None, as_json: bool) -> None:
    """Write a self-contained HTML report (inline SVG chart, no script, works offline).

    With --round N: one page with the ranking chart broken down by element and victim
    role, the rank table, the decision and its signers, the replay check, the
    exclusions, the stand-out margin, robustness, progress updates and the commands that
    reproduce every number. Without --round: DIR/index.html (every round, every
    organization across rounds) and DIR/round-N.html for each round.

    \b
    Example:
      ledger report demo/ledger.db --round 1 --out round-1.html
      ledger report demo/ledger.jsonl --out site/
    """
    from ledger.report_html import index_report, round_report
    from ledger.robustness import analyse

    snapshot = _load(path)
    name = source or str(path)
    if not snapshot.state.rounds:
        raise InputError(f"{path}: the ledger has no rounds yet")

    def robust(n: int):
        if samples == 0:
            return None
        with progress(f"robustness of round {n}", samples) as bar:
            return analyse(snapshot.state, n, samples=samples, seed=seed, progress=bar)

    written: list[str] = []
    if number is not None:
        if number not in snapshot.state.rounds:
            raise LedgerError(f"no round {number} in this ledger (rounds: {', '.join(map(str, sorted(snapshot.state.rounds)))})")
        if out.is_dir():
            raise InputError(f"{out} is a directory; with --round, --out names an HTML file")
        page = round_report(snapshot, number, robustness=robust(number), source=name, samples=samples, seed=seed)
        write_atomic(out, page.encode("utf-8"))
        written.append(str(out))
    else:
        if out.exists() and not out.is_dir():
            raise InputError(f"{out} exists and is not a directory; without --round, --out names a directory")
        out.mkdir(parents=True, exist_ok=True)
        results = {}
        for n in sorted(snapshot.state.rounds):
            results[n] = robust(n)
            page = round_report(snapshot, n, robustness=results[n], source=name, samples=samples, seed=seed, links=True)
            write_atomic(out / f"round-{n}.html", page.encode("utf-8"))
            written.append(str(out / f"round-{n}.html"))
        write_atomic(out / "index.html", index_report(snapshot, {n: r for n, r in results.items() if r}, name).encode("utf-8"))
        written.append(str(out / "index.html"))
    if as_json:
        echo_json({"written": written, "bytes": {w: Path(w).stat().st_size for w in written}})
    else:
        for w in written:
            say(f"wrote {w} ({Path(w).stat().st_size} bytes)")


COMMANDS = [import_cmd, robustness_cmd, report_cmd]
