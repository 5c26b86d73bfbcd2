"""Provincial export pairs (家庭查询 + 人员查询) built with openpyxl, as the province's system
writes them: one row per household, one row per person, joined by 户主身份证号.

Helpers only (imported by test_multi_import.py and test_provincial_roundtrip.py); the
one test here checks that the generator writes what it says.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook, load_workbook

from tests.helpers import make_id

HOUSEHOLD_HEADERS = [
    "序号",
    "所属省",
    "所属市",
    "所属区",
    "所属街",
    "所属社",
    "户主姓名",
    "户主身份证号",
    "家庭人口",
    "保障人口",
    "家庭成员姓名",
    "户月保障金额（元）",
    "家庭分类施保总额（元）",
    "合计（元）",
    "低保（特困）证号",
    "最初享受月",
    "开户银行",
    "银行账户名称",
    "银行帐号",
    "户籍类型",
]
PERSON_HEADERS = [
    "序号",
    "所属社",
    "户主姓名",
    "户主身份证号",
    "姓名",
    "身份证号码",
    "性别",
    "与户主关系",
    "救助类型",
    "生活自理能力",
    "供养方式",
]
RELATIONS = ["户主", "配偶", "子", "女", "父母"]
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"


def households(n: int, first_seq: int = 1, sizes: tuple = (1, 2, 3, 4)) -> list[dict]:
    """``n`` households, deterministic: village, members [(name, relation, id)], amounts."""
    out = []
    seq = first_seq
    for i in range(n):
        size = sizes[i % len(sizes)]
        members = []
        for k in range(size):
            born = f"19{50 + (i * 7 + k * 13) % 45:02d}0{1 + k % 9}1{k % 9}"
            members.append(
                (
                    f"王{GIVEN[i % len(GIVEN)]}{GIVEN[(k + seq) % len(GIVEN)]}{seq}",
                    RELATIONS[k],
                    make_id(born, seq),
                )
            )
            seq += 1
        out.append(
            {
                "village": ["红旗村", "东风社区", "青山村"][i % 3],
                "members": members,
                "covered": size,
                "base": 300 * size + 10 * i,
                "classified": 50 if i % 2 else 0,
                "account": f"62170000{i:011d}",
            }
        )
    return out


def write_pair(
    folder: Path,
    rows: list[dict],
    kind: str = "农村最低生活保障对象",
    selfcare: str = "",
    support: str = "",
    extra_persons: list[tuple] = (),
    member_list: dict[int, str] | None = None,
    names: tuple[str, str] = ("家庭查询.xlsx", "人员查询.xlsx"),
    shuffle: bool = False,
) -> tuple[Path, Path]:
    """The household file and the person file for ``rows`` (from :func:`households`).

    ``extra_persons``: person rows (name, relation, id, head id) with no household row;
    ``member_list``: {household index: the 家庭成员姓名 cell written instead of the names};
    ``shuffle``: persons not grouped by household (the export sorted by name).
    """
    hpath, ppath = folder / names[0], folder / names[1]
    wb = Workbook()
    ws = wb.active
    ws.title = "家庭查询"
    ws.append(HOUSEHOLD_HEADERS)
    for i, h in enumerate(rows, 1):
        head_name, _, head_id = h["members"][0]
        listed = "、".join(m[0] for m in h["members"])
        if member_list and i - 1 in member_list:
            listed = member_list[i - 1]
        total = h["base"] + h["classified"]
        ws.append(
            [
                i,
                "安徽省",
                "亳州市",
                "利辛县",
                "青山镇",
                h["village"],
                head_name,
                head_id,
                len(h["members"]),
                h["covered"],
                listed,
                f"{h['base']:.2f}",
                f"{h['classified']:.2f}",
                f"{total:.2f}",
                f"ZB{i:06d}",
                "2026-11",
                "农商银行",
                head_name,
                h["account"],
                "农村",
            ]
        )
    for row in ws.iter_rows(min_row=2):  # IDs and accounts as text, as exports do
        for cell in row:
            cell.number_format = "@"
    wb.save(hpath)
    wb = Workbook()
    ws = wb.active
    ws.title = "人员查询"
    ws.append(PERSON_HEADERS)
    persons = []
    for h in rows:
        head_name, _, head_id = h["members"][0]
        for name, rel, pid in h["members"]:
            persons.append((h["village"], head_name, head_id, name, pid, rel))
    for name, rel, pid, head_id in extra_persons:
        persons.append(("红旗村", "", head_id, name, pid, rel))
    if shuffle:
        persons.sort(key=lambda p: p[4][::-1])
    for i, (village, head_name, head_id, name, pid, rel) in enumerate(persons, 1):
        ws.append(
            [
                i,
                village,
                head_name,
                head_id,
                name,
                pid,
                "男" if int(pid[16]) % 2 else "女",
                rel,
                kind,
                selfcare,
                support,
            ]
        )
    wb.save(ppath)
    return hpath, ppath


def test_the_generator_writes_a_joinable_pair(tmp_path):
    rows = households(3)
    hpath, ppath = write_pair(tmp_path, rows)
    hws = load_workbook(hpath).active
    pws = load_workbook(ppath).active
    assert [c.value for c in hws[1]] == HOUSEHOLD_HEADERS
    assert hws.max_row == 4 and pws.max_row == 1 + sum(len(h["members"]) for h in rows)
    heads = {r[7] for r in hws.iter_rows(min_row=2, values_only=True)}
    assert {r[3] for r in pws.iter_rows(min_row=2, values_only=True)} == heads
