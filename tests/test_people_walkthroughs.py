"""The walkthroughs in examples/walkthroughs/ work, command by command, from an empty directory.

Each ```sh block is run in order by bash (set -e: any failing command fails the test) in a
fresh temporary directory that holds only a link to examples/, with `ledger` and `python`
of this environment first on PATH.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from people_fixtures import EXAMPLES, env

WALKTHROUGHS = sorted((EXAMPLES / "walkthroughs").glob("*.md"))


def blocks(path: Path) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", path.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_every_role_has_a_walkthrough():
    assert {p.stem for p in WALKTHROUGHS} >= {"recorder", "panel", "auditor", "journalist"}


@pytest.mark.parametrize("walkthrough", WALKTHROUGHS, ids=[p.stem for p in WALKTHROUGHS])
def test_walkthrough_runs(walkthrough: Path, tmp_path: Path):
    (tmp_path / "examples").symlink_to(EXAMPLES, target_is_directory=True)
    script = "set -euo pipefail\n" + "\n".join(blocks(walkthrough))
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, f"{walkthrough.name} failed\nstdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
    out = result.stdout
    if walkthrough.stem == "auditor":
        assert "OK:" in out and "MATCHES the decision" in out
        assert (tmp_path / "robustness-1.json").exists()
    if walkthrough.stem == "journalist":
        assert (tmp_path / "round-1.html").exists() and (tmp_path / "site" / "index.html").exists()
    if walkthrough.stem == "panel":
        assert "Ranking digest" in out and "MATCHES the decision" in out
        assert (tmp_path / "round-4.html").exists()
    if walkthrough.stem == "recorder":
        assert "refused, as it should be" in out
        assert "row 4, column event_date" in result.stderr
        # the built-in ACLED format: first export, then the refresh (one revision, one new), then nothing
        assert "ACLED export 2027-03-20: 9 row(s): 6 new, 0 revised, 0 unchanged, 3 skipped" in out
        assert "ACLED export 2027-03-27: 9 row(s): 1 new, 1 revised, 4 unchanged, 3 skipped" in out
        assert "nothing to append: the ledger already holds every row of this file" in out
