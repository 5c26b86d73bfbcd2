"""Several files, one import: the provincial pair (家庭查询 + 人员查询) joined by 户主身份证号,
all or nothing, one undo, member lists checked, persons without a household row refused."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mzdesk.roster.importer import ImportRefused, analyse, import_roster, undo
from mzdesk.roster.reader import UnreadableWorkbook
from tests.helpers import make_id
from tests.roster.books import member_per_row
from tests.roster.test_provincial_books import households, write_pair

TODAY = dt.date(2026, 11, 23)
MONTH = dt.date(2026, 11, 1)
ROOT = Path(__file__).resolve().parents[2]


def counts(store) -> dict:
    q = store.scalar
    return {
        "households": q("SELECT count(*) FROM households WHERE status = 'active'"),
        "members": q("SELECT count(*) FROM members WHERE status = 'active'"),
        "enrolments": q("SELECT count(*) FROM enrolments WHERE status = 'active'"),
        "batches": q("SELECT count(*) FROM import_batches WHERE state = 'applied'"),
    }


def run(store, paths, **kw):
    return import_roster(store, paths, month=MONTH, today=TODAY, **kw)


def test_dibao_pair_is_one_import(store, tmp_path):
    rows = households(6)
    pair = write_pair(tmp_path, rows)
    report = run(store, pair)
    assert report["applied"] and report["problems"] == []
    assert report["households"] == 6 and report["members"] == sum(len(h["members"]) for h in rows)
    assert report["file"] == "家庭查询.xlsx、人员查询.xlsx"
    assert [f["file"] for f in report["files"]] == ["家庭查询.xlsx", "人员查询.xlsx"]
    assert report["monthly_total_fen"] == sum((h["base"] + h["classified"]) * 100 for h in rows)
    assert counts(store) == {"households": 6, "members": 13, "enrolments": 6, "batches": 1}
    # household cells from the household file, members from the person file
    got = store.conn.execute(
        "SELECT h.village, h.bank_account, h.area_type, e.category, e.covered, e.monthly_fen, "
        "(SELECT group_concat(m.name || ':' || m.relation, ',') FROM members m "
        " WHERE m.household_id = h.id) FROM households h JOIN enrolments e "
        "ON e.household_id = h.id ORDER BY h.id"
    ).fetchall()
    for h, (village, account, area, cat, covered, fen, names) in zip(rows, got, strict=True):
        assert (village, account, area, cat) == (h["village"], h["account"], "rural", "rural_dibao")
        assert (covered, fen) == (h["covered"], (h["base"] + h["classified"]) * 100)
        assert names == ",".join(f"{n}:{r}" for n, r, _ in h["members"])
    batch = store.one("SELECT file_name, file_sha256 FROM import_batches")
    assert batch["file_name"] == "家庭查询.xlsx、人员查询.xlsx"
    assert batch["file_sha256"] == report["sha256"]


def test_tekun_pair_reads_category_and_selfcare_from_the_person_file(store, tmp_path):
    rows = households(4, sizes=(1,))
    for h in rows:
        h["classified"] = 0
    pair = write_pair(
        tmp_path,
        rows,
        kind="农村特困人员（分散供养）",
        selfcare="部分丧失生活自理能力",
        support="分散供养",
        names=("特困家庭查询.xlsx", "特困人员查询.xlsx"),
    )
    report = run(store, pair)
    assert report["applied"]
    # 分散供养 without a 照料人 column: imported, the 供养方式 flagged for the clerk to enter
    assert [(p["code"], p["severity"], p["column"]) for p in report["problems"]] == [
        ("support_not_recorded", "flag", "供养方式")
    ] * 4
    got = store.conn.execute(
        "SELECT e.category, e.class, e.member_id = m.id, e.covered, e.support_mode "
        "FROM enrolments e "
        "JOIN members m ON m.household_id = e.household_id AND m.relation = '户主'"
    ).fetchall()
    assert got == [("tekun", "半自理", 1, 1, "")] * 4


def test_persons_in_any_order_are_joined_by_the_head_id(store, tmp_path):
    rows = households(5)
    pair = write_pair(tmp_path, rows, shuffle=True)
    report = run(store, pair)
    assert report["problems"] == [] and report["members"] == 11
    for h in rows:
        hid = store.scalar(
            "SELECT household_id FROM members WHERE id_number = ?", (h["members"][0][2],)
        )
        names = {
            r[0]
            for r in store.conn.execute("SELECT name FROM members WHERE household_id = ?", (hid,))
        }
        assert names == {m[0] for m in h["members"]}


def test_member_list_mismatch_is_flagged_and_members_come_from_the_person_file(store, tmp_path):
    rows = households(3, sizes=(2,))
    first = rows[0]["members"]
    listed = f"{first[0][0]}，赵六 {first[1][0]}"  # one name more, other separators
    pair = write_pair(tmp_path, rows, member_list={0: listed, 1: rows[1]["members"][0][0]})
    report = run(store, pair)
    assert report["applied"]
    flags = [p for p in report["problems"] if p["code"] == "member_list_mismatch"]
    assert [(p["sheet"], p["row"], p["column"], p["severity"]) for p in flags] == [
        ("家庭查询.xlsx/家庭查询", 2, "家庭成员姓名", "flag"),
        ("家庭查询.xlsx/家庭查询", 3, "家庭成员姓名", "flag"),
    ]
    assert "赵六" in flags[0]["message"] and rows[1]["members"][1][0] in flags[1]["message"]
    assert store.scalar("SELECT count(*) FROM members WHERE name LIKE '%、%' OR name = '赵六'") == 0
    assert counts(store)["members"] == 6


def test_orphan_person_refuses_and_changes_nothing(store, tmp_path):
    rows = households(2)
    stray = ("孤零零", "户主", make_id("19700101", 901), make_id("19700101", 902))
    pair = write_pair(tmp_path, rows, extra_persons=[stray])
    plan = analyse(store, pair, today=TODAY)
    orphans = [p for p in plan.problems if p.code == "orphan_person"]
    assert len(orphans) == 1 and orphans[0].severity == "error"
    assert (orphans[0].sheet, orphans[0].column, orphans[0].value) == (
        "人员查询.xlsx/人员查询",
        "户主身份证号",
        stray[3],
    )
    with pytest.raises(ImportRefused):
        run(store, pair)
    assert counts(store) == {"households": 0, "members": 0, "enrolments": 0, "batches": 0}


def test_a_bad_second_file_changes_nothing(store, tmp_path):
    good = tmp_path / "一.xlsx"
    member_per_row(
        good,
        [{"village": "甲村", "amount": 500, "members": [("甲", "户主", make_id("19600101", 1))]}],
    )
    bad = tmp_path / "二.xlsx"
    member_per_row(
        bad,
        [{"village": "乙村", "amount": "abc", "members": [("乙", "户主", make_id("19600101", 2))]}],
    )
    with pytest.raises(ImportRefused):
        run(store, [good, bad])
    assert counts(store) == {"households": 0, "members": 0, "enrolments": 0, "batches": 0}
    broken = tmp_path / "三.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(UnreadableWorkbook):
        run(store, [good, broken])
    assert counts(store)["households"] == 0


def test_one_undo_takes_back_both_files_and_a_second_import_changes_nothing(store, tmp_path):
    rows = households(4)
    pair = write_pair(tmp_path, rows)
    first = run(store, pair)
    before = counts(store)
    again = run(store, pair)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)
    assert counts(store) == {**before, "batches": 2}
    result = undo(store, again["batch_id"])  # the second batch wrote nothing
    assert result["households_removed"] == 0
    result = undo(store, first["batch_id"])
    assert result["households_removed"] == 4
    assert counts(store) == {"households": 0, "members": 0, "enrolments": 0, "batches": 0}


def test_two_ordinary_rosters_are_one_batch(store, tmp_path):
    paths = []
    for i, village in enumerate(("甲村", "乙村")):
        path = tmp_path / f"{village}.xlsx"
        member_per_row(
            path,
            [
                {
                    "village": village,
                    "amount": 600,
                    "members": [("户" + village, "户主", make_id("19600101", i + 1))],
                }
            ],
        )
        paths.append(path)
    report = run(store, paths)
    assert report["households"] == 2 and report["problems"] == []
    assert [s["sheet"] for s in report["sheets"]] == ["甲村.xlsx/农村低保", "乙村.xlsx/农村低保"]
    assert counts(store)["batches"] == 1
    undo(store)
    assert counts(store)["households"] == 0


def test_the_same_file_twice_is_refused(store, tmp_path):
    rows = households(1)
    hpath, _ = write_pair(tmp_path, rows)
    with pytest.raises(UnreadableWorkbook) as exc:
        run(store, [hpath, hpath])
    assert exc.value.code == "same_file_twice"


def test_cli_subprocess_two_files(store, tmp_path):
    db = store.path
    store.close()
    rows = households(3)
    hpath, ppath = write_pair(tmp_path, rows)
    cmd = [sys.executable, "-m", "mzdesk", "roster", "import", str(hpath), str(ppath)]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    dry = subprocess.run(
        [*cmd, "--db", str(db), "--dry-run", "--json", "--month", "2026-11"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert (report["households"], report["members"], report["applied"]) == (3, 6, False)
    done = subprocess.run(
        [*cmd, "--db", str(db), "--month", "2026-11"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "家庭查询.xlsx、人员查询.xlsx: 3 户 6 人" in done.stdout
    undone = subprocess.run(
        [sys.executable, "-m", "mzdesk", "roster", "undo", "--db", str(db)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert undone.returncode == 0 and "移除 3 户" in undone.stdout


def test_unknown_person_type_is_an_error_on_the_person_row(store, tmp_path):
    rows = households(2, sizes=(1,))
    pair = write_pair(tmp_path, rows, kind="某某救助对象")
    plan = analyse(store, pair, today=TODAY)
    found = sorted((p.sheet, p.row, p.code) for p in plan.problems)
    assert ("人员查询.xlsx/人员查询", 2, "unknown_category") in found
    assert ("人员查询.xlsx/人员查询", 3, "unknown_category") in found
    assert plan.errors


def test_person_without_head_id_is_an_orphan(store, tmp_path):
    rows = households(1, sizes=(2,))
    stray = ("无户主号", "子", make_id("19900101", 903), "")
    hpath, ppath = write_pair(tmp_path, rows, extra_persons=[stray])
    plan = analyse(store, [hpath, ppath], today=TODAY)
    orphans = [p for p in plan.problems if p.code == "orphan_person"]
    assert [(o.row, o.value) for o in orphans] == [(4, "")]
    assert "为空" in orphans[0].message


def test_the_pair_as_two_sheets_of_one_workbook(store, tmp_path):
    from openpyxl import Workbook, load_workbook

    rows = households(3)
    hpath, ppath = write_pair(tmp_path, rows)
    both = Workbook()
    both.remove(both.active)
    for path in (hpath, ppath):
        src = load_workbook(path).active
        ws = both.create_sheet(src.title)
        for row in src.iter_rows(values_only=True):
            ws.append(row)
    one = tmp_path / "省系统导出.xlsx"
    both.save(one)
    report = run(store, one)
    assert report["applied"] and report["problems"] == []
    assert (report["households"], report["members"]) == (3, 6)
    assert [s["sheet"] for s in report["sheets"]] == ["家庭查询", "人员查询"]


def test_blank_category_cells_on_the_household_file_take_the_person_files(store, tmp_path):
    from openpyxl import load_workbook

    rows = households(2)
    hpath, ppath = write_pair(tmp_path, rows)
    wb = load_workbook(hpath)
    ws = wb.active
    ws.cell(row=1, column=ws.max_column + 1, value="救助类别")  # a column, left blank
    wb.save(hpath)
    report = run(store, [hpath, ppath])
    assert report["applied"] and report["problems"] == []
    cats = {r[0] for r in store.conn.execute("SELECT category FROM enrolments")}
    assert cats == {"rural_dibao"}
