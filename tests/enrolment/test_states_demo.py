"""The demo township exercises every new state and part, and its statistics reconcile with
the enrolments and their parts (issue 21, "Done when")."""

from __future__ import annotations

import datetime as dt

import pytest

from mzdesk.models.demo import generate_demo
from mzdesk.models.enrolment_states import back_pay_lines
from mzdesk.models.stats import registry_stats
from mzdesk.models.work_queues import queue
from mzdesk.roster.monthly import monthly_stats, paid_enrolments


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from mzdesk.models.site import init_site
    from mzdesk.models.store import Store

    store = Store.open(tmp_path_factory.mktemp("demo") / "mz.sqlite", operator="tester")
    init_site(store, "341623101", "青山镇")
    generate_demo(store, 1500, seed=7)
    yield store
    store.close()


def test_the_demo_has_every_new_state_and_event(demo):
    states = dict(demo.conn.execute("SELECT state, count(*) FROM enrolments GROUP BY state"))
    for state in ("active", "suspended", "phasing_out", "not_accepted", "stopped"):
        assert states.get(state, 0) >= 1, state
    actions = dict(
        demo.conn.execute("SELECT action, count(*) FROM enrolment_events GROUP BY action")
    )
    for action in ("increase", "decrease", "suspend", "resume", "phase_out", "not_accept"):
        assert actions.get(action, 0) >= 1, action
    assert actions.get("head_change", 0) >= 1
    parts = dict(
        demo.conn.execute(
            "SELECT component, count(*) FROM enrolment_components WHERE status = 'active' "
            "GROUP BY component"
        )
    )
    # 照料护理费 goes to 特困 (by class) where the demo has any: see the report on the demo
    assert parts.get("classified", 0) >= 1
    assert queue(demo, "phase_out_due")  # an expired 渐退期 waits for its stop
    assert demo.scalar("SELECT count(*) FROM followup_tasks WHERE kind = 'death_review'") >= 1
    this = dt.date.today().replace(day=1)
    assert back_pay_lines(demo, this)  # the resumed enrolment's 补发 is on this month's 清册


def test_statistics_reconcile_with_enrolments_and_parts(demo):
    first = dt.date.today().strftime("%Y-%m")
    # paid now: 在保, or 渐退期 whose last month (its event) is not over
    paid_now = (
        "e.status = 'active' AND (e.state = 'active' OR (e.state = 'phasing_out' AND "
        "(SELECT json_extract(v.detail, '$.last_month') FROM enrolment_events v "
        "WHERE v.enrolment_id = e.id AND v.action = 'phase_out') >= :first))"
    )
    totals = dict(
        demo.conn.execute(
            f"SELECT category, sum(monthly_fen) FROM enrolments e WHERE {paid_now} "
            "GROUP BY category",
            {"first": first},
        )
    )
    open_parts: dict[tuple[str, str], int] = {}
    for cat, component, fen in demo.conn.execute(
        f"SELECT e.category, c.component, sum(c.fen) FROM enrolment_components c "
        f"JOIN enrolments e ON e.id = c.enrolment_id WHERE {paid_now} AND c.status = 'active' "
        "AND c.to_month IS NULL GROUP BY e.category, c.component",
        {"first": first},
    ):
        open_parts[(cat, component)] = fen
    stats = registry_stats(demo)["active_enrolments"]
    assert set(stats) == set(totals)
    for cat, entry in stats.items():
        assert entry["monthly_fen"] == totals[cat]
        assert sum(entry["components_fen"].values()) == entry["monthly_fen"]
        for component, fen in entry["components_fen"].items():
            if component != "base":
                assert fen == open_parts.get((cat, component), 0), (cat, component)
    if "tekun" in stats:
        assert stats["tekun"]["components_fen"]["care"] > 0
    assert set(stats["rural_dibao"]["components_fen"]) == {"base", "classified"}
    # the month's statistics and its 清册 count the same money, part by part
    month = dt.date.today().replace(day=1)
    rows = paid_enrolments(demo, month)
    month_stats = monthly_stats(demo, month)
    assert month_stats["total"]["monthly_fen"] == sum(r["monthly_fen"] for r in rows)
    for r in rows:
        assert sum(r["components_fen"].values()) == r["monthly_fen"]
    for cat, t in month_stats["totals"].items():
        assert sum(t["components_fen"].values()) == t["monthly_fen"], cat
        by_rows = sum(r["components_fen"].get("care", 0) for r in rows if r["category"] == cat)
        assert t["components_fen"].get("care", 0) == by_rows
    assert month_stats["total"]["back_pay_fen"] == sum(
        r["monthly_fen"] for r in back_pay_lines(demo, month)
    )
    suspended = {
        r[0] for r in demo.conn.execute("SELECT id FROM enrolments WHERE state = 'suspended'")
    }
    assert not suspended & {r["id"] for r in rows}
