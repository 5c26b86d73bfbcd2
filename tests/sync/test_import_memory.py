"""An import's memory follows the batch, not the county (issue 25): the uid <-> id lookups
read only the pairs a batch names (a county's tables hold a million rows; loading them all
cost ~70 MB of a township's import), and a large batch's temp data stays off the heap."""

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


def test_a_large_batch_keeps_temp_data_off_the_heap(tmp_path, monkeypatch):
    """A batch read by the worker (large) into a database in clear: temp tables and the
    bulk moves' savepoint journals go to a temp file (190–330 MB of heap at a 1M county);
    a small batch keeps them in memory, and the setting is back afterwards."""
    from mzdesk.sync import applier, staging
    from mzdesk.sync.apply import import_batch

    from .sites import edit, township_county

    t, c = township_county(tmp_path, 30, seed=4)
    seen: list[int] = []
    for name in ("staged", "table"):
        real = getattr(applier.Applier, name)

        def spy(self, *a, real=real, **k):
            seen.append(self.store.conn.execute("PRAGMA temp_store").fetchone()[0])
            return real(self, *a, **k)

        monkeypatch.setattr(applier.Applier, name, spy)
    monkeypatch.setattr(staging, "STAGE_MIN", 0)
    assert import_batch(c.store, c.keys, t.export(c, full=True).read_bytes()).totals().new
    assert seen and set(seen) == {1}  # FILE
    assert c.store.conn.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY again
    seen.clear()
    monkeypatch.setattr(staging, "STAGE_MIN", 10**9)
    one = t.store.conn.execute("SELECT uid FROM households LIMIT 1").fetchone()[0]
    edit(t.store, "households", one, head_name="改名")
    import_batch(c.store, c.keys, t.export(c).read_bytes())
    assert seen and set(seen) == {2}
    t.store.close()
    c.store.close()
