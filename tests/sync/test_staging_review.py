"""Review of the staged import (mzdesk.sync.staging): cases where reading a batch through the
worker process gives another result than reading it in-process.  Each test imports the same
batch file into two identical counties, one each way (as test_staging.both does), with
batches forged the way a trusted but buggy sender would sign them."""

from __future__ import annotations

import json

import pytest

from mzdesk.models.progress import Cancelled
from mzdesk.sync import applier, staging
from mzdesk.sync import batch as batch_mod
from mzdesk.sync.apply import import_batch
from mzdesk.sync.batch import BatchRefused, BatchWriter, record_line
from mzdesk.sync.common import PROGRESS, noop_step
from mzdesk.sync.history import held_batches

from .sites import content, fingerprint, township_county
from .test_staging import clone, report, state

CHUNK = 50


@pytest.fixture
def world(tmp_path):
    """A township with 60 demo households and the same county twice (A: in-process,
    B: through the worker)."""
    t, a = township_county(tmp_path, 60, seed=4)
    b = clone(a, tmp_path / "b")
    yield t, a, b
    for s in (t, a, b):
        s.store.close()


def forged_export(monkeypatch, t, to, lines=None, manifest=None, full=True):
    """Export from ``t`` with each table's lines passed through ``lines(table, list)``, the
    manifest's counts made to match, then through ``manifest(dict)``: signed by ``t``."""
    real_add, real_finish = BatchWriter.add, BatchWriter.finish
    actual: dict[str, int] = {}

    def add(self, table, parts, records):
        ls = b"".join(parts).split(b"\n")[:-1]
        if lines is not None:
            ls = lines(table, ls)
        actual[table] = len(ls)
        real_add(self, table, [b"".join(x + b"\n" for x in ls)], len(ls))

    def finish(self, m, keys, recipient):
        m = dict(m, counts=dict(actual))
        if manifest is not None:
            m = manifest(m)
        return real_finish(self, m, keys, recipient)

    monkeypatch.setattr(BatchWriter, "add", add)
    monkeypatch.setattr(BatchWriter, "finish", finish)
    try:
        return t.export(to, full=full).read_bytes()
    finally:
        monkeypatch.setattr(BatchWriter, "add", real_add)
        monkeypatch.setattr(BatchWriter, "finish", real_finish)


def set_mode(monkeypatch, staged: bool, chunk: int = CHUNK) -> None:
    monkeypatch.setattr(staging, "STAGE_MIN", 0 if staged else 10**9)
    monkeypatch.setattr(staging, "CHUNK", chunk)


def outcome(monkeypatch, site, data, staged, chunk=CHUNK, **kw):
    set_mode(monkeypatch, staged, chunk)
    before = fingerprint(site.store)
    try:
        rep = import_batch(site.store, site.keys, data, "x.age", **kw)
    except Exception as exc:  # noqa: BLE001
        return (
            "raised",
            type(exc).__name__,
            getattr(exc, "code", None),
            fingerprint(site.store) == before,
        )
    return ("applied", report(rep))


def upsert(line: bytes, **row) -> bytes:
    d = json.loads(line)
    d["row"].update(row)
    return (
        record_line(
            d["uid"], "upsert", d["meta"], json.dumps(d["row"], ensure_ascii=False, sort_keys=True)
        )
        .rstrip("\n")
        .encode()
    )


# -- defects -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gap", "table"),
    [
        pytest.param(3, "members", id="same-chunk-members"),
        pytest.param(3, "households", id="same-chunk-households"),  # both IntegrityError
        pytest.param(CHUNK + 10, "members", id="next-chunk-members"),
        pytest.param(CHUNK + 10, "households", id="next-chunk-households"),
    ],
)
def test_a_uid_twice_in_a_batch_applies_alike(world, monkeypatch, gap, table):
    """The same member twice in members.jsonl (a buggy sender): in-process both lines go to
    the fast insert and the batch fails on UNIQUE(uid); staged the second line is in another
    chunk, finds the first already inserted and is merged as an update."""
    t, a, b = world

    def dup(tbl, ls):
        if tbl == table:
            ls = ls[: 5 + gap] + [ls[5]] + ls[5 + gap :]
        return ls

    data = forged_export(monkeypatch, t, a, dup)
    ra = outcome(monkeypatch, a, data, staged=False)
    rb = outcome(monkeypatch, b, data, staged=True)
    assert rb == ra
    assert state(b) == state(a)


def test_a_tombstone_after_an_upsert_of_the_same_new_uid_applies_alike(world, monkeypatch):
    """A new member's upsert in chunk 1, its tombstone in chunk 2: in-process the tombstone
    finds no local record (``local`` is read before the table) and counts as unchanged, the
    member stays active; staged the upsert is already inserted, so the tombstone deletes it."""
    t, a, b = world

    def tomb(table, ls):
        if table == "members":
            uid = json.loads(ls[5])["uid"]
            ls = ls + [record_line(uid, "delete", None, None).rstrip("\n").encode()]
        return ls

    data = forged_export(monkeypatch, t, a, tomb)
    ra = outcome(monkeypatch, a, data, staged=False)
    rb = outcome(monkeypatch, b, data, staged=True)
    assert rb == ra
    assert state(b) == state(a)


def test_who_keeps_an_id_number_claimed_three_times_does_not_depend_on_chunks(world, monkeypatch):
    """Lines 10 (a member record already deactivated), 20 and 70 of members.jsonl carry the
    same ID number, 20 and 70 active.  In-process the first active claim (line 20) keeps it
    and line 70 is the double receipt.  Staged, line 20 is held back for the merge because
    line 10 of its chunk has the number (whatever its status); line 70, in the next chunk,
    sees neither line 10 nor 20 and is inserted; line 20 then becomes the double receipt."""
    t, a, b = world
    x = "34162319800101999X"  # nobody's number yet

    def claim(table, ls):
        if table == "members":
            ls = list(ls)
            ls[9] = upsert(ls[9], id_number=x, status="deleted")
            ls[19] = upsert(ls[19], id_number=x, status="active")
            ls[69] = upsert(ls[69], id_number=x, status="active")
        return ls

    data = forged_export(monkeypatch, t, a, claim)
    ra = outcome(monkeypatch, a, data, staged=False)
    rb = outcome(monkeypatch, b, data, staged=True)
    holder = "SELECT uid FROM members WHERE id_number = ? AND status = 'active'"
    assert b.store.scalar(holder, (x,)) == a.store.scalar(holder, (x,))
    assert rb == ra
    assert state(b) == state(a)


def test_the_rest_merge_reports_progress_and_can_be_cancelled(world, monkeypatch):
    """A full re-send: every record is here already, so staged every line goes to the
    ordinary merge after the table's chunks.  In-process the merge calls step() (progress
    and the cancel check) as it goes; staged ``Applier.staged`` calls ``self.table(t, recs)``
    without its step: no progress and no cancel check during the whole merge."""
    t, a, b = world
    first = t.export(a, full=True).read_bytes()
    for s in (a, b):
        set_mode(monkeypatch, False)
        import_batch(s.store, s.keys, first)
    data = t.export(a, full=True).read_bytes()
    real = applier.Applier.table
    inside: list[str] = []
    polls: dict[str, int] = {}

    def spy(self, tbl, recs, step=noop_step):
        inside.append(tbl)
        try:
            return real(self, tbl, recs, step)
        finally:
            inside.pop()

    def cancel():
        if inside:
            polls[inside[-1]] = polls.get(inside[-1], 0) + 1
        return False

    monkeypatch.setattr(applier.Applier, "table", spy)
    seen = {}
    for site, staged in ((a, False), (b, True)):
        polls.clear()
        set_mode(monkeypatch, staged)
        import_batch(site.store, site.keys, data, cancel=cancel)
        seen[staged] = dict(polls)
    # the merge of members in-process polls cancel (step 0.3, 0.9 …); staged it must too
    assert seen[False].get("members", 0) > 0
    assert seen[True].get("members", 0) > 0, seen


@pytest.mark.parametrize("lie", ["low", "missing", "high"])
def test_counts_that_lie_give_the_same_result_and_a_sane_progress_bar(world, monkeypatch, lie):
    """The manifest's counts are signed but not checked against the records files.  The
    staged import takes each table's count from them for its progress (``applied / n``)."""
    t, a, b = world

    def counts(m):
        c = dict(m["counts"])
        if lie == "low":
            c["members"] = 1
        elif lie == "missing":
            del c["members"]
        else:
            c["members"] = 10**6
        return dict(m, counts=c)

    data = forged_export(monkeypatch, t, a, manifest=counts)
    ra = outcome(monkeypatch, a, data, staged=False)
    seen: list[tuple[int, int]] = []
    rb = outcome(monkeypatch, b, data, staged=True, progress=lambda d, n: seen.append((d, n)))
    assert rb == ra
    assert state(b) == state(a)
    values = [d for d, _n in seen]
    assert max(values) <= PROGRESS, max(values)
    assert values == sorted(values), "progress went backwards"


def test_a_tampered_batch_after_a_gap_is_refused_not_held(world, monkeypatch):
    """In-process open_batch checks every records file before the sequence checks, so a batch
    whose records file does not match its signed manifest is refused (bad_signature) even
    when it arrives after a gap.  Staged those checks wait for the worker, which only runs
    in _apply: the batch is held ("gap", 补齐后自动导入), and when the gap is filled the
    import of the held batch fails silently and it stays held."""
    import io
    import zipfile

    from .test_refusals import reencrypt

    t, a, b = world
    t.export(a, full=True)  # the first batch: the second arrives after a gap
    second = t.export(a, full=True).read_bytes()
    plain = batch_mod.decrypt(second, a.keys)
    src = zipfile.ZipFile(io.BytesIO(plain))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n in src.namelist():
            d = src.read(n)
            if n == "records/members.jsonl":
                d = d.replace(b'"active"', b'"deleted"', 1)
            z.writestr(n, d)
    bad = reencrypt(buf.getvalue(), a)
    codes = {}
    for site, staged in ((a, False), (b, True)):
        set_mode(monkeypatch, staged)
        with pytest.raises(BatchRefused) as e:
            import_batch(site.store, site.keys, bad)
        codes[staged] = (e.value.code, held_batches(site.store))
    assert codes[True] == codes[False] == ("bad_signature", [])


@pytest.mark.parametrize("at", range(1, 40, 3))
def test_cancel_at_any_poll_leaves_nothing(world, monkeypatch, at):
    t, a, b = world
    data = t.export(a, full=True).read_bytes()
    started = []
    real_init = staging.Reader.__init__

    def spy(self, *args, **kw):
        real_init(self, *args, **kw)
        started.append(self)

    monkeypatch.setattr(staging.Reader, "__init__", spy)
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) >= at

    before = fingerprint(b.store)
    set_mode(monkeypatch, True, 40)
    try:
        import_batch(b.store, b.keys, data, cancel=cancel)
    except Cancelled:
        assert fingerprint(b.store) == before
    dbs = [r[1] for r in b.store.conn.execute("PRAGMA database_list")]
    assert "mz_stage" not in dbs
    assert started and not started[0]._proc.is_alive()
    assert not b.store.conn.in_transaction


@pytest.mark.parametrize("after", range(0, 12))
def test_a_worker_killed_after_any_message_leaves_nothing(world, monkeypatch, after):
    t, a, b = world
    data = t.export(a, full=True).read_bytes()
    real_next = staging.Reader.next
    got = []

    def next_(self, poll=None):
        if len(got) == after:
            self._proc.kill()
            self._proc.join()
        msg = real_next(self, poll)
        got.append(msg[0])
        return msg

    monkeypatch.setattr(staging.Reader, "next", next_)
    before = fingerprint(b.store)
    set_mode(monkeypatch, True, 40)
    try:
        import_batch(b.store, b.keys, data)
    except staging.WorkerFailed:
        assert fingerprint(b.store) == before
    else:  # everything was in the pipe before the kill: then it must be all there
        assert content(b.store) == content(t.store)
    assert "mz_stage" not in [r[1] for r in b.store.conn.execute("PRAGMA database_list")]


def test_import_inside_an_outer_transaction(world, monkeypatch):
    """store.transaction() nests (the import joins an outer one, see _durable).  In-process
    that works; staged, ATTACH fails inside the transaction (before the try that closes the
    reader), so the worker process is left running."""
    t, a, b = world
    data = t.export(a, full=True).read_bytes()
    started = []
    real_init = staging.Reader.__init__

    def spy(self, *args, **kw):
        real_init(self, *args, **kw)
        started.append(self)

    monkeypatch.setattr(staging.Reader, "__init__", spy)
    results = {}
    for site, staged in ((a, False), (b, True)):
        set_mode(monkeypatch, staged)
        try:
            with site.store.transaction():
                import_batch(site.store, site.keys, data)
            results[staged] = "applied"
        except Exception as exc:  # noqa: BLE001
            results[staged] = f"{type(exc).__name__}: {exc}"
    leaked = [r for r in started if r._proc.is_alive()]
    for r in started:
        r.close()
    assert results[True] == results[False]
    assert not leaked


# -- equivalence checks that pass (kept as a regression net) ------------------------------


def _row(store, table, **values):
    stamp = store.stamp(new=True)
    values = {**values, **stamp}
    with store.transaction():
        return store.conn.execute(
            f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
            list(values.values()),
        ).lastrowid


def alike(monkeypatch, a, b, data, chunk):
    ra = outcome(monkeypatch, a, data, staged=False)
    rb = outcome(monkeypatch, b, data, staged=True, chunk=chunk)
    assert rb == ra
    assert state(b) == state(a)
    return ra


@pytest.mark.parametrize("chunk", [1, 2, 7])
def test_booklets_visits_photos_and_replaced_booklets_apply_alike(world, monkeypatch, chunk):
    import uuid

    t, a, b = world
    s = t.store
    hh = [r[0] for r in s.conn.execute("SELECT id FROM households ORDER BY id LIMIT 6")]

    def booklet(h, status="active"):
        return _row(
            s,
            "care_booklets",
            uid=uuid.uuid4().hex,
            household_id=h,
            template_id="care",
            template_version=1,
            status=status,
        )

    old = {h: booklet(h) for h in hh[:3]}
    for h in hh[3:]:  # replaced before the county ever saw them: old deleted, new active
        booklet(h, "deleted")
        booklet(h)
    for h in hh:
        v = _row(
            s,
            "visits",
            uid=uuid.uuid4().hex,
            household_id=h,
            visit_date="2026-01-02",
            kind="入户",
            investigators="张三",
            template_id="visit",
            template_version=1,
        )
        for k in range(2):
            _row(
                s,
                "visit_photos",
                uid=uuid.uuid4().hex,
                visit_id=v,
                seq=k,
                file_name="a.jpg",
                sha256="0" * 64,
                width=1,
                height=1,
                image=bytes(range(256)) * 3,
                thumbnail=b"\x00\xff",
            )
    alike(monkeypatch, a, b, t.export(a).read_bytes(), chunk)
    # round 2: the first three households' booklets replaced (old deleted, new active)
    with s.transaction():
        for _h, bid in old.items():
            s.conn.execute("UPDATE care_booklets SET status = 'deleted' WHERE id = ?", (bid,))
    for h in old:
        booklet(h)
    alike(monkeypatch, a, b, t.export(a).read_bytes(), chunk)
    assert a.store.scalar("SELECT count(*) FROM care_booklets WHERE status = 'active'") == 6
    alike(monkeypatch, a, b, t.export(a, full=True).read_bytes(), chunk)


@pytest.mark.parametrize("chunk", [1, 3, 50])
def test_older_sender_orphans_unknown_tables_and_mixed_lines_apply_alike(world, monkeypatch, chunk):
    t, a, b = world
    gone = []

    def change(table, ls):
        ls = list(ls)
        if table == "households":  # two households missing: their members are orphans
            gone.extend(json.loads(x)["uid"] for x in ls[10:12])
            del ls[10:12]
        if table == "members":  # an older sender: one column missing on every row
            out = []
            for x in ls:
                d = json.loads(x)
                d["row"].pop("special", None)
                out.append(
                    record_line(
                        d["uid"],
                        "upsert",
                        d["meta"],
                        json.dumps(d["row"], ensure_ascii=False, sort_keys=True),
                    )
                    .rstrip("\n")
                    .encode()
                )
            ls = out
        return ls

    real_finish = BatchWriter.finish

    def extra(self, m, keys, recipient):  # a table this schema lacks
        self.add("not_here", [b'{"uid": "u1", "op": "delete"}\n'], 1)
        return real_finish(self, dict(m, counts=dict(m["counts"], not_here=1)), keys, recipient)

    monkeypatch.setattr(BatchWriter, "finish", extra)
    data = forged_export(monkeypatch, t, a, change)
    monkeypatch.setattr(BatchWriter, "finish", real_finish)
    rep = alike(monkeypatch, a, b, data, chunk)
    assert rep[0] == "applied" and rep[1]["tables"]["members"]["conflicts"] > 0


def test_a_held_batch_applied_when_the_gap_fills_applies_alike(world, monkeypatch):
    t, a, b = world
    first = t.export(a, full=True).read_bytes()
    from mzdesk.models.demo import generate_demo

    generate_demo(t.store, 20, seed=9)
    second = t.export(a).read_bytes()
    for site, staged in ((a, False), (b, True)):
        set_mode(monkeypatch, staged, 7)
        with pytest.raises(BatchRefused):
            import_batch(site.store, site.keys, second)
    ra = outcome(monkeypatch, a, first, staged=False)
    rb = outcome(monkeypatch, b, first, staged=True, chunk=7)
    assert ra == rb and ra[1]["also_applied"] == [2]
    assert state(b) == state(a)
    assert "mz_stage" not in [r[1] for r in b.store.conn.execute("PRAGMA database_list")]
    # and a replay of either is refused alike
    for data in (first, second):
        assert outcome(monkeypatch, a, data, staged=False) == outcome(
            monkeypatch, b, data, staged=True, chunk=7
        )


def test_an_empty_records_file_reports_alike(world, monkeypatch):
    """records/enrolment_events.jsonl present but empty (counts 0): in-process the table is
    skipped (``if not recs``); staged ``Applier.staged`` adds a zero line to the report."""
    t, a, b = world

    def empty(table, ls):
        return [] if table == "enrolment_events" else ls

    data = forged_export(monkeypatch, t, a, empty)
    ra = outcome(monkeypatch, a, data, staged=False)
    rb = outcome(monkeypatch, b, data, staged=True)
    assert rb == ra


def test_a_malformed_value_is_refused_alike(world, monkeypatch):
    """A row a trusted but buggy sender wrote with a BLOB as {} (no "$b64"): refused as
    not_a_batch either way, and nothing applied."""
    import uuid

    t, a, b = world
    s = t.store
    h = s.scalar("SELECT id FROM households LIMIT 1")
    v = _row(
        s,
        "visits",
        uid=uuid.uuid4().hex,
        household_id=h,
        visit_date="2026-01-02",
        kind="入户",
        investigators="张三",
        template_id="visit",
        template_version=1,
    )
    _row(
        s,
        "visit_photos",
        uid=uuid.uuid4().hex,
        visit_id=v,
        seq=0,
        file_name="a.jpg",
        sha256="0" * 64,
        width=1,
        height=1,
        image=b"\x01",
        thumbnail=b"\x02",
    )

    def bad(table, ls):
        return [upsert(x, image={}) for x in ls] if table == "visit_photos" else ls

    data = forged_export(monkeypatch, t, a, bad)
    ra = outcome(monkeypatch, a, data, staged=False)
    rb = outcome(monkeypatch, b, data, staged=True)
    assert rb == ra == ("raised", "BatchRefused", "not_a_batch", True)
