"""ledger import --format acled|gtd|ged: published exports as published, the weekly refresh,
rows skipped by choice, and commitments an auditor can check (SPEC.md 17.5-17.7).

End-to-end through the CLI in a subprocess, on a copy of the demo ledger (real SQLite, real
signatures). The GTD rows are real published rows; the ACLED and UCDP GED rows are
constructed in the exact published layouts (examples/data/README.md says which is which).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from people_fixtures import EXAMPLES, LEDGER, build_demo, copy_demo, env, run

DATA = EXAMPLES / "data"
ACLED_1 = DATA / "acled" / "acled-mexico-2027-03-20.csv"
ACLED_2 = DATA / "acled" / "acled-mexico-2027-03-27.csv"
ACTORS = DATA / "acled" / "actors.csv"
GTD = DATA / "gtd" / "globalterrorismdb-1970-sample.csv"
GED = DATA / "ged" / "ged-mexico-sample.csv"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("formats") / "demo"
    build_demo(directory)
    return directory


def keys(directory: Path) -> list[str]:
    return ["--key", str(directory / "keys" / "recorder-1.key"), "--operator-key", str(directory / "keys" / "operator.key")]


def acled(db: Path, export: Path, release: str, *extra: object, check: bool = True):
    return run("import", db, "--csv", export, "--format", "acled", "--release", release, "--actors", ACTORS,
               *keys(db.parent), "--json", *extra, cwd=db.parent, check=check)


def entries_since(db: Path, seq: int) -> list[tuple[str, dict]]:
    conn = sqlite3.connect(db)
    return [(t, json.loads(b)) for t, b in conn.execute("SELECT type, body FROM statements WHERE seq >= ? ORDER BY seq", (seq,))]


def content(db: Path) -> str:
    """SHA-256 of every row of every table (what the ledger holds, whatever the file layout)."""
    conn = sqlite3.connect(db)
    digest = hashlib.sha256()
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY 1'):
            digest.update(repr((table, row)).encode())
    return digest.hexdigest()


def size(db: Path) -> int:
    return sqlite3.connect(db).execute("SELECT count(*) FROM entries").fetchone()[0]


def current(db: Path, incident_id: str) -> dict:
    found = None
    for type_, body in entries_since(db, 0):
        if type_ == "incident.record" and body["incident_id"] == incident_id:
            found = body
        elif type_ == "incident.amend" and body["incident"]["incident_id"] == incident_id:
            found = body["incident"]
    assert found is not None, incident_id
    return found


def test_acled_export_then_refresh_is_idempotent(demo, tmp_path):
    db = copy_demo(demo, tmp_path / "d")
    start = size(db)
    out = json.loads(acled(db, ACLED_1, "2027-03-20").stdout)
    assert (out["rows"], out["recorded"], out["skipped"], out["appended"]) == (9, 6, 3, 6)
    assert [t for t, _ in entries_since(db, start)] == ["incident.record"] * 6
    # rows that cannot be scored: skipped by choice, each with its reason, in a file
    with open(tmp_path / "d" / out["skipped_file"], newline="", encoding="utf-8") as handle:
        skipped = list(csv.DictReader(handle))
    assert [(r["row"], r["event_id_cnty"]) for r in skipped] == [("5", "MEX90004"), ("6", "MEX90005"), ("7", "MEX90006")]
    assert "no registered perpetrator" in skipped[0]["reason"]
    assert skipped[1]["reason"] == "sub_event_type 'Sexual violence' has no incident kind"
    # the same export again: nothing changes, byte for byte
    before = content(db)
    again = json.loads(acled(db, ACLED_1, "2027-03-20").stdout)
    assert (again["unchanged"], again["recorded"], again["amended"], again["appended"]) == (6, 0, 0, 0)
    assert content(db) == before
    # the next week's export: one revised row -> exactly one incident.amend; one new row
    middle = size(db)
    newer = json.loads(acled(db, ACLED_2, "2027-03-27").stdout)
    assert (newer["recorded"], newer["amended"], newer["unchanged"], newer["skipped"]) == (1, 1, 4, 3)
    added = entries_since(db, middle)
    assert sorted(t for t, _ in added) == ["incident.amend", "incident.record"]
    amend = next(b for t, b in added if t == "incident.amend")
    assert amend["incident"]["incident_id"] == "acled-mex90002" and "2027-03-27" in amend["reason"]
    assert amend["incident"]["origin"]["version"] == "2027-03-27"
    assert newer["missing"] == ["acled-mex90009"]  # reported, not retracted
    before = content(db)
    assert json.loads(acled(db, ACLED_2, "2027-03-27").stdout)["appended"] == 0
    assert content(db) == before
    assert run("verify", db).returncode == 0


def test_retract_missing_retracts_once(demo, tmp_path):
    db = copy_demo(demo, tmp_path / "d")
    acled(db, ACLED_1, "2027-03-20")
    middle = size(db)
    out = json.loads(acled(db, ACLED_2, "2027-03-27", "--retract-missing").stdout)
    assert out["retracted"] == 1
    retracts = [b for t, b in entries_since(db, middle) if t == "incident.retract"]
    assert retracts == [{"incident_id": "acled-mex90009", "reason": "absent from ACLED export 2027-03-27"}]
    before = content(db)
    out = json.loads(acled(db, ACLED_2, "2027-03-27", "--retract-missing").stdout)
    assert (out["appended"], out["missing"]) == (0, [])
    assert content(db) == before


def test_an_auditor_holding_the_export_checks_every_commitment(demo, tmp_path):
    """origin.sha256 and every source's commitment are SHA-256 of the RFC 8785 bytes of the
    row as published ({column: cell}): recomputed here with the reference JCS encoder."""
    import rfc8785

    db = copy_demo(demo, tmp_path / "d")
    acled(db, ACLED_1, "2027-03-20")
    with open(ACLED_1, newline="", encoding="utf-8") as handle:
        rows = {r["event_id_cnty"]: hashlib.sha256(rfc8785.dumps(r)).hexdigest() for r in csv.DictReader(handle)}
    checked = 0
    for type_, body in entries_since(db, 0):
        origin = body.get("origin") if type_ == "incident.record" else None
        if origin is None:
            continue
        assert origin["dataset"] == "acled" and origin["version"] == "2027-03-20"
        assert origin["sha256"] == rows[origin["record"]]
        assert {s["commitment"] for s in body["sources"]} == {origin["sha256"]}
        checked += 1
    assert checked == 6


def test_acled_sides_roles_and_places(demo, tmp_path):
    db = copy_demo(demo, tmp_path / "d")
    acled(db, ACLED_1, "2027-03-20")
    clash = current(db, "acled-mex90003")  # two registered cartels: both attributed, their dead rival members
    assert [a["org"] for a in clash["attributions"]] == ["halcones-del-norte", "golfo-unido"]
    assert clash["victims"] == [{"role": "rival_member", "low": 4, "best": 4, "high": 4}]  # "4.0"
    reporter = current(db, "acled-mex90007")  # "A and/or B", region Unknown, a journalist
    assert reporter["place"] == {"country": "MX", "precision": "country"}
    assert [(a["org"], a["confidence"]) for a in reporter["attributions"]] == [("golfo-unido", "low"), ("los-tejones", "low")]
    assert reporter["victims"][0]["role"] == "journalist"
    army = current(db, "acled-mex90008")  # state forces vs a cartel: only the cartel attributed
    assert [a["org"] for a in army["attributions"]] == ["cartel-costa"] and army["victims"][0]["role"] == "military"
    police = current(db, "acled-mex90009")  # associated actor: a low-confidence attribution
    assert [(a["org"], a["confidence"]) for a in police["attributions"]] == [("barrio-azul", "medium"), ("la-ruta", "low")]
    assert police["victims"][0]["role"] == "police" and police["place"]["state"] == "MX-JAL"
    abduction = current(db, "acled-mex90002")
    assert (abduction["kind"], abduction["date_precision"], abduction["place"]["state"]) == ("forced_disappearance", "week", "MX-MIC")
    assert [s["publisher"] for s in abduction["sources"]] == ["quadratin", "monitor-ddhh"]


def test_a_malformed_cell_refuses_the_file_naming_row_and_column(demo, tmp_path):
    db = copy_demo(demo, tmp_path / "d")
    text = ACLED_1.read_text(encoding="utf-8").splitlines()
    assert ",0,NA,1773964800" in text[2]
    text[2] = text[2].replace(",0,NA,1773964800", ",1.5,NA,1773964800")  # MEX90002's fatalities
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    before = content(db)
    result = acled(db, bad, "x", check=False)
    assert result.returncode == 1
    problems = json.loads(result.stdout)["problems"]
    assert problems == [{"row": 3, "column": "fatalities", "message": "expected a whole number (such as 3 or 3.0), found '1.5'"}]
    header_only = tmp_path / "short.csv"
    header_only.write_text(text[0].replace("sub_event_type,", "") + "\n", encoding="utf-8")
    result = acled(db, header_only, "x", check=False)
    assert result.returncode == 1 and json.loads(result.stdout)["problems"][0]["column"] == "sub_event_type"
    result = acled(db, GED, "x", check=False)  # another format's export: say which
    assert result.returncode == 1
    assert json.loads(result.stdout)["problems"][0]["message"] == "the header is that of a UCDP Georeferenced Event Dataset: use --format ged"
    assert content(db) == before


def test_gtd_real_rows(demo, tmp_path):
    db = copy_demo(demo, tmp_path / "d")
    table = tmp_path / "gtd-actors.csv"
    table.write_text("name,org\nTupamaros (Uruguay),los-tejones\nMANO-D,la-ruta\n"
                     "Armed Forces of National Liberation- Venezuela (FALN),nueva-frontera\n", encoding="utf-8")
    rows = list(csv.reader(GTD.open(newline="", encoding="utf-8")))
    header = rows[0]
    col = {name: i for i, name in enumerate(header)}
    # a variant of a real row: 3 killed of whom 1 perpetrator; and a kidnapping of unknown size
    variant = list(rows[1])
    variant[col["eventid"]], variant[col["nkill"]], variant[col["nkillter"]] = "197000009999", "3", "1"
    kidnap = list(rows[14])
    kidnap[col["eventid"]], kidnap[col["nhostkid"]] = "197000009998", "-99"
    data = tmp_path / "gtd.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([*rows, variant, kidnap])
    result = run("import", db, "--csv", data, "--format", "gtd", "--release", "0522dist", "--actors", table,
                 *keys(tmp_path / "d"), "--json", cwd=tmp_path / "d", check=True)
    out = json.loads(result.stdout)
    assert (out["rows"], out["recorded"], out["skipped"]) == (16, 6, 10)
    assert out["skip_reasons"]["month unknown"] == 1  # 197000000002: imonth = 0
    first = current(db, "gtd-197000000001")  # MANO-D, Santo Domingo, a named civilian killed
    assert first["date"] == "1970-07-02" and first["place"] == {"country": "DO", "precision": "country"}  # provstate "National"
    assert first["victims"] == [{"role": "ordinary_citizen", "low": 1, "best": 1, "high": 1}]
    assert first["origin"]["record"] == "197000000001"
    assert current(db, "gtd-197001020001")["place"]["state"] == "UY-MO"
    assert current(db, "gtd-197000009999")["victims"][0]["best"] == 2  # the attackers' own dead are not their victims
    assert current(db, "gtd-197000009998")["victims"] == [{"role": "ordinary_citizen", "low": 1, "best": 1, "high": 1}]
    assert run("verify", db).returncode == 0


def test_ged_sides_and_own_dead(demo, tmp_path):
    db = copy_demo(demo, tmp_path / "d")
    out = json.loads(run("import", db, "--csv", GED, "--format", "ged", "--release", "23.1", *keys(tmp_path / "d"), "--json",
                         cwd=tmp_path / "d", check=True).stdout)
    assert (out["rows"], out["recorded"], out["skipped"], out["appended"]) == (6, 4, 2, 7)
    # two registered cartels: each side's kills of the other are its own incident
    assert current(db, "ged-990001-a")["victims"] == [{"role": "rival_member", "low": 2, "best": 3, "high": 4}]
    assert [a["org"] for a in current(db, "ged-990001-b")["attributions"]] == ["halcones-del-norte"]
    joint = current(db, "ged-990001")
    assert [a["org"] for a in joint["attributions"]] == ["golfo-unido", "halcones-del-norte"]
    assert [v["role"] for v in joint["victims"]] == ["ordinary_citizen"]
    # the government's side is not registered: the cartel's own 4 dead are not scored against it
    assert current(db, "ged-990003")["victims"] == [{"role": "military", "low": 1, "best": 1, "high": 2}]
    one_sided = current(db, "ged-990002")
    assert one_sided["victims"] == [{"role": "ordinary_citizen", "low": 4, "best": 4, "high": 4}]
    assert one_sided["place"]["state"] == "MX-MIC"  # "Michoacan state"
    week = current(db, "ged-990004")
    assert (week["date_precision"], week["place"]) == ("week", {"country": "MX", "precision": "country"})


def test_import_on_a_terminal_shows_progress_and_exits_cleanly(demo, tmp_path):
    """Issue 13: on a real terminal the progress bar of an import crashed (exit 3)."""
    db = copy_demo(demo, tmp_path / "d")
    master, slave = os.openpty()
    args = [str(LEDGER), "import", str(db), "--csv", str(ACLED_1), "--format", "acled", "--release", "2027-03-20",
            "--actors", str(ACTORS), *keys(tmp_path / "d")]
    process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=tmp_path / "d", env=env())
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    code = process.wait(timeout=120)
    os.close(master)
    text = output.decode("utf-8", "replace")
    assert code == 0, text
    assert "internal error" not in text and "appended 6 incident(s)" in text


def test_cells_and_places():
    from ledger.app.import_formats import Places, RowError, Skip, slug, whole

    assert whole({"f": "1.0"}, "f") == 1 and whole({"f": "NA"}, "f") is None and whole({"f": " 12 "}, "f") == 12
    with pytest.raises(RowError):
        whole({"f": "1.5"}, "f")
    assert whole({"n": "-99"}, "n", unknown_below_zero=True) is None
    assert slug("L'investigateur") == "l-investigateur" and slug("Quadratín") == "quadratin" and slug("  ") is None
    places = Places()
    assert places.place("Mexico", "Michoacan", "Uruapan", ) == {"state": "MX-MIC", "municipality": "Uruapan", "precision": "municipality"}
    assert places.place("484", "Tamaulipas state", "") == {"state": "MX-TAM", "precision": "state"}
    assert places.place("Mexico", "Unknown", "Unknown") == {"country": "MX", "precision": "country"}
    with pytest.raises(Skip):
        places.place("East Germany (GDR)", "Berlin", "Berlin")


def test_region_table_overrides(tmp_path):
    from ledger.app.import_formats import Places

    table = tmp_path / "regions.csv"
    table.write_text("country,region,code\nMexico,Mexico City,MX-CMX\nEast Germany (GDR),,DE\n", encoding="utf-8")
    places = Places(table)
    assert places.place("Mexico", "Mexico City", "") == {"state": "MX-CMX", "precision": "state"}
    assert places.place("East Germany (GDR)", "Unknown", "") == {"country": "DE", "precision": "country"}
    assert places.place("East Germany (GDR)", "Berlin", "") == {"state": "DE-BE", "precision": "state"}  # then ISO names


def test_an_import_interrupted_after_a_commit_says_what_was_committed(demo, tmp_path):
    """Issue 13: an import that had committed reported only "error: interrupted". The CSV is
    a FIFO: the first pass reads the whole export; the second gets the header and one row,
    appends it (a batch of one), then waits for more; SIGINT arrives then."""
    import signal
    import time

    db = copy_demo(demo, tmp_path / "d")
    start = size(db)
    lines = ACLED_1.read_text(encoding="utf-8").splitlines(keepends=True)
    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)
    args = [str(LEDGER), "import", str(db), "--csv", str(fifo), "--format", "acled", "--release", "2027-03-20",
            "--actors", str(ACTORS), "--batch-size", "1", *keys(tmp_path / "d")]
    process = subprocess.Popen(args, cwd=tmp_path / "d", env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    def wait(condition) -> None:
        deadline = time.monotonic() + 120
        while not condition() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)

    with open(fifo, "w", encoding="utf-8") as writer:  # pass 1: the whole export
        writer.writelines(lines)
    # pass 1 is over when its skipped file is written (buffered, flushed as it is closed);
    # only then may the next writer open the FIFO, or pass 1 would read on
    skipped = tmp_path / "d" / "export.skipped.csv"
    wait(lambda: skipped.exists() and skipped.stat().st_size > 0)
    with open(fifo, "w", encoding="utf-8") as writer:  # pass 2: the header and MEX90001, then nothing
        writer.writelines(lines[:2])
        writer.flush()
        wait(lambda: size(db) > start)
        assert size(db) == start + 1, "the first batch was not committed"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert f"interrupted after 1 entry was committed ({start}..{start}); they are in the ledger" in stderr
    assert "Run the same import again to finish it" in stderr
    # ... and running it again finishes the file: the committed row is left alone
    out = json.loads(acled(db, ACLED_1, "2027-03-20").stdout)
    assert (out["recorded"], out["unchanged"], out["appended"]) == (5, 1, 5)
    assert run("verify", db).returncode == 0


# (place, accepted): SPEC.md 10.3, a subdivision or a country only, never both
PLACES = [
    ({"state": "MX-GRO", "precision": "state"}, True),
    ({"state": "MX-GRO", "municipality": "Acapulco", "precision": "municipality"}, True),
    ({"country": "MX", "precision": "country"}, True),
    ({"state": "MX-GRO", "country": "MX", "precision": "state"}, False),
    ({"country": "MX", "municipality": "Acapulco", "precision": "country"}, False),
    ({"country": "MX", "precision": "state"}, False),
    ({"state": "MX-GRO", "precision": "country"}, False),
    ({"state": "MX", "precision": "state"}, False),
    ({"country": "MEX", "precision": "country"}, False),
    ({"precision": "country"}, False),
]


@pytest.mark.parametrize("place, accepted", PLACES, ids=[str(i) for i in range(len(PLACES))])
def test_incident_place_shapes_on_raw_signed_entries(place, accepted):
    """Raw incident.record entries signed by a real recorder key, judged by the verifier."""
    from scoring_fixtures import MiniLedger, TWO_SOURCES

    from ledger.scoring import authoring as A

    ledger = MiniLedger()
    ledger.orgs("cdc")
    body = A.incident("i-1", "2026-01-10", "killing", victims=[A.victim("ordinary_citizen", 1)],
                      attributions=[A.attribution("cdc")], sources=TWO_SOURCES)
    body["place"] = place
    ledger.add("incident.record", body, force=True)
    rules = ledger.verify().rules
    assert (rules == set()) is accepted, rules
    if not accepted:
        assert rules == {"R-7.2"}


ORIGIN = {"dataset": "acled", "version": "2027-03-20", "record": "MEX90001", "sha256": "ab" * 32}


@pytest.mark.parametrize("origin, accepted", [
    (ORIGIN, True),
    ({**ORIGIN, "dataset": "ACLED"}, False),  # an identifier
    ({**ORIGIN, "sha256": "AB" * 32}, False),  # lowercase hex
    ({k: v for k, v in ORIGIN.items() if k != "record"}, False),
    ({**ORIGIN, "version": ""}, False),
    ({**ORIGIN, "url": "x"}, False),
])
def test_incident_origin_on_raw_signed_entries(origin, accepted):
    from scoring_fixtures import MiniLedger, TWO_SOURCES

    from ledger.scoring import authoring as A

    ledger = MiniLedger()
    body = A.incident("i-1", "2026-01-10", "killing", sources=TWO_SOURCES)
    body["origin"] = origin
    ledger.add("incident.record", body, force=True)
    rules = ledger.verify().rules
    assert rules == (set() if accepted else {"R-7.2"}), rules
