"""A field operator cannot confirm an enrolment: enforced by the enrolment service."""

from __future__ import annotations

import datetime as dt

import pytest

from mzdesk.models import auth
from mzdesk.models import enrolment as enr
from mzdesk.models.auth import PermissionDenied
from tests.enrolment.conftest import family, notice_today, publicised  # noqa: F401 - fixtures

AFTER = dt.date(2026, 12, 9)


def test_field_operator_cannot_confirm_but_county_reviewer_can(store, family):  # noqa: F811
    e, _ = publicised(store, family.id)
    enr.submit(store, e.id, today=AFTER)
    auth.add_operator(store, "admin", "admin-pass-1", "admin")
    store.operator = "admin"
    auth.add_operator(store, "field", "field-pass-1", "field")
    auth.add_operator(store, "county", "county-pass-1", "county_reviewer")
    auth.login(store, "field", "field-pass-1")
    with pytest.raises(PermissionDenied, match="入户核查员 field 无权"):
        enr.confirm(store, e.id, today=AFTER)
    assert enr.get(store, e.id).state == "submitted"
    auth.login(store, "county", "county-pass-1")
    assert enr.confirm(store, e.id, today=AFTER).state == "active"


def test_the_permission_table_says_field_cannot_confirm(store):
    auth.add_operator(store, "admin", "admin-pass-1", "admin")
    store.operator = "admin"
    auth.add_operator(store, "field", "field-pass-1", "field")
    auth.login(store, "field", "field-pass-1")
    with pytest.raises(PermissionDenied):
        auth.require(store, "enrolment.confirm")
    auth.require(store, "enrolment.edit")
