"""Schema step for batches upward (issue 25): city and province sites, and where each
record forwarded upward came from.  In a module of its own so the steps other work appends
beside it do not touch it; the rules of :mod:`mzdesk.models.migrations` hold (a released
step is never edited, its SQL is frozen here, ``tests/models/test_migrations_frozen.py``
compares what it makes)."""

from __future__ import annotations

import sqlite3

_SITE = """
    CREATE TABLE site_upward (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        code TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('township', 'field', 'county', 'city', 'province')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL
    )"""


def upward_roles_and_origins(conn: sqlite3.Connection) -> None:
    """``site.role`` also takes ``city`` (市民政局) and ``province`` (省民政厅): the table
    is rebuilt with the wider CHECK (the one row and its triggers kept as they were), and
    ``record_origins`` (local, not synced) says, for a record a county forwarded upward,
    the township that made it (``origin``) and the county that forwarded it (``via``).
    Only households and records of no household are listed: a household's records follow
    it."""
    triggers = [
        r[0]
        for r in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'site' "
            "AND sql IS NOT NULL ORDER BY name"
        )
    ]
    for sql in (
        _SITE,
        "INSERT INTO site_upward (id, code, name, role, created_at, updated_at, created_by, "
        "updated_by) SELECT id, code, name, role, created_at, updated_at, created_by, "
        "updated_by FROM site",
        "DROP TABLE site",
        "ALTER TABLE site_upward RENAME TO site",
        *triggers,
        """CREATE TABLE record_origins (
        tbl TEXT NOT NULL,
        record_uid TEXT NOT NULL,
        origin TEXT NOT NULL,
        via TEXT NOT NULL,
        PRIMARY KEY (tbl, record_uid)
    ) WITHOUT ROWID""",
        "CREATE INDEX record_origins_origin ON record_origins(origin, tbl)",
    ):
        conn.execute(sql)
