"""Review tests (issue 25): the PostgreSQL fixtures of tests/pg for the ones that need a server."""

from tests.pg.conftest import _pg_site_files, pg_server, pg_template, pg_url  # noqa: F401
