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
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core_fixtures import run_ledger, standard_chain
from ledger.core import canonical
from ledger.app.load import verify_path
from ledger.storage.bundle import read_bundle
from ledger.errors import InputError, LedgerError
from ledger.core.statement_file import StatementFile
from ledger.scoring.process import new_verifier

REGRESSIONS = Path(__file__).resolve().parents[1] / "regressions"
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


MISSING = object()


def _parse_or_missing(parser, data: bytes):
    try:
        return parser(data)
    except LedgerError:
        return MISSING


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HOSTILE_BYTES)
def test_canonical_parse_accepts_exactly_the_canonical_bytes(data):
    """``parse_canonical`` accepts ``data`` only if it is byte-identical to the encoding of
    its value; ``parse`` accepts whatever ``parse_canonical`` does (same value), and what
    only ``parse`` accepts is refused by the strict parser for not being canonical."""
    loose = _parse_or_missing(canonical.parse, data)
    strict = _parse_or_missing(canonical.parse_canonical, data)
    if strict is not MISSING:
        assert canonical.encode(strict) == data
        assert loose is not MISSING and canonical.encode(loose) == data
    elif loose is not MISSING:
        assert canonical.encode(loose) != data


def _layout(lines: list[bytes], where: int) -> list[tuple[bytes, bool]]:
    """RAWS with ``lines`` inserted at ``where`` (as the test inserts them), each marked
    True when it is not the original entry of that position."""
    raws = list(RAWS)
    for line in lines:
        raws.insert(min(where, len(raws)), line)
    return [(raw, i >= len(RAWS) or raw != RAWS[i]) for i, raw in enumerate(raws)]


def _non_canonical(raw: bytes) -> bool:
    return len(raw) > 65535 or _parse_or_missing(canonical.parse_canonical, raw) is MISSING


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(HOSTILE_BYTES, min_size=1, max_size=6), st.integers(0, 8))
def test_verifier_reports_violations_on_the_hostile_entries(lines, where):
    """Lines inserted among real entries: the entries before them stay clean, every line
    that is not the original entry of its position has a violation on its own seq, and a
    line whose bytes are not canonical has exactly one violation, R-7.1 (SPEC 7, rule 1)."""
    layout = _layout(lines, where)
    verifier = new_verifier()
    by_seq: dict[int, list[str]] = {}
    for seq, (raw, _) in enumerate(layout):
        found = verifier.feed(raw)
        assert {v.seq for v in found} <= {seq}, "violations name the entry they judge"
        by_seq[seq] = [v.rule for v in found]
    assert verifier.finish() == []
    first = next(seq for seq, (_, changed) in enumerate(layout) if changed)
    assert all(by_seq[seq] == [] for seq in range(first))
    for seq, (raw, changed) in enumerate(layout):
        if changed:
            assert by_seq[seq], f"entry {seq} ({raw[:60]!r}) has no violation"
        if _non_canonical(raw):
            assert by_seq[seq] == ["R-7.1"], (seq, by_seq[seq])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutations(), st.integers(0, len(RAWS) - 1))
def test_a_mutated_entry_is_caught_on_its_own_seq(mutated, k):
    """SPEC 5.3: a change to any byte of any entry is detected at that entry, and the next
    entry no longer links to it (R-7.5)."""
    raws = list(RAWS)
    changed = mutated != raws[k]
    raws[k] = mutated
    verifier = new_verifier()
    found = [(v.seq, v.rule) for raw in raws for v in verifier.feed(raw)] + [(v.seq, v.rule) for v in verifier.finish()]
    if not changed:
        assert found == []
        return
    assert [seq for seq, _ in found if seq is not None and seq < k] == []
    assert any(seq == k for seq, _ in found), found
    if _non_canonical(mutated):
        assert [rule for seq, rule in found if seq == k] == ["R-7.1"]
    if k + 1 < len(raws):
        assert (k + 1, "R-7.5") in found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(HOSTILE_BYTES, max_size=5), newline_at_end=st.booleans(), tail=st.binary(max_size=20))
def test_bundle_reader_and_verify_path_give_the_expected_verdict(lines, newline_at_end, tail, tmp_path_factory):
    """A bundle whose last line lacks its newline, or has a line over 1 MiB, is unreadable
    (InputError, SPEC 8.1) for both the reader and ``verify_path``. Otherwise the report
    counts every line, is ok exactly when the lines are the original entries, and its first
    violation is on the first line that differs from the original entry of its position."""
    data = b"\n".join(list(RAWS[:3]) + lines) + (b"\n" if newline_at_end else tail)
    path = tmp_path_factory.mktemp("fuzz") / "bundle.jsonl"
    path.write_bytes(data)
    try:
        read = list(read_bundle(io.BytesIO(data)))
    except LedgerError as exc:
        assert isinstance(exc, InputError)
        with pytest.raises(InputError):
            verify_path(path)
        return
    assert not data or data.endswith(b"\n")
    report = verify_path(path)
    assert report.size == len(read)
    differs = [i for i, raw in enumerate(read) if i >= len(RAWS) or raw != RAWS[i]]
    assert report.ok == (differs == [])
    if differs:
        assert min(v.seq for v in report.violations if v.seq is not None) == differs[0]


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
def test_statement_file_intake_keeps_signatures_bound(data):
    """Whatever the bytes: a LedgerError, or a file whose signatures are the recorder's over
    the one statement it signed (a changed statement with a signature left is refused)."""
    try:
        parsed = StatementFile.parse(data)
    except LedgerError:
        return
    if parsed.signatures:
        assert parsed.statement.raw == STATEMENT_FILE.statement.raw
        assert set(parsed.signatures) == set(STATEMENT_FILE.signatures)


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
    # As an entry, each is exactly one violation: for the two that are
    # canonical JSON but not an entry (SPEC 7, rule 1).
    expected = "R-7.2" if name in ("deep-in-string-is-fine", "long-string-60k") else "R-7.1"
    assert [(v.seq, v.rule) for v in new_verifier().feed(data)] == [(0, expected)]


# -- the command line ------------------------------------------------------------------------

RANDOM_BINARY = bytes(range(256)) * 4 + b"\n"
# name -> (bytes, expected exit code, expected (seq, rule) lines for exit 1 or the stderr fragment for exit 2)
CLI_BUNDLES: dict[str, tuple[bytes, int, Any]] = {
    "random-binary": (RANDOM_BINARY, 1, [(i, "R-7.1") for i in range(RANDOM_BINARY.count(b"\n"))]),
    "deep-nesting-line": (b"[" * 10_000 + b"]" * 10_000 + b"\n", 1, [(0, "R-7.1")]),
    "line-over-1mib": (b"x" * ((1 << 20) + 10) + b"\n", 2, "line 1 is longer than 1048576 bytes"),
    "no-final-newline": (RAWS[0], 2, "line 1 does not end with a newline"),
    "empty": (b"", 1, [(None, "R-7.18")]),
    "blank-lines": (b"\n\n\n", 1, [(0, "R-7.1"), (1, "R-7.1"), (2, "R-7.1")]),
    "crlf": (RAWS[0] + b"\r\n", 1, [(0, "R-7.1")]),
    "nul-bytes": (b"\x00" * 100 + b"\n", 1, [(0, "R-7.1")]),
    "genesis-twice": (RAWS[0] + b"\n" + RAWS[0] + b"\n", 1, [(1, "R-7.4"), (1, "R-7.5"), (1, "R-7.7")]),
    "sqlite-magic-then-garbage": (b"SQLite format 3\x00" + b"\x00" * 200, 2, "cannot open as a SQLite ledger"),
}


@pytest.mark.parametrize("name", list(CLI_BUNDLES))
def test_cli_verify_on_hostile_files_gives_the_expected_verdict(name, tmp_path):
    """Exit 1 with exactly the expected violations (SPEC 8.2), or exit 2 with one line on
    stderr saying what is wrong; never a traceback."""
    data, code, expected = CLI_BUNDLES[name]
    path = tmp_path / "input"
    path.write_bytes(data)
    result = run_ledger("verify", path, "--json")
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert "internal error" not in result.stderr
    if code == 2:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert expected in result.stderr and result.stdout == ""
    else:
        report = json.loads(result.stdout)
        assert report["ok"] is False
        assert [(v["seq"], v["rule"]) for v in report["violations"]] == expected


STATUS_INPUTS = {
    "truncated": (STATEMENT_BYTES[: len(STATEMENT_BYTES) // 2], "invalid JSON at byte"),
    "garbage": (b"\xff\xfe" * 50, "invalid UTF-8 at byte 0"),
    "deep": (b"[" * 5000 + b"]" * 5000 + b"\n", "nesting deeper than 32"),
    "bad-signature": (STATEMENT_BYTES.replace(b'"sig":"', b'"sig":"A', 1), "$.signatures[0].sig"),
    "float": (STATEMENT_BYTES.replace(b'"v":1', b'"v":1.0', 1), "float 1.0 not allowed"),
}


@pytest.mark.parametrize("name", list(STATUS_INPUTS))
def test_cli_statement_status_on_hostile_files(name, tmp_path):
    """A statement file that is not one is refused (exit 1, SPEC 8.2 "other commands") with
    one line naming the file and what is wrong."""
    data, fragment = STATUS_INPUTS[name]
    assert data != STATEMENT_BYTES
    path = tmp_path / "statement.json"
    path.write_bytes(data)
    result = run_ledger("status", path)
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert str(path) in result.stderr and fragment in result.stderr, result.stderr


# -- kept regression inputs ------------------------------------------------------------------

def _regression_files() -> list[Path]:
    return sorted(p for p in REGRESSIONS.iterdir() if p.is_file() and p.name != "README.md")


# file -> the verdict on its lines as a bundle ("unreadable": InputError, SPEC 8.1), as
# exact (seq, rule) pairs; the whole file fed as one entry is [(0, "R-7.1")] unless listed in
# WHOLE_FILE_R_7_2 (canonical JSON that is not an entry). A new file needs its verdict here.
REGRESSION_VERDICTS: dict[str, Any] = {
    "bom-entry.jsonl": [(0, "R-7.1")],
    "deep-array-100k.json": "unreadable",
    "deep-brackets-inside-string.json": "unreadable",
    "depth-33.json": "unreadable",
    "duplicate-body-key.jsonl": [(1, "R-7.1")],
    "escaped-quote-then-brackets.json": "unreadable",
    "float-seq.jsonl": [(1, "R-7.1")],
    "genesis-then-empty-object.jsonl": [(1, "R-7.2")],
    "huge-seq.jsonl": [(1, "R-7.1")],
    "key-id-with-trailing-newline.jsonl": [(1, "R-7.2")],
    "lone-surrogate-in-name.jsonl": [(1, "R-7.1")],
    "non-canonical-base64-padding-bits.jsonl": [(1, "R-7.2")],
    "policy-update-with-bad-policy.jsonl": [(3, "R-7.16")],
    "prev-with-trailing-newline.jsonl": [(1, "R-7.2")],
    "seal-key-id-with-trailing-newline.jsonl": [(1, "R-7.2")],
    "signature-object-with-extra-member.jsonl": [(1, "R-7.2")],
    "signatures-empty-list.jsonl": [(1, "R-7.2")],
    "statement-file-bad-public-key.json": [(0, "R-7.2")],
    "statement-file-key-id-mismatch.json": [(0, "R-7.2")],
    "statement-file-signed-twice-same-key.json": [(0, "R-7.1")],
    "statement-file-trailing-garbage.json": "unreadable",
    "statement-is-array.jsonl": [(1, "R-7.2")],
    "statement-member-inside-body.jsonl": [(1, "R-7.2")],
    "time-with-trailing-newline.jsonl": [(1, "R-7.2")],
}
WHOLE_FILE_R_7_2 = {"deep-brackets-inside-string.json", "escaped-quote-then-brackets.json"}


def test_every_regression_input_has_a_verdict():
    assert sorted(p.name for p in _regression_files()) == sorted(REGRESSION_VERDICTS)


@pytest.mark.parametrize("path", _regression_files(), ids=lambda p: p.name)
def test_regression_inputs(path):
    """Each kept input: refused by the statement intake (none is a statement file), and
    judged by the bundle reader and verifier exactly as recorded in REGRESSION_VERDICTS."""
    data = path.read_bytes()
    with pytest.raises(LedgerError):
        StatementFile.parse(data)
    for parse in (canonical.parse, canonical.parse_canonical):
        try:
            parse(data)
        except LedgerError:
            pass
    expected = REGRESSION_VERDICTS[path.name]
    verifier = new_verifier()
    try:
        lines = list(read_bundle(io.BytesIO(data)))
    except InputError:
        assert expected == "unreadable"
    else:
        found = [(v.seq, v.rule) for raw in lines for v in verifier.feed(raw)] + [(v.seq, v.rule) for v in verifier.finish()]
        assert found == expected
    whole = "R-7.2" if path.name in WHOLE_FILE_R_7_2 else "R-7.1"
    assert [(v.seq, v.rule) for v in new_verifier().feed(data)] == [(0, whole)]


def test_regressions_directory_is_not_empty():
    assert len(_regression_files()) >= 5
