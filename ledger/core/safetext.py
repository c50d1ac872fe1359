"""Ledger text made safe to show: control and invisible format characters escaped.

Ledger data is written by signers the reader does not control. A justification or an
incident note that carries escape sequences could erase or rewrite the lines around it on a
terminal (a forged "OK:" line), and bidi overrides reorder what a browser shows. So every
human-readable line of the CLI (``cli._terminal.say``) and every text of the HTML report
(``ledger.people.report_html``) goes through ``clean`` (SPEC.md 8.3). Escaped, as Python-style
``\\xNN``/``\\uNNNN``/``\\UNNNNNNNN``:

* every character of Unicode category Cc: the C0 controls U+0000-U+001F (newline, carriage
  return, tab and ESC included: a line of data stays one line), DEL U+007F and the C1
  controls U+0080-U+009F (U+009B is a one-byte CSI on some terminals);
* category Cf, the invisible format characters: the bidi embeddings, overrides and isolates
  (U+202A-U+202E, U+2066-U+2069, the "Trojan Source" characters), the marks U+200E, U+200F,
  U+061C, the zero-width characters U+200B-U+200D, U+2060-U+2064 and U+FEFF, soft hyphen;
* categories Zl and Zp (U+2028, U+2029, which some viewers treat as line breaks) and Cs
  (lone surrogates, which cannot be encoded).

Everything else, accented letters and other scripts included, is printed as it is. The
backslash is not escaped: the aim is a terminal that shows the data without obeying it, not
a reversible encoding (``--json`` gives the exact data).
"""

from __future__ import annotations

import unicodedata

__all__ = ["clean"]

_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def clean(text: object) -> str:
    """``text`` with every control and invisible format character escaped (module docstring)."""
    text = str(text)
    if text.isprintable() and text.isascii():  # the common case, fast
        return text
    return "".join(_escape(ch) if unicodedata.category(ch) in _ESCAPED_CATEGORIES else ch for ch in text)
