"""The scoring process plugged into the verifier: rules R-10.x, R-11.x, R-12.x (SPEC.md 10-12).

``admit`` judges an entry that passed every core rule, against the scoring state left by
the entries before it, without changing anything; ``apply`` records an admitted entry.
A ``round.decide`` is judged by replaying its round (R-12.x). A decision that deviates from
the rules' selection *with* a signed justification is admitted, and recorded as a
*notice* (R-12.4): ``ledger verify`` prints it and still passes.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Callable, Iterable, Iterator

from ..core.model import Entry
from ..core.verify import Context, Process, Verifier, Violation
from .replay import RankingDocument, replay
from .rules import problems
from .state import ScoringState
from .text import is_blank
from .types import MASS_KILLING_MIN


_REAL_DATES: set[str] = set()  # dates already found real (a memo of a pure function)


def _real_date(text: str) -> bool:
    if text in _REAL_DATES:
        return True
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    if len(_REAL_DATES) < 100_000:  # about 270 years of days
        _REAL_DATES.add(text)
    return True


def _dates(seq: int, body: dict[str, Any], fields: tuple[str, ...], where: str = "") -> Iterator[Violation]:
    """R-10.13: the named date members of ``body`` and every ``sources[i].date`` are calendar dates."""
    prefix = f"{where}." if where else ""
    for field in fields:
        if not _real_date(body[field]):
            yield Violation(seq, "R-10.13", f"{prefix}{field} {body[field]!r} is not a calendar date")
    for i, source in enumerate(body.get("sources", ())):
        if not _real_date(source["date"]):
            yield Violation(seq, "R-10.13", f"{prefix}sources[{i}].date {source['date']!r} is not a calendar date")


def _features_problem(inc: dict[str, Any]) -> str | None:
    """R-10.17 (SPEC.md 10.3): what is wrong with an incident's ``features``, or None."""
    features = inc.get("features", ())
    if any(a >= b for a, b in zip(features, features[1:])):
        return f"expected distinct features in code-point order, found {features}"
    if "mass_killing" in features:
        killed = sum(v["low"] for v in inc["victims"])
        if inc["kind"] != "killing" or killed < MASS_KILLING_MIN:
            return (f"mass_killing needs kind 'killing' and at least {MASS_KILLING_MIN} killed (victims' low counts), "
                    f"found kind {inc['kind']!r} with {killed}")
    return None


def round_notices(round_: Any, state: ScoringState) -> list[tuple[str, str]]:
    """The notices a round carries from its opening (SPEC.md 11.2): ``(rule, text)`` for a
    retrospective round (R-11.18), for organizations left out of it (R-11.19) and for each
    splinter that inherits a dismantled target's attributions (R-11.20). Every view of the
    round shows them (verify, rounds, replay, the report)."""
    out: list[tuple[str, str]] = []
    if round_.retrospective is not None:
        out.append(("R-11.18", f"round {round_.number} is RETROSPECTIVE: its window ({round_.body['window']['start']} .. "
                               f"{round_.body['window']['end']}) may lie before its opening (entry {round_.open_seq}, "
                               f"{round_.opened_on or '?'}) and it counts incidents recorded before it was opened; "
                               f"the panel's justification: {round_.retrospective[:200]}"))
    if round_.left_out:
        listed = "; ".join(f"{org}: {why[:120]}" for org, why in sorted(round_.left_out.items()))
        out.append(("R-11.19", f"round {round_.number} leaves out {len(round_.left_out)} registered, active organization(s), "
                               f"with the panel's justification: {listed}"))
    rules = state.rules.get(round_.rules)
    if rules is not None and rules.splinters == "inherit":
        for parent, child, seq in state.inheritances(round_):
            out.append(("R-11.20", f"round {round_.number} counts the attributions still made to the dismantled target "
                                   f"{parent} for {child}, which split from it by the org.lineage entry {seq} (recorders' "
                                   f"word; rules splinters: inherit)"))
    return out


Check = Callable[["ScoringProcess", int, dict[str, Any], Entry], Iterator[Violation]]


class ScoringProcess:
    """The state machine of organizations, incidents, rules and rounds."""

    name = "scoring"

    def __init__(self) -> None:
        self.state = ScoringState()
        self.notices: list[Violation] = []
        self._pending: dict[bytes, tuple[RankingDocument, str]] = {}

    # -- Process protocol ---------------------------------------------------------------

    def admit(self, entry: Entry, context: Context) -> list[Violation]:
        check = _CHECKS.get(entry.type)
        if check is None:
            return []
        self.state.ledger_id = context.ledger_id
        self.state.size = context.size
        return list(check(self, context.size, entry.statement.body, entry))

    def apply(self, entry: Entry, context: Context) -> None:
        seq = context.size
        self.state.ledger_id = context.ledger_id
        if entry.type in _CHECKS:
            body = entry.statement.body
            self.state.apply(seq, entry.type, body, entry.statement.digest.hex())
            if entry.type == "round.decide":
                self._after_decide(seq, body, entry)
            elif entry.type == "rules.adopt":
                self.state.rules_adopted_on[entry.statement.digest.hex()] = entry.statement.time[:10]
            elif entry.type == "round.open":
                self._after_open(seq, body, entry)
            elif entry.type == "outcome.baseline" and len(self.state.baselines) > 1:
                self.notices.append(Violation(seq, "R-10.18", baseline_replaced(self.state.baselines[-2], body)))
        self.state.size = seq + 1

    def finish(self, context: Context) -> list[Violation]:
        return []

    # -- organizations (R-10.1 - R-10.3) -----------------------------------------------

    def _org_register(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        if body["org_id"] in self.state.orgs:
            yield Violation(seq, "R-10.1", f"organization {body['org_id']!r} is already registered (entry {self.state.orgs[body['org_id']].seq})")
        yield from self._names_free(seq, body)

    def _org_update(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        if body["org_id"] not in self.state.orgs:
            yield Violation(seq, "R-10.2", f"update of unregistered organization {body['org_id']!r}")
        yield from self._names_free(seq, body)

    def _names_free(self, seq: int, body: dict[str, Any]) -> Iterator[Violation]:
        # one organization, one registration: a name or alias (compared as
        # name_key: NFKC, case folding, whitespace collapsed) held by another is refused.
        held = self.state.name_holder(body["org_id"], [body["name"], *body["aliases"]])
        if held is not None:
            name, holder = held
            yield Violation(seq, "R-10.14", f"name or alias {name!r} is already held by organization {holder!r} "
                                            "(a second registration of one organization; the panel may declare two ids one organization with org.identify)")

    def _org_identify(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        state = self.state
        org_id, same_as = body["org_id"], body["same_as"]
        for field, value in (("org_id", org_id), ("same_as", same_as)):
            if value not in state.orgs:
                yield Violation(seq, "R-10.2", f"org.identify names unregistered organization {value!r} ({field})")
        # one level only, never itself, and a stated reason.
        if org_id == same_as:
            yield Violation(seq, "R-10.15", "an organization cannot be declared the same as itself")
        if org_id in state.identities:
            yield Violation(seq, "R-10.15", f"{org_id!r} was already declared the same as {state.identities[org_id][0]!r} (entry {state.identities[org_id][1]})")
        if same_as in state.identities:
            yield Violation(seq, "R-10.15", f"{same_as!r} was itself declared the same as {state.identities[same_as][0]!r}: name that organization")
        if any(other == org_id for other, _ in state.identities.values()):
            yield Violation(seq, "R-10.15", f"other organizations were declared the same as {org_id!r}: it cannot become an alias itself")
        if is_blank(body["justification"]):
            yield Violation(seq, "R-10.15", "the justification is blank")

    def _org_lineage(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        orgs = self.state.orgs
        for field in ("org_id", "other"):
            if body[field] not in orgs:
                yield Violation(seq, "R-10.2", f"lineage names unregistered organization {body[field]!r} ({field})")
        if body["org_id"] == body["other"]:
            yield Violation(seq, "R-10.3", "an organization cannot split from or merge into itself")
        elif body["org_id"] in orgs and orgs[body["org_id"]].merged_into is not None:
            yield Violation(seq, "R-10.3", f"{body['org_id']!r} already merged into {orgs[body['org_id']].merged_into!r}")
        elif body["relation"] == "merged_into" and body["other"] in orgs and orgs[body["other"]].merged_into is not None:
            yield Violation(seq, "R-10.3", f"{body['other']!r} itself merged into {orgs[body['other']].merged_into!r}: a merger names the surviving organization")
        yield from _dates(seq, body, ("date",))

    # -- incidents (R-10.4 - R-10.7) ----------------------------------------------------

    def _incident_content(self, seq: int, inc: dict[str, Any], where: str) -> Iterator[Violation]:
        if not _real_date(inc["date"]):
            yield Violation(seq, "R-10.13", f"{where}.date {inc['date']!r} is not a calendar date")
        roles = [v["role"] for v in inc["victims"]]
        if len(set(roles)) != len(roles):
            yield Violation(seq, "R-10.6", f"{where}.victims lists a role more than once")
        for i, victim in enumerate(inc["victims"]):
            if not victim["low"] <= victim["best"] <= victim["high"]:
                yield Violation(seq, "R-10.6", f"{where}.victims[{i}]: expected low <= best <= high, found {victim['low']}, {victim['best']}, {victim['high']}")
        orgs = [a["org"] for a in inc["attributions"]]
        if len(set(orgs)) != len(orgs):
            yield Violation(seq, "R-10.6", f"{where}.attributions names an organization more than once")
        for i, attribution in enumerate(inc["attributions"]):
            if attribution["org"] not in self.state.orgs:
                yield Violation(seq, "R-10.7", f"{where}.attributions[{i}]: attribution to unregistered organization {attribution['org']!r}")
        problem = _features_problem(inc)
        if problem is not None:
            yield Violation(seq, "R-10.17", f"{where}.features: {problem}")
        yield from _dates(seq, inc, (), where)

    def _incident_record(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        existing = self.state.incidents.get(body["incident_id"])
        if existing is not None:
            yield Violation(seq, "R-10.4", f"incident {body['incident_id']!r} already recorded at entry {existing.versions[0][0]}; correct it with incident.amend")
        yield from self._incident_content(seq, body, "incident")

    def _incident_amend(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        incident_id = body["incident"]["incident_id"]
        yield from self._known_incident(seq, incident_id, "amend")
        yield from self._incident_content(seq, body["incident"], "incident")

    def _known_incident(self, seq: int, incident_id: str, what: str) -> Iterator[Violation]:
        existing = self.state.incidents.get(incident_id)
        if existing is None:
            yield Violation(seq, "R-10.5", f"{what} of unknown incident {incident_id!r}")
        elif existing.retracted is not None:
            yield Violation(seq, "R-10.5", f"{what} of incident {incident_id!r}, retracted at entry {existing.retracted[0]}")

    def _incident_retract(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        yield from self._known_incident(seq, body["incident_id"], "retraction")

    # -- disputes (R-10.8, R-10.9) ------------------------------------------------------

    def _dispute(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        state = self.state
        yield from _dates(seq, body, ())
        if body["dispute_id"] in state.disputes:
            yield Violation(seq, "R-10.8", f"dispute id {body['dispute_id']!r} already used at entry {state.disputes[body['dispute_id']].seq}")
        problems_ = list(self._known_incident(seq, body["incident_id"], "dispute"))
        if problems_:
            yield from (Violation(v.seq, "R-10.8", v.message) for v in problems_)
            return
        incident = state.incidents[body["incident_id"]]
        if body["org"] not in {a[0] for a in incident.current.attributions}:
            yield Violation(seq, "R-10.8", f"incident {body['incident_id']!r} is not attributed to {body['org']!r}")
        open_ = state.open_dispute(body["incident_id"], body["org"])
        if open_ is not None:
            yield Violation(seq, "R-10.8", f"the attribution of {body['incident_id']!r} to {body['org']!r} is already disputed ({open_.dispute_id!r}, unresolved)")

    def _resolve(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        dispute = self.state.disputes.get(body["dispute_id"])
        if dispute is None:
            yield Violation(seq, "R-10.9", f"resolution of unknown dispute {body['dispute_id']!r}")
        elif dispute.resolved is not None:
            yield Violation(seq, "R-10.9", f"dispute {body['dispute_id']!r} was already resolved at entry {dispute.resolved[0]}")

    # -- estimates and rules (R-10.10 - R-10.12) --------------------------------------

    def _estimate(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        from .rules import parse_decimal

        if body["org_id"] not in self.state.orgs:
            yield Violation(seq, "R-10.10", f"estimate for unregistered organization {body['org_id']!r}")
        if not parse_decimal(body["low"]) <= parse_decimal(body["best"]) <= parse_decimal(body["high"]):
            yield Violation(seq, "R-10.10", "expected low <= best <= high")
        if not (_real_date(body["period_start"]) and _real_date(body["period_end"])) or body["period_start"] > body["period_end"]:
            yield Violation(seq, "R-10.10", "the period must be two calendar dates, start <= end")
        yield from _dates(seq, body, ())

    def _rules(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        expected = len(self.state.rules_versions) + 1
        if body["version"] != expected:
            yield Violation(seq, "R-10.11", f"expected rules version {expected}, found {body['version']}")
        for problem in problems(body):
            yield Violation(seq, "R-10.12", f"invalid rules: {problem}")

    # -- rounds (R-11.x) ----------------------------------------------------------------

    def _open(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        state = self.state
        number = body["round"]
        last = state.last_round
        expected = 1 if last is None else last.number + 1
        if number != expected:
            yield Violation(seq, "R-11.1", f"rounds are numbered contiguously: expected round {expected}, found {number}")
        if last is not None:
            if last.decision is None:
                yield Violation(seq, "R-11.2", f"round {number} opened before round {last.number} was decided")
            elif last.status == "target_active":
                yield Violation(seq, "R-11.2", f"round {number} opened while round {last.number}'s target {last.target!r} is still active (not dismantled)")
        rules = state.rules.get(body["rules"])
        if rules is None:
            yield Violation(seq, "R-11.3", f"the round commits to rules {body['rules'][:16]}… which no earlier rules.adopt entry adopted")
        elif state.rules_versions[-1] != body["rules"]:
            latest = state.latest_rules
            yield Violation(seq, "R-11.4", f"the round commits to rules version {rules.version}, superseded by version {latest.version if latest else '?'}")
        for org in body["eligible"]:
            why = state.eligible_now(org)
            if why is not None:
                yield Violation(seq, "R-11.5", f"eligible organization {org!r} {why}")
        window = body["window"]
        if not all(_real_date(d) for d in (window["start"], window["end"], body["decision_date"])):
            yield Violation(seq, "R-11.6", "window and decision dates must be calendar dates")
        elif not window["start"] <= window["end"] <= body["decision_date"]:
            yield Violation(seq, "R-11.6", f"expected window start <= end <= decision date, found {window['start']}, {window['end']}, {body['decision_date']}")
        else:
            yield from self._schedule(seq, body, entry.statement.time[:10], rules)
        yield from self._left_out(seq, body)

    def _schedule(self, seq: int, body: dict[str, Any], opened_on: str, rules: Any) -> Iterator[Violation]:
        """Pre-registration by ledger order (SPEC.md 11.2, R-11.13 - R-11.16)."""
        start, end = body["window"]["start"], body["window"]["end"]
        retrospective = body.get("retrospective")
        if retrospective is not None and is_blank(retrospective["justification"]):
            yield Violation(seq, "R-11.13", "a retrospective round needs a non-blank justification")
        if retrospective is None and start < opened_on:
            yield Violation(seq, "R-11.13", f"the window starts on {start}, before the round was opened ({opened_on}): "
                                            "a round that looks back must be declared retrospective")
        if rules is not None:
            days = (date.fromisoformat(end) - date.fromisoformat(start)).days + 1
            if days > rules.max_window_days:
                yield Violation(seq, "R-11.14", f"the window lasts {days} days; rules version {rules.version} allow at most {rules.max_window_days}")
            adopted_on = self.state.rules_adopted_on.get(rules.digest)
            if retrospective is None and adopted_on is not None:
                notice = (date.fromisoformat(start) - date.fromisoformat(adopted_on)).days
                if notice < rules.min_notice_days:
                    yield Violation(seq, "R-11.15", f"the window starts {notice} days after rules version {rules.version} were adopted "
                                                    f"({adopted_on}); they require at least {rules.min_notice_days} days' notice")
        last = self.state.last_round
        if last is not None and start <= last.body["window"]["end"]:
            yield Violation(seq, "R-11.16", f"the window starts on {start}, inside round {last.number}'s window (which ends {last.body['window']['end']})")

    def _left_out(self, seq: int, body: dict[str, Any]) -> Iterator[Violation]:
        """R-11.17: every registered, active organization not eligible is left out with a reason."""
        orgs, eligible, left_out = self.state.orgs, set(body["eligible"]), body.get("left_out", {})
        for org_id, org in sorted(orgs.items()):
            if org.active and org_id not in eligible and org_id not in left_out:
                yield Violation(seq, "R-11.17", f"registered, active organization {org_id!r} is neither eligible nor left out with a justification")
        for org_id, why in sorted(left_out.items()):
            if org_id in eligible:
                yield Violation(seq, "R-11.17", f"left_out names {org_id!r}, which is eligible")
            elif org_id not in orgs or not orgs[org_id].active:
                yield Violation(seq, "R-11.17", f"left_out names {org_id!r}, which is not a registered, active organization")
            elif is_blank(why):
                yield Violation(seq, "R-11.17", f"the justification for leaving out {org_id!r} is blank")

    def _after_open(self, seq: int, body: dict[str, Any], entry: Entry) -> None:
        round_ = self.state.rounds[body["round"]]
        round_.opened_on = entry.statement.time[:10]
        for rule, text in round_notices(round_, self.state):
            self.notices.append(Violation(seq, rule, text))

    def _close(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        round_ = self.state.rounds.get(body["round"])
        if round_ is None:
            yield Violation(seq, "R-11.7", f"close of round {body['round']}, which was never opened")
            return
        if round_.close_seq is not None:
            yield Violation(seq, "R-11.7", f"round {body['round']} was already closed at entry {round_.close_seq}")
        claimed = entry.statement.time[:10]
        if claimed <= round_.body["window"]["end"]:
            yield Violation(seq, "R-11.8", f"round {body['round']} closed on {claimed}, before its window ended ({round_.body['window']['end']})")

    def _decide(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        round_ = self.state.rounds.get(body["round"])
        if round_ is None or round_.close_seq is None:
            yield Violation(seq, "R-11.9", f"decision of round {body['round']}, which is not closed")
            return
        if round_.decide_seq is not None:
            yield Violation(seq, "R-11.9", f"round {body['round']} was already decided at entry {round_.decide_seq}")
            return
        target = body["target"]
        if target is not None and target not in round_.eligible:
            yield Violation(seq, "R-11.10", f"target {target!r} is not eligible in round {round_.number}")
        # Replay exactly as a later auditor will: the entries before this one.
        round_.decide_seq = seq
        try:
            document = replay(self.state, round_.number, digest_only=True)
        finally:
            round_.decide_seq = None
        if body["ranking"] != document.digest:
            other = self._matching_other_rules(round_.number, body["ranking"], seq)
            if other is not None:
                yield Violation(seq, "R-12.2", f"round {round_.number} was scored with rules version {other}, not the committed version {document.document['rules']['version']}")
            else:
                yield Violation(seq, "R-12.1", f"ranking digest {body['ranking'][:16]}… does not match the replay of round {round_.number} ({document.digest[:16]}…)")
        allowed = document.allowed_targets()
        status = "matches"
        if target not in allowed:
            want = " or ".join("no target" if t is None else repr(t) for t in allowed)
            named = "no target" if target is None else repr(target)
            if is_blank(body["justification"]):
                yield Violation(seq, "R-12.3", f"decision names {named} but the committed rules select {want}, and no justification is recorded")
            else:
                status = "deviation_justified"
        self._pending[entry.statement.digest] = (document, status)

    def _matching_other_rules(self, number: int, digest: str, seq: int) -> int | None:
        round_ = self.state.rounds[number]
        round_.decide_seq = seq
        try:
            for rules_digest, rules in self.state.rules.items():
                if rules_digest != round_.rules and replay(self.state, number, rules_digest=rules_digest, digest_only=True).digest == digest:
                    return rules.version
        finally:
            round_.decide_seq = None
        return None

    def _after_decide(self, seq: int, body: dict[str, Any], entry: Entry) -> None:
        document, status = self._pending.pop(entry.statement.digest, (None, "matches"))
        round_ = self.state.rounds[body["round"]]
        round_.decision_status = status
        if status == "deviation_justified" and document is not None:
            allowed = ", ".join("no target" if t is None else t for t in document.allowed_targets())
            named = "no target" if body["target"] is None else body["target"]
            self.notices.append(Violation(seq, "R-12.4", f"round {body['round']}: the panel named {named} instead of {allowed} (the rules' selection), with a signed justification: {body['justification'][:200]}"))

    def _progress(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        yield from _dates(seq, body, ("date",))
        round_ = self.state.rounds.get(body["round"])
        if round_ is None or round_.target != body["org"] or round_.status != "target_active":
            yield Violation(seq, "R-11.11", f"progress report on {body['org']!r}, which is not the active target of round {body['round']}")

    def _dismantled(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        yield from _dates(seq, body, ("date",))
        round_ = self.state.rounds.get(body["round"])
        if round_ is None or round_.target != body["org"] or round_.status != "target_active":
            yield Violation(seq, "R-11.12", f"{body['org']!r} is not the active target of round {body['round']}")

    # -- outcomes (R-10.16) -------------------------------------------------------------

    def _baseline(self, seq: int, body: dict[str, Any], entry: Entry) -> Iterator[Violation]:
        """SPEC.md 10.8, R-10.16: a reference in the past, a level above zero, a stated reason."""
        from .rules import parse_decimal

        yield from _dates(seq, body, ())  # R-10.13: the sources' dates
        reference, level = body.get("reference"), body.get("level")
        if reference is not None:
            start, end = reference["start"], reference["end"]
            if not (_real_date(start) and _real_date(end)) or start > end:
                yield Violation(seq, "R-10.16", f"reference: expected two calendar dates, start <= end, found {start!r}, {end!r}")
            elif end > entry.statement.time[:10]:
                yield Violation(seq, "R-10.16", f"reference.end {end} is after the statement's date {entry.statement.time[:10]}: a reference period lies in the past")
        if level is not None and parse_decimal(level["value"]) == 0:
            yield Violation(seq, "R-10.16", "level.value: expected a level above 0, found 0")
        if is_blank(body["justification"]):
            yield Violation(seq, "R-10.16", "the justification is blank")


def baseline_summary(body: dict[str, Any]) -> str:
    """A baseline in one line: what it counts and its level or reference period (10.8)."""
    level, reference = body.get("level"), body.get("reference")
    what = f"level {level['value']} per {level['per']}" if level is not None else f"reference {reference['start']}..{reference['end']}"
    return f"{body['measure']} of {', '.join(body['kinds'])}, {what}"


def baseline_replaced(previous: tuple[int, str, dict[str, Any]], body: dict[str, Any]) -> str:
    """The text of notice R-10.18: a new step-7 baseline replaces the one in force."""
    return (f"the step-7 baseline is replaced: entry {previous[0]} said {baseline_summary(previous[2])}; now "
            f"{baseline_summary(body)} (the outcomes document judges the industry against the new one)")


_CHECKS: dict[str, Check] = {
    "org.register": ScoringProcess._org_register,
    "org.update": ScoringProcess._org_update,
    "org.lineage": ScoringProcess._org_lineage,
    "org.identify": ScoringProcess._org_identify,
    "incident.record": ScoringProcess._incident_record,
    "incident.amend": ScoringProcess._incident_amend,
    "incident.retract": ScoringProcess._incident_retract,
    "attribution.dispute": ScoringProcess._dispute,
    "dispute.resolve": ScoringProcess._resolve,
    "estimate.record": ScoringProcess._estimate,
    "rules.adopt": ScoringProcess._rules,
    "round.open": ScoringProcess._open,
    "round.close": ScoringProcess._close,
    "round.decide": ScoringProcess._decide,
    "target.progress": ScoringProcess._progress,
    "target.dismantled": ScoringProcess._dismantled,
    "outcome.baseline": ScoringProcess._baseline,
}


def scoring_process(verifier: Any) -> ScoringProcess | None:
    """The scoring process among a verifier's processes, if any."""
    for process in getattr(verifier, "processes", ()):
        if isinstance(process, ScoringProcess):
            return process
    return None


def default_processes() -> list[Process]:
    """The processes every ledger runs: the scoring process."""
    return [ScoringProcess()]


def new_verifier() -> Verifier:
    """A verifier with every default process: what ``ledger verify`` and appends use."""
    return Verifier(processes=default_processes())


def state_of(raws: Iterable[bytes]) -> ScoringState:
    """Verify ``raws`` and return the scoring state they leave (violations are ignored here:
    an entry with a violation has no effect, exactly as in ``ledger verify``)."""
    verifier = new_verifier()
    for raw in raws:
        verifier.feed(raw)
    process = scoring_process(verifier)
    assert process is not None  # new_verifier registers it
    return process.state
