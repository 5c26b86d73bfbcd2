"""The clocks through the service: what each application is due for, 延期, the county's
clock, the refusal's written notice, and ``check``'s findings."""

from __future__ import annotations

import datetime as dt

import pytest

from mzdesk.models import clocks
from mzdesk.models import enrolment as enr
from mzdesk.models import enrolment_states as states
from mzdesk.models.auth import PermissionDenied, add_operator, login
from mzdesk.models.checks import run_checks
from mzdesk.models.errors import MzError
from mzdesk.models.work_queues import deadlines
from mzdesk.reports.letters_pdf import write_letter


def _one(store, today, clock):
    rows = [r for r in clocks.due_items(store, today) if r["clock"] == clock]
    assert len(rows) == 1, rows
    return rows[0]


def test_decision_clock_runs_30_working_days_and_45_once_extended(store, applied):
    item = _one(store, dt.date(2026, 11, 5), "decision")
    assert item["due_on"] == "2026-11-19" and item["status"] == "running"
    assert item["days_left"] == 10 and item["name"] == "张三丰"
    assert _one(store, dt.date(2026, 11, 16), "decision")["status"] == "due"
    late = _one(store, dt.date(2026, 11, 23), "decision")
    assert late["status"] == "overdue" and late["days_left"] == -2
    weekend = _one(store, dt.date(2026, 11, 21), "decision")  # the Saturday after the due day
    assert weekend["status"] == "overdue" and weekend["days_left"] == -1
    done = clocks.extend(store, applied.id, "需补充调查外地房产", dt.date(2026, 11, 10))
    assert done["working_days"] == 45
    item = _one(store, dt.date(2026, 11, 23), "decision")
    assert item["extended"] and item["due_on"] == "2026-12-10" and item["status"] == "running"
    assert clocks.extended(store, applied.id)["reason"] == "需补充调查外地房产"
    assert enr.history(store, applied.id)[-1]["action"] == "extend"
    with pytest.raises(MzError, match="已经延期") as exc:
        clocks.extend(store, applied.id, "再延", dt.date(2026, 11, 11))
    assert exc.value.code == "already_extended"
    with pytest.raises(MzError) as exc:
        clocks.extend(store, applied.id, "  ")
    assert exc.value.code == "reason_required"


def test_the_clock_stops_with_the_decision_and_the_county_clock_starts_on_submit(store, applied):
    store.conn.execute("UPDATE enrolments SET state = 'submitted' WHERE id = ?", (applied.id,))
    enr.record_event(store, enr.get(store, applied.id), "submit", "", {}, 76000)
    store.conn.execute(
        "UPDATE enrolment_events SET at = '2026-11-02 09:00:00' WHERE action = 'submit'"
    )
    county = _one(store, dt.date(2026, 11, 17), "county_confirm")
    assert county["due_on"] == "2026-11-16" and county["status"] == "overdue"
    enr.reject(store, applied.id, "家庭人均收入高于低保标准", dt.date(2026, 11, 18))
    rows = clocks.due_items(store, dt.date(2026, 11, 19))
    assert [r["clock"] for r in rows] == ["refusal_notice"]
    assert rows[0]["due_on"] == "2026-11-23"  # Wednesday + 3 working days, over a weekend


def test_a_refusal_must_be_notified_in_writing_within_3_working_days(store, applied, tmp_path):
    states.not_accept(store, applied.id, "申请人户籍不在本镇", dt.date(2026, 10, 12))
    item = _one(store, dt.date(2026, 10, 20), "refusal_notice")
    assert item["due_on"] == "2026-10-15" and item["days_left"] == -3
    _, findings = run_checks(store, dt.date(2026, 10, 20))
    overdue = [f for f in findings if f.code == "refusal_notice_overdue"]
    assert len(overdue) == 1 and overdue[0].member == "张三丰"
    assert "已超期3个工作日" in overdue[0].message and "340000" not in overdue[0].message
    assert deadlines(store, dt.date(2026, 10, 20), "overdue")[0]["enrolment_id"] == applied.id
    write_letter(store, applied.id, "not_accept", tmp_path / "l.pdf", dt.date(2026, 10, 20))
    assert clocks.due_items(store, dt.date(2026, 10, 21)) == []
    _, findings = run_checks(store, dt.date(2026, 10, 21))
    assert not [f for f in findings if f.code.endswith("_overdue")]
    # refusals older than lookback_days (90) are history: off the queue
    states_rows = clocks.due_items(store, dt.date(2027, 3, 1))
    assert states_rows == []


def test_check_reports_an_overdue_decision_and_the_queue_filters(store, applied):
    _, findings = run_checks(store, dt.date(2026, 12, 1))
    codes = [f.code for f in findings if f.code.endswith("_overdue")]
    assert codes == ["decision_overdue"]
    assert deadlines(store, dt.date(2026, 11, 5), "overdue") == []
    assert deadlines(store, dt.date(2026, 11, 16), "due")[0]["days_left"] == 3
    assert len(deadlines(store, dt.date(2026, 11, 5))) == 1
    with pytest.raises(MzError) as exc:
        deadlines(store, show="soon")
    assert exc.value.code == "unknown_queue"


def test_extension_is_the_offices_decision(store, applied):
    add_operator(store, "admin", "管理员的密码123", "admin")
    add_operator(store, "li", "核查员的密码123", "field")
    login(store, "li", "核查员的密码123")
    with pytest.raises(PermissionDenied):
        clocks.extend(store, applied.id, "需补充材料")
    login(store, "admin", "管理员的密码123")
    enr.start_investigation(store, applied.id)
    states.not_accept(store, applied.id, "不符合条件", dt.date(2026, 10, 12))
    with pytest.raises(MzError) as exc:
        clocks.extend(store, applied.id, "需补充材料")
    assert exc.value.code == "not_extendable"
