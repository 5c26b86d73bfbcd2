"""A large batch read by a worker process (mzdesk.sync.staging) applies exactly as one read
in-process: the same records, audit entries, change log, bases, conflicts and reports, over
several rounds with updates, tombstones, a person moving household and double receipt; and
a refusal, a cancel or a dead worker part-way leaves the database as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mzdesk.models.progress import Cancelled
from mzdesk.sync import apply, export, staging
from mzdesk.sync import batch as batch_mod
from mzdesk.sync.apply import import_batch
from mzdesk.sync.batch import BatchRefused

from .sites import content, edit, fingerprint, link, make_site

CHUNK = 150  # several chunks per table at these sizes


@pytest.fixture
def staged(monkeypatch):
    """Every batch through the worker, in small chunks."""
    monkeypatch.setattr(staging, "STAGE_MIN", 0)
    monkeypatch.setattr(staging, "CHUNK", CHUNK)


def in_process(monkeypatch):
    monkeypatch.setattr(staging, "STAGE_MIN", 10**9)


def state(site) -> dict:
    """What must be equal however a batch was read (local ids and times aside)."""
    conn = site.store.conn
    return {
        "content": content(site.store),
        "audit": conn.execute(
            "SELECT tbl, record_uid, action, field, old, new FROM audit_log WHERE tbl != 'site' "
            "ORDER BY tbl, record_uid, seq"
        ).fetchall(),
        "changes": conn.execute("SELECT tbl, uid, op FROM sync_changes ORDER BY 1, 2").fetchall(),
        "base": conn.execute(
            "SELECT peer, tbl, uid, hash FROM sync_base ORDER BY 1, 2, 3"
        ).fetchall(),
        "conflicts": conn.execute(
            "SELECT peer, tbl, uid, kind, fields, state FROM sync_conflicts ORDER BY 2, 3, 4"
        ).fetchall(),
        "integrity": conn.execute("PRAGMA integrity_check").fetchall(),
        "indexes": conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') ORDER BY name"
        ).fetchall(),
    }


def report(rep) -> dict:
    d = rep.as_dict()
    for dup in d.get("duplicates", []):
        dup.pop("note", None)  # names the other household: worded by which one came first
    return d


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Two townships (the second will claim people of the first: double receipt), and two
    counties, A reading every batch in-process and B through the worker."""
    from mzdesk.models.demo import generate_demo

    tmp = tmp_path_factory.mktemp("staging")
    t1 = make_site(tmp, "341623101", "青山镇", "township")
    t2 = make_site(tmp, "341623102", "绿水乡", "township")
    a = make_site(tmp / "a", "341623", "县民政局", "county")
    generate_demo(t1.store, 120, seed=3)
    generate_demo(t2.store, 40, seed=8)
    for t in (t1, t2):
        link(t, a)
    b = clone(a, tmp / "b")  # the same county twice: same keys, same state
    yield t1, t2, a, b
    for s in (t1, t2, a, b):
        s.store.close()


def clone(site, where):
    """A copy of a site's database and keys, opened."""
    import shutil

    from mzdesk.models.store import Store
    from mzdesk.sync.keys import load_keys

    from .sites import S

    site.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    where.mkdir(parents=True)
    src = Path(site.store.path)
    shutil.copy(src, where / src.name)
    shutil.copytree(Path(str(src) + ".sync"), where / (src.name + ".sync"))
    store = Store.open(where / src.name, operator="clerk-b")
    return S(store, load_keys(store), where)


def both(monkeypatch, a, b, path) -> None:
    """Import one batch file into A in-process and into B through the worker; compare."""
    data = path.read_bytes()
    in_process(monkeypatch)
    ra = import_batch(a.store, a.keys, data, path.name)
    monkeypatch.setattr(staging, "STAGE_MIN", 0)
    monkeypatch.setattr(staging, "CHUNK", CHUNK)
    rb = import_batch(b.store, b.keys, data, path.name)
    assert report(rb) == report(ra)
    assert state(b) == state(a)


def test_rounds_of_batches_apply_alike_read_either_way(world, monkeypatch):
    t1, t2, a, b = world
    both(monkeypatch, a, b, t1.export(a, full=True))  # a first load: all new
    assert a.store.scalar("SELECT count(*) FROM members") > 2 * CHUNK

    # round 2: edits, a deactivated member, a member who moves to another household with
    # the same ID number, a tombstone-free update of many rows, and new households
    s = t1.store
    hh = [r[0] for r in s.conn.execute("SELECT uid FROM households ORDER BY id LIMIT 3")]
    edit(s, "households", hh[0], phone="13900000000")
    mover = s.conn.execute(
        "SELECT m.uid, m.id_number, m.name FROM members m JOIN households h ON h.id = "
        "m.household_id WHERE h.uid = ? AND m.relation != '户主' AND m.id_number IS NOT NULL "
        "AND m.status = 'active' LIMIT 1",
        (hh[1],),
    ).fetchone()
    assert mover is not None
    edit(s, "members", mover[0], status="deleted")
    target = s.scalar("SELECT id FROM households WHERE uid = ?", (hh[2],))
    with s.transaction():
        cols = [r[1] for r in s.conn.execute("PRAGMA table_info(members)") if r[1] != "id"]
        row = dict(
            zip(
                cols,
                s.conn.execute(
                    f"SELECT {', '.join(cols)} FROM members WHERE uid = ?", (mover[0],)
                ).fetchone(),
                strict=True,
            )
        )
        row.update(
            household_id=target,
            status="active",
            uid="moved-" + mover[0][:20],
            seq=99,
            relation="其他",
        )
        s.conn.execute(
            f"INSERT INTO members ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
    from mzdesk.models.demo import generate_demo

    generate_demo(s, 30, seed=11)
    both(monkeypatch, a, b, t1.export(a))
    moved = a.store.one("SELECT status FROM members WHERE uid = ?", ("moved-" + mover[0][:20],))
    assert moved["status"] == "active"  # applied, not held as double receipt

    # round 3: another township sends people the county already has (double receipt)
    ids = [
        r[0]
        for r in t1.store.conn.execute(
            "SELECT id_number FROM members WHERE status = 'active' AND id_number IS NOT NULL "
            "ORDER BY id LIMIT 200 OFFSET 100"
        )
    ]
    theirs = [
        r[0]
        for r in t2.store.conn.execute(
            "SELECT uid FROM members WHERE status = 'active' AND id_number IS NOT NULL ORDER BY id "
            "LIMIT 5"
        )
    ]
    for k, uid in enumerate(theirs):
        edit(t2.store, "members", uid, id_number=ids[k * 40])  # spread over the chunks
    both(monkeypatch, a, b, t2.export(a, full=True))
    dups = a.store.scalar("SELECT count(*) FROM sync_conflicts WHERE kind = 'duplicate_id'")
    assert dups > 0

    # round 4: the first township's full snapshot again: nothing new, nothing changed
    both(monkeypatch, a, b, t1.export(a, full=True))


@pytest.fixture
def pair(tmp_path):
    from .sites import township_county

    t, c = township_county(tmp_path, 60, seed=4)
    yield t, c
    t.store.close()
    c.store.close()


def test_a_bad_record_found_by_the_worker_after_tables_were_applied_changes_nothing(
    pair, staged, monkeypatch
):
    t, c = pair
    real = batch_mod.BatchWriter.add

    def late_line_is_bad(self, table, parts, records):
        lines = b"".join(parts).split(b"\n")
        if table == "members":
            lines[CHUNK + 5] = lines[CHUNK + 5].replace(b'"op": "upsert"', b'"op": "upsort"')
        real(self, table, [b"\n".join(lines)], records)

    monkeypatch.setattr(batch_mod.BatchWriter, "add", late_line_is_bad)
    data = t.export(c, full=True).read_bytes()
    monkeypatch.setattr(batch_mod.BatchWriter, "add", real)
    before = fingerprint(c.store)
    with pytest.raises(BatchRefused) as e:
        import_batch(c.store, c.keys, data)
    assert e.value.code == "not_a_batch"
    assert f"records/members.jsonl 第 {CHUNK + 6} 行" in e.value.message
    assert fingerprint(c.store) == before
    assert c.store.scalar("SELECT count(*) FROM households") == 0


def test_a_records_file_not_matching_the_signed_manifest_is_refused_whole(pair, staged):
    """Tampering found only when the worker reaches that file: nothing stays applied."""
    import io
    import zipfile

    from .test_refusals import reencrypt

    t, c = pair
    plain = batch_mod.decrypt(t.export(c, full=True).read_bytes(), c.keys)
    src = zipfile.ZipFile(io.BytesIO(plain))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n in src.namelist():
            d = src.read(n)
            if n == "records/enrolments.jsonl":
                d = d.replace(b"rural_dibao", b"urban_dibao", 1)
            z.writestr(n, d)
    before = fingerprint(c.store)
    with pytest.raises(BatchRefused) as e:
        import_batch(c.store, c.keys, reencrypt(buf.getvalue(), c))
    assert e.value.code == "bad_signature"
    assert "records/enrolments.jsonl" in e.value.message
    assert fingerprint(c.store) == before


def test_cancel_while_the_worker_reads_stops_it_and_changes_nothing(pair, staged, monkeypatch):
    t, c = pair
    data = t.export(c, full=True).read_bytes()
    started = []
    real_init = staging.Reader.__init__

    def spy(self, *a, **k):
        real_init(self, *a, **k)
        started.append(self)

    monkeypatch.setattr(staging.Reader, "__init__", spy)
    before = fingerprint(c.store)
    seen = []
    with pytest.raises(Cancelled):
        import_batch(
            c.store,
            c.keys,
            data,
            progress=lambda d, n: seen.append(d),
            cancel=lambda: c.store.scalar("SELECT count(*) FROM households") > 0,
        )
    assert fingerprint(c.store) == before
    assert started and not started[0]._proc.is_alive()
    rep = import_batch(c.store, c.keys, data)  # and it imports afterwards, whole
    assert rep.totals().new == sum(
        json.loads(json.dumps(rep.as_dict()))["tables"][k]["new"] for k in rep.as_dict()["tables"]
    )
    assert c.store.scalar("SELECT count(*) FROM households") == 60


def test_a_worker_that_dies_is_reported_and_nothing_is_applied(pair, staged, monkeypatch):
    t, c = pair
    data = t.export(c, full=True).read_bytes()
    real_init = staging.Reader.__init__

    def killed(self, *a, **k):  # before it has read anything (it is still starting)
        real_init(self, *a, **k)
        self._proc.kill()
        self._proc.join()

    monkeypatch.setattr(staging.Reader, "__init__", killed)
    before = fingerprint(c.store)
    with pytest.raises(staging.WorkerFailed) as e:
        import_batch(c.store, c.keys, data)
    assert "意外退出" in e.value.message
    assert fingerprint(c.store) == before
    monkeypatch.setattr(staging.Reader, "__init__", real_init)
    assert import_batch(c.store, c.keys, data).totals().new > 0


def test_small_batches_and_encrypted_databases_are_read_in_process(pair, monkeypatch):
    t, c = pair
    calls = []
    monkeypatch.setattr(staging, "Reader", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(apply, "_can_stage", lambda store: False)
    monkeypatch.setattr(staging, "STAGE_MIN", 0)
    assert import_batch(c.store, c.keys, t.export(c, full=True).read_bytes()).totals().new
    assert calls == []


def test_counts_the_manifest_understates_change_nothing_but_the_bar_stays_in_range(
    pair, staged, monkeypatch
):
    """The signed counts only choose the path and scale the bar; the records are what the
    files hold.  A sender whose counts are too low still has every record applied."""
    from mzdesk.sync.common import PROGRESS

    t, c = pair
    real = export._collect

    def low(*a, **k):
        counts, bases = real(*a, **k)
        return {k: n // 3 for k, n in counts.items()}, bases

    monkeypatch.setattr(export, "_collect", low)
    data = t.export(c, full=True).read_bytes()
    monkeypatch.setattr(export, "_collect", real)
    seen = []
    rep = import_batch(c.store, c.keys, data, progress=lambda d, n: seen.append((d, n)))
    assert all(0 <= d <= n == PROGRESS for d, n in seen)
    assert rep.table("households").new == c.store.scalar("SELECT count(*) FROM households") == 60
    assert content(c.store) == content(t.store)
