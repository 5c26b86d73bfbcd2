"""Golden batches of every format version must keep importing (issue 6, "formats last").

Each ``golden/vN/`` holds batches written by format version N with test keys
(see make_golden.py).  A fresh county database at today's schema imports them
in order and must report the same counts and hold the same content; fields
added by later migrations are not in the old files and are not compared.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from mzdesk.sync.keys import PublicKey, key_file, load_keys, trust

from .sites import content

GOLDEN = Path(__file__).parent / "golden"
VERSIONS = sorted(p for p in GOLDEN.iterdir() if p.is_dir())


def test_there_is_a_golden_set_for_format_version_1():
    assert [p.name for p in VERSIONS][:1] == ["v1"]


@pytest.mark.parametrize("version", VERSIONS, ids=lambda p: p.name)
def test_golden_batches_still_import(tmp_path, version):
    store = Store.open(tmp_path / "county.sqlite", operator="golden")
    init_site(store, "341623", "县民政局", "county")
    kf = key_file(store)
    kf.parent.mkdir(parents=True)
    shutil.copy(version / "county-site-key.json", kf)
    trust(
        store, PublicKey.from_json((version / "township-public.json").read_text(encoding="utf-8"))
    )
    keys = load_keys(store)
    expected = json.loads((version / "expected.json").read_text(encoding="utf-8"))
    from mzdesk.sync.apply import import_batch

    batches = sorted(version.glob("batch-*.age"), key=lambda p: int(p.stem.split("-")[1]))
    for path, want in zip(batches, expected["reports"], strict=True):
        got = import_batch(store, keys, path.read_bytes(), path.name).as_dict()
        # later versions may report more; what was reported then must read the same now
        assert {k: got.get(k) for k in want} == want, path.name
    have = content(store)
    for table, rows in expected["content"].items():
        assert set(have[table]) == set(rows), table
        for uid, body in rows.items():
            now = json.loads(have[table][uid])
            assert {k: now.get(k) for k in json.loads(body)} == json.loads(body), (table, uid)
    store.close()
