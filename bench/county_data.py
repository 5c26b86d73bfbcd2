"""A county of 30 townships and their real full batches (issue 25), for the county bench.

    python bench/county_data.py [--townships 30] [--persons 33000] [--cache DIR]
    python bench/county_data.py --quick      # 3 townships x 3,000 persons

Builds, deterministically for a seed, township sites ``341623101`` … under the county
``341623``: each gets about ``persons`` people in realistic households (the demo generator:
1–6 members, 2–3 character names, valid ID check characters, villages, enrolments in every
category and state), written through the demo's bulk path (``Registry.bulk_create`` and the
enrolment service's demo writer, audited and change-logged like any write).  ID numbers are
unique across the county, but for the overlaps planted on purpose:

* **moved** people: a single-person household with a live enrolment in township *i* is
  注销 there (``Registry.delete``, its enrolment 停发 with 迁出本地) and the same person
  (same ID, name) is registered in township *i + 1* with a live enrolment;
* **duplicates** (重复享受): a person with a live enrolment in township *i* is also
  registered, with a live enrolment of the same category, in township *i + 1*.

Every township then exports its real full batch (``sync export --full``: signed with its
own key, encrypted to the county's) into the cache, beside an empty county site that
trusts all of them (``county.sqlite`` and its keys) and ``county.json`` (the parameters,
the townships, the planted IDs).  A rerun with the same parameters reuses the cache.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from mzdesk.models.demo import DEMO_REFERENCE_DAY, DemoGenerator, insert_demo
from mzdesk.models.enrolment_demo import insert_demo_enrolments
from mzdesk.models.household import Household, Member
from mzdesk.models.registry import Registry
from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from mzdesk.resources import load_json
from mzdesk.sync.export import export_batch
from mzdesk.sync.keys import init_keys, load_keys, trust

COUNTY = ("341623", "县民政局")
FORMAT = 2  # bump when the generated data changes: a cache of another format is rebuilt
PERSONS_PER_HOUSEHOLD = 2.8  # the demo generator's mean household size (measured)
MOVED_REASON = "迁出本地"
_NAMES = (
    "城关镇 青山镇 河口镇 白沙镇 石门镇 龙泉镇 新集镇 双河镇 高桥镇 马店镇 "
    "柳林镇 黄岗镇 三塘镇 杨庙镇 大李集镇 王集乡 张村乡 赵楼乡 花园乡 许疃镇 "
    "西阳镇 楚村镇 板桥镇 立仓镇 小涧镇 义门镇 观堂镇 涡北镇 高公镇 丹城镇"
).split()


def default_cache(quick: bool) -> Path:
    base = Path(os.environ.get("MZDESK_BENCH_CACHE") or tempfile.gettempdir())
    return base / ("mzdesk-county-quick" if quick else "mzdesk-county")


def township_codes(n: int) -> list[tuple[str, str]]:
    """(code, name) of ``n`` townships: 9-digit codes under the county's 6."""
    return [(f"{COUNTY[0]}{101 + i:03d}", _NAMES[i % len(_NAMES)]) for i in range(n)]


@dataclass
class CountyData:
    """What the cache holds: read back by :func:`load`."""

    root: Path
    meta: dict

    @property
    def county_db(self) -> Path:
        return self.root / "county.sqlite"

    def batches(self) -> list[Path]:
        return [self.root / t["batch"] for t in self.meta["townships"]]

    @property
    def duplicates(self) -> dict[str, list[str]]:
        """Planted ID → the two township codes where it is live."""
        return self.meta["planted"]["duplicates"]

    @property
    def moved(self) -> dict[str, list[str]]:
        """Planted ID → [from, to] township codes."""
        return self.meta["planted"]["moved"]

    def copy_county(self, dst: Path) -> Path:
        """A fresh copy of the empty county (database and keys) at ``dst``."""
        copy_db(self.county_db, dst)
        shutil.copytree(Path(str(self.county_db) + ".sync"), Path(str(dst) + ".sync"))
        return dst


def copy_db(src: Path, dst: Path) -> None:
    """Through SQLite's backup API (a file copy misses what is still in the ``-wal``)."""
    with closing(sqlite3.connect(src)) as a, closing(sqlite3.connect(dst)) as b:
        a.backup(b)


def params(townships: int, persons: int, seed: int, moved: int, duplicates: int) -> dict:
    return {
        "format": FORMAT,
        "townships": townships,
        "persons": persons,
        "seed": seed,
        "moved": moved,
        "duplicates": duplicates,
    }


def load(root: Path) -> CountyData | None:
    f = root / "county.json"
    if not f.exists():
        return None
    return CountyData(root, json.loads(f.read_text(encoding="utf-8")))


def build(
    root: Path,
    townships: int = 30,
    persons: int = 33_000,
    seed: int = 25,
    moved: int = 20,
    duplicates: int = 3,
    say=print,
) -> CountyData:
    """The county's cache at ``root`` (reused when built with the same parameters)."""
    want = params(townships, persons, seed, moved, duplicates)
    have = load(root)
    if have and have.meta["params"] == want and all(b.exists() for b in have.batches()):
        return have
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    t0 = time.perf_counter()
    county = Store.open(root / "county.sqlite", operator="bench")
    init_site(county, COUNTY[0], COUNTY[1], "county")
    ck = init_keys(county)
    taken: set[str] = set()  # ID numbers are unique across the county but for the planted
    planted: dict[str, dict[str, list[str]]] = {"duplicates": {}, "moved": {}}
    towns: list[dict] = []
    prev: Path | None = None
    donors: list[dict] = []
    households = max(1, round(persons / PERSONS_PER_HOUSEHOLD))
    villages = load_json("demo.json")["villages"]
    for i, (code, name) in enumerate(township_codes(townships)):
        t1 = time.perf_counter()
        path = root / f"t{code}.sqlite"
        store = Store.open(path, operator="bench")
        init_site(store, code, name, "township")
        tk = init_keys(store)
        trust(store, ck.public)
        trust(county, tk.public)
        gen = DemoGenerator(COUNTY[0], seed * 1_000_003 + i, 1, taken)
        n_villages = max(3, min(20, households // 600 + 3))
        start = (i * 7) % len(villages)  # neighbouring townships' village names differ
        gen.villages = (villages[start:] + villages[:start])[:n_villages]
        made = [gen.household() for _ in range(households)]
        planned = [gen.enrolments(h) for h in made]
        insert_demo(store, made, planned)
        if donors:
            _plant(store, gen, donors, planted, prev_code=towns[-1]["code"], code=code)
            assert prev is not None
            _export(prev, root, towns[-1])
        donors = []
        if i + 1 < townships:  # the people planted here stay where they are
            done = set(planted["duplicates"]) | set(planted["moved"])
            donors = _donors(store, random.Random(seed + i), moved, duplicates, done)
        if donors:
            _move_out(store, [d for d in donors if d["kind"] == "moved"])
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.close()
        towns.append({"code": code, "name": name, "batch": f"{code}.age", "db": path.name})
        prev = path
        say(
            f"  township {i + 1}/{townships} {code} {name}: {households} households "
            f"in {time.perf_counter() - t1:.1f} s"
        )
    assert prev is not None
    _export(prev, root, towns[-1])
    county.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    county.close()
    meta = {
        "params": want,
        "townships": towns,
        "planted": planted,
        "built_s": round(time.perf_counter() - t0, 1),
    }
    (root / "county.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
    return CountyData(root, meta)


def _export(db: Path, root: Path, town: dict) -> None:
    """The township's real full batch to the county, then its database is dropped (the
    batch is all the bench needs; the townships would take gigabytes)."""
    store = Store.open(db, operator="bench")
    res = export_batch(store, load_keys(store), COUNTY[0], root / town["batch"], full=True)
    town["records"] = sum(res.counts.values())
    town["households"] = store.scalar("SELECT count(*) FROM households WHERE status = 'active'")
    town["persons"] = store.scalar("SELECT count(*) FROM members WHERE status = 'active'")
    store.checkpointer.join()
    store.close()
    for f in root.glob(db.name + "*"):
        shutil.rmtree(f) if f.is_dir() else f.unlink()


_LIVE = "e.state = 'active' AND e.status = 'active'"


def _donors(
    store: Store, rng: random.Random, moved: int, duplicates: int, exclude: set[str]
) -> list[dict]:
    """People of this township to plant in the next one: ``moved`` single-person households
    with a live enrolment, and ``duplicates`` people of larger households with a live
    person-level enrolment (高龄津贴, 特困 …)."""
    cols = (
        "SELECT m.name, m.id_number, h.id, e.category, e.class, e.monthly_fen, e.member_id "
        "FROM enrolments e "
        "JOIN households h ON h.id = e.household_id JOIN members m ON m.household_id = h.id "
        f"AND m.status = 'active' WHERE {_LIVE} AND h.status = 'active' "
    )
    singles = store.conn.execute(
        cols + "AND h.member_count = 1 AND NOT EXISTS (SELECT 1 FROM enrolments x WHERE "
        "x.household_id = h.id AND x.id <> e.id) ORDER BY e.uid"
    ).fetchall()
    people = store.conn.execute(
        cols + "AND e.member_id = m.id AND h.member_count > 1 ORDER BY e.uid"
    ).fetchall()
    seen = set(exclude)
    out = []
    for kind, pool, k in (("moved", singles, moved), ("duplicate", people, duplicates)):
        pool = [r for r in pool if r[1] not in seen]
        for name, idn, hid, cat, cls, fen, mid in rng.sample(pool, min(k, len(pool))):
            seen.add(idn)
            out.append(
                dict(
                    kind=kind,
                    name=name,
                    id_number=idn,
                    household_id=hid,
                    category=cat,
                    cls=cls,
                    monthly_fen=fen,
                    personal=mid is not None,
                )
            )
    return out


def _move_out(store: Store, moved: list[dict]) -> None:
    """注销 the moved people's households here: their enrolment 停发 (迁出本地) first."""
    if not moved:
        return
    reg = Registry(store)
    with store.transaction():
        for d in moved:
            store.conn.execute(
                "UPDATE enrolments SET state = 'stopped', end_on = '2025-12-31', "
                "stop_reason = ?, rev = rev + 1 WHERE household_id = ? AND state = 'active'",
                (MOVED_REASON, d["household_id"]),
            )
            reg.delete(d["household_id"], MOVED_REASON)


def _plant(
    store: Store,
    gen: DemoGenerator,
    donors: list[dict],
    planted: dict,
    prev_code: str,
    code: str,
) -> None:
    """Register the donors of the previous township here, each in a household of their
    own with a live enrolment of the category they had there."""
    made: list[Household] = []
    for d in donors:
        h = gen.household()
        head = h.members[0]
        m = Member(name=d["name"], relation="户主")
        m.id_number = d["id_number"]
        m.health, m.occupation, m.labour_capacity = (
            head.health,
            head.occupation,
            head.labour_capacity,
        )
        m.uid = gen.uid()
        h.members = [m]
        made.append(h)
    reg = Registry(store)
    with store.transaction():
        reg.bulk_create(made, today=max(dt.date.today(), DEMO_REFERENCE_DAY))
        stamp = store.stamp(new=True)
        rows, uids = [], []
        for h, d in zip(made, donors, strict=True):
            person = d["personal"]
            uid = gen.uid()
            uids.append(uid)
            rows.append(
                (
                    uid,
                    h.id,
                    h.members[0].id if person else None,
                    d["category"],
                    d["cls"],
                    "active",
                    1,
                    d["monthly_fen"],
                    "2025-06-01",
                    "2025-07-01",
                    None,
                    stamp["created_at"],
                    stamp["updated_at"],
                    stamp["created_by"],
                    stamp["updated_by"],
                )
            )
            where = "duplicates" if d["kind"] == "duplicate" else "moved"
            planted[where][d["id_number"]] = [prev_code, code]
        insert_demo_enrolments(store, rows)
        # the demo writer spreads new enrolments over every state: these stay live
        marks = ", ".join("?" * len(uids))
        store.conn.execute(
            "UPDATE enrolments SET state = 'active', start_on = '2025-07-01', end_on = NULL, "
            f"stop_reason = '' WHERE uid IN ({marks})",
            uids,
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--townships", type=int, default=30)
    ap.add_argument("--persons", type=int, default=33_000, help="persons per township")
    ap.add_argument("--seed", type=int, default=25)
    ap.add_argument("--cache", type=Path, default=None, help="default: $MZDESK_BENCH_CACHE or /tmp")
    ap.add_argument("--quick", action="store_true", help="3 townships x 3,000 persons")
    a = ap.parse_args()
    if a.quick:
        a.townships, a.persons = 3, 3_000
    root = a.cache or default_cache(a.quick)
    moved, dups = (5, 2) if a.quick else (20, 3)
    t0 = time.perf_counter()
    data = build(root, a.townships, a.persons, a.seed, moved, dups)
    print(
        f"{root}: {len(data.batches())} batches, {len(data.duplicates)} duplicates, "
        f"{len(data.moved)} moved, in {time.perf_counter() - t0:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
