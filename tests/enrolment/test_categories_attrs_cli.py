"""Issue 21, categories and attributes, from the command line and across a sync batch:
``enrol support``, ``households flag``, ``enrol apply`` with the official self-care wording,
``stats --json`` (by_class, by_support, low_income) in a real process."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from mzdesk.models import enrolment as enr
from mzdesk.models import support
from mzdesk.models.registry import Registry
from tests.enrolment.conftest import publicised
from tests.enrolment.test_cli import run
from tests.helpers import household, make_id
from tests.sync.sites import link, make_site

ROOT = Path(__file__).resolve().parents[2]
CARER = make_id("19700505", 7)


def _active_tekun(store, h, cls="全自理", fen=90000):
    e, _ = publicised(store, h.id, category="tekun", member_id=h.members[0].id, fen=fen, cls=cls)
    enr.submit(store, e.id, today=dt.date(2026, 12, 8))
    return enr.confirm(store, e.id, today=dt.date(2026, 12, 15))


def test_apply_with_official_wording_and_support_from_cli(store, single, capsys):
    db = store.path
    store.close()
    d = ["--db", db]
    out = run(
        capsys,
        "enrol",
        "apply",
        *d,
        "--household",
        str(single.id),
        "--category",
        "tekun",
        "--member",
        str(single.members[0].id),
        "--class",
        "完全丧失生活自理能力",
        "--date",
        "2026-11-01",
    )
    assert "tekun 全护理" in out
    eid = out.split("保障记录", 1)[1].split(":", 1)[0]
    err = run(
        capsys, "enrol", "support", *d, eid, "--mode", "分散", "--carer-name", "李照料", ok=False
    )
    assert "照料人身份证号" in err
    out = run(
        capsys,
        "enrol",
        "support",
        *d,
        eid,
        "--mode",
        "分散",
        "--carer-name",
        "李照料",
        "--carer-id",
        CARER,
        "--carer-phone",
        "13900000000",
        "--care-from",
        "2026-12-01",
        "--care-to",
        "2027-11-30",
    )
    got = json.loads(out)
    assert (got["mode_label"], got["carer_name"], got["care_to"]) == (
        "分散",
        "李照料",
        "2027-11-30",
    )
    assert got["carer_id_number"] == CARER[:6] + "********" + CARER[-4:]  # masked on screen
    assert (got["level"], got["level_label"], got["care_fen"]) == (
        "unable",
        "完全丧失生活自理能力",
        60000,
    )
    out = run(
        capsys, "enrol", "support", *d, eid, "--mode", "集中", "--institution", "青山镇敬老院"
    )
    assert json.loads(out)["institution"] == "青山镇敬老院"
    shown = json.loads(run(capsys, "enrol", "support", *d, eid))  # no --mode: show only
    assert (shown["mode"], shown["carer_name"]) == ("concentrated", "")
    # 集中 needs its institution each time; a level change of an unconfirmed record is an amend
    assert "供养机构" in run(capsys, "enrol", "support", *d, eid, "--mode", "集中", ok=False)
    out = run(
        capsys,
        "enrol",
        "support",
        *d,
        eid,
        "--mode",
        "集中",
        "--institution",
        "敬老院",
        "--level",
        "半失能",
    )
    assert (json.loads(out)["level"], json.loads(out)["care_fen"]) == ("partial", 30000)
    assert "--mode is required" in run(
        capsys, "enrol", "support", *d, eid, "--level", "失能", ok=False
    )


def test_household_flag_from_cli(store, family, capsys):
    db = store.path
    store.close()
    d = ["--db", db]
    out = run(capsys, "households", "flag", str(family.id), *d, "--set", "脱贫人口")
    assert "脱贫人口" in out
    shown = json.loads(run(capsys, "households", "show", str(family.id), *d))
    assert shown["poverty_flag"] == "lifted"
    err = run(capsys, "households", "flag", str(family.id), *d, "--set", "富裕", ok=False)
    assert "返贫监测标识" in err
    run(capsys, "households", "flag", str(family.id), *d, "--set", "无")
    assert json.loads(run(capsys, "households", "show", str(family.id), *d))["poverty_flag"] == ""


def test_stats_json_in_a_real_process(store, registry, family, single):
    other = registry.save(
        household("青山村", ("赵六", "户主", make_id("19380303", 9))), today=dt.date(2026, 11, 23)
    )
    a = _active_tekun(store, single, cls="半自理")
    b = _active_tekun(store, other, cls="全护理", fen=95000)
    support.save(store, a.id, "集中", institution="青山镇敬老院")
    support.save(store, b.id, "分散", carer_name="李照料", carer_id_number=CARER)
    enr.create(store, family.id, "dibao_edge")  # monitored: not active, not counted yet
    db = store.path
    store.close()
    proc = subprocess.run(
        [sys.executable, "-m", "mzdesk", "stats", "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    tekun = data["active_enrolments"]["tekun"]
    assert tekun["households"] == 2 and tekun["persons"] == 2 and tekun["monthly_fen"] == 185000
    assert tekun["by_class"] == {"全护理": 1, "半自理": 1}
    assert tekun["by_support"] == {"集中": 1, "分散": 1}
    assert data["low_income"] == {"households": 2, "persons": 2}


def test_support_and_flag_travel_in_a_batch(tmp_path):
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    link(t, c)
    reg = Registry(t.store)
    h = reg.save(household("青山村", ("王老五", "户主", make_id("19400101", 5))))
    h.poverty_flag = "monitored"
    h = reg.save(h)
    e = enr.create(t.store, h.id, "tekun", member_id=h.members[0].id, cls="半护理")
    support.save(t.store, e.id, "分散", carer_name="李照料", carer_id_number=CARER)
    report = c.import_(t.export(c)).as_dict()
    assert report["totals"]["new"] == 4 and report["totals"]["conflicts"] == 0
    row = c.store.one(
        "SELECT e.class, e.support_mode, e.carer_name, e.carer_id_number, h.poverty_flag "
        "FROM enrolments e JOIN households h ON h.id = e.household_id"
    )
    assert row == {
        "class": "半自理",
        "support_mode": "dispersed",
        "carer_name": "李照料",
        "carer_id_number": CARER,
        "poverty_flag": "monitored",
    }


def test_a_county_adds_its_own_monitored_category(store, family, capsys):
    db = store.path
    store.close()
    d = ["--db", db]
    run(
        capsys,
        "enrol",
        "category-add",
        *d,
        "county_watch",
        "--name",
        "县监测对象",
        "--payment",
        "none",
        "--unit",
        "household",
    )
    out = run(
        capsys, "enrol", "apply", *d, "--household", str(family.id), "--category", "county_watch"
    )
    assert "county_watch" in out and "金额=0.00元" in out
