"""What export (:mod:`.export`) and import (:mod:`.apply`) share: the progress scale,
the callbacks' types, the clerk's names of the synced tables, and the two connection
settings a batch runs under (a durable commit, a big page cache)."""

from __future__ import annotations

import contextlib
from typing import Any

from ..models.store import Store

# progress in parts of PROGRESS.  Import: reading and parsing the batch take the first
# PARSED (measured at 100k households: ~7 s of ~37), applying it the rest.  Export:
# reading the records the first READ (~6.5 s of ~10), then sync_pending, encryption, commit
PROGRESS, PARSED, READ = 1000, 200, 650

TABLE_LABELS = {
    "households": "家庭",
    "members": "成员",
    "enrolments": "救助对象",
    "visits": "入户调查",
    "visit_photos": "照片",
    "followup_tasks": "跟进任务",
    "enrolment_events": "办理记录",
    "enrolment_components": "保障金额构成",
    "notices": "公示",
    "notice_items": "公示条目",
    "objections": "异议",
    "care_booklets": "关爱簿",
    "spot_checks": "抽查",
    "spot_check_items": "抽查对象",
    "declared_relatives": "近亲属备案",
    "standards": "保障标准",
    "recoveries": "追缴与补发",
    "site_settings": "县级设置",
    "review_plans": "复核周期",
    "survival_checks": "生存认证",
    "payment_runs": "一次性发放",
    "payment_run_lines": "一次性发放名单",
    "cases": "临时救助与医疗救助",
}


def noop(done: int, total: int) -> None:
    """A :data:`Progress` that shows nothing."""


def noop_step(part: float) -> None:
    """A step callback (a fraction of one table applied) that shows nothing."""


def durable(store: Store) -> contextlib.AbstractContextManager[Any]:
    """The commit is on disk when it returns (WAL synced, ``synchronous = FULL``), not only
    after the next checkpoint: an export hands a file out, and a power cut must not forget
    it was made.  Joined to an outer transaction, that one's commit decides (SQLite refuses
    to change the level inside a transaction)."""
    if store.conn.in_transaction:
        return contextlib.nullcontext()
    return store.pragma("synchronous", 2)


def big_cache(store: Store) -> contextlib.AbstractContextManager[Any]:
    """A 256 MB page cache for the duration of a batch: the uid indexes take random inserts."""
    return store.pragma("cache_size", -262144)


def temp_on_disk(store: Store, large: bool) -> contextlib.AbstractContextManager[Any]:
    """For a large batch (``large``: read by the worker, :mod:`staging`) into a database in
    clear: temp tables and the savepoint journals of the bulk moves in a temp file (the OS's
    page cache) instead of the heap.  Measured on a county of 1M persons, those journals
    held 190–330 MB of a township's import, and more as the county grows (issue 25).  An
    encrypted database keeps them in memory (a temp file would hold its pages in clear);
    so does a small batch.  SQLite refuses the change inside a transaction: then nothing."""
    if not large or getattr(store, "key", None) is not None or store.conn.in_transaction:
        return contextlib.nullcontext()
    return store.pragma("temp_store", 1)
