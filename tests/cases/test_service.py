"""Cases through the service: application, decision, payment, 小额先行, the month's figures."""

from __future__ import annotations

import datetime as dt

import pytest

from mzdesk.models import auth, cases
from mzdesk.models.auth import PermissionDenied
from mzdesk.models.errors import MzError, ValidationError

D = dt.date


def test_a_case_goes_from_application_to_payment(store, family):
    c = cases.add(
        store,
        family.id,
        "临时救助",
        case_type="支出型",
        cause="因学",
        applied_on=D(2026, 10, 8),
        amount_fen=300000,
        note="子女上大学学费",
    )
    assert (c.kind, c.case_type, c.cause, c.state_label) == (
        "temporary",
        "expense",
        "schooling",
        "待审批",
    )
    c = cases.decide(store, c.id, "approved", on=D(2026, 10, 15), amount_fen=250000)
    assert (c.state_label, c.amount_fen, c.decided_by) == ("待发放", 250000, "tester")
    with pytest.raises(MzError) as err:
        cases.pay(store, c.id, on=D(2026, 10, 20), paid_fen=260000)
    assert err.value.code == "paid_too_much"
    c = cases.pay(store, c.id, on=D(2026, 11, 2))
    assert (c.state_label, c.paid_fen, c.paid_on) == ("已发放", 250000, "2026-11-02")
    assert c.stat_key == "临时救助-支出型"
    with pytest.raises(MzError) as err:
        cases.pay(store, c.id)
    assert err.value.code == "case_paid"
    stats = cases.month_stats(store, D(2026, 11, 1))
    assert stats["临时救助-支出型"] == {"count": 1, "amount_fen": 250000, "avg_fen": 250000}
    assert cases.month_stats(store, D(2026, 10, 1))["临时救助-支出型"]["count"] == 0


def test_small_amount_first_then_documents(store, family):
    member = family.members[1].id
    c = cases.add(
        store, family.id, "medical", member_id=member, applied_on=D(2026, 11, 3), amount_fen=90000
    )
    assert c.name == "李四妹" and c.stat_key == "医疗救助"
    with pytest.raises(MzError) as err:
        cases.pay(store, c.id, on=D(2026, 11, 3))  # not decided, not 小额先行
    assert err.value.code == "case_undecided"
    c = cases.pay(store, c.id, on=D(2026, 11, 3), fast=True)
    assert (c.state, c.state_label, c.decision, c.fast_track) == (
        "awaiting_documents",
        "待补材料",
        "approved",
        1,
    )
    assert [x.id for x in cases.awaiting_documents(store)] == [c.id]
    assert cases.month_stats(store, D(2026, 11, 1))["医疗救助"]["count"] == 1  # counted when paid
    with pytest.raises(ValidationError):
        cases.document(store, c.id, on=D(2026, 11, 1))  # before the payment
    c = cases.document(store, c.id, on=D(2026, 11, 20))
    assert c.state_label == "已发放" and cases.awaiting_documents(store) == []
    with pytest.raises(MzError) as err:
        cases.document(store, c.id)
    assert err.value.code == "not_awaiting_documents"


def test_small_amount_first_only_within_the_limit(store, family):
    limit = cases.fast_track_limit_fen()
    c = cases.add(
        store,
        family.id,
        "temporary",
        case_type="urgent",
        cause="因灾",
        applied_on=D(2026, 11, 3),
        amount_fen=limit + 1,
    )
    with pytest.raises(MzError) as err:
        cases.pay(store, c.id, on=D(2026, 11, 3), fast=True)
    assert err.value.code == "over_fast_track_limit"
    assert cases.get(store, c.id).state == "pending"


def test_refusal_needs_a_reason_and_is_never_paid(store, family):
    c = cases.add(
        store,
        family.id,
        "temporary",
        case_type="urgent",
        cause="other",
        applied_on=D(2026, 11, 3),
        amount_fen=50000,
    )
    with pytest.raises(MzError) as err:
        cases.decide(store, c.id, "refused", on=D(2026, 11, 5))
    assert err.value.code == "reason_required"
    c = cases.decide(store, c.id, "不予救助", on=D(2026, 11, 5), note="收入超过标准")
    assert c.state_label == "不予救助" and c.decision_note == "收入超过标准"
    for fast in (False, True):
        with pytest.raises(MzError) as err:
            cases.pay(store, c.id, on=D(2026, 11, 6), fast=fast)
        assert err.value.code == "case_refused"
    with pytest.raises(MzError) as err:
        cases.decide(store, c.id, "approved")
    assert err.value.code == "case_decided"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"kind": "temporary", "cause": "因病"}, "bad_case_type"),
        ({"kind": "temporary", "case_type": "急难型"}, "bad_cause"),
        ({"kind": "temporary", "case_type": "急难型", "cause": "因穷"}, "bad_cause"),
        ({"kind": "medical", "case_type": "急难型"}, "bad_case_type"),
        ({"kind": "低保"}, "bad_kind"),
        ({"kind": "medical", "amount_fen": 0}, "bad_amount"),
        ({"kind": "medical", "amount_fen": 100_000_01}, "amount_too_large"),
        ({"kind": "medical", "applied_on": D(2027, 1, 1)}, "validation"),
    ],
)
def test_an_application_is_checked(store, family, kwargs, code):
    args = {"amount_fen": 10000, "applied_on": D(2026, 11, 1), **kwargs}
    with pytest.raises(MzError) as err:
        cases.add(store, family.id, **args)
    assert err.value.code == code
    assert store.scalar("SELECT count(*) FROM cases") == 0


def test_a_member_of_another_household_is_refused(store, family, registry):
    from tests.helpers import household, make_id

    other = registry.save(household("青山村", ("王老五", "户主", make_id("19400101", 5))))
    with pytest.raises(MzError) as err:
        cases.add(store, family.id, "medical", member_id=other.members[0].id, amount_fen=100)
    assert err.value.code == "member_not_in_household"


def test_permissions_are_checked_by_the_service(store, family, monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2**10)
    real = auth.hash_password
    monkeypatch.setattr(auth, "hash_password", lambda pw, n=2**10: real(pw, n))
    c = cases.add(store, family.id, "medical", applied_on=D(2026, 11, 1), amount_fen=10000)
    auth.add_operator(store, "admin", "admin-pass-1", "admin", "王主任")
    auth.add_operator(store, "field", "field-pass-1", "field")
    auth.add_operator(store, "viewer", "viewer-pass-1", "readonly")
    auth.login(store, "field", "field-pass-1")
    cases.add(store, family.id, "medical", applied_on=D(2026, 11, 1), amount_fen=10000)
    for call in (
        lambda: cases.decide(store, c.id, "approved"),
        lambda: cases.pay(store, c.id, fast=True),
    ):
        with pytest.raises(PermissionDenied):
            call()
    auth.login(store, "viewer", "viewer-pass-1")
    assert len(cases.list_cases(store)) == 2
    with pytest.raises(PermissionDenied):
        cases.add(store, family.id, "medical", amount_fen=10000)
    assert store.scalar("SELECT count(*) FROM cases WHERE decision != ''") == 0
