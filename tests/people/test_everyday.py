"""Everyday use: --help with an example on every command, views, NO_COLOR, synthetic data."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from people_fixtures import EXAMPLES, build_demo, run



# Every command's help and example: tests/cli/test_cli.py walks the whole command tree.


@pytest.mark.parametrize("name", ["import", "robustness", "report"])
def test_people_commands_help(name):
    result = run(name, "--help", check=True)
    assert "Example:" in result.stdout and f"ledger {name}" in result.stdout


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return build_demo(tmp_path_factory.mktemp("everyday") / "demo")


def test_views_agree_with_the_ledger(db):
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
    assert {"statements", "organizations", "incidents", "disputes", "rounds", "decisions"} <= names
    rounds = json.loads(run("rounds", db, "--json", check=True).stdout)
    view = conn.execute("SELECT round, window_start, window_end, opened, closed, decided, target FROM rounds ORDER BY round").fetchall()
    assert view == [(r["round"], r["window"]["start"], r["window"]["end"], r["opened"], r["closed"], r["decided"], r["target"]) for r in rounds]
    assert conn.execute("SELECT outcome FROM disputes WHERE dispute_id = 'dispute-0001'").fetchone() == ("upheld",)
    assert conn.execute("SELECT count(*) FROM statements").fetchone()[0] == conn.execute("SELECT count(*) FROM entries").fetchone()[0]


def test_views_are_added_to_an_older_file(db, tmp_path):
    import shutil

    from ledger.storage.store import LedgerStore

    copy = tmp_path / "old.db"
    shutil.copy(db, copy)
    conn = sqlite3.connect(copy)
    for name in ("decisions", "rounds", "disputes", "incidents", "organizations", "statements"):
        conn.execute(f"DROP VIEW {name}")
    conn.commit()
    conn.close()
    LedgerStore.open(copy).close()
    conn = sqlite3.connect(copy)
    assert conn.execute("SELECT count(*) FROM rounds").fetchone() == (4,)
    assert run("verify", copy).returncode == 0


def test_no_color(db):
    # colour only on a terminal; NO_COLOR is honoured there too (checked through the helper)
    from ledger.cli.people_cmd import _colour

    import os

    os.environ["NO_COLOR"] = "1"
    try:
        assert _colour("x", "green") == "x"
    finally:
        del os.environ["NO_COLOR"]
    result = run("robustness", db, "--round", 1, "--samples", 5, NO_COLOR="1", check=True)
    assert "\x1b[" not in result.stdout + result.stderr


def test_synthetic_data_is_seeded_and_truth_is_apart(tmp_path):
    for out in ("a", "b"):
        subprocess.run([sys.executable, str(EXAMPLES / "generate.py"), "--out", str(tmp_path / out), "--seed", "4", "--weeks", "2"], check=True, capture_output=True)
    assert (tmp_path / "a" / "incidents.csv").read_bytes() == (tmp_path / "b" / "incidents.csv").read_bytes()
    incidents = (tmp_path / "a" / "incidents.csv").read_text()
    truth = (tmp_path / "a" / "truth.csv").read_text()
    assert "true_actor" not in incidents and "false_flag" in truth.splitlines()[0]
    subprocess.run([sys.executable, str(EXAMPLES / "generate.py"), "--out", str(tmp_path / "c"), "--seed", "5", "--weeks", "2"], check=True, capture_output=True)
    assert (tmp_path / "c" / "incidents.csv").read_bytes() != (tmp_path / "a" / "incidents.csv").read_bytes()


def test_false_flag_figure_is_printed():
    result = subprocess.run([sys.executable, str(EXAMPLES / "false_flags.py"), "--rounds", "12", "--false-flag-per-mille", "80"],
                            check=True, capture_output=True, text=True)
    assert result.stdout.startswith("False flags changed the target in ")
    assert "of 12 simulated rounds" in result.stdout
    print("\n" + result.stdout)
