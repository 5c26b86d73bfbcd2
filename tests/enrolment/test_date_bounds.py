"""Dates within reason, through the services and through the command line (issue 18, item 5).

Every date here is computed from the real today: the command-line cases run a real
``mzdesk`` process, whose clock is the machine's.  A refused date changes nothing: the
``.dump`` of the database is the same before and after.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mzdesk.models import enrolment as enr
from mzdesk.models import notice as nt
from mzdesk.models.categories import add_local_category
from mzdesk.models.errors import MzError, ValidationError
from tests.enrolment.conftest import HOTLINE

ROOT = Path(__file__).resolve().parents[2]
T = dt.date.today()


def days(n: int) -> dt.date:
    return T + dt.timedelta(days=n)


def dump_hash(conn: sqlite3.Connection) -> str:
    return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()


@pytest.fixture(autouse=True)
def real_clock(monkeypatch):
    """The services' clock is pinned to ``T``, the today the dates here are computed from:
    a run that crosses midnight would otherwise compare yesterday's dates with today."""
    monkeypatch.setattr("mzdesk.models.dates.current_day", lambda: T)
    monkeypatch.setattr("mzdesk.models.notice._today", lambda: T)


def applied(store, household_id, on=-90):
    return enr.create(
        store, household_id, "rural_dibao", cls="二类", monthly_fen=76000, applied_on=days(on)
    )


def reviewed(store, household_id):
    e = applied(store, household_id)
    enr.start_investigation(store, e.id)
    enr.record_investigation(store, e.id, ["刘干事", "陈干事"], "核对通过", days(-80))
    return enr.deliberate(store, e.id, 12, "同意", days(-75))


def active(store, household_id):
    """Confirmed 50 days ago: payment started the month after."""
    e = reviewed(store, household_id)
    nt.create_notice(
        store,
        nt.NoticeSpec(start=days(-70), hotline=HOTLINE),
        enrolment_ids=[e.id],
        today=days(-70),
    )
    enr.submit(store, e.id, today=days(-60))
    return enr.confirm(store, e.id, today=days(-50))


def refused(store, call, match: str, code: str | None = None) -> MzError:
    before = dump_hash(store.conn)
    with pytest.raises(MzError, match=match) as exc:
        call()
    assert dump_hash(store.conn) == before
    if code:
        assert exc.value.code == code
    return exc.value


# -- through the services --------------------------------------------------------------------
@pytest.mark.parametrize(
    "on, message",
    [
        ("1900-01-01", "申请日期不能早于1990-01-01"),
        ("2099-01-01", "申请日期不能晚于今天"),
        (days(1), "申请日期不能晚于今天"),
    ],
)
def test_application_dates_within_reason(store, family, on, message):
    refused(
        store,
        lambda: enr.create(store, family.id, "rural_dibao", applied_on=on),
        message,
        "validation",
    )
    assert enr.create(store, family.id, "rural_dibao", applied_on=T).applied_on == T.isoformat()


def test_an_application_is_not_before_the_person_was_born(store, registry):
    from tests.helpers import household, make_id

    born = days(-400)
    h = registry.save(
        household("红旗村", ("孤儿甲", "户主", make_id(born.strftime("%Y%m%d"), 7))), today=T
    )
    member = h.members[0].id
    refused(
        store,
        lambda: enr.create(store, h.id, "orphan", member_id=member, applied_on=days(-401)),
        "不能早于出生日期",
    )
    enr.create(store, h.id, "orphan", member_id=member, applied_on=born)


def test_survey_and_deliberation_follow_the_application(store, family):
    e = applied(store, family.id, on=-30)
    enr.start_investigation(store, e.id)
    refused(
        store,
        lambda: enr.record_investigation(store, e.id, ["刘", "陈"], "通过", days(-31)),
        "入户调查日期不能早于申请日期",
    )
    refused(
        store,
        lambda: enr.record_investigation(store, e.id, ["刘", "陈"], "通过", days(1)),
        "入户调查日期不能晚于今天",
    )
    enr.record_investigation(
        store, e.id, ["刘", "陈"], "通过", "{0.year}年{0.month}月{0.day}日".format(days(-20))
    )  # typed the Chinese way
    refused(
        store,
        lambda: enr.deliberate(store, e.id, 12, "同意", days(-21)),
        "民主评议日期不能早于入户调查日期",
    )
    assert enr.deliberate(store, e.id, 12, "同意", days(-20)).state == "reviewed"


def test_a_stop_is_never_before_the_confirmation_nor_far_ahead(store, family):
    e = active(store, family.id)
    confirmed = days(-50).isoformat()
    refused(
        store,
        lambda: enr.stop(store, e.id, "迁出", today=dt.date(1900, 1, 1)),
        "停发日期不能早于1990-01-01",
        "validation",
    )
    refused(
        store,
        lambda: enr.stop(store, e.id, "迁出", today=days(-51)),
        f"停发日期不能早于审核确认日期{confirmed}",
    )
    refused(
        store, lambda: enr.stop(store, e.id, "迁出", today=dt.date(2100, 1, 1)), "停发日期不能晚于"
    )
    refused(store, lambda: enr.stop(store, e.id, "迁出", today=days(32)), "今天起31天内")
    e = enr.stop(store, e.id, "迁出", today=days(31))  # a stop agreed now for next month
    assert e.state == "stopped"


def test_an_imported_enrolment_is_not_stopped_before_it_started(store, family):
    """No confirmation on record (a roster import): the start is the bound."""
    e = enr.create(store, family.id, "rural_dibao", applied_on=days(-400))
    store.conn.execute(
        "UPDATE enrolments SET state = 'active', start_on = ? WHERE id = ?",
        (days(-300).isoformat(), e.id),
    )
    refused(
        store,
        lambda: enr.stop(store, e.id, "死亡", today=days(-301)),
        f"停发日期不能早于开始享受日期{days(-300)}",
    )
    assert enr.stop(store, e.id, "死亡", today=days(-300)).state == "stopped"


def test_a_review_is_not_in_2100_nor_before_the_last_one(store, family):
    e = active(store, family.id)
    refused(
        store,
        lambda: enr.review(store, e.id, "keep", today=dt.date(2100, 1, 1)),
        "复核日期不能晚于",
    )
    refused(
        store,
        lambda: enr.review(store, e.id, "change", today="2100-01-01", monthly_fen=1),
        "复核日期不能晚于",
    )
    refused(
        store,
        lambda: enr.review(store, e.id, "stop", today=days(-55), reason="x"),
        "复核日期不能早于审核确认日期",
    )
    e = enr.review(store, e.id, "change", today=days(-10), monthly_fen=50000, reason="收入增加")
    # a later change dated before it would rewrite the months it already decided
    refused(
        store,
        lambda: enr.review(store, e.id, "change", today=days(-20), monthly_fen=1),
        f"复核日期不能早于上次复核日期{days(-10)}",
    )
    refused(store, lambda: enr.stop(store, e.id, "迁出", today=days(-11)), "上次复核日期")


def test_submit_confirm_and_reject_dates_are_bounded(store, family, single):
    e = reviewed(store, family.id)
    nt.create_notice(
        store,
        nt.NoticeSpec(start=days(-70), hotline=HOTLINE),
        enrolment_ids=[e.id],
        today=days(-70),
    )
    refused(
        store, lambda: enr.submit(store, e.id, today=dt.date(2099, 1, 1)), "报送审核日期不能晚于"
    )
    enr.submit(store, e.id, today=days(-60))
    refused(
        store, lambda: enr.confirm(store, e.id, today=dt.date(2099, 1, 1)), "审核确认日期不能晚于"
    )
    refused(
        store,
        lambda: enr.reject(store, e.id, "收入超标", today=dt.date(1900, 1, 1)),
        "不予确认日期不能早于",
    )
    refused(
        store,
        lambda: enr.reject(store, e.id, "收入超标", today=days(-91)),
        "不予确认日期不能早于申请日期",
    )


def test_a_local_category_cannot_put_the_next_review_in_the_next_century(store):
    refused(
        store,
        lambda: add_local_category(store, "county_x", "县补贴", review_months=1200),
        "复核周期应为0至24个月",
    )
    add_local_category(store, "county_x", "县补贴", review_months=24)


@pytest.mark.parametrize(
    "start, message",
    [
        (dt.date(2099, 1, 1), "公示开始日期不能晚于"),
        (days(31), "今天起30天内"),
    ],
)
def test_a_notice_starts_at_most_a_month_ahead(store, family, start, message):
    reviewed(store, family.id)
    err = refused(
        store, lambda: nt.create_notice(store, nt.NoticeSpec(start=start, hotline=HOTLINE)), message
    )
    assert isinstance(err, ValidationError) and err.problems[0].field == "start"
    assert nt.create_notice(store, nt.NoticeSpec(start=days(30), hotline=HOTLINE))


def test_a_notice_issued_far_from_today_is_refused(store, family):
    reviewed(store, family.id)
    spec = nt.NoticeSpec(start=T, hotline=HOTLINE, issued_on=dt.date(2099, 1, 1))
    refused(store, lambda: nt.create_notice(store, spec), "公示落款日期不能晚于")


def test_a_paper_notice_is_not_recorded_as_posted_before_the_home_visit(store, family):
    e = applied(store, family.id, on=-30)
    enr.start_investigation(store, e.id)
    enr.record_investigation(store, e.id, ["刘干事", "陈干事"], "核对通过", days(-10))
    enr.deliberate(store, e.id, 12, "同意", days(-5))
    spec = nt.NoticeSpec(start=days(-11), hotline=HOTLINE, backdate_reason="已张贴")
    err = refused(
        store,
        lambda: nt.create_notice(store, spec),
        f"公示开始日期不能早于保障记录{e.id}的入户调查日期{days(-10)}",
    )
    assert err.problems[0].field == "start"
    spec.start = days(-10)
    assert nt.create_notice(store, spec)


def test_an_objection_is_not_dated_in_the_future(store, family):
    e = reviewed(store, family.id)
    nid = nt.create_notice(
        store, nt.NoticeSpec(start=days(-3), hotline=HOTLINE, backdate_reason="已张贴")
    )
    refused(
        store,
        lambda: nt.add_objection(store, nid, e.id, "甲", "乙", raised_on=days(1)),
        "异议日期不能晚于今天",
    )
    assert nt.add_objection(store, nid, e.id, "甲", "乙", raised_on=T)


def test_a_relative_declared_in_1900_is_refused(store):
    from mzdesk.models import relatives
    from tests.helpers import make_id

    refused(
        store,
        lambda: relatives.declare(
            store,
            "王村长",
            "cadre",
            "红旗村",
            "王小",
            make_id("19800101", 3),
            "child",
            declared_on=dt.date(1900, 1, 1),
        ),
        "备案日期不能早于1990-01-01",
    )


def test_a_visit_in_1900_or_tomorrow_is_refused(store, registry):
    from mzdesk.models.visits import Visit, Visits
    from tests.helpers import household, make_id

    h = registry.save(household("红旗村", ("张一", "户主", make_id("19600101", 1))), today=T)
    for day, message in (
        (dt.date(1900, 1, 1), "入户日期不能早于1990-01-01"),
        (days(1), "入户日期不能晚于今天"),
    ):
        v = Visit(h.id, day, ["刘干事", "陈干事"], conclusion="情况属实")
        _, problems = Visits(store).validate(v, today=T)
        assert message in [p.message for p in problems if p.field == "visit_date"][0]


def test_a_death_before_1890_is_refused(registry, store):
    from tests.helpers import household, make_id

    h = household("红旗村", ("张一", "户主", make_id("19600101", 1)), ("张二", "配偶", ""))
    h.members[1].id_pending = True
    h.members[1].deceased_on = dt.date(1800, 1, 1)
    refused(store, lambda: registry.save(h, today=T), "死亡日期不能早于1890-01-01")


# -- through the command line: one line, non-zero exit, nothing changed ----------------------------
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


def file_hash(path) -> str:
    conn = sqlite3.connect(path)
    try:
        return dump_hash(conn)
    finally:
        conn.close()


def refused_by_cli(db, *args: str, message: str) -> None:
    before = file_hash(db)
    r = mzdesk(*args, "--db", str(db))
    assert r.returncode != 0, r.stdout
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err and "内部错误" not in err, err
    assert message in err, err
    assert file_hash(db) == before


def test_far_dates_from_the_command_line(store, family, single, tmp_path):
    reviewed(store, family.id)
    e = active(store, single.id)  # 王老五's household: a 低保 of its own
    db = store.path
    store.close()
    pdf = tmp_path / "n.pdf"
    refused_by_cli(
        db,
        "notice",
        "--out",
        str(pdf),
        "--start",
        "2099-01-01",
        "--hotline",
        HOTLINE,
        message="公示开始日期不能晚于",
    )
    assert not pdf.exists()
    refused_by_cli(
        db,
        "enrol",
        "stop",
        str(e.id),
        "--reason",
        "迁出",
        "--date",
        "1900-01-01",
        message="停发日期不能早于1990-01-01",
    )
    refused_by_cli(
        db,
        "enrol",
        "stop",
        str(e.id),
        "--reason",
        "迁出",
        "--date",
        days(-51).isoformat(),
        message="停发日期不能早于审核确认日期",
    )
    refused_by_cli(
        db,
        "enrol",
        "review",
        str(e.id),
        "--outcome",
        "keep",
        "--date",
        "2100-01-01",
        message="复核日期不能晚于",
    )
    for on, message in (
        ("1900-01-01", "申请日期不能早于1990-01-01"),
        ("2099-01-01", "申请日期不能晚于今天"),
    ):
        refused_by_cli(
            db,
            "enrol",
            "apply",
            "--household",
            str(family.id),
            "--category",
            "temporary",
            "--date",
            on,
            message=message,
        )
    # and a date within reason goes through
    r = mzdesk(
        "enrol", "review", str(e.id), "--outcome", "keep", "--date", T.isoformat(), "--db", str(db)
    )
    assert r.returncode == 0 and "状态=在保" in r.stdout, r.stderr


# -- check: stored dates out of bounds ---------------------------------------------------------
def test_check_flags_stored_dates_out_of_bounds_without_personal_data(store, family, single):
    from mzdesk.models.checks import run_checks

    e = active(store, family.id)
    t = enr.create(store, single.id, "temporary", applied_on=days(-5))
    _, findings = run_checks(store, T)
    assert [f for f in findings if f.code.startswith("date_")] == []
    # written behind the services' back (an old version, a raw sqlite3 session)
    store.conn.execute(
        "UPDATE enrolments SET state = 'stopped', end_on = '1900-01-31', "
        "review_due = '2100-01-01' WHERE id = ?",
        (e.id,),
    )
    store.conn.execute("UPDATE enrolments SET applied_on = '2026/3/1' WHERE id = ?", (t.id,))
    store.conn.execute("UPDATE notices SET end_on = '2099-01-01'")
    store.conn.execute(
        "UPDATE members SET deceased_on = '1880-05-01' WHERE household_id = ? "
        "AND relation = '配偶'",
        (family.id,),
    )
    _, findings = run_checks(store, T)
    got = {(f.code, f.message, f.household_id) for f in findings if f.code.startswith("date_")}
    assert got == {
        ("date_before_floor", f"停发日期早于1990-01-01（enrolments 第{e.id}条）", family.id),
        (
            "date_far_future",
            f"下次复核日期晚于{days(3 * 366)}（今天起1098天以后）（enrolments 第{e.id}条）",
            family.id,
        ),
        (
            "date_unreadable",
            f"申请日期不是有效日期（应为 YYYY-MM-DD）（enrolments 第{t.id}条）",
            single.id,
        ),
        ("date_far_future", f"公示结束日期晚于{days(90)}（今天起90天以后）（notices 第1条）", None),
        ("date_before_floor", "死亡日期早于1890-01-01（members 第2条）", family.id),
        ("date_out_of_order", f"停发日期早于开始享受日期（enrolments 第{e.id}条）", family.id),
        ("date_out_of_order", "死亡日期早于出生日期（members 第2条）", family.id),
    }
    text = " ".join(f.message for f in findings if f.code.startswith("date_"))
    for m in family.members:
        assert m.name not in text and m.id_number not in text


def test_a_roster_imported_as_paid_from_2099_is_refused(store, tmp_path):
    from tests.helpers import make_id
    from tests.roster.books import member_per_row

    roster = tmp_path / "roster.xlsx"
    member_per_row(
        roster,
        [{"village": "甲村", "amount": 900, "members": [("甲", "户主", make_id("19600101", 1))]}],
    )
    db = store.path
    store.close()
    refused_by_cli(
        db,
        "roster",
        "import",
        str(roster),
        "--month",
        "2099-01",
        message="名册在保起始月份不能晚于",
    )
    refused_by_cli(
        db,
        "roster",
        "import",
        str(roster),
        "--month",
        "1900-01",
        message="年份应在2000至2100年之间",  # the month parser's own floor
    )
    month = T.strftime("%Y-%m")
    r = mzdesk("roster", "import", str(roster), "--month", month, "--db", str(db))
    assert r.returncode == 0, r.stderr
