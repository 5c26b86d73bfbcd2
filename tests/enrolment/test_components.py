"""Amounts in parts (models/components.py): the service, the 清册, the statistics, the CLI,
the upgrade of an old database."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from mzdesk.models import components as comp
from mzdesk.models import enrolment as enr
from mzdesk.models.components import Part, in_force, set_components
from mzdesk.models.errors import MzError
from mzdesk.models.stats import registry_stats
from mzdesk.models.store import Store
from mzdesk.roster.exporter import export_payment_roster
from mzdesk.roster.monthly import monthly_stats, paid_enrolments
from tests.enrolment.conftest import publicised

ROOT = Path(__file__).resolve().parents[2]
AFTER = dt.date(2026, 12, 8)
JAN, MAR, APR = dt.date(2027, 1, 1), dt.date(2027, 3, 1), dt.date(2027, 4, 1)


def active(store, household_id, **kw):
    e, _ = publicised(store, household_id, **kw)
    enr.submit(store, e.id, today=AFTER)
    return enr.confirm(store, e.id, today=dt.date(2026, 12, 15))  # paid from 2027-01


def test_parts_before_the_notice_replace_and_record_an_amend(store, family):
    e = enr.create(store, family.id, "rural_dibao", cls="二类", monthly_fen=76000)
    assert in_force(store, e.id) == {"base": 76000, "classified": 0}
    e = set_components(
        store,
        e.id,
        [Part("base", 70000, mode="tier", tier="二档"), Part("classified", 9000)],
        reason="调查核定",
    )
    assert e.monthly_fen == 79000
    assert in_force(store, e.id) == {"base": 70000, "classified": 9000}
    last = enr.history(store, e.id)[-1]
    assert (last["action"], last["by"], last["reason"]) == ("amend", "tester", "调查核定")
    assert last["detail"]["old_parts"] == {"base": 76000, "classified": 0}
    base = comp.parts_detail(store, e.id)[0]
    assert (base["name"], base["mode"], base["tier"]) == ("保障金", "tier", "二档")


def test_a_category_refuses_parts_it_cannot_carry(store, family, single):
    e = enr.create(store, family.id, "rural_dibao", monthly_fen=76000)
    with pytest.raises(MzError, match="只能包括：保障金、分类施保金"):
        set_components(store, e.id, {"base": 1000, "care": 500})
    with pytest.raises(MzError, match="分类施保类别应为"):
        set_components(store, e.id, [Part("classified", 500, reason_class="发财")])
    with pytest.raises(MzError, match="不属于该家庭"):
        set_components(store, e.id, [Part("classified", 500, member_id=single.members[0].id)])
    t = enr.create(store, single.id, "tekun", member_id=single.members[0].id, monthly_fen=0)
    t = set_components(store, t.id, {"base": 60000, "care": 20000})
    assert in_force(store, t.id) == {"base": 60000, "care": 20000}
    assert comp.component_names("tekun")["base"] == "基本生活费"


def test_increase_from_a_month_keeps_the_earlier_months(store, family, clock):
    clock(dt.date(2027, 2, 20))
    e = active(store, family.id)
    with pytest.raises(MzError, match="请填写起始月份"):
        set_components(store, e.id, {"base": 76000, "classified": 10000}, reason="x")
    with pytest.raises(MzError, match="必须填写原因"):
        set_components(store, e.id, {"base": 76000}, from_month="2027-03")
    with pytest.raises(MzError, match="不能早于开始享受的月份2027-01"):
        set_components(store, e.id, {"base": 76000}, from_month="2026-12", reason="x")
    e = set_components(
        store, e.id, {"base": 76000, "classified": 10000}, from_month="2027-03", reason="重病"
    )
    assert (e.monthly_fen, e.notice_pending, e.state) == (86000, "change", "active")
    h = enr.history(store, e.id)[-1]
    assert (h["action"], h["detail"]["from_month"], h["detail"]["old_fen"]) == (
        "increase",
        "2027-03",
        76000,
    )
    assert in_force(store, e.id, "2027-02") == {"base": 76000, "classified": 0}
    assert in_force(store, e.id, "2027-03") == {"base": 76000, "classified": 10000}
    # a 减发 later: the event says so, and an earlier month than the last change is refused
    with pytest.raises(MzError, match="不能早于该月"):
        set_components(store, e.id, {"base": 1}, from_month="2027-02", reason="x")
    e = set_components(store, e.id, {"base": 60000, "classified": 10000}, "2027-04", "收入增加")
    assert enr.history(store, e.id)[-1]["action"] == "decrease"
    # the 清册 and the statistics of each month on that month's terms
    fen = {m: [r["monthly_fen"] for r in paid_enrolments(store, m)] for m in (JAN, MAR, APR)}
    assert fen == {JAN: [76000], MAR: [86000], APR: [70000]}
    assert paid_enrolments(store, MAR)[0]["components_fen"] == {"base": 76000, "classified": 10000}
    assert monthly_stats(store, APR)["total"]["ytd_fen"] == 76000 * 2 + 86000 + 70000
    by_part = monthly_stats(store, MAR)["totals"]["rural_dibao"]["components_fen"]
    assert by_part == {"base": 76000, "classified": 10000}


def test_a_single_amount_from_a_review_becomes_base(store, family, clock):
    clock(dt.date(2027, 2, 20))
    e = active(store, family.id)
    set_components(store, e.id, {"base": 76000, "classified": 10000}, "2027-02", "重残")
    e = enr.review(store, e.id, "change", today=dt.date(2027, 2, 20), monthly_fen=50000, reason="r")
    assert in_force(store, e.id) == {"base": 50000, "classified": 0}
    assert in_force(store, e.id, "2027-02") == {"base": 76000, "classified": 10000}
    assert comp.total(store, e.id, "2027-03") == 50000


def test_payment_roster_has_a_column_per_part_and_the_total(store, family, single, tmp_path, clock):
    clock(dt.date(2027, 2, 20))
    e = active(store, family.id)
    set_components(store, e.id, {"base": 76000, "classified": 12000}, "2027-03", "重病")
    t = active(store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理")
    set_components(store, t.id, {"base": 65000, "care": 15000}, "2027-03", "核定护理费")
    out = tmp_path / "清册.xlsx"
    res = export_payment_roster(store, MAR, out)
    assert res["total_fen"] == 88000 + 80000
    wb = openpyxl.load_workbook(out)
    dibao = list(wb["农村低保"].iter_rows(values_only=True))
    assert dibao[1][9:] == ("发放合计(元)", "保障金(元)", "分类施保金(元)")
    assert [Decimal(str(v)) for v in dibao[2][9:]] == [
        Decimal("880"),
        Decimal("760"),
        Decimal("120"),
    ]
    assert dibao[-1][0] == "合计" and Decimal(str(dibao[-1][11])) == Decimal("120")
    tekun = list(wb["特困人员供养"].iter_rows(values_only=True))
    assert tekun[1][9:] == ("发放合计(元)", "基本生活费(元)", "照料护理费(元)")
    assert [Decimal(str(v)) for v in tekun[2][9:]] == [
        Decimal("800"),
        Decimal("650"),
        Decimal("150"),
    ]


def test_stats_json_components_reconcile_through_the_cli(store, family, single, clock):
    clock(dt.date(2027, 2, 20))
    e = active(store, family.id)
    set_components(store, e.id, {"base": 76000, "classified": 12000}, "2027-03", "重病")
    t = active(store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理")
    set_components(store, t.id, {"base": 65000, "care": 15000}, "2027-03", "核定护理费")
    db = store.path
    store.close()
    out = subprocess.run(
        [sys.executable, "-m", "mzdesk", "stats", "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    active_now = json.loads(out)["active_enrolments"]
    assert active_now["rural_dibao"] == {
        "households": 1,
        "persons": 3,
        "monthly_fen": 88000,
        "components_fen": {"base": 76000, "classified": 12000},
        "by_class": {"二类": 3},
    }
    assert active_now["tekun"]["components_fen"] == {"base": 65000, "care": 15000}
    for entry in active_now.values():
        assert sum(entry["components_fen"].values()) == entry["monthly_fen"]


def cli(capsys, *args, ok=True) -> str:
    """``mzdesk ARGS`` in this process: its stdout, or its one-line error."""
    from mzdesk.cli import main

    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert (code == 0) == ok, (code, out, err)
    if not ok:
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        return err
    return out


def test_change_amount_and_parts_from_the_cli(store, family, clock, capsys):
    clock(dt.date(2027, 2, 20))
    e = active(store, family.id)
    db = str(store.path)
    store.close()
    args = ["enrol", "change-amount", "--db", db, str(e.id)]
    out = cli(capsys, *args, "--from", "2027-03", "--classified", "120", "--reason", "重病")
    assert "金额=880.00元" in out
    out = cli(capsys, "enrol", "parts", "--db", db, str(e.id), "--json")
    assert json.loads(out) == {"base": 76000, "classified": 12000}
    out = cli(capsys, "enrol", "parts", "--db", db, str(e.id), "--month", "2027-02")
    assert "分类施保金: 0.00元" in out and "合计: 760.00元" in out
    err = cli(capsys, *args, "--from", "2027/03", "--base", "1", "--reason", "x", ok=False)
    assert "月份格式" in err
    err = cli(capsys, *args, "--from", "2027-04", "--care", "1", "--reason", "x", ok=False)
    assert "不能包括" in err or "只能包括" in err


def test_v14_database_upgrades_with_its_amount_as_base(tmp_path):
    db = tmp_path / "v14.sqlite"
    shutil.copy(ROOT / "tests" / "fixtures" / "schema_v14.sqlite", db)
    store = Store.open(db, operator="tester")
    ((eid, fen),) = store.conn.execute("SELECT id, monthly_fen FROM enrolments").fetchall()
    rows = store.conn.execute(
        "SELECT component, fen, from_month, to_month, created_by FROM enrolment_components"
    ).fetchall()
    assert rows == [("base", fen, "", None, "mzdesk 升级")]
    assert in_force(store, eid)["base"] == fen and sum(in_force(store, eid).values()) == fen
    # the new rows travel: queued in the change log with a uid every site derives alike
    uid = store.scalar("SELECT uid FROM enrolments WHERE id = ?", (eid,))
    assert (
        store.scalar(
            "SELECT count(*) FROM sync_changes WHERE tbl = 'enrolment_components' AND uid = ?",
            (f"base-{uid}",),
        )
        == 1
    )
    assert registry_stats(store)["active_enrolments"] == {} or all(
        sum(v["components_fen"].values()) == v["monthly_fen"]
        for v in registry_stats(store)["active_enrolments"].values()
    )
    store.close()


def test_a_roster_imports_its_single_amount_as_base(store, tmp_path):
    from mzdesk.roster.importer import import_roster
    from tests.helpers import make_id
    from tests.roster.books import member_per_row

    book = tmp_path / "花名册.xlsx"
    member_per_row(
        book,
        [{"village": "甲村", "amount": 900, "members": [("甲", "户主", make_id("19600101", 9))]}],
    )
    import_roster(store, book, month=dt.date(2026, 11, 1))
    (eid,) = [r[0] for r in store.conn.execute("SELECT id FROM enrolments")]
    assert in_force(store, eid) == {"base": 90000, "classified": 0}
    assert paid_enrolments(store, dt.date(2026, 11, 1))[0]["components_fen"]["base"] == 90000


def test_the_notice_shows_the_parts_only_where_the_county_asks(store, family, single, monkeypatch):
    from mzdesk.models import components
    from mzdesk.models.notice import NoticeSpec, create_notice, get_notice
    from tests.enrolment.conftest import HOTLINE, ready

    e = ready(store, family.id)
    set_components(store, e.id, {"base": 76000, "classified": 12000})
    t = ready(store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理")
    set_components(store, t.id, {"base": 65000, "care": 15000})
    shipped = components.settings()
    monkeypatch.setattr(components, "settings", lambda: {**shipped, "notice_shows_parts": True})
    nid = create_notice(store, NoticeSpec(start=dt.date(2026, 12, 1), hotline=HOTLINE), [e.id])
    (item,) = get_notice(store, nid).items
    assert item.category_label == "农村低保 二类（保障金760.00+分类施保金120.00）"
    assert item.monthly_fen == 88000
    monkeypatch.setattr(components, "settings", lambda: shipped)  # as shipped: the total only
    nid = create_notice(store, NoticeSpec(start=dt.date(2026, 12, 1), hotline=HOTLINE), [t.id])
    (item,) = get_notice(store, nid).items
    assert item.category_label == "特困 全自理" and item.monthly_fen == 80000
