"""Readable SQL views of the operator's store (SPEC.md 9), for browsing with standard tools.

Every view is derived from ``entries.raw`` with SQLite's JSON functions, so it can never
disagree with the stored bytes. The views show entries *as recorded*: they do not verify
anything, and entries with violations appear like any other. Nothing reads them to decide
validity; ``ledger verify`` and ``ledger replay`` recompute everything from ``raw``.

    sqlite3 -readonly -header -column ledger.db "SELECT * FROM rounds"
"""

from __future__ import annotations

import sqlite3

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


def missing_views(conn: sqlite3.Connection) -> list[str]:
    present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
    return [name for name in VIEWS if name not in present]


def create_views(conn: sqlite3.Connection) -> None:
    """Create the views that are missing (inside the caller's transaction, if any)."""
    for name in missing_views(conn):
        conn.execute(f"CREATE VIEW IF NOT EXISTS {name} AS {VIEWS[name]}")


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
