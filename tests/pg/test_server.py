"""The test server itself: a real PostgreSQL, reachable by URL, one database per test."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.pg


def test_server_answers_and_databases_are_separate(pg_server, pg_url):
    import psycopg

    with psycopg.connect(pg_url) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()[0]
        conn.execute("CREATE TABLE t (x integer)")
    assert int(version) >= 130000
    other = pg_server.create_db()
    with psycopg.connect(other) as conn:
        assert conn.execute("SELECT to_regclass('t')").fetchone()[0] is None
