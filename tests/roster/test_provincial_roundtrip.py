"""``roster export --layout provincial`` and back: the pair read into an empty database gives
the same ``stats --month M --json``, for each category a provincial system holds."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openpyxl import load_workbook

from mzdesk.cli import main
from mzdesk.models import support
from mzdesk.models.categories import categories
from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from mzdesk.roster.importer import import_roster, undo
from mzdesk.roster.provincial import (
    HOUSEHOLD_HEADERS,
    PERSON_HEADERS,
    export_provincial,
    provincial_categories,
)
from tests.helpers import make_id
from tests.roster.books import member_per_row

TODAY = dt.date(2026, 11, 23)
MONTH = dt.date(2026, 11, 1)
HEADERS = (
    "序号",
    "村(社区)",
    "组",
    "户主姓名",
    "保障人口",
    "成员姓名",
    "与户主关系",
    "身份证号码",
    "保障类别",
    "月保障金(元)",
)


def cli(capsys, *args) -> tuple[int, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out + out.err


def source_roster(path, cat: str, spec: dict, n: int = 7) -> None:
    """A roster of ``n`` households in category ``cat`` (a sheet named after it)."""
    classes = spec.get("classes") or [""]
    person = spec.get("unit") == "person"
    rows = []
    seq = 1
    for i in range(n):
        size = 1 if person else 1 + i % 4
        members = []
        for k in range(size):
            rel = ["户主", "配偶", "子", "女"][k]
            born = "19400101" if person else f"19{60 + i:02d}0{1 + k}15"
            members.append((f"李{'甲乙丙丁戊己庚辛'[i]}{k}", rel, make_id(born, seq)))
            seq += 1
        monthly = spec.get("payment") == "monthly"
        rows.append(
            {
                "village": ["红旗村", "东风社区", "青山村"][i % 3],
                "group": f"{1 + i % 2}组",
                "covered": size,
                "class": classes[i % len(classes)],
                "amount": (250 * size + 35 * i) if monthly else 0,
                "members": members,
            }
        )
    member_per_row(path, rows, headers=HEADERS, sheet=spec["name"], total_row=False)


def month_stats(capsys, db) -> dict:
    code, out = cli(capsys, "stats", "--db", str(db), "--month", "2026-11", "--json")
    assert code == 0, out
    return json.loads(out)


def registry_figures(capsys, db) -> dict:
    code, out = cli(capsys, "stats", "--db", str(db), "--json")
    assert code == 0, out
    data = json.loads(out)
    return {k: data[k] for k in ("households", "members", "low_income", "active_enrolments")}


CATEGORIES = provincial_categories(Store.open(":memory:", operator="t"))


@pytest.mark.parametrize("cat", CATEGORIES)
def test_export_then_import_gives_the_same_statistics(capsys, tmp_path, cat):
    src = Store.open(tmp_path / "src.sqlite", operator="tester")
    init_site(src, "341623101", "青山镇")
    spec = categories(src)[cat]
    roster = tmp_path / "source.xlsx"
    source_roster(roster, cat, spec)
    report = import_roster(src, roster, month=MONTH, today=TODAY)
    assert report["errors"] == 0 and report["applied"]
    if spec.get("support_modes"):  # 特困: both 供养方式
        for i, (eid,) in enumerate(src.conn.execute("SELECT id FROM enrolments ORDER BY id")):
            if i % 2:
                support.save(src, eid, "集中", institution="青山镇敬老院")
            else:
                support.save(
                    src,
                    eid,
                    "分散",
                    carer_name="赵照料",
                    carer_id_number=make_id("19700707", 900 + i),
                )
    out = tmp_path / "out"
    out.mkdir()
    code, text = cli(
        capsys,
        "roster",
        "export",
        "--db",
        str(src.path),
        "--month",
        "2026-11",
        "--layout",
        "provincial",
        "--out",
        str(out),
    )
    assert code == 0, text
    assert "家庭查询.xlsx" in text and "人员查询.xlsx" in text
    hwb, pwb = load_workbook(out / "家庭查询.xlsx"), load_workbook(out / "人员查询.xlsx")
    assert hwb.sheetnames == pwb.sheetnames == [spec["name"]]
    hws, pws = hwb.active, pwb.active
    assert [c.value for c in hws[1]] == list(HOUSEHOLD_HEADERS)
    assert [c.value for c in pws[1]] == list(PERSON_HEADERS)
    head_id = hws.cell(row=2, column=HOUSEHOLD_HEADERS.index("户主身份证号") + 1)
    assert head_id.data_type == "s" and head_id.number_format == "@"
    if spec.get("support_modes"):
        modes = {
            r[PERSON_HEADERS.index("供养方式")] for r in pws.iter_rows(min_row=2, values_only=True)
        }
        assert modes == {"集中供养", "分散供养"}
    dst = Store.open(tmp_path / "dst.sqlite", operator="tester")
    init_site(dst, "341623101", "青山镇")
    back = import_roster(
        dst, [out / "家庭查询.xlsx", out / "人员查询.xlsx"], month=MONTH, today=TODAY
    )
    assert back["problems"] == [] and back["households"] == 7
    assert month_stats(capsys, dst.path) == month_stats(capsys, src.path)
    assert registry_figures(capsys, dst.path) == registry_figures(capsys, src.path)
    again = import_roster(
        dst, [out / "家庭查询.xlsx", out / "人员查询.xlsx"], month=MONTH, today=TODAY
    )
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 7)
    undo(dst, again["batch_id"])
    assert undo(dst, back["batch_id"])["households_removed"] == 7  # 供养方式 and all
    assert dst.scalar("SELECT count(*) FROM enrolments WHERE status = 'active'") == 0


def test_export_needs_an_existing_folder_and_something_paid(capsys, store, tmp_path):
    code, text = cli(
        capsys,
        "roster",
        "export",
        "--db",
        str(store.path),
        "--month",
        "2026-11",
        "--layout",
        "provincial",
        "--out",
        str(tmp_path / "nope"),
    )
    assert code == 2 and "文件夹" in text
    with pytest.raises(Exception) as exc:
        export_provincial(store, MONTH, tmp_path)
    assert getattr(exc.value, "code", "") == "nothing_to_export"
    code, text = cli(
        capsys,
        "roster",
        "export",
        "--db",
        str(store.path),
        "--month",
        "2026-11",
        "--out",
        str(tmp_path / "清册.txt"),
    )
    assert code == 2 and ".xlsx" in text  # the 清册 keeps its own check
