"""``ledger publish`` writes the outcomes documents beside the ranking documents (SPEC.md 15,
12.12): exactly the bytes ``ledger outcomes --json`` prints."""

from __future__ import annotations

import json

from people_fixtures import build_demo, run


def test_the_published_outcomes_are_the_commands_bytes(tmp_path):
    db = build_demo(tmp_path / "demo")
    site = tmp_path / "site"
    run("publish", db, "--out", site, check=True)
    size = int((site / "checkpoint").read_text(encoding="utf-8").splitlines()[1])
    for period in ("month", "week"):
        published = (site / "outcomes" / f"{period}.json").read_bytes()
        printed = run("outcomes", db, "--period", period, "--as-of", size - 1, "--json", check=True).stdout.encode()
        assert published + b"\n" == printed
        assert json.loads(published)["through"] == size - 1 and json.loads(published)["period"] == period
    rounds = json.loads(run("rounds", db, "--json", check=True).stdout)
    assert sorted(p.name for p in (site / "rounds").iterdir()) == sorted(str(r["round"]) for r in rounds)
    served = run("outcomes", site, "--json", check=True).stdout.encode()  # the published directory reads the same
    assert served == (site / "outcomes" / "month.json").read_bytes() + b"\n"
