"""RFC 6962 / RFC 9162 Merkle tree: hashing, incremental building, proofs (SPEC.md section 13).

Pure module: bytes and objects in, bytes and objects out. Hash = SHA-256.

* ``leaf_hash(d) = SHA-256(0x00 || d)``, ``node_hash(l, r) = SHA-256(0x01 || l || r)``,
  ``MTH({}) = SHA-256("")`` (RFC 9162 section 2.1.1).
* A *node* ``(level, index)`` is the perfect subtree covering leaves
  ``[index * 2**level, (index + 1) * 2**level)``; level 0 nodes are leaf hashes. A store keeps
  only such complete nodes. Any hash the RFC proof algorithms need is the MTH of a range
  ``[a, b)`` whose start is aligned (``a`` is a multiple of the smallest power of two
  ``>= b - a``); it is computed from the range's aligned decomposition into at most
  ``2 log2(n)`` nodes, and every proof fetches all its nodes in ONE ``get_nodes`` call.
* Verification implements the algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2 exactly,
  after the explicit edge-case policy below (which matches the transparency-dev/merkle
  golden probes).

Edge-case policy (verification):

* every hash given to ``verify_inclusion`` and every hash in a proof must be 32 bytes;
* inclusion: ``size == 0`` fails (an empty tree includes nothing); ``index >= size`` fails;
  a proof whose length differs from the one RFC 9162 prescribes for ``(index, size)`` fails;
* consistency: ``size1 > size2`` fails; ``size1 == 0`` fails, even ``0 -> 0`` (a proof from
  the empty tree proves nothing; a client simply accepts the first checkpoint it sees);
  ``size1 == size2 > 0`` requires an empty proof and ``root1 == root2`` byte for byte;
  otherwise the proof must be non-empty and of the prescribed length.

Generation raises :class:`ProofError` on the same impossible requests (index out of range,
``size1 == 0``, ``size1 > size2``) and when the node source lacks a node it needs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Protocol, Sequence

from ..errors import ProofError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]  # (level, index)


# --------------------------------------------------------------------------- hashing


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 section 2.1.1: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 section 2.1.1: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes (RFC 9162 section 2.1.1). For tests and small trees."""

    def mth(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaf_hashes[lo]
        k = _split(hi - lo)
        return node_hash(mth(lo, lo + k), mth(lo + k, hi))

    if len(leaf_hashes) == 0:
        return EMPTY_ROOT
    return mth(0, len(leaf_hashes))


# --------------------------------------------------------------------------- node sources


class NodeSource(Protocol):
    """Where proofs get stored nodes. ``(level, index)`` -> hash of that perfect subtree.

    Only complete subtrees exist. Missing keys are simply absent from the result.
    """

    def get_nodes(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]: ...


@dataclass
class DictNodeSource:
    """In-memory :class:`NodeSource`. ``calls`` counts ``get_nodes`` calls (for tests)."""

    nodes: dict[tuple[int, int], bytes] = field(default_factory=dict)
    calls: int = 0

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Iterable[bytes]) -> "DictNodeSource":
        src = cls()
        builder = TreeBuilder()
        for h in leaf_hashes:
            src.add(builder.append(h))
        return src

    def add(self, nodes: Iterable[tuple[int, int, bytes]]) -> None:
        for level, index, h in nodes:
            self.nodes[(level, index)] = h

    def get_nodes(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        self.calls += 1
        return {k: self.nodes[k] for k in keys if k in self.nodes}


def range_nodes(start: int, end: int) -> list[NodeKey]:
    """Aligned decomposition of ``[start, end)`` into perfect subtrees, left to right.

    Each step takes the largest node that starts at ``start`` (aligned) and fits before
    ``end``; the result has at most ``2 log2(end - start) + 2`` nodes.
    """
    if not 0 <= start <= end:
        raise ProofError(f"invalid leaf range [{start}, {end})")
    out: list[NodeKey] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length()
        while (1 << level) > end - start:
            level -= 1
        out.append((level, start >> level))
        start += 1 << level
    return out


def _check_subtree(start: int, end: int) -> None:
    if not 0 <= start < end:
        raise ProofError(f"invalid subtree [{start}, {end}): must be non-empty")
    width = 1 << (end - start - 1).bit_length()  # smallest power of two >= end - start
    if start % width:
        raise ProofError(
            f"invalid subtree [{start}, {end}): start must be a multiple of {width}"
        )


def _fetch(source: NodeSource, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    got = source.get_nodes(wanted)
    for k in wanted:
        h = got.get(k)
        if h is None:
            raise ProofError(f"Merkle node (level {k[0]}, index {k[1]}) is not available")
        if len(h) != HASH_SIZE:
            raise ProofError(f"Merkle node (level {k[0]}, index {k[1]}) is not 32 bytes")
    return got


def _range_hash(start: int, end: int, nodes: Mapping[NodeKey, bytes]) -> bytes:
    """MTH of an aligned range from its decomposition: fold right to left."""
    keys = range_nodes(start, end)
    h = nodes[keys[-1]]
    for k in reversed(keys[:-1]):
        h = node_hash(nodes[k], h)
    return h


def _compute(ranges: Sequence[tuple[int, int]], source: NodeSource) -> list[bytes]:
    nodes = _fetch(source, (k for a, b in ranges for k in range_nodes(a, b)))
    return [_range_hash(a, b, nodes) for a, b in ranges]


def subtree_root(start: int, end: int, source: NodeSource) -> bytes:
    """MTH of leaves ``[start, end)`` (a valid subtree: ``start`` aligned) in one fetch."""
    _check_subtree(start, end)
    return _compute([(start, end)], source)[0]


def tree_root(size: int, source: NodeSource) -> bytes:
    """MTH of the first ``size`` leaves (``EMPTY_ROOT`` for 0), in one fetch."""
    if size < 0:
        raise ProofError(f"invalid tree size {size}")
    if size == 0:
        return EMPTY_ROOT
    return subtree_root(0, size, source)


# --------------------------------------------------------------------------- proof shapes


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form PATH(index, D[size]) (RFC 9162 section 2.1.3.1), in order."""
    if size <= 0 or not 0 <= index < size:
        raise ProofError(f"no inclusion proof for index {index} in a tree of size {size}")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo = lo + k
    out.reverse()  # RFC order: from the leaf's sibling upward
    return out


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form PROOF(size1, D[size2]) (RFC 9162 section 2.1.4.1), in order."""
    if size1 <= 0 or size1 > size2:
        raise ProofError(f"no consistency proof from size {size1} to size {size2}")
    out: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, size2, size1, True  # SUBPROOF(m, D[lo:hi], complete)
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                out.append((lo, hi))
            break
        k = _split(n)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    out.reverse()  # SUBPROOF appends the outer hash after the inner proof
    return out


def inclusion_proof(index: int, size: int, source: NodeSource) -> list[bytes]:
    """RFC 9162 inclusion proof for leaf ``index`` in the tree of ``size`` (one fetch)."""
    return _compute(inclusion_ranges(index, size), source)


def consistency_proof(size1: int, size2: int, source: NodeSource) -> list[bytes]:
    """RFC 9162 consistency proof from ``size1`` to ``size2`` (one fetch); ``[]`` if equal."""
    return _compute(consistency_ranges(size1, size2), source)


# --------------------------------------------------------------------------- incremental


class TreeBuilder:
    """Append-only tree state kept as its frontier (compact range ``[0, size)``).

    ``frontier`` holds the hashes of the perfect subtrees on the right edge, largest
    (leftmost) first: one per set bit of ``size``, from the most significant bit down.
    """

    def __init__(self, size: int = 0, frontier: Sequence[bytes] = ()) -> None:
        if size < 0:
            raise ProofError(f"invalid tree size {size}")
        frontier = [bytes(h) for h in frontier]
        if len(frontier) != bin(size).count("1"):
            raise ProofError(
                f"frontier of a tree of size {size} must have {bin(size).count('1')} "
                f"hashes, got {len(frontier)}"
            )
        if any(len(h) != HASH_SIZE for h in frontier):
            raise ProofError("frontier hashes must be 32 bytes")
        self._size = size
        self._frontier = frontier

    @staticmethod
    def frontier_keys(size: int) -> list[NodeKey]:
        """Node keys of the frontier of a tree of ``size``, largest first."""
        keys: list[NodeKey] = []
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                keys.append((level, start >> level))
                start += 1 << level
        return keys

    @classmethod
    def from_source(cls, size: int, source: NodeSource) -> "TreeBuilder":
        """Restore the builder of a stored tree of ``size`` (one fetch)."""
        keys = cls.frontier_keys(size)
        nodes = _fetch(source, keys)
        return cls(size, [nodes[k] for k in keys])

    @property
    def size(self) -> int:
        return self._size

    @property
    def frontier(self) -> list[bytes]:
        return list(self._frontier)

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; return every newly completed node ``(level, index, hash)``."""
        if len(leaf_hash) != HASH_SIZE:
            raise ProofError("leaf hash must be 32 bytes")
        h = bytes(leaf_hash)
        level, index = 0, self._size
        out = [(0, index, h)]
        while self._size >> level & 1:
            h = node_hash(self._frontier.pop(), h)
            level += 1
            index >>= 1
            out.append((level, index, h))
        self._frontier.append(h)
        self._size += 1
        return out

    def root(self) -> bytes:
        """MTH of the whole tree, from the frontier in O(log n)."""
        if not self._frontier:
            return EMPTY_ROOT
        h = self._frontier[-1]
        for left in reversed(self._frontier[:-1]):
            h = node_hash(left, h)
        return h


# --------------------------------------------------------------------------- verification


def _check_hash(what: str, h: bytes) -> None:
    if not isinstance(h, (bytes, bytearray)) or len(h) != HASH_SIZE:
        n = len(h) if isinstance(h, (bytes, bytearray)) else "non-bytes"
        raise ProofError(f"{what} must be a 32-byte hash, got {n} bytes")


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root implied by an inclusion proof (RFC 9162 section 2.1.3.2 steps 1-5)."""
    _check_hash("leaf hash", leaf_hash)
    if size <= 0:
        raise ProofError(f"inclusion proof in an empty tree (size {size})")
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    expected = len(inclusion_ranges(index, size))
    if len(proof) != expected:
        raise ProofError(
            f"inclusion proof for index {index} in size {size} must have {expected} "
            f"hashes, got {len(proof)}"
        )
    for i, p in enumerate(proof):
        _check_hash(f"inclusion proof hash {i}", p)
    fn, sn, r = index, size - 1, bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 section 2.1.3.2. Raises :class:`ProofError` saying what failed."""
    _check_hash("root hash", root)
    r = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if r != root:
        raise ProofError(
            f"inclusion proof for index {index} does not lead to the root of size {size}"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 section 2.1.4.2. Raises :class:`ProofError` saying what failed."""
    if size1 < 0 or size2 < 0:
        raise ProofError(f"invalid tree sizes {size1}, {size2}")
    if size1 > size2:
        raise ProofError(f"tree size went backwards: {size1} > {size2}")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing (size1 = 0)")
    if size1 == size2:
        if len(proof) != 0:
            raise ProofError(f"equal sizes ({size1}) need an empty proof, got {len(proof)} hashes")
        if bytes(root1) != bytes(root2):
            raise ProofError(f"two different roots for the same tree size {size1}")
        return
    _check_hash("old root hash", root1)
    _check_hash("new root hash", root2)
    expected = len(consistency_ranges(size1, size2))
    if len(proof) != expected:
        raise ProofError(
            f"consistency proof from {size1} to {size2} must have {expected} hashes, "
            f"got {len(proof)}"
        )
    for i, p in enumerate(proof):
        _check_hash(f"consistency proof hash {i}", p)
    # RFC 9162 section 2.1.4.2
    path = list(proof)
    if not path:  # step 1
        raise ProofError("empty consistency proof")
    if size1 & (size1 - 1) == 0:  # step 2: size1 is an exact power of 2
        path.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # step 7
        raise ProofError("consistency proof is too short")
    if fr != root1:
        raise ProofError(f"consistency proof does not reproduce the old root (size {size1})")
    if sr != root2:
        raise ProofError(f"consistency proof does not reproduce the new root (size {size2})")
