"""Review of issue 25's PostgreSQL URLs: a password given in ``--db`` is never printed, and
a URL that cannot be parsed is refused in one Chinese line, not an internal error."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from mzdesk.models.pg_url import safe_url
from mzdesk.models.store import store_error
from tests.cli.test_cli import assert_one_line_failure, mz

SECRET = "S3cret-Pw9"


def with_password(url: str) -> str:
    return url.replace("@", f":{SECRET}@", 1)


@pytest.mark.pg
def test_init_and_commands_never_print_the_password(pg_url):
    url = with_password(pg_url)
    outputs = []
    for args in (
        ["init", "--db", url, "--role", "county", "--site-code", "341623"]
        + ["--site-name", "县民政局"],
        ["keys", "init", "--db", url],
        ["sync", "status", "--db", url],
        ["stats", "--json", "--db", url],
        ["check", "--db", url],
        ["audit", "verify", "--db", url],
        ["duplicates", "--json", "--db", url],
    ):
        proc = mz(*args)
        outputs.append(proc.stdout + proc.stderr)
    init_out = outputs[0]
    assert "341623" in init_out and "127.0.0.1" in init_out  # it still says where
    for text in outputs:
        assert SECRET not in text
    # nor stored: not in any row of the database (audit, site, sync tables) …
    import psycopg

    with psycopg.connect(pg_url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
        ]
        assert "audit_log" in tables
        for t in tables:
            hits = conn.execute(
                f'SELECT count(*) FROM "{t}" x WHERE x::text LIKE %s', (f"%{SECRET}%",)
            ).fetchone()[0]
            assert hits == 0, t
    # … nor in the site's files (the key 0600 in a 0700 folder), nor in their names
    files = Path(os.environ["MZDESK_PG_FILES"])
    keys = [p for p in files.rglob("site-key.json")]
    assert len(keys) == 1
    assert keys[0].stat().st_mode & 0o777 == 0o600
    assert keys[0].parent.stat().st_mode & 0o777 == 0o700
    for p in files.rglob("*"):
        assert SECRET not in str(p)
        assert not p.is_file() or SECRET.encode() not in p.read_bytes()


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://mz:{SECRET}@127.0.0.1:99999/mz",  # port out of range
        f"postgresql://mz:{SECRET}@127.0.0.1:abc/mz",  # port not a number
        f"postgresql://mz:{SECRET}@[::1/mz",  # broken IPv6 host
    ],
)
def test_a_malformed_url_is_one_chinese_line(url):
    proc = mz("stats", "--json", "--db", url, ok=False)
    line = assert_one_line_failure(proc, 1)
    assert line.startswith("错误 [open_failed]"), line
    assert "无法连接PostgreSQL数据库" in line
    assert SECRET not in proc.stdout + proc.stderr


def test_safe_url_never_raises_and_drops_the_password():
    for url in (
        f"postgresql://mz:{SECRET}@127.0.0.1:99999/mz",
        f"postgresql://mz:{SECRET}@[::1/mz",
        f"postgres://mz:{SECRET}@h/db?sslmode=require",
        f"postgresql://mz@h/db?password={SECRET}",  # libpq takes it as a parameter too
        f"postgresql://mz@h/db?sslmode=disable&PassWord={SECRET}",
    ):
        assert SECRET not in safe_url(url), url
    assert safe_url("/tmp/mz.sqlite") == "/tmp/mz.sqlite"
    assert safe_url("postgresql://mz@h:5433/db") == "postgresql://mz@h:5433/db"


def test_busy_and_io_messages_of_a_url_site_drop_the_password():
    url = f"postgresql://mz:{SECRET}@127.0.0.1:5432/mz"
    for exc in (
        sqlite3.OperationalError("database is locked: lock timeout"),
        sqlite3.OperationalError("disk I/O error"),
    ):
        clear = store_error(exc, url)
        assert clear is not None
        assert SECRET not in clear.message
        assert "127.0.0.1" in clear.message
