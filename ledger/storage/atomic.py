"""Output files that appear whole or not at all (an edge helper: the core never writes files).

Every file the tools write (a bundle, a report, a published tile or checkpoint, a proof, a
statement) is written to a hidden temporary sibling in the same directory, flushed to disk,
then renamed over its name; if anything stops the write (an error, Ctrl-C), the temporary
file is removed. A reader therefore sees the old file or the new one, never half of one, and
an interrupted run leaves nothing behind.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

__all__ = ["atomic_file", "write_atomic"]


@contextmanager
def atomic_file(path: str | os.PathLike[str], *, replace: bool = True) -> Iterator[BinaryIO]:
    """A binary handle whose content becomes ``path`` when the block ends normally.

    The temporary sibling ``.NAME.<random>.tmp`` is created exclusively with mode 0666 less
    the umask (what a plain ``open`` would give: published files must stay readable), and
    removed if the block raises, KeyboardInterrupt included. ``replace=False`` refuses to
    rename over a file that appeared meanwhile (FileExistsError), for outputs that must
    never overwrite.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:  # opened inside: an interrupt right after the file exists still removes it
        handle = os.fdopen(os.open(tmp, flags, 0o666), "wb")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if path exists: never overwrite
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links: check, then rename
                if path.exists():
                    raise FileExistsError(f"{path}: appeared while it was written; not replaced") from None
                os.replace(tmp, path)
            else:
                os.unlink(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike[str], data: bytes | Iterable[bytes]) -> None:
    """Replace ``path`` with ``data`` (bytes, or chunks streamed in order) atomically."""
    with atomic_file(path) as handle:
        for chunk in [data] if isinstance(data, (bytes, bytearray)) else data:
            handle.write(chunk)
