"""Village assignments of a field laptop change: what comes into scope goes down, what leaves
it is withdrawn from the laptop (after its edits went up), and nothing is lost or echoed."""

from __future__ import annotations

import io
import json
import zipfile

import pyrage
import pytest

from mzdesk.models.demo import generate_demo
from mzdesk.sync.batch import BatchRefused
from mzdesk.sync.keys import set_villages

from .sites import content, edit, fingerprint, link, make_site


@pytest.fixture
def sites(tmp_path):
    f = make_site(tmp_path, "341623101001", "青山镇入户终端", "field")
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    generate_demo(t.store, 40, seed=5)
    villages = [
        r[0] for r in t.store.conn.execute("SELECT DISTINCT village FROM households ORDER BY 1")
    ]
    assert len(villages) >= 3
    link(t, f, villages=[villages[0]])
    yield f, t, villages
    for s in (f, t):
        s.store.close()


def uids(store, village=None):
    if village is None:
        return {r[0] for r in store.conn.execute("SELECT uid FROM households")}
    return {
        r[0] for r in store.conn.execute("SELECT uid FROM households WHERE village = ?", (village,))
    }


def manifest(site, path) -> dict:
    plain = pyrage.decrypt(path.read_bytes(), [site.keys.identity])
    return json.loads(zipfile.ZipFile(io.BytesIO(plain)).read("manifest.json"))


def test_village_added_then_withdrawn_then_assigned_again(sites):
    f, t, villages = sites
    a, b = villages[0], villages[1]
    f.import_(t.export(f))
    assert uids(f.store) == uids(t.store, a)

    # a village added: its households go down in the next ordinary (not full) batch
    set_villages(t.store, f.code, [a, b])
    r = f.import_(t.export(f))
    assert r.tables["households"].new == len(uids(t.store, b))
    assert "households" not in r.tables or r.tables["households"].unchanged == 0
    assert content(f.store) == content(t.store, [a, b])

    # a field edit in village a that has not gone up yet, then a is handed to someone else
    keep = sorted(uids(f.store, a))[0]
    edit(f.store, "households", keep, phone="13900000042")
    set_villages(t.store, f.code, [b])
    township_before = content(t.store)
    down = t.export(f)
    assert set(manifest(f, down)["withdraw"]["households"]) == uids(t.store, a)
    r = f.import_(down)
    assert set(r.withdraw["removed"]) == uids(t.store, a) - {keep}
    assert [k["uid"] for k in r.withdraw["kept"]] == [keep]
    assert "暂未撤回" in r.text() and "已撤回" in r.text()
    assert uids(f.store) == uids(t.store, b) | {keep}
    # removal is local: no tombstone waits to go up, and the township lost nothing
    assert f.store.scalar("SELECT count(*) FROM sync_changes WHERE op = 'delete'") == 0
    hid = f.store.scalar("SELECT id FROM households WHERE uid = ?", (keep,))
    assert f.store.scalar("SELECT count(*) FROM members WHERE household_id = ?", (hid,)) > 0

    # the laptop's next batch carries the edit and confirms what it removed
    up = f.export(t)
    assert set(manifest(t, up)["withdrawn"]["households"]) == uids(t.store, a) - {keep}
    r = t.import_(up)
    assert r.tables["households"].updated == 1
    assert r.forgotten == len(uids(t.store, a)) - 1
    assert t.store.scalar("SELECT phone FROM households WHERE uid = ?", (keep,)) == "13900000042"
    township_before["households"][keep] = content(t.store)["households"][keep]
    assert content(t.store) == township_before
    assert t.store.scalar("SELECT count(*) FROM households WHERE status = 'deleted'") == 0

    # the edit is acknowledged in the next batch down: now the last household leaves too
    down = t.export(f)
    assert manifest(f, down)["withdraw"]["households"] == [keep]
    r = f.import_(down)
    assert (r.withdraw["removed"], r.withdraw["kept"]) == ([keep], [])
    assert content(f.store) == content(t.store, [b])
    t.import_(f.export(t))
    down = t.export(f)
    assert "withdraw" not in manifest(f, down)
    f.import_(down)

    # village a assigned again: it travels in full once more, and both sides agree
    set_villages(t.store, f.code, [a, b])
    r = f.import_(t.export(f))
    assert r.tables["households"].new == len(uids(t.store, a))
    assert content(f.store) == content(t.store, [a, b])
    t.import_(f.export(t))
    assert content(t.store) == township_before
    assert t.store.scalar("SELECT count(*) FROM sync_conflicts WHERE state = 'open'") == 0


def test_a_household_moving_out_of_the_assigned_villages_is_withdrawn(sites):
    f, t, villages = sites
    f.import_(t.export(f))
    mover = sorted(uids(t.store, villages[0]))[0]
    edit(t.store, "households", mover, village=villages[2])
    r = f.import_(t.export(f))
    assert r.withdraw["removed"] == [mover]
    assert mover not in uids(f.store)
    assert content(f.store) == content(t.store, [villages[0]])


def with_manifest(monkeypatch, **extra):
    """Batches written meanwhile carry ``extra`` in their (signed) manifest."""
    import mzdesk.sync.batch as batch_mod

    real = batch_mod.BatchWriter.finish

    def finish(self, manifest, keys, recipient):
        return real(self, {**manifest, **extra}, keys, recipient)

    monkeypatch.setattr(batch_mod.BatchWriter, "finish", finish)


def test_a_township_never_withdraws_on_request(tmp_path, monkeypatch):
    """Only a field laptop removes records on its sender's word."""
    c = make_site(tmp_path, "341623", "县民政局", "county")
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    generate_demo(t.store, 6, seed=2)
    link(t, c)
    c.import_(t.export(c))
    theirs = uids(c.store)
    with_manifest(monkeypatch, withdraw={"households": sorted(theirs)})
    path = c.export(t)
    monkeypatch.undo()
    r = t.import_(path)
    assert r.withdraw == {} and uids(t.store) == theirs
    assert t.store.scalar("SELECT count(*) FROM members") > 0


@pytest.mark.parametrize("bad", [{"households": "x"}, ["u1"], {"households": [1]}])
def test_a_malformed_withdraw_list_is_refused(sites, monkeypatch, bad):
    f, t, villages = sites
    with_manifest(monkeypatch, withdraw=bad)
    path = t.export(f)
    monkeypatch.undo()
    before = fingerprint(f.store)
    with pytest.raises(BatchRefused) as e:
        f.import_(path)
    assert e.value.code == "not_a_batch" and "withdraw" in str(e.value)
    assert fingerprint(f.store) == before
