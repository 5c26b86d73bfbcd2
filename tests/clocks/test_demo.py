"""The demo township has overdue applications, an extension and a letter given."""

from __future__ import annotations

from mzdesk.models import clocks
from mzdesk.models.checks import run_checks
from mzdesk.models.demo import generate_demo


def test_demo_produces_overdue_items_an_extension_and_a_letter(store):
    generate_demo(store, 200, seed=1)
    items = clocks.due_items(store)
    assert any(i["status"] == "overdue" and i["clock"] == "decision" for i in items)
    assert sum(i["extended"] for i in items) == 1
    given = store.scalar("SELECT count(*) FROM enrolment_events WHERE action = 'letter'")
    assert given == 1
    _, findings = run_checks(store)
    assert any(f.code == "decision_overdue" for f in findings)
