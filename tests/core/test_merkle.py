"""Conformance of ledger.core.merkle with RFC 6962 / RFC 9162 (vectors from transparency-dev/merkle)."""

from __future__ import annotations


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import ProofError
from ledger.core.merkle import (
    EMPTY_ROOT,
    DictNodeSource,
    TreeBuilder,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_nodes,
    root,
    root_from_inclusion_proof,
    subtree_root,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

from vector_files import load_vector

V = load_vector("rfc6962_merkle.json")


def h(x: str | None) -> bytes:
    return b"" if x is None else bytes.fromhex(x)


LEAVES = [h(x) for x in V["leaf_inputs"]]
LEAF_HASHES = [leaf_hash(x) for x in LEAVES]


def full_source(n: int = 8) -> DictNodeSource:
    return DictNodeSource.from_leaf_hashes(LEAF_HASHES[:n])


# ----------------------------------------------------------------------------- trees


def test_vector_counts():
    assert len(LEAVES) == 8
    assert [len(lv) for lv in V["node_hashes"]["levels"]] == [8, 4, 2, 1]
    assert len(V["root_hashes_by_size"]) == 8
    assert len(V["inclusion_proofs"]["vectors"]) == 5
    assert len(V["consistency_proofs"]["vectors"]) == 5
    assert len(V["inclusion_probes"]["probes"]) == 98
    assert len(V["consistency_probes"]["probes"]) == 98


def test_empty_root():
    assert EMPTY_ROOT == h(V["empty_tree_root"])
    assert root([]) == EMPTY_ROOT
    assert TreeBuilder().root() == EMPTY_ROOT
    assert tree_root(0, DictNodeSource()) == EMPTY_ROOT


def test_node_hashes():
    src = full_source()
    count = 0
    for level, hashes in enumerate(V["node_hashes"]["levels"]):
        for index, expected in enumerate(hashes):
            assert src.nodes[(level, index)] == h(expected)
            assert subtree_root(index << level, (index + 1) << level, src) == h(expected)
            count += 1
    assert count == 15
    # level-0 node hashes are leaf hashes of the inputs
    assert LEAF_HASHES == [h(x) for x in V["node_hashes"]["levels"][0]]
    assert node_hash(LEAF_HASHES[0], LEAF_HASHES[1]) == h(V["node_hashes"]["levels"][1][0])
    assert len(src.nodes) == 15


def test_roots_by_size():
    src = full_source()
    builder = TreeBuilder()
    count = 0
    for size in range(1, 9):
        builder.append(LEAF_HASHES[size - 1])
        expected = h(V["root_hashes_by_size"][str(size)])
        assert root(LEAF_HASHES[:size]) == expected
        assert builder.root() == expected
        assert builder.size == size
        assert tree_root(size, src) == expected
        restored = TreeBuilder(size, builder.frontier)
        assert restored.root() == expected
        assert TreeBuilder.from_source(size, src).root() == expected
        count += 1
    assert count == 8


def test_classic_inclusion_proofs_generate_and_verify():
    src = full_source()
    count = 0
    for v in V["inclusion_proofs"]["vectors"]:
        idx, size = v["leaf_index"], v["tree_size"]
        expected = [h(x) for x in v["proof"]]
        calls = src.calls
        assert inclusion_proof(idx, size, src) == expected
        assert src.calls - calls <= 1  # one batched fetch per proof
        r = h(V["root_hashes_by_size"][str(size)])
        verify_inclusion(LEAF_HASHES[idx], idx, size, expected, r)
        assert root_from_inclusion_proof(LEAF_HASHES[idx], idx, size, expected) == r
        count += 1
    assert count == 5


def test_classic_consistency_proofs_generate_and_verify():
    src = full_source()
    count = 0
    for v in V["consistency_proofs"]["vectors"]:
        s1, s2 = v["size1"], v["size2"]
        expected = [h(x) for x in v["proof"]]
        calls = src.calls
        assert consistency_proof(s1, s2, src) == expected
        assert src.calls - calls <= 1
        verify_consistency(
            s1, s2, expected, h(V["root_hashes_by_size"][str(s1)]), h(V["root_hashes_by_size"][str(s2)])
        )
        count += 1
    assert count == 5


# ----------------------------------------------------------------------------- golden probes


def _outcome(fn) -> bool:
    """True iff fn raised ProofError (any other exception is a bug and propagates)."""
    try:
        fn()
    except ProofError:
        return True
    return False


def test_inclusion_probes():
    probes = V["inclusion_probes"]["probes"]
    results = {"pass": 0, "fail": 0}
    mismatches = []
    for p in probes:
        proof = [h(x) for x in (p["proof"] or [])]
        got = _outcome(
            lambda: verify_inclusion(h(p["leafHash"]), p["leafIdx"], p["treeSize"], proof, h(p["root"]))
        )
        if got != p["wantErr"]:
            mismatches.append((p["file"], p["desc"], p["wantErr"]))
        results["fail" if got else "pass"] += 1
    assert mismatches == []
    assert results == {"pass": 6, "fail": 92}


def test_consistency_probes():
    probes = V["consistency_probes"]["probes"]
    results = {"pass": 0, "fail": 0}
    mismatches = []
    for p in probes:
        proof = [h(x) for x in (p["proof"] or [])]
        got = _outcome(
            lambda: verify_consistency(p["size1"], p["size2"], proof, h(p["root1"]), h(p["root2"]))
        )
        if got != p["wantErr"]:
            mismatches.append((p["file"], p["desc"], p["wantErr"]))
        results["fail" if got else "pass"] += 1
    assert mismatches == []
    assert results == {"pass": 6, "fail": 92}


# ----------------------------------------------------------------------------- edge cases


def test_generation_edge_cases():
    src = full_source()
    assert consistency_proof(5, 5, src) == []
    for bad in [(0, 0), (8, 8), (9, 8), (-1, 8)]:
        with pytest.raises(ProofError):
            inclusion_proof(*bad, src)
    for bad in [(0, 0), (0, 5), (6, 5)]:
        with pytest.raises(ProofError):
            consistency_proof(*bad, src)
    with pytest.raises(ProofError, match="not available"):
        inclusion_proof(0, 9, src)  # leaf 8 was never stored
    with pytest.raises(ProofError):
        subtree_root(1, 3, src)  # not an aligned subtree
    with pytest.raises(ProofError):
        TreeBuilder(3, [LEAF_HASHES[0]])  # frontier of size 3 has 2 hashes


def test_verification_edge_cases():
    r1 = h(V["root_hashes_by_size"]["1"])
    with pytest.raises(ProofError, match="empty tree"):
        verify_inclusion(LEAF_HASHES[0], 0, 0, [], EMPTY_ROOT)
    with pytest.raises(ProofError, match="outside"):
        verify_inclusion(LEAF_HASHES[0], 1, 1, [], r1)
    with pytest.raises(ProofError, match="must have"):
        verify_inclusion(LEAF_HASHES[0], 0, 1, [r1], r1)
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(ProofError, match="backwards"):
        verify_consistency(2, 1, [], r1, r1)
    verify_consistency(1, 1, [], r1, r1)
    with pytest.raises(ProofError, match="different roots"):
        verify_consistency(1, 1, [], r1, EMPTY_ROOT)


def test_range_nodes_are_aligned_and_short():
    for start in range(0, 70):
        for end in range(start, 140):
            keys = range_nodes(start, end)
            pos = start
            for level, index in keys:
                assert index << level == pos
                pos += 1 << level
            assert pos == end
            assert len(keys) <= 2 * max(1, (end - start).bit_length())


def test_builder_reports_completed_nodes():
    b = TreeBuilder()
    assert b.append(LEAF_HASHES[0]) == [(0, 0, LEAF_HASHES[0])]
    out = b.append(LEAF_HASHES[1])
    assert [(lv, i) for lv, i, _ in out] == [(0, 1), (1, 0)]
    b.append(LEAF_HASHES[2])
    out = b.append(LEAF_HASHES[3])
    assert [(lv, i) for lv, i, _ in out] == [(0, 3), (1, 1), (2, 0)]
    assert out[-1][2] == h(V["node_hashes"]["levels"][2][0])


# ----------------------------------------------------------------------------- properties


def _tree(n: int) -> tuple[list[bytes], DictNodeSource, TreeBuilder]:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    src = DictNodeSource()
    b = TreeBuilder()
    for x in hashes:
        src.add(b.append(x))
    return hashes, src, b


def _flip(proof: list[bytes], i: int, byte: int) -> list[bytes]:
    p = list(proof)
    x = bytearray(p[i])
    x[byte] ^= 0x01
    p[i] = bytes(x)
    return p


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_property_builder_and_proofs(n, data):
    hashes, src, b = _tree(n)
    r = root(hashes)
    assert b.root() == r
    assert tree_root(n, src) == r

    idx = data.draw(st.integers(0, n - 1))
    calls = src.calls
    proof = inclusion_proof(idx, n, src)
    assert src.calls <= calls + 1  # one batched fetch (none for an empty proof)
    verify_inclusion(hashes[idx], idx, n, proof, r)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        byte = data.draw(st.integers(0, 31))
        with pytest.raises(ProofError):
            verify_inclusion(hashes[idx], idx, n, _flip(proof, i, byte), r)
    wrong = data.draw(st.integers(0, n).filter(lambda j: j != idx))
    with pytest.raises(ProofError):
        verify_inclusion(hashes[idx], wrong, n, proof, r)

    m = data.draw(st.integers(1, n))
    r1 = root(hashes[:m])
    cproof = consistency_proof(m, n, src)
    verify_consistency(m, n, cproof, r1, r)
    if cproof:
        i = data.draw(st.integers(0, len(cproof) - 1))
        byte = data.draw(st.integers(0, 31))
        with pytest.raises(ProofError):
            verify_consistency(m, n, _flip(cproof, i, byte), r1, r)
        with pytest.raises(ProofError):
            verify_consistency(m, n, cproof[:-1], r1, r)
    if m < n:
        with pytest.raises(ProofError):
            verify_consistency(m + 1, n, cproof, r1, r)


def test_every_proof_small_trees():
    """Exhaustive for n <= 40: every inclusion and consistency proof verifies."""
    for n in range(1, 41):
        hashes, src, b = _tree(n)
        r = root(hashes)
        assert b.root() == r
        for i in range(n):
            verify_inclusion(hashes[i], i, n, inclusion_proof(i, n, src), r)
        for m in range(1, n + 1):
            verify_consistency(m, n, consistency_proof(m, n, src), root(hashes[:m]), r)
