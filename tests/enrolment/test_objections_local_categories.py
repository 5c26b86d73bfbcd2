"""Objections worked through (finding, upheld/dismissed with its effect) and local
categories edited and retired: the services the GUI pages drive."""

from __future__ import annotations

import datetime as dt

import pytest

from mzdesk.models import enrolment as enr
from mzdesk.models import notice as nt
from mzdesk.models.categories import (
    add_local_category,
    categories,
    local_categories,
    retire_local_category,
)
from mzdesk.models.errors import MzError
from mzdesk.models.objections import notice_rows, record_finding, resolve_objection
from tests.enrolment.conftest import publicised

DEC3 = dt.date(2026, 12, 3)


def test_finding_then_dismissed_leaves_the_enrolment_to_go_on(store, family, clock):
    e, nid = publicised(store, family.id)
    oid = nt.add_objection(store, nid, e.id, "村民赵某", "该户有车", raised_on=DEC3)
    row = record_finding(store, oid, "入户核实：车辆为亲戚所有")
    assert (row["state"], row["follow_up"]) == ("open", "入户核实：车辆为亲戚所有")
    assert notice_rows(store, nid)[0]["open_objections"] == 1
    with pytest.raises(MzError) as exc:
        resolve_objection(store, oid, "dismissed", "核实", effect="reject")
    assert exc.value.code == "bad_effect"
    done = resolve_objection(store, oid, "dismissed", row["follow_up"], "告知异议人")
    assert done["state"] == "closed" and done["outcome"] == "异议不成立：告知异议人"
    assert enr.get(store, e.id).state == "publicised"
    r = notice_rows(store, nid)[0]
    assert (r["objections"], r["open_objections"]) == (1, 0)
    with pytest.raises(MzError) as exc:
        record_finding(store, oid, "再次")
    assert exc.value.code == "objection_closed"
    clock(dt.date(2026, 12, 9))
    assert enr.submit(store, e.id).state == "submitted"  # nothing open blocks it


def test_upheld_objection_ends_the_application_through_the_service(store, family, clock):
    e, nid = publicised(store, family.id)
    oid = nt.add_objection(store, nid, e.id, "村民钱某", "家有经营性门面", raised_on=DEC3)
    clock(dt.date(2026, 12, 5))
    with pytest.raises(MzError):
        resolve_objection(store, oid, "upheld", "  ", effect="reject")  # no finding
    assert enr.get(store, e.id).state == "publicised"
    resolve_objection(store, oid, "upheld", "核实有门面出租", effect="reject")
    after = enr.get(store, e.id)
    assert after.state == "rejected"
    assert "公示异议成立：核实有门面出租" in enr.history(store, e.id)[-1]["reason"]
    assert nt.objections(store, enrolment_id=e.id)[0]["outcome"] == "异议成立；不予确认"


def test_local_category_edited_retired_and_back(store, family):
    add_local_category(store, "county_aid", "县困难群众补贴", new=True)
    with pytest.raises(MzError) as exc:
        add_local_category(store, "county_aid", "别的", new=True)
    assert exc.value.code == "category_exists"
    add_local_category(store, "county_aid", "县困难群众生活补贴", review_months=6)  # an edit
    assert categories(store)["county_aid"]["review_months"] == 6
    retire_local_category(store, "county_aid")
    assert local_categories(store)[0]["retired"] is True
    head = family.head.id
    with pytest.raises(MzError) as exc:
        enr.create(store, family.id, "county_aid", member_id=head, monthly_fen=100)
    assert exc.value.code == "category_retired"
    add_local_category(store, "county_aid", "县困难群众生活补贴", review_months=6)
    assert local_categories(store)[0]["retired"] is True  # an edit keeps it retired
    retire_local_category(store, "county_aid", retired=False)
    assert enr.create(store, family.id, "county_aid", member_id=head, monthly_fen=100).id
