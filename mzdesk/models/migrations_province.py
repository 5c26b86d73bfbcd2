"""Schema step for the province end (issue 25): the names of the sites records were
forwarded from.  In a module of its own so the steps other work appends beside it do not
touch it; the rules of :mod:`mzdesk.models.migrations` hold (a released step is never
edited, its SQL is frozen here, ``tests/models/test_migrations_frozen.py`` compares what it
makes)."""

from __future__ import annotations

import sqlite3


def origin_site_names(conn: sqlite3.Connection) -> None:
    """``origin_sites`` (local, not synced): code -> name of the townships and counties a
    city or province knows only from its counties' batches (``records/_origins.jsonl``
    names them), not from its trust list, so its reports name them (乡镇名称)."""
    conn.execute(
        """CREATE TABLE origin_sites (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL
    ) WITHOUT ROWID"""
    )
