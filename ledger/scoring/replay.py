"""The replay engine: a round's ranking, recomputed from the ledger (SPEC.md section 12).

``replay(source, round_number)`` is a pure function of the ledger's entries and a round
number. Arithmetic is exact: contributions are integers over the rules' common
denominator, per-organization totals are :class:`fractions.Fraction`, and only the
*displayed* figures are rounded (half to even, a fixed number of places). Ranking uses
the exact values; ties are reported, never broken silently. The result is a canonical
JSON document whose SHA-256 is the digest a ``round.decide`` entry commits to.
"""

from __future__ import annotations

import hashlib
import re
from binascii import hexlify
from dataclasses import dataclass
from fractions import Fraction
from math import gcd
from typing import Any, Callable, Iterable

from .. import canonical
from ..errors import LedgerError
from .rules import Rules, display, exact, parse_decimal
from .state import COUNT_INDEX, Round, ScoringState, Spool, date_interval

DOCUMENT_FORMAT = "violence-scoring-ledger/v1/ranking"

# Exclusion reasons (SPEC.md 12.4), incident-level then attribution-level.
RECORDED_AFTER_CLOSE = "recorded_after_close"
SUPERSEDED = "superseded"
RETRACTED = "retracted"
OUTSIDE_WINDOW = "outside_window"
TOO_FEW_SOURCES = "too_few_sources"
UNATTRIBUTED = "unattributed"
INELIGIBLE_ORG = "ineligible_org"
DISPUTE_UPHELD = "dispute_upheld"
CONTESTED = "contested"


class ReplayError(LedgerError):
    """A round cannot be replayed (unknown round, unknown rules)."""


@dataclass(frozen=True)
class RankingDocument:
    """The canonical ranking document of one round and its digest.

    ``replay(..., digest_only=True)`` computes the digest without holding the document:
    then ``raw`` is None and the document's long lists (``excluded`` and each
    organization's ``incidents``) are None; everything else is there."""

    round: int
    document: dict[str, Any]
    raw: bytes | None
    sha256: str = ""

    def __post_init__(self) -> None:
        if not self.sha256:
            assert self.raw is not None
            object.__setattr__(self, "sha256", hashlib.sha256(self.raw).hexdigest())

    @property
    def digest(self) -> str:
        return self.sha256

    @property
    def selection(self) -> dict[str, Any]:
        return self.document["selection"]

    def allowed_targets(self) -> list[str | None]:
        """The targets a decision may name without a justification (SPEC.md 12.8)."""
        selection = self.selection
        if selection["target"] is not None:
            return [selection["target"]]
        if selection["candidates"]:
            return list(selection["candidates"])
        return [None]


def in_window(body: dict[str, Any], start: str, end: str) -> bool:
    first, last = date_interval(body["date"], body["date_precision"])
    return start <= first and last <= end


def replay(source: ScoringState | Iterable[bytes], round_number: int, *, rules_digest: str | None = None,
           digest_only: bool = False) -> RankingDocument:
    """The ranking document of ``round_number``.

    ``source`` is the scoring state after the ledger (or a prefix of it) or the raw entries
    of a ledger, which are then verified first. ``rules_digest`` replays the round with
    other adopted rules than those it committed to (only to diagnose a mismatch, R-12.2).
    ``digest_only``: compute the same digest without building the document's long lists
    in memory (they go through ``state.spool``); what verification needs.
    """
    state = source if isinstance(source, ScoringState) else state_of(source)
    round_ = state.rounds.get(round_number)
    if round_ is None:
        raise ReplayError(f"no round {round_number} in this ledger")
    digest = rules_digest or round_.rules
    rules = state.rules.get(digest)
    if rules is None:  # pragma: no cover - R-11.3 admits no such round
        raise ReplayError(f"round {round_number} commits to unknown rules {digest[:16]}…")
    if digest_only:
        document, spools = _rank(state, round_, rules, spool=state.spool)
        streamed = _stream_digest(document, spools)
        if streamed is not None:
            return RankingDocument(round_number, document, None, streamed)
    document, _ = _rank(state, round_, rules)
    return RankingDocument(round_number, document, canonical.encode(document))


def state_of(raws: Iterable[bytes]) -> ScoringState:
    """Verify ``raws`` and return the scoring state they leave (violations are ignored here:
    an entry with a violation has no effect, exactly as in ``ledger verify``)."""
    from ..verify import new_verifier
    from .process import scoring_process

    verifier = new_verifier()
    for raw in raws:
        verifier.feed(raw)
    process = scoring_process(verifier)
    if process is None:  # pragma: no cover
        raise ReplayError("the verifier has no scoring process")
    return process.state


_PLAIN = re.compile(r"[a-z0-9][a-z0-9._-]*")  # identifiers (10): their JSON text needs no escape


def _json_text(text: str) -> bytes:
    if _PLAIN.fullmatch(text):
        return f'"{text}"'.encode()
    return canonical.encode(text)


def _marker(i: int) -> str:
    return f"@@spool-{i}@@"  # no identifier, digest or decimal of the document looks like this


def _stream_digest(document: dict[str, Any], spools: list[Spool]) -> str | None:
    """SHA-256 of the canonical document whose long lists are in ``spools`` (item bytes,
    already canonical) and shown in ``document`` as markers: the canonical encoding of an
    array is ``[`` items joined by ``,`` ``]``, so the bytes are those of the whole document.
    None if a marker is not found exactly once (then the caller encodes the whole)."""
    raw = canonical.encode(document)
    pieces: list[tuple[int, int, Spool]] = []
    for i, spool in enumerate(spools):
        mark = canonical.encode(_marker(i))
        at = raw.find(mark)
        if at < 0 or raw.find(mark, at + 1) >= 0:
            return None
        pieces.append((at, at + len(mark), spool))
    pieces.sort(key=lambda p: p[0])
    h = hashlib.sha256()
    done = 0
    for begin, end, spool in pieces:
        h.update(raw[done:begin])
        h.update(b"[")
        batch: list[bytes] = []
        first = True
        for item in spool:
            batch.append(item)
            if len(batch) >= 4096:
                if not first:
                    h.update(b",")
                h.update(b",".join(batch))
                batch.clear()
                first = False
        if batch:
            if not first:
                h.update(b",")
            h.update(b",".join(batch))
        h.update(b"]")
        done = end
    h.update(raw[done:])
    return h.hexdigest()


def _rank(state: ScoringState, round_: Round, rules: Rules,
          spool: Callable[[], Spool] | None = None) -> tuple[dict[str, Any], list[Spool]]:
    """The ranking document of ``round_`` under ``rules``. With ``spool``, the long lists
    are written to spools as canonical item bytes and appear in the document as markers
    (see :func:`_stream_digest`); the spools are returned in marker order."""
    body = round_.body
    start, end = body["window"]["start"], body["window"]["end"]
    eligible = sorted(body["eligible"])
    eligible_set = set(eligible)
    # Entries before ``cutoff`` count; entries in [cutoff, limit) are shown as late.
    limit = round_.decide_seq if round_.decide_seq is not None else state.size
    cutoff = round_.close_seq if round_.close_seq is not None else limit
    count_index = COUNT_INDEX[rules.count]
    weight = rules.weight
    min_sources = rules.min_sources
    split = rules.joint == "split"
    exclude_contested = rules.contested_mode == "exclude"
    disputed = state.disputes_by_attribution
    multipliers: dict[tuple[str, str, bool], int] = {}
    denominator = rules.denominator
    places = rules.places
    open_seq = round_.open_seq

    raw_by_org: dict[str, dict[int, int]] = {o: {} for o in eligible}
    breakdown: dict[str, dict[tuple[str, str, int], int]] = {o: {} for o in eligible}
    # Counted incidents per organization, in incident order: (incident, seq, digest, share,
    # total) tuples, or their canonical items in a spool.
    contributions: dict[str, Any] = {o: (spool() if spool is not None else []) for o in eligible}
    excluded: Any = spool() if spool is not None else []
    exclusions = 0
    counted_incidents = 0
    texts: dict[tuple[int, int], bytes] = {}  # (total, share) -> the item's first members

    # Incidents come in ascending id order, so that every list of the document is built in
    # its final order: each organization's incidents (one counted version per incident) and
    # the exclusions (sorted by incident, then seq, reason, org within the incident).
    for incident in state.incidents.values():
        incident_id = incident.incident_id
        versions = incident.versions
        first_seq = versions[0][0]
        found: list[tuple[int, str, str]] = []  # (seq, reason, org or "")
        if first_seq >= cutoff:
            v = versions[0]
            if first_seq < limit and start <= v.first and v.last <= end:
                found.append((first_seq, RECORDED_AFTER_CLOSE, ""))
        else:
            index = len(versions) - 1
            if versions[index][0] >= cutoff:
                index = incident.version_before(cutoff)
            version = versions[index]
            seq = version.seq
            inside = start <= version.first and version.last <= end
            if index:
                for old in versions[:index]:
                    if inside or (start <= old.first and old.last <= end):
                        found.append((old.seq, SUPERSEDED, ""))
            counted: list[tuple[str, int]] = []
            if not inside:
                if first_seq > open_seq:  # recorded during the round, dated outside it
                    found.append((seq, OUTSIDE_WINDOW, ""))
            elif incident.retracted is not None and incident.retracted[0] < cutoff:
                found.append((seq, RETRACTED, ""))
            elif version.sources < min_sources or version.publishers < min_sources:
                found.append((seq, TOO_FEW_SOURCES, ""))
            elif not version.attributions:
                found.append((seq, UNATTRIBUTED, ""))
            else:
                for org, basis, confidence in version.attributions:
                    if org not in eligible_set:
                        found.append((seq, INELIGIBLE_ORG, org))
                        continue
                    status = state.attribution_status(incident_id, org, cutoff) if (incident_id, org) in disputed else "clear"
                    if status == "upheld":
                        found.append((seq, DISPUTE_UPHELD, org))
                        continue
                    contested = status == "contested"
                    if contested and exclude_contested:
                        found.append((seq, CONTESTED, org))
                        continue
                    key = (basis, confidence, contested)
                    multiplier = multipliers.get(key)
                    if multiplier is None:
                        multiplier = multipliers[key] = rules.multiplier(*key)
                    counted.append((org, multiplier))
            if counted:
                counted_incidents += 1
                share = len(counted) if split else 1
                kind = version.kind
                parts = [(v[0], weight[(kind, v[0])] * v[count_index]) for v in version.victims]
                base = sum(p for _, p in parts)
                if spool is None:
                    statement = version.digest.hex()
                else:
                    tail = b'"incident":%s,"seq":%d,"statement":"%s"}' % (_json_text(incident_id), seq, hexlify(version.digest))
                for org, multiplier in counted:
                    total = base * multiplier
                    by_share = raw_by_org[org]
                    by_share[share] = by_share.get(share, 0) + total
                    cells = breakdown[org]
                    for role, part in parts:
                        cell = (kind, role, share)
                        cells[cell] = cells.get(cell, 0) + part * multiplier
                    if spool is None:
                        contributions[org].append((incident_id, seq, statement, share, total))
                    else:
                        head = texts.get((total, share))
                        if head is None:  # the same contribution recurs: its texts are computed once
                            shown, text = _ratio_texts(total, denominator * share, places)
                            head = texts[(total, share)] = b'{"contribution":"%s","exact":"%s",' % (shown.encode(), text.encode())
                        contributions[org].append(head + tail)
        if found:
            if len(found) > 1:
                found.sort()
            exclusions += len(found)
            for s, r, o in found:
                if spool is None:
                    excluded.append({"incident": incident_id, "seq": s, "reason": r, "org": o or None})
                else:
                    excluded.append(b'{"incident":%s,"org":%s,"reason":"%s","seq":%d}'
                                    % (_json_text(incident_id), _json_text(o) if o else b"null", r.encode(), s))

    spools: list[Spool] = []

    def long_list(items: Any) -> Any:
        if spool is None:
            return items
        spools.append(items)
        return _marker(len(spools) - 1)

    scores: dict[str, Fraction] = {}
    rows: dict[str, dict[str, Any]] = {}
    for org in eligible:
        raw = sum((Fraction(n, denominator * k) for k, n in raw_by_org[org].items()), Fraction(0))
        divisor: Fraction | None = None
        estimated: Fraction | None = None
        if rules.normalization is not None:
            norm = rules.normalization
            estimate = state.estimate_before(org, norm["metric"], cutoff)
            estimated = parse_decimal(estimate[norm["point"]]) if estimate is not None else None
            assert rules.floor is not None and rules.unit is not None
            divisor = rules.floor if estimated is None or estimated < rules.floor else estimated
            score = raw * rules.unit / divisor
        else:
            score = raw
        scores[org] = score
        cells: dict[tuple[str, str], Fraction] = {}
        for (kind, role, k), n in breakdown[org].items():
            cells[(kind, role)] = cells.get((kind, role), Fraction(0)) + Fraction(n, denominator * k)
        table: dict[str, dict[str, Any]] = {}
        for (kind, role), value in sorted(cells.items()):
            table.setdefault(kind, {})[role] = {"value": display(value, places), "exact": exact(value)}
        rows[org] = {
            "org": org,
            "score": display(score, places),
            "score_exact": exact(score),
            "raw": display(raw, places),
            "raw_exact": exact(raw),
            "normalization": None if divisor is None else {
                "estimate": None if estimated is None else exact(estimated),
                "divisor": exact(divisor),
            },
            "breakdown": table,
            "incidents": contributions[org],
        }
    order = sorted(eligible, key=lambda o: (-scores[o], o))
    ranking: list[dict[str, Any]] = []
    ties: list[dict[str, Any]] = []
    rank = 0
    for position, org in enumerate(order):
        if position == 0 or scores[org] != scores[order[position - 1]]:
            rank = position + 1
            group = [o for o in order[position:] if scores[o] == scores[org]]
            if len(group) > 1:
                ties.append({"rank": rank, "score": display(scores[org], places), "score_exact": exact(scores[org]), "orgs": group})
        row = rows[org]
        if spool is None:
            row["incidents"] = [
                {"incident": i, "seq": s, "statement": d, "contribution": shown, "exact": text}
                for i, s, d, k, n in row["incidents"]
                for shown, text in (_ratio_texts(n, denominator * k, places),)
            ]
        else:
            row["incidents"] = long_list(row["incidents"])
        ranking.append({"rank": rank, **row})
    document = {
        "format": DOCUMENT_FORMAT,
        "ledger": state.ledger_id,
        "round": round_.number,
        "rules": {"digest": rules.digest, "version": rules.version, "seq": rules.seq},
        "window": {"start": start, "end": end},
        "opened": round_.open_seq,
        "closed": round_.close_seq,
        "eligible": eligible,
        "places": places,
        "ranking": ranking,
        "ties": ties,
        "selection": _select(order, scores, rules),
        "excluded": long_list(excluded),
        "counts": {"incidents_counted": counted_incidents, "exclusions": exclusions},
    }
    return document, spools


def _ratio_texts(numerator: int, denominator: int, places: int) -> tuple[str, str]:
    """``display`` and ``exact`` of numerator/denominator (both >= 0) with integers only:
    the same strings as :func:`display` and :func:`exact` of the Fraction, but faster."""
    g = gcd(numerator, denominator)
    a, b = numerator // g, denominator // g
    text = str(a) if b == 1 else f"{a}/{b}"
    q, r = divmod(numerator * 10**places, denominator)
    if 2 * r > denominator or (2 * r == denominator and q & 1):
        q += 1
    digits = str(q).rjust(places + 1, "0")
    return (digits if places == 0 else f"{digits[:-places]}.{digits[-places:]}"), text


def _select(order: list[str], scores: dict[str, Fraction], rules: Rules) -> dict[str, Any]:
    """The stand-out criterion and tie handling (SPEC.md 12.7)."""
    places = rules.places
    top_score = scores[order[0]]
    top = [o for o in order if scores[o] == top_score]
    rest = [o for o in order if scores[o] != top_score]
    runner_up = scores[rest[0]] if rest else Fraction(0)
    stands = top_score > rules.min_score and top_score >= rules.ratio * runner_up
    target: str | None = None
    candidates: list[str] = []
    if top_score <= rules.min_score:
        outcome = "below_minimum"
    elif len(top) > 1:
        outcome = "tie"
        if stands and rules.ties == "panel_choice":
            candidates = top
    elif stands:
        outcome = "stands_out"
        target = top[0]
    else:
        outcome = "no_standout"
    ratio = None if runner_up == 0 else top_score / runner_up
    return {
        "outcome": outcome,
        "target": target,
        "candidates": candidates,
        "top": top,
        "top_score": display(top_score, places),
        "runner_up_score": display(runner_up, places),
        "ratio": None if ratio is None else display(ratio, places),
        "ratio_exact": None if ratio is None else exact(ratio),
        "required_ratio": rules.body["stand_out"]["ratio"],
        "min_score": rules.body["stand_out"]["min_score"],
    }
