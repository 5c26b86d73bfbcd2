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


@pytest.fixture(scope="session")
def pg_template(pg_server) -> str:
    """An mzdesk database made once per session (``mzdesk init``'s schema, no site yet):
    ``CREATE DATABASE … TEMPLATE`` copies it in milliseconds for each receiver site."""
    from mzdesk.models.store import Store

    url = pg_server.create_db("mz_template")
    Store.open(url, operator="mzdesk").close()
    return "mz_template"


@pytest.fixture
def pg_url(pg_server) -> str:
    """The URL of a new empty database on the session's server."""
    return pg_server.create_db()


@pytest.fixture(autouse=True)
def _pg_site_files(tmp_path, monkeypatch):
    """A URL site's keys go under the test's folder, not the user's data folder."""
    monkeypatch.setenv("MZDESK_PG_FILES", str(tmp_path / "pg-files"))


def pg_site(pg_server, code: str, name: str, role: str, template: str | None = None):
    """tests/sync/sites.make_site, the database on the test server (a copy of
    ``template``, the session's :func:`pg_template`, when given)."""
    from mzdesk.models.site import init_site
    from mzdesk.models.store import Store
    from mzdesk.sync.keys import init_keys
    from tests.sync.sites import S

    url = pg_server.create_db(template=template)
    store = Store.open(url, operator=f"clerk-{code}")
    init_site(store, code, name, role)
    d = Path(store.files_stem).parent / code
    d.mkdir(parents=True, exist_ok=True)
    return S(store, init_keys(store), d)
