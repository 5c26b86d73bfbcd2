"""The cross-county duplicate report (重复享受) at a province in PostgreSQL (issue 25,
"Done when").

Two counties (SQLite) of two townships each; one ID number is active and paid in a
township of each county.  The province is a PostgreSQL receiver made through the CLI
(``mzdesk init --db postgresql://… --role province``), the counties forward upward in their
real signed batches, and ``mzdesk duplicates --json --db URL`` (a real subprocess) lists
exactly that ID with both origin townships and both forwarding counties.  A SQLite province
(the same site and keys) fed the very same batch files gives the same report and the same
``stats --json``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from mzdesk.models.ids import mask_id
from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from mzdesk.sync.keys import key_file, load_keys, trust
from tests.cli.test_cli import mz
from tests.sync.sites import S
from tests.sync.test_upward import COUNTIES, plant_cross_county_duplicate, region

pytestmark = pytest.mark.pg


def as_json(*args: str):
    return json.loads(mz(*args, "--json").stdout)


def test_a_cross_county_duplicate_at_a_postgresql_province(tmp_path, pg_server, pg_template):
    urls: list[str] = []

    def pg_province(tmp: Path, code: str, name: str, role: str) -> S:
        url = pg_server.create_db(template=pg_template)
        mz("init", "--db", url, "--role", role, "--site-code", code, "--site-name", name)
        mz("keys", "init", "--db", url)
        store = Store.open(url, operator=f"clerk-{code}")
        d = Path(store.files_stem).parent / code
        d.mkdir(parents=True, exist_ok=True)
        urls.append(url)
        return S(store, load_keys(store), d)

    r = region(tmp_path, forward=False, households=20, province=pg_province)
    [url] = urls
    assert r.province.store.dialect == "postgresql"
    number, _other = plant_cross_county_duplicate(r)
    # a SQLite province with the same site and keys, fed the very same batch files
    sq_db = tmp_path / "sqlite-province.sqlite"
    sq_store = Store.open(sq_db, operator="clerk-34")
    init_site(sq_store, r.province.code, "省民政厅", "province")
    key_file(sq_store).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(key_file(r.province.store), key_file(sq_store))
    sq = S(sq_store, load_keys(sq_store), tmp_path)
    for c in r.counties.values():  # the counties forward upward, in code order
        trust(sq.store, c.keys.public)
        batch = c.export(r.province, full=True)
        assert not r.province.import_(batch).refused
        assert not sq.import_(batch).refused
    r.province.store.close()
    sq.store.close()

    got = as_json("duplicates", "--db", url)
    assert got["count"] == 1
    [d] = got["duplicates"]
    assert d["id_masked"] == mask_id(number) and number not in json.dumps(got)
    assert d["sites"] == ["341623101", "341624101"]
    assert [(c["site"], c["via"], c["set_aside"]) for c in d["claims"]] == [
        ("341623101", "341623", False),
        ("341624101", "341624", True),
    ]
    assert [(c["site_name"], c["via_name"]) for c in d["claims"]] == [
        ("341623101镇", "341623县民政局"),
        ("341624101镇", "341624县民政局"),
    ]
    assert all(c["categories"] for c in d["claims"])
    assert as_json("duplicates", "--db", str(sq_db)) == got

    # the same statistics, by origin township (not by county) at the province
    month = dt.date.today().strftime("%Y-%m")
    for args in (("stats",), ("stats", "--month", month)):
        on_pg = as_json(*args, "--db", url)
        assert as_json(*args, "--db", str(sq_db)) == on_pg, args
    towns = {row["site"] for row in on_pg["by_township"]}
    assert towns == {t for ts in COUNTIES.values() for t in ts}


def test_the_translator_drops_main_and_a_cross_join_s_cross_before_on():
    """Two SQLite forms of the upward and duplicate path (sync/sender_scope.py,
    models/duplicates.py) PostgreSQL refuses."""
    from mzdesk.models.pg_sql import statement
    from tests.pg.test_pg_sql import SCHEMA

    t = statement("SELECT 1 FROM main.households h WHERE EXISTS (SELECT 1 FROM main.t)", SCHEMA)
    assert "main." not in t.sql and "FROM households h" in t.sql
    t = statement(
        "SELECT m.id FROM members m CROSS JOIN households h ON h.id = m.household_id CROSS JOIN t",
        SCHEMA,
    )
    assert t.sql.count("CROSS") == 1 and "JOIN households h ON" in t.sql
    assert "CROSS JOIN t" in t.sql  # no ON: a real cross join
