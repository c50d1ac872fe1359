"""A table of tampering cases: each must make verification fail at the tampered entry.

Every case takes the entry bytes of a genuine, signed ledger (``core_fixtures.standard_chain``,
exported from a real SQLite store), changes bytes the way an attacker would, and is then
verified twice: as a bundle file and as the ``raw`` column of a SQLite ledger. The FIRST
violation must name the expected entry and rule. Where the attacker is assumed to hold the
operator key (``reseal``/``relink``), the complete list of violations at the tampered entry
is checked too, which shows that nothing but the intended rule fires there.
"""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from core_fixtures import (
    LAYOUT,
    Chain,
    entry_obj,
    file_state,
    lines_of,
    pairs,
    relink,
    reseal,
    run_ledger,
    standard_chain,
    bundle_of,
    write_raws_to_sqlite,
)
from ledger.core import canonical
from ledger.app.load import verify_path
from ledger.storage.bundle import write_bundle
from ledger.core.model import b64encode
from ledger.storage.store import LedgerStore


@dataclass
class World:
    chain: Chain  # the genuine ledger (and its keys)
    other: Chain  # another ledger with the SAME keys and a different genesis
    raws: list[bytes]  # genuine entry bytes, as exported from the SQLite store
    db: Path  # the genuine SQLite ledger

    @property
    def op(self):
        return self.chain.keys["operator"]

    def sealed_at(self, seq: int, statement, signatures, *, prev_raws: list[bytes] | None = None) -> bytes:
        """``statement`` sealed by the operator as entry ``seq`` after ``prev_raws[seq-1]``."""
        from ledger.core.merkle import leaf_hash

        raws = self.raws if prev_raws is None else prev_raws
        return self.chain.seal(statement, signatures, seq=seq, prev=leaf_hash(raws[seq - 1]).hex())


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    chain = standard_chain()
    other = Chain.new(keys=chain.keys, origin="ledger.test.example/other", name="another ledger")
    other.append(other.org("zulu"), ["recorder-1"])
    assert other.violations == []
    db = chain.to_store(tmp_path_factory.mktemp("genuine") / "ledger.db")
    with LedgerStore.open(db, readonly=True) as store:
        raws = list(store.iter_raw())
    assert raws == chain.raws  # the store keeps exactly the bytes that were signed
    return World(chain, other, raws, db)


# -- tampering functions: World -> tampered list of entry bytes --------------------------

def _replace(raws: list[bytes], seq: int, old: bytes, new: bytes) -> list[bytes]:
    assert raws[seq].count(old) == 1, (old, raws[seq])
    out = list(raws)
    out[seq] = raws[seq].replace(old, new)
    return out


def _edit(raws: list[bytes], seq: int, change: Callable[[dict], None], *, op=None) -> list[bytes]:
    """Parse entry ``seq``, change the object, re-encode canonically (re-sealed if ``op``)."""
    obj = entry_obj(raws[seq])
    change(obj)
    out = list(raws)
    out[seq] = reseal(obj, op) if op is not None else canonical.encode(obj)
    return out


def _flip_b64(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 0x01
    return b64encode(bytes(raw))


def content_changed(w: World) -> list[bytes]:
    return _replace(w.raws, 1, b"Organization alpha", b"Organization alpia")


def content_changed_resealed(w: World) -> list[bytes]:
    return relink(content_changed(w), 1, w.op)


def entry_removed(w: World) -> list[bytes]:
    return w.raws[:4] + w.raws[5:]


def first_entry_after_genesis_removed(w: World) -> list[bytes]:
    return w.raws[:1] + w.raws[2:]


def entry_inserted_sealed_for_its_slot(w: World) -> list[bytes]:
    # A fork's entry 4: validly signed, validly sealed at seq 4 after entry 3. It is valid
    # where it stands; the genuine entry 4, pushed to position 5, no longer fits.
    statement = w.chain.org("intruder")
    extra = w.sealed_at(4, statement, w.chain.sign(statement, ["recorder-1"]))
    return w.raws[:4] + [extra] + w.raws[4:]


def entry_inserted_sealed_elsewhere(w: World) -> list[bytes]:
    statement = w.chain.org("intruder")
    extra = w.sealed_at(4, statement, w.chain.sign(statement, ["recorder-1"]))
    return w.raws[:2] + [extra] + w.raws[2:]


def entries_swapped(w: World) -> list[bytes]:
    out = list(w.raws)
    out[6], out[7] = out[7], out[6]
    return out


def signature_swapped_with_other_keys(w: World) -> list[bytes]:
    statement = w.chain.items[1][0]
    foreign = statement.sign(w.chain.keys["recorder-2"])  # valid, but by another key

    def change(obj):
        obj["signatures"][0]["sig"] = b64encode(foreign.sig)  # key_id still says recorder-1

    return _edit(w.raws, 1, change)


def panel_signature_swapped_resealed(w: World) -> list[bytes]:
    def change(obj):
        obj["signatures"][0]["sig"] = obj["signatures"][1]["sig"]

    return relink(_edit(w.raws, 3, change, op=w.op), 4, w.op)


def signatures_stripped_below_threshold(w: World) -> list[bytes]:
    def change(obj):
        assert len(obj["signatures"]) == 3
        del obj["signatures"][1]

    return relink(_edit(w.raws, 3, change, op=w.op), 4, w.op)


def same_key_signature_twice(w: World) -> list[bytes]:
    def change(obj):
        obj["signatures"][2] = dict(obj["signatures"][0])

    return relink(_edit(w.raws, 3, change, op=w.op), 4, w.op)


def signatures_unsorted(w: World) -> list[bytes]:
    def change(obj):
        obj["signatures"].reverse()

    return relink(_edit(w.raws, 3, change, op=w.op), 4, w.op)


def _insert_relinked(w: World, seq: int, statement, signers: list[str]) -> list[bytes]:
    extra = w.sealed_at(seq, statement, w.chain.sign(statement, signers))
    return relink(w.raws[:seq] + [extra] + w.raws[seq:], seq + 1, w.op)


def recorder_signs_policy_update(w: World) -> list[bytes]:
    # At position 4 the policy in force is version 2; a rejected update has no effect, so
    # the genuine version-3 update that follows still verifies.
    policy = w.chain.items[3][0].body["policy"]
    statement = w.chain.raw_policy_update({**policy, "version": 3}, reason="recorder takeover")
    return _insert_relinked(w, 4, statement, ["panel-1", "panel-2", "recorder-1"])


def unknown_key_signs(w: World) -> list[bytes]:
    return _insert_relinked(w, 2, w.chain.org("foxtrot"), ["outsider"])


def revoked_key_used_after_revocation(w: World) -> list[bytes]:
    assert LAYOUT["revocation"] == 5
    return _insert_relinked(w, 6, w.chain.org("golf"), ["recorder-2"])


def statement_from_another_ledger(w: World) -> list[bytes]:
    statement, signatures = w.other.items[1]  # same keys, other genesis
    extra = w.sealed_at(4, statement, signatures)
    return relink(w.raws[:4] + [extra] + w.raws[4:], 5, w.op)


def duplicate_statement(w: World) -> list[bytes]:
    statement, signatures = w.chain.items[1]
    extra = w.sealed_at(4, statement, signatures)
    return relink(w.raws[:4] + [extra] + w.raws[4:], 5, w.op)


def second_genesis(w: World) -> list[bytes]:
    statement, signatures = w.other.items[0]
    extra = w.sealed_at(4, statement, signatures)
    return relink(w.raws[:4] + [extra] + w.raws[4:], 5, w.op)


def _reencoded(w: World, seq: int, dumps: Callable[[dict], str]) -> list[bytes]:
    out = list(w.raws)
    out[seq] = dumps(entry_obj(w.raws[seq])).encode("utf-8")
    assert out[seq] != w.raws[seq] and json.loads(out[seq]) == json.loads(w.raws[seq])  # same data
    return relink(out, seq + 1, w.op)


def noncanonical_whitespace(w: World) -> list[bytes]:
    return _reencoded(w, 4, lambda o: json.dumps(o, sort_keys=True, ensure_ascii=False, separators=(", ", ": ")))


def noncanonical_key_order(w: World) -> list[bytes]:
    def reverse(value):
        if isinstance(value, dict):
            return {k: reverse(value[k]) for k in sorted(value, reverse=True)}
        if isinstance(value, list):
            return [reverse(v) for v in value]
        return value

    return _reencoded(w, 4, lambda o: json.dumps(reverse(o), ensure_ascii=False, separators=(",", ":")))


def noncanonical_escapes(w: World) -> list[bytes]:
    out = _replace(w.raws, 4, b"Organization charlie", b"Organization \\u0063harlie")
    return relink(out, 5, w.op)


def noncanonical_escaped_dot(w: World) -> list[bytes]:
    out = _replace(w.raws, 4, b'"org.register"', b'"org\\u002eregister"')
    return relink(out, 5, w.op)


def injected_float(w: World) -> list[bytes]:
    return relink(_replace(w.raws, 4, b'"seq":4,', b'"seq":4.0,'), 5, w.op)


def injected_exponent(w: World) -> list[bytes]:
    return relink(_replace(w.raws, 4, b'"seq":4,', b'"seq":4e0,'), 5, w.op)


def duplicate_json_key(w: World) -> list[bytes]:
    return relink(_replace(w.raws, 4, b'"seq":4,', b'"seq":4,"seq":4,'), 5, w.op)


def garbage_line(w: World) -> list[bytes]:
    out = list(w.raws)
    out[4] = b"this is not JSON"
    return out


def last_entry_seal_changed(w: World) -> list[bytes]:
    def change(obj):
        obj["seal"]["sig"] = _flip_b64(obj["seal"]["sig"])

    return _edit(w.raws, LAYOUT["last"], change)


def last_entry_signature_dropped(w: World) -> list[bytes]:
    # 4 panel signatures, threshold 3: still enough, but the seal covers the list.
    def change(obj):
        assert len(obj["signatures"]) == 4
        del obj["signatures"][0]

    return _edit(w.raws, LAYOUT["last"], change)


def last_entry_content_changed(w: World) -> list[bytes]:
    return _replace(w.raws, LAYOUT["last"], b"second review, no change", b"second review, no chanGe")


def prev_link_corrupted(w: World) -> list[bytes]:
    def change(obj):
        obj["prev"] = obj["prev"][:-1] + ("0" if obj["prev"][-1] != "0" else "1")

    return _edit(w.raws, 5, change)


def prev_link_corrupted_resealed(w: World) -> list[bytes]:
    def change(obj):
        obj["prev"] = obj["prev"][:-1] + ("0" if obj["prev"][-1] != "0" else "1")

    return relink(_edit(w.raws, 5, change, op=w.op), 6, w.op)


def seq_changed_resealed(w: World) -> list[bytes]:
    def change(obj):
        obj["seq"] = 40

    return relink(_edit(w.raws, 4, change, op=w.op), 5, w.op)


def sealed_by_non_operator(w: World) -> list[bytes]:
    return relink(_edit(w.raws, 4, lambda obj: None, op=w.chain.keys["panel-1"]), 5, w.op)


def schema_extra_member(w: World) -> list[bytes]:
    def change(obj):
        obj["statement"]["body"]["extra"] = 1

    return relink(_edit(w.raws, 4, change, op=w.op), 5, w.op)


def unknown_statement_type(w: World) -> list[bytes]:
    statement = w.chain.statement("org.destroy", {"org_id": "alpha"})
    return _insert_relinked(w, 4, statement, ["recorder-1"])


def impossible_time(w: World) -> list[bytes]:
    from ledger.core.model import Statement

    good = w.chain.org("hotel")
    statement = Statement.build("org.register", good.body, "2026-02-30T10:00:00Z", w.chain.ledger_id)
    return _insert_relinked(w, 4, statement, ["recorder-1"])


# (function, expected first (seq, rule), the complete expected list or None, message part)
CASES = [
    pytest.param(content_changed, (1, "R-7.11"), None, "does not verify", id="content-changed-after-signing"),
    pytest.param(content_changed_resealed, (1, "R-7.11"), [(1, "R-7.11"), (1, "R-7.13")], "does not verify", id="content-changed-resealed"),
    pytest.param(last_entry_content_changed, (8, "R-7.11"), None, "does not verify", id="last-entry-content-changed"),
    pytest.param(entry_removed, (4, "R-7.4"), None, "expected sequence number 4", id="entry-removed"),
    pytest.param(first_entry_after_genesis_removed, (1, "R-7.4"), None, "found 2", id="entry-1-removed"),
    pytest.param(entry_inserted_sealed_elsewhere, (2, "R-7.4"), None, "found 4", id="entry-inserted-sealed-for-other-slot"),
    pytest.param(entry_inserted_sealed_for_its_slot, (5, "R-7.4"), None, "found 4", id="entry-inserted-valid-in-its-slot"),
    pytest.param(entries_swapped, (6, "R-7.4"), None, "found 7", id="entries-reordered"),
    pytest.param(signature_swapped_with_other_keys, (1, "R-7.11"), None, "does not verify", id="signature-swapped-other-key"),
    pytest.param(panel_signature_swapped_resealed, (3, "R-7.11"), [(3, "R-7.11"), (3, "R-7.13")], "does not verify", id="panel-signature-swapped-resealed"),
    pytest.param(signatures_stripped_below_threshold, (3, "R-7.13"), [(3, "R-7.13")], "needs 3 distinct panel", id="signatures-stripped-below-threshold"),
    pytest.param(same_key_signature_twice, (3, "R-7.9"), [(3, "R-7.9"), (3, "R-7.13")], "one per key", id="same-key-twice-below-threshold"),
    pytest.param(signatures_unsorted, (3, "R-7.9"), [(3, "R-7.9")], "sorted", id="signatures-unsorted"),
    pytest.param(recorder_signs_policy_update, (4, "R-7.12"), [(4, "R-7.12"), (4, "R-7.13")], "requires role 'panel'", id="unauthorized-recorder-signs-policy"),
    pytest.param(unknown_key_signs, (2, "R-7.10"), [(2, "R-7.10"), (2, "R-7.13")], "not in policy", id="unauthorized-unknown-key"),
    pytest.param(revoked_key_used_after_revocation, (6, "R-7.10"), [(6, "R-7.10"), (6, "R-7.13")], "revoked at entry 5", id="revoked-key-after-revocation"),
    pytest.param(statement_from_another_ledger, (4, "R-7.7"), [(4, "R-7.7")], "another ledger", id="statement-from-another-ledger"),
    pytest.param(duplicate_statement, (4, "R-7.8"), [(4, "R-7.8")], "already appended at entry 1", id="duplicate-statement"),
    pytest.param(second_genesis, (4, "R-7.7"), [(4, "R-7.7")], "second genesis", id="second-genesis"),
    pytest.param(noncanonical_whitespace, (4, "R-7.1"), [(4, "R-7.1")], "", id="noncanonical-whitespace"),
    pytest.param(noncanonical_key_order, (4, "R-7.1"), [(4, "R-7.1")], "", id="noncanonical-key-order"),
    pytest.param(noncanonical_escapes, (4, "R-7.1"), [(4, "R-7.1")], "", id="noncanonical-escaped-letter"),
    pytest.param(noncanonical_escaped_dot, (4, "R-7.1"), [(4, "R-7.1")], "", id="noncanonical-escaped-dot"),
    pytest.param(injected_float, (4, "R-7.1"), [(4, "R-7.1")], "", id="injected-float"),
    pytest.param(injected_exponent, (4, "R-7.1"), [(4, "R-7.1")], "", id="injected-exponent"),
    pytest.param(duplicate_json_key, (4, "R-7.1"), [(4, "R-7.1")], "duplicate", id="duplicate-json-key"),
    pytest.param(garbage_line, (4, "R-7.1"), None, "", id="garbage-line"),
    pytest.param(last_entry_seal_changed, (8, "R-7.15"), [(8, "R-7.15")], "seal", id="last-entry-seal-changed"),
    pytest.param(last_entry_signature_dropped, (8, "R-7.15"), [(8, "R-7.15")], "seal", id="last-entry-signature-dropped"),
    pytest.param(prev_link_corrupted, (5, "R-7.5"), None, "prev does not link", id="prev-link-corrupted"),
    pytest.param(prev_link_corrupted_resealed, (5, "R-7.5"), [(5, "R-7.5")], "prev does not link", id="prev-link-corrupted-resealed"),
    pytest.param(seq_changed_resealed, (4, "R-7.4"), [(4, "R-7.4")], "found 40", id="seq-changed-resealed"),
    pytest.param(sealed_by_non_operator, (4, "R-7.15"), [(4, "R-7.15")], "not an operator key", id="sealed-by-panel-key"),
    pytest.param(schema_extra_member, (4, "R-7.2"), [(4, "R-7.2")], "extra", id="schema-extra-body-member"),
    pytest.param(unknown_statement_type, (4, "R-7.3"), [(4, "R-7.3")], "org.destroy", id="unknown-statement-type"),
    pytest.param(impossible_time, (4, "R-7.17"), [(4, "R-7.17")], "2026-02-30", id="impossible-date"),
]


def _verify_bundle(tmp_path: Path, raws: list[bytes]):
    path = tmp_path / "tampered.jsonl"
    path.write_bytes(bundle_of(raws))
    return verify_path(path)


def _verify_sqlite(tmp_path: Path, raws: list[bytes], genuine_db: Path):
    path = tmp_path / "tampered.db"
    shutil.copyfile(genuine_db, path)
    write_raws_to_sqlite(path, raws)
    return verify_path(path)


def test_genuine_ledger_verifies(world: World, tmp_path: Path) -> None:
    for report in (verify_path(world.db), _verify_bundle(tmp_path, world.raws)):
        assert report.ok, report.violations
        assert report.size == len(world.raws) == LAYOUT["last"] + 1
        assert report.ledger_id == world.chain.ledger_id
        assert report.policy_version == 4


@pytest.mark.parametrize("medium", ["bundle", "sqlite"])
@pytest.mark.parametrize("tamper, first, exact, message", CASES)
def test_tampering_is_detected_at_the_tampered_entry(world, tmp_path, medium, tamper, first, exact, message) -> None:
    raws = tamper(world)
    assert raws != world.raws  # the case really changed bytes
    if medium == "bundle":
        report = _verify_bundle(tmp_path, raws)
    else:
        report = _verify_sqlite(tmp_path, raws, world.db)
    assert not report.ok
    found = pairs(report.violations)
    assert found[0] == first, report.violations
    assert message in report.violations[0].message
    # a SQLite ledger's stored checkpoints are judged too (SPEC.md 14.8): the tampered copy no
    # longer matches them, which is reported without a seq
    assert all(rule in ("R-14.3", "R-14.4") for seq, rule in found if seq is None), found
    assert medium == "sqlite" or all(seq is not None for seq, _ in found)
    assert all(seq >= first[0] for seq, _ in found if seq is not None)
    if exact is not None:
        # Everything reported at the tampered entry. Later entries may be refused too when
        # the tampered one was a policy.update: a refused entry has no effect (SPEC 7).
        assert [p for p in found if p[0] == first[0]] == exact, report.violations
    assert report.violation_count == len(report.violations)


def test_revoked_key_entries_before_revocation_stay_valid(world: World) -> None:
    # entry 2 is signed by recorder-2, revoked at entry 5: the genuine ledger still verifies,
    # and the same signature placed after the revocation is refused (case above).
    assert world.chain.items[2][1][0].key_id == world.chain.keys.id("recorder-2")
    assert verify_path(world.db).ok


# -- through the real CLI -----------------------------------------------------------------

SPEC_JSON_KEYS = {"ok", "entries", "ledger_id", "origin", "head", "policy_version", "violation_count", "violations"}


@pytest.mark.parametrize(
    "tamper, first",
    [
        pytest.param(content_changed, (1, "R-7.11"), id="content-changed"),
        pytest.param(entry_removed, (4, "R-7.4"), id="entry-removed"),
        pytest.param(revoked_key_used_after_revocation, (6, "R-7.10"), id="revoked-key"),
        pytest.param(last_entry_signature_dropped, (8, "R-7.15"), id="last-signature-dropped"),
    ],
)
def test_cli_verify_names_entry_and_rule(world, tmp_path, tamper, first) -> None:
    bundle = tmp_path / "tampered.jsonl"
    bundle.write_bytes(bundle_of(tamper(world)))
    text = run_ledger("verify", bundle)
    assert text.returncode == 1, text.stderr
    seq, rule = first
    first_line = text.stdout.splitlines()[0]
    assert first_line.startswith(f"FAIL entry {seq}: ") and first_line.endswith(f"[{rule}]"), text.stdout
    assert any(line.startswith("FAILED: ") for line in text.stdout.splitlines())
    assert "NO signed checkpoint was checked" in text.stdout  # a bundle alone: nothing anchors it

    as_json = run_ledger("verify", bundle, "--json")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert SPEC_JSON_KEYS <= set(report)
    assert report["ok"] is False
    assert report["violation_count"] == len(report["violations"]) >= 1
    assert all(set(v) == {"seq", "rule", "message"} for v in report["violations"])
    assert (report["violations"][0]["seq"], report["violations"][0]["rule"]) == first


def test_cli_verify_clean_exit_0_on_db_and_exported_bundle(world: World, tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    shutil.copyfile(world.db, db)
    bundle = tmp_path / "ledger.jsonl"
    exported = run_ledger("export", db, "--out", bundle)
    assert exported.returncode == 0, exported.stderr
    assert lines_of(bundle.read_bytes()) == world.raws  # exactly the signed bytes
    for path in (db, bundle):
        result = run_ledger("verify", path, "--json")
        assert result.returncode == 0, result.stdout + result.stderr
        report = json.loads(result.stdout)
        assert SPEC_JSON_KEYS <= set(report)
        assert report["ok"] is True and report["violations"] == [] and report["violation_count"] == 0
        assert report["entries"] == len(world.raws)
        assert report["ledger_id"] == world.chain.ledger_id
        assert report["origin"] == "ledger.test.example/core"
        from ledger.core.merkle import leaf_hash

        assert report["head"] == leaf_hash(world.raws[-1]).hex()
        assert report["policy_version"] == world.chain.policy.version
        text = run_ledger("verify", path)
        assert text.returncode == 0 and text.stdout.startswith("OK: ")


def _corrupt_sqlite(src: Path, dst: Path) -> None:
    data = bytearray(src.read_bytes())
    assert len(data) > 4096 * 2
    for i in range(4096, len(data)):  # keep the 100-byte header and page 1; wreck every other page
        data[i] = (i * 131 + 7) & 0xFF
    dst.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda w, d: d / "missing.db", id="missing-file"),
        pytest.param(lambda w, d: d, id="directory"),
        pytest.param(lambda w, d: _write(d / "garbage.bin", bytes((i * 37 + 11) % 256 for i in range(5000))), id="garbage-binary"),
        pytest.param(lambda w, d: _write(d / "truncated.jsonl", bundle_of(w.raws)[:-40]), id="truncated-bundle"),
        pytest.param(lambda w, d: _write(d / "no-final-newline.jsonl", bundle_of(w.raws)[:-1]), id="bundle-without-final-newline"),
        pytest.param(lambda w, d: _corrupt(w.db, d / "corrupt.db"), id="corrupted-sqlite"),
        pytest.param(lambda w, d: _write(d / "header-only.db", b"SQLite format 3\x00" + b"\x00" * 84), id="sqlite-header-only"),
    ],
)
def test_cli_verify_unreadable_input_exits_2(world: World, tmp_path: Path, make) -> None:
    path = make(world, tmp_path)
    before = path.read_bytes() if path.is_file() else None
    result = run_ledger("verify", path)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    if before is not None:
        assert path.read_bytes() == before  # verify never writes


def test_cli_verify_empty_bundle_is_a_violation(tmp_path: Path) -> None:
    path = _write(tmp_path / "empty.jsonl", b"")
    result = run_ledger("verify", path, "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert [(v["seq"], v["rule"]) for v in report["violations"]] == [(None, "R-7.18")]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _corrupt(src: Path, dst: Path) -> Path:
    _corrupt_sqlite(src, dst)
    return dst
