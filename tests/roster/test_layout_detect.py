"""detect_layout, pinned case by case (header row found or forced, a second header row under
merged headings, weak headers with and without --mapping columns, saved mappings, and where
the category comes from): the expected values are what the function gave before it was split
into helpers."""

import pytest

from mzdesk.roster.layout import detect_layout
from mzdesk.roster.reader import Sheet

H = ["序号", "户主姓名", "姓名", "身份证号码", "与户主关系", "保障人数"]
FULL = [
    (0, "seq"),
    (1, "head_name"),
    (2, "name"),
    (3, "id_number"),
    (4, "relation"),
    (5, "covered"),
]
DATA = [1, "张三", "张三", "110101199001011234", "户主", 2]


def shown(layout):
    if layout is None:
        return None
    return (
        layout.header_row,
        layout.data_start,
        layout.headers,
        sorted(layout.mapping.items()),
        layout.title,
        layout.category,
        layout.category_source,
        layout.notes,
    )


CASES = {
    "found_under_a_title": (
        Sheet("Sheet1", [["农村低保花名册"], H, DATA]),
        {},
        (1, 2, H, FULL, "农村低保花名册", "rural_dibao", "title", []),
    ),
    "second_header_row": (
        Sheet(
            "特困",
            [
                ["城市低保 2026年"],
                ["序号", "户主姓名", "姓名", "身份", None, None],
                [None, None, None, "身份证号码", "与户主关系", "保障人数"],
                [1, "a", "a", "x", "户主", 1],
            ],
        ),
        {},
        (1, 3, H, FULL, "城市低保 2026年", "urban_dibao", "title", []),
    ),
    "no_second_header_over_numbers": (
        Sheet("s", [["序号", "户主姓名", "姓名", "身份"], [None, "身份证号码", "与户主关系", 3]]),
        {},
        (0, 1, ["序号", "户主姓名", "姓名", "身份"], FULL[:3], "", None, "", []),
    ),
    "forced_out_of_range": (Sheet("s", [H]), {"header_row": 9}, None),
    "forced_with_category": (
        Sheet("s", [["x"], H]),
        {"header_row": 2, "category": "农村低保"},
        (1, 2, H, FULL, "x", "rural_dibao", "mapping", []),
    ),
    "weak_without_columns": (Sheet("s", [["序号", "姓名"]]), {}, None),
    "weak_with_columns": (
        Sheet("s", [["序号", "姓名", "号码"]]),
        {"columns": {"C": "id_number"}},
        (
            0,
            1,
            ["序号", "姓名", "号码"],
            [(0, "seq"), (1, "name"), (2, "id_number")],
            "",
            None,
            "",
            [],
        ),
    ),
    "nothing_with_columns": (Sheet("s", [[1, 2]]), {"columns": {"A": "name"}}, None),
    "category_from_sheet_name": (
        Sheet("农村特困供养", [H]),
        {},
        (0, 1, H, FULL, "", "tekun", "sheet", []),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_detect_layout_pinned(case):
    sheet, overrides, expected = CASES[case]
    assert shown(detect_layout(sheet, overrides)) == expected


def test_a_saved_mapping_applies_before_the_overrides():
    sheet = Sheet("Sheet1", [["农村低保花名册"], H, DATA])
    signature = detect_layout(sheet).signature
    layout = detect_layout(sheet, {"columns": {"C": "name"}}, saved={signature: {"B": None}})
    assert shown(layout) == (
        1,
        2,
        H,
        [(2, "name")],
        "农村低保花名册",
        "rural_dibao",
        "title",
        ["使用上次保存的列对应关系"],
    )
