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


def test_the_statistics_read_events_by_action(store):
    plan = _plan(
        store,
        "SELECT enrolment_id, detail FROM enrolment_events WHERE action IN ('suspend', 'resume')",
    )
    assert "enrolment_events_action" in plan and "SCAN enrolment_events" not in plan


def test_flagged_relatives_are_driven_from_the_declarations(store):
    plan = _plan(store, FLAGGED_SQL)
    assert "SCAN e " not in plan + " " and "SCAN r" in plan
