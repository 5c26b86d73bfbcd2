"""The yearly full-review round (年度全面核查): open, progress, close, in the service, the
work queue and the CLI."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from mzdesk.models import enrolment as enr
from mzdesk.models import reviews
from mzdesk.models.errors import MzError
from mzdesk.models.work_queues import queue
from tests.enrolment.test_components import cli
from tests.reviews.conftest import active, elderly, run_cli


def test_a_round_lists_every_paid_case_with_progress(store, family, single, clock):
    clock(dt.date(2027, 3, 1))
    a = active(store, family.id)
    b = elderly(store, single)
    s = reviews.open_round(store, 2027, on="2027-03-01")
    assert (s["year"], s["state"], s["total"], s["done"], s["pending"]) == (2027, "open", 2, 0, 2)
    assert {r["id"] for r in queue(store, "round_pending", today=dt.date(2027, 3, 1))} == {
        a.id,
        b.id,
    }
    with pytest.raises(MzError, match="已经开启过"):
        reviews.open_round(store, 2027)
    with pytest.raises(MzError, match="尚未结束"):
        reviews.open_round(store, 2026)
    with pytest.raises(MzError, match="还有2条记录未复核"):
        reviews.close_round(store, 2027, on="2027-03-02")

    clock(dt.date(2027, 4, 10))
    enr.review(
        store, a.id, "change", today=dt.date(2027, 4, 10), monthly_fen=80000, reason="收入下降"
    )
    enr.review(store, b.id, "keep", today=dt.date(2027, 4, 10))
    s = reviews.round_status(store)
    results = {r["id"]: (r["result"], r["result_name"], r["reviewed_on"]) for r in s["items"]}
    assert results == {
        a.id: ("change", "变更金额", "2027-04-10"),
        b.id: ("keep", "维持", "2027-04-10"),
    }
    assert (s["done"], s["pending"]) == (2, 0)
    assert queue(store, "round_pending", today=dt.date(2027, 4, 10)) == []
    s = reviews.close_round(store, 2027, on="2027-04-30")
    assert (s["state"], s["closed_on"], s["summary"]["done"], s["summary"]["change"]) == (
        "closed",
        "2027-04-30",
        2,
        1,
    )
    with pytest.raises(MzError, match="已于2027-04-30结束"):
        reviews.close_round(store, 2027)
    # a review after the round closed does not count for it
    clock(dt.date(2027, 6, 1))
    enr.review(store, b.id, "stop", today=dt.date(2027, 6, 1), reason="迁出")
    assert {r["id"]: r["result"] for r in reviews.round_status(store, 2027)["items"]}[
        b.id
    ] == "keep"


def test_a_stop_during_the_round_counts_as_done(store, family, clock):
    clock(dt.date(2027, 3, 1))
    a = active(store, family.id)
    reviews.open_round(store, 2027, on="2027-03-01")
    enr.stop(store, a.id, "死亡", today=dt.date(2027, 3, 5))
    s = reviews.round_status(store, 2027)
    assert [(r["result"], r["result_name"]) for r in s["items"]] == [("stopped", "已停发")]
    assert s["pending"] == 0
    # a record confirmed after the round opened is not in it
    assert queue(store, "round_pending", today=dt.date(2027, 3, 5)) == []


def test_force_closes_with_pending_counted(store, family, clock):
    clock(dt.date(2027, 3, 1))
    active(store, family.id)
    reviews.open_round(store, 2027, on="2027-03-01")
    s = reviews.close_round(store, 2027, on="2027-03-31", force=True)
    assert s["summary"]["pending"] == 1 and s["state"] == "closed"
    assert [r["year"] for r in reviews.rounds(store)] == [2027]


def test_rounds_from_the_cli(store, family, clock, capsys):
    clock(dt.date(2027, 3, 1))
    a = active(store, family.id)
    db = str(store.path)
    store.close()
    s = json.loads(cli(capsys, "review", "round-open", "--db", db, "--year", "2027", "--json"))
    assert (s["total"], s["pending"]) == (1, 1) and "items" not in s
    s = json.loads(cli(capsys, "review", "round-status", "--db", db, "--json"))
    assert [(r["id"], r["result"]) for r in s["items"]] == [(a.id, "pending")]
    out = cli(capsys, "review", "round-status", "--db", db, "--pending")
    assert "共1条，已复核0条，未复核1条" in out and "未复核" in out.splitlines()[1]
    err = cli(capsys, "review", "round-close", "--db", db, "--year", "2027", ok=False)
    assert "还有1条记录未复核" in err
    out = cli(capsys, "review", "round-close", "--db", db, "--year", "2027", "--force")
    assert "已于" in out and "结束" in out


def test_round_status_as_a_real_process(store):
    db = str(store.path)
    store.close()
    proc = run_cli("review", "round-status", "--db", db, "--json", check=False)
    assert proc.returncode == 1 and "尚未开启年度全面核查" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_field_laptop_opens_no_round(tmp_path):
    from mzdesk.models.site import init_site
    from mzdesk.models.store import Store

    laptop = Store.open(tmp_path / "field.sqlite", operator="field")
    init_site(laptop, "341623101001", "红旗村入户终端", "field")
    try:
        with pytest.raises(MzError, match="入户核查终端不能开启"):
            reviews.open_round(laptop, 2027)
    finally:
        laptop.close()
