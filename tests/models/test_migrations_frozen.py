"""A migration step is history: what each step produces never changes.

The golden file ``migrations_golden.json`` beside this test was recorded from the code as it
was when every step still called live code (``changelog.create_schema``, ``audit``/``auth``
``create_schema``, ...), before the steps got their own frozen SQL.  It holds:

* ``steps``: what each step changed in the schema (``sqlite_master`` entries added or
  rewritten, names removed), the steps applied one by one to an empty database, so a step
  that changes what it creates fails here by its number;
* ``fresh``: the final schema of a new database;
* ``fixtures``: for each committed fixture ``tests/fixtures/schema_v*.sqlite``, what
  ``Store.open`` wrote into the audit trail and the change log while upgrading it (without
  the clock's times and the hashes over them); its final schema must equal ``fresh``.

Regenerate only when adding a NEW migration step (the earlier entries must stay the same):
``PYTHONPATH=. python tests/models/test_migrations_frozen.py --write``.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from mzdesk.models.migrations import MIGRATIONS, register_functions
from mzdesk.models.store import Store

GOLDEN = Path(__file__).with_name("migrations_golden.json")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VERSIONS = sorted(int(p.stem.split("_v")[1]) for p in FIXTURES.glob("schema_v*.sqlite"))


def schema(conn: sqlite3.Connection) -> list[list[str]]:
    rows = conn.execute(
        "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
    )
    return [list(r) for r in rows]


def written(conn: sqlite3.Connection) -> dict[str, list[list]]:
    """What an upgrade wrote into the audit trail and the change log (no times, no hashes)."""
    out: dict[str, list[list]] = {}
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "audit_log" in tables:
        out["audit_log"] = [
            list(r)
            for r in conn.execute(
                "SELECT operator, tbl, record_id, record_uid, household_id, action, field, "
                "old, new FROM audit_log ORDER BY seq"
            )
        ]
    if "sync_changes" in tables:
        out["sync_changes"] = [
            list(r) for r in conn.execute("SELECT tbl, uid, op FROM sync_changes ORDER BY seq")
        ]
    return out


def step_changes() -> list[dict[str, list]]:
    """Per step: the schema entries it added or rewrote, and the names it removed."""
    conn = sqlite3.connect(":memory:")
    register_functions(conn)
    changes = []
    before: list[list[str]] = []
    for version, step in enumerate(MIGRATIONS, start=1):
        step(conn)
        conn.execute(f"PRAGMA user_version = {version}")
        after = schema(conn)
        names = {r[1] for r in after}
        changes.append(
            {
                "added": [r for r in after if r not in before],
                "removed": sorted(r[1] for r in before if r[1] not in names),
            }
        )
        before = after
    conn.close()
    return changes


def upgraded(version: int, tmp: Path) -> dict:
    path = tmp / f"v{version}.sqlite"
    shutil.copy(FIXTURES / f"schema_v{version}.sqlite", path)
    store = Store.open(path, operator="upgrader")
    try:
        return {"schema": schema(store.conn), "written": written(store.conn)}
    finally:
        store.close()


def fresh(tmp: Path) -> list[list[str]]:
    store = Store.open(tmp / "fresh.sqlite", operator="tester")
    try:
        return schema(store.conn)
    finally:
        store.close()


def golden() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_the_golden_file_covers_every_step_and_fixture():
    data = golden()
    assert len(data["steps"]) == len(MIGRATIONS)
    assert sorted(int(v) for v in data["fixtures"]) == VERSIONS


@pytest.mark.parametrize("version", range(1, len(MIGRATIONS) + 1))
def test_each_step_creates_what_it_created_when_released(version):
    assert step_changes()[version - 1] == golden()["steps"][version - 1]


@pytest.mark.parametrize("version", VERSIONS)
def test_an_upgraded_fixture_ends_with_the_same_schema_and_log(version, tmp_path):
    expected = golden()
    got = upgraded(version, tmp_path)
    assert got["schema"] == expected["fresh"]
    assert got["written"] == expected["fixtures"][str(version)]


def test_a_fresh_database_has_the_same_schema(tmp_path):
    assert fresh(tmp_path) == golden()["fresh"]


def _write(tmp: Path) -> None:
    data = {
        "steps": step_changes(),
        "fresh": fresh(tmp),
        "fixtures": {str(v): upgraded(v, tmp)["written"] for v in VERSIONS},
    }
    GOLDEN.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__" and "--write" in sys.argv:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        _write(Path(d))
