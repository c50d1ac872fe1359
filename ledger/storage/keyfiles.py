"""Key files: the only module of the key code that touches the file system.

* Private key file: PKCS#8 PEM (see :func:`ledger.core.keys.serialize_private_key`), encrypted
  when a passphrase is given, created with mode 0600, never overwritten.
* Public key file: canonical JSON ``{"key_id": ..., "name": ..., "public_key": base64}``
  followed by one newline; ``key_id`` must match the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

from ..core import canonical
from ..errors import CanonicalError, KeyFileError, LedgerError
from ..core.keys import (
    DEFAULT_KDF_ROUNDS,
    PublicKey,
    SigningKey,
    is_encrypted,
    load_private_key,
    serialize_private_key,
)

__all__ = [
    "write_private_key_file",
    "read_private_key_file",
    "write_public_key_file",
    "read_public_key_file",
    "is_encrypted_private_key",
]

PathLike = Union[str, "os.PathLike[str]"]
_PUBLIC_FIELDS = {"key_id", "name", "public_key"}
_MAX_KEY_FILE_BYTES = 64 * 1024


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``data`` and ``mode``; refuse to replace an existing file.

    O_CREAT|O_EXCL|O_WRONLY|O_NOFOLLOW with the final mode: the file never exists with
    wider permissions, and an existing file (or symlink) is never followed or replaced.
    """
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError:
        raise KeyFileError(f"{path}: file already exists; refusing to overwrite a key file") from None
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot create key file ({exc.strerror})") from None
    try:
        os.fchmod(fd, mode)  # the umask may only have narrowed it; make it exact
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        try:
            os.unlink(path)
        except OSError:
            pass
        raise KeyFileError(f"{path}: cannot write key file ({exc.strerror})") from None
    os.close(fd)
    _fsync_dir(path.parent)


def write_private_key_file(
    path: PathLike, key: SigningKey, passphrase: bytes | None, *, kdf_rounds: int = DEFAULT_KDF_ROUNDS
) -> None:
    """Write ``key`` to a new file, mode 0600: encrypted OpenSSH format iff ``passphrase``."""
    path = Path(path)
    data = serialize_private_key(key, passphrase, kdf_rounds=kdf_rounds)
    _write_new(path, data, 0o600)


def _read(path: Path, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read {what} ({exc.strerror})") from None
    if len(data) > _MAX_KEY_FILE_BYTES:
        raise KeyFileError(f"{path}: too large for a {what}")
    return data


def read_private_key_file(path: PathLike, passphrase: bytes | None) -> SigningKey:
    """Read a PKCS#8 PEM or OpenSSH Ed25519 private key file."""
    path = Path(path)
    data = _read(path, "private key file")
    try:
        return load_private_key(data, passphrase)
    except LedgerError as exc:
        raise KeyFileError(f"{path}: {exc.message}") from None


def is_encrypted_private_key(data: bytes) -> bool:
    """True if ``data`` is an encrypted private key (PKCS#8 or legacy PEM, or OpenSSH)."""
    return is_encrypted(bytes(data))


def public_key_file_bytes(public: PublicKey, name: str) -> bytes:
    if not isinstance(name, str):
        raise KeyFileError(f"key name must be a string, got {type(name).__name__}")
    try:
        body = canonical.encode({"key_id": public.key_id, "name": name, "public_key": public.base64})
    except CanonicalError as exc:
        raise KeyFileError(f"key name cannot be stored: {exc.message}") from None
    return body + b"\n"


def write_public_key_file(path: PathLike, public: PublicKey, name: str) -> None:
    """Write the public key file (mode 0644), atomically replacing an existing one."""
    path = Path(path)
    data = public_key_file_bytes(public, name)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        _write_new(tmp, data, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise KeyFileError(f"{path}: cannot write public key file ({exc.strerror})") from None
    _fsync_dir(path.parent)


def read_public_key_file(path: PathLike) -> tuple[PublicKey, str]:
    """Read a public key file; returns (public key, name). Checks that key_id matches."""
    path = Path(path)
    data = _read(path, "public key file")
    body = data[:-1] if data.endswith(b"\n") else data
    try:
        obj = canonical.parse(body)
    except CanonicalError as exc:
        raise KeyFileError(f"{path}: not a public key file: {exc.message}") from None
    if not isinstance(obj, dict) or set(obj) != _PUBLIC_FIELDS:
        found = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise KeyFileError(
            f"{path}: not a public key file: expected members key_id, name, public_key; found {found}"
        )
    for field in sorted(_PUBLIC_FIELDS):
        if not isinstance(obj[field], str):
            raise KeyFileError(f"{path}: {field} must be a string")
    try:
        public = PublicKey.from_base64(obj["public_key"])
    except LedgerError as exc:
        raise KeyFileError(f"{path}: {exc.message}") from None
    if obj["key_id"] != public.key_id:
        raise KeyFileError(
            f"{path}: key_id {obj['key_id'][:80]!r} does not match the public key (its key id is {public.key_id})"
        )
    return public, obj["name"]
