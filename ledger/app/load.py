"""The one loader: verify the ledger at a path and hand over its verified state.

Every command that reads a ledger calls :func:`open_ledger`: ``ledger verify`` prints its
report; the scoring, statement, status, sign and creation commands and the people-facing
reports use the verifier it leaves (the policy in force, the scoring state). There is one
loop that feeds entries to a verifier for them all (:func:`_feed`); the parallel signature
checks (``jobs``) and the resumption from a verifier state file (``state``, SPEC.md 9) are
options of it. A command that needs a valid ledger refuses with :class:`LedgerRefused`
(:meth:`Loaded.refuse_if_invalid`), which carries the violations.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from ..core import canonical, note
from ..core.merkle import TreeBuilder, leaf_hash
from ..core.note import Checkpoint
from ..core.policy import Policy
from ..core.verify import Verifier, Violation
from ..errors import InputError, LedgerError, LedgerRefused
from ..log.checkpoints import CheckpointAuditor
from ..storage.diskstate import DiskState, disk_verifier
from ..storage.incremental import fresh_state, hash_line, load, load_tree, save
from ..storage.remote import is_published, is_url, open_published
from ..storage.store import LedgerStore, is_sqlite_file, open_entries
from ..storage.views import check_store
from .audit import AuditReport, parse_log_keys, stored_checkpoints

#: Called after each entry is fed: (the verifier, the entry's bytes, its violations).
Watch = Callable[[Verifier, bytes, list[Violation]], None]


@dataclass
class Loaded:
    """A ledger as the verifier leaves it after its last entry, with the report of
    everything judged on the way (SPEC.md 8.2). Holds the verifier's on-disk state: close
    it (or use it as a context manager); closing renames a state file saved by this run
    over the old one."""

    report: AuditReport
    verifier: Verifier
    name: str | None = None  # the genesis statement's human name
    _disk: DiskState | None = field(default=None, repr=False)
    _fresh: Path | None = field(default=None, repr=False)  # a new state file, renamed over ``_state`` when saved
    _state: Path | None = field(default=None, repr=False)
    _saved: bool = field(default=False, repr=False)

    @property
    def location(self) -> str:
        return self.report.path

    @property
    def ledger_id(self) -> str | None:
        return self.verifier.context.ledger_id

    @property
    def origin(self) -> str | None:
        return self.verifier.context.origin

    @property
    def policy(self) -> Policy | None:
        return self.verifier.context.policy

    @property
    def violations(self) -> list[Violation]:
        """The first ``keep`` violations (all are counted in :attr:`violation_count`)."""
        return self.report.violations

    @property
    def violation_count(self) -> int:
        return self.report.violation_count

    def scoring_state(self) -> Any:
        from ..scoring.process import scoring_process

        process = scoring_process(self.verifier)
        return None if process is None else process.state

    def require_ledger(self) -> Loaded:
        """Self, or InputError if no genesis entry was valid (not a ledger, or an empty one)."""
        if self.ledger_id is None:
            raise InputError(f"{self.location}: no valid genesis entry (not a ledger, or an empty one)")
        return self

    def failing(self) -> str:
        """"the ledger at X fails verification (N violation(s), first: ...)"."""
        return (f"the ledger at {self.location} fails verification ({self.violation_count} violation(s), "
                f"first: {self.violations[0] if self.violations else 'not kept'})")

    def refuse_if_invalid(self, refusing: str) -> None:
        """Fail closed: :class:`LedgerRefused` (with the violations) unless every rule held."""
        if self.violation_count:
            raise LedgerRefused(f"{self.failing()}: {refusing}", self.violations, self.violation_count)

    def close(self) -> None:
        if self._disk is not None:
            self._disk.close()  # rolls back whatever was not saved
            self._disk = None
        if self._fresh is not None:
            if self._saved and self._state is not None:
                os.replace(self._fresh, self._state)
            else:
                self._fresh.unlink(missing_ok=True)
            self._fresh = None

    def __enter__(self) -> Loaded:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_ledger(
    location: str | os.PathLike[str],
    *,
    state: str | os.PathLike[str] | None = None,
    since_checkpoint: bool = False,
    jobs: int = 1,
    checkpoints: Sequence[tuple[str, bytes]] = (),
    log_keys: Sequence[str] = (),
    keep: int = 1000,
    progress: Callable[[int], None] | None = None,
    watch: Watch | None = None,
) -> Loaded:
    """Verify every entry at ``location`` (SQLite ledger, bundle, or published directory or
    URL) and return the verified state; keeps the first ``keep`` violations in the report.

    The Merkle tree is rebuilt from the entries and the ledger is checked against every given
    checkpoint ``(source, note bytes)``, against a published ledger's own ``checkpoint`` and a
    SQLite ledger's stored ones (14.8), with the pinned ``log_keys`` or else the ledger's
    operator keys (14.7); a SQLite ledger's views and derived columns too (SPEC.md 9).

    ``state``: resume from this verifier state file when it describes exactly the ledger's
    first entries, and save it when every entry passed (SPEC.md 9). ``since_checkpoint``:
    resume without reading those entries again; the saved tree, extended by the new entries,
    must then match a signed checkpoint of that size or more. ``jobs`` > 1 checks signatures
    on that many worker processes (``ledger.core.parallel``); the report is the same.
    ``progress(n)`` is told of every entry read; ``watch`` sees every entry fed.

    InputError if it cannot be read. Whether violations (or no valid genesis) make the caller
    refuse is the caller's choice (:meth:`Loaded.refuse_if_invalid`, :meth:`Loaded.require_ledger`)."""
    parse_log_keys(log_keys)  # a malformed key is a usage error before anything is read
    start = _start(location, state, since_checkpoint, checkpoints, log_keys, progress)
    loaded = Loaded(start.report, start.verifier, _disk=start.disk, _fresh=start.fresh,
                    _state=None if state is None else Path(state))
    try:
        loaded.name, gap = _feed(start, jobs, keep, progress, watch)
        loaded._saved = _judge(start, keep, gap)
        if loaded.name is None and start.report.resumed_from:
            loaded.name = _genesis_name(location, loaded.ledger_id)
    except BaseException:
        loaded.close()
        raise
    return loaded


def verify_path(location: str | os.PathLike[str], **options: Any) -> AuditReport:
    """The report of :func:`open_ledger` (same options), its state closed."""
    with open_ledger(location, **options) as loaded:
        return loaded.report


@dataclass
class _Start:
    """Where the one feeding loop starts: the entries still to feed and the state they extend."""

    report: AuditReport
    entries: Iterable[bytes]
    verifier: Verifier
    disk: DiskState
    auditor: CheckpointAuditor
    fresh: Path | None = None  # a new state file (``state`` given, not resumed)
    prefix: Any = None  # SHA-256 of the bundle lines fed so far (``state`` given, not anchored)
    tree: TreeBuilder | None = None  # the tree saved with the state (``state`` given)


def _start(location: str | os.PathLike[str], state: str | os.PathLike[str] | None, since_checkpoint: bool,
           checkpoints: Sequence[tuple[str, bytes]], log_keys: Sequence[str],
           progress: Callable[[int], None] | None) -> _Start:
    if state is not None:
        return _resume(location, Path(state), since_checkpoint, list(checkpoints), log_keys, progress)
    given = list(checkpoints)
    stored: list[tuple[str, bytes]] = []
    entries: Iterable[bytes]
    if is_published(location):
        entries, published = open_published(location)
        given.insert(0, (f"{str(location).rstrip('/')}/checkpoint", published))
    else:
        stored = stored_checkpoints(location)
        entries = open_entries(location)
    if log_keys and not given and not stored:
        # SPEC.md 14.8: a pinned key that judges nothing would be silently ignored; refuse.
        raise InputError(f"{location}: --log-key cannot be applied: there is no signed checkpoint to check it against "
                         f"(give --checkpoint FILE, or verify the published directory or URL)")
    auditor = CheckpointAuditor(given, log_keys, stored)
    disk = DiskState()  # the statement index and incidents on disk: flat memory (ledger.storage.diskstate)
    return _Start(AuditReport(str(location)), entries, disk_verifier(disk), disk, auditor)


def _resume(location: str | os.PathLike[str], state: Path, since_checkpoint: bool, checkpoints: list[tuple[str, bytes]],
            log_keys: Sequence[str], progress: Callable[[int], None] | None) -> _Start:
    """The start of a run with a state file (SPEC.md 9): resumed from it when it describes
    exactly the ledger's first entries (re-read and hashed, or with ``since_checkpoint``
    anchored to a signed checkpoint instead), else a full run into a fresh state file."""
    path = Path(location)
    if is_url(location):  # (a directory is refused by open_entries, as any other non-ledger)
        raise InputError(f"{location}: a verifier state file (--state) resumes a SQLite ledger or a bundle, not a URL")
    stored = stored_checkpoints(path)  # judged by default (SPEC.md 14.8)
    loaded = load(state) if state.exists() else None
    if loaded is not None:
        size, digest, verifier, disk = loaded
        saved_tree = load_tree(disk, size)
        if since_checkpoint and saved_tree is not None:
            # the latest cosigned stored checkpoint, if older than the state, cannot be judged
            # without the prefix: left out; any other older one is an input error below
            recent = stored[:1] + [item for item, (_, cp) in zip(stored[1:], _bodies(stored[1:]))
                                   if cp is None or cp.size >= size]
            auditor = CheckpointAuditor(checkpoints, log_keys, recent)
            for result, _, cp in auditor.items:  # an unreadable one is reported by the auditor
                if cp is not None and cp.size < size:
                    disk.close()
                    raise InputError(f"checkpoint {result.source} (size {cp.size}) is older than the saved state "
                                     f"(size {size}): verify without --since-checkpoint to check it")
            auditor.resume(saved_tree, verifier.context.policy)
            report = AuditReport(str(path), resumed_from=size, anchored=True)
            return _Start(report, open_entries(path, size), verifier, disk, auditor, tree=saved_tree)
        entries = open_entries(path)
        prefix = hashlib.sha256()
        rebuilt = TreeBuilder() if saved_tree is None or not digest else None
        seen = 0
        for raw in itertools.islice(entries, size):
            hash_line(prefix, raw)
            if rebuilt is not None:
                rebuilt.append(leaf_hash(raw))
            seen += 1
            if progress is not None:
                progress(1)
        if digest:
            same = seen == size and prefix.digest() == digest
        else:  # saved by an anchored run: compare the re-read prefix's Merkle root
            same = seen == size and saved_tree is not None and rebuilt is not None and rebuilt.root() == saved_tree.root()
        # a stored checkpoint older than the state could only be judged from the start
        same = same and all(cp is None or cp.size >= size for _, cp in _bodies(stored + checkpoints))
        if same:
            tree = saved_tree or rebuilt
            assert tree is not None
            auditor = CheckpointAuditor(checkpoints, log_keys, stored)
            auditor.resume(tree, verifier.context.policy)
            return _Start(AuditReport(str(path), resumed_from=size), entries, verifier, disk, auditor,
                          prefix=prefix, tree=tree)
        disk.close()
        _close(entries)
    entries = open_entries(path)
    fresh, disk = fresh_state(state)
    tree = TreeBuilder()
    auditor = CheckpointAuditor(checkpoints, log_keys, stored)
    auditor.resume(tree, None)
    return _Start(AuditReport(str(path)), entries, disk_verifier(disk), disk, auditor, fresh=fresh,
                  prefix=hashlib.sha256(), tree=tree)


def _feed(start: _Start, jobs: int, keep: int, progress: Callable[[int], None] | None,
          watch: Watch | None) -> tuple[str | None, int | None]:
    """THE loop that feeds entries to a verifier for every command. Returns the genesis name
    if the genesis entry was among them, and the first position whose entry carries another
    ``seq`` (R-7.4), for the messages of R-14.3 and R-14.4."""
    verifier, auditor, report, prefix = start.verifier, start.auditor, start.report, start.prefix
    fed: Iterable[tuple[bytes, Any]]
    if jobs > 1:
        from ..core.parallel import precomputed_signatures

        fed = precomputed_signatures(start.entries, jobs)
    else:
        fed = ((raw, None) for raw in start.entries)
    name: str | None = None
    gap: int | None = None
    count = 0
    for raw, precomputed in fed:
        found = verifier.feed(raw, precomputed)
        gap = _first_gap(gap, found, verifier)
        if found:
            _note(report, found, keep)
        assert verifier.head is not None
        auditor.observe(verifier.head, verifier.context.policy)  # extends the tree
        if prefix is not None:
            hash_line(prefix, raw)
        if name is None and verifier.size == 1 and verifier.context.ledger_id is not None:
            name = canonical.parse(raw)["statement"]["body"]["name"]
        if watch is not None:
            watch(verifier, raw, found)
        count += 1
        if progress is not None:
            progress(1)
    report.new_entries = count
    return name, gap


def _judge(start: _Start, keep: int, gap: int | None) -> bool:
    """After the last entry: the whole-ledger findings, the store (SPEC.md 9), every
    checkpoint (R-14.x); then the state is saved if every entry passed. True if saved."""
    verifier, auditor, report = start.verifier, start.auditor, start.report
    if report.anchored and not auditor.items:
        raise InputError(f"no signed checkpoint of size {report.resumed_from} to {verifier.size} to anchor the "
                         f"saved state to: give --checkpoint FILE, or verify without --since-checkpoint")
    _note(report, verifier.finish(), keep)
    path = report.path
    if not is_published(path) and is_sqlite_file(path):  # SPEC.md 9: views and derived columns
        with LedgerStore.open(path, readonly=True) as store:
            _note(report, check_store(store.conn, report.resumed_from if report.anchored else 0), keep)
    # Every checkpoint is judged (R-14.x); one that fails is a violation, so the run fails
    # and no state is saved: the saved tree would not match the signed one.
    results = auditor.finish(verifier.context.origin, revoked=verifier.revoked, gap=gap)
    for result in results:
        _note(report, result.violations, keep)
    _note(report, auditor.findings, keep)
    saved = False
    if (start.tree is not None and verifier.violations_seen == 0 and report.violation_count == 0
            and verifier.head is not None and report.new_entries):
        save(start.disk, verifier, start.prefix.digest() if start.prefix is not None else b"", start.tree)
        saved = True
    report.take_final_state(verifier)
    report.take_checkpoints(auditor, results)
    return saved


def _first_gap(gap: int | None, found: Sequence[Violation], verifier: Verifier) -> int | None:
    """The first position whose entry carries another ``seq`` (R-7.4), given the violations
    ``found`` for the entry just fed: for the messages of R-14.3 and R-14.4."""
    if gap is None and any(v.rule == "R-7.4" for v in found):
        return verifier.size - 1
    return gap


def _note(report: AuditReport, found: list[Violation], keep: int) -> None:
    report.violation_count += len(found)
    room = keep - len(report.violations)
    if room > 0:
        report.violations.extend(found[:room])


def _genesis_name(location: str | os.PathLike[str], ledger_id: str | None) -> str | None:
    """The name in the genesis entry of a run resumed from a state file (entry 0 was not fed):
    taken only from the statement whose digest is the verified ledger id."""
    entries = open_entries(location)
    try:
        statement = canonical.parse(next(entries))["statement"]
        if hashlib.sha256(canonical.encode(statement)).hexdigest() == ledger_id:
            return statement["body"]["name"]
    except (LedgerError, StopIteration, KeyError, TypeError):
        pass
    finally:
        _close(entries)
    return None


def _bodies(checkpoints: list[tuple[str, bytes]]) -> Iterator[tuple[str, Checkpoint | None]]:
    for source, data in checkpoints:
        try:
            yield source, Checkpoint.parse(note.parse_note(data)[0])
        except LedgerError:
            yield source, None


def _close(entries: Iterator[bytes]) -> None:
    close = getattr(entries, "close", None)
    if close is not None:
        close()
