"""Spot checks: reproducible, stratified, tracked to completion."""

from __future__ import annotations

import pytest

from mzdesk.models.errors import MzError
from mzdesk.models.spotcheck import draw_sample, save_sample, spot_check_progress
from mzdesk.models.visits import Visit, Visits
from tests.visits.conftest import answers_all_match


def test_same_seed_same_sample_and_every_village_represented(store, village):
    a = draw_sample(store, percent=10, seed=7)
    b = draw_sample(store, percent=10, seed=7)
    assert [h["id"] for h in a.households] == [h["id"] for h in b.households]
    assert sorted({h["village"] for h in a.households}) == ["东风村", "红旗村"]  # ceil per village
    assert a.population == 5
    seeds = {tuple(h["id"] for h in draw_sample(store, 50, s).households) for s in range(10)}
    assert len(seeds) > 1  # the seed matters


def test_village_and_category_scope(store, village):
    s = draw_sample(store, percent=100, seed=1, village="东风村")
    assert {h["village"] for h in s.households} == {"东风村"} and len(s.households) == 2
    s = draw_sample(store, percent=10, seed=1, category="rural_dibao", stratify="category")
    assert [h["id"] for h in s.households] == [village[0]]
    with pytest.raises(MzError):
        draw_sample(store, percent=0, seed=1)
    with pytest.raises(MzError):
        draw_sample(store, percent=10, seed=1, village="没有村")


def test_tracked_to_completion(store, village, full_answers, today):
    s = save_sample(store, draw_sample(store, percent=10, seed=3, village="红旗村"))
    p = spot_check_progress(store, s.id)
    assert (p["done"], p["total"], p["state"]) == (0, 1, "open")
    hid = p["items"][0]["household_id"]
    from mzdesk.models.visits import household_members

    answers = dict(full_answers, members_present=list(household_members(store, hid))[:1])
    Visits(store).save(
        Visit(hid, today, ["王调查", "赵核查"], answers, conclusion="情况属实", kind="spot_check"),
        today,
    )
    p = spot_check_progress(store, s.id)
    assert (p["done"], p["state"]) == (1, "done") and p["items"][0]["visit_id"]


def test_the_county_draws_records_and_visits_its_spot_check(county, today):
    """A county reviewer does the county's spot check end to end, and nothing more of the
    township's home-visit work."""
    from mzdesk.models.auth import PermissionDenied
    from mzdesk.models.booklets import Booklets
    from mzdesk.models.visits import household_members

    s = save_sample(county, draw_sample(county, percent=30, seed=2))
    assert s.title == "全县抽查 30%（种子2）"  # not 全镇: the county samples every township
    p = spot_check_progress(county, s.id)
    assert (p["title"], p["total"]) == (s.title, 2)
    visits = Visits(county)
    for item in p["items"]:
        hid = item["household_id"]
        answers = answers_all_match(
            visits.template(Visit(hid, today, [])), household_members(county, hid)
        )
        v = visits.save(
            Visit(
                hid, today, ["县局王", "县局赵"], answers, conclusion="情况属实", kind="spot_check"
            ),
            today,
        )
        v.conclusion = "建议复核"
        visits.save(v, today)  # and correct it
    assert spot_check_progress(county, s.id)["state"] == "done"

    hid = p["items"][0]["household_id"]
    answers = answers_all_match(
        visits.template(Visit(hid, today, [])), household_members(county, hid)
    )
    with pytest.raises(PermissionDenied):  # an ordinary visit is the township's
        visits.save(Visit(hid, today, ["县局王", "县局赵"], answers, conclusion="情况属实"), today)
    with pytest.raises(PermissionDenied):  # so is turning a spot check into one
        v.kind = "verification"
        visits.save(v, today)
    with pytest.raises(PermissionDenied):  # and the care booklet
        Booklets(county).save(Booklets(county).get(hid), today)
    assert list(visits.kinds()) == ["spot_check"]


@pytest.mark.parametrize(
    "name, area",
    [
        ("青山镇民政办", "全镇"),
        ("东乡镇", "全镇"),
        ("白云乡人民政府", "全乡"),
        ("城东街道办事处", "全街道"),
    ],
)
def test_sample_title_names_the_township_as_it_calls_itself(tmp_path, name, area):
    from mzdesk.models.site import Site, whole_area

    assert whole_area(Site("341623101", name, "township")) == area
    assert whole_area(Site("341623", "县民政局", "county")) == "全县"


def test_sample_of_a_townships_own_category(store, village):
    from mzdesk.models.categories import add_local_category

    add_local_category(store, "county_aid", "县困难群众补贴", unit="household")
    store.conn.execute("UPDATE enrolments SET category = 'county_aid'")
    for asked in ("county_aid", "县困难群众补贴"):  # by code or by name, like every command
        s = draw_sample(store, percent=10, seed=1, category=asked, stratify="category")
        assert [h["id"] for h in s.households] == [village[0]]
        assert s.title == "全镇县困难群众补贴抽查 10%（种子1）"
    with pytest.raises(MzError, match="county_aid"):  # the error lists the valid ones
        draw_sample(store, percent=10, seed=1, category="没有这个类别")
