"""Crash stress test: kill -9 mzdesk at random points during a bulk import and a backup.

After every kill the database must open, pass integrity_check, and hold either
all of the import or none of it (households, members, enrolments and their
audit entries alike); a backup file is either absent or complete and valid.

Runs and size: ``MZDESK_CRASH_RUNS`` (default 100) and
``MZDESK_CRASH_HOUSEHOLDS`` (default 1000, so 100 runs fit in about three
minutes on 2 shared cores; ``MZDESK_CRASH_HOUSEHOLDS=20000`` is the long
import of the issue, measured by hand: see docs/reliability.md).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mzdesk.models.audit import verify
from mzdesk.models.backup import inspect_backup
from mzdesk.models.site import init_site
from mzdesk.models.store import Store

RUNS = int(os.environ.get("MZDESK_CRASH_RUNS", "100"))
HOUSEHOLDS = int(os.environ.get("MZDESK_CRASH_HOUSEHOLDS", "1000"))
BACKUP_SHARE = 10  # one run in ten kills a backup instead of an import


def _mzdesk(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("MZDESK_OPERATOR", None)
    return subprocess.Popen(
        [sys.executable, "-m", "mzdesk", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _timed(*args: str) -> float:
    t = time.perf_counter()
    p = _mzdesk(*args)
    _, err = p.communicate()
    assert p.returncode == 0, err.decode()
    return time.perf_counter() - t


def _check_import(path: Path, n: int) -> bool:
    """The database opens and is whole; returns whether the import was applied."""
    store = Store.open(path, create=False)
    try:
        assert store.integrity_check() == []
        households = store.scalar("SELECT count(*) FROM households")
        assert households in (0, n), f"half-applied import: {households} of {n} households"
        members = store.scalar("SELECT count(*) FROM members")
        assert members == (store.scalar("SELECT sum(member_count) FROM households") or 0)
        assert (
            store.scalar(
                "SELECT count(*) FROM enrolments e LEFT JOIN households h ON h.id = e.household_id "
                "WHERE h.id IS NULL"
            )
            == 0
        )
        assert store.scalar("SELECT count(*) FROM audit_log WHERE tbl = 'households'") == households
        assert verify(store.conn).ok
        return households == n
    finally:
        store.close()


@pytest.mark.slow
def test_kill_9_during_import_and_backup_never_half_applies(tmp_path):
    rng = random.Random(int(os.environ.get("MZDESK_CRASH_SEED", "20261123")))
    base = tmp_path / "base.sqlite"
    s = Store.open(base)
    init_site(s, "341623101", "青山镇")
    s.close()
    big = tmp_path / "big.sqlite"
    shutil.copy(base, big)
    import_time = _timed("demo", "--households", str(HOUSEHOLDS), "--db", str(big))
    backup_time = _timed("backup", "--out", str(tmp_path / "calibrate.sqlite"), "--db", str(big))
    outcomes = {"import none": 0, "import all": 0, "backup none": 0, "backup all": 0}
    started = time.perf_counter()
    for run in range(RUNS):
        if run % BACKUP_SHARE == BACKUP_SHARE - 1:
            out = tmp_path / f"backup-{run}.sqlite"
            p = _mzdesk("backup", "--out", str(out), "--db", str(big))
            time.sleep(rng.uniform(0, backup_time * 1.1))
            p.send_signal(signal.SIGKILL)
            p.wait()
            assert _check_import(big, HOUSEHOLDS)  # the source survives
            if out.exists():
                assert inspect_backup(out).households == HOUSEHOLDS
                outcomes["backup all"] += 1
                out.unlink()
            else:
                outcomes["backup none"] += 1
            continue
        db = tmp_path / "run.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        shutil.copy(base, db)
        p = _mzdesk("demo", "--households", str(HOUSEHOLDS), "--db", str(db))
        time.sleep(rng.uniform(0, import_time * 1.1))
        p.send_signal(signal.SIGKILL)
        p.wait()
        applied = _check_import(db, HOUSEHOLDS)
        outcomes["import all" if applied else "import none"] += 1
    elapsed = time.perf_counter() - started
    print(
        f"\ncrash runs: {RUNS}, households per import: {HOUSEHOLDS}, import {import_time:.1f} s, "
        f"backup {backup_time:.1f} s, outcomes {outcomes}, {elapsed:.0f} s"
    )
    assert sum(outcomes.values()) == RUNS
    assert outcomes["import none"] and outcomes["import all"]  # kills landed on both sides
