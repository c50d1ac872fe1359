"""Built-in import formats: ACLED, GTD and UCDP GED exports as published (SPEC.md 17.5).

Each format turns one row of its export (header -> cell, exactly as in the file) into the
``incident.record`` bodies it stands for, or says why the row is skipped (:class:`Skip`:
it cannot be scored, e.g. an event type with no incident kind or no registered
perpetrator), or what is wrong with it (:class:`RowError`: a malformed cell). What becomes
of every column is written in docs/import-formats.md; this module is that table in code.

Every body carries ``origin`` (the dataset, its version, the row's own id and the SHA-256 of
the row's canonical bytes, :func:`row_sha256`), and sources whose commitment is that same
digest: an auditor holding the export recomputes it (SPEC.md 10.3, 17.5).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable

from ..core import canonical
from ..errors import InputError
from ..scoring.state import ScoringState

NA = {"", "NA", "N/A", "NULL", "null", "None", "nan", "NaN"}
UNKNOWN = {"unknown", "unk", "unknown/other"}


class Skip(Exception):
    """The row is valid but cannot be scored: skipped by choice, listed in the skipped file."""


class RowError(Exception):
    """A malformed cell: ``column`` as named in the file."""

    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


def row_sha256(header: list[str], cells: list[str]) -> str:
    """SHA-256 (hex) of the row's canonical bytes: the RFC 8785 encoding of the JSON object
    {column name: cell text exactly as in the file} (SPEC.md 17.5)."""
    return hashlib.sha256(canonical.encode(dict(zip(header, cells)))).hexdigest()


def cell(row: dict[str, str], name: str) -> str:
    """A cell stripped of blanks; ``NA`` and its kin read as empty."""
    value = (row.get(name) or "").strip()
    return "" if value in NA else value


def whole(row: dict[str, str], name: str, *, unknown_below_zero: bool = False) -> int | None:
    """A count: ``3`` or ``3.0`` (integral only); empty is None; GTD's -9/-99 (unknown) is
    None when ``unknown_below_zero``."""
    text = cell(row, name)
    if not text:
        return None
    if re.fullmatch(r"-?[0-9]{1,10}(\.0+)?", text) is None:
        raise RowError(name, f"expected a whole number (such as 3 or 3.0), found {text!r}")
    value = int(text.split(".")[0])
    if value < 0:
        if unknown_below_zero:
            return None
        raise RowError(name, f"expected a count >= 0, found {text!r}")
    if value > 1_000_000_000:
        raise RowError(name, f"count {text!r} is absurdly large")
    return value


@functools.lru_cache(maxsize=65536)  # actor and region names repeat on every row
def fold(text: str) -> str:
    """Case-, accent- and blank-insensitive form of a name."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def slug(text: str) -> str | None:
    """An identifier (SPEC.md 10) made from a publisher's name: ``L'investigateur`` -> ``l-investigateur``."""
    value = re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:64].rstrip("-")
    return value or None


# -- tables the steward keeps ---------------------------------------------------------------


def _read_table(path: Path, columns: tuple[str, ...], what: str) -> list[dict[str, str]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{path}: {what} needs the columns {', '.join(columns)} (missing {', '.join(missing)})")
            return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what} ({exc.strerror})") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: not a UTF-8 CSV {what} ({exc})") from None


class OrgResolver:
    """Organization ids, names and aliases (case-, accent- and blank-insensitive) to ids."""

    def __init__(self, state: ScoringState) -> None:
        self.names: dict[str, set[str]] = {}
        for org in state.orgs.values():
            for label in (org.org_id, org.name, *org.aliases):
                self.names.setdefault(fold(label), set()).add(org.org_id)

    def resolve(self, value: str) -> tuple[str | None, str | None]:
        """(the organization id, None), or (None, why not)."""
        found = self.names.get(fold(value), set())
        if len(found) == 1:
            return next(iter(found)), None
        if len(found) > 1:
            return None, f"{value!r} is ambiguous: it names {', '.join(sorted(found))}; use the organization id"
        return None, f"{value!r} is not a registered organization (id, name or alias); register it first (ledger new-org)"


class Actors:
    """Actor names -> registered organizations: the steward's actor table first (a CSV with
    columns ``name,org``; an empty ``org`` says "not an organization we score"), then
    :class:`OrgResolver`. Names that resolve to nothing are counted in ``unresolved``."""

    def __init__(self, state: ScoringState, table: Path | None = None) -> None:
        self.orgs = OrgResolver(state)
        self.table: dict[str, str | None] = {}
        for row in _read_table(table, ("name", "org"), "actor table") if table else []:
            if row["org"] and row["org"] not in state.orgs:
                raise InputError(f"{table}: actor {row['name']!r} maps to {row['org']!r}, which is not a registered organization")
            self.table[fold(row["name"])] = row["org"] or None
        self.unresolved: dict[str, int] = {}

    def resolve(self, name: str) -> str | None:
        key = fold(name)
        if key in self.table:
            return self.table[key]
        org, _ = self.orgs.resolve(name)
        if org is None:
            self.unresolved[name] = self.unresolved.get(name, 0) + 1
        return org


_REGION_WORDS = {"state", "province", "department", "region", "governorate", "district", "municipality", "county", "oblast", "prefecture"}


class Places:
    """Country and region names -> ``place`` (SPEC.md 10.3): the steward's region table
    first (a CSV with columns ``country,region,code``: an ISO 3166-2 code, or an ISO 3166-1
    alpha-2 code for "country only"; an empty ``region`` names the country itself), then the
    ISO 3166 names (pycountry). An unknown region gives a country-only place."""

    def __init__(self, table: Path | None = None) -> None:
        self.table: dict[tuple[str, str], str] = {}
        for row in _read_table(table, ("country", "region", "code"), "region table") if table else []:
            if re.fullmatch(r"[A-Z]{2}(-[A-Z0-9]{1,3})?", row["code"]) is None:
                raise InputError(f"{table}: {row['code']!r} is not an ISO 3166-2 code (MX-GRO) or a country code (MX)")
            self.table[(fold(row["country"]), fold(row["region"]))] = row["code"]
        self._countries: dict[str, str | None] = {}
        self._regions: dict[str, dict[str, str]] = {}
        self._places: dict[tuple[str, str, str], dict[str, Any] | str] = {}

    def country(self, name: str) -> str | None:
        key = fold(name)
        if (key, "") in self.table:
            return self.table[(key, "")][:2]
        if key not in self._countries:
            import pycountry

            try:
                found = pycountry.countries.get(numeric=name.zfill(3)) if name.isdigit() else pycountry.countries.lookup(name)
            except LookupError:
                found = None
            self._countries[key] = found.alpha_2 if found is not None else None
        return self._countries[key]

    def region(self, country: str, name: str) -> str | None:
        if country not in self._regions:
            import pycountry

            names: dict[str, str] = {}
            for sub in pycountry.subdivisions.get(country_code=country) or []:
                if sub.parent_code is None:
                    names[fold(sub.name)] = sub.code
            self._regions[country] = names
        names = self._regions[country]
        key = fold(name)
        words = key.rsplit(" ", 1)
        if key not in names and len(words) == 2 and words[1] in _REGION_WORDS:  # GED: "Tamaulipas state"
            key = words[0]
        if key in names:
            return names[key]
        prefixed = [code for label, code in names.items() if label.startswith(key + " ")]
        return prefixed[0] if len(prefixed) == 1 else None

    def place(self, country_name: str, region: str, municipality: str) -> dict[str, Any]:
        """The place of a row (a fresh dict); a country nobody can name is a :class:`Skip`."""
        key = (country_name, region, municipality)
        if key not in self._places:
            try:
                self._places[key] = self._place(country_name, region, municipality)
            except Skip as skip:
                self._places[key] = str(skip)
        found = self._places[key]
        if isinstance(found, str):
            raise Skip(found)
        return dict(found)

    def _place(self, country_name: str, region: str, municipality: str) -> dict[str, Any]:
        code = self.table.get((fold(country_name), fold(region)))
        if code is None:
            alpha2 = self.country(country_name) if country_name else None
            if alpha2 is None:
                raise Skip(f"country {country_name!r} is not an ISO 3166 country name; add it to the region table (--regions)")
            code = self.region(alpha2, region) if region and fold(region) not in UNKNOWN else None
            code = code or alpha2
        if len(code) == 2:
            return {"country": code, "precision": "country"}
        place: dict[str, Any] = {"state": code, "precision": "state"}
        if municipality and fold(municipality) not in UNKNOWN:
            place["municipality"] = municipality[:100]
            place["precision"] = "municipality"
        return place


# -- the formats ------------------------------------------------------------------------


@dataclass
class Context:
    """What a format needs besides the row."""

    dataset: str
    version: str
    actors: Actors
    places: Places


@dataclass(frozen=True)
class Format:
    name: str  # also the dataset name in ``origin`` and the incident id prefix
    title: str
    id_column: str
    required: tuple[str, ...]
    convert: Callable[[dict[str, str], Context, str], list[dict[str, Any]]]


def _origin(ctx: Context, record: str, sha: str) -> dict[str, Any]:
    return {"dataset": ctx.dataset, "version": ctx.version, "record": record[:200], "sha256": sha}


def _sources(publishers: Iterable[str], scale: str, day: str, sha: str, fallback: str) -> list[dict[str, Any]]:
    """One source per publisher the row names (at most 32), each committing to the row."""
    names: list[str] = []
    for name in publishers:
        s = slug(name)
        if s and s not in names:
            names.append(s)
    return [{"publisher": p, "scale": scale, "date": day, "commitment": sha} for p in (names or [fallback])[:32]]


def _victims(counts: Iterable[tuple[str, int, int, int]]) -> list[dict[str, Any]]:
    """Victim entries, one per role (counts of a repeated role added up), zero counts dropped."""
    merged: dict[str, list[int]] = {}
    for role, low, best, high in counts:
        if high == 0:
            continue
        total = merged.setdefault(role, [0, 0, 0])
        total[0] += low
        total[1] += best
        total[2] += high
    return [{"role": r, "low": v[0], "best": v[1], "high": v[2]} for r, v in merged.items()]


def _attribute(ctx: Context, names: Iterable[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """(actor name, basis, confidence) -> attributions to registered organizations, each once
    (the first, most confident mention wins)."""
    out: list[dict[str, Any]] = []
    for name, basis, confidence in names:
        org = ctx.actors.resolve(name) if name and fold(name) not in UNKNOWN else None
        if org is not None and all(a["org"] != org for a in out):
            out.append({"org": org, "basis": basis, "confidence": confidence})
    return out[:16]


def _no_perpetrator(names: Iterable[str]) -> Skip:
    shown = ", ".join(repr(n) for n in names if n and fold(n) not in UNKNOWN) or "perpetrator unknown"
    return Skip(f"no registered perpetrator (actors: {shown}); register the organization, add an alias, or map the name in the actor table (--actors)")


# ACLED ----------------------------------------------------------------------------------

ACLED_KINDS = {
    "Attack": "killing",
    "Armed clash": "killing",
    "Abduction/forced disappearance": "forced_disappearance",
    "Remote explosive/landmine/IED": "terror_act_or_threat",
    "Grenade": "terror_act_or_threat",
    "Suicide bomb": "terror_act_or_threat",
}
ACLED_SCALES = {"international": 3, "regional": 2, "national": 2}  # anything else (subnational, local partner, new media, other): local
_SCALE_NAMES = {3: "international", 2: "national", 1: "local"}
ACLED_INTER = {  # ACLED's actor type codes (numeric before 2024, words after)
    "1": "state", "state forces": "state", "2": "armed", "rebel group": "armed", "3": "armed", "political militia": "armed",
    "4": "armed", "identity militia": "armed", "5": "civilian", "rioters": "civilian", "6": "civilian", "protesters": "civilian",
    "7": "civilian", "civilians": "civilian", "8": "other", "external/other forces": "other",
}


def acled_role(name: str, inter: str, civilian_targeting: bool) -> str:
    """The victim role of ACLED's target actor (docs/import-formats.md)."""
    low = name.casefold()
    if "journalist" in low:
        return "journalist"
    if "government of" in low or "politician" in low or "government official" in low:
        return "official"
    if "police" in low:
        return "police"
    kind = ACLED_INTER.get(inter.casefold())
    if civilian_targeting or kind == "civilian":
        return "ordinary_citizen"
    if kind == "state":
        return "military"
    if kind == "armed":
        return "rival_member"
    return "unknown"


@functools.lru_cache(maxsize=4096)
def _acled_day(text: str) -> str:
    for fmt in ("%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise RowError("event_date", f"expected a date such as '16 December 2022' or 2022-12-16, found {text!r}")


def _alternatives(name: str) -> list[str]:
    """``A and/or B`` names two possible actors."""
    return [p.strip() for p in re.split(r"\s+and/or\s+", name) if p.strip()]


def _acled_side(ctx: Context, actor: str, assoc: str, confidence: str) -> list[tuple[str, str, str]]:
    names = _alternatives(actor)
    sure = confidence if len(names) == 1 else "low"
    return [(n, "media", sure) for n in names] + [(a.strip(), "media", "low") for a in assoc.split(";") if a.strip()]


def acled(row: dict[str, str], ctx: Context, sha: str) -> list[dict[str, Any]]:
    record = cell(row, "event_id_cnty")
    day = _acled_day(cell(row, "event_date"))
    precision = {"1": "day", "2": "week", "3": "month", "": "day"}.get(cell(row, "time_precision"))
    if precision is None:
        raise RowError("time_precision", f"expected 1, 2 or 3, found {cell(row, 'time_precision')!r}")
    fatalities = whole(row, "fatalities") or 0
    sub_type = cell(row, "sub_event_type")
    kind = ACLED_KINDS.get(sub_type)
    if kind is None:
        raise Skip(f"sub_event_type {sub_type!r} has no incident kind")
    actor1, actor2 = cell(row, "actor1"), cell(row, "actor2")
    side1 = _attribute(ctx, _acled_side(ctx, actor1, cell(row, "assoc_actor_1"), "medium"))
    battle = cell(row, "event_type") == "Battles"
    side2 = _attribute(ctx, _acled_side(ctx, actor2, cell(row, "assoc_actor_2"), "medium")) if battle else []
    attributions = side1 + [a for a in side2 if all(a["org"] != b["org"] for b in side1)]
    if not attributions:
        raise _no_perpetrator([actor1, actor2] if battle else [actor1])
    targeting = cell(row, "civilian_targeting") == "Civilian targeting"
    if side1 and side2:
        role = "rival_member"  # both sides registered: their dead cannot be told apart
    elif side1:
        role = acled_role(actor2, cell(row, "inter2"), targeting)
    else:
        role = acled_role(actor1, cell(row, "inter1"), targeting)
    count = max(fatalities, 1) if kind in ("kidnapping", "forced_disappearance") else fatalities
    levels = [ACLED_SCALES.get(part.strip().casefold(), 1) for part in cell(row, "source_scale").split("-") if part.strip()]
    scale = _SCALE_NAMES[max(levels, default=1)]
    place = ctx.places.place(cell(row, "country") or cell(row, "iso"), cell(row, "admin1"), cell(row, "admin2"))
    return [{
        "incident_id": f"acled-{slug(record)}", "date": day, "date_precision": precision, "place": place, "kind": kind,
        "victims": _victims([(role, count, count, count)]), "attributions": attributions, "claims": [],
        "sources": _sources(cell(row, "source").split(";"), scale, day, sha, "acled"),
        "origin": _origin(ctx, record, sha),
    }]


# GTD ------------------------------------------------------------------------------------

GTD_KINDS = {
    "Assassination": "killing",
    "Armed Assault": "killing",
    "Bombing/Explosion": "terror_act_or_threat",
    "Facility/Infrastructure Attack": "terror_act_or_threat",
    "Hijacking": "kidnapping",
    "Hostage Taking (Barricade Incident)": "kidnapping",
    "Hostage Taking (Kidnapping)": "kidnapping",
}
GTD_ROLES = {
    "Private Citizens & Property": "ordinary_citizen", "Business": "ordinary_citizen", "Educational Institution": "ordinary_citizen",
    "Transportation": "ordinary_citizen", "Tourists": "ordinary_citizen", "Airports & Aircraft": "ordinary_citizen",
    "Maritime": "ordinary_citizen", "Food or Water Supply": "ordinary_citizen", "Telecommunication": "ordinary_citizen",
    "Utilities": "ordinary_citizen", "NGO": "ordinary_citizen", "Abortion Related": "ordinary_citizen",
    "Police": "police", "Military": "military", "Journalists & Media": "journalist",
    "Government (General)": "official", "Government (Diplomatic)": "official",
    "Religious Figures/Institutions": "community_leader",
    "Terrorists/Non-State Militia": "rival_member", "Violent Political Party": "rival_member",
}
GTD_CHANNELS = {
    "Letter": "communique", "E-mail": "communique", "Call (pre-incident)": "other", "Call (post-incident)": "other",
    "Note left at scene": "banner", "Video": "video", "Posted to website, blog, etc.": "social_media",
    "Personal claim": "other", "Other": "other", "Unknown": "other",
}


def _gtd_day(row: dict[str, str]) -> tuple[str, str]:
    year, month, day = (whole(row, name) for name in ("iyear", "imonth", "iday"))
    if year is None:
        raise RowError("iyear", "is empty")
    if not month:
        raise Skip("month unknown (imonth = 0): the ledger's coarsest date precision is a month")
    try:
        return date(year, month, day or 1).isoformat(), "day" if day else "month"
    except ValueError:
        raise RowError("iday", f"{year}-{month}-{day} is not a calendar date") from None


def gtd(row: dict[str, str], ctx: Context, sha: str) -> list[dict[str, Any]]:
    record = cell(row, "eventid")
    day, precision = _gtd_day(row)
    attack = cell(row, "attacktype1_txt")
    kind = GTD_KINDS.get(attack)
    if kind is None:
        raise Skip(f"attacktype1_txt {attack!r} has no incident kind")
    perpetrators = []
    claims = []
    for n, suffix in ((1, ""), (2, "2"), (3, "3")):
        name = cell(row, f"gname{suffix}")
        if not name or fold(name) in UNKNOWN:
            continue
        claimed = cell(row, "claimed" if n == 1 else f"claim{n}") == "1"
        uncertain = cell(row, f"guncertain{n}") == "1"
        confidence = "low" if uncertain else "high" if claimed else "medium"
        perpetrators.append((name, "claim" if claimed else "media", confidence))
        org = ctx.actors.resolve(name) if claimed else None
        if org is not None:
            mode = cell(row, "claimmode_txt" if n == 1 else f"claimmode{n}_txt")
            claims.append({"org": org, "stance": "claimed", "channel": GTD_CHANNELS.get(mode, "other")})
    attributions = _attribute(ctx, perpetrators)
    if not attributions:
        raise _no_perpetrator([cell(row, "gname"), cell(row, "gname2"), cell(row, "gname3")])
    role = GTD_ROLES.get(cell(row, "targtype1_txt"), "unknown")
    if kind == "kidnapping":
        hostages = whole(row, "nhostkid", unknown_below_zero=True)
        count = hostages if hostages else 1  # unknown or 0 reported: at least one person
    else:
        killed = whole(row, "nkill") or 0
        own = whole(row, "nkillter") or 0  # the perpetrators' own dead are not their victims
        count = max(killed - own, 0)
    place = ctx.places.place(cell(row, "country_txt"), cell(row, "provstate"), cell(row, "city"))
    seen = set()
    unique_claims = [c for c in claims if not (c["org"] in seen or seen.add(c["org"]))]
    return [{
        "incident_id": f"gtd-{slug(record)}", "date": day, "date_precision": precision, "place": place, "kind": kind,
        "victims": _victims([(role, count, count, count)]), "attributions": attributions, "claims": unique_claims,
        "sources": _sources([cell(row, "dbsource")], "international", day, sha, "gtd"),
        "origin": _origin(ctx, record, sha),
    }]


# UCDP GED -------------------------------------------------------------------------------


def ged_role(side: str) -> str:
    low = side.casefold()
    if low.startswith("civilians"):
        return "ordinary_citizen"
    if low.startswith("government of"):
        return "military"
    return "rival_member"


def _ged_day(text: str, column: str) -> date:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise RowError(column, f"expected a date (YYYY-MM-DD ...), found {text!r}") from None


def _share(part: int, best: int, low: int, high: int) -> tuple[int, int, int]:
    """``part`` of the ``best`` deaths, with GED's low and high scaled to it (floor, ceiling)."""
    if best == 0:
        return part, part, part
    return min(part, part * low // best), part, max(part, -(-part * high // best))


def ged(row: dict[str, str], ctx: Context, sha: str) -> list[dict[str, Any]]:
    record = cell(row, "id")
    start, end = _ged_day(cell(row, "date_start"), "date_start"), _ged_day(cell(row, "date_end") or cell(row, "date_start"), "date_end")
    if end < start:
        raise RowError("date_end", f"{end} is before date_start {start}")
    if start == end:
        precision = "day"
    elif (end - start).days < 7:
        precision = "week"
    elif (start.year, start.month) == (end.year, end.month):
        precision = "month"
    else:
        raise Skip(f"dated {start}..{end}: longer than the ledger's coarsest date precision (a calendar month)")
    side_a, side_b = cell(row, "side_a"), cell(row, "side_b")
    org_a = ctx.actors.resolve(side_a) if side_a else None
    org_b = ctx.actors.resolve(side_b) if side_b else None
    if org_b == org_a:
        org_b = None
    if org_a is None and org_b is None:
        raise _no_perpetrator([side_a, side_b])
    best, low, high = (whole(row, name) or 0 for name in ("best", "low", "high"))
    if not low <= best <= high:
        raise RowError("best", f"expected low <= best <= high, found {low}/{best}/{high}")
    deaths = {k: whole(row, f"deaths_{k}") or 0 for k in ("a", "b", "civilians", "unknown")}
    confidence = "low" if cell(row, "event_clarity") == "2" else "medium"
    where = cell(row, "where_prec")
    place = ctx.places.place(cell(row, "country"), cell(row, "adm_1") if where not in ("5", "6", "7") else "",
                             cell(row, "adm_2") if where in ("1", "2") else "")
    day = start.isoformat()
    common = {
        "date": day, "date_precision": precision, "place": place, "kind": "killing", "claims": [],
        "sources": _sources(cell(row, "source_office").split(";"), "international", day, sha, "ucdp"),
        "origin": _origin(ctx, record, sha),
    }
    base = f"ged-{slug(record)}"

    def shares(*parts: tuple[str, int]) -> list[dict[str, Any]]:
        return _victims([(role, *_share(n, best, low, high)) for role, n in parts])

    def attribution(org: str) -> dict[str, Any]:
        return {"org": org, "basis": "media", "confidence": confidence}

    joint = [("ordinary_citizen", deaths["civilians"]), ("unknown", deaths["unknown"])]
    if org_a is None or org_b is None:
        # One side registered: its victims are the other side's dead, the civilians and the
        # dead of unknown status; its own dead are not scored against it.
        org, other, other_dead = (org_a, side_b, deaths["b"]) if org_b is None else (org_b, side_a, deaths["a"])
        return [{**common, "incident_id": base, "attributions": [attribution(org)],  # type: ignore[arg-type]
                 "victims": shares((ged_role(other), other_dead), *joint)}]
    # Both sides registered: each side's kills of the other are its own incident; the civilian
    # and unknown dead are one incident attributed to both.
    out = [{**common, "incident_id": base, "attributions": [attribution(org_a), attribution(org_b)], "victims": shares(*joint)}]
    for suffix, org, other, dead in (("a", org_a, side_b, deaths["b"]), ("b", org_b, side_a, deaths["a"])):
        if dead:
            out.append({**common, "incident_id": f"{base}-{suffix}", "attributions": [attribution(org)],
                        "victims": shares((ged_role(other), dead))})
    return out


FORMATS: dict[str, Format] = {
    "acled": Format("acled", "ACLED export", "event_id_cnty",
                    ("event_id_cnty", "event_date", "event_type", "sub_event_type", "actor1", "actor2", "country", "admin1", "fatalities"), acled),
    "gtd": Format("gtd", "Global Terrorism Database", "eventid",
                  ("eventid", "iyear", "imonth", "iday", "country_txt", "provstate", "attacktype1_txt", "targtype1_txt", "gname", "nkill"), gtd),
    "ged": Format("ged", "UCDP Georeferenced Event Dataset", "id",
                  ("id", "type_of_violence", "side_a", "side_b", "date_start", "date_end", "country", "adm_1",
                   "deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown", "best", "low", "high"), ged),
}
