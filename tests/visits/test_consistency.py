"""models/consistency.py: pre-fill from the records and warnings for records that
contradict each other (shown in the GUI, reported by ``mzdesk check``)."""

from __future__ import annotations

from mzdesk.models import consistency
from mzdesk.models.checks import run_checks
from tests.helpers import household, make_id


def _disabled_household(registry, store, today, level: int, health: str = "健康"):
    h = household(
        "红旗村",
        ("王残", "户主", make_id("19700101", 91)),
        ("王妻", "配偶", make_id("19720101", 92)),
        causes=["disability", "no_labour", "other"],
        housing_area_m2=60,
        housing_structure="砖木",
        savings_fen=100000,
    )
    m = h.members[0]
    m.health, m.disability_cert, m.disability_level = health, m.id_number + f"4{level}", level
    m.disability_category = 4
    hid = registry.save(h, today).id
    mid = registry.get(hid).members[0].id
    store.conn.execute(
        "INSERT INTO enrolments (uid, household_id, member_id, category, class, state, covered, "
        "monthly_fen, start_on, created_at, updated_at, created_by, updated_by) VALUES "
        "('c1', ?, ?, 'disability_care', '', 'active', 1, 8000, '2026-01-01', 'x','x','x','x'),"
        "('c2', ?, NULL, 'rural_dibao', '一类', 'active', 2, 68000, '2026-01-01','x','x','x','x')",
        (hid, mid, hid),
    )
    return hid


def test_warnings_for_a_contradicting_household(registry, store, today):
    hid = _disabled_household(registry, store, today, level=3)
    codes = {w.code: w for w in consistency.household_warnings(store, hid, today)}
    assert set(codes) == {"disabled_but_healthy", "care_not_severe"}
    assert codes["care_not_severe"].text() == "王残：享受重度残疾人护理补贴，但残疾等级为3级"
    # the same rules reach ``mzdesk check``
    _, findings = run_checks(store, today)
    assert {(f.code, f.household_id) for f in findings} >= {
        ("disabled_but_healthy", hid),
        ("care_not_severe", hid),
    }


def test_no_warning_when_consistent(registry, store, today):
    hid = _disabled_household(registry, store, today, level=1, health="残疾")
    assert consistency.household_warnings(store, hid, today) == []


def test_booklet_prefill_carries_type_and_causes(registry, store, today):
    hid = _disabled_household(registry, store, today, level=1, health="残疾")
    pre = consistency.booklet_prefill(store, hid)
    assert pre == {
        "household_type": "农村低保户",
        "causes": ["因残", "缺劳力", "其他"],
    }
    # typed answers win over the records
    assert consistency.with_prefill({"household_type": "特困供养户"}, pre)["household_type"] == (
        "特困供养户"
    )


def test_registered_values_and_differences(registry, store, today):
    hid = _disabled_household(registry, store, today, level=1, health="残疾")
    reg = consistency.registered_values(store, hid)
    assert reg["members_match"] == "2人：王残、王妻"
    assert "60平方米" in reg["housing"] and "砖木" in reg["housing"]
    assert reg["savings"] == "1,000.00元" or reg["savings"].startswith("1")
    pre = consistency.checklist_prefill(store, hid)
    assert consistency.differences(store, hid, pre) == {}
    diff = consistency.differences(store, hid, {**pre, "housing_area": 120})
    assert diff == {"housing": "住房面积登记60平方米，核查120平方米"}
