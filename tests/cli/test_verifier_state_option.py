"""Every command that reads a ledger goes through the one loader (ledger.app.load): it takes
--state FILE as `ledger verify --state` does (SPEC.md 9), and a command that writes a
statement refuses a ledger that fails verification, in one line, exit 1 (SPEC.md 4.3)."""

from __future__ import annotations

from pathlib import Path

from core_fixtures import run_ledger
from scoring_fixtures import one_round, src

from ledger.app.load import verify_path
from ledger.scoring import authoring as A


def _bundle(path: Path, raws: list[bytes]) -> Path:
    path.write_bytes(b"".join(raw + b"\n" for raw in raws))
    return path


def test_scoring_and_creation_commands_resume_from_and_save_the_state(tmp_path):
    ledger = one_round()
    bundle, state = _bundle(tmp_path / "b.jsonl", ledger.raws), tmp_path / "state"
    plain = run_ledger("replay", bundle, "--round", "1")
    with_state = run_ledger("replay", bundle, "--round", "1", "--state", state)
    assert (with_state.returncode, with_state.stdout) == (plain.returncode, plain.stdout) == (0, plain.stdout)
    assert verify_path(bundle, state=state).resumed_from == len(ledger.raws)  # the command saved it
    ledger.orgs("delta")
    _bundle(bundle, ledger.raws)
    made = run_ledger("new-incident", bundle, "--verifier-state", state, "--id", "d-1", "--date", "2026-01-20",
                      "--state", "MX-GRO", "--kind", "killing", "--attr", "delta",
                      "--source", f"a:national:2026-01-20:{'ab' * 32}", "--source", f"b:local:2026-01-20:{'cd' * 32}")
    assert made.returncode == 0, made.stderr
    assert '"type":"incident.record"' in made.stdout and '"MX-GRO"' in made.stdout
    assert verify_path(bundle, state=state).resumed_from == len(ledger.raws)  # caught up with the new entry


def test_a_ledger_that_fails_verification_is_refused_by_the_commands_that_write(tmp_path):
    ledger = one_round()
    body = A.incident("x-1", "2026-01-10", "killing", victims=[A.victim("ordinary_citizen", 1)],
                      attributions=[A.attribution("alpha")], sources=[src("a"), src("b")])
    ledger.add("incident.record", body, signers=["p1"], force=True)  # p1 is no recorder
    bundle, out = _bundle(tmp_path / "bad.jsonl", ledger.raws), tmp_path / "org.json"
    refused = run_ledger("new-org", bundle, "--id", "delta", "--name", "Delta", "--out", out)
    assert refused.returncode == 1 and refused.stdout == "" and not out.exists()
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith(f"error: the ledger at {bundle} fails verification (2 violation(s), first: "
                                     f"entry {len(ledger.raws) - 1}: ")
    assert "[R-7.12]" in refused.stderr and "the store refuses every append" in refused.stderr
    warned = run_ledger("replay", bundle, "--round", "1")  # reading is not refused: it warns
    assert warned.returncode == 0 and "warning: the ledger has 2 violation(s)" in warned.stderr
