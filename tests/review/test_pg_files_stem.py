"""Review (issue 25): two different PostgreSQL databases never share a site's key folder.
NOT COMMITTED: fails on models/pg.py files_stem (owned elsewhere); the fix is in the report."""

from __future__ import annotations

import pytest

from mzdesk.models.pg import files_stem


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("postgresql://mz@h/a%20b", "postgresql://mz@h/a_20b"),  # names that clean alike
        ("postgresql:///mz?host=/run/a", "postgresql:///mz?host=/run/b"),  # two servers
        ("postgresql:///mz?port=5433", "postgresql:///mz?port=5434"),
        ("postgresql://mz@h/x?dbname=other", "postgresql://mz@h/x"),  # libpq's dbname wins
    ],
)
def test_two_databases_never_share_files(a, b, monkeypatch):
    monkeypatch.setenv("MZDESK_PG_FILES", "/tmp/pg-files")
    assert files_stem(a) != files_stem(b)


def test_the_same_database_keeps_its_folder(monkeypatch):
    monkeypatch.setenv("MZDESK_PG_FILES", "/tmp/pg-files")
    assert files_stem("postgresql://mz:pw1@h:5432/db") == files_stem("postgresql://mz@h/db")
