"""``mzdesk case`` and ``stats --month --json``'s ``cases`` as real processes, JSON parsed;
and the month's figures reconcile with the cases of a demo township."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openpyxl import load_workbook

from mzdesk.models import cases
from mzdesk.models.store import Store
from tests.cli.test_cli import mz

SITE = ["--site-code", "341623101", "--site-name", "青山镇民政办"]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("cases") / "town.sqlite"
    mz("init", "--db", str(db), *SITE)
    mz("demo", "--db", str(db), "--households", "400", "--seed", "7")
    return db


def _json(*args: str):
    return json.loads(mz(*args).stdout)


def _months(db) -> list[str]:
    rows = _json("case", "list", "--db", str(db), "--json")
    return sorted({c["paid_on"][:7] for c in rows if c["paid_on"]})


def test_the_demo_has_cases_of_every_kind_and_some_awaiting_documents(demo_db):
    rows = _json("case", "list", "--db", str(demo_db), "--json")
    assert {c["stat_key"] for c in rows} >= set(cases.STAT_KEYS)
    states = {c["state"] for c in rows}
    assert {"paid", "awaiting_documents", "pending"} <= states
    waiting = _json("case", "list", "--db", str(demo_db), "--state", "awaiting_documents", "--json")
    assert waiting and all(c["fast_track"] and c["documented_on"] is None for c in waiting)


def test_monthly_statistics_reconcile_with_the_cases(demo_db):
    months = _months(demo_db)
    assert len(months) >= 3
    for month in months:
        stats = _json("stats", "--db", str(demo_db), "--month", month, "--json")
        assert {"rows", "totals", "total", "month"} <= set(stats)  # the keys before are kept
        assert set(stats["cases"]) >= set(cases.STAT_KEYS)
        paid = _json("case", "list", "--db", str(demo_db), "--month", month, "--json")
        assert paid and all(c["paid_on"].startswith(month) for c in paid)
        for key, figures in stats["cases"].items():
            mine = [c for c in paid if c["stat_key"] == key]
            amount = sum(c["paid_fen"] for c in mine)
            assert figures == {
                "count": len(mine),
                "amount_fen": amount,
                "avg_fen": amount // len(mine) if mine else 0,
            }, (month, key)
        assert sum(f["count"] for f in stats["cases"].values()) == len(paid)


def test_a_case_through_the_command_line(tmp_path):
    db = tmp_path / "t.sqlite"
    mz("init", "--db", str(db), *SITE)
    mz("demo", "--db", str(db), "--households", "3", "--seed", "3")
    month = dt.date.today().strftime("%Y-%m")
    before = _json("stats", "--db", str(db), "--month", month, "--json")["cases"]
    made = _json(
        "case",
        "add",
        "1",
        "--db",
        str(db),
        "--kind",
        "临时救助",
        "--type",
        "急难型",
        "--cause",
        "意外伤害",
        "--amount",
        "800",
        "--json",
    )
    assert (made["state"], made["amount_fen"], made["stat_key"]) == (
        "pending",
        80000,
        "临时救助-急难型",
    )
    cid = str(made["id"])
    # not decided: only 小额先行 pays it
    refused = mz("case", "pay", cid, "--db", str(db), ok=False)
    assert refused.returncode == 1 and "小额先行" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "待补材料" in mz("case", "pay", cid, "--db", str(db), "--fast").stdout
    assert "已发放" in mz("case", "document", cid, "--db", str(db)).stdout
    big = _json(
        "case", "add", "1", "--db", str(db), "--kind", "medical", "--amount", "5000.50", "--json"
    )
    mz(
        "case",
        "decide",
        str(big["id"]),
        "--db",
        str(db),
        "--decision",
        "approved",
        "--amount",
        "4000",
    )
    mz("case", "pay", str(big["id"]), "--db", str(db))
    after = _json("stats", "--db", str(db), "--month", month, "--json")["cases"]
    urgent, medical = after["临时救助-急难型"], after["医疗救助"]
    assert urgent["count"] == before["临时救助-急难型"]["count"] + 1
    assert medical["amount_fen"] == before["医疗救助"]["amount_fen"] + 400000
    for figures in after.values():
        assert figures["avg_fen"] == (
            figures["amount_fen"] // figures["count"] if figures["count"] else 0
        )
    text = mz("stats", "--db", str(db), "--month", month).stdout
    assert "医疗救助" in text and "人次" in text
    out = tmp_path / "统计.xlsx"
    mz("stats", "--db", str(db), "--month", month, "--out", str(out))
    sheet = load_workbook(out)["临时救助与医疗救助"]
    cells = {r[0]: r[1:] for r in sheet.iter_rows(values_only=True) if r[0] in after}
    assert cells["医疗救助"][0] == medical["count"]
    assert round(cells["医疗救助"][1] * 100) == medical["amount_fen"]


def test_a_refusal_without_reason_is_one_line(tmp_path):
    db = tmp_path / "t.sqlite"
    mz("init", "--db", str(db), *SITE)
    mz("demo", "--db", str(db), "--households", "2", "--seed", "3")
    made = _json(
        "case", "add", "1", "--db", str(db), "--kind", "medical", "--amount", "300", "--json"
    )
    p = mz("case", "decide", str(made["id"]), "--db", str(db), "--decision", "refused", ok=False)
    assert p.returncode == 1 and "理由" in p.stderr and "Traceback" not in p.stderr
    store = Store.open(db, readonly=True)
    assert cases.get(store, made["id"]).state == "pending"
    store.close()
