"""The demo township has the categories and attributes of issue 21, within the rules, and
its statistics reconcile with its enrolments."""

from __future__ import annotations

from mzdesk.models.categories import categories
from mzdesk.models.demo import generate_demo
from mzdesk.models.stats import registry_stats


def test_demo_has_every_new_category_and_attribute_within_the_rules(store):
    generate_demo(store, 1500, seed=3)
    c = store.conn
    live = "state NOT IN ('rejected', 'stopped') AND status = 'active'"
    cats = {r[0] for r in c.execute(f"SELECT DISTINCT category FROM enrolments WHERE {live}")}
    assert {"dibao_edge", "rigid_expense", "child_in_difficulty", "tekun"} <= cats
    singles = c.execute(
        "SELECT count(*) FROM enrolments e JOIN members m ON m.id = e.member_id "
        "WHERE e.category IN ('urban_dibao', 'rural_dibao') "
        "AND (m.health = '大病' OR m.disability_level IN (1, 2))"
    ).fetchone()[0]
    assert singles > 0
    assert (
        c.execute(
            "SELECT count(*) FROM enrolments WHERE category IN ('urban_dibao', 'rural_dibao') "
            "AND member_id IS NOT NULL AND member_id NOT IN (SELECT id FROM members "
            "WHERE health = '大病' OR disability_level IN (1, 2))"
        ).fetchone()[0]
        == 0
    )
    flags = dict(c.execute("SELECT poverty_flag, count(*) FROM households GROUP BY 1").fetchall())
    assert flags.get("monitored", 0) > 0 and flags.get("lifted", 0) > 0
    modes = dict(
        c.execute(
            "SELECT support_mode, count(*) FROM enrolments WHERE category = 'tekun' GROUP BY 1"
        ).fetchall()
    )
    assert set(modes) == {"concentrated", "dispersed"}
    assert (
        c.execute(
            "SELECT count(*) FROM enrolments WHERE support_mode = 'dispersed' AND "
            "(carer_name = '' OR length(carer_id_number) != 18 OR care_to < care_from)"
        ).fetchone()[0]
        == 0
    )
    # no live pair the categories exclude, in one household (person-level against
    # household-level, or the same person)
    spec = categories(store)
    rows = c.execute(f"SELECT household_id, member_id, category FROM enrolments WHERE {live}")
    by_household: dict[int, list[tuple]] = {}
    for hid, mid, cat in rows:
        by_household.setdefault(hid, []).append((mid, cat))
    for hid, items in by_household.items():
        for i, (m1, c1) in enumerate(items):
            for m2, c2 in items[i + 1 :]:
                same = m1 is None or m2 is None or m1 == m2
                excluded = c2 in spec[c1].get("excludes", []) or c1 in spec[c2].get("excludes", [])
                assert not (same and excluded), (hid, c1, c2)


def test_demo_statistics_reconcile(store):
    generate_demo(store, 1500, seed=3)
    data = registry_stats(store)
    for code, entry in data["active_enrolments"].items():
        if "by_class" in entry:
            assert sum(entry["by_class"].values()) == entry["persons"], code
        if "by_support" in entry:
            assert sum(entry["by_support"].values()) == entry["persons"], code
    tekun = data["active_enrolments"]["tekun"]
    assert set(tekun["by_support"]) == {"集中", "分散"}  # every demo 特困 has a 供养方式
    monitored = data["active_enrolments"]["dibao_edge"]
    assert monitored["monthly_fen"] == 0 and monitored["households"] > 0
    low = data["low_income"]
    in_low = [c for c in ("urban_dibao", "rural_dibao", "tekun", "dibao_edge", "rigid_expense")]
    households = store.scalar(
        "SELECT count(DISTINCT household_id) FROM enrolments WHERE state = 'active' "
        "AND status = 'active' AND category IN (?, ?, ?, ?, ?)",
        in_low,
    )
    assert low["households"] == households and low["persons"] >= households
