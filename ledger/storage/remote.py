"""Reading a published ledger (SPEC.md section 15) from a directory or an http(s) URL.

The I/O edge for :mod:`ledger.log.tiles`: :class:`Published` fetches ``checkpoint``, entry
bundles and tiles by their tlog-tiles paths, with bounded sizes and timeouts, and nothing
else. What it fetches is judged by the pure verifier, never trusted.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

from ..core import note
from ..errors import InputError, LedgerError
from ..log.tiles import CHECKPOINT_PATH, TILE_WIDTH, TileNodeSource, bundles_for_size, decode_bundle

TIMEOUT_S = 30
MAX_FETCH = TILE_WIDTH * (0xFFFF + 2)  # the largest possible entry bundle
USER_AGENT = "violence-scoring-ledger (+tlog-tiles client)"


def is_url(location: str | os.PathLike[str]) -> bool:
    text = str(location)
    return text.startswith("http://") or text.startswith("https://")


def is_published(location: str | os.PathLike[str]) -> bool:
    """An http(s) URL, or a directory holding a ``checkpoint`` file."""
    if is_url(location):
        return True
    path = Path(location)
    return path.is_dir() and (path / CHECKPOINT_PATH).is_file()


def refuse_unfinished_publication(location: str | os.PathLike[str]) -> None:
    """InputError for a local directory that holds a publication's tiles or ``bundle.jsonl``
    but no ``checkpoint``: publishing was interrupted, or is still running (SPEC.md 15,
    R-15.1: unreadable input, never verified as anything else)."""
    path = Path(location)
    if (not is_url(location) and path.is_dir() and not (path / CHECKPOINT_PATH).exists()
            and ((path / "tile").is_dir() or (path / "bundle.jsonl").is_file())):
        raise InputError(f"{path}: an unfinished publication: tiles but no checkpoint (publishing was interrupted "
                         "or is still running); publish again, then verify")


class Published:
    """A published ledger at a directory or URL prefix."""

    def __init__(self, location: str | os.PathLike[str], *, timeout: float = TIMEOUT_S) -> None:
        self.location = str(location)
        self.timeout = timeout
        self.fetched: list[str] = []
        if not is_url(location) and not Path(location).is_dir():
            raise InputError(f"{location}: not a published ledger directory or http(s) URL")

    def fetch(self, path: str) -> bytes:
        """The bytes at ``<prefix>/<path>``; InputError if absent or unreadable."""
        self.fetched.append(path)
        if is_url(self.location):
            url = self.location.rstrip("/") + "/" + path
            request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    data = response.read(MAX_FETCH + 1)
            except urllib.error.HTTPError as exc:
                raise InputError(f"{url}: HTTP {exc.code} {exc.reason}") from None
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise InputError(f"{url}: cannot fetch ({reason})") from None
        else:
            file = Path(self.location, *path.split("/"))
            try:
                with open(file, "rb") as handle:
                    data = handle.read(MAX_FETCH + 1)
            except OSError as exc:
                raise InputError(f"{file}: cannot read ({exc.strerror})") from None
        if len(data) > MAX_FETCH:
            raise InputError(f"{self.location}/{path}: larger than {MAX_FETCH} bytes")
        return data

    def checkpoint(self) -> tuple[bytes, note.Checkpoint]:
        """The published checkpoint note and its (unverified) body."""
        data = self.fetch(CHECKPOINT_PATH)
        try:
            return data, note.Checkpoint.parse(note.parse_note(data)[0])
        except LedgerError as exc:
            raise InputError(f"{self.location}/{CHECKPOINT_PATH}: {exc.message}") from None

    def iter_entries(self, size: int) -> Iterator[bytes]:
        """The first ``size`` entries, one entry bundle at a time (bounded memory)."""
        for tile in bundles_for_size(size):
            data = self.fetch(tile.entries_path())
            try:
                yield from decode_bundle(data, tile)
            except LedgerError as exc:
                raise InputError(f"{self.location}/{exc.message}") from None

    def node_source(self, size: int) -> TileNodeSource:
        """Merkle nodes of the tree of ``size``, from its hash tiles (fetched on demand)."""
        return TileNodeSource(size, self.fetch)


def open_published(location: str | os.PathLike[str]) -> tuple[Iterator[bytes], bytes]:
    """(the entries the published checkpoint covers, the checkpoint note)."""
    pub = Published(location)
    data, cp = pub.checkpoint()
    return pub.iter_entries(cp.size), data
