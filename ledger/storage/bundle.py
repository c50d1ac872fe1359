"""The public bundle: one entry per line, exactly the bytes that were hashed and signed.

Format (SPEC.md section 8): the concatenation, in sequence order, of each entry's canonical
bytes followed by a single 0x0A. No header, no blank lines, no carriage returns.
"""

from __future__ import annotations

from typing import BinaryIO, Callable, Iterable, Iterator

from ..core.canonical import MAX_DOCUMENT_BYTES
from ..errors import InputError

# SPEC 8.1: a line is at most MAX_DOCUMENT_BYTES bytes *not counting* its newline.
_READ_LIMIT = MAX_DOCUMENT_BYTES + 1


def write_bundle(raws: Iterable[bytes], out: BinaryIO, progress: Callable[[int], None] | None = None) -> int:
    """Write every entry and its newline (``progress(1)`` after each); returns the number
    of entries written."""
    count = 0
    for raw in raws:
        out.write(raw)
        out.write(b"\n")
        count += 1
        if progress is not None:
            progress(1)
    return count


def read_bundle(stream: BinaryIO, name: str = "bundle") -> Iterator[bytes]:
    """Yield each entry's bytes (without the newline), streaming, with bounded memory.

    A line of more than 1 MiB (2^20 bytes, not counting its newline), or a final line
    without its newline, is an unreadable bundle (InputError, SPEC 8.1); anything else is
    left to the verifier to judge (an empty bundle included: R-7.18).
    """
    line_no = 0
    while True:
        line = stream.readline(_READ_LIMIT)
        if not line:
            return
        line_no += 1
        if not line.endswith(b"\n"):
            if len(line) >= _READ_LIMIT:
                raise InputError(f"{name}: line {line_no} is longer than {MAX_DOCUMENT_BYTES} bytes")
            raise InputError(f"{name}: line {line_no} does not end with a newline (truncated bundle?)")
        yield line[:-1]
