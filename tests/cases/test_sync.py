"""A case travels between two sites like the other records; older batches still import."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from mzdesk.models import cases
from mzdesk.models.registry import Registry
from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from mzdesk.sync.keys import PublicKey, key_file, load_keys, trust
from tests.helpers import household, make_id
from tests.sync.sites import link, make_site

D = dt.date
GOLDEN = Path(__file__).resolve().parents[1] / "sync" / "golden"


def _by_uid(store: Store, uid: str) -> cases.Case:
    cid = store.scalar("SELECT id FROM cases WHERE uid = ?", (uid,))
    return cases.get(store, cid)


def test_a_case_goes_to_the_county_and_its_documents_come_back(tmp_path, clock):
    clock(D(2026, 11, 23))
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    link(t, c)
    h = Registry(t.store).save(household("红旗村", ("张三丰", "户主", make_id("19500101", 1))))
    made = cases.add(
        t.store,
        h.id,
        "temporary",
        member_id=h.members[0].id,
        case_type="urgent",
        cause="accident",
        applied_on=D(2026, 11, 2),
        amount_fen=80000,
    )
    made = cases.pay(t.store, made.id, on=D(2026, 11, 3), fast=True)
    c.import_(t.export(c))
    there = _by_uid(c.store, made.uid)
    assert (there.state_label, there.paid_fen, there.name, there.fast_track) == (
        "待补材料",
        80000,
        "张三丰",
        1,
    )
    month = D(2026, 11, 1)
    assert cases.month_stats(c.store, month) == cases.month_stats(t.store, month)
    # the county completes the file; the township receives it
    c.store.operator = "county-clerk"
    cases.document(c.store, there.id, on=D(2026, 11, 20))
    t.import_(c.export(t))
    back = cases.get(t.store, made.id)
    assert (back.state_label, back.documented_on) == ("已发放", "2026-11-20")
    for s in (t, c):
        s.store.close()


def test_batches_from_before_cases_still_import(tmp_path):
    version = GOLDEN / "v1"
    store = Store.open(tmp_path / "county.sqlite", operator="golden")
    init_site(store, "341623", "县民政局", "county")
    kf = key_file(store)
    kf.parent.mkdir(parents=True)
    shutil.copy(version / "county-site-key.json", kf)
    trust(store, PublicKey.from_json((version / "township-public.json").read_text("utf-8")))
    keys = load_keys(store)
    from mzdesk.sync.apply import import_batch

    for path in sorted(version.glob("batch-*.age"), key=lambda p: int(p.stem.split("-")[1])):
        import_batch(store, keys, path.read_bytes(), path.name)
    assert store.scalar("SELECT count(*) FROM households") > 0
    assert store.scalar("SELECT count(*) FROM cases") == 0
    assert set(cases.month_stats(store, D(2026, 11, 1))) == set(cases.STAT_KEYS)
    store.close()


def test_a_field_laptop_records_applications_but_never_decides_or_pays(tmp_path, clock):
    clock(D(2026, 11, 23))
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    f = make_site(tmp_path, "341623101001", "青山镇入户终端", "field")
    h = Registry(t.store).save(household("红旗村", ("张三丰", "户主", make_id("19500101", 1))))
    waiting = cases.add(t.store, h.id, "medical", applied_on=D(2026, 11, 2), amount_fen=50000)
    link(t, f, villages=["红旗村"])
    f.import_(t.export(f))
    fh = f.store.scalar("SELECT id FROM households WHERE uid = ?", (h.uid,))
    applied = cases.add(
        f.store,
        fh,
        "temporary",
        case_type="urgent",
        cause="disaster",
        applied_on=D(2026, 11, 20),
        amount_fen=60000,
    )
    raw = f.store.conn  # what sqlite3 on the laptop's file could do, no service
    raw.execute(
        "UPDATE cases SET decision = 'approved', decided_on = '2026-11-21', paid_on = "
        "'2026-11-21', paid_fen = amount_fen WHERE uid = ?",
        (waiting.uid,),
    )
    forged = "f" * 32
    raw.execute(
        "INSERT INTO cases (uid, household_id, kind, applied_on, amount_fen, decision, "
        "decided_on, paid_on, paid_fen, created_at, updated_at, created_by, updated_by) "
        "VALUES (?, ?, 'medical', '2026-11-20', 90000, 'approved', '2026-11-20', "
        "'2026-11-20', 90000, '', '', 'x', 'x')",
        (forged, fh),
    )
    r = t.import_(f.export(t))
    assert {(x["table"], x["uid"]) for x in r.refused} == {
        ("cases", waiting.uid),
        ("cases", forged),
    }
    assert "审批" in " ".join(x["note"] for x in r.refused)
    assert cases.get(t.store, waiting.id).state == "pending"
    assert _by_uid(t.store, applied.uid).state == "pending"  # the application arrived
    assert t.store.scalar("SELECT count(*) FROM cases WHERE uid = ?", (forged,)) == 0
    for s in (t, f):
        s.store.close()
