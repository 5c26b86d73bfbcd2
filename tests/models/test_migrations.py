"""A database written by any earlier schema version opens, upgrades and stays usable.

The fixtures in tests/fixtures/ were made by ``make_fixtures.py`` at each
version and are committed; they must never be regenerated.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from mzdesk.models.errors import StoreError, ValidationError
from mzdesk.models.household import Member
from mzdesk.models.migrations import MIGRATIONS
from mzdesk.models.query import ListFilter, find_households, list_household_ids
from mzdesk.models.registry import Registry
from mzdesk.models.site import get_site
from mzdesk.models.stats import registry_stats
from mzdesk.models.store import Store
from tests.helpers import household, make_id

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VERSIONS = sorted(int(p.stem.split("_v")[1]) for p in FIXTURES.glob("schema_v*.sqlite"))


def copy_fixture(version: int, tmp_path: Path) -> Path:
    dest = tmp_path / f"v{version}.sqlite"
    shutil.copy(FIXTURES / f"schema_v{version}.sqlite", dest)
    return dest


def test_there_is_a_fixture_for_every_released_version_so_far():
    """Every version before the newest has its fixture (the newest may be in progress).

    After adding migration N+1, make the fixture of version N:
    ``python tests/fixtures/make_fixtures.py N`` (once; commit it; never regenerate).
    """
    missing = sorted(set(range(1, len(MIGRATIONS))) - set(VERSIONS))
    assert not missing, f"run: python tests/fixtures/make_fixtures.py {missing[0]}"
    assert max(VERSIONS) <= len(MIGRATIONS)


@pytest.mark.parametrize("version", VERSIONS)
def test_fixture_opens_and_upgrades_to_the_current_version(version, tmp_path):
    path = copy_fixture(version, tmp_path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == version
    store = Store.open(path, operator="upgrader")
    assert store.schema_version == len(MIGRATIONS)
    assert store.integrity_check() == []
    # data intact
    assert get_site(store).code == "341623101"
    h = Registry(store).get(1)
    assert [m.name for m in h.members] == ["张三丰", "王芳"]
    assert h.members[0].id_number == "34162319800101001X"
    assert registry_stats(store)["households"] == 2
    assert registry_stats(store)["members"] == 3
    store.close()
    # reopening an upgraded file applies nothing
    again = Store.open(path)
    assert again.migrate() == []
    again.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_upgraded_data_is_searchable_every_way(version, tmp_path):
    store = Store.open(copy_fixture(version, tmp_path))

    def find(text: str) -> list[int]:
        return [r["id"] for r in find_households(store, text)]

    assert find("张三") == [1]
    assert find("zsf") == [1]
    assert find("zhangsanfeng") == [1]
    assert find("三丰") == [1]  # given name
    assert find("3416231980") == [1]  # ID prefix
    assert find("001X") == [1]  # ID suffix: reversed index filled by the migration
    assert find("5678") == [1]  # phone suffix
    assert find("李四") == [2]
    assert list_household_ids(store, ListFilter(village="新华村")) == [2]
    store.close()


def test_v2_enrolment_survives_and_filters_the_list(tmp_path):
    store = Store.open(copy_fixture(2, tmp_path))
    assert list_household_ids(store, ListFilter(category="rural_dibao")) == [1]
    assert list_household_ids(store, ListFilter(category="none")) == [2]
    assert registry_stats(store)["active_enrolments"]["rural_dibao"]["persons"] == 2
    store.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_upgraded_database_keeps_the_rules_and_accepts_edits(version, tmp_path):
    store = Store.open(copy_fixture(version, tmp_path), operator="upgrader")
    reg = Registry(store)
    with pytest.raises(ValidationError) as exc:
        reg.save(household("新华村", ("张三丰", "户主", "34162319800101001X")))
    assert exc.value.problems[0].code == "id_exists_in_other_household"
    assert "编号1" in exc.value.problems[0].message
    h = reg.get(2)
    h.members.append(Member(name="李小四", relation="子", id_number=make_id("20050505", 11)))
    reg.save(h)
    assert [r["id"] for r in find_households(store, "lxs")] == [2]
    row = store.one("SELECT rev, updated_by, created_by FROM households WHERE id = 2")
    assert row == {"rev": 2, "updated_by": "upgrader", "created_by": "clerk"}
    store.close()


def test_every_migration_step_from_empty_builds_the_same_schema(tmp_path):
    """Upgrading v1 step by step ends with the same tables and indexes as a new file."""

    def schema(path: Path) -> list[tuple]:
        with sqlite3.connect(path) as c:
            return sorted(
                c.execute(
                    "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
                )
            )

    fresh = tmp_path / "fresh.sqlite"
    Store.open(fresh).close()
    upgraded = copy_fixture(1, tmp_path)
    Store.open(upgraded).close()
    assert schema(upgraded) == schema(fresh)


def test_a_newer_database_is_refused_with_a_clear_error_and_left_alone(tmp_path):
    path = copy_fixture(VERSIONS[-1], tmp_path)
    newer = len(MIGRATIONS) + 1
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {newer}")
    with pytest.raises(StoreError) as exc:
        Store.open(path)
    assert exc.value.code == "schema_too_new"
    assert str(newer) in str(exc.value) and "升级" in str(exc.value)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == newer
    # still the old data, still openable by a newer mzdesk
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM households").fetchone()[0] == 2


def test_a_failing_migration_rolls_back_and_keeps_the_old_version(tmp_path, monkeypatch):
    import mzdesk.models.migrations as mig
    import mzdesk.models.store as store_mod

    path = copy_fixture(1, tmp_path)

    def broken(conn):
        conn.execute("ALTER TABLE members ADD COLUMN half_done TEXT")
        raise RuntimeError("power cut")

    steps = [mig.MIGRATIONS[0], broken, *mig.MIGRATIONS[2:]]
    monkeypatch.setattr(store_mod, "MIGRATIONS", steps)
    with pytest.raises(RuntimeError):
        Store.open(path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 1
        cols = [r[1] for r in raw.execute("PRAGMA table_info(members)")]
    assert "half_done" not in cols


def test_a_refused_database_is_not_left_open(tmp_path):
    """After the refusal the file can be moved away at once (Windows keeps open files locked)."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to list open files")
    path = copy_fixture(VERSIONS[-1], tmp_path)
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    raw.close()
    import gc

    with pytest.raises(StoreError):
        Store.open(path)
    gc.collect()
    open_handles = [p for p in Path("/proc/self/fd").iterdir() if _target(p) == str(path)]
    assert open_handles == []


def _target(fd: Path) -> str:
    try:
        return str(fd.readlink())
    except OSError:
        return ""


def test_phones_typed_with_separators_become_digits_on_upgrade(tmp_path):
    """Version 13: phones as digits.  A v12 database holding what clerks typed ("0557-123
    4567") upgrades to digits; the change is stamped and audited as the program's."""
    path = copy_fixture(12, tmp_path)
    with sqlite3.connect(path) as raw:
        raw.execute(
            "UPDATE households SET phone = '0557-123 4567', phone_rev = '7654 321-7550' "
            "WHERE id = 1"
        )
    store = Store.open(path, operator="upgrader")
    row = store.one("SELECT phone, phone_rev, updated_by FROM households WHERE id = 1")
    assert dict(row) == {
        "phone": "05571234567",
        "phone_rev": "76543217550",
        "updated_by": "mzdesk 升级",
    }
    assert store.scalar("SELECT phone FROM households WHERE id = 2") == ""  # nothing to do
    entry = store.one(
        "SELECT operator, old, new FROM audit_log WHERE tbl = 'households' "
        "AND field = 'phone' ORDER BY seq DESC LIMIT 1"
    )
    assert dict(entry) == {"operator": "mzdesk 升级", "old": "0557-123 4567", "new": "05571234567"}
    assert [r["head_name"] for r in find_households(store, "0557-1234567")] == ["张三丰"]
