"""Fixtures for visits, booklets and spot checks: a small registered village."""

from __future__ import annotations

import datetime as dt

import pytest

from mzdesk.models.forms import library
from mzdesk.models.visits import household_members
from tests.helpers import household, make_id


def answers_all_match(t, members: dict[str, str]) -> dict:
    """Checklist answers with every item 符合 and the required fields filled."""
    a = {"members_present": list(members)[:1]}
    for f in t.check_fields():
        a[f.key] = "符合"
    return a


@pytest.fixture
def village(registry, store, today):
    """Two villages, 3 + 2 households; the first has a rural 低保 enrolment."""
    ids = []
    seq = 1
    for v, n in (("红旗村", 3), ("东风村", 2)):
        for i in range(n):
            h = household(
                v,
                (f"张{v[0]}{i}", "户主", make_id("19600101", seq)),
                (f"李{v[0]}{i}", "配偶", make_id("19620202", seq + 1)),
                village_group=f"{i + 1}组",
                phone="13800000000",
            )
            seq += 2
            ids.append(registry.save(h, today).id)
    store.conn.execute(
        "INSERT INTO enrolments (uid, household_id, category, class, state, covered, monthly_fen, "
        "start_on, created_at, updated_at, created_by, updated_by) VALUES "
        "('e1', ?, 'rural_dibao', '一类', 'active', 2, 68000, '2026-01-01', 'x', 'x', 'x', 'x')",
        (ids[0],),
    )
    return ids


@pytest.fixture
def checklist():
    return library().latest("home_visit")


@pytest.fixture
def full_answers(store, village, checklist):
    return answers_all_match(checklist, household_members(store, village[0]))


@pytest.fixture
def visit_day(today) -> dt.date:
    return today


@pytest.fixture
def county(tmp_path, today):
    """The county's database (县民政局) holding a township's households, with an admin and
    a county reviewer (审核员) logged in."""
    from mzdesk.models import auth
    from mzdesk.models.registry import Registry
    from mzdesk.models.site import init_site
    from mzdesk.models.store import Store

    s = Store.open(tmp_path / "county.sqlite", operator="setup")
    init_site(s, "341623", "县民政局", "county")
    seq = 1
    for v in ("红旗村", "东风村"):
        for i in range(3):
            Registry(s).save(
                household(
                    v,
                    (f"张{v[0]}{i}", "户主", make_id("19600101", seq)),
                    (f"李{v[0]}{i}", "配偶", make_id("19620202", seq + 1)),
                    village_group=f"{i + 1}组",
                ),
                today,
            )
            seq += 2
    auth.add_operator(s, "admin", "admin-pass-1", "admin")
    s.operator = "admin"
    auth.add_operator(s, "reviewer", "review-pass-1", "county_reviewer")
    auth.login(s, "reviewer", "review-pass-1")
    yield s
    s.close()
