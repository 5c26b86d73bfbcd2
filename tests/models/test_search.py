"""Find-as-you-type search and the household list's filters and sorting."""

from __future__ import annotations

import pytest

from mzdesk.models.query import (
    ListFilter,
    classify,
    find_households,
    household_rows,
    list_household_ids,
    search_household_ids,
)
from mzdesk.models.registry import Registry
from tests.helpers import household, make_id

ZSF_ID = make_id("19600101", 11)  # 34162319600101011?
WF_ID = make_id("19620202", 12)


@pytest.fixture
def town(store):
    """Five households in three villages; returns {head name: household id}."""
    reg = Registry(store)
    made = {}
    for village, group, phone, people in [
        (
            "红旗村",
            "一组",
            "13800001234",
            [
                ("张三丰", "户主", ZSF_ID),
                ("王芳", "配偶", WF_ID),
                ("张小明", "子", make_id("19900303", 13)),
            ],
        ),
        ("红旗村", "二组", "13911112222", [("张三", "户主", make_id("19700101", 21))]),
        (
            "新华村",
            "一组",
            "0556-1234567",
            [("李四", "户主", make_id("19750505", 32)), ("李丽", "女", make_id("20000707", 34))],
        ),
        ("新华村", "三组", "", [("曾小明", "户主", make_id("19850808", 41))]),
        ("东风社区", "", "15000009999", [("欧阳娜娜", "户主", make_id("19880909", 52))]),
    ]:
        h = household(village, *people, village_group=group, phone=phone)
        if village.endswith("社区"):
            h.area_type = "urban"
        made[people[0][0]] = reg.save(h).id
    enrol(store, made["李四"], "rural_dibao", "active")
    enrol(store, made["曾小明"], "tekun", "active")
    enrol(store, made["张三"], "rural_dibao", "stopped")  # a stopped one does not count
    return made


def enrol(store, household_id: int, category: str, state: str) -> None:
    with store.transaction():
        store.conn.execute(
            "INSERT INTO enrolments (uid, household_id, category, state, created_at, updated_at, "
            "created_by, updated_by) VALUES (?, ?, ?, ?, 'x', 'x', 'x', 'x')",
            (f"e{household_id}{category}{state}", household_id, category, state),
        )


def names(store, text: str) -> list[str]:
    return sorted(r["head_name"] for r in find_households(store, text))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("张", ["张三", "张三丰"]),  # one character: the surname
        ("张三", ["张三", "张三丰"]),  # a two-character name is also a prefix
        ("张三丰", ["张三丰"]),
        ("李四", ["李四"]),  # two-character name, exact
        ("三丰", ["张三丰"]),  # given name without the surname
        ("小明", ["张三丰", "曾小明"]),  # matches a non-head member too
        ("王芳", ["张三丰"]),  # found through the spouse
        ("欧阳", ["欧阳娜娜"]),
        ("赵", []),
    ],
)
def test_chinese_name_prefix(store, town, text, expected):
    assert names(store, text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("zsf", ["张三丰"]),  # initials
        ("zhangsanfeng", ["张三丰"]),  # full pinyin
        ("zhangsan", ["张三", "张三丰"]),  # a prefix of the full pinyin
        ("ZSF", ["张三丰"]),  # case does not matter
        ("zs", ["张三", "张三丰"]),
        ("zxm", ["张三丰", "曾小明"]),  # 张小明 and 曾小明
        ("zengxiaoming", ["曾小明"]),  # 曾 as a surname reads zeng, not ceng
        ("cengxiaoming", []),
        ("oynn", ["欧阳娜娜"]),
        ("li", ["李四"]),  # 李四 and his daughter 李丽: one household
        ("qq", []),
    ],
)
def test_pinyin_initials_and_full(store, town, text, expected):
    assert names(store, text) == expected


def test_id_prefix_suffix_and_middle_fragments(store, town):
    assert names(store, ZSF_ID[:10]) == ["张三丰"]  # region + birth year
    assert names(store, "341623") == sorted(town)  # every local number
    assert names(store, ZSF_ID[-4:]) == ["张三丰"]  # last four, check character included
    assert names(store, ZSF_ID[-6:]) == ["张三丰"]
    assert names(store, "19620202") == ["张三丰"]  # a birth date in the middle, the spouse's
    assert names(store, ZSF_ID) == ["张三丰"]  # the whole number


def test_id_fragment_with_lowercase_x_and_fullwidth_digits(store):
    reg = Registry(store)
    number = make_id("19800101", 1)
    assert number.endswith("X")
    reg.save(household("红旗村", ("赵六", "户主", number)))
    assert names(store, "001x") == ["赵六"]
    assert names(store, "００１Ｘ") == ["赵六"]
    assert names(store, " 3416 2319 80 ") == ["赵六"]


def test_phone_prefix_suffix_and_formatting(store, town):
    assert names(store, "13800001234") == ["张三丰"]
    assert names(store, "139") == ["张三"]
    assert names(store, "9999") == ["欧阳娜娜"]  # last digits
    assert names(store, "138 0000 1234") == ["张三丰"]
    assert names(store, "4567") == ["李四"]
    # typed "0556-1234567" at intake: stored as digits, found however it is written
    assert store.scalar("SELECT phone FROM households WHERE phone_rev GLOB '7654321*'") == (
        "05561234567"
    )
    for typed in (
        "0556-1234567",
        "05561234567",
        "(0556)1234567",
        "０５５６－１２３４５６７",
        "0556",
    ):
        assert names(store, typed) == ["李四"], typed
    assert names(store, "+86 139-1111-2222") == ["张三"]


def test_glob_characters_are_not_wildcards(store, town):
    assert names(store, "*") == []
    assert names(store, "张*") == names(store, "张")
    assert names(store, "[") == []
    assert names(store, "?") == []


def test_empty_and_blank_queries_find_nothing(store, town):
    assert search_household_ids(store, "") == []
    assert search_household_ids(store, "  \u3000 ") == []


def test_deleted_households_and_removed_members_are_not_found(store, town):
    reg = Registry(store)
    reg.delete(town["张三"], "迁出")
    assert names(store, "张三") == ["张三丰"]
    h = reg.get(town["张三丰"])
    h.members = [m for m in h.members if m.name != "王芳"]
    reg.save(h)
    assert names(store, "王芳") == []
    assert names(store, "wf") == []
    assert names(store, "19620202") == []


def test_search_limit_counts_households_not_members(store, town):
    ids = search_household_ids(store, "341623", limit=3)
    assert len(ids) == 3  # household 1 alone has three matching members
    assert ids == search_household_ids(store, "341623", limit=3)


def test_classify():
    assert [classify(q) for q in ("", "张三", "zsf", "0012", "001X", "x", "张s")] == [
        "empty",
        "name",
        "pinyin",
        "digits",
        "digits",
        "pinyin",
        "name",
    ]


# -- the list: filters and sorting ----------------------------------------------


def heads(store, f: ListFilter) -> list[str]:
    ids = list_household_ids(store, f)
    rows = household_rows(store, ids)
    return [rows[i]["head_name"] for i in ids]


def test_filter_by_village(store, town):
    assert heads(store, ListFilter(village="新华村")) == ["李四", "曾小明"]
    assert heads(store, ListFilter(village="没有这个村")) == []


def test_filter_by_category(store, town):
    assert heads(store, ListFilter(category="rural_dibao")) == ["李四"]  # not the stopped one
    assert heads(store, ListFilter(category="tekun")) == ["曾小明"]
    assert heads(store, ListFilter(category="none")) == ["张三丰", "张三", "欧阳娜娜"]


def test_filter_by_status(store, town):
    Registry(store).delete(town["张三"], "迁出")
    assert "张三" not in heads(store, ListFilter())
    assert heads(store, ListFilter(status="deleted")) == ["张三"]
    assert len(heads(store, ListFilter(status="all"))) == 5


def test_filters_combine_with_search_text(store, town):
    assert heads(store, ListFilter(text="zs", village="红旗村")) == ["张三丰", "张三"]
    assert heads(store, ListFilter(text="zs", village="新华村")) == []
    assert heads(store, ListFilter(text="小明", category="tekun")) == ["曾小明"]
    assert heads(store, ListFilter(text="不存在")) == []


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("id", ["张三丰", "张三", "李四", "曾小明", "欧阳娜娜"]),
        ("head", ["李四", "欧阳娜娜", "曾小明", "张三", "张三丰"]),  # by pinyin
        # village then group, in code-point order (东 < 新 < 红), not pinyin
        ("village", ["欧阳娜娜", "李四", "曾小明", "张三丰", "张三"]),
        ("members", ["张三", "曾小明", "欧阳娜娜", "李四", "张三丰"]),  # ties by id
        ("phone", ["曾小明", "李四", "张三丰", "张三", "欧阳娜娜"]),
    ],
)
def test_sorting(store, town, sort, expected):
    assert heads(store, ListFilter(sort=sort)) == expected
    assert heads(store, ListFilter(sort=sort, descending=True)) == expected[::-1]


def test_sort_by_updated_puts_the_last_edit_last(store, town):
    store.conn.execute("UPDATE households SET updated_at = '2020-01-01 00:00:00'")
    reg = Registry(store)
    h = reg.get(town["张三"])
    h.phone = "13911113333"
    reg.save(h)
    assert heads(store, ListFilter(sort="updated"))[-1] == "张三"


def test_unknown_sort_key_falls_back_to_id(store, town):
    assert heads(store, ListFilter(sort="id; DROP TABLE households")) == heads(
        store, ListFilter(sort="id")
    )


def test_find_households_items(store, town):
    (item,) = find_households(store, "zsf")
    assert item["id"] == town["张三丰"]
    assert item["head_name"] == "张三丰"
    assert item["village"] == "红旗村"
    assert item["members"] == 3
    (item,) = find_households(store, "李四")
    assert item["categories"] == ["rural_dibao"]


def test_birth_date_fragments_find_people_from_an_index(store, town):
    assert names(store, "1962") == ["张三丰"]  # the spouse's year of birth
    assert names(store, "196202") == ["张三丰"]
    assert names(store, "1975") == ["李四"]
    assert names(store, "19") == []  # too short to mean a year: no flood of matches
    plan = " ".join(
        str(r)
        for r in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT household_id FROM members WHERE "
            "substr(id_number, 7) >= ? AND substr(id_number, 7) < ? AND status = 'active'",
            ("1962", "1962~"),
        )
    )
    assert "members_id_from_birth" in plan


def test_count_text_names_the_cap_only_when_the_search_hit_it(store, town, monkeypatch):
    from mzdesk.models import query

    assert query.count_text(store, 1, "张三丰") == "共 1 户"
    assert query.count_text(store, 5, "") == "共 5 户"
    monkeypatch.setattr(query, "SEARCH_LIMIT", 2)
    monkeypatch.setattr(query.search_household_ids, "__defaults__", (2,))
    assert query.count_text(store, 2, "张") == "共 2 户（仅显示前1000户，请输入更多条件）"


def test_new_application_defaults_to_the_household_area(store):
    from mzdesk.models.query import default_category

    reg = Registry(store)
    rural = reg.save(household("红旗村", ("李四", "户主", make_id("19500101", 31))))
    h = household("城关社区", ("赵六", "户主", make_id("19500101", 41)), area_type="urban")
    urban = reg.save(h)
    assert default_category(store, rural.id) == "rural_dibao"
    assert default_category(store, urban.id) == "urban_dibao"


def test_the_matching_member_is_named_for_the_row(store, town):
    from mzdesk.models.query import matched_members

    hid = town["张三丰"]
    assert matched_members(store, [hid], "张小") == {hid: "张小明"}
    assert matched_members(store, [hid], "zxm") == {hid: "张小明"}
    assert matched_members(store, [hid], "张三丰") == {}  # the head is the row itself
