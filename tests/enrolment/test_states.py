"""States and events of issue 21 (models/enrolment_states.py): 不予受理, 暂停 → 恢复 with 补发,
渐退期, 户主变更/户主死亡 — through the service, the 清册, the statistics and the CLI."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from mzdesk.models import enrolment as enr
from mzdesk.models import enrolment_states as st
from mzdesk.models.categories import state_label
from mzdesk.models.components import set_components
from mzdesk.models.errors import MzError
from mzdesk.models.registry import Registry
from mzdesk.models.stats import registry_stats
from mzdesk.models.work_queues import queue
from mzdesk.roster.exporter import export_payment_roster
from mzdesk.roster.monthly import monthly_stats, paid_enrolments
from tests.enrolment.test_components import active, cli

ROOT = Path(__file__).resolve().parents[2]


def m(month: str) -> dt.date:
    return dt.date.fromisoformat(month + "-01")


def test_not_accepted_with_a_reason(store, family):
    e = enr.create(store, family.id, "rural_dibao", monthly_fen=76000, applied_on="2026-11-01")
    with pytest.raises(MzError, match="必须填写原因"):
        st.not_accept(store, e.id, "")
    e = st.not_accept(store, e.id, "户籍不在本镇", today=dt.date(2026, 11, 20))
    assert (e.state, state_label(e.state), e.end_on) == ("not_accepted", "不予受理", "2026-11-20")
    h = enr.history(store, e.id)[-1]
    assert (h["action"], h["reason"], h["by"]) == ("not_accept", "户籍不在本镇", "tester")
    with pytest.raises(enr.TransitionRefused, match="不能不予受理"):
        st.not_accept(store, e.id, "再次")
    # an end state: a new application in the category is allowed again
    assert enr.create(store, family.id, "rural_dibao").state == "applied"


def test_suspend_resume_pays_the_months_back_on_the_resume_month(store, family, tmp_path, clock):
    clock(dt.date(2027, 6, 20))
    e = active(store, family.id)  # 760 元 from 2027-01
    set_components(store, e.id, {"base": 76000, "classified": 9000}, "2027-02", "重病")
    with pytest.raises(MzError, match="必须填写原因"):
        st.suspend(store, e.id, "2027-03", "")
    e = st.suspend(store, e.id, "2027-03", "长期外出，待核实")
    assert (e.state, state_label(e.state)) == ("suspended", "暂停")
    assert [r["id"] for r in paid_enrolments(store, m("2027-02"))] == [e.id]
    assert paid_enrolments(store, m("2027-03")) == []
    assert monthly_stats(store, m("2027-04"))["total"]["monthly_fen"] == 0
    assert "rural_dibao" not in registry_stats(store)["active_enrolments"]
    with pytest.raises(enr.TransitionRefused, match="恢复月份应晚于暂停月份"):
        st.resume(store, e.id, "2027-03")
    e = st.resume(store, e.id, "2027-06", "已回村核实")
    assert e.state == "active"
    d = enr.history(store, e.id)[-1]["detail"]
    assert (d["back_pay_months"], d["back_pay_fen"]) == (["2027-03", "2027-04", "2027-05"], 255000)
    # the 清册 of the resume month: the month's payment and the 补发 on its own line
    res = export_payment_roster(store, m("2027-06"), tmp_path / "6.xlsx", category="rural_dibao")
    assert (res["total_fen"], res["back_pay_fen"]) == (85000 + 255000, 255000)
    rows = list(openpyxl.load_workbook(tmp_path / "6.xlsx").active.iter_rows(values_only=True))
    assert rows[3][7] == "补发2027-03至2027-05" and Decimal(str(rows[3][9])) == Decimal("2550")
    assert [Decimal(str(v)) for v in rows[3][10:]] == [Decimal("2280"), Decimal("270")]
    assert rows[-1][8] == 3  # persons once, not again for the 补发
    # the statistics: the suspended months were not paid when they fell
    stats = monthly_stats(store, m("2027-06"))["total"]
    assert stats["ytd_fen"] == 76000 + 85000 + 85000  # Jan, Feb, Jun
    assert stats["back_pay_fen"] == 255000  # beside the month's own amount
    assert (
        export_payment_roster(store, m("2027-07"), tmp_path / "7.xlsx").get("back_pay_fen") is None
    )


def test_suspend_and_resume_from_the_cli_reach_roster_export(
    store, family, tmp_path, clock, capsys
):
    clock(dt.date(2027, 6, 20))
    e = active(store, family.id)
    db = str(store.path)
    store.close()
    out = cli(
        capsys,
        "enrol",
        "suspend",
        "--db",
        db,
        str(e.id),
        "--from",
        "2027-03",
        "--reason",
        "银行卡挂失",
    )
    assert "状态=暂停" in out
    err = cli(capsys, "enrol", "suspend", "--db", db, str(e.id), "--from", "2027-04", ok=False)
    assert "reason" in err
    out = cli(capsys, "enrol", "resume", "--db", db, str(e.id), "--from", "2027-05")
    assert "补发2027-03至2027-04共2个月1520.00元" in out
    xlsx = tmp_path / "清册.xlsx"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mzdesk",
            "roster",
            "export",
            "--db",
            db,
            "--month",
            "2027-05",
            "--out",
            str(xlsx),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    rows = list(openpyxl.load_workbook(xlsx)["农村低保"].iter_rows(values_only=True))
    back = [r for r in rows if str(r[7] or "").startswith("补发")]
    assert len(back) == 1 and Decimal(str(back[0][9])) == Decimal("1520")
    assert Decimal(str(rows[-1][9])) == Decimal("2280")


def test_phase_out_pays_its_months_then_waits_in_the_queue(store, family, clock, capsys):
    clock(dt.date(2027, 3, 10))
    e = active(store, family.id)
    with pytest.raises(MzError, match="渐退期应为"):
        st.phase_out(store, e.id, "2027-04", "务工收入增加", months=0)
    e = st.phase_out(store, e.id, "2027-04", "务工收入增加", months=3)
    assert (e.state, state_label(e.state), e.end_on) == ("phasing_out", "渐退期", None)
    assert registry_stats(store)["active_enrolments"]["rural_dibao"]["monthly_fen"] == 76000
    assert [r["id"] for r in paid_enrolments(store, m("2027-06"))] == [e.id]
    assert paid_enrolments(store, m("2027-07")) == []  # stops by itself
    assert queue(store, "phase_out_due", today=dt.date(2027, 6, 30)) == []
    clock(dt.date(2027, 6, 15))
    with pytest.raises(enr.TransitionRefused, match="期满后才能停发"):
        st.finish_phase_out(store, e.id, today=dt.date(2027, 6, 15))
    due = queue(store, "phase_out_due", today=dt.date(2027, 7, 2))
    assert [(r["id"], r["state_name"]) for r in due] == [(e.id, "渐退期")]
    db = str(store.path)
    store.close()
    clock(dt.date(2027, 7, 2))
    out = cli(capsys, "enrol", "list", "--db", db, "--queue", "phase_out_due")
    assert "渐退期" in out and "共 1 条" in out
    out = cli(capsys, "enrol", "phase-out-end", "--db", db, str(e.id), "--date", "2027-07-02")
    assert "状态=停发" in out
    from mzdesk.models.store import Store

    s = Store.open(db)
    e = enr.get(s, e.id)
    assert (e.end_on, e.notice_pending, e.stop_reason) == ("2027-06-30", "stop", "渐退期满")
    s.close()


def test_phase_out_from_the_cli(store, family, clock, capsys):
    clock(dt.date(2027, 3, 10))
    e = active(store, family.id)
    db = str(store.path)
    store.close()
    out = cli(
        capsys,
        "enrol",
        "phase-out",
        "--db",
        db,
        str(e.id),
        "--from",
        "2027-04",
        "--reason",
        "务工收入增加",
    )
    assert "状态=渐退期" in out


def test_head_death_keeps_the_household_and_raises_review_tasks(store, family, single, clock):
    clock(dt.date(2027, 3, 10))
    e = active(store, family.id)
    spouse = next(x for x in family.members if x.relation == "配偶")
    with pytest.raises(MzError, match="必须填写原因"):
        st.change_head(store, family.id, spouse.id, "")
    out = st.change_head(
        store, family.id, spouse.id, "户主死亡", old_head_relation="配偶", head_died_on="2027-03-01"
    )
    assert [(x.id, x.state) for x in out] == [(e.id, "active")]
    h = Registry(store).get(family.id)
    assert [x.name for x in h.members if x.relation == "户主"] == ["李四妹"]
    last = enr.history(store, e.id)[-1]
    assert (last["action"], last["detail"]["new_head"]) == ("head_change", "李四妹")
    tasks = store.conn.execute(
        "SELECT kind, title, detail FROM followup_tasks WHERE household_id = ?", (family.id,)
    ).fetchall()
    assert len(tasks) == 1 and tasks[0][0] == "death_review" and "张三丰" in tasks[0][1]
    assert f"保障记录{e.id}" in tasks[0][2]
    assert paid_enrolments(store, m("2027-03"))[0]["recipient"] == "李四妹"


def test_a_members_death_flags_the_household_enrolment(store, family, clock):
    clock(dt.date(2027, 3, 10))
    e = active(store, family.id)
    reg = Registry(store)
    h = reg.get(family.id)
    child = next(x for x in h.members if x.relation == "孙子女")
    child.deceased_on = dt.date(2027, 3, 1)
    reg.save(h, today=dt.date(2027, 3, 10))
    reg.save(reg.get(family.id), today=dt.date(2027, 3, 10))  # saving again raises nothing new
    rows = store.conn.execute("SELECT item_key, detail FROM followup_tasks").fetchall()
    assert len(rows) == 1 and f"保障记录{e.id}" in rows[0][1] and "家庭" in rows[0][1]
