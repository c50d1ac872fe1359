"""Checking a ledger against signed checkpoints, and the witness's decision (SPEC.md 14.6-14.9).

Pure module: note bytes, leaf hashes and policies in; violations and decisions out. The
tree is rebuilt from the entries with a :class:`~ledger.core.merkle.TreeBuilder` (memory
O(log n)), and the root is recorded only at the sizes of the checkpoints being checked.

Rules (reported by ``ledger verify --checkpoint``, seq = None):

* R-14.1 the checkpoint is a well-formed signed note, signed by the log key: a pinned
  ``--log-key``, or else an operator key of the ledger's policy in force just before or just
  after its last entry (the policy history of the ledger itself);
* R-14.2 its origin is the ledger's origin (the genesis body's ``origin``);
* R-14.3 the ledger has at least as many entries as the checkpoint (else: truncated, or a
  gap in the sequence);
* R-14.4 the root of the ledger's first ``size`` entries is the checkpoint's root (else:
  rewritten history, or a fork shown to another audience);
* R-14.5 the checkpoint carries cosignatures from at least ``threshold`` distinct witness
  keys of the policy in force at its size, and every cosignature by such a key verifies
  (a stored checkpoint's shortfall is shown, not a violation);
* R-14.6 a policy naming witnesses needs at least one judged, witnessed checkpoint;
* R-14.7 a checkpoint beyond the entries at hand is signed by an operator key in force
  after the last of them (a rotated-out or revoked key cannot sign for later sizes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from ..core import note
from ..core.merkle import EMPTY_ROOT, TreeBuilder, verify_consistency
from ..core.note import Checkpoint, NoteVerifier
from ..core.policy import Policy
from ..core.verify import Violation
from ..errors import LedgerError, ProofError

CONSISTENCY_HEADER = "old "


# --------------------------------------------------------------------------- keys


def operator_verifiers(origin: str, policy: Policy | None) -> list[NoteVerifier]:
    """The log verifier keys of a policy's operator role (name = origin, type 0x01)."""
    if policy is None:
        return []
    return [NoteVerifier(origin, policy.keys[k].raw) for k in policy.roles["operator"].key_ids]


def witness_config(policy: Policy | None) -> tuple[list[NoteVerifier], int]:
    """(witness verifiers, threshold) from a policy's ``witnesses`` member (none: ([], 0))."""
    if policy is None or not policy.witnesses:
        return [], 0
    keys = [NoteVerifier.from_string(k) for k in policy.witnesses.get("keys", [])]
    for k in keys:
        if k.sig_type != note.SIG_COSIGNATURE_V1:
            raise ProofError(f"witness key {k.name} is not a cosignature/v1 (type 0x04) key")
    return keys, int(policy.witnesses.get("threshold", 0))


@dataclass(frozen=True)
class WitnessResult:
    """Distinct witness keys whose cosignature verified, against the threshold."""

    threshold: int
    signed: tuple[str, ...]
    missing: tuple[str, ...]
    timestamps: Mapping[str, int] = field(default_factory=dict)

    @property
    def reached(self) -> bool:
        return len(self.signed) >= self.threshold

    def to_json(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "signed": list(self.signed), "missing": list(self.missing),
                "timestamps": dict(self.timestamps), "reached": self.reached}


def count_cosignatures(note_bytes: bytes, witnesses: Sequence[NoteVerifier], threshold: int) -> WitnessResult:
    """Verify every cosignature line of a known witness; raises ProofError on a bad one."""
    text, sigs = note.parse_note(note_bytes)
    data = text.encode("utf-8")
    known = {(w.name, w.key_id): w for w in witnesses}
    signed: dict[str, int] = {}
    for sig in sigs:
        w = known.get((sig.name, sig.key_id))
        if w is None:
            continue
        label = f"{w.name}+{w.key_id.hex()}"
        ts = w.verify(data, sig.signature)  # raises on a bad cosignature
        signed.setdefault(label, ts if ts is not None else 0)
    labels = [f"{w.name}+{w.key_id.hex()}" for w in witnesses]
    return WitnessResult(
        threshold, tuple(x for x in labels if x in signed), tuple(x for x in labels if x not in signed), signed
    )


# --------------------------------------------------------------------------- auditing


@dataclass
class _Snapshot:
    root: bytes
    before: Policy | None
    after: Policy | None


@dataclass
class CheckpointResult:
    source: str
    stored: bool = False  # one of the ledger database's own checkpoints (SPEC.md 14.8)
    size: int | None = None
    root: str | None = None
    origin: str | None = None
    signed_by: str | None = None
    witnesses: WitnessResult | None = None
    consistent: bool | None = None
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def witnessed(self) -> bool:
        """Signed, consistent, and cosigned by the witnesses its size requires (at least one)."""
        w = self.witnesses
        return bool(self.consistent and w is not None and w.threshold >= 1 and w.reached)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "stored": self.stored,
            "ok": self.ok,
            "origin": self.origin,
            "size": self.size,
            "root": self.root,
            "signed_by": self.signed_by,
            "witnesses": self.witnesses.to_json() if self.witnesses else None,
            "consistent": self.consistent,
        }


def _same_key(a: NoteVerifier, b: NoteVerifier) -> bool:
    return a.name == b.name and a.sig_type == b.sig_type and a.public_raw == b.public_raw


def _signer(data: bytes, candidates: Sequence[NoteVerifier], origin: str) -> tuple[NoteVerifier | None, str]:
    """The first candidate log key that signed the checkpoint note, or (None, the last error)."""
    error = "no candidate key"
    for v in candidates:
        try:
            note.open_checkpoint(data, v, origin=origin)
        except ProofError as exc:
            error = exc.message
            continue
        return v, ""
    return None, error


class CheckpointAuditor:
    """Rebuilds the tree while a verifier streams the entries, then judges checkpoints.

    ``checkpoints`` are the ones the auditor brings (``--checkpoint``, a publication's);
    ``stored`` the ledger database's own (SPEC.md 14.8). Call :meth:`observe` after each
    entry with its leaf hash and the policy in force after it, then :meth:`finish` with the
    ledger's origin; :attr:`findings` then holds the ledger-wide finding R-14.6.
    """

    def __init__(self, checkpoints: Sequence[tuple[str, bytes]], log_keys: Sequence[str] = (),
                 stored: Sequence[tuple[str, bytes]] = ()) -> None:
        self.pinned = [NoteVerifier.from_string(k) for k in log_keys]
        self._builder = TreeBuilder()
        self._policy: Policy | None = None
        self._all_operators: dict[str, Policy] = {}
        self._snapshots: dict[int, _Snapshot] = {}
        self.items: list[tuple[CheckpointResult, bytes, Checkpoint | None]] = []
        self.findings: list[Violation] = []
        self.witness_threshold = 0  # of the policy in force after the last entry
        for is_stored, group in ((False, checkpoints), (True, stored)):
            for source, data in group:
                result = CheckpointResult(source, stored=is_stored)
                cp = None
                try:
                    cp = Checkpoint.parse(note.parse_note(data)[0])
                    result.size, result.origin, result.root = cp.size, cp.origin, cp.root_hash.hex()
                except LedgerError as exc:
                    result.violations.append(Violation(None, "R-14.1", f"checkpoint {source}: {exc.message}"))
                self.items.append((result, data, cp))
        self._wanted = {cp.size for _, _, cp in self.items if cp is not None}
        if 0 in self._wanted:
            self._snapshots[0] = _Snapshot(EMPTY_ROOT, None, None)

    @property
    def size(self) -> int:
        return self._builder.size

    @property
    def policy(self) -> Policy | None:
        """The policy in force after the last entry observed."""
        return self._policy

    def root(self) -> bytes:
        return self._builder.root()

    def resume(self, builder: TreeBuilder, policy: Policy | None) -> None:
        """Start from the tree of entries already verified (a saved verifier state) instead
        of an empty one; ``policy`` is the policy in force after them. ``builder`` is then
        extended by :meth:`observe`."""
        self._builder = builder
        self._policy = policy
        if policy is not None:
            for kid in policy.roles["operator"].key_ids:
                self._all_operators.setdefault(kid, policy)
        if builder.size in self._wanted:
            self._snapshots[builder.size] = _Snapshot(builder.root(), policy, policy)

    def observe(self, leaf_hash: bytes, policy_after: Policy | None) -> None:
        before = self._policy
        self._builder.append(leaf_hash)
        if policy_after is not None and policy_after is not before:
            for kid in policy_after.roles["operator"].key_ids:
                self._all_operators.setdefault(kid, policy_after)
        if self._builder.size in self._wanted:
            self._snapshots[self._builder.size] = _Snapshot(self._builder.root(), before, policy_after)
        self._policy = policy_after

    def finish(self, origin: str | None, *, revoked: Mapping[str, int] | None = None,
               gap: int | None = None) -> list[CheckpointResult]:
        """Judge every checkpoint (R-14.1 to R-14.5, R-14.7), then the ledger-wide R-14.6.

        ``revoked``: key id -> seq of its revocation (for messages); ``gap``: the first seq
        at which an entry's ``seq`` was not its position (R-7.4), if any."""
        for result, data, cp in self.items:
            if cp is not None:
                result.violations.extend(self._judge(result, data, cp, origin, revoked or {}, gap))
        results = [r for r, _, _ in self.items]
        # a policy that names witnesses needs a witnessed checkpoint to be judged.
        try:
            self.witness_threshold = witness_config(self._policy)[1]
        except ProofError:  # an invalid witnesses member fails when it is adopted
            self.witness_threshold = 0
        failed_14_5 = any(v.rule == "R-14.5" for r in results for v in r.violations)
        if self.witness_threshold >= 1 and not failed_14_5 and not any(r.witnessed for r in results):
            judged = sum(1 for r in results if r.consistent is not None)
            self.findings.append(Violation(
                None, "R-14.6",
                f"the policy in force after entry {self.size - 1} requires {self.witness_threshold} witness "
                f"cosignature(s) on a checkpoint, and none of the {judged} checkpoint(s) judged carries them: "
                f"a fork shown only to you would pass; give --checkpoint FILE with a checkpoint its witnesses cosigned",
            ))
        return results

    def _operators_named(self, origin: str) -> list[tuple[str, NoteVerifier]]:
        return [(kid, NoteVerifier(origin, p.keys[kid].raw)) for kid, p in self._all_operators.items()]

    def _judge(self, result: CheckpointResult, data: bytes, cp: Checkpoint, origin: str | None,
               revoked: Mapping[str, int], gap: int | None) -> list[Violation]:
        where = f"checkpoint {result.source} (size {cp.size})"
        # the checkpoint names this ledger's origin.
        if origin is None:
            return [Violation(None, "R-14.2", f"{where}: the ledger has no valid genesis, so no origin to check against")]
        if cp.origin != origin:
            return [Violation(None, "R-14.2", f"{where}: origin {cp.origin!r} is not this ledger's origin {origin!r}")]
        snap = self._snapshots.get(cp.size)
        # signed by the log key with authority for that size (14.6).
        if snap is not None:
            candidates = self.pinned or (operator_verifiers(origin, snap.before) + operator_verifiers(origin, snap.after))
        else:  # beyond the entries at hand, only a key in force at their end has authority
            in_force = operator_verifiers(origin, self._policy)
            candidates = [v for v in self.pinned if any(_same_key(v, k) for k in in_force)] if self.pinned else in_force
        if not candidates and snap is not None:
            return [Violation(None, "R-14.1", f"{where}: no log key to check it with (give --log-key)")]
        signer, error = _signer(data, candidates, origin)
        if signer is None:
            if snap is None:
                others = [(None, v) for v in self.pinned] if self.pinned else self._operators_named(origin)
                for kid, v in others:
                    if _signer(data, [v], origin)[0] is not None:
                        why = f"revoked at entry {revoked[kid]}" if kid in revoked else "no longer an operator key"
                        return [Violation(
                            None, "R-14.7",
                            f"{where}: lies beyond the {self.size} entries at hand and is signed by {v}, which is not "
                            f"an operator key in force after entry {self.size - 1} ({why}): such a checkpoint is no "
                            f"evidence of truncation (SPEC.md 14.6); it was not made by the key in force",
                        )]
            which = "the pinned log key" if self.pinned else "an operator key of the ledger in force at that size"
            return [Violation(None, "R-14.1", f"{where}: not validly signed by {which} ({error})")]
        result.signed_by = str(signer)
        out: list[Violation] = []
        # the ledger still holds every entry the checkpoint covers.
        if snap is None:
            result.consistent = False
            if gap is not None:
                what = (f"entries are missing or out of place from seq {gap} on (a gap in the sequence, R-7.4), "
                        f"not only at the end")
            else:
                what = (f"entries {self.size}..{cp.size - 1} covered by this signed checkpoint are missing "
                        f"(truncated after publication)")
            out.append(Violation(None, "R-14.3", f"{where}: the ledger has only {self.size} entries; {what}"))
        # the ledger's first `size` entries hash to the checkpoint's root.
        elif snap.root != cp.root_hash:
            result.consistent = False
            what = (f"entries were removed, inserted or reordered from seq {gap} on" if gap is not None and gap < cp.size
                    else f"history before entry {cp.size} was rewritten, or this is a fork (a different ledger "
                         f"shown to another audience)")
            out.append(Violation(
                None, "R-14.4",
                f"{where}: the tree of this ledger's first {cp.size} entries has root {snap.root.hex()[:16]}…, "
                f"the signed checkpoint says {cp.root_hash.hex()[:16]}…: {what}",
            ))
        else:
            result.consistent = True
        # the witness threshold of the policy in force at that size.
        policy = snap.after if snap is not None else self._policy
        try:
            witnesses, threshold = witness_config(policy)
            result.witnesses = count_cosignatures(data, witnesses, threshold)
        except ProofError as exc:
            out.append(Violation(None, "R-14.5", f"{where}: {exc.message}"))
        else:
            if not result.witnesses.reached and not result.stored:
                out.append(Violation(
                    None, "R-14.5",
                    f"{where}: {len(result.witnesses.signed)} of {threshold} required witness cosignatures",
                ))
        return out


# --------------------------------------------------------------------------- witnesses


def format_consistency_proof(old_size: int, proof: Iterable[bytes]) -> bytes:
    """``"old <size>\\n"`` then one base64 hash per line (as in a C2SP tlog-witness request)."""
    return (f"{CONSISTENCY_HEADER}{old_size}\n" + "".join(note.b64encode(h) + "\n" for h in proof)).encode("ascii")


def parse_consistency_proof(data: bytes | str) -> tuple[int, list[bytes]]:
    if isinstance(data, bytes):
        try:
            data = data.decode("ascii")
        except UnicodeDecodeError:
            raise ProofError("consistency proof is not ASCII text") from None
    if not data.endswith("\n"):
        raise ProofError("consistency proof must end with a newline")
    lines = data[:-1].split("\n")
    if not lines[0].startswith(CONSISTENCY_HEADER):
        raise ProofError("consistency proof must start with 'old <size>'")
    size = note._parse_decimal(lines[0][len(CONSISTENCY_HEADER):], "old size")
    hashes = []
    for i, line in enumerate(lines[1:]):
        h = note.b64decode(line, f"consistency proof hash {i}")
        if len(h) != 32:
            raise ProofError(f"consistency proof hash {i} is not 32 bytes")
        hashes.append(h)
    if len(hashes) > 64:
        raise ProofError("consistency proof has more than 64 hashes")
    return size, hashes


class WitnessRefusal(ProofError):
    """The witness will not cosign: the checkpoint is not an append-only extension."""


def witness_check(
    new_note: bytes,
    log_key: NoteVerifier,
    old_note: bytes | None,
    proof: tuple[int, Sequence[bytes]] | None,
) -> Checkpoint:
    """Decide whether a witness may cosign ``new_note`` (C2SP tlog-witness semantics).

    The note must be signed by the log key with origin = the key's name. With no earlier
    checkpoint for this origin the witness starts from this one. Otherwise the size must not
    go down, an equal size needs the identical root, and a larger size needs a consistency
    proof from the old size that verifies between the two roots. Raises WitnessRefusal.
    """
    try:
        new, _ = note.open_checkpoint(new_note, log_key)
    except ProofError as exc:
        raise WitnessRefusal(f"refusing to cosign: {exc.message}") from None
    if old_note is None:
        return new
    old = Checkpoint.parse(note.parse_note(old_note)[0])
    if new.size < old.size:
        raise WitnessRefusal(
            f"refusing to cosign: rollback from size {old.size} (already cosigned) to {new.size} for {new.origin}"
        )
    if new.size == old.size:
        if new.root_hash != old.root_hash:
            raise WitnessRefusal(
                f"refusing to cosign: fork at size {new.size} for {new.origin}: root {new.root_hash.hex()[:16]}… "
                f"differs from the root {old.root_hash.hex()[:16]}… already cosigned"
            )
        return new
    if old.size == 0:
        return new
    if proof is None:
        raise WitnessRefusal(
            f"refusing to cosign: a consistency proof from size {old.size} to {new.size} is needed"
        )
    proof_old, hashes = proof
    if proof_old != old.size:
        raise WitnessRefusal(
            f"refusing to cosign: the consistency proof starts at size {proof_old}, the last cosigned size is {old.size}"
        )
    try:
        verify_consistency(old.size, new.size, hashes, old.root_hash, new.root_hash)
    except ProofError as exc:
        raise WitnessRefusal(
            f"refusing to cosign: size {new.size} is not an append-only extension of size {old.size} "
            f"already cosigned for {new.origin} (fork or rewrite: {exc.message})"
        ) from None
    return new
