"""``ledger explain`` prints every factor (SPEC.md 12.3, 12.5): a reader recomputes each
contribution, the raw score and the score from its text alone, exactly, with Fraction.
The ledger uses features, an inherited splinter attribution, a joint split, a contested
(discounted) attribution, several victims and a normalization with an estimate, one below
the floor and one missing; the CLI runs in a subprocess on a bundle of real signed entries."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from scoring_fixtures import features_and_splinters

LEDGER = str(Path(sys.executable).parent / "ledger")
ORGS = ["alpha-sur", "beta", "gamma"]  # round 2 of features_and_splinters

COUNTED = re.compile(r"^  (\S+)\s+entry\s+(\d+)\s+.*\+(\d+\.\d+)(  \(inherited from (\S+), 12\.1\))?$")
FORMULA = re.compile(r"^      = \((.+)\) x confidence (\w+) (\S+) x basis (\w+) (\S+) x contested (\S+) x share (\S+) = (\S+)$")
RAW = re.compile(r"^Raw = the sum of the contributions above = (\S+) \(shown (\S+)\)$")
SCORE = re.compile(r"^Score = raw (\S+) x unit (\S+) / divisor (\S+) = (\S+); divisor: (.+) \(shown (\S+)\)$")
PLAIN = re.compile(r"^Score = raw = (\S+) \(the rules have no normalization\) \(shown (\S+)\)$")


def explain(bundle: Path, org: str, *extra: str) -> subprocess.CompletedProcess:
    result = subprocess.run([LEDGER, "explain", str(bundle), "--round", "2", "--org", org, *extra],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def recompute(text: str) -> tuple[list[tuple[str, Fraction]], Fraction, Fraction, list[str]]:
    """(incident, contribution) recomputed from each formula, the raw and score recomputed,
    and the inherited-from names, all from explain's text alone."""
    lines = text.splitlines()
    contributions, inherited = [], []
    for i, line in enumerate(lines):
        counted = COUNTED.match(line)
        if not counted:
            continue
        formula = FORMULA.match(lines[i + 1])
        assert formula, lines[i + 1]
        terms, _, confidence, _, basis, contested, share, stated = formula.groups()
        base = Fraction(0)
        for term in terms.split(" + "):
            parts = term.split(" ")
            if len(parts) == 4:  # role weight x count
                assert parts[2] == "x"
                base += Fraction(parts[1]) * int(parts[3])
            else:  # feature weight
                assert len(parts) == 2 and parts[0] in ("mass_killing", "public_display", "torture")
                base += Fraction(parts[1])
        value = base * Fraction(confidence) * Fraction(basis) * Fraction(contested) * Fraction(share)
        assert value == Fraction(stated)
        contributions.append((counted.group(1), value))
        if counted.group(5):
            inherited.append(counted.group(5))
    raw_line = next(RAW.match(line) for line in lines if RAW.match(line))
    raw = sum((v for _, v in contributions), Fraction(0))
    assert raw == Fraction(raw_line.group(1))
    score_line = next((SCORE.match(line) for line in lines if SCORE.match(line)), None)
    if score_line is not None:
        raw_text, unit, divisor, stated, _, _ = score_line.groups()
        assert Fraction(raw_text) == raw
        score = raw * Fraction(unit) / Fraction(divisor)
        assert score == Fraction(stated)
    else:
        plain = next(PLAIN.match(line) for line in lines if PLAIN.match(line))
        score = raw
        assert score == Fraction(plain.group(1))
    return contributions, raw, score, inherited


@pytest.mark.parametrize("normalized", [True, False])
def test_every_contribution_and_the_score_recompute_from_explain_alone(tmp_path, normalized):
    bundle = tmp_path / "ledger.jsonl"
    bundle.write_bytes(b"".join(raw + b"\n" for raw in features_and_splinters(normalized).raws))
    document = json.loads(subprocess.run([LEDGER, "replay", str(bundle), "--round", "2", "--json"],
                                         capture_output=True, text=True, timeout=300).stdout)
    rows = {row["org"]: row for row in document["ranking"]}
    seen_features = seen_inherited = seen_contested = 0
    for org in ORGS:
        result = explain(bundle, org)
        contributions, raw, score, inherited = recompute(result.stdout)
        row = rows[org]
        assert [(i["incident"], Fraction(i["exact"])) for i in row["incidents"]] == contributions
        assert raw == Fraction(row["raw_exact"]) and score == Fraction(row["score_exact"])
        seen_features += "public_display 2" in result.stdout
        seen_inherited += inherited == ["alpha"]
        seen_contested += "x contested 0.5 x" in result.stdout
        factors = json.loads(explain(bundle, org, "--json").stdout)["factors"]  # --json carries the same factors
        assert [(f["incident"], Fraction(f["contribution"])) for f in factors["incidents"]] == contributions
    assert seen_features and seen_inherited == 1 and seen_contested == 1
    if normalized:
        text = explain(bundle, "gamma").stdout
        assert "estimate 20000000 (entry" in text and "is below the floor 50000000: the floor" in text
        assert "no revenue_usd estimate before the close: the floor 50000000" in explain(bundle, "alpha-sur").stdout
        assert re.search(r"divisor: revenue_usd best estimate of entry \d+", explain(bundle, "beta").stdout)
