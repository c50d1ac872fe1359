"""HTML escaping for the reports: the one place every string from the ledger passes through."""

from __future__ import annotations

import html
from typing import Any

from ..core.safetext import clean


def esc(value: Any) -> str:
    """HTML-escape anything (quotes too, so it is safe in attribute values), after escaping
    control and bidi/format characters as text (``ledger.core.safetext``, SPEC.md 8.3)."""
    return html.escape("" if value is None else clean(value), quote=True)
