"""Sender scope (issue 20, item 3): validly signed batches that reach beyond their sender.

Each attack is a batch that passes every check of the format: built with the project's own
batch writer and signed with the sender's real key (:func:`forge`), or made by a normal
``sync export`` after the sender's database was edited with raw SQL.  The receiver refuses
the changes outside the sender's scope or role, records them, shows them as
"超出发送方权限", applies the rest, and never passes them on.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mzdesk.models.demo import generate_demo
from mzdesk.models.store import new_uid
from mzdesk.sync import staging
from mzdesk.sync.batch import BatchWriter, decrypt, read_records, record_line
from mzdesk.sync.changelog import TableCodec
from mzdesk.sync.local import Maps
from mzdesk.sync.report import refusals
from mzdesk.sync.sender_scope import OUT_OF_SCOPE, ROLE_FORBIDDEN

from .sites import S, content, edit, link, make_site

A_CODE, B_CODE, COUNTY = "341623101", "341623102", "341623"


def encoded(site: S, table: str, uid: str) -> tuple[dict, dict]:
    """(meta, row) of one record as it travels, read from ``site``'s database."""
    codec = TableCodec.load(site.store.conn, table)
    row = site.store.one(f"SELECT * FROM {table} WHERE uid = ?", (uid,))
    assert row is not None
    _uid, meta, body = codec.encode(row, Maps(site.store).uid_maps(codec))
    return meta, json.loads(body)


def forge(sender: S, to: S, records: dict[str, list[tuple[str, dict | None, dict | None]]]) -> Path:
    """A batch from ``sender`` to ``to`` carrying exactly ``records`` (table -> (uid, meta,
    row), row None for a tombstone), in the place of the next batch a normal export makes:
    its manifest (sequence, chain, acknowledgement), the project's BatchWriter, the
    sender's real signing key.  Nothing distinguishes it from a batch its software made."""
    real = sender.export(to)
    plain = decrypt(real.read_bytes(), sender.keys)
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(plain)).read("manifest.json"))
    for k in ("files", "format", "format_version"):
        manifest.pop(k)
    writer = BatchWriter()
    counts = {}
    for t, recs in records.items():
        lines = [
            record_line(
                uid,
                "upsert" if row is not None else "delete",
                meta,
                json.dumps(row, ensure_ascii=False) if row is not None else None,
            ).encode("utf-8")
            for uid, meta, row in recs
        ]
        writer.add(t, lines, len(lines))
        counts[t] = len(lines)
    manifest["counts"] = counts
    out = real.with_name("forged-" + real.name)
    out.write_bytes(writer.finish(manifest, sender.keys, to.keys.public))
    return out


def publish(site: S, title: str) -> str:
    """A notice of the township (the row as the notice service records it)."""
    uid = new_uid()
    with site.store.transaction():
        row = dict(
            uid=uid,
            title=title,
            township=site.keys.site.name,
            start_on="2026-11-20",
            end_on="2026-11-27",
            hotline="0550-7654321",
            issuer=f"{site.keys.site.name}人民政府",
            issued_on="2026-11-20",
            **site.store.stamp(new=True),
        )
        site.store.conn.execute(
            f"INSERT INTO notices ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )
    return uid


def submitted(site: S, village: str | None = None) -> str:
    """One of the site's open applications made 待审核 (as ``enrol submit`` leaves it)."""
    uid = site.store.scalar(
        "SELECT e.uid FROM enrolments e JOIN households h ON h.id = e.household_id "
        "WHERE e.state IN ('applied', 'investigating') AND (? IS NULL OR h.village = ?) "
        "ORDER BY e.id",
        (village, village),
    )
    assert uid is not None
    edit(site.store, "enrolments", uid, state="submitted")
    return uid


@pytest.fixture
def county_world(tmp_path):
    """Two townships (A 青山镇, B 绿水镇) that have sent everything to the county."""
    a = make_site(tmp_path, A_CODE, "青山镇", "township")
    b = make_site(tmp_path, B_CODE, "绿水镇", "township")
    c = make_site(tmp_path, COUNTY, "县民政局", "county")
    generate_demo(a.store, 60, seed=2)
    generate_demo(b.store, 60, seed=4)
    publish(a, "青山镇2026年11月农村最低生活保障拟保障对象公示")
    publish(b, "绿水镇2026年11月农村最低生活保障拟保障对象公示")
    submitted(a)
    link(a, c)
    link(b, c)
    c.import_(a.export(c))
    c.import_(b.export(c))
    a.import_(c.export(a))
    b.import_(c.export(b))
    yield a, b, c
    for s in (a, b, c):
        s.store.close()


@pytest.fixture(params=["in-process", "staged"])
def reading(request, monkeypatch):
    """Both ways a batch is applied: read in-process, or by the worker process with new
    records moved in bulk (mzdesk.sync.staging), where the scope is SQL conditions."""
    monkeypatch.setattr(staging, "STAGE_MIN", 0 if request.param == "staged" else 10**9)
    return request.param


def a_enrolments(a: S, n: int) -> list[str]:
    rows = a.store.conn.execute(
        "SELECT uid FROM enrolments WHERE status = 'active' ORDER BY id LIMIT ?", (n,)
    )
    return [r[0] for r in rows]


def test_county_refuses_a_township_writing_another_townships_households(county_world, reading):
    """The issue's attack: township B signs a change creating an active 低保 of 99,999 元/月
    on a household of township A, and deleting another of A's enrolments (soft, and a
    tombstone).  The county refuses all three, records and shows them, applies B's own
    change in the same batch, and passes nothing on to A."""
    a, b, c = county_world
    doomed, gone = a_enrolments(a, 2)
    meta, victim = encoded(c, "enrolments", doomed)
    household = victim["household_uid"]
    new = dict(
        victim,
        category="rural_dibao",
        member_uid=None,
        state="active",
        monthly_fen=9_999_900,
        status="active",
    )
    soft = dict(victim, status="deleted")
    own_uid = b.store.scalar("SELECT uid FROM households ORDER BY id LIMIT 1")
    own_meta, own = encoded(b, "households", own_uid)
    created = new_uid()
    forged = forge(
        b,
        c,
        {
            "households": [(own_uid, own_meta, dict(own, notes="绿水镇自己的修改"))],
            "enrolments": [(created, meta, new), (doomed, meta, soft), (gone, None, None)],
        },
    )
    before_a = content(c.store)["enrolments"]
    r = c.import_(forged)

    assert [(x["table"], x["reason"]) for x in r.refused] == [("enrolments", OUT_OF_SCOPE)] * 3
    assert c.store.scalar("SELECT count(*) FROM enrolments WHERE monthly_fen = 9999900") == 0
    assert c.store.scalar(
        "SELECT count(*) FROM enrolments e JOIN households h ON h.id = e.household_id "
        "WHERE h.uid = ?",
        (household,),
    ) == a.store.scalar(
        "SELECT count(*) FROM enrolments e JOIN households h ON h.id = e.household_id "
        "WHERE h.uid = ?",
        (household,),
    )
    assert content(c.store)["enrolments"] == before_a  # nothing of A's changed
    # B's own change in the same batch is applied
    assert c.store.scalar("SELECT notes FROM households WHERE uid = ?", (own_uid,)) == (
        "绿水镇自己的修改"
    )
    # shown to the clerk, kept with the batch
    assert "超出发送方权限" in r.text() and "3 条更改未导入" in r.text()
    kept = refusals(c.store)
    assert {(x["peer"], x["table"], x["uid"], x["reason"]) for x in kept} == {
        (B_CODE, "enrolments", u, OUT_OF_SCOPE) for u in (created, doomed, gone)
    }
    # not passed on: the county's next batch to A carries no enrolment at all
    to_a = c.export(a)
    assert "enrolments" not in read_records(to_a.read_bytes(), a.keys)
    a.import_(to_a)
    assert a.store.scalar("SELECT count(*) FROM enrolments WHERE monthly_fen = 9999900") == 0
    assert a.store.scalar("SELECT status FROM enrolments WHERE uid = ?", (doomed,)) == "active"


def test_county_refuses_a_township_taking_over_a_household_or_notice(county_world, reading):
    """B rewrites A's household itself (a bank account) and A's notice, and puts an item of
    its own on A's notice: all refused."""
    a, b, c = county_world
    hh = a.store.scalar("SELECT uid FROM households ORDER BY id LIMIT 1")
    meta, row = encoded(c, "households", hh)
    notice = a.store.scalar("SELECT uid FROM notices ORDER BY id LIMIT 1")
    assert notice is not None  # the demo publishes notices
    nmeta, nrow = encoded(c, "notices", notice)
    # and an item of B's own case on A's notice
    mine = b.store.scalar("SELECT uid FROM enrolments ORDER BY id")
    item = {
        "notice_uid": notice,
        "enrolment_uid": mine,
        "seq": 99,
        "village": "绿水村",
        "village_group": "",
        "name": "冒名",
        "id_masked": "",
        "covered": 1,
        "category": "rural_dibao",
        "category_label": "农村低保",
        "monthly_fen": 9_999_900,
        "action": "new",
    }
    item_uid = new_uid()
    forged = forge(
        b,
        c,
        {
            "households": [(hh, meta, dict(row, bank_account="6222000011112222333"))],
            "notices": [(notice, nmeta, dict(nrow, hotline="0000-0000000"))],
            "notice_items": [(item_uid, {}, item)],
        },
    )
    r = c.import_(forged)
    assert {(x["table"], x["uid"], x["reason"]) for x in r.refused} == {
        ("households", hh, OUT_OF_SCOPE),
        ("notices", notice, OUT_OF_SCOPE),
        ("notice_items", item_uid, OUT_OF_SCOPE),
    }
    assert c.store.scalar("SELECT count(*) FROM notice_items WHERE uid = ?", (item_uid,)) == 0
    assert (
        c.store.scalar("SELECT bank_account FROM households WHERE uid = ?", (hh,))
        == (row["bank_account"])
    )
    assert c.store.scalar("SELECT hotline FROM notices WHERE uid = ?", (notice,)) == nrow["hotline"]


def test_county_refuses_a_township_confirming_a_case_submitted_to_it(county_world, reading):
    """审核确认 is the county's decision: a township cannot send it for a submitted case."""
    a, _b, c = county_world
    enr = a.store.scalar("SELECT uid FROM enrolments WHERE state = 'submitted' ORDER BY id")
    assert enr is not None  # the demo has cases waiting for the county
    meta, row = encoded(a, "enrolments", enr)
    event = {
        "enrolment_uid": enr,
        "action": "confirm",
        "from_state": "submitted",
        "to_state": "active",
        "reason": "",
        "detail": "{}",
        "monthly_fen": row["monthly_fen"],
        "at": "2026-12-01 10:00:00",
        "by": "clerk",
    }
    forged = forge(
        a,
        c,
        {
            "enrolments": [(enr, meta, dict(row, state="active", start_on="2026-12-01"))],
            "enrolment_events": [(new_uid(), {}, event)],
        },
    )
    r = c.import_(forged)
    assert [(x["table"], x["reason"]) for x in r.refused] == [
        ("enrolments", ROLE_FORBIDDEN),
        ("enrolment_events", ROLE_FORBIDDEN),
    ]
    assert c.store.scalar("SELECT state FROM enrolments WHERE uid = ?", (enr,)) == "submitted"


def test_county_batch_to_a_township_carries_only_its_own_records(county_world):
    """The county's batch to B carried A's notices.  A full batch to B now carries B's
    households, enrolments and notices only, and none of A's."""
    a, b, c = county_world
    data = c.store.conn  # what B and A each sent
    got = read_records(c.export(b, full=True).read_bytes(), b.keys)
    for t in ("households", "enrolments", "notices", "notice_items", "members"):
        mine = {r[0] for r in b.store.conn.execute(f"SELECT uid FROM {t}")}
        theirs = {r[0] for r in a.store.conn.execute(f"SELECT uid FROM {t}")}
        assert theirs or t == "notice_items", t
        assert set(got.get(t, {})) <= mine, t
        assert not set(got.get(t, {})) & theirs, t
    assert set(got["notices"]) == {r[0] for r in b.store.conn.execute("SELECT uid FROM notices")}
    assert data.execute("SELECT count(*) FROM notices").fetchone()[0] > len(got["notices"])
    # and an incremental batch after A publishes a new notice: not to B either
    a.store.conn.execute("UPDATE notices SET hotline = '0550-1234567'")  # every notice of A
    c.import_(a.export(c))
    assert "notices" not in read_records(c.export(b).read_bytes(), b.keys)


@pytest.fixture
def field_world(tmp_path):
    f = make_site(tmp_path, "341623101001", "青山镇入户终端", "field")
    t = make_site(tmp_path, A_CODE, "青山镇", "township")
    generate_demo(t.store, 60, seed=2)
    villages = [
        r[0] for r in t.store.conn.execute("SELECT DISTINCT village FROM households ORDER BY 1")
    ]
    submitted(t, villages[0])
    link(t, f, villages=[villages[0]])
    f.import_(t.export(f))
    yield f, t, villages
    for s in (f, t):
        s.store.close()


def test_township_refuses_a_field_laptops_raw_edits_of_amount_and_deletion(field_world):
    """The issue's attack: the field laptop edits its own file with raw SQL (an amount, a
    注销) and runs a normal ``sync export``.  The township refuses both as beyond the field
    role, applies the laptop's ordinary edit in the same batch, and records the refusals."""
    f, t, villages = field_world
    enr = f.store.scalar(
        "SELECT uid FROM enrolments WHERE state = 'active' AND status = 'active' ORDER BY id"
    )
    hh, other = [
        r[0]
        for r in f.store.conn.execute(
            "SELECT uid FROM households WHERE status = 'active' ORDER BY id LIMIT 2"
        )
    ]
    fen = t.store.scalar("SELECT monthly_fen FROM enrolments WHERE uid = ?", (enr,))
    raw = f.store.conn  # no service, no permission check: what sqlite3 on the file does
    raw.execute("UPDATE enrolments SET monthly_fen = 9999900 WHERE uid = ?", (enr,))
    raw.execute(
        "UPDATE households SET status = 'deleted', status_reason = '迁出' WHERE uid = ?", (hh,)
    )
    raw.execute("UPDATE households SET phone = '13900000009' WHERE uid = ?", (other,))
    r = t.import_(f.export(t))

    assert {(x["table"], x["uid"], x["reason"]) for x in r.refused} == {
        ("enrolments", enr, ROLE_FORBIDDEN),
        ("households", hh, ROLE_FORBIDDEN),
    }
    notes = " ".join(x["note"] for x in r.refused)
    assert "改动保障金额" in notes and "注销家庭" in notes
    assert t.store.scalar("SELECT monthly_fen FROM enrolments WHERE uid = ?", (enr,)) == fen
    assert t.store.scalar("SELECT status FROM households WHERE uid = ?", (hh,)) == "active"
    assert t.store.scalar("SELECT phone FROM households WHERE uid = ?", (other,)) == "13900000009"
    assert "超出发送方权限" in r.text()


def test_township_refuses_field_changes_outside_its_villages_and_decisions(field_world, reading):
    """A forged field batch: a household of a village not assigned to the laptop, a case
    confirmed (审核确认) and a case stopped: all refused; the laptop's apply goes through."""
    f, t, villages = field_world
    outside = t.store.scalar(
        "SELECT uid FROM households WHERE village = ? ORDER BY id", (villages[1],)
    )
    ometa, orow = encoded(t, "households", outside)
    sub = t.store.scalar(
        "SELECT e.uid FROM enrolments e JOIN households h ON h.id = e.household_id "
        "WHERE h.village = ? AND e.state = 'submitted' ORDER BY e.id",
        (villages[0],),
    )
    act = t.store.scalar(
        "SELECT e.uid FROM enrolments e JOIN households h ON h.id = e.household_id "
        "WHERE h.village = ? AND e.state = 'active' ORDER BY e.id",
        (villages[0],),
    )
    assert sub and act
    smeta, srow = encoded(t, "enrolments", sub)
    ameta, arow = encoded(t, "enrolments", act)
    mine = t.store.scalar(
        "SELECT uid FROM households WHERE village = ? ORDER BY id", (villages[0],)
    )
    mmeta, mrow = encoded(t, "households", mine)
    recs = [
        (sub, smeta, dict(srow, state="active")),
        (act, ameta, dict(arow, state="stopped", stop_reason="收入提高")),
    ]
    forged = forge(
        f,
        t,
        {
            "households": [
                (outside, ometa, dict(orow, bank_account="6222000099998888777")),
                (mine, mmeta, dict(mrow, phone="13900000019")),
            ],
            "enrolments": recs,
        },
    )
    r = t.import_(forged)
    assert {(x["table"], x["uid"], x["reason"]) for x in r.refused} == {
        ("households", outside, OUT_OF_SCOPE),
        ("enrolments", sub, ROLE_FORBIDDEN),
        ("enrolments", act, ROLE_FORBIDDEN),
    }
    assert (
        t.store.scalar("SELECT bank_account FROM households WHERE uid = ?", (outside,))
        == (orow["bank_account"])
    )
    assert t.store.scalar("SELECT state FROM enrolments WHERE uid = ?", (sub,)) == "submitted"
    assert t.store.scalar("SELECT state FROM enrolments WHERE uid = ?", (act,)) == "active"
    assert t.store.scalar("SELECT phone FROM households WHERE uid = ?", (mine,)) == "13900000019"


def test_sync_status_json_lists_the_refused_changes(field_world):
    """``sync status --json`` (a real subprocess) names each refused change with its sender,
    batch, record and reason code."""
    f, t, _villages = field_world
    hh = f.store.scalar("SELECT uid FROM households WHERE status = 'active' ORDER BY id")
    f.store.conn.execute("UPDATE households SET status = 'deleted' WHERE uid = ?", (hh,))
    t.import_(f.export(t))
    db = t.store.path
    out = subprocess.run(
        [sys.executable, "-m", "mzdesk", "sync", "status", "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    [x] = data["refused"]
    assert (x["peer"], x["table"], x["uid"], x["reason"]) == (
        f.code,
        "households",
        hh,
        ROLE_FORBIDDEN,
    )
    assert x["note"].startswith("超出发送方权限")
    text = subprocess.run(
        [sys.executable, "-m", "mzdesk", "sync", "status", "--db", str(db)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "超出发送方权限" in text
