"""Crash stress test, part two: kill -9 during a roster import and a sync import.

Same pattern as tests/admin/test_crash.py (demo import and backup): a
subprocess runs ``mzdesk roster import FILE`` or ``mzdesk sync import F`` on a
fresh copy of a base database and is killed with SIGKILL after a random delay
in [0, 1.1 x the measured duration].  After every kill the database opens,
``integrity_check`` is clean, the audit chain verifies, and the import is
either wholly applied or not at all (households, members, enrolments, the
import's own bookkeeping row, audit entries).

Runs and size: ``MZDESK_CRASH_IMPORT_RUNS`` (default 30 per path, 60 in all)
and ``MZDESK_CRASH_IMPORT_HOUSEHOLDS`` (default 300), so both fit in about
90 s on 2 shared cores; figures in docs/reliability.md.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import time
from pathlib import Path

import pytest

from mzdesk.models.ids import check_char
from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from tests.admin.test_crash import _check_import, _mzdesk, _timed

RUNS = int(os.environ.get("MZDESK_CRASH_IMPORT_RUNS", "30"))
HOUSEHOLDS = int(os.environ.get("MZDESK_CRASH_IMPORT_HOUSEHOLDS", "300"))
SEED = int(os.environ.get("MZDESK_CRASH_SEED", "20261123"))


def _id(i: int, k: int) -> str:
    born = (dt.date(1950, 1, 1) + dt.timedelta(days=i)).strftime("%Y%m%d")
    body = f"341623{born}{k + 1:03d}"
    return body + check_char(body)


def _fresh(base: Path, db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(base, db)


def _check(path: Path, n: int, bookkeeping: str) -> bool:
    """The database opens and is whole (the shared crash check); returns whether the
    import was applied.  ``bookkeeping`` counts the import's own record (0 before, 1 after),
    and enrolments exist exactly when the households do.
    """
    applied = _check_import(path, n)
    store = Store.open(path, create=False)
    try:
        assert store.scalar(bookkeeping) == (1 if applied else 0)
        assert applied == (store.scalar("SELECT count(*) FROM enrolments") > 0)
        return applied
    finally:
        store.close()


def _kill_runs(
    rng: random.Random,
    base: Path,
    db: Path,
    args: list[str],
    duration: float,
    bookkeeping: str,
    before_run=None,
) -> dict[str, int]:
    outcomes = {"none": 0, "all": 0}
    for _ in range(RUNS):
        _fresh(base, db)
        if before_run:
            before_run()
        p = _mzdesk(*args, "--db", str(db))
        time.sleep(rng.uniform(0, duration * 1.1))
        p.send_signal(signal.SIGKILL)
        p.wait()
        outcomes["all" if _check(db, HOUSEHOLDS, bookkeeping) else "none"] += 1
    return outcomes


@pytest.mark.slow
def test_kill_9_during_roster_import_never_half_applies(tmp_path):
    from tests.roster.books import member_per_row

    rng = random.Random(SEED)
    book = tmp_path / "花名册.xlsx"
    member_per_row(
        book,
        [
            {
                "village": "红旗村" if i % 2 else "新华村",
                "members": [(f"张{i}甲", "户主", _id(i, 0)), (f"王{i}乙", "配偶", _id(i, 1))],
            }
            for i in range(HOUSEHOLDS)
        ],
    )
    base = tmp_path / "base.sqlite"
    s = Store.open(base)
    init_site(s, "341623101", "青山镇")
    s.close()
    db = tmp_path / "run.sqlite"
    _fresh(base, db)
    args = ["roster", "import", str(book)]
    duration = _timed(*args, "--db", str(db))
    assert _check(db, HOUSEHOLDS, "SELECT count(*) FROM import_batches")
    started = time.perf_counter()
    outcomes = _kill_runs(rng, base, db, args, duration, "SELECT count(*) FROM import_batches")
    print(
        f"\nroster crash runs: {RUNS}, households: {HOUSEHOLDS}, import {duration:.2f} s, "
        f"outcomes {outcomes}, {time.perf_counter() - started:.0f} s"
    )
    assert outcomes["none"] and outcomes["all"]  # kills landed on both sides


@pytest.mark.slow
def test_kill_9_during_sync_import_never_half_applies(tmp_path):
    from tests.sync.sites import link, make_site

    rng = random.Random(SEED + 1)
    town = make_site(tmp_path, "341623101", "青山镇", "township")
    county = make_site(tmp_path, "341623", "县民政局", "county")
    link(town, county)
    town.store.close()
    _timed("demo", "--households", str(HOUSEHOLDS), "--db", town.store.path)
    town.store = Store.open(town.store.path, operator="clerk")
    batch = town.export(county)
    town.store.close()
    db = Path(county.store.path)  # its keys live beside it, in <db>.sync/keys/
    county.store.close()
    base = tmp_path / "county-base.sqlite"
    shutil.copy(db, base)
    held = Path(f"{db}.sync") / "held"

    def clear_held() -> None:
        shutil.rmtree(held, ignore_errors=True)

    bookkeeping = "SELECT count(*) FROM sync_batches WHERE direction = 'in'"
    args = ["sync", "import", str(batch)]
    duration = _timed(*args, "--db", str(db))
    assert _check(db, HOUSEHOLDS, bookkeeping)
    started = time.perf_counter()
    outcomes = _kill_runs(rng, base, db, args, duration, bookkeeping, clear_held)
    print(
        f"\nsync crash runs: {RUNS}, households: {HOUSEHOLDS}, import {duration:.2f} s, "
        f"outcomes {outcomes}, {time.perf_counter() - started:.0f} s"
    )
    assert outcomes["none"] and outcomes["all"]
