"""The built wheel works on its own: installed into a fresh virtual environment, run from an
unrelated directory (schemas must come from the installed package, not the checkout)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(args, cwd: Path, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, (args, result.returncode, result.stdout[-3000:], result.stderr[-3000:])
    return result


@pytest.mark.slow
def test_wheel_installs_and_runs_demo_and_verify_from_anywhere(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    # Build from a clean copy of the sources: an in-tree build reuses a stale build/ directory,
    # which could smuggle files that no longer exist into the wheel.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", ".venv", "venv", "*.egg-info", "__pycache__", ".hypothesis",
        ".pytest_cache", "demo", "tests", "bench",
    ))
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", wheels, source], tmp_path, env)
    built = sorted(wheels.glob("violence_scoring_ledger-*.whl"))
    assert len(built) == 1, list(wheels.iterdir())

    # one top-level import name, schemas shipped inside it
    with zipfile.ZipFile(built[0]) as wheel:
        names = wheel.namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"ledger"}, top
    assert "ledger/schemas/entry.json" in names and "ledger/cli/__init__.py" in names
    shipped = {n.rsplit("/", 1)[1] for n in names if n.startswith("ledger/schemas/") and n.endswith(".json")}
    assert shipped == {p.name for p in (ROOT / "schemas").glob("*.json")}
    packages = {n.rsplit("/", 1)[0] for n in names if n.endswith("/__init__.py")}
    subpackages = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "ledger").rglob("__init__.py")}
    assert packages == subpackages | {"ledger/cli", "ledger/schemas"}  # none forgotten, no extra

    # A fresh environment, without pip of its own (ensurepip is slow): this interpreter's pip
    # installs into it. Dependencies come from the configured package sources (PyPI or a
    # local wheel cache).
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path, env)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", built[0]], tmp_path, env)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run([python, "-c", "import ledger, ledger.schemas; print(ledger.__file__)"], elsewhere, env).stdout.strip()
    assert str(venv) in where and str(ROOT) not in where

    ledger = venv / "bin" / "ledger"
    demo = _run([ledger, "demo", "demo"], elsewhere, env)
    assert "ledger verify" in demo.stdout
    report = json.loads(_run([ledger, "verify", "demo/ledger.db", "--json"], elsewhere, env).stdout)
    assert report["ok"] is True and report["entries"] >= 3 and report["violations"] == []
    _run([ledger, "export", "demo/ledger.db", "--out", "demo.jsonl"], elsewhere, env)
    bundle = json.loads(_run([ledger, "verify", "demo.jsonl", "--json"], elsewhere, env).stdout)
    assert bundle["ok"] is True and bundle["head"] == report["head"] and bundle["entries"] == report["entries"]
