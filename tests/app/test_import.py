"""ledger import, default columns and mapping files: bad rows named by row and column; nothing written unless every row is good."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
from pathlib import Path

import pytest

from people_fixtures import EXAMPLES, build_demo, copy_demo, ledger_hash, run

sys.path.insert(0, str(EXAMPLES))


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("import") / "demo"
    build_demo(directory)
    return directory


@pytest.fixture(scope="module")
def csv_rows(tmp_path_factory) -> list[dict[str, str]]:
    from ledger.people.synthetic import Params, generate

    return [e.row for e in generate(Params(seed=3, weeks=1, events_per_week=60))]


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    from ledger.people.synthetic import CSV_COLUMNS, to_csv

    path.write_bytes(to_csv(rows, columns or list(CSV_COLUMNS)))
    return path


def keys(directory: Path) -> list[str]:
    return ["--key", str(directory / "keys" / "recorder-1.key"), "--operator-key", str(directory / "keys" / "operator.key")]


def test_import_happy_path_and_views(demo, csv_rows, tmp_path):
    db = copy_demo(demo, tmp_path / "d")
    before = sqlite3.connect(db).execute("SELECT count(*) FROM entries").fetchone()[0]
    data = write_csv(tmp_path / "in.csv", csv_rows)
    result = run("import", db, "--csv", data, *keys(tmp_path / "d"), "--at", "2027-04-19T08:00:00Z", "--json", check=True)
    out = json.loads(result.stdout)
    assert out["ok"] and out["appended"] == len(csv_rows) == out["rows"]
    assert out["first_seq"] == before and out["last_seq"] == before + len(csv_rows) - 1
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM entries").fetchone()[0] == before + len(csv_rows)
    # the readable view shows exactly the imported incidents, derived from the raw bytes
    ids = [r[0] for r in conn.execute("SELECT incident_id FROM incidents WHERE seq >= ? ORDER BY seq", (before,))]
    assert ids == [r["event_id"] for r in csv_rows]
    signers = {r[0] for r in conn.execute("SELECT signatures FROM statements WHERE seq >= ?", (before,))}
    assert signers == {1}
    assert run("verify", db).returncode == 0


def test_dry_run_changes_nothing(demo, csv_rows, tmp_path):
    db = copy_demo(demo, tmp_path / "d")
    data = write_csv(tmp_path / "in.csv", csv_rows)
    before = ledger_hash(db)
    result = run("import", db, "--csv", data, "--key", tmp_path / "d" / "keys" / "recorder-1.key", "--dry-run", check=True)
    assert f"{len(csv_rows)} incident(s) would be appended" in result.stdout
    assert "nothing was written" in result.stdout
    assert ledger_hash(db) == before
    dry = json.loads(run("import", db, "--csv", data, *keys(tmp_path / "d"), "--dry-run", "--json", check=True).stdout)
    assert dry["dry_run"] is True and dry["appended"] == 0 and dry["rows"] == len(csv_rows)
    assert ledger_hash(db) == before


# (mutation of one cell, expected column in the message, expected words)
BAD_CELLS = [
    ("event_date", "2027-02-30", "event_date", "calendar date"),
    ("event_date", "", "event_date", "is empty"),
    ("event_id", "Not An Id!", "event_id", "incident_id"),
    ("event_id", "", "event_id", "is empty"),
    ("time_precision", "fortnight", "time_precision", "expected day, week, month"),
    ("admin1_code", "Guerrero", "admin1_code", "place.state"),
    ("event_type", "riot", "event_type", "expected one of killing"),
    ("victims", "bystander=1", "victims", "unknown victim role"),
    ("victims", "ordinary_citizen=3/2/1", "victims", "low <= best <= high"),
    ("victims", "ordinary_citizen=two", "victims", "whole numbers"),
    ("victims", "ordinary_citizen=1.5", "victims", "whole numbers"),
    ("victims", "police=1; police=2", "victims", "listed twice"),
    ("actor1", "los-zetas", "actor1", "not a registered organization"),
    ("actor1_basis", "rumour", "actor1_basis", "expected one of claim"),
    ("actor1_confidence", "certain", "actor1_confidence", "expected one of low"),
    ("claims", "golfo-unido:boasted:banner", "claims", "ORG:STANCE:CHANNEL"),
    ("sources", "", "sources", "at least one source"),
    ("sources", "radio-costa:local:2027-03-08", "sources", "PUBLISHER:SCALE:DATE:COMMITMENT"),
    ("sources", "radio-costa:planetary:2027-03-08:" + "a" * 64, "sources", "scale must be one of"),
    ("sources", "radio-costa:local:2027-03-08:XYZ", "sources", "64 lowercase hex"),
    ("sources", "Radio Costa:local:2027-03-08:" + "a" * 64, "sources", "sources"),
]


def test_every_kind_of_bad_row_names_row_and_column_and_changes_nothing(demo, csv_rows, tmp_path):
    """One bad cell per row, one row per kind of problem: each is reported with its row and
    column, and the ledger is byte for byte unchanged."""
    db = copy_demo(demo, tmp_path / "d")
    rows = [dict(r) for r in csv_rows if r["actor1"]]
    assert len(rows) >= len(BAD_CELLS)
    for i, (column, value, _, _) in enumerate(BAD_CELLS):
        rows[i][column] = value
    data = write_csv(tmp_path / "bad.csv", rows[: len(BAD_CELLS)])
    before = ledger_hash(db)
    result = run("import", db, "--csv", data, *keys(tmp_path / "d"), "--json")
    assert result.returncode == 1, result.stderr
    problems = json.loads(result.stdout)["problems"]
    for i, (column, value, named, words) in enumerate(BAD_CELLS):
        found = [p for p in problems if p["row"] == i + 2]
        assert found, f"row {i + 2} ({column}={value!r}) not reported: {problems}"
        assert found[0]["column"] == named and words in found[0]["message"], found
    assert ledger_hash(db) == before
    # the human form: one line per problem, "row R, column C: ...", and a summary
    result = run("import", db, "--csv", data, *keys(tmp_path / "d"))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: row 2, column event_date: expected a calendar date"), lines[0]
    assert lines[-1] == f"error: {len(problems)} problem(s) in {data}; nothing was appended"
    assert ledger_hash(db) == before


def test_every_problem_is_listed_and_json(demo, csv_rows, tmp_path):
    db = copy_demo(demo, tmp_path / "d")
    rows = [dict(r) for r in csv_rows]
    rows[0]["event_date"] = "yesterday"
    rows[3]["event_type"] = "riot"
    rows[5]["event_id"] = rows[4]["event_id"]  # duplicate within the file
    before = ledger_hash(db)
    result = run("import", db, "--csv", write_csv(tmp_path / "bad.csv", rows), *keys(tmp_path / "d"), "--json")
    assert result.returncode == 1
    problems = json.loads(result.stdout)["problems"]
    assert [(p["row"], p["column"]) for p in problems] == [(2, "event_date"), (5, "event_type"), (7, "event_id")]
    assert "also appears in row 6" in problems[2]["message"]
    assert ledger_hash(db) == before


def test_already_recorded_incident_and_missing_column(demo, tmp_path):
    db = copy_demo(demo, tmp_path / "d")
    before = ledger_hash(db)
    existing = sqlite3.connect(db).execute("SELECT incident_id FROM incidents LIMIT 1").fetchone()[0]
    from ledger.people.synthetic import Params, generate

    rows = [e.row for e in generate(Params(seed=5, weeks=1, events_per_week=5))]
    rows[1]["event_id"] = existing
    result = run("import", db, "--csv", write_csv(tmp_path / "dup.csv", rows), *keys(tmp_path / "d"))
    assert result.returncode == 1 and f"row 3, column event_id: incident {existing!r} is already recorded" in result.stderr
    columns = [c for c in rows[0] if c != "sources"]
    result = run("import", db, "--csv", write_csv(tmp_path / "nosrc.csv", [{k: r[k] for k in columns} for r in rows], columns), *keys(tmp_path / "d"))
    assert result.returncode == 1 and "row 1, column sources: required column is missing" in result.stderr
    (tmp_path / "ragged.csv").write_text("event_id,event_date,admin1_code,event_type,sources\nx-1,2027-03-08,MX-GRO\n")
    result = run("import", db, "--csv", tmp_path / "ragged.csv", *keys(tmp_path / "d"))
    assert result.returncode == 1 and "row 2: has 3 cells but the header has 5 columns" in result.stderr
    assert ledger_hash(db) == before


def test_wrong_key_is_refused(demo, csv_rows, tmp_path):
    db = copy_demo(demo, tmp_path / "d")
    before = ledger_hash(db)
    data = write_csv(tmp_path / "in.csv", csv_rows)
    result = run("import", db, "--csv", data, "--key", tmp_path / "d" / "keys" / "panel-1.key", "--operator-key", tmp_path / "d" / "keys" / "operator.key")
    assert result.returncode == 1 and "is not a recorder key" in result.stderr
    result = run("import", db, "--csv", data, "--key", tmp_path / "d" / "keys" / "recorder-1.key", "--operator-key", tmp_path / "d" / "keys" / "panel-1.key")
    assert result.returncode == 1 and "R-7.15" in result.stderr
    assert ledger_hash(db) == before


def test_mapping_file_other_layout(demo, tmp_path):
    db = copy_demo(demo, tmp_path / "d")
    result = run("import", db, "--csv", EXAMPLES / "data" / "regional-sheet.csv", "--mapping", EXAMPLES / "mappings" / "regional-sheet.json",
                 *keys(tmp_path / "d"), "--json", check=True)
    assert json.loads(result.stdout)["incidents"] == ["mex-90001", "mex-90002", "mex-90003"]
    rows = sqlite3.connect(db).execute("SELECT incident_id, date, date_precision, kind, attributed_to, victims_best FROM incidents WHERE incident_id LIKE 'mex-9%' ORDER BY seq").fetchall()
    assert rows == [
        ("mex-90001", "2027-03-10", "day", "killing", "golfo-unido", 3),
        ("mex-90002", "2027-03-12", "week", "forced_disappearance", "los-tejones", 1),  # by registered name
        ("mex-90003", "2027-03-15", "day", "killing", None, 2),  # unidentified group -> unattributed
    ]
    bad = tmp_path / "bad-mapping.json"
    bad.write_text('{"columns": {"event_id": "a", "event_id": "b"}}')
    result = run("import", db, "--csv", EXAMPLES / "data" / "regional-sheet.csv", "--mapping", bad, *keys(tmp_path / "d"))
    assert result.returncode == 2 and "duplicate key" in result.stderr


def test_import_speed_figure(demo, tmp_path):
    """Prints rows/s for the report (not a benchmark gate)."""
    import time

    from ledger.people.synthetic import Params, generate

    db = copy_demo(demo, tmp_path / "d")
    rows = [e.row for e in generate(Params(seed=9, weeks=2, events_per_week=100))]
    data = write_csv(tmp_path / "big.csv", rows)
    started = time.monotonic()
    run("import", db, "--csv", data, *keys(tmp_path / "d"), check=True)
    elapsed = time.monotonic() - started
    print(f"\nimport: {len(rows)} rows in {elapsed:.1f} s = {len(rows) / elapsed:.0f} rows/s (including loading the ledger twice)")


def test_na_cells_are_empty_and_integral_counts_are_counts(demo, csv_rows, tmp_path):
    """Issue 17: `NA` was read as a value and a count written `1.0` was refused."""
    db = copy_demo(demo, tmp_path / "d")
    rows = [dict(r) for r in csv_rows[:3]]
    rows[0]["victims"] = "ordinary_citizen=2.0/3.0/4"
    rows[1]["notes"] = "NA"
    rows[2]["admin2"] = "NA"
    result = run("import", db, "--csv", write_csv(tmp_path / "na.csv", rows), *keys(tmp_path / "d"), "--json", check=True)
    assert json.loads(result.stdout)["appended"] == 3
    conn = sqlite3.connect(db)
    bodies = {json.loads(b)["incident_id"]: json.loads(b) for (b,) in conn.execute("SELECT body FROM statements WHERE type = 'incident.record'")}
    assert bodies[rows[0]["event_id"]]["victims"][0] == {"role": "ordinary_citizen", "low": 2, "best": 3, "high": 4}
    assert "notes" not in bodies[rows[1]["event_id"]]
    assert bodies[rows[2]["event_id"]]["place"]["precision"] == "state"
