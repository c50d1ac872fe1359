"""ledger.core.canonical against the RFC 8785 vectors, rfc8785 (reference) and every rejection rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rfc8785
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ledger.core.canonical import (
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_SAFE_INTEGER,
    encode,
    parse,
    parse_canonical,
)
from ledger.errors import CanonicalError, LedgerError

FLOAT_FILES = {"values.json", "structures.json"}

from vector_files import vector_path


@pytest.fixture(scope="module")
def jcs_dir() -> Path:
    """The RFC 8785 vectors (tests/vectors/jcs). Missing vectors are a failure, never a skip."""
    jcs = vector_path("jcs")
    assert (jcs / "input").is_dir() and (jcs / "output").is_dir(), f"missing vectors at {jcs}"
    return jcs


def _jcs_names(jcs: Path) -> list[str]:
    names = sorted(p.name for p in (jcs / "input").glob("*.json"))
    assert names == sorted(p.name for p in (jcs / "output").glob("*.json"))
    return names


def test_jcs_vector_set_is_complete(jcs_dir: Path) -> None:
    names = _jcs_names(jcs_dir)
    assert set(names) == {
        "arrays.json",
        "french.json",
        "structures.json",
        "unicode.json",
        "values.json",
        "weird.json",
    }


def test_jcs_vectors_without_floats_canonicalize_byte_for_byte(jcs_dir: Path) -> None:
    checked = 0
    for name in _jcs_names(jcs_dir):
        if name in FLOAT_FILES:
            continue
        source = (jcs_dir / "input" / name).read_bytes()
        expected = (jcs_dir / "output" / name).read_bytes()
        value = parse(source)
        assert encode(value) == expected, name
        assert parse_canonical(expected) == value, name
        assert rfc8785.dumps(value) == expected, name  # the reference agrees
        if source != expected:
            with pytest.raises(CanonicalError, match="not canonical"):
                parse_canonical(source)
        checked += 1
    assert checked == 4


@pytest.mark.parametrize("name", sorted(FLOAT_FILES))
def test_jcs_vectors_with_floats_are_rejected(jcs_dir: Path, name: str) -> None:
    data = (jcs_dir / "input" / name).read_bytes()
    with pytest.raises(CanonicalError, match=r"^float .* not allowed \(decimals are strings\)$"):
        parse(data)
    with pytest.raises(CanonicalError, match=r"^float .* not allowed"):
        parse_canonical(data)


def test_jcs_float_outputs(jcs_dir: Path) -> None:
    # values.json still has floats after canonicalization: rejected.
    with pytest.raises(CanonicalError, match=r"^float 333333333\.3333333 not allowed"):
        parse_canonical((jcs_dir / "output" / "values.json").read_bytes())
    # structures.json's only float, 56.0, canonicalizes to the integer 56: in our model.
    expected = (jcs_dir / "output" / "structures.json").read_bytes()
    value = parse_canonical(expected)
    assert value["1"]["\n"] == 56 and type(value["1"]["\n"]) is int
    assert encode(value) == expected


# ----------------------------------------------------------------- properties vs rfc8785

# Characters chosen to hit the UTF-16 vs code point ordering difference.
_TRICKY = st.sampled_from(
    ["\ue000", "\uffff", "\ufb33", "\uff61", "\U00010000", "\U0001f602", "\U0010ffff",
     "\u20ac", "\u00f6", "\x7f", "\x00", "\x1f", '"', "\\", "/", "a", "A", "1", "\u2028"]
)
_CHAR = st.characters(blacklist_categories=("Cs",))
_TEXT = st.text(st.one_of(_TRICKY, _CHAR), max_size=8)
_KEYS = st.text(st.one_of(_TRICKY, _TRICKY, _CHAR), max_size=4)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    st.sampled_from([0, -1, 1, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 10**15, -(10**15)]),
    _TEXT,
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(_KEYS, children, max_size=6),
    ),
    max_leaves=40,
)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_VALUES)
def test_encode_matches_rfc8785_and_round_trips(value: object) -> None:
    assume(_depth(value) <= MAX_DEPTH)
    data = encode(value)
    assert data == rfc8785.dumps(value)
    assert parse_canonical(data) == value
    assert parse(data) == value


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_KEYS, st.integers(0, 9), min_size=2, max_size=12))
def test_key_order_is_utf16_code_units(value: dict[str, int]) -> None:
    data = encode(value)
    keys = list(parse_canonical(data))
    assert keys == sorted(value, key=lambda k: k.encode("utf-16-be"))
    assert data == rfc8785.dumps(value)


def test_utf16_order_differs_from_code_point_order() -> None:
    value = {"\ue000": 1, "\U0001f602": 2, "a": 3}
    assert encode(value) == '{"a":3,"\U0001f602":2,"\ue000":1}'.encode()
    # json.dumps(sort_keys=True) alone would get this wrong:
    assert json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() != encode(value)
    assert parse_canonical(encode(value)) == value
    with pytest.raises(CanonicalError, match="first difference at byte 8"):
        parse_canonical('{"a":3,"\ue000":1,"\U0001f602":2}'.encode())
    nested = {"x": [{"\U00010000": 0, "\uffff": 1}]}
    assert encode(nested) == rfc8785.dumps(nested)


def test_string_escaping() -> None:
    value = "\x00\x08\t\n\x0b\x0c\r\x1f \"\\/\x7f\u2028\u20ac\U0001f602"
    assert encode(value) == b'"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f \\"\\\\/\x7f\xe2\x80\xa8\xe2\x82\xac\xf0\x9f\x98\x82"'
    assert encode(value) == rfc8785.dumps(value)


def test_scalars_and_integers() -> None:
    assert encode(None) == b"null"
    assert encode(True) == b"true"
    assert encode(False) == b"false"
    assert encode(0) == b"0"
    assert encode(-MAX_SAFE_INTEGER) == b"-9007199254740991"
    assert encode(MAX_SAFE_INTEGER) == b"9007199254740991"
    assert encode({"b": [], "a": {}}) == b'{"a":{},"b":[]}'
    assert parse(b" \t\r\n[ 1 , -0 ]\n") == [1, 0]


def test_limits_constants() -> None:
    assert MAX_SAFE_INTEGER == 2**53 - 1
    assert MAX_DOCUMENT_BYTES == 1 << 20
    assert MAX_DEPTH == 32


# ----------------------------------------------------------------- encode rejections


def _nest(depth: int, leaf: object = 0, kind: str = "list") -> object:
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


class _Str(str):
    pass


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, r"^float 1\.5 not allowed \(decimals are strings\) at top level$"),
        ({"a": [0, {"b": 1.0}]}, r"^float 1\.0 not allowed \(decimals are strings\) at /a/1/b$"),
        (float("nan"), "float nan not allowed"),
        ([float("inf")], "float inf not allowed"),
        (2**53, r"^integer 9007199254740992 out of range ±\(2\*\*53-1\) at top level$"),
        ({"n": -(2**53)}, r"integer -9007199254740992 out of range .* at /n$"),
        ([10**400], "out of range"),
        ({1: "x"}, r"object key 1 is not a string \(int\)"),
        ({None: "x"}, "object key None is not a string"),
        ({("a",): 1}, "is not a string"),
        ({"a~/b": [(1, 2)]}, r"unsupported type tuple at /a~0~1b/0$"),
        ({"s": {1}}, "unsupported type set at /s"),
        (b"bytes", "unsupported type bytes"),
        (_Str("x"), "unsupported type _Str"),
        ("\ud800", r"lone surrogate \\ud800 in a string at top level"),
        (["ok", "a\udfffb"], r"lone surrogate \\udfff in a string at /1$"),
        ({"\udc00": 1}, r"lone surrogate \\udc00 in a string at /\\udc00"),
        ({"\U0001f602": 1, "\udc00": 2}, r"lone surrogate \\udc00"),
        (_nest(MAX_DEPTH + 1), "nesting deeper than 32"),
        (_nest(MAX_DEPTH + 1, kind="dict"), "nesting deeper than 32"),
    ],
)
def test_encode_rejects(value: object, message: str) -> None:
    with pytest.raises(CanonicalError, match=message) as info:
        encode(value)
    assert isinstance(info.value, LedgerError)


def test_encode_depth_limit_is_inclusive() -> None:
    assert encode(_nest(MAX_DEPTH)) == b"[" * 32 + b"0" + b"]" * 32
    assert encode(_nest(MAX_DEPTH, kind="dict")).count(b"{") == 32


def test_encode_rejects_cycles() -> None:
    cycle: list[object] = []
    cycle.append(cycle)
    with pytest.raises(CanonicalError, match="nesting deeper than 32"):
        encode(cycle)


# ----------------------------------------------------------------- parse rejections

PARSE_REJECTIONS = [
    # duplicate keys
    (b'{"body":1,"body":2}', r'^duplicate key "body" in object$'),
    (b'{"a":{"x":1,"y":2,"x":1}}', r'^duplicate key "x" in object$'),
    (b'{"\\u0062ody":1,"body":2}', 'duplicate key "body"'),
    # floats in every form
    (b"1.5", r"^float 1\.5 not allowed \(decimals are strings\)$"),
    (b"1.0", r"^float 1\.0 not allowed"),
    (b"[0.0]", r"^float 0\.0 not allowed"),
    (b"1e2", r"^float 1e2 not allowed"),
    (b"1E2", r"^float 1E2 not allowed"),
    (b"-1e-2", r"^float -1e-2 not allowed"),
    (b"1e+400", r"^float 1e\+400 not allowed"),
    (b'{"x":-0.0}', r"^float -0\.0 not allowed"),
    # non-numbers
    (b"NaN", r"^NaN not allowed"),
    (b"[Infinity]", r"^Infinity not allowed"),
    (b"[-Infinity]", r"^-Infinity not allowed"),
    # integers out of range
    (b"9007199254740992", r"^integer 9007199254740992 out of range ±\(2\*\*53-1\)$"),
    (b"-9007199254740992", r"^integer -9007199254740992 out of range"),
    (b"[100000000000000000000000000]", "out of range"),
    (b"1" * 5000, "out of range"),
    # lone surrogates
    (b'"\\ud800"', r"^lone surrogate escape \\ud800 at byte 1$"),
    (b'"ab\\uDBFF"', r"^lone surrogate escape \\uDBFF at byte 3$"),
    (b'"\\udc00"', r"^lone surrogate escape \\udc00 at byte 1$"),
    (b'"\\ud83d\\ud83d\\ude02"', r"^lone surrogate escape \\ud83d at byte 1$"),
    (b'"\\ude02\\ud83d"', r"lone surrogate escape \\ude02"),
    (b'"\\ud83dx"', r"lone surrogate escape"),
    (b'{"\\ud800":1}', r"lone surrogate escape \\ud800 at byte 2"),
    (b'["\\\\", "\\ud800"]', r"lone surrogate escape \\ud800 at byte 8"),
    # encoding
    (b"\xef\xbb\xbf{}", r"^byte order mark \(BOM\) at byte 0 not allowed$"),
    (b'"\xff"', r"^invalid UTF-8 at byte 1"),
    (b'"\xed\xa0\x80"', r"^invalid UTF-8 at byte 1"),  # a surrogate encoded in UTF-8
    (b'"\xc0\xaf"', r"^invalid UTF-8 at byte 1"),  # overlong
    ('"x"'.encode("utf-16"), "BOM|invalid UTF-8|invalid JSON"),
    # structure
    (b"[1] x", r"^invalid JSON at byte 4: Extra data$"),
    (b"{} {}", r"^invalid JSON at byte 3: Extra data$"),
    (b'{"a":1 "b":2}', r"^invalid JSON at byte 7: Expecting ',' delimiter$"),
    ('{"é":1 "b":2}'.encode(), r"^invalid JSON at byte 8: Expecting ',' delimiter$"),
    (b"[1,]", r"^invalid JSON at byte 3"),
    (b"{'a':1}", r"^invalid JSON at byte 1"),
    (b"01", r"^invalid JSON at byte 1: Extra data$"),
    (b"+1", r"^invalid JSON at byte 0"),
    (b'"a\x01"', r"^invalid JSON at byte 2: Invalid control character"),
    (b'"\\x41"', r"^invalid JSON at byte 1: Invalid \\escape"),
    (b"", r"^invalid JSON at byte 0"),
    (b"   ", r"^invalid JSON at byte 3"),
    (b"[" * 33 + b"]" * 33, r"^nesting deeper than 32$"),
    (b'{"a":' * 33 + b"0" + b"}" * 33, r"^nesting deeper than 32$"),
    (b"[" * 100000, r"^nesting deeper than 32$"),
]


@pytest.mark.parametrize(("data", "message"), PARSE_REJECTIONS)
def test_parse_rejects(data: bytes, message: str) -> None:
    with pytest.raises(CanonicalError, match=message):
        parse(data)
    with pytest.raises(CanonicalError, match=message):
        parse_canonical(data)


def test_parse_depth_limit() -> None:
    assert parse(b"[" * 32 + b"]" * 32) == _nest(31, [])
    # brackets inside strings do not count, even with escapes around them
    deep_string = b'["' + b"[{" * 100 + b'\\\\", "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]'
    assert len(parse(deep_string)) == 2
    assert parse(b"[" * 3 + b"]" * 3, max_depth=3) == [[[]]]
    with pytest.raises(CanonicalError, match="^nesting deeper than 2$"):
        parse(b"[[[]]]", max_depth=2)
    with pytest.raises(CanonicalError, match="nesting deeper than 32"):
        parse(b'[{"a":' * 17 + b"1" + b"}]" * 17)
    # wide but shallow is fine
    assert len(parse(b"[" + b",".join([b"[]"] * 1000) + b"]")) == 1000


def test_parse_size_limit_is_checked_first() -> None:
    big = b'"' + b"a" * (MAX_DOCUMENT_BYTES - 2) + b'"'
    assert len(parse(big)) == MAX_DOCUMENT_BYTES - 2
    too_big = b"[" * (MAX_DOCUMENT_BYTES + 1)  # would also be too deep: size is reported
    with pytest.raises(CanonicalError, match=r"^document is 1048577 bytes, more than the limit of 1048576$"):
        parse(too_big)
    with pytest.raises(CanonicalError, match="more than the limit of 10"):
        parse_canonical(b'"0123456789"', max_bytes=10)
    assert parse_canonical(b'"012345678"', max_bytes=11) == "012345678"


def test_parse_accepts_bytes_like_only() -> None:
    assert parse(bytearray(b"[1]")) == [1]
    assert parse_canonical(memoryview(b"[1]")) == [1]
    with pytest.raises(CanonicalError, match="expected bytes, got str"):
        parse("[1]")  # type: ignore[arg-type]


def test_parse_accepts_valid_surrogate_pairs_and_escapes() -> None:
    assert parse(b'"\\ud83d\\ude02"') == "\U0001f602"
    assert parse(b'"\\\\ud800"') == "\\ud800"  # an escaped backslash, not an escape
    assert parse(b'"\\u0041\\/"') == "A/"


# ----------------------------------------------------------------- non-canonical input

NON_CANONICAL = [
    (b'{"a":1 }', 6),  # whitespace
    (b' {"a":1}', 0),
    (b'{"a":1}\n', 7),  # trailing newline
    (b'{"a": 1}', 5),
    (b'[1, 2]', 3),
    (b'{"b":1,"a":2}', 2),  # key order
    (b'{"aa":1,"a":2}', 3),
    (b'"\\u0041"', 1),  # needless escape
    (b'"\\/"', 1),  # escaped solidus
    (b'"\\u00e9"', 1),  # non-ASCII must be literal
    (b'"\\u001F"', 6),  # uppercase hex
    (b'"\\u000a"', 2),  # \n has a short form
    (b'"\\ud83d\\ude02"', 1),  # non-BMP must be literal UTF-8
    (b"-0", 0),
    (b'{"a":1,"a":1}', 6),
]


@pytest.mark.parametrize(("data", "byte"), NON_CANONICAL)
def test_parse_canonical_rejects_non_canonical(data: bytes, byte: int) -> None:
    if data == b'{"a":1,"a":1}':
        with pytest.raises(CanonicalError, match='^duplicate key "a" in object$'):
            parse_canonical(data)
        return
    parse(data)  # valid, just not canonical
    with pytest.raises(CanonicalError, match=rf"^not canonical RFC 8785 JSON: first difference at byte {byte}$"):
        parse_canonical(data)


def test_parse_canonical_returns_value() -> None:
    data = '{"":"empty","a":[true,false,null,-5,"\\u001f\\n€"],"b":{}}'.encode()
    assert parse_canonical(data) == {"": "empty", "a": [True, False, None, -5, "\x1f\n€"], "b": {}}


# ----------------------------------------------------------------- the orjson accept path
# parse_canonical first tries an orjson round trip (canonical._orjson_canonical), which only
# ever accepts; these tests pin why that is exact (SPEC.md 2.4, docs/decisions/0001).

from ledger.core import canonical as _canonical  # noqa: E402


def _stdlib_canonical(data: bytes) -> object:
    """parse_canonical without the orjson path: the reference answer."""
    data, text = _canonical._precheck(data, MAX_DOCUMENT_BYTES, MAX_DEPTH)
    value = _canonical._parse_text(text, MAX_DEPTH)
    if _canonical._serialize(value, None) != data:
        raise CanonicalError("not canonical")
    return value


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_VALUES)
def test_orjson_path_accepts_only_rfc8785_bytes(value: object) -> None:
    assume(_depth(value) <= MAX_DEPTH)
    for candidate in ({"k": value}, [value]):
        data = rfc8785.dumps(candidate)
        fast = _canonical._orjson_canonical(data, MAX_DOCUMENT_BYTES, MAX_DEPTH)
        if fast is not None:
            assert fast == candidate and type(fast) is type(candidate)
        # orjson's sorted encoding is the RFC 8785 encoding whenever the path may accept
        if not data.isascii() and data.translate(None, _canonical._KEY_ORDER_DELETE):
            continue
        import orjson

        assert orjson.dumps(candidate, option=_canonical._ORJSON_OPTIONS) == data


def _mangled(value: object, cut: int | None, junk: bytes) -> bytes:
    if cut is None:
        return rfc8785.dumps({"a": value})
    return rfc8785.dumps([value])[:cut] + junk


_JUNK = st.sampled_from([b"", b"]", b"}", b",1]", b".5]", b"e5]", b'"', b"\\", b",1,1]"])
_JSONISH = st.binary(max_size=40) | st.builds(_mangled, _VALUES, st.none() | st.integers(0, 30), _JUNK)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_JSONISH)
def test_orjson_path_never_accepts_what_the_stdlib_path_rejects(data: bytes) -> None:
    fast = _canonical._orjson_canonical(data, MAX_DOCUMENT_BYTES, MAX_DEPTH)
    if fast is None:
        return
    assert _stdlib_canonical(data) == fast


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1.5}', b'{"a":1e+16}', b'{"a":-1e-7}', b'[0.0]', b'{"a":[1,2.5]}', b'{"a":-0.0}',
        b'{"a":9007199254740992}', b'{"a":-9007199254740992}', b'[18446744073709551616]',
        b'{"a":1,"a":1}', b'"x"', b"1", b'{"\xee\x80\x80":1,"\xf0\x9f\x98\x82":2}', b"[" * 33 + b"]" * 33,
        b'{"a":"\\ud800"}', b'\xef\xbb\xbf{}', b'{"a": 1}',
    ],
)
def test_orjson_path_declines_outside_the_model(data: bytes) -> None:
    assert _canonical._orjson_canonical(data, MAX_DOCUMENT_BYTES, MAX_DEPTH) is None


def test_orjson_path_takes_typical_documents_and_depth_32() -> None:
    doc = {"a": [1, -2, 9007199254740991, -9007199254740991, True, None], "b": {"c": "é\u2028\x7f\x1f\"\\"}}
    data = encode(doc)
    assert _canonical._orjson_canonical(data, MAX_DOCUMENT_BYTES, MAX_DEPTH) == doc
    deep = encode(_nest(MAX_DEPTH))
    assert _canonical._orjson_canonical(deep, MAX_DOCUMENT_BYTES, MAX_DEPTH) == _nest(MAX_DEPTH)
    assert _canonical._orjson_canonical(encode(_nest(MAX_DEPTH, kind="dict")), MAX_DOCUMENT_BYTES, MAX_DEPTH) is not None
    assert _canonical._orjson_canonical(data, len(data) - 1, MAX_DEPTH) is None  # size limit


@settings(max_examples=2000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_orjson_writes_every_float_with_a_fraction_or_an_exponent(x: float) -> None:
    # The float check of the orjson path (digits and "-" deleted, "." or "e" after ":" "," "[")
    # relies on this.
    import orjson

    out = orjson.dumps([x]).translate(_canonical._NUMBER_SHAPE, _canonical._NUMBER_DELETE)
    assert b":." in out or b":e" in out
