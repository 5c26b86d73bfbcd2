"""One real PostgreSQL server for the whole session (tests/pg/server.py), and a fresh
database on it per test.  Missing binaries fail the tests with what to install: CI must run
them, so they are never skipped."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from .server import PgServer


@pytest.fixture(scope="session")
def pg_server():
    folder = Path(tempfile.mkdtemp(prefix="mzdesk-pg-"))
    server = PgServer.start(folder)
    try:
        yield server
    finally:
        server.stop()
        server.remove()


@pytest.fixture
def pg_url(pg_server) -> str:
    """The URL of a new empty database on the session's server."""
    return pg_server.create_db()
