"""The tests mirror the packages (issue 14): the test of a module is found from the module.

``tests/<layer>/`` holds the tests of ``ledger/<layer>/`` (``tests/cli/`` those of the
``cli`` package); the project-wide contracts (layers, packaging, SPEC rule coverage, this
file) and the shared fixtures stay in ``tests/``. pyproject.toml puts every test directory
on the import path, so a test module's file name must be unique across directories.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
PACKAGES = {path.name for path in (ROOT / "ledger").iterdir() if (path / "__init__.py").is_file()} | {"cli"}


def _test_dirs() -> set[str]:
    return {path.name for path in TESTS.iterdir()
            if path.is_dir() and any(path.glob("test_*.py"))}


def test_every_test_directory_mirrors_a_package():
    assert _test_dirs() <= PACKAGES, f"test directories without a package: {sorted(_test_dirs() - PACKAGES)}"


def test_every_layer_has_tests():
    assert PACKAGES <= _test_dirs(), f"packages without a test directory: {sorted(PACKAGES - _test_dirs())}"


def test_no_test_module_sits_beside_the_fixtures_unless_it_is_project_wide():
    top = sorted(path.name for path in TESTS.glob("test_*.py"))
    assert top == ["test_layers.py", "test_layout.py", "test_packaging.py", "test_spec_rules.py"]


def test_test_module_names_are_unique():
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []


def test_every_test_directory_is_on_the_import_path():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    paths = config["tool"]["pytest"]["ini_options"]["pythonpath"]
    assert sorted(paths) == sorted(["tests"] + [f"tests/{name}" for name in _test_dirs()])
