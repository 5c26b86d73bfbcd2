"""bench/county_data.py: deterministic townships, the planted overlaps, a reusable cache."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from tests.county.conftest import SMALL, build, imported


def _people(db) -> list[tuple]:
    with closing(sqlite3.connect(db)) as c:
        return c.execute("SELECT uid, id_number, name, status FROM members ORDER BY uid").fetchall()


def test_the_overlaps_planted_between_neighbouring_townships(county):
    data, _db = county
    pairs = SMALL["townships"] - 1
    assert len(data.duplicates) == SMALL["duplicates"] * pairs
    assert len(data.moved) == SMALL["moved"] * pairs
    assert not set(data.duplicates) & set(data.moved)
    codes = [t["code"] for t in data.meta["townships"]]
    assert codes == ["341623101", "341623102", "341623103"]
    for a, b in [*data.duplicates.values(), *data.moved.values()]:
        assert codes.index(b) == codes.index(a) + 1
    for t in data.meta["townships"]:
        assert 1300 <= t["persons"] <= 1700  # about ``persons`` each
        assert (data.root / t["batch"]).stat().st_size > 10_000


def test_ids_are_unique_across_the_county_but_for_the_planted(county):
    """At the county each ID is held once; the second township's duplicate is set aside."""
    data, db = county
    with closing(sqlite3.connect(db)) as c:
        aside = {
            r[0]
            for r in c.execute(
                "SELECT json_extract(remote, '$.row.id_number') FROM sync_conflicts "
                "WHERE tbl = 'members' AND kind = 'duplicate_id'"
            )
        }
        moved_here = {
            r[0]
            for r in c.execute(
                f"SELECT id_number FROM members WHERE status = 'active' AND id_number IN "
                f"({', '.join('?' * len(data.moved))})",
                list(data.moved),
            )
        }
    assert aside == set(data.duplicates)  # no accidental collision among 4,500 people
    assert moved_here == set(data.moved)  # 注销 where they left, registered where they live


def test_same_parameters_same_county_and_the_cache_is_reused(county, tmp_path):
    data, db = county
    again = build(tmp_path / "again")
    assert again.meta["planted"] == data.meta["planted"]
    assert _people(imported(again, tmp_path / "c.sqlite")) == _people(db)
    stamp = [b.stat().st_mtime_ns for b in again.batches()]
    reused = build(tmp_path / "again")
    assert [b.stat().st_mtime_ns for b in reused.batches()] == stamp
    other = build(tmp_path / "other", seed=26)
    assert other.meta["planted"] != data.meta["planted"]
