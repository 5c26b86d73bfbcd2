"""高龄津贴 survival checks (生存认证) twice a year: the queue, the record, the stop proposal
and its confirmation through the lifecycle, in the service and the CLI."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from mzdesk.models import enrolment as enr
from mzdesk.models import survival
from mzdesk.models.errors import MzError
from mzdesk.models.work_queues import queue
from tests.enrolment.test_components import cli
from tests.reviews.conftest import active, elderly, run_cli


def test_half_years_and_their_deadlines():
    assert survival.period_of(dt.date(2027, 6, 30)) == "2027-H1"
    assert survival.period_of(dt.date(2027, 7, 1)) == "2027-H2"
    assert survival.bounds("2027-H1") == (
        dt.date(2027, 1, 1),
        dt.date(2027, 6, 30),
        dt.date(2027, 6, 30),
    )
    assert survival.previous("2027-H1") == "2026-H2"
    with pytest.raises(MzError, match="认证期应写作"):
        survival.bounds("2027-H3")


def test_queue_record_and_stop_proposal(store, family, single, clock):
    clock(dt.date(2027, 3, 10))
    a, b = elderly(store, single), elderly(store, family)
    dibao = active(store, family.id)  # not a survival category: never listed
    today = dt.date(2027, 3, 10)
    assert {r["id"] for r in survival.due(store, today=today)} == {a.id, b.id}
    assert {r["id"] for r in queue(store, "survival_due", today=today)} == {a.id, b.id}
    assert dibao.id not in {r["id"] for r in queue(store, "survival_due", today=today)}

    with pytest.raises(MzError, match="认证方式应为"):
        survival.record_check(store, a.id, "phone", on="2027-03-01")
    with pytest.raises(MzError, match="不需要生存认证"):
        survival.record_check(store, dibao.id, "visit", on="2027-03-01")
    r = survival.record_check(store, a.id, "video", on="2027-03-01", note="视频通话")
    assert (r["period"], r["method"]) == ("2027-H1", "video")
    assert [x["id"] for x in survival.due(store, today=today)] == [b.id]
    assert [x["id"] for x in queue(store, "survival_due", today=today)] == [b.id]
    # before the deadline there is no proposal yet (the last past half-year is 2026-H2,
    # when neither was paid yet)
    assert survival.stop_proposals(store, "2027-H1", today=today) == []
    with pytest.raises(MzError, match="不在停发建议中"):
        survival.confirm_stop(store, b.id, "2027-H1", today=today)

    clock(dt.date(2027, 7, 5))
    later = dt.date(2027, 7, 5)
    # a new half-year: both are due again
    assert {x["id"] for x in queue(store, "survival_due", today=later)} == {a.id, b.id}
    proposals = survival.stop_proposals(store, today=later)  # 2027-H1, past its deadline
    assert [(p["id"], p["period"], p["overdue"]) for p in proposals] == [(b.id, "2027-H1", True)]
    with pytest.raises(MzError, match="不在停发建议中"):
        survival.confirm_stop(store, a.id, today=later)  # confirmed in time
    e = survival.confirm_stop(store, b.id, today=later)
    assert (e.state, e.end_on, e.notice_pending) == ("stopped", "2027-07-31", "stop")
    assert "2027-H1未在2027-06-30前完成生存认证" in e.stop_reason
    assert enr.history(store, b.id)[-1]["action"] == "stop"
    assert survival.stop_proposals(store, today=later) == []


def test_a_late_check_removes_the_proposal(store, single, clock):
    clock(dt.date(2027, 7, 5))
    a = elderly(store, single)
    assert [p["id"] for p in survival.stop_proposals(store, "2027-H1")] == [a.id]
    survival.record_check(store, a.id, "village", on="2027-06-20")  # recorded late
    assert survival.stop_proposals(store, "2027-H1") == []
    assert [c["method"] for c in survival.checks(store, a.id)] == ["village"]


def test_survival_from_the_cli(store, single, clock, capsys):
    clock(dt.date(2027, 7, 5))
    a = elderly(store, single)
    db = str(store.path)
    store.close()
    rows = json.loads(cli(capsys, "review", "survival-queue", "--db", db, "--json"))
    assert [r["id"] for r in rows] == [a.id] and rows[0]["period"] == "2027-H2"
    rows = json.loads(cli(capsys, "review", "survival-stop", "--db", db, "--json"))
    assert [(r["id"], r["period"]) for r in rows] == [(a.id, "2027-H1")]
    err = cli(
        capsys, "review", "survival-record", str(a.id), "--db", db, "--method", "fax", ok=False
    )
    assert "fax" in err
    out = cli(
        capsys,
        "review",
        "survival-record",
        str(a.id),
        "--db",
        db,
        "--method",
        "visit",
        "--on",
        "2027-07-02",
    )
    assert "2027-H2 已认证（上门，2027-07-02）" in out
    assert json.loads(cli(capsys, "review", "survival-queue", "--db", db, "--json")) == []
    out = cli(capsys, "review", "survival-stop", "--db", db, "--confirm", str(a.id))
    assert "已停发（发放至2027-07-31）" in out


def test_survival_queue_as_a_real_process(store, single):
    db = str(store.path)
    store.close()
    proc = run_cli("review", "survival-queue", "--db", db, "--period", "2026-H2", "--json")
    assert json.loads(proc.stdout) == []
    proc = run_cli("review", "survival-queue", "--db", db, "--period", "2026-X", check=False)
    assert proc.returncode == 1 and "认证期应写作" in proc.stderr


def test_the_queues_from_enrol_list(store, single, clock, capsys):
    clock(dt.date(2027, 3, 10))
    a = elderly(store, single)
    db = str(store.path)
    store.close()
    rows = json.loads(cli(capsys, "enrol", "list", "--db", db, "--queue", "survival_due", "--json"))
    assert [r["id"] for r in rows] == [a.id]
    rows = json.loads(
        cli(capsys, "enrol", "list", "--db", db, "--queue", "round_pending", "--json")
    )
    assert rows == []
