"""The walkthroughs in examples/walkthroughs/ work, command by command, from an empty directory.

Each ```sh block is run in order by bash (set -e: any failing command fails the test) in a
fresh temporary directory that holds only a link to examples/, with `ledger` and `python`
of this environment first on PATH.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from people_fixtures import EXAMPLES, env

WALKTHROUGHS = sorted((EXAMPLES / "walkthroughs").glob("*.md"))


def blocks(path: Path) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", path.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_every_role_has_a_walkthrough():
    assert {p.stem for p in WALKTHROUGHS} >= {"founding", "recorder", "panel", "auditor", "journalist"}


@pytest.mark.parametrize("walkthrough", WALKTHROUGHS, ids=[p.stem for p in WALKTHROUGHS])
def test_walkthrough_runs(walkthrough: Path, tmp_path: Path):
    (tmp_path / "examples").symlink_to(EXAMPLES, target_is_directory=True)
    script = "set -euo pipefail\n" + "\n".join(blocks(walkthrough))
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, f"{walkthrough.name} failed\nstdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
    out = result.stdout
    if walkthrough.stem == "auditor":
        assert "OK:" in out and "MATCHES the decision" in out
        # the first verification pins the log key and judges a checkpoint (SPEC.md 8.2, 14.8)
        first = out[out.index("OK:"):]
        first = first[:first.index("\n", first.index("checkpoint checkpoint.txt"))]
        assert "log key: pinned (--log-key)" in first and "consistent with the ledger" in first
        assert "NO signed checkpoint was checked" not in first
        report = json.loads((tmp_path / "verify.json").read_text())
        assert report["log_key"]["pinned"] is True and report["checkpoints_judged"] == 1
        assert (tmp_path / "robustness-1.json").exists()
    if walkthrough.stem == "journalist":
        assert (tmp_path / "round-1.html").exists() and (tmp_path / "site" / "index.html").exists()
    if walkthrough.stem == "panel":
        assert "Ranking digest" in out and "MATCHES the decision" in out
        assert "wrote decide.json: 3 signature(s) from 4 file(s)" in out and "3 signed, 3 required: met" in out
        assert (tmp_path / "round-5.html").exists()
    if walkthrough.stem == "founding":
        err = result.stderr
        # every bad statement is refused when it is created, naming the rule; nothing written
        assert 'origin: "bad origin with spaces" does not match' in err
        assert "[R-10.13]" in err and "unregistered organization 'sin-registro' [R-10.7]" in err
        assert "round 1 was already closed at entry 7 [R-11.7]" in err
        assert not (tmp_path / "never.json").exists()
        # the genesis: waiting for signatures (not a failure), then proof of possession by all 7 keys
        assert "waiting for 3 more of role panel (0 signed, 3 required: not yet met)" in out
        assert "waiting for 7 key(s) the statement adds to sign it (proof of possession)" in out
        assert "wrote genesis.json: 7 signature(s) from 8 file(s)" in out
        assert "signatures of role panel: 5 signed, 3 required: met" in out
        # the stray recorder signature on a panel statement is shown by status before append
        assert "FAIL round.close requires role 'panel'; key recorder" in out and "[R-7.12]" in out
        # three members signed their own copies, in their own directories, against the bundle
        for who in ("ana", "ben", "carla"):
            assert f"signed decide.json as {who} (" in out
            signed = json.loads((tmp_path / who / "decide.json").read_text())["signatures"]
            assert len(signed) == 1
        assert "ranking digest:" in out and "rules:             version 1" in out and "target:            golfo-unido" in out
        assert "wrote decide.json: 3 signature(s) from 4 file(s)" in out
        decision = json.loads((tmp_path / "decide.json").read_text())
        assert len(decision["signatures"]) == 3
        assert "appended entry 8 (round.decide)" in out and "MATCHES the decision at entry 8 (target: golfo-unido)" in out
        assert "OK: 9 entries verified" in out
        decided = re.search(r"round\.decide +round=1 +\[(.*)\]", out)  # ledger log names the signers
        assert decided is not None and set(decided.group(1).split(", ")) == {"ana", "ben", "carla"}
    if walkthrough.stem == "recorder":
        assert "refused, as it should be" in out
        assert "row 4, column event_date" in result.stderr
        # the built-in ACLED format: first export, then the refresh (one revision, one new), then nothing
        assert "ACLED export 2027-03-20: 9 row(s): 6 new, 0 revised, 0 unchanged, 3 skipped" in out
        assert "ACLED export 2027-03-27: 9 row(s): 1 new, 1 revised, 4 unchanged, 3 skipped" in out
        assert "nothing to append: the ledger already holds every row of this file" in out
