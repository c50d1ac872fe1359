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
import sqlite3

from .errors import InputError
from .verify import Violation

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


def _leaf(raw: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + bytes(raw)).digest()


def _statement_digest(raw: bytes) -> bytes | None:
    """SHA-256 of the statement's bytes inside canonical entry bytes (the last member, after
    ``prev``, ``seal``, ``seq`` and ``signatures``, which hold no such text); None when raw
    does not have that shape (R-7.1 reports it)."""
    raw = bytes(raw)
    at = raw.find(STATEMENT_MEMBER)
    if at < 0 or not raw.endswith(b"}"):
        return None
    return hashlib.sha256(raw[at + len(STATEMENT_MEMBER):-1]).digest()


def check_store(conn: sqlite3.Connection, start: int = 0) -> list[Violation]:
    """R-9.1 and R-9.2 (SPEC.md 9) on a SQLite ledger: each view of :data:`VIEWS` present is
    defined exactly as this module creates it, and each row of ``entries`` from ``start`` on
    has ``type``, ``leaf_hash`` and ``statement_digest`` equal to what its ``raw`` gives
    (``seq`` is the order itself, judged by R-7.4). Reads only; one pass in SQLite."""
    out: list[Violation] = []
    try:
        conn.create_function("leaf_of", 1, _leaf, deterministic=True)
        conn.create_function("statement_digest_of", 1, _statement_digest, deterministic=True)
        # a view people browse says what this module defines, nothing else.
        for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name"):
            if name in VIEWS and sql != view_sql(name):
                out.append(Violation(None, "R-9.1", f"view {name} has been redefined: its SQL is not the definition "
                                                    f"of SPEC.md 9 (ledger/views.py), so what it shows is not the entries"))
        # derived columns equal what the raw entry bytes give.
        rows = conn.execute(
            """SELECT seq, type IS NOT t, leaf_hash IS NOT leaf, d IS NOT NULL AND statement_digest IS NOT d
               FROM (SELECT seq, type, leaf_hash, statement_digest, leaf_of(raw) AS leaf,
                            json_extract(CAST(raw AS TEXT), '$.statement.type') AS t,
                            statement_digest_of(raw) AS d
                     FROM entries WHERE seq >= ? AND json_valid(CAST(raw AS TEXT)))
               WHERE type IS NOT t OR leaf_hash IS NOT leaf OR (d IS NOT NULL AND statement_digest IS NOT d)
               ORDER BY seq""", (start,))
        for seq, *wrong in rows:
            columns = [c for c, bad in zip(("type", "leaf_hash", "statement_digest"), wrong) if bad]
            out.append(Violation(seq, "R-9.2", f"derived column(s) {', '.join(columns)} of the stored row do not "
                                               f"equal what the entry's raw bytes give"))
    except sqlite3.DatabaseError as exc:
        raise InputError(f"database is corrupted ({exc})") from None
    return out
