"""The ``ledger`` command line: parses arguments, calls the library, prints.

Installed as ``ledger.cli``; each command group lives in its own module.
"""

from __future__ import annotations

import click

from ledger import __version__

from ._common import LedgerGroup


@click.group(cls=LedgerGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ledger")
def main() -> None:
    """An auditable, append-only scoring ledger for violence-targeting rounds.

    Every incident, weighting rule and panel decision is a signed, hash-chained entry.
    Auditors run `ledger verify`; journalists run `ledger replay`.

    \b
    Start here:
      ledger demo ./demo            build an example ledger
      ledger verify ./demo/ledger.db
    """


def _register() -> None:
    from . import keys_cmd, ledger_cmd, statement_cmd, demo_cmd, transparency_cmd, scoring_cmd, people_cmd

    for module in (keys_cmd, statement_cmd, ledger_cmd, transparency_cmd, scoring_cmd, people_cmd, demo_cmd):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
