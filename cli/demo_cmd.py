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
    click.echo(f"  ledger verify {db}")
    click.echo(f"  ledger log {db}")
    click.echo(f"  ledger export {db} --out {directory / 'ledger.jsonl'}")


COMMANDS = [demo]
