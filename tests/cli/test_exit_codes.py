"""Exit codes as SPEC.md 8.2 says, command by command: 0 valid, 1 refused (or violations),
2 unreadable input or a usage error; never anything else, never a traceback.

One table per command, run with the real CLI on the demo ledger and files derived from it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from people_fixtures import env

OK, REFUSED, UNREADABLE = 0, 1, 2


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    """The demo ledger (DIR/demo), its bundle, publication, checkpoint, log key, a receipt,
    a statement without signatures, a junk file and a CSV with a bad row."""
    d = tmp_path_factory.mktemp("exits")

    def sh(*args: str) -> bytes:
        proc = subprocess.run(["ledger", *args], cwd=d, env=env(), capture_output=True, timeout=600)
        assert proc.returncode == 0, (args, proc.stderr)
        return proc.stdout

    sh("demo", "demo")
    sh("export", "demo/ledger.db", "--out", "b.jsonl")
    sh("publish", "demo/ledger.db", "--out", "pub")
    (d / "cp.txt").write_bytes(sh("checkpoint", "demo/ledger.db"))
    (d / "log.vkey").write_bytes(sh("checkpoint", "demo/ledger.db", "--log-key"))
    (d / "e3.json").write_bytes((d / "b.jsonl").read_bytes().splitlines(keepends=True)[3])
    (d / "p3.proof").write_bytes(sh("prove", "demo/ledger.db", "--seq", "3"))
    sh("new-org", "demo/ledger.db", "--id", "nuevo", "--name", "Nuevo Grupo", "--at", "2026-03-01T12:00:00Z",
       "--out", "org.json")
    (d / "junk.db").write_bytes(b"this is not a ledger\n")
    (d / "bad.csv").write_text("incident_id,event_date\nx,not-a-date\n", encoding="utf-8")
    return d


def code_of(ws: Path, args: list[str]) -> tuple[int, str, str]:
    vkey = (ws / "log.vkey").read_text().strip()
    args = [a.replace("{VKEY}", vkey) for a in args]
    proc = subprocess.run(["ledger", *args], cwd=ws, env=env(), capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout, proc.stderr


TABLE = {
    "verify": [
        (OK, ["verify", "demo/ledger.db"]),
        (OK, ["verify", "b.jsonl", "--log-key", "{VKEY}", "--checkpoint", "cp.txt"]),
        (OK, ["verify", "pub", "--log-key", "{VKEY}"]),
        (REFUSED, ["verify", "junk.db"]),  # a bundle line that is not an entry: a violation (8.1)
        (REFUSED, ["verify", "b.jsonl", "--checkpoint", "junk.db"]),  # not a checkpoint
        (UNREADABLE, ["verify", "missing.db"]),
        (UNREADABLE, ["verify", "b.jsonl", "--log-key", "not-a-key", "--checkpoint", "cp.txt"]),
        (UNREADABLE, ["verify", "b.jsonl", "--log-key", "{VKEY}"]),  # nothing to apply it to
        (UNREADABLE, ["verify", "b.jsonl", "--checkpoint", "missing.txt"]),
        (UNREADABLE, ["verify", "b.jsonl", "--jobs", "-1"]),
    ],
    "replay": [
        (OK, ["replay", "b.jsonl", "--round", "1"]),
        (REFUSED, ["replay", "b.jsonl", "--round", "99"]),
        (UNREADABLE, ["replay", "missing.db", "--round", "1"]),
        (UNREADABLE, ["replay", "b.jsonl"]),
    ],
    "rounds": [
        (OK, ["rounds", "b.jsonl"]),
        (UNREADABLE, ["rounds", "missing.db"]),
        (UNREADABLE, ["rounds", "b.jsonl", "--no-such-option"]),
    ],
    "explain": [
        (OK, ["explain", "b.jsonl", "--round", "1", "--org", "golfo-unido"]),
        (REFUSED, ["explain", "b.jsonl", "--round", "1", "--org", "nobody"]),
        (UNREADABLE, ["explain", "missing.db", "--round", "1", "--org", "golfo-unido"]),
        (UNREADABLE, ["explain", "b.jsonl", "--round", "1"]),
    ],
    "robustness": [
        (OK, ["robustness", "b.jsonl", "--round", "1", "--samples", "5", "--seed", "1"]),
        (REFUSED, ["robustness", "b.jsonl", "--round", "99", "--samples", "5"]),
        (UNREADABLE, ["robustness", "missing.db", "--round", "1"]),
    ],
    "report": [
        (OK, ["report", "b.jsonl", "--round", "1", "--out", "r1.html"]),
        (REFUSED, ["report", "b.jsonl", "--round", "99", "--out", "r99.html"]),
        (UNREADABLE, ["report", "missing.db", "--round", "1", "--out", "r.html"]),
    ],
    "log": [
        (OK, ["log", "b.jsonl", "--limit", "3"]),
        (UNREADABLE, ["log", "missing.db"]),
        (UNREADABLE, ["log", "b.jsonl", "--from", "-5"]),
    ],
    "export": [
        (OK, ["export", "demo/ledger.db", "--out", "again.jsonl"]),
        (UNREADABLE, ["export", "missing.db", "--out", "x.jsonl"]),
        (UNREADABLE, ["export", "junk.db", "--out", "y.jsonl"]),
    ],
    "checkpoint": [
        (OK, ["checkpoint", "demo/ledger.db"]),
        (OK, ["checkpoint", "demo/ledger.db", "--log-key"]),
        (REFUSED, ["checkpoint", "demo/ledger.db", "--cosignature", "junk.db"]),
        (UNREADABLE, ["checkpoint", "missing.db"]),
        (UNREADABLE, ["checkpoint", "b.jsonl"]),
    ],
    "prove": [
        (OK, ["prove", "demo/ledger.db", "--seq", "3"]),
        (OK, ["prove", "pub", "--seq", "3"]),
        (REFUSED, ["prove", "demo/ledger.db", "--seq", "99999"]),
        (REFUSED, ["prove", "pub", "--seq", "1", "--size", "3"]),  # no such checkpoint, as for a database
        (UNREADABLE, ["prove", "missing.db", "--seq", "1"]),
        (UNREADABLE, ["prove", "demo/ledger.db"]),
    ],
    "check-proof": [
        (OK, ["check-proof", "p3.proof", "--entry-file", "e3.json", "--log-key", "{VKEY}"]),
        (REFUSED, ["check-proof", "p3.proof", "--entry-file", "b.jsonl", "--log-key", "{VKEY}"]),
        (UNREADABLE, ["check-proof", "p3.proof", "--entry-file", "e3.json", "--log-key", "garbage"]),
        (UNREADABLE, ["check-proof", "p3.proof", "--entry-file", "e3.json", "--log-key", "{VKEY}", "--witness", "x"]),
        (UNREADABLE, ["check-proof", "missing.proof", "--entry-file", "e3.json", "--log-key", "{VKEY}"]),
    ],
    "publish": [
        (OK, ["publish", "demo/ledger.db", "--out", "pub2"]),
        (UNREADABLE, ["publish", "missing.db", "--out", "pub3"]),
        (UNREADABLE, ["publish", "b.jsonl", "--out", "pub4"]),
    ],
    "status": [
        (REFUSED, ["status", "org.json", "--ledger", "demo/ledger.db"]),  # no signature yet
        (UNREADABLE, ["status", "missing.json"]),
    ],
    "append": [
        (REFUSED, ["append", "demo/ledger.db", "org.json", "--operator-key", "demo/keys/operator.key"]),
        (UNREADABLE, ["append", "demo/ledger.db", "missing.json", "--operator-key", "demo/keys/operator.key"]),
        (UNREADABLE, ["append", "demo/ledger.db", "org.json"]),
    ],
    "import": [
        (REFUSED, ["import", "demo/ledger.db", "--csv", "bad.csv", "--key", "demo/keys/recorder-1.key", "--dry-run"]),
        (UNREADABLE, ["import", "demo/ledger.db", "--csv", "missing.csv", "--key", "demo/keys/recorder-1.key", "--dry-run"]),
    ],
    "witness cosign": [
        (OK, ["witness", "cosign", "cp.txt", "--key", "demo/keys/panel-1.key", "--name", "w.example", "--state", "ws",
              "--log-key", "{VKEY}", "--at", "1767225600"]),
        (UNREADABLE, ["witness", "cosign", "cp.txt", "--key", "demo/keys/panel-1.key", "--name", "w.example",
                      "--state", "ws", "--log-key", "garbage"]),
    ],
}


@pytest.mark.parametrize("command", list(TABLE))
def test_exit_codes(ws: Path, command: str) -> None:
    for expected, args in TABLE[command]:
        code, out, err = code_of(ws, args)
        assert code == expected, f"ledger {' '.join(args)}: exit {code}, expected {expected}\n{err}{out[-2000:]}"
        assert "Traceback" not in err and "internal error" not in err
        # verify prints its violations, status who is missing, import one line per problem
        if code != OK and command not in ("verify", "status", "import"):
            assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, (args, err)


def test_verify_refusals_print_nothing_on_stdout(ws: Path) -> None:
    for args in (["verify", "b.jsonl", "--log-key", "{VKEY}"], ["verify", "b.jsonl", "--log-key", "garbage"]):
        code, out, err = code_of(ws, args)
        assert code == UNREADABLE and out == "" and err.startswith("error: ") and "--log-key" in err

