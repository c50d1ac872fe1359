"""``ledger demo``: build an example ledger and say what to run next."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click

from ledger.people.demo import DEMO_PASSPHRASE, build_demo
from ledger.errors import InputError

from ._terminal import say


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
    for name in ("ledger.db", "keys"):
        if (directory / name).exists():
            raise InputError(f"{directory / name} already exists; choose an empty directory")
    # Built in a hidden sibling and moved into place at the end: an interrupted run leaves
    # neither half a ledger nor keys without their ledger (SPEC.md 8.3).
    directory.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".demo-", dir=directory))
    try:
        build_demo(building, seed)
        (building / "keys").rename(directory / "keys")
        (building / "ledger.db").rename(directory / "ledger.db")
    finally:
        shutil.rmtree(building, ignore_errors=True)
    db = directory / "ledger.db"
    say(f"Built {db} and keys in {directory / 'keys'}/ (passphrase: {DEMO_PASSPHRASE}).")
    say("Try next:")
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
        say(f"  {line}")


COMMANDS = [demo]
