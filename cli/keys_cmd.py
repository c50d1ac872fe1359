"""Key commands: generate a key pair."""

from __future__ import annotations

from pathlib import Path

import click

from ledger.errors import KeyFileError
from ledger.storage.keyfiles import write_private_key_file, write_public_key_file
from ledger.core.keys import DEFAULT_KDF_ROUNDS, SigningKey

from ._common import echo_json, get_passphrase, passphrase_options


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", default="", help="Display name or pseudonym stored with the public key.")
@click.option("--no-passphrase", is_flag=True, help="Store the private key unencrypted (not recommended).")
@click.option("--kdf-rounds", type=click.IntRange(1, 1024), default=DEFAULT_KDF_ROUNDS, show_default=True,
              help="bcrypt-pbkdf rounds protecting the passphrase (as ssh-keygen -a). Each round makes every guess, "
                   "and every unlock, slower; lower it only for throwaway test or demo keys.")
@passphrase_options
@click.option("--json", "as_json", is_flag=True, help="Print the key id and file names as JSON.")
def keygen(out: Path, name: str, no_passphrase: bool, kdf_rounds: int, passphrase_file: Path | None, passphrase_env: str,
           as_json: bool) -> None:
    """Generate an Ed25519 key pair: OUT.key (private, mode 0600) and OUT.pub.

    The private key is encrypted with a passphrase taken from --passphrase-file, the
    environment variable (LEDGER_PASSPHRASE by default) or a prompt.

    \b
    Example:
      ledger keygen keys/panel-ana --name "Panel member A"
      ledger keygen demo-keys/p1 --name "Test key" --kdf-rounds 1   (tests and demos only)
    """
    passphrase = None
    if not no_passphrase:
        passphrase = get_passphrase(passphrase_file, passphrase_env, confirm=True)
        if passphrase is None:
            raise KeyFileError(
                f"no passphrase: give --passphrase-file, set {passphrase_env}, run on a terminal, or pass --no-passphrase"
            )
    key = SigningKey.generate()
    private_path = out.with_name(out.name + ".key")
    public_path = out.with_name(out.name + ".pub")
    if public_path.exists():
        raise KeyFileError(f"{public_path} already exists; refusing to overwrite")
    write_private_key_file(private_path, key, passphrase, kdf_rounds=kdf_rounds)
    write_public_key_file(public_path, key.public, name)
    if as_json:
        echo_json({"key_id": key.public.key_id, "private_key": str(private_path), "public_key": str(public_path)})
    else:
        click.echo(f"key id      {key.public.key_id}")
        click.echo(f"private key {private_path} ({'encrypted' if passphrase else 'NOT encrypted'}, mode 0600)")
        click.echo(f"public key  {public_path}")


COMMANDS = [keygen]
