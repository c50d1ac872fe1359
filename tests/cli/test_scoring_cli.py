"""The real CLI in a subprocess against a demo ledger: demo, verify, replay, explain, rounds."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

LEDGER = str(Path(sys.executable).parent / "ledger")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([LEDGER, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    result = run("demo", str(directory))
    assert result.returncode == 0, result.stderr
    return directory / "ledger.db"


def test_demo_verifies_and_every_round_replays(demo):
    result = run("verify", str(demo))
    assert result.returncode == 0, result.stdout + result.stderr
    rounds = json.loads(run("rounds", str(demo), "--json").stdout)
    assert [r["round"] for r in rounds] == [1, 2, 3, 4]
    assert all(r["verification"] == "replay matches" for r in rounds)
    assert [r["status"] for r in rounds] == ["target_dismantled", "target_dismantled", "decided_no_target", "decided_no_target"]
    for r in rounds:
        replayed = run("replay", str(demo), "--round", str(r["round"]))
        assert replayed.returncode == 0 and "MATCHES" in replayed.stdout


def test_replay_json_is_the_canonical_document(demo):
    result = run("replay", str(demo), "--round", "2", "--json")
    assert result.returncode == 0
    raw = result.stdout.rstrip("\n").encode()
    table = run("replay", str(demo), "--round", "2").stdout
    assert f"Ranking digest: {hashlib.sha256(raw).hexdigest()}" in table
    doc = json.loads(raw)
    assert doc["selection"]["target"] == "sierra-alta"
    assert any(e["reason"] == "recorded_after_close" for e in doc["excluded"])  # the backfill


def test_replay_of_a_bundle_and_explain(demo, tmp_path):
    bundle = tmp_path / "ledger.jsonl"
    assert run("export", str(demo), "--out", str(bundle)).returncode == 0
    assert run("replay", str(bundle), "--round", "1").returncode == 0
    explained = run("explain", str(bundle), "--round", "1", "--org", "golfo-unido")
    assert explained.returncode == 0
    assert "dispute_upheld" in explained.stdout and "Incidents counted" in explained.stdout
    data = json.loads(run("explain", str(bundle), "--round", "1", "--org", "golfo-unido", "--json").stdout)
    assert data["row"]["org"] == "golfo-unido"
    bad = run("explain", str(bundle), "--round", "1", "--org", "nobody")
    assert bad.returncode == 1 and bad.stderr.startswith("error:") and len(bad.stderr.strip().splitlines()) == 1
    missing = run("replay", str(bundle), "--round", "9")
    assert missing.returncode == 1 and "no round 9" in missing.stderr


def test_tampered_decision_fails_replay(demo, tmp_path):
    bundle = tmp_path / "ledger.jsonl"
    run("export", str(demo), "--out", str(bundle))
    lines = bundle.read_bytes().split(b"\n")
    for i, line in enumerate(lines):
        if b'"type":"round.decide"' in line:
            lines[i] = line.replace(b'"target":"halcones-del-norte"', b'"target":"golfo-unido"')
            break
    bundle.write_bytes(b"\n".join(lines))
    assert run("verify", str(bundle)).returncode == 1
    assert run("replay", str(bundle), "--round", "1").returncode == 1


def test_demo_is_deterministic(demo, tmp_path):
    again = tmp_path / "again"
    assert run("demo", str(again)).returncode == 0
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    run("export", str(demo), "--out", str(a))
    run("export", str(again / "ledger.db"), "--out", str(b))
    assert a.read_bytes() == b.read_bytes()


def test_statement_builders_roundtrip(demo, tmp_path):
    out = tmp_path / "inc.json"
    commitment = json.loads(run("commitment", str(demo), "--json").stdout)["commitment"]
    result = run("new-incident", str(demo), "--id", "mx-99999", "--date", "2027-03-02", "--state", "MX-GRO",
                 "--kind", "killing", "--victim", "ordinary_citizen=1/2/3", "--attr", "golfo-unido:media:high",
                 "--feature", "torture", "--feature", "public_display",
                 "--source", f"reforma:national:2027-03-03:{commitment}", "--source", f"radio-costa:local:2027-03-03:{commitment}",
                 "--at", "2027-03-04T10:00:00Z", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["statement"]["type"] == "incident.record"
    assert json.loads(out.read_text())["statement"]["body"]["features"] == ["public_display", "torture"]  # sorted
    opened = run("open-round", str(demo), "--start", "2027-05-10", "--end", "2027-06-20", "--decision-date", "2027-06-28")
    assert opened.returncode == 0, opened.stderr
    body = json.loads(opened.stdout)["statement"]["body"]
    assert body["round"] == 5 and "halcones-del-norte" not in body["eligible"] and "sierra-alta" not in body["eligible"]
    decided = run("decide", str(demo), "--round", "4")  # already decided: append would refuse it
    assert decided.returncode == 1 and decided.stdout == "" and "R-11.9" in decided.stderr
