"""``ledger demo``: build an example ledger and say what to run next."""

from __future__ import annotations

from pathlib import Path

import click

from ledger.demo import DEMO_PASSPHRASE, build_demo
from ledger.errors import InputError


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=2011, show_default=True, help="Seed of the synthetic data and demo keys.")
def demo(directory: Path, seed: int) -> None:
    """Build a complete example ledger in DIRECTORY (ledger.db, keys/) and print next steps.

    The same seed gives the same ledger, byte for byte. Demo keys are encrypted with the
    passphrase printed at the end.

    \b
    Example:
      ledger demo ./demo && ledger verify ./demo/ledger.db
    """
    if (directory / "ledger.db").exists():
        raise InputError(f"{directory / 'ledger.db'} already exists; choose an empty directory")
    build_demo(directory, seed)
    db = directory / "ledger.db"
    click.echo(f"Built {db} and keys in {directory / 'keys'}/ (passphrase: {DEMO_PASSPHRASE}).")
    click.echo("Try next:")
    for line in (
        f"ledger verify {db}                         # auditors: every rule, every entry",
        f"ledger rounds {db}                         # every round, its target, replay status",
        f"ledger replay {db} --round 1               # journalists: recompute the ranking",
        f"ledger explain {db} --round 1 --org halcones-del-norte",
        f"ledger report {db} --round 1 --out {directory / 'round-1.html'}",
        f"ledger log {db} --limit 20",
        f"ledger checkpoint {db}                     # the latest signed checkpoint",
        f"ledger export {db} --out {directory / 'ledger.jsonl'}",
    ):
        click.echo(f"  {line}")


COMMANDS = [demo]
