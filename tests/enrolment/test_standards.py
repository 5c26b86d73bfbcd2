"""Standards (保障标准): shipped example defaults, a county's own with history, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mzdesk.models import standards as st
from mzdesk.models.errors import MzError

ROOT = Path(__file__).resolve().parents[2]
JUL, DEC = dt.date(2026, 7, 1), dt.date(2026, 12, 1)


def test_shipped_defaults_are_the_seed_reports_figures(store):
    urban = st.in_effect(store, "urban_dibao", "urban", JUL)
    rural = st.in_effect(store, "rural_dibao", "rural", JUL)
    assert (urban.amount_fen, urban.period, urban.source) == (52800, "month", "shipped")
    assert (rural.amount_fen, rural.period, rural.annual_fen) == (431000, "year", 431000)
    assert st.in_effect(store, "rural_dibao", "rural", dt.date(2025, 6, 1)).amount_fen == 315000
    # 特困 基本生活标准 at least 1.3 × the 低保 standard, per area
    for area, dibao in (("urban", urban), ("rural", rural)):
        tekun = st.in_effect(store, "tekun", area, JUL)
        assert tekun.annual_fen * 10 >= dibao.annual_fen * 13
    assert st.in_effect(store, "rural_dibao", "rural", dt.date(2024, 12, 1)) is None


def test_a_county_standard_has_history_and_follows_the_shipped_months(store):
    st.set_standard(store, "rural_dibao", "rural", "2026-07", 450000, "year", "皖民〔2026〕1号")
    st.set_standard(store, "rural_dibao", "rural", "2027-01", 480000, "year")
    hist = st.history(store, "rural_dibao", "rural")
    assert [(s.month, s.amount_fen, s.source) for s in hist] == [
        ("2025-01", 315000, "shipped"),
        ("2026-01", 431000, "shipped"),
        ("2026-07", 450000, "database"),
        ("2027-01", 480000, "database"),
    ]
    # the months before the county's first own standard keep the shipped one
    assert st.in_effect(store, "rural_dibao", "rural", dt.date(2026, 6, 1)).source == "shipped"
    assert st.in_effect(store, "rural_dibao", "rural", DEC).amount_fen == 450000
    assert st.in_effect(store, "rural_dibao", "rural", dt.date(2027, 5, 1)).amount_fen == 480000
    # other pairs keep the shipped defaults; a county row replaces those from its month on
    assert st.in_effect(store, "urban_dibao", "urban", DEC).source == "shipped"
    st.set_standard(store, "urban_dibao", "urban", "2026-01", 50000)
    assert [s.source for s in st.history(store, "urban_dibao", "urban")] == [
        "shipped",
        "database",
    ]  # 2025-01 (480 元) stays, 2026-01 is the county's
    # the same month again corrects it, it does not add a second row
    st.set_standard(store, "rural_dibao", "rural", "2026-07", 452000, "year")
    assert store.scalar("SELECT count(*) FROM standards WHERE category = 'rural_dibao'") == 2
    assert st.in_effect(store, "rural_dibao", "rural", DEC).amount_fen == 452000


@pytest.mark.parametrize(
    "args, message",
    [
        (("urban_dibao", "rural", "2026-07", 52800), "只适用于城市"),
        (("elderly", "rural", "2026-07", 5000), "没有保障标准"),
        (("nope", "rural", "2026-07", 5000), "未知的救助类别"),
        (("rural_dibao", "rural", "2026-13", 5000), "月份格式"),
        (("rural_dibao", "rural", "2026-07", 0), "必须大于0"),
        (("rural_dibao", "rural", "2026-07", 100_000_01), "超过上限"),
    ],
)
def test_bad_standards_are_refused_and_nothing_is_written(store, args, message):
    with pytest.raises(MzError, match=message):
        st.set_standard(store, *args)
    assert store.scalar("SELECT count(*) FROM standards") == 0


def test_a_standard_travels_in_sync_and_is_audited(store):
    s = st.set_standard(store, "urban_dibao", "urban", "2026-07", 55000)
    uid = store.scalar("SELECT uid FROM standards WHERE id = ?", (s.id,))
    assert store.scalar(
        "SELECT count(*) FROM sync_changes WHERE tbl = 'standards' AND uid = ?", (uid,)
    )
    assert store.scalar("SELECT count(*) FROM audit_log WHERE tbl = 'standards'") == 1


def mzdesk(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "mzdesk", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_standards_set_and_list_from_the_command_line(store):
    db = str(store.path)
    store.close()
    done = mzdesk(
        "standards",
        "set",
        "--db",
        db,
        "--category",
        "城市低保",
        "--area",
        "urban",
        "--from",
        "2026-07",
        "--amount",
        "528",
        "--note",
        "提标文件",
    )
    assert done.returncode == 0, done.stderr
    assert "528.00 元/人/月（2026-07起）" in done.stdout
    listed = json.loads(mzdesk("standards", "list", "--db", db, "--json").stdout)
    urban = [s for s in listed if s["category"] == "urban_dibao"]
    assert [(s["effective_from"], s["amount_fen"], s["source"]) for s in urban] == [
        ("2025-01-01", 48000, "shipped"),
        ("2026-01-01", 52800, "shipped"),
        ("2026-07-01", 52800, "database"),
    ]
    bad = mzdesk(
        "standards",
        "set",
        "--db",
        db,
        "--category",
        "城市低保",
        "--area",
        "rural",
        "--from",
        "2026-07",
        "--amount",
        "528",
    )
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1
    assert "只适用于城市" in bad.stderr and "Traceback" not in bad.stderr


def test_a_county_standard_reaches_its_township_in_a_batch(tmp_path):
    """The county sets the standard; the township's next import brings it, history and all."""
    from tests.sync.sites import township_county

    t, c = township_county(tmp_path, 3, seed=5)
    try:
        c.import_(t.export(c))  # the township's first batch: the county now knows it
        st.set_standard(c.store, "rural_dibao", "rural", "2026-07", 450000, "year", "县文件")
        report = t.import_(c.export(t))
        assert report is not None
        s = st.in_effect(t.store, "rural_dibao", "rural", DEC)
        assert (s.amount_fen, s.source, s.note) == (450000, "database", "县文件")
        assert (
            st.in_effect(t.store, "rural_dibao", "rural", dt.date(2026, 6, 1)).amount_fen == 431000
        )
    finally:
        t.store.close()
        c.store.close()


def test_a_version_14_database_upgrades_to_shipped_standards(tmp_path):
    """The last schema before the model changes: the upgrade adds the tables, empty, and
    the shipped example defaults apply until the county sets its own."""
    import shutil

    from mzdesk.models.store import Store

    db = tmp_path / "old.sqlite"
    shutil.copy(ROOT / "tests" / "fixtures" / "schema_v14.sqlite", db)
    store = Store.open(db, operator="tester")
    try:
        assert store.scalar("SELECT count(*) FROM standards") == 0
        assert store.scalar("SELECT count(*) FROM recoveries") == 0
        assert st.in_effect(store, "urban_dibao", "urban", DEC).amount_fen == 52800
        st.set_standard(store, "urban_dibao", "urban", "2026-07", 55000)
        assert st.in_effect(store, "urban_dibao", "urban", DEC).source == "database"
    finally:
        store.close()
