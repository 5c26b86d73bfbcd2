"""``mzdesk init --db postgresql://…/NEW`` creates a database that does not exist yet,
as ``init`` creates a missing file; no other command does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.pg
ROOT = Path(__file__).resolve().parents[2]


def mzdesk(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "mzdesk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def databases(server) -> set[str]:
    with psycopg.connect(server.url()) as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}


def test_init_creates_a_missing_database_and_nothing_else_does(pg_server):
    url = pg_server.url("mz_made_by_init")
    r = mzdesk("stats", "--json", "--db", url)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "mz_made_by_init" not in databases(pg_server)  # a read never creates
    r = mzdesk(
        "init",
        "--db",
        url,
        "--role",
        "county",
        "--site-code",
        "341623",
        "--site-name",
        "测试县民政局",
    )
    assert r.returncode == 0, r.stderr
    assert "mz_made_by_init" in databases(pg_server)
    r = mzdesk("stats", "--json", "--db", url)
    assert r.returncode == 0, r.stderr
    assert '"households": 0' in r.stdout


def test_a_name_that_is_not_plain_is_refused_and_nothing_is_made(pg_server):
    before = databases(pg_server)
    r = mzdesk(
        "init",
        "--db",
        pg_server.url('x"; DROP DATABASE postgres; --'),
        "--role",
        "county",
        "--site-code",
        "341623",
        "--site-name",
        "县",
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert databases(pg_server) == before
