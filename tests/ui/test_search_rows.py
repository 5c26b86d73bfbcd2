"""The household list names the member a search matched."""

from __future__ import annotations

from mzdesk.models.query import ListFilter
from mzdesk.models.registry import Registry
from mzdesk.ui.household_model import HouseholdListModel
from tests.helpers import household, make_id


def test_the_list_row_names_the_matching_member(qapp, store):
    h = household(
        "红旗村",
        ("张三丰", "户主", make_id("19600101", 11)),
        ("张小明", "子", make_id("19900303", 13)),
    )
    Registry(store).save(h)
    model = HouseholdListModel(store)
    model.reload(ListFilter(text="张小明"))
    texts = {model.data(model.index(0, c)) for c in range(model.columnCount())}
    assert "张三丰（匹配：张小明）" in texts
    model.reload(ListFilter(text="张三丰"))
    texts = {model.data(model.index(0, c)) for c in range(model.columnCount())}
    assert "张三丰" in texts
