"""A small county (3 townships) built by bench/county_data.py: real sites, real keys, real
full batches, imported by the real sync import service."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mzdesk.models.store import Store
from mzdesk.sync.apply import import_batch
from mzdesk.sync.keys import load_keys

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import county_data  # noqa: E402

SMALL = dict(townships=3, persons=1500, seed=25, moved=4, duplicates=2)


def build(root: Path, **kw) -> county_data.CountyData:
    return county_data.build(root, **{**SMALL, **kw}, say=lambda s: None)


def imported(data: county_data.CountyData, db: Path, order=None) -> Path:
    """A fresh county with every batch imported (in ``order``: indexes of the batches)."""
    data.copy_county(db)
    store = Store.open(db, operator="tester")
    keys = load_keys(store)
    batches = data.batches()
    for i in order or range(len(batches)):
        import_batch(store, keys, batches[i].read_bytes(), batches[i].name)
    store.close()
    return db


@pytest.fixture(scope="session")
def county(tmp_path_factory) -> tuple[county_data.CountyData, Path]:
    """(the generated data, a county database with all its batches imported)."""
    base = tmp_path_factory.mktemp("county")
    data = build(base / "cache")
    return data, imported(data, base / "county.sqlite")
