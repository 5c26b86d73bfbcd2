"""The PostgreSQL receiver's fast paths (issue 25, item 5) write what the slow ones do."""

from __future__ import annotations

import pytest

from mzdesk.models import pg_triggers
from mzdesk.models.audit import entry_hash, verify
from mzdesk.models.bulk import insert_many
from mzdesk.models.demo import generate_demo
from tests.sync.sites import link, make_site

from .conftest import pg_site

pytestmark = pytest.mark.pg


@pytest.fixture
def county(tmp_path, pg_server, pg_template):
    c = pg_site(pg_server, "341623", "县民政局", "county", pg_template)
    yield c
    c.store.close()


COLS = [
    "uid",
    "village",
    "head_name",
    "phone",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "dangerous_house",  # a bool: COPY writes it as SQLite stores it, 1/0
]


def households(n: int) -> list[tuple]:
    day = "2026-01-01 08:00:00"
    return [
        (
            f"u{i:04d}",
            "青山村",
            f"张{i}",
            "" if i % 2 else "13800000000",
            day,
            day,
            "王",
            "王",
            i % 3 == 0,
        )
        for i in range(n)
    ]


def test_bulk_audit_entries_are_chained_as_they_are_written(county):
    """``bulk.insert_many`` on PostgreSQL writes its replayed audit entries with their
    hashes (the server's sha256 over ``audit.entry_text``), equal to what Python's seal
    computes (NULL fields and Chinese text included)."""
    store = county.store
    rows, cols = households(30), COLS
    with store.transaction():
        insert_many(store.conn, "households", cols, rows, None)
        # before the commit's seal: already chained, by the server
        assert store.scalar("SELECT count(*) FROM audit_log WHERE hash IS NULL") == 0
        entries = store.conn.execute(
            "SELECT seq, at, operator, tbl, record_id, record_uid, household_id, action, "
            "field, old, new, hash FROM audit_log ORDER BY seq"
        ).fetchall()
    assert store.conn._chain_ok is True
    prev = entries[0][11]
    for e in entries[1:]:
        assert e[11] == entry_hash(prev, tuple(e[:11])), e
        prev = e[11]
    new = [e for e in entries if e[3] == "households"]
    assert len(new) == 30 and "青山村" in new[0][10]
    assert store.scalar("SELECT sum(dangerous_house) FROM households") == 10
    result = verify(store.conn)
    assert result.ok, result.problem


def test_without_the_chain_functions_the_commit_seals_them(county):
    """A database made before :data:`pg_triggers.CHAIN_SQL`: the entries are written
    unsealed and the commit's seal chains them, as before."""
    store = county.store
    store.conn.raw.execute("DROP AGGREGATE mz_chain(text, bytea)")
    store.conn.raw.execute("DROP FUNCTION mz_chain_step(text, text, bytea)")
    with store.transaction():
        insert_many(store.conn, "households", COLS, households(30), None)
        assert store.scalar("SELECT count(*) FROM audit_log WHERE hash IS NULL") == 30
    assert store.conn._chain_ok is False
    assert store.scalar("SELECT count(*) FROM audit_log WHERE hash IS NULL") == 0
    result = verify(store.conn)
    assert result.ok, result.problem


def test_a_township_batch_imports_with_a_valid_chain(tmp_path, county):
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    try:
        generate_demo(t.store, 40, seed=3)
        link(t, county)
        report = county.import_(t.export(county))
        assert not report.refused
        assert county.store.scalar("SELECT count(*) FROM households") == 40
        assert county.store.scalar("SELECT count(*) FROM audit_log WHERE hash IS NULL") == 0
        result = verify(county.store.conn)
        assert result.ok, result.problem
    finally:
        t.store.close()


def test_the_chained_statement_keeps_the_replay_and_adds_the_hash():
    replay = (
        "INSERT INTO audit_log (seq, at, operator, tbl, record_id, record_uid, household_id, "
        'action, field, old, new) SELECT $3 + row_number() OVER (ORDER BY NEW."id"), x '
        'FROM households AS NEW WHERE NEW."id" > $2 ORDER BY NEW."id"'
    )
    sql = pg_triggers.chained_sql(replay)
    assert sql is not None
    assert sql.startswith(
        "INSERT INTO audit_log (seq, at, operator, tbl, record_id, record_uid, "
        "household_id, action, field, old, new, hash) SELECT e.seq::bigint, e.at, e.operator, "
        "e.tbl, e.record_id::bigint, e.record_uid, e.household_id::bigint, e.action, e.field, "
        "e.old, e.new, mz_chain($4, "
    )
    assert pg_triggers.chained_sql("INSERT INTO audit_log (at, tbl) SELECT 1, 2") is None
