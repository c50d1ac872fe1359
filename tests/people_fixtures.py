"""Shared helpers of the people-facing tests (import, robustness, report, walkthroughs)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

LEDGER = Path(sys.executable).parent / "ledger"
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PASSPHRASE = "demo-passphrase"


def env(**extra: str) -> dict[str, str]:
    out = dict(os.environ)
    out["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{out.get('PATH', '')}"
    out["LEDGER_PASSPHRASE"] = PASSPHRASE
    out.pop("NO_COLOR", None)
    out.update(extra)
    return out


def run(*args: object, cwd: Path | None = None, check: bool = False, timeout: int = 600, **extra: str) -> subprocess.CompletedProcess:
    result = subprocess.run([str(LEDGER), *map(str, args)], cwd=cwd, env=env(**extra), capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"ledger {' '.join(map(str, args))} exited {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def build_demo(directory: Path) -> Path:
    """``ledger demo DIR`` (the real CLI); returns DIR/ledger.db."""
    run("demo", directory, check=True)
    return directory / "ledger.db"


def copy_demo(source: Path, directory: Path) -> Path:
    """A private copy of a demo directory (ledger and keys)."""
    shutil.copytree(source, directory)
    return directory / "ledger.db"


def ledger_hash(db: Path) -> str:
    """SHA-256 of the database file and its WAL (if any): changes when anything is written."""
    digest = hashlib.sha256()
    for path in (db, Path(str(db) + "-wal")):
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def leaves(obj):
    """Every value in a JSON-like tree of dicts and lists that is neither."""
    if isinstance(obj, dict):
        for value in obj.values():
            yield from leaves(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from leaves(value)
    else:
        yield obj
