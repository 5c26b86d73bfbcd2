"""One-off payment runs through the service (mzdesk/models/payment_runs.py): who is in a run
(the paid-in-month rule), amounts per person and per household, states, the frozen list,
statistics, and the run's 清册 read back with openpyxl."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest

from mzdesk.models import enrolment_states as st
from mzdesk.models import payment_runs as pr
from mzdesk.models.errors import MzError, NotFound
from mzdesk.models.paid_month import paid_enrolments
from mzdesk.roster.run_roster import export_run_roster

JAN = "2027-01"


def test_a_run_takes_whom_the_month_pays_per_person(store, paid):
    dibao, tekun = paid
    run = pr.create_run(store, "春节一次性生活补贴", JAN, ["农村低保", "tekun"], 30000)
    assert (run.state, run.state_label, run.basis, run.categories) == (
        "draft",
        "草拟",
        "person",
        ["rural_dibao", "tekun"],
    )
    lines = pr.lines(store, run.id)
    paid_ids = {r["id"] for r in paid_enrolments(store, dt.date(2027, 1, 1))}
    assert {r["enrolment_id"] for r in lines} == paid_ids == {dibao.id, tekun.id}
    by = {r["enrolment_id"]: r for r in lines}
    assert (by[dibao.id]["persons"], by[dibao.id]["amount_fen"]) == (3, 90000)
    assert (by[tekun.id]["persons"], by[tekun.id]["amount_fen"]) == (1, 30000)
    assert by[dibao.id]["payee"] == "张三丰" and by[tekun.id]["payee"] == "王老五"
    s = pr.summary(store, run.id)
    assert (s["households"], s["persons"], s["amount_fen"], s["frozen"]) == (2, 4, 120000, False)
    assert s["by_category"]["rural_dibao"] == {
        "category_name": "农村低保",
        "households": 1,
        "persons": 3,
        "amount_fen": 90000,
    }
    # December 2026 pays no one yet (paid from January): an empty run cannot be confirmed
    dec = pr.create_run(store, "冬春救助", "2026-12", ["rural_dibao"], 20000)
    with pytest.raises(MzError, match="没有发放对象") as exc:
        pr.confirm_run(store, dec.id)
    assert exc.value.code == "run_empty"


def test_per_household_and_classes(store, paid):
    run = pr.create_run(
        store, "价格临时补贴", JAN, ["rural_dibao", "tekun"], 15050, basis="household"
    )
    assert [r["amount_fen"] for r in pr.lines(store, run.id)] == [15050, 15050]
    only = pr.create_run(store, "冬春救助", JAN, ["rural_dibao"], 10000, classes=["一类"])
    assert pr.lines(store, only.id) == []  # the family is 二类
    two = pr.create_run(store, "冬春救助二类", JAN, ["rural_dibao"], 10000, classes=["二类"])
    assert len(pr.lines(store, two.id)) == 1


def test_bad_input_is_refused_with_a_code(store, paid):
    cases = [
        (dict(name="", month=JAN, cats=["rural_dibao"], rate_fen=100), "name_required"),
        (dict(name="甲", month=JAN, cats=[], rate_fen=100), "category_required"),
        (dict(name="甲", month=JAN, cats=["无此类别"], rate_fen=100), "unknown_category"),
        (dict(name="甲", month=JAN, cats=["dibao_edge"], rate_fen=100), "category_not_paid"),
        (dict(name="甲", month=JAN, cats=["rural_dibao"], rate_fen=0), "bad_amount"),
        (dict(name="甲", month=JAN, cats=["rural_dibao"], rate_fen=10**9), "amount_too_large"),
        (dict(name="甲", month="2027-13", cats=["rural_dibao"], rate_fen=100), "bad_month"),
    ]
    for kw, code in cases:
        with pytest.raises(MzError) as exc:
            pr.create_run(store, **kw)
        assert exc.value.code == code, (kw, exc.value)
    with pytest.raises(MzError) as exc:
        pr.create_run(store, "甲", JAN, ["rural_dibao"], 100, basis="per_dog")
    assert exc.value.code == "bad_basis"
    pr.create_run(store, "春节一次性生活补贴", JAN, ["rural_dibao"], 100)
    with pytest.raises(MzError, match="请勿重复创建"):
        pr.create_run(store, "春节一次性生活补贴", JAN, ["tekun"], 100)
    with pytest.raises(NotFound):
        pr.get_run(store, 99)


def test_confirm_freezes_the_list_against_later_edits(store, paid, registry, family, clock):
    dibao, tekun = paid
    clock(dt.date(2027, 1, 25))
    run = pr.create_run(store, "春节一次性生活补贴", JAN, ["rural_dibao", "tekun"], 30000)
    run = pr.confirm_run(store, run.id, on=dt.date(2027, 1, 8))
    assert (run.state_label, run.confirmed_on, run.frozen) == ("已确认", "2027-01-08", True)
    before = pr.lines(store, run.id)
    # later: the account changes, the 特困 is suspended for January
    h = registry.get(family.id)
    h.bank_account = "6217000099998888777"
    registry.save(h)
    st.suspend(store, tekun.id, JAN, "外出，待核实")
    assert {r["id"] for r in paid_enrolments(store, dt.date(2027, 1, 1))} == {dibao.id}
    assert pr.lines(store, run.id) == before  # frozen
    assert before[0]["bank_account"] == "6228480012345678901"
    # a new draft of the same month follows today's rule
    again = pr.create_run(store, "春节补充", JAN, ["rural_dibao", "tekun"], 30000)
    assert [r["enrolment_id"] for r in pr.lines(store, again.id)] == [dibao.id]


def test_states_draft_confirmed_paid_or_void(store, paid):
    run = pr.create_run(store, "春节一次性生活补贴", JAN, ["rural_dibao"], 30000)
    with pytest.raises(MzError, match="只有已确认的") as exc:
        pr.mark_paid(store, run.id)
    assert exc.value.code == "run_state"
    pr.confirm_run(store, run.id, on=dt.date(2027, 1, 8))
    with pytest.raises(MzError, match="只有草拟的可以确认"):
        pr.confirm_run(store, run.id)
    with pytest.raises(MzError, match="不能早于确认日期"):
        pr.mark_paid(store, run.id, on=dt.date(2027, 1, 7))
    run = pr.mark_paid(store, run.id, on=dt.date(2027, 1, 20))
    assert (run.state_label, run.paid_on) == ("已发放", "2027-01-20")
    with pytest.raises(MzError, match="不能作废"):
        pr.void_run(store, run.id, "重复发放")
    other = pr.create_run(store, "价格临时补贴", JAN, ["rural_dibao"], 5000)
    with pytest.raises(MzError, match="作废必须填写原因"):
        pr.void_run(store, other.id, " ")
    other = pr.void_run(store, other.id, "标准未定")
    assert (other.state_label, other.void_reason) == ("作废", "标准未定")
    # a voided run's name may be used again
    pr.create_run(store, "价格临时补贴", JAN, ["rural_dibao"], 6000)
    assert [r.name for r in pr.list_runs(store, state="作废")] == ["价格临时补贴"]
    assert len(pr.list_runs(store, month=dt.date(2027, 1, 1))) == 3


def test_month_runs_counts_only_confirmed_and_paid(store, paid):
    a = pr.create_run(store, "春节一次性生活补贴", JAN, ["rural_dibao", "tekun"], 30000)
    pr.create_run(store, "草拟的", JAN, ["rural_dibao"], 100)
    assert pr.month_runs(store, JAN) == []
    pr.confirm_run(store, a.id)
    [r] = pr.month_runs(store, dt.date(2027, 1, 1))
    assert (r["name"], r["state"], r["households"], r["persons"], r["amount_fen"]) == (
        "春节一次性生活补贴",
        "confirmed",
        2,
        4,
        120000,
    )
    assert pr.month_runs(store, "2027-02") == []


def test_the_runs_roster_reads_back_with_text_ids_and_exact_totals(store, paid, tmp_path):
    run = pr.create_run(store, "春节一次性生活补贴", JAN, ["rural_dibao", "tekun"], 30050)
    out = tmp_path / "春节清册.xlsx"
    with pytest.raises(MzError, match="确认后名单才固定") as exc:
        export_run_roster(store, run.id, out)
    assert exc.value.code == "run_not_confirmed" and not out.exists()
    pr.confirm_run(store, run.id)
    res = export_run_roster(store, run.id, out)
    assert res == {"rows": 2, "households": 2, "persons": 4, "total_fen": 120200}
    ws = openpyxl.load_workbook(out).active
    rows = list(ws.iter_rows())
    assert "春节一次性生活补贴发放清册" in rows[0][0].value and "2027年1月" in rows[0][0].value
    header = [c.value for c in rows[1]]
    assert header[4] == "身份证号码" and header[6] == "银行账号" and header[9] == "金额(元)"
    data = rows[2:-1]
    for row in data:
        assert row[4].number_format == row[6].number_format == "@"  # text, even when empty
        for cell in (row[4], row[6]):
            if cell.value is not None:  # 王老五 has no bank account
                assert cell.data_type == "s" and isinstance(cell.value, str)
    ids = {r[3].value: r[4].value for r in data}
    assert (
        ids["张三丰"] == store.scalar("SELECT id_number FROM members WHERE name = '张三丰'")
        and len(ids["张三丰"]) == 18
    )
    assert [r[6].value for r in data if r[3].value == "张三丰"] == ["6228480012345678901"]
    amounts = [Decimal(str(r[9].value)) for r in data]
    assert sorted(amounts) == [Decimal("300.50"), Decimal("901.50")]
    total = rows[-1]
    assert (total[0].value, total[1].value, total[8].value) == ("合计", "2户", 4)
    assert Decimal(str(total[9].value)) == sum(amounts) == Decimal("1202.00")
    assert total[9].number_format == "0.00"
