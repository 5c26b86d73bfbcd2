"""Lifecycle alerts in ``mzdesk check`` and per-category figures in ``stats``."""

from __future__ import annotations

import datetime as dt

from mzdesk.models import enrolment as enr
from mzdesk.models.checks import run_checks
from mzdesk.models.stats import registry_stats
from tests.enrolment.conftest import publicised
from tests.helpers import household, make_id

AFTER = dt.date(2026, 12, 8)


def codes(store, today):
    return sorted({(f.code, f.member) for f in run_checks(store, today)[1]})


def active(store, hid, **kw):
    e, _ = publicised(store, hid, **kw)
    enr.submit(store, e.id, today=AFTER)
    return enr.confirm(store, e.id, today=dt.date(2026, 12, 15))


def test_notice_over_not_submitted_and_review_overdue(store, family, clock):
    clock(dt.date(2027, 7, 2))
    e, _ = publicised(store, family.id)
    assert ("notice_over_not_submitted", None) not in codes(store, dt.date(2026, 12, 7))
    assert ("notice_over_not_submitted", None) in codes(store, AFTER)
    enr.submit(store, e.id, today=AFTER)
    enr.confirm(store, e.id, today=dt.date(2026, 12, 15))  # review due 2027-07-01
    assert ("review_overdue", None) not in codes(store, dt.date(2027, 7, 1))
    assert ("review_overdue", None) in codes(store, dt.date(2027, 7, 2))
    enr.review(store, e.id, "keep", today=dt.date(2027, 7, 2))
    assert ("review_overdue", None) not in codes(store, dt.date(2027, 7, 3))


def test_child_turning_18_in_orphan_support(store, registry):
    h = registry.save(
        household("红旗村", ("孤儿甲", "户主", make_id("20090110", 3))), today=dt.date(2026, 11, 23)
    )
    e = active(store, h.id, category="orphan", member_id=h.members[0].id, cls="分散", fen=120000)
    assert e.state == "active"
    assert ("child_turning_18", "孤儿甲") not in codes(store, dt.date(2026, 11, 1))
    assert ("child_turning_18", "孤儿甲") in codes(store, dt.date(2026, 11, 20))


def test_turning_80_until_enrolled(store, registry):
    h = registry.save(
        household("红旗村", ("老人乙", "户主", make_id("19470105", 5))), today=dt.date(2026, 11, 23)
    )
    assert ("turning_80", "老人乙") in codes(store, dt.date(2026, 12, 1))
    assert ("turning_80", "老人乙") not in codes(store, dt.date(2026, 10, 1))
    enr.create(store, h.id, "elderly", member_id=h.members[0].id, cls="80-89岁")
    assert ("turning_80", "老人乙") not in codes(store, dt.date(2026, 12, 1))


def test_deceased_still_active(store, registry, single):
    active(store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理")
    h = registry.get(single.id)
    h.members[0].deceased_on = dt.date(2026, 11, 20)
    registry.save(h, today=dt.date(2026, 11, 23))
    assert ("deceased_still_paid", "王老五") in codes(store, dt.date(2026, 12, 20))


def test_stats_per_category(store, family, single):
    active(store, family.id)
    active(
        store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理", fen=72000
    )
    data = registry_stats(store)["active_enrolments"]
    keys = ("households", "persons", "monthly_fen")  # the contract's keys, kept exactly
    assert {k: data["rural_dibao"][k] for k in keys} == {
        "households": 1,
        "persons": 3,
        "monthly_fen": 76000,
    }
    assert {k: data["tekun"][k] for k in keys} == {
        "households": 1,
        "persons": 1,
        "monthly_fen": 72000,
    }
    assert data["tekun"]["by_support"] == {"集中": 0, "分散": 0, "未登记": 1}
    assert data["rural_dibao"]["components_fen"] == {"base": 76000, "classified": 0}
    assert data["tekun"]["components_fen"] == {"base": 72000, "care": 0}


def test_severe_disability_care_with_level_3_or_4_flagged(store, registry):
    """重度残疾人护理补贴 is for levels 1-2 (and 3 for intellectual/mental disability)."""
    people = [
        ("肢体三级", "户主", "19600101", "43"),
        ("智力三级", "配偶", "19620101", "53"),
        ("视力二级", "子", "19900101", "12"),
        ("听力四级", "女", "19920101", "24"),
    ]
    h = household("红旗村", *[(n, r, make_id(b, i + 1)) for i, (n, r, b, _) in enumerate(people)])
    for m, (*_, cat_level) in zip(h.members, people, strict=True):
        m.health, m.disability_cert = "残疾", m.id_number + cat_level
    h = registry.save(h, today=dt.date(2026, 11, 23))
    for m in h.members:
        enr.create(store, h.id, "disability_care", member_id=m.id, monthly_fen=8000)
    flagged = {name for code, name in codes(store, AFTER) if code == "care_subsidy_level"}
    assert flagged == {"肢体三级", "听力四级"}
