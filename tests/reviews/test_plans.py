"""Review intervals per household by the stability of its circumstances (复核周期), with the
category's interval as the default: the service, the lifecycle's next review, the CLI."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from mzdesk.models import enrolment as enr
from mzdesk.models import reviews
from mzdesk.models.errors import MzError
from tests.enrolment.test_components import cli
from tests.reviews.conftest import active


def test_the_category_interval_is_the_default(store, family, clock):
    clock(dt.date(2027, 1, 10))
    e = active(store, family.id)  # 农村低保: every 6 months from 2027-01
    assert reviews.plan(store, family.id) is None
    assert e.review_due == "2027-07-01"


@pytest.mark.parametrize(
    "stability, months, due",
    [
        ("stable", None, "2028-01-01"),
        ("fair", None, "2027-07-01"),
        ("unstable", None, "2027-04-01"),
        ("custom", 2, "2027-03-01"),
    ],
)
def test_stability_moves_the_next_review(store, family, clock, stability, months, due):
    clock(dt.date(2027, 1, 10))
    e = active(store, family.id)
    p = reviews.set_plan(store, family.id, stability, months, on="2027-01-10", note="入户核实")
    assert p["months"] == (months or {"stable": 12, "fair": 6, "unstable": 3}[stability])
    assert enr.get(store, e.id).review_due == due
    if due != "2027-07-01":  # a changed date leaves its event in the history
        h = enr.history(store, e.id)[-1]
        assert h["action"] == "review_plan" and h["detail"]["old_due"] == "2027-07-01"


def test_a_review_sets_the_next_date_by_the_plan(store, family, single, clock):
    clock(dt.date(2027, 1, 10))
    e = active(store, family.id)
    reviews.set_plan(store, family.id, "stable")
    clock(dt.date(2027, 6, 20))
    e = enr.review(store, e.id, "keep", today=dt.date(2027, 6, 20))
    assert e.review_due == "2028-06-20"  # 稳定: yearly, although 低保 is half-yearly
    reviews.set_plan(store, family.id, "unstable")
    assert enr.get(store, e.id).review_due == "2027-09-20"  # from the last review
    # another household keeps the category's interval
    other = active(store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理")
    assert other.review_due == "2028-01-01"


def test_refusals(store, family, clock):
    clock(dt.date(2027, 1, 10))
    with pytest.raises(MzError, match="家庭情况应为"):
        reviews.set_plan(store, family.id, "shaky")
    with pytest.raises(MzError, match="自定周期请填写"):
        reviews.set_plan(store, family.id, "custom")
    with pytest.raises(MzError, match="复核间隔应为1至36个月"):
        reviews.set_plan(store, family.id, "custom", 0)
    with pytest.raises(MzError, match="没有编号为 999 的家庭"):
        reviews.set_plan(store, 999, "stable")


def test_no_review_category_stays_without_review(store, family, clock):
    clock(dt.date(2027, 1, 10))
    reviews.set_plan(store, family.id, "unstable")
    assert reviews.review_months(store, family.id, {"review_months": 0}) == 0
    assert (
        reviews.next_review_for(store, family.id, {"review_months": 0}, dt.date(2027, 1, 1)) is None
    )


def test_plan_from_the_cli(store, family, clock, capsys):
    clock(dt.date(2027, 1, 10))
    e = active(store, family.id)
    db = str(store.path)
    store.close()
    out = cli(capsys, "review", "plan", str(family.id), "--db", db, "--stability", "stable")
    assert "稳定，每12个月复核" in out
    p = json.loads(
        cli(
            capsys,
            "review",
            "plan",
            str(family.id),
            "--db",
            db,
            "--stability",
            "custom",
            "--months",
            "4",
            "--json",
        )
    )
    assert (p["stability"], p["months"], p["label"]) == ("custom", 4, "自定周期")
    err = cli(
        capsys, "review", "plan", str(family.id), "--db", db, "--stability", "custom", ok=False
    )
    assert "自定周期请填写复核间隔月数" in err
    rows = json.loads(
        cli(capsys, "enrol", "list", "--db", db, "--household", str(family.id), "--json")
    )
    assert [r.get("review_due") for r in rows if r["id"] == e.id] == ["2027-05-01"]


def test_a_class_can_have_its_own_default(store, family, single, clock, monkeypatch):
    """A county reviewing 低保 一类 yearly (``class_months``); the plan still wins."""
    from mzdesk.resources import load_json

    data = {**load_json("reviews.json"), "class_months": {"rural_dibao": {"一类": 12}}}
    monkeypatch.setattr(reviews, "load_json", lambda name: data)
    clock(dt.date(2027, 1, 10))
    one = active(store, family.id, cls="一类")
    assert one.review_due == "2028-01-01"
    e = enr.review(store, one.id, "change", today=dt.date(2027, 1, 10), cls="三类")
    assert e.review_due == "2027-07-10"  # the new class's interval: the category's 6 months
    reviews.set_plan(store, family.id, "unstable", on="2027-01-10")
    assert enr.get(store, one.id).review_due == "2027-04-10"
