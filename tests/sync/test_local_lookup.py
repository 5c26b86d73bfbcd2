"""The uid <-> id lookups of an import read only the pairs a batch names (issue 25): a
county's tables hold a million rows, and loading them all cost ~100 MB per import."""

from __future__ import annotations

from mzdesk.models.store import Store
from mzdesk.sync.changelog import TableCodec
from mzdesk.sync.local import CHUNK, Maps


def _store(tmp_path, n: int) -> Store:
    store = Store.open(tmp_path / "t.sqlite", operator="t")
    store.conn.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, uid TEXT UNIQUE)")
    store.conn.execute(
        "CREATE TABLE c (id INTEGER PRIMARY KEY, uid TEXT UNIQUE, p_id INTEGER REFERENCES p(id))"
    )
    store.conn.executemany(
        "INSERT INTO p (id, uid) VALUES (?, ?)", [(i, f"u{i}") for i in range(1, n + 1)]
    )
    return store


def test_only_the_named_pairs_are_read(tmp_path):
    store = _store(tmp_path, 3 * CHUNK)
    maps = Maps(store)
    codec = TableCodec.load(store.conn, "c")
    rows = [{"p_uid": f"u{i}"} for i in range(1, CHUNK + 11)] + [{"p_uid": "nope"}, {"p_uid": None}]
    id_of = maps.id_maps(codec, rows)["p"]
    assert dict.__len__(id_of) == CHUNK + 10  # not the 1,500 rows of the table
    assert id_of.get("u7") == 7 and id_of["u510"] == 510
    assert id_of.get("nope") is None and "nope" not in id_of
    # asked for later (a merged row's parent): read then, one pair
    assert id_of.get(f"u{3 * CHUNK}") == 3 * CHUNK and dict.__len__(id_of) == CHUNK + 11
    # a value of another type is never a uid here, as in a dict of the whole table
    assert id_of.get(5) is None and id_of.get(None) is None
    uid_of = maps.uid_of("p")
    assert uid_of[3] == "u3" and uid_of.get("3") is None and dict.__len__(uid_of) == 1
    # a pair is as the table was when first asked; forgotten after a write, read again
    assert id_of.get("new") is None
    store.conn.execute("INSERT INTO p (id, uid) VALUES (9999, 'new')")
    assert id_of.get("new") is None
    maps.forget("p")
    assert maps.id_of("p").get("new") == 9999
    store.close()
