"""Store transactions: one user action is all or nothing, even when COMMIT itself fails."""

from __future__ import annotations

import sqlite3

import pytest

from mzdesk.models.site import init_site
from mzdesk.models.store import Store


class _CommitFails:
    """The store's connection, except that COMMIT fails as on a full disk."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def execute(self, sql, *args):
        if sql == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_a_failed_commit_is_rolled_back_and_never_lands_with_a_later_one(tmp_path):
    store = Store.open(tmp_path / "s.sqlite", operator="clerk")
    init_site(store, "341623101", "青山镇")
    real = store.conn
    store.conn = _CommitFails(real)
    with pytest.raises(sqlite3.OperationalError, match="full"), store.transaction():
        store.conn.execute("UPDATE site SET name = '失败的修改'")
    store.conn = real
    assert not real.in_transaction
    with store.transaction():  # the next action starts cleanly and commits only itself
        store.conn.execute("UPDATE site SET updated_by = 'clerk'")
    store.close()
    store = Store.open(tmp_path / "s.sqlite", create=False)
    assert store.scalar("SELECT name FROM site") == "青山镇"
    store.close()
