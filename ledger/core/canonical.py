"""Strict RFC 8785 (JCS) canonical JSON for the ledger's restricted data model.

Data model
----------
A value is one of: ``dict`` (exactly ``dict``, keys exactly ``str``), ``list`` (exactly
``list``), ``str``, ``int`` (exactly ``int``, in ``[-(2**53-1), 2**53-1]``), ``bool`` or
``None``. There are no floating-point numbers anywhere: decimals are strings. Strings and keys
are sequences of Unicode scalar values (no lone surrogates). Containers nest at most
:data:`MAX_DEPTH` deep (the outermost array or object is at depth 1). A serialized document
is at most :data:`MAX_DOCUMENT_BYTES` bytes when parsed.

Why the standard library's C encoder is exact RFC 8785 here
-----------------------------------------------------------
:func:`encode` uses ``json`` with ``ensure_ascii=False, separators=(",", ":"),
sort_keys=True, allow_nan=False`` (the C encoder) after a validation pass. On the data model
above this produces the RFC 8785 bytes, rule by rule:

* Whitespace: none is emitted; separators are exactly ``,`` and ``:`` (RFC 8785 3.2.1).
* Literals: ``true``, ``false``, ``null`` (3.2.2.1).
* Numbers: RFC 8785 3.2.2.3 serializes with ECMAScript ``Number.prototype.toString``. For an
  integer ``n`` with ``|n| <= 2**53-1`` that is the shortest decimal form: optional ``-``,
  digits, no leading zeros, no exponent (ECMAScript switches to exponents only from 1e21).
  ``int.__repr__`` gives the same digits; ``-0`` cannot occur because ``int`` has no
  negative zero. Floats are rejected by the validation pass *before* the encoder runs, and
  out-of-range integers too, so the encoder never sees a value where Python and ECMAScript
  differ.
* Strings (3.2.2.2): JCS escapes ``"`` as ``\\"``, ``\\`` as ``\\\\``, U+0008, U+0009, U+000A,
  U+000C, U+000D as ``\\b \\t \\n \\f \\r``, every other U+0000..U+001F as ``\\u00xx`` with
  lowercase hex, and emits every other character literally (including ``/``, U+007F,
  U+2028/U+2029 and non-ASCII). With ``ensure_ascii=False`` the C function
  ``encode_basestring`` does exactly this (its escape set is ``[\\x00-\\x1f\\\\"]``, with the
  same five short escapes and ``\\u%04x`` otherwise). The output is then encoded as UTF-8
  with ``errors="strict"``, which fails on any lone surrogate, so such strings are rejected
  instead of being written as invalid UTF-8 or as ``\\udXXX`` escapes.
* Object member order (3.2.3): JCS sorts keys by their UTF-16 code units; ``sort_keys=True``
  sorts by Unicode code points (the C encoder sorts the ``(key, value)`` items; keys are
  unique so values are never compared). Let two different keys share a prefix and first
  differ at code points ``a`` and ``b`` (a proper prefix sorts first in both orders). If
  both are in the BMP, their single code units compare as the code points do. If both are
  supplementary, their lead surrogates, then their trail surrogates, are monotonic in the
  code point, so again the orders agree. If ``a`` is in the BMP and ``b`` is supplementary
  (code point order: ``a < b``), UTF-16 compares ``a`` with ``b``'s lead surrogate in
  U+D800..U+DBFF: ``a < U+D800`` keeps ``a < b``; ``a`` cannot be a surrogate (lone
  surrogates are rejected); ``a >= U+E000`` reverses the order. Hence the two orders differ
  only when some object has a key containing a supplementary character. :func:`encode`
  detects that case (conservatively: any supplementary character in any key, or, on the
  trusted path, anywhere in the output) and then re-serializes with objects rebuilt in
  UTF-16 order (``key.encode("utf-16-be")`` compares bytewise exactly as the code units
  compare) and ``sort_keys=False``, which keeps insertion order.
* Encoding: UTF-8, no BOM (3.2.4). Python dicts cannot hold duplicate keys.

Parsing
-------
:func:`parse` uses the C scanner of ``json`` with hooks: ``parse_float`` rejects every number
with a fraction or an exponent, ``parse_constant`` rejects ``NaN``/``Infinity``/
``-Infinity``, ``parse_int`` range-checks integers, ``object_pairs_hook`` rejects duplicate
keys. Size, BOM, UTF-8 validity, nesting depth (a bracket pre-scan that skips string
contents) and lone surrogate escapes are checked on the input text. :func:`parse_canonical`
additionally requires the input to be byte-for-byte the canonical encoding of what it parsed.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

import orjson

from ..errors import CanonicalError
from . import fastpaths

__all__ = [
    "MAX_SAFE_INTEGER",
    "MAX_DOCUMENT_BYTES",
    "MAX_DEPTH",
    "encode",
    "parse",
    "parse_canonical",
]

MAX_SAFE_INTEGER = 2**53 - 1
MAX_DOCUMENT_BYTES = 1 << 20
MAX_DEPTH = 32

# Longest decimal form of an in-range integer: "-9007199254740991" (17 characters).
_MAX_INT_CHARS = len(str(-MAX_SAFE_INTEGER))

_SORTED_ENCODER = json.JSONEncoder(
    ensure_ascii=False,
    separators=(",", ":"),
    sort_keys=True,
    allow_nan=False,
    check_circular=False,  # cycles are impossible: depth is bounded before encoding
)
_UNSORTED_ENCODER = json.JSONEncoder(
    ensure_ascii=False,
    separators=(",", ":"),
    sort_keys=False,
    allow_nan=False,
    check_circular=False,
)

# Keeps only the four brackets of ASCII text (non-ASCII characters pass through).
_KEEP_BRACKETS = {c: None for c in range(128) if chr(c) not in "[]{}"}
_BRACKET_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}
# Pre-filter: an escape that may denote a surrogate (maybe preceded by an escaped backslash).
_SURROGATE_ESCAPE_HINT = re.compile(r"\\u[dD][89a-fA-F]")
# Tokenizes escapes left to right: a valid pair, a lone high, a lone low, any other escape.
_ESCAPE_TOKEN = re.compile(
    r"\\(?:(u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(u[dD][89abAB][0-9a-fA-F]{2})"
    r"|(u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|.)",
    re.DOTALL,
)
_UTF8_BOM = b"\xef\xbb\xbf"


class _Invalid(Exception):
    """Internal: a value outside the data model; ``path`` is built while unwinding."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str] = []

    def to_error(self) -> CanonicalError:
        if not self.path:
            return CanonicalError(f"{self.message} at top level")
        pointer = "".join(
            "/" + seg.replace("~", "~0").replace("/", "~1") for seg in reversed(self.path)
        )
        # Keys may hold anything, even lone surrogates: keep the message printable.
        pointer = pointer.encode("utf-8", "backslashreplace").decode("utf-8")
        return CanonicalError(f"{self.message} at {pointer}")


# --------------------------------------------------------------------------- encoding


def _has_supplementary(text: str) -> bool:
    """True if ``text`` holds a character outside the BMP (two UTF-16 code units)."""
    if text.isascii():
        return False
    return len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text)


def _describe_type(value: object) -> str:
    return type(value).__qualname__


def _check_scalar(value: object) -> None:
    """Raise _Invalid for anything that is not an allowed scalar (containers excluded)."""
    t = type(value)
    if t is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:  # type: ignore[operator]
            return
        raise _Invalid(f"integer {_short_int(value)} out of range ±(2**53-1)")  # type: ignore[arg-type]
    if t is float:
        raise _Invalid(f"float {value!r} not allowed (decimals are strings)")
    if t is str or t is bool or value is None:
        return
    raise _Invalid(f"unsupported type {_describe_type(value)}")


def _short_int(value: int) -> str:
    digits = str(value) if value.bit_length() < 1000 else f"{'-' if value < 0 else ''}<{value.bit_length()} bits>"
    return digits if len(digits) <= 40 else digits[:20] + "..." + digits[-8:]


def _validate(value: Any, depth: int) -> bool:
    """Validate ``value`` (a container at nesting ``depth``) and its members.

    Returns True when some object key contains a supplementary character, i.e. when
    ``sort_keys`` order may differ from RFC 8785 order. Raises _Invalid.
    """
    t = type(value)
    if t is dict:
        if depth > MAX_DEPTH:
            raise _Invalid(f"nesting deeper than {MAX_DEPTH}")
        resort = False
        for key, member in value.items():
            if type(key) is not str:
                raise _Invalid(f"object key {key!r} is not a string ({_describe_type(key)})")
            if not key.isascii() and _has_supplementary(key):
                resort = True
            mt = type(member)
            if mt is str or mt is bool or member is None:
                continue
            try:
                if mt is dict or mt is list:
                    resort = _validate(member, depth + 1) or resort
                else:
                    _check_scalar(member)
            except _Invalid as exc:
                exc.path.append(key)
                raise
        return resort
    if t is list:
        if depth > MAX_DEPTH:
            raise _Invalid(f"nesting deeper than {MAX_DEPTH}")
        resort = False
        for index, member in enumerate(value):
            mt = type(member)
            if mt is str or mt is bool or member is None:
                continue
            try:
                if mt is dict or mt is list:
                    resort = _validate(member, depth + 1) or resort
                else:
                    _check_scalar(member)
            except _Invalid as exc:
                exc.path.append(str(index))
                raise
        return resort
    _check_scalar(value)
    return False


def _utf16_key(item: tuple[str, Any]) -> bytes:
    return item[0].encode("utf-16-be")


def _utf16_ordered(value: Any) -> Any:
    """Copy of a validated value with every object's members in RFC 8785 (UTF-16) order."""
    t = type(value)
    if t is dict:
        return {k: _utf16_ordered(v) for k, v in sorted(value.items(), key=_utf16_key)}
    if t is list:
        return [_utf16_ordered(v) for v in value]
    return value


def _find_lone_surrogate(value: Any, path: list[str]) -> tuple[str, list[str]] | None:
    """Locate the first string or key holding a lone surrogate (error path only)."""
    t = type(value)
    if t is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return value[exc.start], path
        return None
    if t is dict:
        for k, v in value.items():
            found = _find_lone_surrogate(k, path + [k])
            if found is not None:
                return found[0], path + [k]
            found = _find_lone_surrogate(v, path + [k])
            if found is not None:
                return found
    elif t is list:
        for i, v in enumerate(value):
            found = _find_lone_surrogate(v, path + [str(i)])
            if found is not None:
                return found
    return None


def _serialize(value: Any, resort: bool | None) -> bytes:
    """Serialize a value already known to be inside the data model (except surrogates).

    ``resort`` None means "unknown": decide from the output text.
    """
    text = _SORTED_ENCODER.encode(value)
    if resort is None:
        resort = _has_supplementary(text)
    if resort:
        text = _UNSORTED_ENCODER.encode(_utf16_ordered_checked(value))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        found = _find_lone_surrogate(value, [])
        if found is None:  # pragma: no cover - the encoder only emits what it was given
            raise CanonicalError("lone surrogate in a string") from None
        char, path = found
        err = _Invalid(f"lone surrogate \\u{ord(char):04x} in a string")
        err.path = list(reversed(path))
        raise err.to_error() from None


def _utf16_ordered_checked(value: Any) -> Any:
    try:
        return _utf16_ordered(value)
    except UnicodeEncodeError:  # a key with a lone surrogate cannot be put in UTF-16 order
        found = _find_lone_surrogate(value, [])
        if found is None:  # pragma: no cover
            raise CanonicalError("lone surrogate in an object key") from None
        char, path = found
        err = _Invalid(f"lone surrogate \\u{ord(char):04x} in a string")
        err.path = list(reversed(path))
        raise err.to_error() from None


def encode(obj: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``obj``.

    Raises :class:`CanonicalError` (naming the JSON Pointer of the offending value) for
    floats, integers outside ±(2**53-1), non-``str`` keys, lone surrogates in strings or keys,
    types outside the data model (including tuples, sets, subclasses of the allowed types)
    and nesting deeper than :data:`MAX_DEPTH`.
    """
    try:
        resort = _validate(obj, 1)
    except _Invalid as exc:
        raise exc.to_error() from None
    return _serialize(obj, resort)


# --------------------------------------------------------------------------- parsing


def _reject_float(token: str) -> Any:
    shown = token if len(token) <= 40 else token[:37] + "..."
    raise _Invalid(f"float {shown} not allowed (decimals are strings)")


def _reject_constant(token: str) -> Any:
    raise _Invalid(f"{token} not allowed (not JSON; decimals are strings)")


def _parse_int(token: str) -> int:
    if len(token) <= _MAX_INT_CHARS:
        value = int(token)
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
    shown = token if len(token) <= 40 else token[:20] + "..." + token[-8:]
    raise _Invalid(f"integer {shown} out of range ±(2**53-1)")


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Invalid(f"duplicate key {json.dumps(key)} in object")
            seen.add(key)
    return obj


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object_pairs,
    parse_float=_reject_float,
    parse_int=_parse_int,
    parse_constant=_reject_constant,
    strict=True,  # raw control characters inside strings are invalid JSON
)


def _byte_offset(text: str, char_index: int) -> int:
    return len(text[:char_index].encode("utf-8", "surrogatepass"))


def _nesting_depth_exceeds(text: str, max_depth: int) -> bool:
    """Bracket pre-scan: is the nesting of arrays and objects deeper than ``max_depth``?

    Exact for valid JSON (invalid JSON is rejected by the parser anyway). String contents
    are skipped without a regular expression: runs of backslashes are escape pairs from the
    left, so removing every ``\\\\`` and then every ``\\"`` leaves a '"' exactly at each
    string delimiter, and the even-numbered pieces of a split on '"' are the text outside
    strings.
    """
    # Brackets inside strings only over-count, so few brackets means shallow enough.
    if text.count("[") + text.count("{") <= max_depth:
        return False
    outside = text
    if '"' in outside:
        if "\\" in outside:
            outside = outside.replace("\\\\", "").replace('\\"', "")
        outside = "".join(outside.split('"')[::2])
    brackets = outside.translate(_KEEP_BRACKETS)
    if brackets.count("[") + brackets.count("{") <= max_depth:
        return False
    try:
        return max(accumulate(map(_BRACKET_DELTA.__getitem__, brackets))) > max_depth
    except KeyError:  # non-ASCII outside strings: invalid JSON, left to the parser
        return False


def _check_surrogate_escapes(text: str) -> None:
    if _SURROGATE_ESCAPE_HINT.search(text) is None:
        return
    for match in _ESCAPE_TOKEN.finditer(text):
        lone = match.group(2) or match.group(3)
        if lone:
            raise CanonicalError(
                f"lone surrogate escape \\{lone} at byte {_byte_offset(text, match.start())}"
            )


def _precheck(data: bytes, max_bytes: int, max_depth: int) -> tuple[bytes, str]:
    """Checks done on the raw input before the JSON scanner runs; returns (bytes, text)."""
    if type(data) is not bytes:
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        else:
            raise CanonicalError(f"expected bytes, got {_describe_type(data)}")
    if len(data) > max_bytes:
        raise CanonicalError(f"document is {len(data)} bytes, more than the limit of {max_bytes}")
    if data.startswith(_UTF8_BOM):
        raise CanonicalError("byte order mark (BOM) at byte 0 not allowed")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalError(f"invalid UTF-8 at byte {exc.start}: {exc.reason}") from None
    if _nesting_depth_exceeds(text, max_depth):
        raise CanonicalError(f"nesting deeper than {max_depth}")
    return data, text


def _parse_text(text: str, max_depth: int) -> Any:
    try:
        value = _DECODER.decode(text)
    except _Invalid as exc:
        raise CanonicalError(exc.message) from None
    except json.JSONDecodeError as exc:
        raise CanonicalError(
            f"invalid JSON at byte {_byte_offset(text, exc.pos)}: {exc.msg}"
        ) from None
    except RecursionError:  # pragma: no cover - the depth pre-scan comes first
        raise CanonicalError(f"nesting deeper than {max_depth}") from None
    except ValueError as exc:  # pragma: no cover - defensive: any other decoder complaint
        raise CanonicalError(f"invalid JSON: {exc}") from None
    _check_surrogate_escapes(text)
    return value


def parse(data: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse strict JSON of the ledger's data model from UTF-8 ``data``.

    Rejects (with :class:`CanonicalError`): non-bytes input, more than ``max_bytes`` bytes
    (checked before anything else), a UTF-8 BOM, invalid UTF-8, invalid JSON or trailing
    data, duplicate object keys, numbers with a fraction or an exponent, ``NaN``/
    ``Infinity``/``-Infinity``, integers outside ±(2**53-1), lone surrogate escapes and
    nesting deeper than ``max_depth``. Insignificant whitespace, ``-0`` and redundant escapes
    are accepted here; :func:`parse_canonical` rejects them.
    """
    _, text = _precheck(data, max_bytes, max_depth)
    return _parse_text(text, max_depth)


# Fast path of parse_canonical (ledger.core.fastpaths): an orjson round trip (C; much
# cheaper than the reference parse with its hooks and the re-encoding). It only ever
# *accepts*; anything it does not accept goes through the reference path, which gives the
# same value or words the error. Why accepting is exact
# (SPEC.md 2.4, docs/decisions/0001): ``data`` must be byte-for-byte
# ``orjson.dumps(orjson.loads(data), OPT_SORT_KEYS | OPT_STRICT_INTEGER)``, and on the data
# model orjson.dumps with sorted keys writes exactly the RFC 8785 bytes (the escapes and
# literal characters listed in the module docstring are the ones orjson writes; it refuses
# lone surrogates and non-str keys), so ``data`` is the canonical encoding of its value,
# which the stdlib parser parses to the same value. What orjson admits beyond the data
# model is refused first:
# * integers beyond +-(2**53-1): OPT_STRICT_INTEGER makes dumps raise on them;
# * floats: a float in the value is a number token of ``data`` (data == dumps(value)) that
#   orjson writes with a fraction or an exponent, so with its digits and minus signs
#   deleted it reads "." or "e" right after one of ":" "," "[" (the bytes that precede a
#   value inside a container); a top-level scalar is refused outright;
# * nesting deeper than ``max_depth``: the stdlib path's bracket count and pre-scan;
# * key order: orjson sorts by code point, RFC 8785 by UTF-16 code unit; they agree unless
#   a key holds a character from U+E000 up, whose UTF-8 lead byte is EE..F4, so a document
#   with any such byte is left to the stdlib path (which re-sorts by UTF-16).
# Duplicate keys cannot pass: the round trip keeps one member per key. The float and key
# checks look at all bytes, strings included; a match in a string only costs the slow path.
_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
# ":" "," "[" -> ":", "E" -> "e"; digits and "-" deleted.
_NUMBER_SHAPE = bytes.maketrans(b",[E", b"::e")
_NUMBER_DELETE = b"0123456789-"
_KEY_ORDER_DELETE = bytes(b for b in range(256) if not 0xEE <= b <= 0xF4)


def _orjson_canonical(data: Any, max_bytes: int, max_depth: int) -> Any:
    """The value of ``data`` if the orjson round trip proves it canonical, else None."""
    if type(data) is not bytes or len(data) > max_bytes or data[:1] not in (b"{", b"["):
        return None
    shape = data.translate(_NUMBER_SHAPE, _NUMBER_DELETE)
    if b":." in shape or b":e" in shape:
        return None
    if not data.isascii() and data.translate(None, _KEY_ORDER_DELETE):
        return None
    if data.count(b"[") + data.count(b"{") > max_depth and _nesting_depth_exceeds(
        data.decode("utf-8", "replace"), max_depth
    ):
        return None
    try:
        value = orjson.loads(data)
        if orjson.dumps(value, option=_ORJSON_OPTIONS) == data:
            return value
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        pass
    return None


def parse_canonical(
    data: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES, max_depth: int = MAX_DEPTH
) -> Any:
    """Parse like :func:`parse`, then require ``data`` to be exactly ``encode(value)``.

    The orjson round trip may accept first (a fast path, ``ledger.core.fastpaths``); the
    reference path parses with :func:`parse`'s checks, so that an error names the first
    rule broken; only if it passes them all is the error
    ``not canonical RFC 8785 JSON: first difference at byte N``.
    """
    if fastpaths.ENABLED:
        value = _orjson_canonical(data, max_bytes, max_depth)
        if value is not None:
            return value
    data, text = _precheck(data, max_bytes, max_depth)
    value = _parse_text(text, max_depth)
    canonical = _serialize(value, None)
    if canonical != data:
        n = min(len(canonical), len(data))
        first = next((i for i in range(n) if canonical[i] != data[i]), n)
        raise CanonicalError(f"not canonical RFC 8785 JSON: first difference at byte {first}")
    return value
