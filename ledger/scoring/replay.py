"""The replay engine: a round's ranking, recomputed from the ledger (SPEC.md section 12).

``replay(state, round_number)`` is a pure function of the scoring state the ledger's
entries leave (:func:`ledger.scoring.process.state_of`) and a round number. Arithmetic is
exact: contributions are integers over the rules' common denominator, per-organization
totals are :class:`fractions.Fraction`, and only the *displayed* figures are rounded (half
to even, a fixed number of places). Ranking uses the exact values; ties are reported,
never broken silently. The result is a canonical JSON document whose SHA-256 is the digest
a ``round.decide`` entry commits to.
"""

from __future__ import annotations

import hashlib
from binascii import hexlify
from collections import defaultdict
from bisect import bisect_left
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

from ..core import canonical
from ..errors import LedgerError
from ..gcpause import collector_paused
from .rules import Rules, display, exact, parse_decimal
from .state import COUNT_INDEX, Round, ScoringState, Spool, date_interval

DOCUMENT_FORMAT = "violence-scoring-ledger/v1/ranking"

# Exclusion reasons (SPEC.md 12.4), incident-level then attribution-level.
RECORDED_AFTER_CLOSE = "recorded_after_close"
RECORDED_BEFORE_OPEN = "recorded_before_open"
SUPERSEDED = "superseded"
RETRACTED = "retracted"
OUTSIDE_WINDOW = "outside_window"
TOO_FEW_SOURCES = "too_few_sources"
UNATTRIBUTED = "unattributed"
INELIGIBLE_ORG = "ineligible_org"
DISPUTE_UPHELD = "dispute_upheld"
CONTESTED = "contested"
SAME_ORGANIZATION = "same_organization"


class ReplayError(LedgerError):
    """A round cannot be replayed (unknown round, unknown rules)."""


@dataclass(frozen=True)
class RankingDocument:
    """The canonical ranking document of one round and its digest.

    ``replay(..., digest_only=True)`` computes the digest without holding the document:
    then ``raw`` is None and the document's long lists (``excluded`` and each
    organization's ``incidents``) are placeholder strings (``@@spool-N@@``); everything
    else is there. So is it for :func:`write_document`."""

    round: int
    document: dict[str, Any]
    raw: bytes | None
    sha256: str = ""
    # With ``replay(..., factors=True)``: org -> {"incidents": [every factor of each
    # contribution], "normalization": its factors or None} (not part of the document).
    factors: dict[str, Any] | None = None

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


def replay(state: ScoringState, round_number: int, *, rules_digest: str | None = None,
           digest_only: bool = False, factors: bool = False) -> RankingDocument:
    """The ranking document of ``round_number``.

    ``state`` is the scoring state after the ledger (or a prefix of it; raw entries:
    :func:`ledger.scoring.process.state_of`). ``rules_digest`` replays the round with other
    adopted rules than those it committed to (only to diagnose a mismatch, R-12.2).
    ``digest_only``: compute the same digest without building the document's long lists
    in memory (they go through ``state.spool``); what verification needs. ``factors``:
    also collect every factor of each contribution (``RankingDocument.factors``, what
    ``ledger explain`` shows; the same arithmetic, the same document).
    """
    round_, rules = _round_of(state, round_number, rules_digest)
    if digest_only:
        with collector_paused():
            document, spools, _ = _rank(state, round_, rules, spool=state.spool, dicts=False)
        streamed = _stream_digest(document, spools)
        if streamed is not None:
            return RankingDocument(round_number, document, None, streamed)
    collected: dict[str, Any] | None = {} if factors else None
    with collector_paused():
        document, spools, lists = _rank(state, round_, rules, factors=collected)
    raw = _spliced(document, spools)
    document = _filled(document, lists)
    return RankingDocument(round_number, document, raw if raw is not None else canonical.encode(document), factors=collected)


def write_document(state: ScoringState, round_number: int, write: Callable[[bytes], Any], *,
                   rules_digest: str | None = None) -> RankingDocument:
    """Write the canonical bytes of round ``round_number``'s ranking document with
    ``write``, a piece at a time, without holding them (the long lists go through
    ``state.spool``, as with ``digest_only``): the same bytes as ``replay(...).raw``.
    Returns the document as ``replay(..., digest_only=True)`` does. Nothing is written if
    the round cannot be replayed."""
    round_, rules = _round_of(state, round_number, rules_digest)
    with collector_paused():
        document, spools, _ = _rank(state, round_, rules, spool=state.spool, dicts=False)
    streamed = _stream_digest(document, spools, write)
    if streamed is not None:
        return RankingDocument(round_number, document, None, streamed)
    whole = replay(state, round_number, rules_digest=rules_digest)
    assert whole.raw is not None
    write(whole.raw)
    return whole


def _round_of(state: ScoringState, round_number: int, rules_digest: str | None) -> tuple[Round, Rules]:
    round_ = state.rounds.get(round_number)
    if round_ is None:
        raise ReplayError(f"no round {round_number} in this ledger")
    digest = rules_digest or round_.rules
    rules = state.rules.get(digest)
    if rules is None:  # pragma: no cover - R-11.3 admits no such round
        raise ReplayError(f"round {round_number} commits to unknown rules {digest[:16]}…")
    return round_, rules


def _json_text(text: str) -> bytes:
    # Printable ASCII without '"' or '\\' is written as it is between quotes (2.2).
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return b'"%s"' % text.encode()
    return canonical.encode(text)


def _marker(i: int) -> str:
    return f"@@spool-{i}@@"  # no identifier, digest or decimal of the document looks like this


def _pieces(document: dict[str, Any], spools: list[Spool]) -> tuple[bytes, list[tuple[int, int, Spool]]] | None:
    """The canonical bytes of ``document`` (long lists shown as markers) and where each
    marker is in them, in byte order; None if a marker is not found exactly once."""
    raw = canonical.encode(document)
    pieces: list[tuple[int, int, Spool]] = []
    for i, spool in enumerate(spools):
        mark = canonical.encode(_marker(i))
        at = raw.find(mark)
        if at < 0 or raw.find(mark, at + 1) >= 0:
            return None
        pieces.append((at, at + len(mark), spool))
    pieces.sort(key=lambda p: p[0])
    return raw, pieces


def _spliced(document: dict[str, Any], spools: list[list[bytes]]) -> bytes | None:
    """The canonical bytes of the document whose long lists are in ``spools`` (item bytes,
    already canonical) and shown in ``document`` as markers: the canonical encoding of an
    array is ``[`` items joined by ``,`` ``]``, so the bytes are those of the whole
    document. None if a marker is not found exactly once (then the caller encodes the
    whole)."""
    found = _pieces(document, spools)
    if found is None:
        return None
    raw, pieces = found
    out: list[bytes] = []
    done = 0
    for begin, end, spool in pieces:
        out += (raw[done:begin], b"[", b",".join(spool), b"]")
        done = end
    out.append(raw[done:])
    return b"".join(out)


def _stream_digest(document: dict[str, Any], spools: list[Spool],
                   write: Callable[[bytes], Any] | None = None) -> str | None:
    """SHA-256 of the bytes :func:`_spliced` would give, without holding them: the spools
    are read in batches (they may be files); ``write``, if given, gets those bytes piece
    by piece. None, with nothing written, if a marker is not found exactly once."""
    found = _pieces(document, spools)
    if found is None:
        return None
    raw, pieces = found
    h = hashlib.sha256()

    def update(data: bytes) -> None:
        h.update(data)
        if write is not None:
            write(data)

    done = 0
    for begin, end, spool in pieces:
        update(raw[done:begin] + b"[")
        joined = getattr(spool, "joined", None)  # a spool that can give its items joined by ","
        if joined is not None:
            for piece in joined():
                update(piece)
            update(b"]")
            done = end
            continue
        batch: list[bytes] = []
        first = True
        for item in spool:
            batch.append(item)
            if len(batch) >= 4096:
                update(b",".join(batch) if first else b"," + b",".join(batch))
                batch.clear()
                first = False
        if batch:
            update(b",".join(batch) if first else b"," + b",".join(batch))
        update(b"]")
        done = end
    update(raw[done:])
    return h.hexdigest()


def _rank(state: ScoringState, round_: Round, rules: Rules, spool: Callable[[], Spool] = list,
          dicts: bool = True, factors: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[Spool], list[list[dict[str, Any]]]]:
    """The ranking document of ``round_`` under ``rules``, with its long lists (each
    organization's ``incidents``, then ``excluded``) shown as markers (see
    :func:`_stream_digest`). Returns the document, the lists' canonical item bytes in
    spools (marker order) and, with ``dicts``, the same items as dicts (marker order);
    :func:`_filled` puts those in the document. ``factors``, if given, receives every
    factor of each contribution and of each normalization (:func:`_factors_of`)."""
    body = round_.body
    start, end = body["window"]["start"], body["window"]["end"]
    eligible = sorted(body["eligible"])
    eligible_set = set(eligible)
    # Entries before ``cutoff`` count; entries in [cutoff, limit) are shown as late.
    cutoff, limit = state.seen_by(round_)
    count_index = COUNT_INDEX[rules.count]
    weight_of: dict[str, dict[str, int]] = {}  # kind -> role -> weight (scaled)
    for (kind, role), w in rules.weight.items():
        weight_of.setdefault(kind, {})[role] = w
    min_sources = rules.min_sources
    split = rules.joint == "split"
    exclude_contested = rules.contested_mode == "exclude"
    disputed = state.disputes_by_attribution
    # basis -> confidence -> multiplier of an uncontested attribution
    clear_multiplier = {b: {c: rules.multiplier(b, c, False) for c in rules.confidence} for b in rules.basis}
    denominator = rules.denominator
    places = rules.places
    open_seq = round_.open_seq
    # Pre-registration (12.1 step 3): only incidents first recorded after the round.open
    # count, unless the round was declared retrospective. Identities (org.identify)
    # admitted before the round.open map an attribution to the organization it names.
    counted_from = -1 if round_.retrospective is not None else open_seq
    same_as = state.identities_before(open_seq)
    heirs = state.heirs(round_) if rules.splinters == "inherit" else {}
    feature_of = rules.feature  # None: features are not scored (12.3)
    via_member = rules.splinters == "inherit"  # each contribution says whose attribution it inherits
    feature_cells: dict[str, defaultdict[tuple[str, int], int]] = {o: defaultdict(int) for o in eligible}
    if factors is not None:
        factors.update({o: {"incidents": [], "normalization": None} for o in eligible})

    raw_by_org: dict[str, defaultdict[int, int]] = {o: defaultdict(int) for o in eligible}
    breakdown: dict[str, defaultdict[tuple[str, str, int], int]] = {o: defaultdict(int) for o in eligible}
    # Counted incidents per organization and the exclusions, in their final order: the
    # canonical bytes of each item (in a spool) and, with ``dicts``, the item as a dict.
    contributions: dict[str, Spool] = {o: spool() for o in eligible}
    contribution_dicts: dict[str, list[dict[str, Any]]] = {o: [] for o in eligible}
    excluded = spool()
    excluded_dicts: list[dict[str, Any]] = []
    exclusions = 0
    counted_incidents = 0
    # total (share 1) or (total, share) -> (the item's first members, display, exact):
    # the same contributions recur, so their texts are computed once.
    texts: dict[Any, tuple[bytes, str, str]] = {}

    records = getattr(state.incidents, "records", None)
    incidents = records() if records is not None else (
        (i.incident_id, (i.retracted, i.versions)) for i in state.incidents.values())
    # Incidents come in ascending id order, so that every list of the document is built in
    # its final order: each organization's incidents (one counted version per incident) and
    # the exclusions (sorted by incident, then seq, reason, org within the incident).
    for incident_id, (retracted, versions) in incidents:
        version = versions[0]
        first_seq = version[0]
        if first_seq >= cutoff:
            if first_seq < limit and start <= version[4] and version[5] <= end:
                found = [(first_seq, RECORDED_AFTER_CLOSE, "")]
            else:
                continue
        else:
            found = []
            index = len(versions) - 1
            if index:
                if versions[index][0] >= cutoff:
                    index = bisect_left(versions, cutoff, key=_seq) - 1
                version = versions[index]
            seq, digest, _, _, first, last, kind, sources, publishers, victims, attributions, features = version
            inside = start <= first and last <= end
            if index:
                for old in versions[:index]:
                    if inside or (start <= old[4] and old[5] <= end):
                        found.append((old[0], SUPERSEDED, ""))
            if not inside:
                if first_seq > open_seq:  # recorded during the round, dated outside it
                    found.append((seq, OUTSIDE_WINDOW, ""))
            elif first_seq < counted_from:  # known before the round opened: not pre-registered
                found.append((seq, RECORDED_BEFORE_OPEN, ""))
            elif retracted is not None and retracted[0] < cutoff:
                found.append((seq, RETRACTED, ""))
            elif sources < min_sources or publishers < min_sources:
                found.append((seq, TOO_FEW_SOURCES, ""))
            elif not attributions:
                found.append((seq, UNATTRIBUTED, ""))
            else:
                # (org counted for, multiplier, the attribution, contested, inherited from)
                counted: list[tuple[str, int, tuple[str, str, str], bool, str | None]] = []
                for attribution in attributions:
                    attributed, basis, confidence = attribution
                    org = same_as.get(attributed, attributed) if same_as else attributed
                    heirs_of = None
                    if org not in eligible_set:
                        # 12.1 step 7, splinters "inherit": an attribution to a dismantled
                        # target counts for each of its eligible splinters (its heirs).
                        heirs_of = heirs.get(org) if heirs else None
                        if heirs_of is None:
                            found.append((seq, INELIGIBLE_ORG, attributed))
                            continue
                        heirs_of = [h for h in heirs_of if all(c[0] != h for c in counted)]
                        if not heirs_of:
                            found.append((seq, SAME_ORGANIZATION, attributed))  # one organization counts once
                            continue
                    elif (same_as or heirs) and any(c[0] == org for c in counted):
                        found.append((seq, SAME_ORGANIZATION, attributed))  # one organization counts once
                        continue
                    contested = False
                    multiplier = clear_multiplier[basis][confidence]
                    if disputed and (incident_id, attributed) in disputed:
                        status = state.attribution_status(incident_id, attributed, cutoff)
                        if status == "upheld":
                            found.append((seq, DISPUTE_UPHELD, attributed))
                            continue
                        if status == "contested":
                            if exclude_contested:
                                found.append((seq, CONTESTED, attributed))
                                continue
                            contested = True
                            multiplier = rules.multiplier(basis, confidence, True)
                    if heirs_of is None:
                        counted.append((org, multiplier, attribution, contested, None))
                    else:
                        counted += [(h, multiplier, attribution, contested, org) for h in heirs_of]
                if counted:
                    counted_incidents += 1
                    share = len(counted) if split else 1
                    weights = weight_of[kind]
                    single = len(victims) == 1
                    if single:
                        role = victims[0][0]
                        base = weights[role] * victims[0][count_index]
                        parts: Any = ()
                    else:
                        parts = [(v[0], weights[v[0]] * v[count_index]) for v in victims]
                        base = 0
                        for _, part in parts:
                            base += part
                    scored_features = features if feature_of is not None else ()
                    victims_base = base
                    for feature in scored_features:  # 12.3: once per incident
                        base += feature_of[feature]  # type: ignore[index]
                    item_id = _json_text(incident_id)
                    statement = hexlify(digest)
                    tail = b'"incident":%s,"seq":%d,"statement":"%s"%s' % (item_id, seq, statement, b"" if via_member else b"}")
                    for org, multiplier, attribution, contested, via in counted:
                        total = base * multiplier
                        raw_by_org[org][share] += total
                        cells = breakdown[org]
                        if single:  # its one cell gets the victims' part of the contribution
                            cells[(kind, role, share)] += victims_base * multiplier if scored_features else total
                        for role_, part in parts:
                            cells[(kind, role_, share)] += part * multiplier
                        if scored_features:
                            for feature in scored_features:
                                feature_cells[org][(feature, share)] += feature_of[feature] * multiplier  # type: ignore[index]
                        if factors is not None:
                            factors[org]["incidents"].append(_factors_of(
                                rules, incident_id, seq, kind, victims, scored_features, attribution, contested, share,
                                via, Fraction(total, denominator * share)))
                        key = total if share == 1 else (total, share)
                        text = texts.get(key)
                        if text is None:
                            value = Fraction(total, denominator * share)
                            shown, exact_text = display(value, places), exact(value)
                            text = texts[key] = (b'{"contribution":"%s","exact":"%s",' % (shown.encode(), exact_text.encode()),
                                                 shown, exact_text)
                        if via_member:  # 12.9: only under splinters "inherit"
                            contributions[org].append(text[0] + tail + b',"via":%s}' % (b"null" if via is None else _json_text(via)))
                        else:
                            contributions[org].append(text[0] + tail)
                        if dicts:
                            item = {"incident": incident_id, "seq": seq, "statement": statement.decode(),
                                    "contribution": text[1], "exact": text[2]}
                            if via_member:
                                item["via"] = via
                            contribution_dicts[org].append(item)
            if not found:
                continue
            if len(found) > 1:
                found.sort()
        exclusions += len(found)
        item_id = _json_text(incident_id)
        for s, r, o in found:
            excluded.append(b'{"incident":%s,"org":%s,"reason":"%s","seq":%d}'
                            % (item_id, _json_text(o) if o else b"null", r.encode(), s))
            if dicts:
                excluded_dicts.append({"incident": incident_id, "seq": s, "reason": r, "org": o or None})

    spools: list[Spool] = []
    lists: list[list[dict[str, Any]]] = []

    def long_list(items: Spool, items_dicts: list[dict[str, Any]]) -> str:
        spools.append(items)
        lists.append(items_dicts)
        return _marker(len(spools) - 1)

    scores: dict[str, Fraction] = {}
    rows: dict[str, dict[str, Any]] = {}
    for org in eligible:
        raw = sum((Fraction(n, denominator * k) for k, n in raw_by_org[org].items()), Fraction(0))
        divisor: Fraction | None = None
        estimated: Fraction | None = None
        if rules.normalization is not None:
            norm = rules.normalization
            estimate = state.estimate_entry_before(org, norm["metric"], cutoff)
            estimated = parse_decimal(estimate[1][norm["point"]]) if estimate is not None else None
            assert rules.floor is not None and rules.unit is not None
            uses = "floor" if estimated is None or estimated < rules.floor else "estimate"
            divisor = rules.floor if uses == "floor" else estimated
            score = raw * rules.unit / divisor
            if factors is not None:  # 12.5, with the estimate entry it used
                factors[org]["normalization"] = {
                    "metric": norm["metric"], "point": norm["point"], "unit": norm["unit"], "floor": norm["floor"],
                    "estimate": None if estimate is None else {"seq": estimate[0], "value": estimate[1][norm["point"]]},
                    "divisor": exact(divisor), "uses": uses}
        else:
            score = raw
        scores[org] = score
        by_cell: dict[tuple[str, str], Fraction] = {}
        for (kind, role, k), n in breakdown[org].items():
            by_cell[(kind, role)] = by_cell.get((kind, role), Fraction(0)) + Fraction(n, denominator * k)
        table: dict[str, dict[str, Any]] = {}
        for (kind, role), value in sorted(by_cell.items()):
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
            "incidents": None,
        }
        if feature_of is not None:  # 12.9: only under rules with a features member
            by_feature: dict[str, Fraction] = {}
            for (feature, k), n in feature_cells[org].items():
                by_feature[feature] = by_feature.get(feature, Fraction(0)) + Fraction(n, denominator * k)
            rows[org]["features"] = {f: {"value": display(v, places), "exact": exact(v)} for f, v in sorted(by_feature.items())}
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
        row["incidents"] = long_list(contributions[org], contribution_dicts[org])
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
        "excluded": long_list(excluded, excluded_dicts),
        "counts": {"incidents_counted": counted_incidents, "exclusions": exclusions},
    }
    return document, spools, lists


def _factors_of(rules: Rules, incident_id: str, seq: int, kind: str, victims: Any, features: tuple[str, ...],
                attribution: tuple[str, str, str], contested: bool, counted: int, via: str | None,
                contribution: Fraction) -> dict[str, Any]:
    """Every factor of one contribution (SPEC.md 12.3), as the rules write them: what
    ``ledger explain`` shows, so that a reader can recompute the contribution by hand."""
    body = rules.body
    weights = body["weights"].get(kind, {})
    count_index = COUNT_INDEX[rules.count]
    org, basis, confidence = attribution
    return {
        "incident": incident_id, "seq": seq, "kind": kind, "count": rules.count,
        "terms": [{"role": v[0], "weight": weights.get(v[0], "0"), "count": v[count_index]} for v in victims],
        "features": [{"feature": f, "weight": body["features"].get(f, "0")} for f in features],
        "attributed": org, "via": via,
        "confidence": {"level": confidence, "value": body["confidence"][confidence]},
        "basis": {"level": basis, "value": body["basis"][basis]},
        "contested": body["contested"]["factor"] if contested else None,
        "share": "1" if counted == 1 else f"1/{counted}",
        "contribution": exact(contribution),
    }


def _seq(version: Any) -> int:
    return version[0]


def _filled(document: dict[str, Any], lists: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """``document`` with its markers replaced by the long lists (in marker order)."""
    for row, items in zip(document["ranking"], lists):
        row["incidents"] = items
    document["excluded"] = lists[len(document["ranking"])]
    return document


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


def decision_verdict(round_: Round, document: RankingDocument | None) -> str:
    """How round ``round_``'s recorded decision compares with its replay (SPEC.md 12):
    ``"pending"`` (no decision yet), ``"mismatch"`` (the digest differs),
    ``"deviation_justified"`` (the digest matches, the target is not the rules' selection)
    or ``"matches"``. ``document`` is the replay; it may be None only while pending."""
    decision = round_.decision
    if decision is None:
        return "pending"
    assert document is not None
    if decision["ranking"] != document.digest:
        return "mismatch"
    if decision["target"] not in document.allowed_targets():
        return "deviation_justified"
    return "matches"
