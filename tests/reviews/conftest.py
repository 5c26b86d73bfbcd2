"""Fixtures for the office's calendar: households (tests/enrolment) and paid enrolments."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from mzdesk.models import enrolment as enr
from tests.enrolment.conftest import family, notice_today, publicised, single  # noqa: F401

AFTER = dt.date(2026, 12, 9)  # the tests' notices (from 2026-12-01, 7 days) are over
CONFIRMED = dt.date(2026, 12, 15)  # payment from 2027-01


def county_sets(store, mode: str) -> None:
    """The county's 民主评议 setting arriving at a township, as its batch writes it."""
    with store.transaction():
        if store.scalar("SELECT 1 FROM site_settings WHERE uid = 'setting-deliberation'"):
            store.conn.execute(
                "UPDATE site_settings SET value = ?, rev = rev + 1 "
                "WHERE uid = 'setting-deliberation'",
                (mode,),
            )
        else:
            store.conn.execute(
                "INSERT INTO site_settings (uid, key, value, created_at, updated_at, "
                "created_by, updated_by) VALUES ('setting-deliberation', 'deliberation', ?, "
                "'2026-11-01 08:00:00', '2026-11-01 08:00:00', '县', '县')",
                (mode,),
            )


def active(store, household_id, **kw):
    """An enrolment confirmed on 2026-12-15 (paid from 2027-01)."""
    e, _ = publicised(store, household_id, **kw)
    enr.submit(store, e.id, today=AFTER)
    return enr.confirm(store, e.id, today=CONFIRMED)


def elderly(store, household):
    """The household head's 高龄津贴 (80-89岁), paid from 2027-01."""
    head = next(m for m in household.members if m.relation == "户主")
    return active(
        store, household.id, category="elderly", member_id=head.id, cls="80-89岁", fen=10000
    )


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``mzdesk ARGS`` as a real process."""
    proc = subprocess.run(
        [sys.executable, "-m", "mzdesk", *args], capture_output=True, text=True, timeout=120
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc
