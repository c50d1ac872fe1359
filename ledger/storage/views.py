"""Readable SQL views of the operator's store (SPEC.md 9), for browsing with standard tools.

Every view is derived from ``entries.raw`` with SQLite's JSON functions. The views show
entries *as recorded*: they do not verify anything, and entries with violations appear like
any other. Nothing reads them to decide validity; ``ledger verify`` and ``ledger replay``
recompute everything from ``raw``. Since people browse them, ``ledger verify`` checks that
each view is still defined exactly as here (R-9.1) and that the derived columns of
``entries`` equal what ``raw`` gives (R-9.2): :func:`check_store`.

    sqlite3 -readonly -header -column ledger.db "SELECT * FROM rounds"
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

from ..core.verify import Violation
from ..errors import InputError

VIEWS: dict[str, str] = {
    "statements": """
        SELECT seq, type,
               json_extract(CAST(raw AS TEXT), '$.statement.time') AS time,
               json_array_length(CAST(raw AS TEXT), '$.signatures') AS signatures,
               json_extract(CAST(raw AS TEXT), '$.statement.body') AS body
        FROM entries""",
    "organizations": """
        SELECT seq, type AS entry_type, time AS recorded,
               json_extract(body, '$.org_id') AS org_id,
               json_extract(body, '$.name') AS name,
               json_extract(body, '$.aliases') AS aliases
        FROM statements WHERE type IN ('org.register', 'org.update')""",
    "incidents": """
        SELECT seq, entry_type, recorded,
               json_extract(i, '$.incident_id') AS incident_id,
               json_extract(i, '$.date') AS date,
               json_extract(i, '$.date_precision') AS date_precision,
               json_extract(i, '$.kind') AS kind,
               json_extract(i, '$.place.state') AS state,
               json_extract(i, '$.place.municipality') AS municipality,
               (SELECT sum(json_extract(v.value, '$.best')) FROM json_each(i, '$.victims') AS v) AS victims_best,
               (SELECT group_concat(json_extract(a.value, '$.org'), ',') FROM json_each(i, '$.attributions') AS a) AS attributed_to,
               json_array_length(i, '$.sources') AS sources
        FROM (SELECT seq, type AS entry_type, time AS recorded,
                     CASE type WHEN 'incident.amend' THEN json_extract(body, '$.incident') ELSE body END AS i
              FROM statements WHERE type IN ('incident.record', 'incident.amend'))""",
    "disputes": """
        SELECT d.seq, d.time AS recorded,
               json_extract(d.body, '$.dispute_id') AS dispute_id,
               json_extract(d.body, '$.incident_id') AS incident_id,
               json_extract(d.body, '$.org') AS org,
               json_extract(d.body, '$.basis') AS basis,
               (SELECT json_extract(r.body, '$.outcome') FROM statements AS r
                 WHERE r.type = 'dispute.resolve' AND json_extract(r.body, '$.dispute_id') = json_extract(d.body, '$.dispute_id')
                 ORDER BY r.seq LIMIT 1) AS outcome
        FROM statements AS d WHERE d.type = 'attribution.dispute'""",
    "rounds": """
        SELECT json_extract(o.body, '$.round') AS round,
               json_extract(o.body, '$.window.start') AS window_start,
               json_extract(o.body, '$.window.end') AS window_end,
               json_extract(o.body, '$.decision_date') AS decision_date,
               json_array_length(o.body, '$.eligible') AS eligible,
               json_extract(o.body, '$.rules') AS rules_digest,
               o.seq AS opened,
               (SELECT c.seq FROM statements AS c WHERE c.type = 'round.close'
                  AND json_extract(c.body, '$.round') = json_extract(o.body, '$.round') ORDER BY c.seq LIMIT 1) AS closed,
               (SELECT d.seq FROM statements AS d WHERE d.type = 'round.decide'
                  AND json_extract(d.body, '$.round') = json_extract(o.body, '$.round') ORDER BY d.seq LIMIT 1) AS decided,
               (SELECT json_extract(d.body, '$.target') FROM statements AS d WHERE d.type = 'round.decide'
                  AND json_extract(d.body, '$.round') = json_extract(o.body, '$.round') ORDER BY d.seq LIMIT 1) AS target
        FROM statements AS o WHERE o.type = 'round.open'""",
    "decisions": """
        SELECT seq, time AS recorded, signatures,
               json_extract(body, '$.round') AS round,
               json_extract(body, '$.target') AS target,
               json_extract(body, '$.ranking') AS ranking_digest,
               json_extract(body, '$.justification') AS justification
        FROM statements WHERE type = 'round.decide'""",
}


def view_sql(name: str) -> str:
    """The ``sql`` that SQLite keeps in ``sqlite_master`` for the view (R-9.1)."""
    return f"CREATE VIEW {name} AS {VIEWS[name]}"


def missing_views(conn: sqlite3.Connection) -> list[str]:
    present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
    return [name for name in VIEWS if name not in present]


def create_views(conn: sqlite3.Connection) -> None:
    """Create the views that are missing (inside the caller's transaction, if any)."""
    for name in missing_views(conn):
        conn.execute(view_sql(name))


def ensure_views(conn: sqlite3.Connection) -> None:
    """On opening a ledger for writing: add the views to a file made before they existed.

    Does nothing (and takes no write lock) when every view is there; a file that cannot be
    written is left as it is, since the views are a convenience.
    """
    try:
        if not missing_views(conn):
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            create_views(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except sqlite3.DatabaseError:
        return


STATEMENT_MEMBER = b',"statement":'
TYPE_MEMBER = b',"type":"'


def _statement_bytes(raw: bytes) -> bytes | None:
    """The statement's bytes inside canonical entry bytes: after the first ``,"statement":``
    up to the final ``}`` (``statement`` is the last member; ``prev``, ``seal``, ``seq`` and
    ``signatures`` before it hold no such text). None when raw has no such text."""
    at = raw.find(STATEMENT_MEMBER)
    if at < 0 or not raw.endswith(b"}"):
        return None
    return raw[at + len(STATEMENT_MEMBER):-1]


def _json_type(raw: bytes) -> str | None:
    """``statement.type`` of raw parsed as JSON, or None when there is none."""
    try:
        value = json.loads(raw)["statement"]["type"]
    except (ValueError, TypeError, KeyError):
        return None
    return value if isinstance(value, str) else None


def _differences(type_: object, leaf: object, digest: object, raw: object) -> list[str]:
    """The derived columns of a row that do not equal what ``raw`` gives (R-9.2)."""
    raw = bytes(raw) if isinstance(raw, (bytes, memoryview)) else str(raw).encode("utf-8")
    out = []
    expected_type = _json_type(raw)
    if expected_type is not None and type_ != expected_type:
        out.append("type")
    if expected_type is not None and leaf != hashlib.sha256(b"\x00" + raw).digest():
        out.append("leaf_hash")
    statement = _statement_bytes(raw)
    if expected_type is not None and statement is not None and digest != hashlib.sha256(statement).digest():
        out.append("statement_digest")
    return out


def _quick_differs(type_: object, leaf: object, digest: object, raw: object) -> int:
    """1 when a row may differ (confirmed by :func:`_differences`): the statement's ``type``
    is read from its canonical layout (the member before ``"v"``) instead of parsing JSON."""
    if not isinstance(raw, bytes):
        return 1
    if leaf != hashlib.sha256(b"\x00" + raw).digest():
        return 1
    statement = _statement_bytes(raw)
    if statement is None:
        return 1
    if digest != hashlib.sha256(statement).digest():
        return 1
    at = statement.rfind(TYPE_MEMBER)
    if at < 0:
        return 1
    start = at + len(TYPE_MEMBER)
    end = statement.find(b'"', start)
    return int(not isinstance(type_, str) or statement[start:end] != type_.encode("utf-8"))


def check_store(conn: sqlite3.Connection, start: int = 0) -> list[Violation]:
    """R-9.1 and R-9.2 (SPEC.md 9) on a SQLite ledger: each view of :data:`VIEWS` present is
    defined exactly as this module creates it, and each row of ``entries`` from ``start`` on
    has ``type``, ``leaf_hash`` and ``statement_digest`` equal to what its ``raw`` gives
    (``seq`` is the order itself, judged by R-7.4). Reads only; one pass, parsing JSON only
    for rows the quick test flags."""
    out: list[Violation] = []
    try:
        conn.create_function("quick_differs", 4, _quick_differs, deterministic=True)
        # a view people browse says what this module defines, nothing else.
        for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name"):
            if name in VIEWS and sql != view_sql(name):
                out.append(Violation(None, "R-9.1", f"view {name} has been redefined: its SQL is not the definition "
                                                    f"of SPEC.md 9 (ledger/storage/views.py), so what it shows is not the entries"))
        # derived columns equal what the raw entry bytes give.
        rows = conn.execute("SELECT seq, type, leaf_hash, statement_digest, raw FROM entries WHERE seq >= ? "
                            "AND quick_differs(type, leaf_hash, statement_digest, raw) ORDER BY seq", (start,))
        for seq, type_, leaf, digest, raw in rows:
            columns = _differences(type_, leaf, digest, raw)
            if columns:
                out.append(Violation(seq, "R-9.2", f"derived column(s) {', '.join(columns)} of the stored row do not "
                                                   f"equal what the entry's raw bytes give"))
    except sqlite3.DatabaseError as exc:
        raise InputError(f"database is corrupted ({exc})") from None
    return out
