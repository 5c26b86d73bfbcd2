"""Schema step for a county of a million persons (issue 25), in a module of its own so the
steps other work appends beside it do not touch it.  The same rules hold as in
:mod:`mzdesk.models.migrations`: a released step is never edited, its SQL is frozen here,
and ``tests/models/test_migrations_frozen.py`` compares what it makes."""

from __future__ import annotations

import sqlite3


def county_scale_indexes(conn: sqlite3.Connection) -> None:
    """Two indexes the county's statistics need at a million persons (docs/scale.md):

    * ``enrolment_events_action``: the month's statistics read the events of a few kinds
      (review changes, 暂停/恢复, 增发/减发, imports) out of every township's lifecycle
      history (450,000 events at 30 townships).  With the enrolment second, a lookup of
      one enrolment's events of one kind stays two equalities (the planner, which has no
      statistics, would otherwise walk every event of that kind: 54,000 ``submit`` s);
    * ``sync_base_households``: a household's origin site (来源乡镇) by its uid, for the
      statistics by township and the duplicate report (models/origins.py): one probe
      instead of one per trusted site.  Partial: households only, a sixth of the rows."""
    for sql in """
    CREATE INDEX enrolment_events_action ON enrolment_events(action, enrolment_id);
    CREATE INDEX sync_base_households ON sync_base(uid) WHERE tbl = 'households'
    """.split(";"):
        if sql.strip():
            conn.execute(sql)
