"""Text rules of the scoring process: blank text and organization names (SPEC.md 10.2, 11.2).

Defined by code points, not by a library's notion of whitespace (Python's ``str.isspace``
and ``str.strip`` also take U+001C..U+001F, which are not Unicode whitespace), so that an
implementation in another language gets the same answers.
"""

from __future__ import annotations

import re
import unicodedata

#: The Unicode ``White_Space`` property (PropList.txt; unchanged since Unicode 6.3): 25 code points.
WHITESPACE = frozenset(
    "\u0009\u000a\u000b\u000c\u000d\u0020\u0085\u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_RUNS = re.compile("[" + "".join(sorted(WHITESPACE)) + "]+")


def is_blank(text: str | None) -> bool:
    """True when ``text`` is None, empty, or only :data:`WHITESPACE` code points (SPEC.md 1)."""
    return text is None or all(c in WHITESPACE for c in text)


def name_key(name: str) -> str:
    """The form in which two organization names are compared (SPEC.md 10.2, R-10.14):
    NFKC, then full Unicode case folding, then NFKC again; every maximal run of
    :data:`WHITESPACE` becomes one U+0020; leading and trailing U+0020 are removed."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return _RUNS.sub(" ", folded).strip(" ")
