"""后补追缴: money paid after a death or a late-recorded stop becomes a recovery record;
``check`` reports what is not recovered; the CLI lists and closes records."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from mzdesk.cli import main
from mzdesk.models import enrolment as enr
from mzdesk.models import recovery
from mzdesk.models.checks import run_checks
from mzdesk.models.errors import MzError
from tests.enrolment.test_checks import active

MAY10 = dt.date(2027, 5, 10)


@pytest.fixture
def tekun(store, single, clock):
    """特困 for 王老五, 500 元 a month from 2027-01."""
    clock(dt.date(2026, 12, 15))
    return active(
        store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理", fen=50000
    )


def die(registry, household_id, name, day):
    h = registry.get(household_id)
    for m in h.members:
        if m.name == name:
            m.deceased_on = day
    registry.save(h, today=MAY10)


def overpaid_codes(store, today):
    return [f for f in run_checks(store, today)[1] if f.code == "overpaid_unrecovered"]


def test_payment_after_a_death_becomes_a_recovery_record(store, registry, single, tekun, clock):
    clock(MAY10)
    assert recovery.find_overpayments(store) == []
    die(registry, single.id, "王老五", dt.date(2027, 2, 10))
    # February is paid (he lived into it); March and April were paid after the death
    [o] = recovery.find_overpayments(store)
    assert (o.enrolment_id, o.months, o.amount_fen) == (tekun.id, ["2027-03", "2027-04"], 100000)
    assert "2027-02-10死亡后仍发放" in o.cause
    [f] = overpaid_codes(store, MAY10)
    assert "多发未登记追缴：1000.00元" in f.message and f.member == "王老五"
    [r] = recovery.record_overpayments(store)
    assert (r.kind, r.state_label, r.months, r.amount_fen) == (
        "recovery",
        "待追缴",
        ["2027-03", "2027-04"],
        100000,
    )
    assert recovery.find_overpayments(store) == []  # recorded months are not found again
    assert "多发待追缴" in overpaid_codes(store, MAY10)[0].message
    # a month later, May was paid too: only May is new
    clock(dt.date(2027, 6, 3))
    [o] = recovery.find_overpayments(store)
    assert o.months == ["2027-05"]
    with pytest.raises(MzError, match="核销必须填写原因"):
        recovery.set_state(store, r.id, "written_off")
    recovery.set_state(store, r.id, "recovered", "家属已退回")
    with pytest.raises(MzError, match="不能再改"):
        recovery.set_state(store, r.id, "written_off", "x")
    assert recovery.get(store, r.id).state_label == "已追缴"


def test_a_stop_recorded_late_makes_the_months_paid_meanwhile_overpaid(
    store, family, clock, monkeypatch
):
    clock(dt.date(2026, 12, 15))
    e = active(store, family.id)
    clock(MAY10)
    monkeypatch.setattr("mzdesk.models.enrolment.now_iso", lambda: "2027-05-10 09:00:00")
    enr.stop(store, e.id, "家庭收入超过标准", today=dt.date(2027, 2, 20))  # paid to 02-28
    [o] = recovery.find_overpayments(store)
    assert o.months == ["2027-03", "2027-04"] and o.amount_fen == 2 * 76000
    assert "登记前已发放" in o.cause


def test_the_amount_of_each_month_is_the_one_paid_then(store, registry, single, tekun, clock):
    clock(dt.date(2027, 2, 20))
    enr.review(store, tekun.id, "change", today=dt.date(2027, 2, 20), monthly_fen=60000)
    clock(MAY10)
    die(registry, single.id, "王老五", dt.date(2027, 1, 5))
    [o] = recovery.find_overpayments(store)
    # February at 500 元, March and April at 600 元 (the change applied from March)
    assert o.months == ["2027-02", "2027-03", "2027-04"] and o.amount_fen == 50000 + 2 * 60000


def run(capsys, *args, ok=True, stdout=False):
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert (code == 0) == ok, (code, out, err)
    return out if ok or stdout else err


def test_recovery_from_the_command_line(store, registry, single, tekun, clock, capsys):
    clock(MAY10)
    die(registry, single.id, "王老五", dt.date(2027, 2, 10))
    db = str(store.path)
    store.close()
    found = json.loads(
        run(capsys, "recovery", "scan", "--db", db, "--through", "2027-04", "--json")
    )
    assert [(f["months"], f["amount_fen"]) for f in found] == [(["2027-03", "2027-04"], 100000)]
    out = run(capsys, "check", "--db", db, ok=False, stdout=True)
    assert "[overpaid_unrecovered] 家庭1 王老五: 多发未登记追缴：1000.00元" in out
    run(capsys, "recovery", "scan", "--db", db, "--through", "2027-04", "--record")
    [rec] = json.loads(run(capsys, "recovery", "list", "--db", db, "--json"))
    assert rec["state_label"] == "待追缴" and rec["amount"] == "1000.00"
    err = run(
        capsys, "recovery", "set", str(rec["id"]), "--db", db, "--state", "written_off", ok=False
    )
    assert "核销必须填写原因" in err and len(err.strip().splitlines()) == 1
    out = run(capsys, "recovery", "set", str(rec["id"]), "--db", db, "--state", "recovered")
    assert "已追缴" in out


def test_a_household_enrolment_is_overpaid_once_every_covered_member_has_died(
    store, registry, family, clock
):
    clock(dt.date(2026, 12, 15))
    active(store, family.id)
    clock(MAY10)
    die(registry, family.id, "张三丰", dt.date(2027, 1, 20))
    die(registry, family.id, "李四妹", dt.date(2027, 2, 3))
    assert recovery.find_overpayments(store) == []  # 张小宝 still lives
    die(registry, family.id, "张小宝", dt.date(2027, 3, 9))
    [o] = recovery.find_overpayments(store)
    assert o.months == ["2027-04"] and "2027-03-09死亡后仍发放" in o.cause
