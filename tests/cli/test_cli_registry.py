"""The lazy command table in ledger.cli names every command exactly once, in its module."""

import importlib

from ledger.cli import COMMAND_MODULES, main


def test_lazy_table_matches_every_module() -> None:
    modules = sorted(set(COMMAND_MODULES.values()))
    defined: dict[str, str] = {}
    for name in modules:
        module = importlib.import_module(f"ledger.cli.{name}")
        for command in module.COMMANDS:
            assert command.name not in defined, f"{command.name} defined twice"
            defined[command.name] = name
    assert defined == COMMAND_MODULES


def test_every_listed_command_resolves() -> None:
    import click

    ctx = click.Context(main)
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name


def test_no_command_module_is_over_300_lines() -> None:
    """Commands parse, call the library and print (issue 14): logic lives in ``ledger``."""
    from pathlib import Path

    cli = Path(__file__).resolve().parents[2] / "cli"
    long = {p.name: n for p in sorted(cli.glob("*.py")) if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300}
    assert not long, f"cli modules over 300 lines: {long}"
