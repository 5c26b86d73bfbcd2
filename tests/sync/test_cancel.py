"""Cancelling a long export or import (the sync page's 取消): nothing is written, nothing
half-applied, and the next attempt proceeds as if the cancelled one never happened."""

from __future__ import annotations

import sqlite3

import pytest

from mzdesk.models.errors import MzError
from mzdesk.models.progress import Cancelled
from mzdesk.sync.apply import import_batch
from mzdesk.sync.common import PARSED, PROGRESS
from mzdesk.sync.export import export_batch
from mzdesk.sync.local import FETCH

from .sites import content, fingerprint, township_county


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cancel")
    t, c = township_county(tmp, 900, seed=5)
    assert t.store.scalar("SELECT count(*) FROM members") > FETCH  # several fetches
    yield t, c
    t.store.close()
    c.store.close()


def test_a_cancelled_export_writes_no_file_and_uses_no_sequence_number(pair):
    t, c = pair
    before = fingerprint(t.store)
    seen = []
    out = t.dir / "cancelled.age"
    with pytest.raises(Cancelled):
        export_batch(
            t.store,
            t.keys,
            c.code,
            out,
            full=True,
            progress=lambda done, total: seen.append((done, total)),
            cancel=lambda: len(seen) >= 2,
        )
    assert seen and seen[-1][0] < seen[-1][1]  # it stopped partway
    assert not out.exists() and not list(t.dir.glob("*.part"))
    assert fingerprint(t.store) == before
    res = export_batch(t.store, t.keys, c.code, t.dir / "first.age", full=True)
    assert res.sequence == 1


def test_an_export_whose_commit_fails_leaves_no_file_and_the_next_one_takes_its_number(pair):
    """The batch is on record before it gets its name: a file nobody has a record of would
    have its sequence number used again, and the receiver would refuse what follows."""
    t, c = pair
    before = fingerprint(t.store)
    last = t.store.scalar("SELECT last_out_seq FROM sync_sites WHERE code = ?", (c.code,))
    out = t.dir / "unlucky.age"

    def disk_full(store):
        raise sqlite3.OperationalError("database or disk is full")

    t.store.before_commit.append(disk_full)
    try:
        with pytest.raises(MzError, match="磁盘空间不足"):
            export_batch(t.store, t.keys, c.code, out)
    finally:
        t.store.before_commit.remove(disk_full)
    assert not out.exists() and not list(t.dir.glob("*.part"))
    assert fingerprint(t.store) == before
    with pytest.raises(MzError, match="保存位置不存在"):  # a USB stick pulled out meanwhile
        export_batch(t.store, t.keys, c.code, t.dir / "gone" / "b.age")
    res = export_batch(t.store, t.keys, c.code, out)
    assert res.sequence == last + 1 and out.exists() and not list(t.dir.glob("*.part"))


def test_a_cancelled_import_applies_nothing_and_the_batch_imports_afterwards(pair):
    """Cancelled while the batch is read, then while it is applied (after households were
    written): nothing stays.  The bar moves through both phases and ends full."""
    t, c = pair
    data = (t.dir / "first.age").read_bytes()
    before = fingerprint(c.store)

    def cancel_when(stop) -> list[tuple[int, int]]:
        seen = []
        with pytest.raises(Cancelled):
            import_batch(
                c.store,
                c.keys,
                data,
                "first.age",
                progress=lambda done, total: seen.append((done, total)),
                cancel=lambda: stop(seen[-1][0]),
            )
        assert {total for _, total in seen} == {PROGRESS}
        assert fingerprint(c.store) == before
        return seen

    first = cancel_when(lambda done: True)
    assert len(first) == 1 and first[0][0] <= PARSED  # stopped after reading one file
    seen = cancel_when(lambda done: done > PARSED + 100)
    assert seen[0][0] <= PARSED < seen[-1][0] < PROGRESS  # stopped while applying
    seen = []
    report = import_batch(
        c.store, c.keys, data, "first.age", progress=lambda done, total: seen.append(done)
    )
    assert seen == sorted(seen) and seen[-1] == PROGRESS and len(set(seen)) > 10
    assert report.sequence == 1 and report.totals().conflicts == 0
    assert content(c.store) == content(t.store)
