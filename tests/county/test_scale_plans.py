"""The query plans a county of a million persons depends on (docs/scale.md): each would
scan a whole large table without its index or join order."""

from __future__ import annotations

from mzdesk.models.origins import origin_sql
from mzdesk.models.relatives import FLAGGED_SQL


def _plan(store, sql: str, params=()) -> str:
    return " | ".join(r[3] for r in store.conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


def test_the_origin_of_a_household_is_one_probe(store):
    plan = _plan(store, f"SELECT {origin_sql(store)} FROM households h")
    assert "sync_base_households" in plan


def test_above_a_county_the_origin_is_two_probes(tmp_path):
    """At a province the origin township its county named comes first (record_origins'
    primary key), then the sender (sync_base_households): still no scan."""
    from mzdesk.models.origins import via_sql
    from mzdesk.models.site import init_site
    from mzdesk.models.store import Store

    province = Store.open(tmp_path / "p.sqlite", operator="tester")
    init_site(province, "34", "省民政厅", "province")
    for expr in (origin_sql(province), via_sql(province)):
        plan = _plan(province, f"SELECT {expr} FROM households h")
        assert "SEARCH o USING PRIMARY KEY" in plan and "sync_base_households" in plan, plan
        assert plan.count("SCAN") == 1, plan  # the households themselves
    province.close()


def test_the_statistics_read_events_by_action(store):
    plan = _plan(
        store,
        "SELECT enrolment_id, detail FROM enrolment_events WHERE action IN ('suspend', 'resume')",
    )
    assert "enrolment_events_action" in plan and "SCAN enrolment_events" not in plan


def test_flagged_relatives_are_driven_from_the_declarations(store):
    plan = _plan(store, FLAGGED_SQL)
    assert "SCAN e " not in plan + " " and "SCAN r" in plan


def _traced_plans(store, fn) -> list[str]:
    """The plans of the statements ``fn`` runs (as executed, values bound)."""
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        fn()
    finally:
        store.conn.set_trace_callback(None)
    return [_plan(store, sql) for sql in seen if sql.lstrip().upper().startswith("SELECT")]


def test_the_duplicate_report_looks_up_many_ids_by_index(store):
    """With a hundred IDs, SQLite preferred walking every active household (0.9 s at 1M)."""
    from mzdesk.models import duplicates

    ids = [f"34162319800101{i:03d}X" for i in range(100)]
    uids = [f"{i:032x}" for i in range(100)]
    plans = _traced_plans(store, lambda: duplicates._claims_here(store, ids))
    plans = [p for p in plans if " m " in p]
    assert plans and all("SEARCH m USING INDEX members_" in p for p in plans), plans
    assert all("(id_number=?" in p for p in plans), plans
    plans = _traced_plans(store, lambda: duplicates._household_paid(store, uids))
    plans = [p for p in plans if " h " in p]
    assert plans and all("households_status" not in p for p in plans), plans
