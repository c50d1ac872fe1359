"""Pausing CPython's cyclic garbage collector around work that allocates many objects
which form no reference cycles (a bulk import's entries and verifier state, a replay's
records): each collection of the older generations would walk every live object again
(about 8% of a bulk import's CPU at 30,000 entries, growing with the ledger; ~20% of a
10^6-incident replay). Reference counting still frees everything that is not in a cycle."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block; restore what it was afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
