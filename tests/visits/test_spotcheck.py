"""Spot checks: reproducible, stratified, tracked to completion."""

from __future__ import annotations

import pytest

from mzdesk.models.errors import MzError
from mzdesk.models.spotcheck import draw_sample, save_sample, spot_check_progress
from mzdesk.models.visits import Visit, Visits


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
    Visits(store).save(Visit(hid, today, ["王调查", "赵核查"], answers, conclusion="情况属实",
                             kind="spot_check"), today)  # fmt: skip
    p = spot_check_progress(store, s.id)
    assert (p["done"], p["state"]) == (1, "done") and p["items"][0]["visit_id"]
