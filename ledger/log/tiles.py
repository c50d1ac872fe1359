"""C2SP tlog-tiles: path scheme, tile and entry-bundle encoding, tiles as a node source
(SPEC.md section 15).

Pure module: bytes and sizes in, bytes and paths out. Fetching is passed in as a function.

* Tile ``(L, N)`` holds up to 256 hashes: hash ``i`` is the Merkle node at tree level
  ``8 * L``, index ``N * 256 + i`` (RFC 9162 MTH of leaves
  ``[(N*256+i) * 256**L, (N*256+i+1) * 256**L)``). A tree of size ``s`` has
  ``floor(s / 256**L) // 256`` full tiles at level ``L`` and, if
  ``w = floor(s / 256**L) % 256`` is non-zero, one partial tile of width ``w``.
* Paths: ``tile/<L>/<N>[.p/<W>]`` and ``tile/entries/<N>[.p/<W>]``; ``<N>`` is written as
  zero-padded 3-digit elements, all but the last prefixed with ``x``
  (1234067 -> ``x001/x234/067``).
* Entry bundle: for each entry, a big-endian uint16 length, then the entry bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from ..core.merkle import HASH_SIZE, node_hash
from ..errors import ProofError

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256
MAX_TILE_LEVEL = 63
MAX_BUNDLE_ENTRY = 0xFFFF
CHECKPOINT_PATH = "checkpoint"


@dataclass(frozen=True, order=True)
class Tile:
    """A tile coordinate: level, index in that level, width (1..256; 256 = full)."""

    level: int
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if not 0 <= self.level <= MAX_TILE_LEVEL:
            raise ProofError(f"tile level {self.level} out of range 0..{MAX_TILE_LEVEL}")
        if self.index < 0:
            raise ProofError(f"tile index {self.index} is negative")
        if not 1 <= self.width <= TILE_WIDTH:
            raise ProofError(f"tile width {self.width} out of range 1..{TILE_WIDTH}")

    @property
    def partial(self) -> bool:
        return self.width < TILE_WIDTH

    def path(self) -> str:
        """``tile/<L>/<N>[.p/<W>]``."""
        return f"tile/{self.level}/{index_path(self.index)}{self._suffix()}"

    def entries_path(self) -> str:
        """``tile/entries/<N>[.p/<W>]`` (level 0 only)."""
        if self.level != 0:
            raise ProofError("entry bundles exist only for level 0 tiles")
        return f"tile/entries/{index_path(self.index)}{self._suffix()}"

    def _suffix(self) -> str:
        return f".p/{self.width}" if self.partial else ""

    def node_keys(self) -> list[tuple[int, int]]:
        """The Merkle nodes ``(level, index)`` whose hashes the tile holds, in order."""
        level = self.level * TILE_HEIGHT
        return [(level, self.index * TILE_WIDTH + i) for i in range(self.width)]


def index_path(n: int) -> str:
    """Encode a tile index as 3-digit path elements, all but the last prefixed with ``x``."""
    if n < 0:
        raise ProofError(f"tile index {n} is negative")
    parts = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        parts.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(parts))


def tile_for(level: int, index: int, size: int) -> Tile:
    """The tile ``(level, index)`` as it exists in a tree of ``size`` (full or partial)."""
    count = size >> (TILE_HEIGHT * level)  # hashes at tree level 8*level
    full, rest = divmod(count, TILE_WIDTH)
    if index < full:
        return Tile(level, index)
    if index == full and rest:
        return Tile(level, index, rest)
    raise ProofError(f"tile {level}/{index} does not exist in a tree of size {size}")


def tiles_for_size(size: int) -> Iterator[Tile]:
    """Every tile of a tree of ``size``, level by level, left to right."""
    level = 0
    while True:
        count = size >> (TILE_HEIGHT * level)
        if count == 0:
            return
        full, rest = divmod(count, TILE_WIDTH)
        for index in range(full):
            yield Tile(level, index)
        if rest:
            yield Tile(level, full, rest)
        level += 1


def bundles_for_size(size: int) -> Iterator[Tile]:
    """Every entry bundle of a log of ``size`` entries (the level 0 tiles)."""
    full, rest = divmod(size, TILE_WIDTH)
    for index in range(full):
        yield Tile(0, index)
    if rest:
        yield Tile(0, full, rest)


# --------------------------------------------------------------------------- encoding


def encode_tile(hashes: Iterable[bytes]) -> bytes:
    out = b"".join(hashes)
    if len(out) % HASH_SIZE or not 0 < len(out) <= TILE_WIDTH * HASH_SIZE:
        raise ProofError("a tile holds 1 to 256 hashes of 32 bytes")
    return out


def decode_tile(data: bytes, tile: Tile) -> list[bytes]:
    """Split a tile into its hashes; its length must be exactly ``width * 32`` bytes."""
    if len(data) != tile.width * HASH_SIZE:
        raise ProofError(
            f"{tile.path()}: expected {tile.width * HASH_SIZE} bytes, got {len(data)}"
        )
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    """Concatenate entries, each preceded by its big-endian uint16 length."""
    parts = []
    for entry in entries:
        if len(entry) > MAX_BUNDLE_ENTRY:
            raise ProofError(f"entry of {len(entry)} bytes does not fit an entry bundle (max 65535)")
        parts.append(struct.pack(">H", len(entry)))
        parts.append(bytes(entry))
    return b"".join(parts)


def decode_bundle(data: bytes, tile: Tile | None = None) -> list[bytes]:
    """Split an entry bundle; with ``tile``, it must hold exactly ``tile.width`` entries."""
    out: list[bytes] = []
    pos = 0
    name = tile.entries_path() if tile else "entry bundle"
    while pos < len(data):
        if pos + 2 > len(data):
            raise ProofError(f"{name}: truncated length prefix at byte {pos}")
        (n,) = struct.unpack_from(">H", data, pos)
        pos += 2
        if pos + n > len(data):
            raise ProofError(f"{name}: entry {len(out)} is truncated ({n} bytes announced)")
        out.append(data[pos : pos + n])
        pos += n
        if len(out) > TILE_WIDTH:
            raise ProofError(f"{name}: more than {TILE_WIDTH} entries")
    if tile is not None and len(out) != tile.width:
        raise ProofError(f"{name}: expected {tile.width} entries, got {len(out)}")
    return out


# --------------------------------------------------------------------------- node source


class TileNodeSource:
    """A :class:`ledger.core.merkle.NodeSource` over the tiles of a tree of ``size``.

    ``fetch(path) -> bytes`` reads one tile. Node ``(8L + r, i)`` with ``0 <= r < 8`` is
    the root of ``2**r`` consecutive hashes of tile level ``L``; they are in one tile and
    hashed up here. Tiles are fetched once each and cached; ``fetched`` lists their paths.
    """

    def __init__(self, size: int, fetch: Callable[[str], bytes]) -> None:
        self.size = size
        self._fetch = fetch
        self._tiles: dict[tuple[int, int], list[bytes]] = {}
        self.fetched: list[str] = []

    def _tile(self, level: int, index: int) -> list[bytes]:
        key = (level, index)
        if key not in self._tiles:
            tile = tile_for(level, index, self.size)
            self._tiles[key] = decode_tile(self._fetch(tile.path()), tile)
            self.fetched.append(tile.path())
        return self._tiles[key]

    def get_nodes(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        out: dict[tuple[int, int], bytes] = {}
        for level, index in keys:
            if (index + 1) << level > self.size:
                continue  # not a complete node of this tree
            tile_level, r = divmod(level, TILE_HEIGHT)
            first = index << r  # first hash at tree level 8 * tile_level
            hashes = self._tile(tile_level, first // TILE_WIDTH)
            offset = first % TILE_WIDTH
            layer = hashes[offset : offset + (1 << r)]
            while len(layer) > 1:
                layer = [node_hash(layer[j], layer[j + 1]) for j in range(0, len(layer), 2)]
            out[(level, index)] = layer[0]
        return out
