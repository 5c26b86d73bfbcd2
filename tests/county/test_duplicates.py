"""The cross-site duplicate report (重复享受) on a county fed the townships' real batches."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from mzdesk.models import auth
from mzdesk.models.auth import PermissionDenied
from mzdesk.models.duplicates import duplicate_report
from mzdesk.models.errors import MzError
from mzdesk.models.ids import mask_id
from mzdesk.models.store import Store
from tests.county.conftest import imported


def mz(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mzdesk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_exactly_the_planted_duplicates_and_not_the_moved(county):
    data, db = county
    store = Store.open(db, operator="tester", readonly=True)
    report = duplicate_report(store)
    store.close()
    assert sorted(d.id_number for d in report) == sorted(data.duplicates)
    names = {t["code"]: t["name"] for t in data.meta["townships"]}
    for d in report:
        assert d.sites == data.duplicates[d.id_number]  # keyed on the records' origin site
        assert {c.site_name for c in d.claims} == {names[s] for s in d.sites}
        assert [c.set_aside for c in d.claims] == [False, True]  # the second one set aside
        assert all(c.categories for c in d.claims)


def test_the_report_does_not_depend_on_the_import_order(county, tmp_path):
    data, _db = county
    db = imported(data, tmp_path / "rev.sqlite", order=[2, 1, 0])
    store = Store.open(db, operator="tester", readonly=True)
    report = duplicate_report(store)
    assert sorted(d.id_number for d in report) == sorted(data.duplicates)
    assert {d.id_number: d.sites for d in report} == data.duplicates
    cats = {c for d in report for claim in d.claims for c in claim.categories}
    for cat in cats:  # an ID counts in a category when two sites pay it in that category
        want = {d.id_number for d in report if all(cat in c.categories for c in d.claims)}
        assert {d.id_number for d in duplicate_report(store, cat)} == want
    with pytest.raises(MzError, match="未知的救助类别"):
        duplicate_report(store, "no_such_category")
    store.close()


def test_a_township_alone_has_no_duplicates(county, tmp_path):
    data, _db = county
    db = imported(data, tmp_path / "one.sqlite", order=[1])
    store = Store.open(db, operator="tester", readonly=True)
    assert duplicate_report(store) == []
    store.close()


def test_cli_json_masks_ids_and_the_workbook_reads_back(county, tmp_path):
    data, db = county
    r = mz("duplicates", "--db", str(db), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["count"] == len(data.duplicates)
    assert {d["id_masked"] for d in out["duplicates"]} == {mask_id(i) for i in data.duplicates}
    assert not any(i in r.stdout for i in data.duplicates)  # never a full ID unasked
    first = out["duplicates"][0]
    assert sorted(first["claims"][0]) == sorted(
        [
            "site",
            "site_name",
            "name",
            "village",
            "head_name",
            "categories",
            "category_names",
            "set_aside",
            "conflict_id",
            "via",
            "via_name",
        ]
    )
    county = first["claims"][0]["via"]  # at a county: the county itself received them
    assert county and all(c["via"] == county for d in out["duplicates"] for c in d["claims"])
    text = mz("duplicates", "--db", str(db))
    assert text.returncode == 0 and f"共 {len(data.duplicates)} 人可能重复享受" in text.stdout
    xlsx = tmp_path / "重复享受.xlsx"
    r = mz("duplicates", "--db", str(db), "--out", str(xlsx), "--full-ids", "--json")
    assert r.returncode == 0, r.stderr
    assert {d["id_number"] for d in json.loads(r.stdout)["duplicates"]} == set(data.duplicates)
    rows = list(load_workbook(xlsx).active.iter_rows(values_only=True))
    ids = {row[1] for row in rows[2:]}
    assert ids == set(data.duplicates)
    assert len(rows) - 2 == 2 * len(data.duplicates)  # one row per site's claim
    assert all(isinstance(row[1], str) for row in rows[2:])  # text cells: no lost digits


@pytest.fixture
def with_accounts(county, tmp_path, monkeypatch):
    """A copy of the county with an admin and a readonly account."""
    _data, db = county
    work = tmp_path / "acc"
    work.mkdir()
    shutil.copy(db, work / "c.sqlite")
    real = auth.hash_password
    monkeypatch.setattr(auth, "hash_password", lambda pw, n=2**10: real(pw, n))
    store = Store.open(work / "c.sqlite", operator="tester")
    auth.add_operator(store, "boss", "boss-pass-word-1", "admin")
    auth.add_operator(store, "ro", "ro-pass-word-1", "readonly")
    store.close()
    return work / "c.sqlite"


def test_readonly_sees_masked_ids_but_not_full_ones(with_accounts, tmp_path):
    env = {auth.ENV_OPERATOR: "ro", auth.ENV_PASSWORD: "ro-pass-word-1"}
    r = mz("duplicates", "--db", str(with_accounts), "--json", env=env)
    assert r.returncode == 0, r.stderr
    for args in (["--full-ids"], ["--out", str(tmp_path / "x.xlsx")]):
        r = mz("duplicates", "--db", str(with_accounts), *args, env=env)
        assert r.returncode != 0 and "无权" in r.stderr
        assert not (tmp_path / "x.xlsx").exists()
    r = mz(
        "duplicates",
        "--db",
        str(with_accounts),
        "--full-ids",
        "--json",
        env={auth.ENV_OPERATOR: "boss", auth.ENV_PASSWORD: "boss-pass-word-1"},
    )
    assert r.returncode == 0, r.stderr


def test_the_service_needs_a_login(with_accounts):
    store = Store.open(with_accounts, operator="tester", readonly=True)
    with pytest.raises(PermissionDenied):
        duplicate_report(store)
    store.close()
