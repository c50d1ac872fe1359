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


# Command name -> module that defines it. Modules are imported only when their command
# runs (or for the full --help listing), so `ledger verify` does not pay for the HTML
# report or the demo generator. tests/cli/test_cli_registry.py checks this table against
# every module's COMMANDS.
COMMAND_MODULES: dict[str, str] = {
    "keygen": "keys_cmd",
    **dict.fromkeys(["genesis", "new", "policy-update", "sign", "status", "combine"], "statement_cmd"),
    **dict.fromkeys(["init", "append", "verify", "export", "log"], "ledger_cmd"),
    **dict.fromkeys(["checkpoint", "prove", "check-proof", "publish", "witness"], "transparency_cmd"),
    **dict.fromkeys(["replay", "explain", "rounds", "commitment"], "scoring_cmd"),
    **dict.fromkeys(
        [
            "new-org", "org-lineage", "identify-org", "new-incident", "amend-incident", "retract-incident", "dispute",
            "resolve-dispute", "new-estimate",
        ],
        "authoring_cmd",
    ),
    **dict.fromkeys(["adopt-rules", "open-round", "close-round", "decide", "progress", "dismantled"], "round_cmd"),
    **dict.fromkeys(["import", "robustness", "report"], "people_cmd"),
    "demo": "demo_cmd",
}
main.lazy_commands = COMMAND_MODULES
