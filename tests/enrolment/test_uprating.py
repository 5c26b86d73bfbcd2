"""提标 end to end (preview, confirm, the 清册 of the month), 补发 for months already paid."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from mzdesk.models import enrolment as enr
from mzdesk.models import recovery, standards, uprating
from mzdesk.models.errors import MzError
from mzdesk.roster.exporter import export_payment_roster
from tests.enrolment.test_checks import active

ROOT = Path(__file__).resolve().parents[2]
JAN, FEB, MAY = dt.date(2027, 1, 1), dt.date(2027, 2, 1), dt.date(2027, 5, 1)


def roster_total(store, month, tmp_path, category="rural_dibao") -> int:
    """The 清册's amount column read back from the file, in fen (the paid total:
    发放合计 once the amount comes in parts, 金额(元) before)."""
    out = tmp_path / f"清册{month:%Y%m}.xlsx"
    export_payment_roster(store, month, out, category=category)
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "序号")
    names = rows[header]
    col = names.index("发放合计(元)") if "发放合计(元)" in names else names.index("金额(元)")
    return sum(round(r[col] * 100) for r in rows[header + 1 :] if isinstance(r[0], int))


@pytest.fixture
def paid(store, family, single, clock):
    """Two enrolments in payment from 2027-01: 农村低保 of three (760 元), 特困 (500 元)."""
    clock(dt.date(2026, 12, 15))
    dibao = active(store, family.id)
    tekun = active(
        store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理", fen=50000
    )
    return dibao, tekun


def test_preview_then_confirm_and_the_month_roster_pays_the_new_amounts(
    store, paid, clock, tmp_path
):
    dibao, _ = paid
    clock(dt.date(2027, 1, 20))
    before = store.scalar("SELECT count(*) FROM enrolment_events")
    plan = uprating.preview(store, "rural_dibao", "rural", "2027-02", 480000, "year")
    assert (
        store.scalar("SELECT count(*) FROM enrolment_events") == before
    )  # a preview writes nothing
    assert plan["old_standard"] == "4310.00 元/人/年（2026-01起）"
    # (4800 − 4310) × 3 persons ÷ 12 = 122.5 → 123 元 more a month
    assert [(r["enrolment_id"], r["before_fen"], r["after_fen"]) for r in plan["rows"]] == [
        (dibao.id, 76000, 88300)
    ]
    assert plan["totals"] == {
        "enrolments": 1,
        "persons": 3,
        "before_fen": 76000,
        "after_fen": 88300,
        "delta_fen": 12300,
        "backpay_fen": 0,
        "blocked": 0,
    }
    done = uprating.confirm(store, "rural_dibao", "rural", "2027-02", 480000, "year")
    assert done["confirmed"] and done["effective"] == "2027-02"
    e = enr.get(store, dibao.id)
    assert e.monthly_fen == 88300 and e.review_due == dibao.review_due  # not a review
    assert e.notice_pending == "change"  # available for a notice
    last = enr.history(store, dibao.id)[-1]
    assert last["detail"]["uprating"] == {
        "kind": "增发",
        "from": "2027-02",
        "standard": "4800.00 元/人/年（2027-02起）",
    }
    assert last["reason"].startswith("提标增发")
    assert standards.in_effect(store, "rural_dibao", "rural", FEB).amount_fen == 480000
    # the 清册 of February pays the new amount, January's keeps the old
    assert roster_total(store, FEB, tmp_path) == 88300
    assert roster_total(store, JAN, tmp_path) == 76000
    # confirming the same 提标 twice does not add the rise twice
    again = uprating.confirm(store, "rural_dibao", "rural", "2027-02", 480000, "year")
    assert "不再重复计算" in again["rows"][0]["blocked"]
    assert enr.get(store, dibao.id).monthly_fen == 88300


def test_a_fixed_standard_sets_the_tekun_amount(store, paid, clock, tmp_path):
    _, tekun = paid
    clock(dt.date(2027, 1, 20))
    uprating.confirm(store, "tekun", "rural", "2027-02", 624000, "year")
    assert enr.get(store, tekun.id).monthly_fen == 52000  # 6240 元 ÷ 12
    assert roster_total(store, FEB, tmp_path, "tekun") == 52000


def test_a_standard_from_a_month_already_paid_owes_back_pay(store, paid, clock, tmp_path):
    dibao, _ = paid
    clock(dt.date(2027, 5, 10))  # February to April are paid
    plan = uprating.confirm(store, "rural_dibao", "rural", "2027-02", 480000, "year")
    assert plan["backpay_months"] == ["2027-02", "2027-03", "2027-04"]
    assert plan["totals"]["backpay_fen"] == 3 * 12300
    [bp] = recovery.list_records(store, "backpay")
    assert (bp.enrolment_id, bp.amount_fen, bp.due_month, bp.state_label) == (
        dibao.id,
        36900,
        "2027-05",
        "待补发",
    )
    assert [r.id for r in recovery.backpay_lines(store, MAY)] == [bp.id]
    assert recovery.backpay_lines(store, dt.date(2027, 4, 1)) == []
    assert roster_total(store, MAY, tmp_path) == 88300
    recovery.set_state(store, bp.id, "paid")
    assert recovery.backpay_lines(store, MAY) == []


def test_a_lower_standard_is_a_reduction(store, paid, clock):
    dibao, _ = paid
    clock(dt.date(2027, 1, 20))
    uprating.confirm(store, "rural_dibao", "rural", "2027-02", 400000, "year")
    # (4000 − 4310) × 3 ÷ 12 = −77.5 → −78 元
    assert enr.get(store, dibao.id).monthly_fen == 76000 - 7800
    assert enr.history(store, dibao.id)[-1]["detail"]["uprating"]["kind"] == "减发"


def test_later_decisions_are_left_for_a_person(store, paid, clock):
    dibao, _ = paid
    clock(dt.date(2027, 1, 20))
    plan = uprating.preview(store, "rural_dibao", "rural", "2026-12", 480000, "year")
    [row] = plan["rows"]
    assert "晚于提标月份" in row["blocked"] and row["after_fen"] == row["before_fen"]
    uprating.confirm(store, "rural_dibao", "rural", "2026-12", 480000, "year")
    assert enr.get(store, dibao.id).monthly_fen == 76000
    with pytest.raises(MzError, match="提标月份最晚为2027-02"):
        uprating.preview(store, "rural_dibao", "rural", "2027-03", 480000, "year")


def mzdesk(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "mzdesk", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def dump(path) -> str:
    conn = sqlite3.connect(path)
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()


def test_uprate_from_the_command_line_preview_confirm_roster(store, paid, tmp_path):
    """Real processes on today's calendar: from next month, the roster export shows it."""
    from mzdesk.models.payment_dates import add_months

    dibao, _ = paid
    db = str(store.path)
    store.close()
    nxt = add_months(dt.date.today().replace(day=1), 1)
    args = (
        "--category",
        "农村低保",
        "--area",
        "rural",
        "--from",
        f"{nxt:%Y-%m}",
        "--amount",
        "4800",
        "--per",
        "year",
    )
    before = dump(db)
    shown = mzdesk("uprate", "--db", db, *args, "--preview", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["totals"]["after_fen"] == 88300
    assert dump(db) == before  # --preview opens read-only and writes nothing
    done = mzdesk("uprate", "--db", db, *args, "--confirm")
    assert done.returncode == 0, done.stderr
    assert "已确认提标" in done.stdout and "760.00 → 883.00" in done.stdout
    out = tmp_path / "清册.xlsx"
    exp = mzdesk(
        "roster",
        "export",
        "--db",
        db,
        "--month",
        f"{nxt:%Y-%m}",
        "--category",
        "rural_dibao",
        "--out",
        str(out),
    )
    assert exp.returncode == 0, exp.stderr
    assert "合计 883.00 元" in exp.stdout
    bad = mzdesk("uprate", "--db", db, *args[:-2], "--per", "week")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
