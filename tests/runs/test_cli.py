"""``mzdesk run …`` and ``stats --month --json``'s ``runs``, as real subprocesses."""

from __future__ import annotations

import json
from decimal import Decimal

import openpyxl

from tests.cli.test_cli import assert_one_line_failure, mz


def test_run_commands_end_to_end(store, paid, tmp_path):
    db = str(store.path)
    store.close()
    before = json.loads(mz("stats", "--db", db, "--month", "2027-01", "--json").stdout)
    assert "runs" not in before  # optional: only when the month has runs

    made = mz(
        "run",
        "create",
        "--db",
        db,
        "--name",
        "春节一次性生活补贴",
        "--month",
        "2027-01",
        "--category",
        "农村低保",
        "--category",
        "tekun",
        "--amount",
        "300",
        "--json",
    )
    run = json.loads(made.stdout)
    assert (run["state"], run["households"], run["persons"], run["amount_fen"]) == (
        "draft",
        2,
        4,
        120000,
    )
    rid = str(run["id"])
    shown = json.loads(mz("run", "show", rid, "--db", db, "--json").stdout)
    assert shown["by_category"]["tekun"] == {
        "category_name": "特困人员供养",
        "households": 1,
        "persons": 1,
        "amount_fen": 30000,
    }
    assert (shown["basis"], shown["rate_fen"], shown["frozen"]) == ("person", 30000, False)

    out = tmp_path / "清册.xlsx"
    line = assert_one_line_failure(
        mz("run", "roster", rid, "--db", db, "--out", str(out), ok=False)
    )
    assert "[run_not_confirmed]" in line and not out.exists()
    assert "已确认" in mz("run", "confirm", rid, "--db", db, "--on", "2027-01-08").stdout
    assert "4人" in mz("run", "roster", rid, "--db", db, "--out", str(out)).stdout
    rows = list(openpyxl.load_workbook(out).active.iter_rows())
    assert rows[2][4].data_type == "s" and rows[2][4].number_format == "@"
    assert Decimal(str(rows[-1][9].value)) == Decimal("1200")

    mz("run", "paid", rid, "--db", db, "--on", "2027-01-20")
    listed = json.loads(mz("run", "list", "--db", db, "--json").stdout)
    assert [(r["name"], r["state_label"], r["paid_on"]) for r in listed] == [
        ("春节一次性生活补贴", "已发放", "2027-01-20")
    ]
    stats = json.loads(mz("stats", "--db", db, "--month", "2027-01", "--json").stdout)
    assert stats["runs"] == [
        {
            "name": "春节一次性生活补贴",
            "state": "paid",
            "households": 2,
            "persons": 4,
            "amount_fen": 120000,
        }
    ]
    assert set(before) <= set(stats)  # every existing key kept
    line = assert_one_line_failure(mz("run", "void", rid, "--db", db, "--reason", "x", ok=False))
    assert "[run_state]" in line and "不能作废" in line
    text = mz("run", "list", "--db", db, "--month", "2027-01").stdout
    assert "春节一次性生活补贴（2027年1月，已发放）：2户4人，1200.00元" in text


def test_run_create_refuses_bad_input_in_one_line(store, paid):
    db = str(store.path)
    store.close()
    base = ["run", "create", "--db", db, "--name", "冬春救助", "--month", "2027-01"]
    line = assert_one_line_failure(
        mz(*base, "--category", "低保边缘家庭", "--amount", "100", ok=False)
    )
    assert "[category_not_paid]" in line
    line = assert_one_line_failure(mz(*base, "--category", "tekun", "--amount", "0", ok=False))
    assert "[bad_amount]" in line
    line = assert_one_line_failure(
        mz(*base[:-1], "2027-13", "--category", "tekun", "--amount", "1", ok=False)
    )
    assert "月份" in line
    assert_one_line_failure(mz("run", "show", "9", "--db", db, ok=False))
