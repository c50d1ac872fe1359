"""Importing incidents from CSV: the default columns, a mapping file, or a built-in format
(ACLED, GTD, UCDP GED; :mod:`ledger.app.import_formats`) (SPEC.md 17).

The file is read twice, streaming, by :class:`Importer` (one row in memory at a time):

1. **check**: every row becomes an :class:`Outcome`: ``record`` / ``amend`` (the incident
   bodies), ``unchanged`` (the ledger already holds it, :func:`comparable`), ``skip`` (it
   cannot be scored: kept aside by choice, with the reason) or ``problem`` (``row R,
   column C: problem``; rows are numbered as a spreadsheet shows them: the header is row
   1). Any problem refuses the file before anything is written;
2. **append**: :func:`statements_of` gives each row's statements; they are signed
   (:func:`sign_rows`) and appended in batches by
   :func:`ledger.storage.store.LedgerStore.append_many`, which runs each through the same verifier
   as ``ledger verify`` (:func:`row_problems` names a violation's row). A dry run checks
   them in memory instead (:func:`check_batch`).

What the ledger already holds comes from :func:`held_incidents`, so that re-importing an
export changes nothing and a newer export amends what it revised (SPEC.md 17.6).

Default columns (a mapping file renames them and translates values; see SPEC.md 17):

============================  ==========================================================
``event_id``                  incident id (lowercase letters, digits, ``-``, ``_``, ``.``)
``event_date``                ``YYYY-MM-DD`` (or the mapping's ``date_format``)
``time_precision``            ``day``/``week``/``month`` or ACLED's ``1``/``2``/``3``; default day
``admin1_code``               ISO 3166-2 subdivision, e.g. ``MX-GRO``
``admin2``                    municipality (optional)
``event_type``                one of the incident kinds (``killing``, ``kidnapping`` …)
``victims``                   ``ROLE=LOW/BEST/HIGH`` items separated by ``;`` (optional)
``fatalities``                ACLED-style single count, used when ``victims`` is empty,
                              with role ``victim_role`` (default ``unknown``)
``actor1``, ``actor2``        organization id, name or alias (empty: unattributed)
``actorN_basis``              ``claim``/``official_finding``/``forensic``/``media``/``inference``
``actorN_confidence``         ``low``/``medium``/``high``
``claims``                    ``ORG:STANCE:CHANNEL`` items separated by ``;`` (optional)
``sources``                   ``PUBLISHER:SCALE:DATE:COMMITMENT`` items separated by ``;``
``notes``                     free text (optional; never personal data)
============================  ==========================================================
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from ..core import canonical

from ..core.keys import SigningKey
from ..core.model import GENESIS_PREV, Statement, seal_entry
from ..core.validation import validate
from ..core.verify import Verifier
from ..errors import InputError, LedgerError, SchemaError
from ..scoring.state import ScoringState
from ..scoring.types import BASES, CONFIDENCES, KINDS, ROLES
from .import_formats import NA, OrgResolver

FIELDS = (
    "event_id", "event_date", "time_precision", "admin1_code", "admin2", "event_type", "victims",
    "fatalities", "victim_role", "actor1", "actor1_basis", "actor1_confidence", "actor2", "actor2_basis",
    "actor2_confidence", "claims", "sources", "notes",
)
REQUIRED = ("event_id", "event_date", "admin1_code", "event_type", "sources")
PRECISIONS = {"day": "day", "week": "week", "month": "month", "1": "day", "2": "week", "3": "month"}
STANCES = ("claimed", "denied")
CHANNELS = ("communique", "banner", "video", "social_media", "other")
SCALES = ("local", "national", "international")
MAX_ROWS = 1_000_000


class ImportFailed(LedgerError):
    """One or more rows are bad; ``problems`` lists every one of them."""

    def __init__(self, problems: Sequence["Problem"]) -> None:
        self.problems = list(problems)
        more = f" (and {len(self.problems) - 1} more problem(s))" if len(self.problems) > 1 else ""
        super().__init__(f"{self.problems[0]}{more}; nothing was appended")


@dataclass(frozen=True)
class Problem:
    row: int | None  # spreadsheet row (header = 1); None for the file as a whole
    column: str | None  # the column as named in the file
    message: str

    def __str__(self) -> str:
        where = [f"row {self.row}" if self.row is not None else "file"]
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Mapping_:
    """How a CSV layout maps onto the default columns (a mapping file, SPEC.md 17.2)."""

    columns: dict[str, str] = field(default_factory=dict)  # field -> header in the file
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> {their value: ours}
    defaults: dict[str, str] = field(default_factory=dict)  # field -> value when the cell is empty
    date_format: str = "%Y-%m-%d"
    delimiter: str = ","

    def header(self, name: str) -> str:
        return self.columns.get(name, name)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def read_mapping(data: bytes, where: str) -> Mapping_:
    try:
        obj = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{where}: not a JSON mapping file ({exc})") from None
    if not isinstance(obj, dict):
        raise InputError(f"{where}: the mapping must be a JSON object")
    unknown = set(obj) - {"columns", "values", "defaults", "date_format", "delimiter", "comment"}
    if unknown:
        raise InputError(f"{where}: unknown member {sorted(unknown)[0]!r} (allowed: columns, values, defaults, date_format, delimiter, comment)")
    mapping = Mapping_(
        columns=dict(obj.get("columns", {})), values={k: dict(v) for k, v in obj.get("values", {}).items()},
        defaults=dict(obj.get("defaults", {})), date_format=obj.get("date_format", "%Y-%m-%d"),
        delimiter=obj.get("delimiter", ","),
    )
    for section in ("columns", "values", "defaults"):
        for name in getattr(mapping, section):
            if name not in FIELDS and not (section == "values" and name == "actor"):
                raise InputError(f"{where}: {section} names unknown field {name!r} (fields: {', '.join(FIELDS)})")
    if len(mapping.delimiter) != 1:
        raise InputError(f"{where}: delimiter must be one character")
    return mapping


class _Row:
    """One CSV row being parsed; collects its problems."""

    def __init__(self, number: int, cells: dict[str, str], mapping: Mapping_) -> None:
        self.number = number
        self.cells = cells
        self.mapping = mapping
        self.problems: list[Problem] = []

    def column(self, name: str) -> str:
        return self.mapping.header(name)

    def get(self, name: str) -> str:
        value = (self.cells.get(self.mapping.header(name)) or "").strip()
        if not value or value in NA:  # NA and its kin are empty cells (SPEC.md 17.1)
            value = self.mapping.defaults.get(name, "")
        table = self.mapping.values.get(name) or (self.mapping.values.get("actor") if name in ("actor1", "actor2") else None)
        if table and value in table:
            value = table[value]
        return value

    def bad(self, name: str, message: str) -> None:
        self.problems.append(Problem(self.number, self.column(name), message))

    def choice(self, name: str, allowed: Sequence[str], default: str | None = None) -> str | None:
        value = self.get(name) or (default or "")
        if value not in allowed:
            found = f"{value!r}" if value else "an empty cell"
            self.bad(name, f"expected one of {', '.join(allowed)}, found {found}")
            return None
        return value


def _day(text: str, fmt: str) -> str | None:
    try:
        return datetime.strptime(text, fmt).date().isoformat() if fmt != "%Y-%m-%d" else date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _count(text: str) -> int | None:
    """A whole number: ``3`` or ``3.0`` (exports write counts as floats); else None."""
    whole_part, dot, fraction = text.partition(".")
    if not whole_part.isdigit() or len(whole_part) > 10 or (dot and (not fraction or fraction.strip("0"))):
        return None
    value = int(whole_part)
    return value if value <= 1_000_000_000 else None


def _parse_row(row: _Row, orgs: OrgResolver) -> dict[str, Any] | None:
    fmt = row.mapping.date_format
    incident_id = row.get("event_id")
    if not incident_id:
        row.bad("event_id", "is empty; every incident needs an id")
    day_text = row.get("event_date")
    day = _day(day_text, fmt) if day_text else None
    if day is None:
        row.bad("event_date", f"expected a calendar date as {fmt}, found {day_text!r}" if day_text else "is empty")
    precision_text = row.get("time_precision") or "day"
    precision = PRECISIONS.get(precision_text.lower())
    if precision is None:
        row.bad("time_precision", f"expected day, week, month (or 1, 2, 3), found {precision_text!r}")
    state = row.get("admin1_code")
    if not state:
        row.bad("admin1_code", "is empty; expected an ISO 3166-2 code such as MX-GRO")
    kind = row.choice("event_type", KINDS)
    victims: list[dict[str, Any]] = []
    victims_text = row.get("victims")
    if victims_text:
        for item in [p.strip() for p in victims_text.split(";") if p.strip()]:
            role, sep, counts = item.partition("=")
            numbers = [_count(x.strip()) for x in counts.split("/")] if sep else []
            if role.strip() not in ROLES:
                row.bad("victims", f"unknown victim role {role.strip()!r} in {item!r} (roles: {', '.join(ROLES)})")
            elif not numbers or len(numbers) > 3 or None in numbers:
                row.bad("victims", f"expected ROLE=LOW[/BEST[/HIGH]] with whole numbers, found {item!r}")
            else:
                low = numbers[0]
                best = numbers[1] if len(numbers) > 1 else low
                high = numbers[2] if len(numbers) > 2 else best
                if not low <= best <= high:  # type: ignore[operator]
                    row.bad("victims", f"expected low <= best <= high, found {item!r}")
                elif any(v["role"] == role.strip() for v in victims):
                    row.bad("victims", f"role {role.strip()!r} is listed twice")
                else:
                    victims.append({"role": role.strip(), "low": low, "best": best, "high": high})
    else:
        fatalities = row.get("fatalities")
        if fatalities:
            n = _count(fatalities)
            role = row.get("victim_role") or "unknown"
            if n is None:
                row.bad("fatalities", f"expected a whole number, found {fatalities!r}")
            elif role not in ROLES:
                row.bad("victim_role", f"expected one of {', '.join(ROLES)}, found {role!r}")
            elif n > 0:
                victims.append({"role": role, "low": n, "best": n, "high": n})
    attributions = []
    for n in (1, 2):
        actor = row.get(f"actor{n}")
        if not actor:
            continue
        org, problem = orgs.resolve(actor)
        if problem is not None:
            row.bad(f"actor{n}", problem)
        basis = row.choice(f"actor{n}_basis", BASES)
        confidence = row.choice(f"actor{n}_confidence", CONFIDENCES)
        if org is not None and any(a["org"] == org for a in attributions):
            row.bad(f"actor{n}", f"names {org!r} again (actor1 and actor2 must differ)")
        elif org is not None and basis and confidence:
            attributions.append({"org": org, "basis": basis, "confidence": confidence})
    claims = []
    for item in [p.strip() for p in row.get("claims").split(";") if p.strip()]:
        parts = [p.strip() for p in item.split(":")]
        if len(parts) != 3 or parts[1] not in STANCES or parts[2] not in CHANNELS:
            row.bad("claims", f"expected ORG:STANCE:CHANNEL (stance {'/'.join(STANCES)}, channel {'/'.join(CHANNELS)}), found {item!r}")
            continue
        org, problem = orgs.resolve(parts[0])
        if problem is not None:
            row.bad("claims", problem)
        else:
            claims.append({"org": org, "stance": parts[1], "channel": parts[2]})
    sources = []
    sources_text = row.get("sources")
    if not sources_text:
        row.bad("sources", "is empty; every incident needs at least one source (PUBLISHER:SCALE:DATE:COMMITMENT)")
    for item in [p.strip() for p in sources_text.split(";") if p.strip()]:
        parts = [p.strip() for p in item.split(":")]
        if len(parts) != 4:
            row.bad("sources", f"expected PUBLISHER:SCALE:DATE:COMMITMENT, found {item!r}")
            continue
        publisher, scale, source_day, commitment = parts
        if scale not in SCALES:
            row.bad("sources", f"scale must be one of {', '.join(SCALES)}, found {scale!r} in {item!r}")
        elif _day(source_day, "%Y-%m-%d") is None:
            row.bad("sources", f"source date must be YYYY-MM-DD, found {source_day!r}")
        elif len(commitment) != 64 or any(c not in "0123456789abcdef" for c in commitment):
            row.bad("sources", f"commitment must be 64 lowercase hex digits (ledger commitment FILE), found {commitment[:20]!r}")
        else:
            sources.append({"publisher": publisher, "scale": scale, "date": source_day, "commitment": commitment})
    notes = row.get("notes")
    if row.problems:
        return None
    place: dict[str, Any] = {"state": state, "precision": "municipality" if row.get("admin2") else "state"}
    if row.get("admin2"):
        place["municipality"] = row.get("admin2")
    body: dict[str, Any] = {
        "incident_id": incident_id, "date": day, "date_precision": precision, "place": place, "kind": kind,
        "victims": victims, "attributions": attributions, "claims": claims, "sources": sources,
    }
    if notes:
        body["notes"] = notes
    try:
        validate("urn:violence-scoring-ledger:v1:body:incident.record", body, "incident")
    except SchemaError as exc:
        row.problems.append(Problem(row.number, _column_of(row, exc.message), exc.message))
        return None
    return body


_PATH_COLUMNS = (
    ("incident.incident_id", "event_id"), ("incident.date", "event_date"), ("incident.place.state", "admin1_code"),
    ("incident.place.municipality", "admin2"), ("incident.victims", "victims"), ("incident.attributions[0]", "actor1"),
    ("incident.attributions[1]", "actor2"), ("incident.attributions", "actor1"), ("incident.claims", "claims"),
    ("incident.sources", "sources"), ("incident.notes", "notes"), ("incident.kind", "event_type"),
)


def _column_of(row: _Row, message: str) -> str | None:
    for prefix, name in _PATH_COLUMNS:
        if message.startswith(prefix) or f" {prefix}" in message:
            return row.column(name)
    return None


def open_csv(path: Path, delimiter: str = ",") -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and a stream of (spreadsheet row number, cells): one row in memory at a time.

    Blank lines are skipped; a malformed row or a cell count that differs from the header's
    is an :class:`ImportFailed`-style problem reported by the caller (raised as RowError)."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read CSV file ({exc.strerror})") from None
    reader = csv.reader(handle, delimiter=delimiter, strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        handle.close()
        raise InputError(f"{path}: empty file (expected a header row)") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        handle.close()
        raise InputError(f"{path}: row 1: {exc}") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        with handle:
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError as exc:
                    raise InputError(f"{path}: row {number + 1}: not UTF-8 text ({exc.reason})") from None
                except csv.Error as exc:
                    raise InputError(f"{path}: row {number + 1}: malformed CSV ({exc})") from None
                number += 1
                if number > MAX_ROWS + 1:
                    raise InputError(f"{path}: more than {MAX_ROWS} rows; split the file")
                if any(c.strip() for c in cells):
                    yield number, cells

    return header, rows()


@dataclass(frozen=True)
class Outcome:
    """What becomes of one row (SPEC.md 17.6): ``record`` or ``amend`` (with the bodies),
    ``unchanged``, ``skip`` (with the reason and the row's cells), or ``problem``.
    ``record`` is the row's own id in the dataset (its id column)."""

    row: int
    action: str
    bodies: tuple[dict[str, Any], ...] = ()
    reason: str = ""
    problems: tuple[Problem, ...] = ()
    cells: tuple[str, ...] = ()
    record: str = ""


def comparable(body: Mapping[str, Any]) -> bytes:
    """Digest of an incident body without ``origin.version``: two exports that say the same
    thing of a row give the same digest (SPEC.md 17.6)."""
    if "origin" in body:
        body = {**body, "origin": {k: v for k, v in body["origin"].items() if k != "version"}}
    return hashlib.sha256(canonical.encode(body)).digest()


@dataclass
class Held:
    """An incident the ledger holds: its comparable digest, dataset and record there, and
    whether it was retracted."""

    digest: bytes
    dataset: str | None
    record: str | None
    retracted: bool = False


def held_incidents(rows: Iterable[tuple[str, bytes]]) -> dict[str, Held]:
    """Each incident's current version, from the stored ``(type, raw entry)`` of every
    incident entry in ledger order (a query of the store)."""
    held: dict[str, Held] = {}
    for type_, raw in rows:
        body = json.loads(raw)["statement"]["body"]
        if type_ == "incident.retract":
            if body["incident_id"] in held:
                held[body["incident_id"]].retracted = True
            continue
        incident = body["incident"] if type_ == "incident.amend" else body
        origin = incident.get("origin") or {}
        held[incident["incident_id"]] = Held(comparable(incident), origin.get("dataset"), origin.get("record"))
    return held


class Importer:
    """Reads a CSV file row by row and says what becomes of each row (SPEC.md 17): the
    default columns or a mapping file (``mapping``), or a built-in format (``fmt``), against
    what the ledger holds (``held``). Run it twice over the same file (check, then write):
    it is deterministic and keeps only the incident ids it has seen."""

    def __init__(self, path: Path, state: ScoringState, held: Mapping[str, Held], *, mapping: Mapping_ | None = None,
                 fmt: Any = None, context: Any = None) -> None:
        self.path, self.state, self.held = path, state, held
        self.mapping = mapping or Mapping_()
        self.fmt, self.context = fmt, context
        self.orgs = OrgResolver(state)
        self.header: list[str] = []

    def header_problems(self, header: list[str]) -> list[Problem]:
        problems: list[Problem] = []
        seen: set[str] = set()
        for name in header:
            if name in seen and name:
                problems.append(Problem(1, name, "appears twice in the header"))
            seen.add(name)
        required = self.fmt.required if self.fmt is not None else [self.mapping.header(n) for n in REQUIRED]
        for name in required:
            if name not in seen:
                what = f"a column of the {self.fmt.title} layout" if self.fmt is not None else "required column"
                problems.append(Problem(1, name, f"{what} is missing from the header"))
        if problems:
            from .import_formats import FORMATS

            fits = [f for f in FORMATS.values() if f is not self.fmt and set(f.required) <= seen]
            if fits:
                problems.insert(0, Problem(1, None, f"the header is that of a {fits[0].title}: use --format {fits[0].name}"))
        return problems

    def outcomes(self) -> Iterator[Outcome]:
        from .import_formats import RowError, Skip, row_sha256

        header, rows = open_csv(self.path, self.mapping.delimiter)
        self.header = header
        problems = self.header_problems(header)
        if problems:
            yield Outcome(1, "problem", problems=tuple(problems))
            return
        ids: dict[str, int] = {}
        for number, cells in rows:
            if len(cells) != len(header):
                yield Outcome(number, "problem", problems=(Problem(number, None, f"has {len(cells)} cells but the header has {len(header)} columns"),))
                continue
            values = dict(zip(header, cells))
            if self.fmt is not None:
                record = values[self.fmt.id_column].strip()
                if not record:
                    yield Outcome(number, "problem", problems=(Problem(number, self.fmt.id_column, "is empty; every row needs its id"),))
                    continue
                try:
                    bodies = self.fmt.convert(values, self.context, row_sha256(header, cells))
                except Skip as skip:
                    yield Outcome(number, "skip", reason=str(skip), cells=tuple(cells), record=record)
                    continue
                except RowError as exc:
                    yield Outcome(number, "problem", problems=(Problem(number, exc.column, exc.message),))
                    continue
                id_column = self.fmt.id_column
            else:
                row = _Row(number, values, self.mapping)
                body = _parse_row(row, self.orgs)
                if body is None:
                    yield Outcome(number, "problem", problems=tuple(row.problems))
                    continue
                bodies, id_column, record = [body], row.column("event_id"), body["incident_id"]
            outcome = self._judge(number, bodies, ids, id_column)
            yield Outcome(outcome.row, outcome.action, outcome.bodies, outcome.reason, outcome.problems, tuple(cells), record)

    def _judge(self, number: int, bodies: list[dict[str, Any]], ids: dict[str, int], id_column: str) -> Outcome:
        """record, amend or unchanged, against the file so far and the ledger."""
        new, changed, problems = [], [], []
        for body in bodies:
            incident_id = body["incident_id"]
            if incident_id in ids:
                problems.append(Problem(number, id_column, f"incident {incident_id!r} also appears in row {ids[incident_id]}"))
                continue
            ids[incident_id] = number
            if self.fmt is not None:  # (the default columns were checked by _parse_row)
                try:
                    validate("urn:violence-scoring-ledger:v1:body:incident.record", body, "incident")
                except SchemaError as exc:
                    problems.append(Problem(number, id_column, exc.message))
                    continue
            held = self.held.get(incident_id)
            dataset = (body.get("origin") or {}).get("dataset")
            if held is None:
                new.append(body)
            elif held.dataset is None or held.dataset != dataset:
                seq = self.state.incidents[incident_id].versions[0][0] if incident_id in self.state.incidents else "?"
                problems.append(Problem(number, id_column, f"incident {incident_id!r} is already recorded at entry {seq}; correct it with ledger amend-incident"))
            elif held.retracted:
                return Outcome(number, "skip", reason=f"incident {incident_id!r} was retracted; a retracted incident is not recorded again")
            elif held.digest != comparable(body):
                changed.append(body)
        if problems:
            return Outcome(number, "problem", problems=tuple(problems))
        if new and changed:  # a row of several incidents (GED) partly new: record the new, amend the rest
            return Outcome(number, "record", bodies=tuple(new) + tuple(changed), reason="mixed")
        if new:
            return Outcome(number, "record", bodies=tuple(new))
        if changed:
            return Outcome(number, "amend", bodies=tuple(changed))
        return Outcome(number, "unchanged", bodies=tuple(bodies))


def statements_of(outcome: Outcome, held: Mapping[str, Held], reason: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The (type, body) of each statement a row gives: incident.record for new incidents,
    incident.amend (with ``reason``) for those the ledger holds."""
    for body in outcome.bodies:
        if body["incident_id"] in held:
            yield "incident.amend", {"incident": body, "reason": reason}
        else:
            yield "incident.record", body


def _require_recorder(verifier: Verifier, recorder: SigningKey) -> str:
    """The ledger id, after checking the ledger has a genesis and ``recorder`` may record."""
    ledger_id = verifier.context.ledger_id
    policy = verifier.context.policy
    if ledger_id is None or policy is None:
        raise InputError("the ledger has no valid genesis")
    if recorder.public.key_id not in policy.roles["recorder"].key_ids:
        from ..errors import AuthorityError

        raise AuthorityError(f"key {recorder.public.key_id[:12]} is not a recorder key of policy version {policy.version}")
    return ledger_id


Planned = tuple[int, str, dict[str, Any]]  # (spreadsheet row, statement type, body)


def sign_rows(
    verifier: Verifier, rows: Iterable[Planned], recorder: SigningKey, at: str,
    progress: Callable[[int], None] | None = None,
) -> list[tuple[Statement, list[Any]]]:
    """Each planned statement, signed by the recorder (refused up front if the key is not a
    recorder key of the policy in force)."""
    ledger_id = _require_recorder(verifier, recorder)
    items: list[tuple[Statement, list[Any]]] = []
    for _, type_, body in rows:
        statement = Statement.build(type_, body, at, ledger_id)
        items.append((statement, [statement.sign(recorder)]))
        if progress is not None:
            progress(1)
    return items


def row_problems(rows: Sequence[Planned]) -> tuple[list["Problem"], Callable[[int, list[Any]], None]]:
    """A list and the ``on_violation`` callback of ``LedgerStore.append_many`` that fills it
    with ``row R: message [RULE]`` problems (item ``i`` is ``rows[i]``)."""
    problems: list[Problem] = []

    def collect(index: int, violations: list[Any]) -> None:
        problems.extend(Problem(rows[index][0], None, f"{v.message} [{v.rule}]") for v in violations)

    return problems, collect


def check_batch(
    verifier: Verifier, rows: Sequence[Planned], recorder: SigningKey, operator: SigningKey, at: str,
    *, ignore_seal: bool = False,
) -> list[Problem]:
    """Sign each planned statement and run it through ``verifier`` (which moves on, in
    memory): the problems, by row. ``ignore_seal``: a dry run without the operator's key
    seals with a throwaway key and ignores the seal rule. (An import that writes does not
    need this pass: ``LedgerStore.append_many`` with the ``on_violation`` of
    :func:`row_problems` judges the rows the same way, once, under the write lock.)
    """
    items = sign_rows(verifier, rows, recorder, at)
    problems: list[Problem] = []
    for (number, _, _), (statement, signatures) in zip(rows, items):
        prev = GENESIS_PREV if verifier.head is None else verifier.head.hex()
        entry = seal_entry(verifier.size, prev, statement, tuple(signatures), operator)
        checked, violations = verifier.check(entry.raw)
        if ignore_seal and checked is not None and violations and all(v.rule == "R-7.15" for v in violations):
            violations = [v for process in verifier.processes for v in process.admit(checked, verifier.context)]
        if violations:
            problems.extend(Problem(number, None, f"{v.message} [{v.rule}]") for v in violations)
        verifier.record(entry.raw, checked, admitted=not violations)
    return problems
