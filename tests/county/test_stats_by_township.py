"""Monthly statistics by township (origin site) and category at a county."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

from mzdesk.models.store import Store
from mzdesk.roster.monthly import monthly_stats
from tests.county.conftest import imported

FIGURES = ("households", "persons", "monthly_fen", "new", "stopped", "ytd_person_months", "ytd_fen")


def _month() -> dt.date:
    return dt.date.today().replace(day=1)


def test_township_rows_add_up_to_the_category_totals(county):
    data, db = county
    store = Store.open(db, operator="tester", readonly=True)
    stats = monthly_stats(store, _month())
    store.close()
    rows = stats["by_township"]
    names = {t["code"]: t["name"] for t in data.meta["townships"]}
    assert {r["site"] for r in rows} == set(names)  # every township, by its origin
    assert all(r["site_name"] == names[r["site"]] for r in rows)
    for cat, total in stats["totals"].items():
        mine = [r for r in rows if r["category"] == cat]
        for k in FIGURES:
            if k == "households":
                continue  # a household counts once per village row and per township row
            assert sum(r[k] for r in mine) == total[k], (cat, k)
        assert sum(r["households"] for r in mine) == total["households"]
    assert sum(r["persons"] for r in rows) == stats["total"]["persons"]


def test_one_township_imported_gives_its_own_figures(county, tmp_path):
    data, _db = county
    db = imported(data, tmp_path / "one.sqlite", order=[0])
    store = Store.open(db, operator="tester", readonly=True)
    stats = monthly_stats(store, _month())
    store.close()
    assert {r["site"] for r in stats["by_township"]} == {data.meta["townships"][0]["code"]}
    for r in stats["by_township"]:
        assert r["persons"] == stats["totals"][r["category"]]["persons"]


def test_a_township_has_no_by_township_key(store):
    assert "by_township" not in monthly_stats(store, _month())


def test_cli_stats_month_json_carries_by_township(county):
    _data, db = county
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "mzdesk",
            "stats",
            "--db",
            str(db),
            "--month",
            f"{_month():%Y-%m}",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {"month", "rows", "totals", "total", "cases"} <= set(out)  # the contract kept
    assert out["by_township"] and set(out["by_township"][0]) >= {"site", "site_name", *FIGURES}
