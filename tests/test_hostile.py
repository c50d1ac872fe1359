"""Hostile input: fuzzing the bundle reader, statement intake, canonical parser and verifier.

Property: whatever the bytes, the library raises only :class:`LedgerError` subclasses (or
reports violations), in bounded time and memory; the CLI never prints a traceback and
exits 1 or 2 with a one-line message. Interesting inputs are kept under
``tests/regressions/`` and replayed by :func:`test_regression_inputs`.
"""

from __future__ import annotations

import io
import json
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core_fixtures import run_ledger, standard_chain
from ledger.core import canonical
from ledger.app.audit import verify_path
from ledger.storage.bundle import read_bundle
from ledger.errors import LedgerError
from ledger.core.statement_file import StatementFile
from ledger.scoring.process import new_verifier

REGRESSIONS = Path(__file__).resolve().parent / "regressions"
CHAIN = standard_chain("hostile")
RAWS = list(CHAIN.raws)
STATEMENT_FILE = StatementFile(CHAIN.items[1][0])
for _key in ("recorder-1",):
    STATEMENT_FILE.sign(CHAIN.keys[_key])
STATEMENT_BYTES = STATEMENT_FILE.to_bytes()


def _mutations() -> st.SearchStrategy[bytes]:
    """Byte-level mutations of real entries: flips, cuts, insertions, splices, repeats."""

    def mutate(raw: bytes, ops: list[tuple[int, int, int, bytes]]) -> bytes:
        data = bytearray(raw)
        for kind, a, b, extra in ops:
            if not data:
                data = bytearray(extra)
                continue
            i, j = a % len(data), b % (len(data) + 1)
            if kind == 0:
                data[i] ^= 1 << (b % 8)
            elif kind == 1:
                del data[i:max(i, j)]
            elif kind == 2:
                data[i:i] = extra
            elif kind == 3:
                data[i:i + len(extra)] = extra
            else:
                data[i:j] = bytes(data[i:j]) * 2
        return bytes(data)

    tokens = st.sampled_from([b"{", b"}", b"[", b"]", b'"', b"\\", b",", b":", b"1e5", b"1.0", b"-0", b"\\ud800",
                              b"\\u0000", b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"NaN", b" ", b"\n", b"null",
                              b'"statement":{}', b'"seq":9007199254740993', b"\xef\xbb\xbf"])
    op = st.tuples(st.integers(0, 4), st.integers(0, 10**6), st.integers(0, 10**6),
                   st.one_of(tokens, st.binary(max_size=8)))
    return st.builds(mutate, st.sampled_from(RAWS), st.lists(op, min_size=1, max_size=4))


HOSTILE_BYTES = st.one_of(_mutations(), st.binary(max_size=300))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HOSTILE_BYTES)
def test_canonical_parse_raises_only_canonical_errors(data):
    for parser in (canonical.parse, canonical.parse_canonical):
        try:
            parser(data)
        except LedgerError:
            pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(HOSTILE_BYTES, min_size=1, max_size=6), st.integers(0, 8))
def test_verifier_reports_violations_and_never_raises(lines, where):
    raws = list(RAWS)
    for line in lines:
        raws.insert(min(where, len(raws)), line)
    verifier = new_verifier()
    for raw in raws:
        verifier.feed(raw)
    verifier.finish()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(HOSTILE_BYTES, max_size=5), newline_at_end=st.booleans(), tail=st.binary(max_size=20))
def test_bundle_reader_and_verify_path_raise_only_ledger_errors(lines, newline_at_end, tail, tmp_path_factory):
    data = b"\n".join(list(RAWS[:3]) + lines) + (b"\n" if newline_at_end else tail)
    try:
        for _ in read_bundle(io.BytesIO(data)):
            pass
    except LedgerError:
        pass
    path = tmp_path_factory.mktemp("fuzz") / "bundle.jsonl"
    path.write_bytes(data)
    try:
        report = verify_path(path)
        assert report.size >= 0
    except LedgerError:
        pass


def _statement_mutations() -> st.SearchStrategy[bytes]:
    text = STATEMENT_BYTES

    def mutate(i: int, j: int, extra: bytes, op: int) -> bytes:
        i, j = i % len(text), j % (len(text) + 1)
        if op == 0:
            return text[:i] + extra + text[i:]
        if op == 1:
            return text[:i] + text[max(i, j):]
        return text[:i] + extra + text[i + len(extra):]

    return st.builds(mutate, st.integers(0, 10**5), st.integers(0, 10**5),
                     st.sampled_from([b"0", b"A", b"=", b'"', b"{}", b"[]", b"\\n", b"9" * 20, b"null", b"\xff"]),
                     st.integers(0, 2))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_statement_mutations(), st.binary(max_size=200)))
def test_statement_file_intake_raises_only_ledger_errors(data):
    try:
        StatementFile.parse(data)
    except LedgerError:
        pass


def test_real_statement_file_parses():
    parsed = StatementFile.parse(STATEMENT_BYTES)
    assert parsed.statement.raw == STATEMENT_FILE.statement.raw


# -- adversarial sizes and nesting: bounded time and memory -----------------------------

ADVERSARIAL = {
    "deep-array": b"[" * 100_000 + b"]" * 100_000,
    "deep-object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "deep-in-string-is-fine": b'["' + b"[" * 60_000 + b'"]',
    "depth-33": b"[" * 33 + b"]" * 33,
    "long-string-60k": b'{"a":"' + b"x" * 60_000 + b'"}',
    "long-escapes": b'["' + b"\\u0041" * 100_000 + b'"]',
    "many-keys": b"{" + b",".join(b'"k%d":%d' % (i, i) for i in range(60_000)) + b"}",
    "duplicate-keys-many": b"{" + b",".join(b'"k":%d' % i for i in range(60_000)) + b"}",
    "huge-int": b"[" + b"9" * 500_000 + b"]",
    "many-small-ints": b"[" + b",".join(b"1" for _ in range(200_000)) + b"]",
    "lone-surrogates": b'["' + b"\\ud800" * 50_000 + b'"]',
    "over-1mib": b'["' + b"x" * (1 << 20) + b'"]',
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_adversarial_documents_are_refused_quickly_and_in_little_memory(name):
    data = ADVERSARIAL[name]

    def parse_both() -> None:
        for parser in (canonical.parse, canonical.parse_canonical):
            try:
                parser(data)
            except LedgerError:
                pass

    started = time.perf_counter()
    parse_both()
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    parse_both()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 5, f"{name}: {elapsed:.1f} s"
    assert peak < 64 * len(data) + (32 << 20), f"{name}: {peak / 2**20:.0f} MB"
    # As an entry, every one of them is a violation (R-7.1 or later), never an exception.
    verifier = new_verifier()
    assert verifier.feed(data)


# -- the command line ------------------------------------------------------------------------

CLI_BUNDLES = {
    "random-binary": bytes(range(256)) * 4 + b"\n",
    "deep-nesting-line": b"[" * 10_000 + b"]" * 10_000 + b"\n",
    "line-over-1mib": b"x" * ((1 << 20) + 10) + b"\n",
    "no-final-newline": RAWS[0],
    "empty": b"",
    "blank-lines": b"\n\n\n",
    "crlf": RAWS[0] + b"\r\n",
    "nul-bytes": b"\x00" * 100 + b"\n",
    "genesis-twice": RAWS[0] + b"\n" + RAWS[0] + b"\n",
    "sqlite-magic-then-garbage": b"SQLite format 3\x00" + b"\x00" * 200,
}


@pytest.mark.parametrize("name", list(CLI_BUNDLES))
def test_cli_verify_on_hostile_files_exits_1_or_2_with_one_line(name, tmp_path):
    path = tmp_path / "input"
    path.write_bytes(CLI_BUNDLES[name])
    result = run_ledger("verify", path)
    assert result.returncode in (1, 2), (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert "internal error" not in result.stderr
    if result.returncode == 2:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("name", ["truncated", "garbage", "deep", "bad-signature", "float"])
def test_cli_statement_status_on_hostile_files(name, tmp_path):
    data = {
        "truncated": STATEMENT_BYTES[: len(STATEMENT_BYTES) // 2],
        "garbage": b"\xff\xfe" * 50,
        "deep": b"[" * 5000 + b"]" * 5000 + b"\n",
        "bad-signature": STATEMENT_BYTES.replace(b'"sig":"', b'"sig":"A', 1),
        "float": STATEMENT_BYTES.replace(b'"v":1', b'"v":1.0', 1),
    }[name]
    path = tmp_path / "statement.json"
    path.write_bytes(data)
    result = run_ledger("status", path)
    assert result.returncode in (1, 2), (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# -- kept regression inputs ------------------------------------------------------------------

def _regression_files() -> list[Path]:
    return sorted(p for p in REGRESSIONS.iterdir() if p.is_file() and p.name != "README.md")


@pytest.mark.parametrize("path", _regression_files(), ids=lambda p: p.name)
def test_regression_inputs(path):
    """Each kept input: parsers, statement intake and verifier raise only LedgerError."""
    data = path.read_bytes()
    for parse in (canonical.parse, canonical.parse_canonical, StatementFile.parse):
        try:
            parse(data)
        except LedgerError:
            pass
    verifier = new_verifier()
    try:
        for raw in read_bundle(io.BytesIO(data)):
            verifier.feed(raw)
    except LedgerError:
        pass
    verifier.feed(data)
    expected = REGRESSIONS / "README.md"
    assert expected.exists()


def test_regressions_directory_is_not_empty():
    assert len(_regression_files()) >= 5
    json.dumps([p.name for p in _regression_files()])
