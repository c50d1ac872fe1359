"""Writing a published ledger directory (SPEC.md section 15): the I/O edge of publication.

Layout (C2SP tlog-tiles plus three extras), for the latest signed checkpoint of size ``n``:

* ``checkpoint`` — the signed checkpoint note (with any attached cosignatures);
* ``tile/<L>/<N>[.p/<W>]`` — every hash tile of the tree of size ``n``;
* ``tile/entries/<N>[.p/<W>]`` — every entry bundle;
* ``bundle.jsonl`` — the whole ledger as a bundle (section 8.1), first ``n`` entries;
* ``rounds/<R>/ranking.json`` — the ranking document of each decided round (section 12),
  exactly the bytes whose SHA-256 its decision commits to;
* ``outcomes/month.json``, ``outcomes/week.json`` — the outcomes document (section 12.12).

Files are written atomically (sibling temporary file, then rename) and the checkpoint
last, so a reader never sees a checkpoint whose tiles or bundles are not yet there. Full
tiles and full bundles are immutable: when republishing, existing ones are kept (and
checked to be identical; a difference means the ledger was rewritten and publication stops).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..core import note
from ..errors import StoreError
from .atomic import atomic_file, write_atomic
from .bundle import write_bundle
from .store import LedgerStore
from ..log.tiles import (
    CHECKPOINT_PATH,
    TILE_WIDTH,
    Tile,
    bundles_for_size,
    encode_bundle,
    encode_tile,
    tiles_for_size,
)

BUNDLE_PATH = "bundle.jsonl"


@dataclass
class PublishReport:
    size: int = 0
    tiles_written: int = 0
    tiles_kept: int = 0
    bundles_written: int = 0
    bundles_kept: int = 0
    rounds: list[int] = field(default_factory=list)
    rounds_hook: str = "ok"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)  # a temporary sibling, renamed; removed if interrupted


def _put_immutable(out: Path, rel: str, data: bytes, partial: bool) -> bool:
    """Write a tile or bundle; a full one already present must be identical. True if written."""
    path = out.joinpath(*rel.split("/"))
    if not partial and path.is_file():
        if path.read_bytes() != data:
            raise StoreError(f"{path}: differs from the ledger's; a published full tile never changes (was the ledger rewritten?)")
        return False
    _write(path, data)
    return True


def _counted(raws: Iterator[bytes], progress: Callable[[int], None] | None) -> Iterator[bytes]:
    for raw in raws:
        yield raw
        if progress is not None:
            progress(1)


def scoring_documents(raws: Callable[[], Iterator[bytes]]) -> tuple[dict[str, bytes], str]:
    """Hook: ``{path: document bytes}``: the ranking document of every decided round
    (``rounds/<R>/ranking.json``) and the outcomes documents by month and by week
    (``outcomes/<period>.json``, SPEC.md 12.12), and a status.

    Uses the scoring module's replay (:func:`ledger.scoring.replay.replay`) when present.
    """
    try:
        from ..scoring.outcomes import PERIODS, outcomes
        from ..scoring.process import state_of
        from ..scoring.replay import replay
    except ImportError:  # pragma: no cover - scoring module absent
        return {}, "scoring replay not available"
    state = state_of(raws())
    out: dict[str, bytes] = {}
    for number, round_ in sorted(state.rounds.items()):
        if round_.decision is not None:
            out[f"rounds/{number}/ranking.json"] = replay(state, number).raw
    if state.size:
        for period in PERIODS:
            out[f"outcomes/{period}.json"] = outcomes(state, period=period).raw
    return out, "ok"


def publish(store: LedgerStore, out: Path, *, progress: Callable[[int], None] | None = None) -> PublishReport:
    """Write the published directory for the store's latest signed checkpoint.

    ``progress(n)`` is told of every entry handled, three times over: once in the entry
    bundles, once in ``bundle.jsonl``, once read for the ranking documents (a total of three
    times the checkpoint's size)."""
    latest = store.tree.latest_checkpoint()
    if latest is None:
        raise StoreError("the ledger has no signed checkpoint to publish (run ledger checkpoint --operator-key)")
    size, root, checkpoint_note = latest
    if store.tree.size < size:
        raise StoreError(f"the tree has {store.tree.size} leaves, fewer than the checkpoint's {size}")
    if store.tree.root(size) != root:
        raise StoreError("the stored tree does not match the latest checkpoint; refusing to publish")
    report = PublishReport(size=size)
    out.mkdir(parents=True, exist_ok=True)
    for tile in tiles_for_size(size):
        level = tile.level * 8
        start = tile.index * TILE_WIDTH
        data = encode_tile(store.tree.nodes.level_range(level, start, start + tile.width))
        if _put_immutable(out, tile.path(), data, tile.partial):
            report.tiles_written += 1
        else:
            report.tiles_kept += 1
    for tile in bundles_for_size(size):
        start = tile.index * TILE_WIDTH
        data = encode_bundle(store.iter_raw(start, start + tile.width))
        if _put_immutable(out, tile.entries_path(), data, tile.partial):
            report.bundles_written += 1
        else:
            report.bundles_kept += 1
        if progress is not None:
            progress(tile.width)
    with atomic_file(out / BUNDLE_PATH) as handle:  # streamed
        write_bundle(store.iter_raw(0, size), handle, progress)
    documents, report.rounds_hook = scoring_documents(lambda: _counted(store.iter_raw(0, size), progress))
    for rel, raw in documents.items():
        _write(out.joinpath(*rel.split("/")), raw)
        if rel.startswith("rounds/"):
            report.rounds.append(int(rel.split("/")[1]))
    # Last, and atomically: everything it covers is in place before it appears, and a
    # directory without it is an unfinished publication (R-15.x, reported by `ledger verify`).
    _write(out / CHECKPOINT_PATH, checkpoint_note)
    return report


def stale_partials(out: Path, size: int) -> Iterable[Path]:  # pragma: no cover - housekeeping
    """Partial tiles and bundles no tree of ``size`` needs (safe to delete later)."""
    keep = {t.path() for t in tiles_for_size(size)} | {t.entries_path() for t in bundles_for_size(size)}
    for path in out.glob("tile/**/*.p/*"):
        rel = path.relative_to(out).as_posix()
        if rel not in keep:
            yield path


__all__ = ["publish", "PublishReport", "scoring_documents", "note", "Tile"]
