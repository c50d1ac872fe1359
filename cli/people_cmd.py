"""Commands for the people who use the ledger: CSV import, robustness, HTML reports."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ledger.errors import InputError, LedgerError
from ledger.scoring.robustness import DEFAULT_SPREADS as SPREADS, analyse, is_spread, text_lines

from ._common import EXIT_FAILED, echo_json, entry_total, fail, load_key, passphrase_options, read_input, resolve_at, write_atomic
from ._terminal import clean, progress, say

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
@click.option("--csv", "csv_file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The export or spreadsheet, one incident per row (SPEC.md 17).")
@click.option("--format", "fmt_name", type=click.Choice(["acled", "gtd", "ged"]), help="A published layout, read as published (SPEC.md 17.5; docs/import-formats.md).")
@click.option("--release", metavar="VERSION", help="With --format: the export's version as its publisher names it (a download date, 23.1, ...). Recorded in every incident's origin.")
@click.option("--actors", "actors_file", type=click.Path(dir_okay=False, path_type=Path), help="With --format: your actor table, a CSV name,org (empty org: not an organization we score).")
@click.option("--regions", "regions_file", type=click.Path(dir_okay=False, path_type=Path), help="With --format: your region table, a CSV country,region,code (ISO 3166-2, or a country code).")
@click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False, path_type=Path), help="Without --format: a JSON mapping for other column layouts and vocabularies.")
@click.option("--skipped", "skipped_file", type=click.Path(dir_okay=False, path_type=Path), help="Where rows skipped by choice are written, with the reason. Default: NAME.skipped.csv here.")
@click.option("--retract-missing", is_flag=True, help="With --format: retract incidents of this dataset that the export no longer has (default: only report them).")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(min=1, max=100_000), help="Rows per transaction while appending.")
@click.option("--key", "recorder_key", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The recorder's private key: signs every statement.")
@click.option("--operator-key", type=click.Path(dir_okay=False, path_type=Path), help="The operator's private key, which seals entries (optional with --dry-run).")
@click.option("--dry-run", is_flag=True, help="Check every row and report what would be appended; write nothing.")
@click.option("--at", metavar="TIME", help="Claimed time of the statements, RFC 3339 UTC. Default: now.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result (problems as a list).")
@passphrase_options
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="A verifier state file of yours (SPEC.md 9): resume from it instead of verifying the whole stored ledger first, and keep it up to date.")
def import_cmd(path: Path, csv_file: Path, fmt_name: str | None, release: str | None, actors_file: Path | None,
               regions_file: Path | None, mapping_file: Path | None, skipped_file: Path | None, retract_missing: bool,
               batch_size: int, recorder_key: Path, operator_key: Path | None, dry_run: bool, at: str | None,
               as_json: bool, passphrase_file, passphrase_env, state_file: Path | None) -> None:
    """Import incidents from a CSV file: an ACLED, GTD or UCDP GED export as published
    (--format), or the default columns / a mapping file.

    Every row is read and checked first, streaming (columns, values, organizations); each
    problem is reported as `row R, column C: problem` (the header is row 1), and if there
    is any, nothing is written. Rows that cannot be scored (an event type with no incident
    kind, no registered perpetrator) are skipped by choice: counted, explained, and written
    to the skipped file. Then the statements are signed and appended in transactions of
    --batch-size rows, each checked by the same rules as `ledger verify`.

    Importing a newer export of the same dataset records its new rows, amends the revised
    ones (incident.amend, the reason naming the export), leaves the others alone and
    reports (or, with --retract-missing, retracts) rows that disappeared: running it twice
    changes nothing the second time, and an interrupted import is finished by running it
    again.

    \b
    Example:
      ledger import ledger.db --csv acled.csv --format acled --release 2027-03-20 \\
        --actors actors.csv --key keys/recorder-1.key --operator-key keys/operator.key
      ledger import demo/ledger.db --csv incidents.csv --key demo/keys/recorder-1.key --dry-run
      ledger import ledger.db --csv sheet.csv --mapping examples/mappings/regional-sheet.json ...
    """
    import hashlib
    import time

    from ledger.app.import_formats import FORMATS
    from ledger.app.import_run import ImportRun
    from ledger.app.importer import read_mapping
    from ledger.core.keys import SigningKey
    from ledger.storage.store import LedgerStore

    if operator_key is None and not dry_run:
        raise click.UsageError("--operator-key is required unless --dry-run")
    fmt = FORMATS[fmt_name] if fmt_name else None
    if fmt is None and (release or actors_file or regions_file or retract_missing):
        raise click.UsageError("--release, --actors, --regions and --retract-missing go with --format")
    if fmt is not None and mapping_file:
        raise click.UsageError("--mapping is for other layouts; a built-in --format has its own (use --actors and --regions)")
    if fmt is not None and not release:
        raise click.UsageError("--format needs --release: the export's version (for example its download date)")
    if release is not None and not 1 <= len(release) <= 100:
        raise click.BadParameter("expected 1 to 100 characters", param_hint="--release")
    stamp = resolve_at(at)
    mapping = read_mapping(read_input(mapping_file, "mapping file"), str(mapping_file)) if mapping_file else None
    recorder = load_key(recorder_key, passphrase_file, passphrase_env)
    operator = load_key(operator_key, passphrase_file, passphrase_env) if operator_key else SigningKey.from_raw_seed(hashlib.sha256(b"dry-run").digest())
    skipped_path = skipped_file or Path(f"{csv_file.stem}.skipped.csv")
    started = time.monotonic()
    committed: list[int] = []  # seq of every entry that landed
    try:
        with LedgerStore.open(path, readonly=dry_run, state=None if dry_run else state_file) as store:
            with progress("loading ledger", store.size) as bar:
                verifier = store.verifier(progress=bar)  # the store's own state: verified once
            run = ImportRun(store, verifier, csv_file, fmt, release, mapping, actors_file, regions_file, skipped_path)
            with progress("checking rows") as bar:
                problems = run.check(retract_missing, bar)
            if problems:
                _refuse(problems, run.counts, csv_file, as_json)
            with progress("checking statements" if dry_run else "appending", run.planned) as bar:
                for size, problems in run.append(batch_size, recorder, operator, stamp, committed, dry_run, operator_key is None):
                    if problems:
                        _refuse(problems, run.counts, csv_file, as_json, committed)
                    bar(size)
    except KeyboardInterrupt:
        if committed:
            fail(f"interrupted after {len(committed)} {'entry was' if len(committed) == 1 else 'entries were'} committed ({committed[0]}..{committed[-1]}); "
                 "they are in the ledger. Run the same import again to finish it: rows already recorded are left alone", 130)
        fail("interrupted; nothing was appended", 130)
    try:
        elapsed = time.monotonic() - started
        appended = 0 if dry_run else len(committed)
        summary = run.summary(dry_run, appended, stamp)
        if as_json:
            echo_json(summary)
            return
        _print_import(run, summary, csv_file, retract_missing, dry_run, committed, elapsed)
    except KeyboardInterrupt:
        if committed:
            fail(f"interrupted after the import had committed all {len(committed)} entries ({committed[0]}..{committed[-1]})", 130)
        raise


def _print_import(run, summary: dict, csv_file: Path, retract_missing: bool, dry_run: bool, committed: list[int], elapsed: float) -> None:
    """The import's result for people."""
    counts, fmt, context, missing, planned, first = run.counts, run.fmt, run.context, run.missing, run.planned, run.first
    what = f"{fmt.title} {run.release}" if fmt else str(csv_file)
    say(f"{what}: {summary['rows']} row(s): {counts['record']} new, {counts['amend']} revised, "
        f"{counts['unchanged']} unchanged, {counts['skip']} skipped")
    for kind, n in run.reasons.most_common():
        say(f"  skipped {n}: {clean(kind)}")
    if counts["skip"]:
        say(f"  skipped rows, with the reason, in {run.skipped_path}")
    if context and context.actors.unresolved:
        top = sorted(context.actors.unresolved.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        say("  actors not resolved to an organization: " + "; ".join(f"{clean(n)} ({c})" for n, c in top))
    if missing:
        verb = "retracted" if retract_missing else "not in this export (--retract-missing retracts them)"
        say(f"  {len(missing)} incident(s) recorded from earlier exports {verb}: {', '.join(missing[:10])}{' …' if len(missing) > 10 else ''}")
    if dry_run:
        say(f"dry run: {planned} incident(s) would be appended as entries {first}..{first + planned - 1}; nothing was written")
    elif summary["appended"]:
        click.echo(_colour(f"appended {summary['appended']} incident(s) as entries {committed[0]}..{committed[-1]}", "green")
                   + f" ({elapsed:.1f} s)")
    else:
        say("nothing to append: the ledger already holds every row of this file")


def _refuse(problems, counts, csv_file: Path, as_json: bool, committed: list[int] | None = None) -> None:
    """Print every problem and exit 1; say what was committed before, if anything."""
    done = f"{len(committed)} entries were committed before ({committed[0]}..{committed[-1]}); the rest was not appended" if committed else "nothing was appended"
    if as_json:
        echo_json({"ok": False, "appended": len(committed or []), "rows": sum(counts.values()), "problems": [p.to_json() for p in problems]})
    else:
        for problem in problems[:50]:
            say(f"error: {clean(str(problem))}", err=True)
        if len(problems) > 50:
            say(f"error: … and {len(problems) - 50} more", err=True)
        say(f"error: {len(problems)} problem(s) in {csv_file}; {done}", err=True)
    raise SystemExit(EXIT_FAILED)


# -- robustness ----------------------------------------------------------------------------


@click.command("robustness")
@PATH_ARG
@click.option("--round", "number", required=True, type=click.IntRange(min=1), help="Round number.")
@click.option("--samples", default=1000, show_default=True, type=click.IntRange(min=1, max=1_000_000), help="Monte Carlo samples.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed of random.Random: same seed, same output.")
@click.option("--spread", default=SPREADS["weights"], show_default=True, help="Each weight is multiplied by a factor uniform on [1-p, 1+p]; a decimal 0..1.")
@click.option("--ratio-spread", default=SPREADS["ratio"], show_default=True, help="The stand-out ratio varies within ratio x [1-p, 1+p] (never below 1).")
@click.option("--min-score-spread", default=SPREADS["min_score"], show_default=True, help="The minimum score varies within min_score x [1-p, 1+p].")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report (probabilities as exact decimal strings).")
def robustness_cmd(path: Path, number: int, samples: int, seed: int, spread: str, ratio_spread: str, min_score_spread: str,
                   as_json: bool) -> None:
    """How sure can the public be of round N's selection? Varies what is uncertain: the
    weights, victim counts (low/best/high), attribution treatment, each organization's
    revenue or drug-flow estimate (low/best/high), stand-out ratio and minimum score,
    min_sources (+-1) and the unattributed incidents (allocated by place): each one at a
    time, then all jointly (Monte Carlo), every scenario scored by the replay engine.
    Prints each scenario's selection, per organization the probability of ranking first
    and the 5-95% rank interval, and how often the same target is selected (SPEC.md 12.10).

    \b
    Example:
      ledger robustness demo/ledger.db --round 1
      ledger robustness demo/ledger.db --round 3 --samples 2000 --seed 7 --ratio-spread 0.2 --json
    """
    for option, text in (("--spread", spread), ("--ratio-spread", ratio_spread), ("--min-score-spread", min_score_spread)):
        if not is_spread(text):
            raise click.BadParameter(f"expected a decimal such as 0.25, got {text!r}", param_hint=option)
    snapshot = _load(path, places=True)
    with progress(f"round {number}", samples) as bar:
        report = analyse(snapshot.state, number, places=snapshot.places, samples=samples, seed=seed, spread=spread,
                         ratio_spread=ratio_spread, min_score_spread=min_score_spread, progress=bar)
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False))
        return
    for line in text_lines(report):
        say(clean(line))
    robust = report["selection"]["same_as_nominal"]["value"] >= "0.900"  # 3 places, 0.000..1.000
    click.echo(_colour(clean(report["verdict"]), "green" if robust else "yellow"))


def _load(path: Path, places: bool = False):
    from ledger.app.snapshot import load

    with progress("reading ledger", entry_total(path)) as bar:
        snapshot = load(path, progress=bar, places=places)
    click.get_current_context().call_on_close(snapshot.close)
    if snapshot.violation_count:
        say(f"warning: the ledger has {snapshot.violation_count} violation(s); entries with violations are ignored (run ledger verify)", err=True)
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
    from ledger.people.report_html import index_report, round_report

    snapshot = _load(path, places=samples > 0)
    name = source or str(path)
    if not snapshot.state.rounds:
        raise InputError(f"{path}: the ledger has no rounds yet")

    places = snapshot.places

    def robust(n: int):
        if samples == 0:
            return None
        with progress(f"robustness of round {n}", samples) as bar:
            return analyse(snapshot.state, n, places=places, samples=samples, seed=seed, progress=bar)

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
