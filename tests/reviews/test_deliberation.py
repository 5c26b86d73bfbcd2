"""民主评议 as a county setting: on / off / 视情 (default), the 需民主评议 tick, the CLI,
and the setting travelling from the county to its township in a batch."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from mzdesk.models import enrolment as enr
from mzdesk.models import notice_rules as nr
from mzdesk.models.errors import MzError
from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from mzdesk.models.work_queues import queue
from tests.enrolment.test_components import cli
from tests.reviews.conftest import county_sets


def investigated(store, household_id, category="rural_dibao", deliberation=None):
    e = enr.create(
        store, household_id, category, cls="二类", monthly_fen=76000, applied_on="2026-11-01"
    )
    enr.start_investigation(store, e.id)
    return enr.record_investigation(
        store,
        e.id,
        ["刘干事", "陈干事"],
        "核对通过",
        dt.date(2026, 11, 10),
        deliberation=deliberation,
    )


def listed(store, e) -> bool:
    return e.id in {r["id"] for r in queue(store, "notice")}


def test_default_is_case_by_case(store, family, single):
    assert nr.deliberation_mode(store) == "case"
    plain = investigated(store, family.id)
    assert nr.ready_for_notice(store, plain) is None and listed(store, plain)
    flagged = investigated(store, single.id, deliberation=True)
    assert nr.ready_for_notice(store, flagged) == "尚未进行民主评议"
    assert not listed(store, flagged)
    enr.deliberate(store, flagged.id, 9, "同意", dt.date(2026, 11, 15))
    assert listed(store, enr.get(store, flagged.id))


def test_on_and_off(store, family, single):
    plain = investigated(store, family.id)
    flagged = investigated(store, single.id, deliberation=True)
    county_sets(store, "on")
    assert [nr.ready_for_notice(store, e) for e in (plain, flagged)] == ["尚未进行民主评议"] * 2
    county_sets(store, "off")
    assert [nr.ready_for_notice(store, e) for e in (plain, flagged)] == [None, None]
    assert listed(store, plain) and listed(store, flagged)
    # a deliberation can still be held and recorded when the office wants one
    assert enr.deliberate(store, plain.id, 9, "同意", dt.date(2026, 11, 15)).state == "reviewed"


def test_flag_and_untick(store, family):
    e = investigated(store, family.id)
    nr.flag_deliberation(store, e.id, True, "收入接近保障标准")
    assert nr.ready_for_notice(store, enr.get(store, e.id)) == "尚未进行民主评议"
    nr.flag_deliberation(store, e.id, False)
    assert nr.ready_for_notice(store, enr.get(store, e.id)) is None
    t = investigated(store, family.id, category="temporary")
    with pytest.raises(MzError, match="不需要民主评议"):
        nr.flag_deliberation(store, t.id, True)


@pytest.fixture
def county(tmp_path):
    s = Store.open(tmp_path / "county.sqlite", operator="县审核员")
    init_site(s, "341623", "县民政局", "county")
    yield s
    s.close()


def test_only_the_county_sets_it(store, county):
    with pytest.raises(MzError, match="乡镇不能修改"):
        nr.set_deliberation_mode(store, "off")
    assert nr.deliberation_mode(store) == "case"
    with pytest.raises(MzError, match="民主评议设置应为"):
        nr.set_deliberation_mode(county, "sometimes")
    assert nr.set_deliberation_mode(county, "off", "县民政局文件") == "off"
    assert nr.deliberation_mode(county) == "off"


def test_deliberation_from_the_cli(store, family, county, capsys):
    e = investigated(store, family.id)
    db, cdb = str(store.path), str(county.path)
    store.close()
    county.close()
    assert json.loads(cli(capsys, "review", "deliberation", "--db", db, "--json")) == {
        "mode": "case",
        "label": "视情评议",
    }
    err = cli(capsys, "review", "deliberation", "--db", db, "--mode", "on", ok=False)
    assert "乡镇不能修改" in err and "county_only" in err
    out = cli(capsys, "review", "deliberation", "--db", cdb, "--mode", "on")
    assert "民主评议：一律评议（on）" in out
    err = cli(capsys, "review", "deliberation", "--db", cdb, "--mode", "maybe", ok=False)
    assert "maybe" in err
    out = cli(capsys, "review", "flag", str(e.id), "--db", db, "--reason", "收入接近保障标准")
    assert "需民主评议" in out
    rows = json.loads(cli(capsys, "enrol", "list", "--db", db, "--queue", "notice", "--json"))
    assert e.id not in [r["id"] for r in rows]


def test_the_county_setting_reaches_its_township_in_a_batch(tmp_path):
    from tests.sync.sites import township_county

    t, c = township_county(tmp_path, 3, seed=5)
    try:
        c.import_(t.export(c))
        assert nr.deliberation_mode(t.store) == "case"
        nr.set_deliberation_mode(c.store, "off", note="县民政局文件")
        assert t.import_(c.export(t)) is not None
        assert nr.deliberation_mode(t.store) == "off"
        nr.set_deliberation_mode(c.store, "on")
        t.import_(c.export(t))
        assert nr.deliberation_mode(t.store) == "on"
        with pytest.raises(MzError, match="乡镇不能修改"):  # the township cannot send it up
            nr.set_deliberation_mode(t.store, "off")
    finally:
        t.store.close()
        c.store.close()
