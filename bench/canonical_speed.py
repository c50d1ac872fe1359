"""Microbenchmark of ledger.core.canonical on a realistic ~1 KB nested entry.

Run: python bench/canonical_speed.py   (prints microseconds per operation)
"""

from __future__ import annotations

import json
import timeit

import rfc8785

import orjson

from ledger.core.canonical import (
    _SORTED_ENCODER,
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    _orjson_canonical,
    _precheck,
    encode,
    parse,
    parse_canonical,
)


def _stdlib_round_trip(data: bytes) -> bool:
    """parse_canonical's former first path: stdlib decode, encode, compare."""
    data, text = _precheck(data, MAX_DOCUMENT_BYTES, MAX_DEPTH)
    return _SORTED_ENCODER.encode(json.loads(text)).encode("utf-8") == data

DOCUMENT = {
    "seq": 18234,
    "prev": "3f9c1e0b7a5d44c2a1e8b6f0d9c7a5e3b1f9d7c5a3e1f0b8d6c4a2e0f8d6c4a2",
    "recorded_at": "2026-03-14T09:26:53Z",
    "statement": {
        "type": "incident",
        "version": 1,
        "ledger_id": "mx-dto-2026",
        "nonce": "b1946ac92492d2347c6235b4d2611184",
        "body": {
            "incident_id": "inc-2026-000812",
            "occurred_on": "2026-03-11",
            "location": {"state": "Michoacán", "municipality": "Uruapan", "geo": ["19.4204", "-102.0628"]},
            "killings": 3,
            "victims": [
                {"role": "police", "count": 2},
                {"role": "journalist", "count": 1},
            ],
            "acts": ["kidnapping", "threat"],
            "attribution": {
                "organization": "org-0007",
                "confidence": "0.75",
                "basis": "claimed in a banner; corroborated by two independent outlets",
            },
            "sources": [
                {"kind": "press", "ref": "https://example.org/nota/812", "sha256": "9b74c9897bac770ffc029102a200c5de"},
                {"kind": "official", "ref": "FGE-MICH/2026/0331", "sha256": None},
            ],
            "disputed": False,
        },
    },
    "signatures": [
        {
            "key_id": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "sig": "5VZDAMNgrHKQhuLMgG6CioSHfx645dl02HPgZSJJAVVfuIIVkKM7rMYeOXAc+bRr0lv18Flbe+RlUUFDjnoQCw==",
        }
    ],
}


def per_op_us(fn, number: int) -> float:
    best = min(timeit.repeat(fn, number=number, repeat=5))
    return best / number * 1e6


def main() -> None:
    data = encode(DOCUMENT)
    assert data == rfc8785.dumps(DOCUMENT)
    pretty = json.dumps(DOCUMENT, indent=2).encode()
    n = 20000
    print(f"document: {len(data)} bytes canonical")
    print(f"encode(doc)                    {per_op_us(lambda: encode(DOCUMENT), n):7.2f} us/op")
    print(f"parse(canonical bytes)         {per_op_us(lambda: parse(data), n):7.2f} us/op")
    print(f"parse_canonical(bytes)         {per_op_us(lambda: parse_canonical(data), n):7.2f} us/op")
    assert _orjson_canonical(data, MAX_DOCUMENT_BYTES, MAX_DEPTH) == DOCUMENT  # the orjson path decides
    print(f"  stdlib path only (reference) {per_op_us(lambda: _stdlib_round_trip(data), n):7.2f} us/op")
    print(f"  orjson loads + dumps only    {per_op_us(lambda: orjson.dumps(orjson.loads(data), option=orjson.OPT_SORT_KEYS), n):7.2f} us/op")
    print(f"parse(indented bytes)          {per_op_us(lambda: parse(pretty), n):7.2f} us/op")
    print(f"rfc8785.dumps(doc)             {per_op_us(lambda: rfc8785.dumps(DOCUMENT), n // 4):7.2f} us/op")
    print(f"json.loads + rfc8785.dumps     {per_op_us(lambda: rfc8785.dumps(json.loads(data)), n // 4):7.2f} us/op")
    print(f"baseline json.loads(bytes)     {per_op_us(lambda: json.loads(data), n):7.2f} us/op")


if __name__ == "__main__":
    main()
