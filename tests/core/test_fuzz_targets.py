"""The atheris fuzz targets (fuzz/targets.py) run over their seeds without a finding.

The fuzzer itself is a tool (``python fuzz/run.py TARGET``), not part of the test run; this
keeps its harness honest: every target accepts its own seeds, the ``signed`` harness really
produces entries the verifier admits (so fuzzing it reaches the rules behind the signatures),
and a known-bad input is reported as a finding.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parents[2] / "fuzz" / "targets.py"


@pytest.fixture(scope="module")
def targets():
    spec = importlib.util.spec_from_file_location("fuzz_targets", FUZZ)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_targets"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["canonical", "statement", "bundle", "signed"])
def test_every_target_runs_its_seeds_without_a_finding(targets, name):
    seeds = targets.seeds(name)
    assert len(seeds) >= 10
    for seed in seeds:
        targets.TARGETS[name](seed)


def test_signed_harness_produces_admitted_entries(targets):
    """Real bodies, signed by the role's keys and sealed, pass every rule but the scoring ones
    that depend on uniqueness; at least one seed must be admitted outright."""
    verifier = targets.verifier_before_last_round()
    admitted = 0
    for seed in targets.seeds("signed"):
        type_, _, body = seed.partition(b"\n")
        raw = targets.signed_entry(type_.decode(), targets.json.loads(body))
        _, violations = verifier.check(raw)
        assert all(v.rule not in ("R-7.10", "R-7.11", "R-7.12", "R-7.13", "R-7.15") for v in violations), violations
        admitted += not violations
    assert admitted >= 1


def test_canonical_target_reports_a_non_canonical_acceptance(targets, monkeypatch):
    """The differential check is live: if parse_canonical accepted non-canonical bytes,
    the target would raise."""
    monkeypatch.setattr(targets.canonical, "parse_canonical", lambda data: {"a": 1})
    with pytest.raises(AssertionError):
        targets.target_canonical(b'{ "a": 1 }')
