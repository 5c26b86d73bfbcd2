"""A county database of about a million persons, built fast for the list/search bench.

Not the import path (``bench/county_data.py`` and ``bench/bench_county.py`` build the
real signed batches and import them): this writes what such an import leaves at the
county straight into a freshly migrated schema, with the bulk writer the import uses
(:func:`mzdesk.models.bulk.insert_many`: every audit entry and change-log row as the
triggers would write them, the audit entry naming its batch as the applier does).

What a township's record carries at the county (``mzdesk/sync/applier.py``): the
record's own columns and its created/updated stamps, and a *base* in ``sync_base``
(``peer`` = the township's site code, ``tbl``, ``uid``): that base is how the county
knows which township a household came from (the township filter of the list,
:func:`mzdesk.models.paging.township_filter`).  Each township is a trusted
``sync_sites`` row with its name.

    python bench/county_db.py [--persons 1000000] [--townships 30] [--seed 1]

The file is cached under ``$MZDESK_BENCH_CACHE`` (default ``/tmp/mzdesk-county-list``),
named by size, seed and schema version, and reused when it exists: a deterministic seed gives the same
rows every time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mzdesk.models import bulk  # noqa: E402
from mzdesk.models.ids import check_char  # noqa: E402
from mzdesk.models.migrations import MIGRATIONS  # noqa: E402
from mzdesk.models.pinyin import name_keys  # noqa: E402
from mzdesk.models.site import init_site  # noqa: E402
from mzdesk.models.store import Store  # noqa: E402
from mzdesk.resources import load_json  # noqa: E402

COUNTY = ("341623", "利辛县民政局")
SIZES = (1, 2, 3, 4, 5, 6)
SIZE_WEIGHTS = (20, 25, 25, 18, 8, 4)
TOWN_NAMES = (
    "青山 城关 王人 张村 大李集 阚疃 江集 永兴 孙集 刘家集 纪王场 中疃 汝集 巩店 展沟".split()
)
CATEGORIES = (  # household-level category, share of households, monthly fen
    ("rural_dibao", 0.30, 48_000),
    ("urban_dibao", 0.06, 61_000),
    ("dibao_edge", 0.04, 0),
    ("tekun", 0.03, 72_000),
    ("orphan", 0.004, 130_000),
)
STAMP = "2026-06-01 09:00:00"

H_COLS = (
    "id",
    "uid",
    "village",
    "village_group",
    "area_type",
    "phone",
    "phone_rev",
    "head_name",
    "head_py",
    "head_id_number",
    "member_count",
    "status",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
)
M_COLS = (
    "id",
    "uid",
    "household_id",
    "seq",
    "name",
    "id_number",
    "id_rev",
    "gender",
    "birth_date",
    "relation",
    "name_tail",
    "py_initials",
    "py_full",
    "status",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
)
E_COLS = (
    "uid",
    "household_id",
    "member_id",
    "category",
    "state",
    "covered",
    "monthly_fen",
    "applied_on",
    "start_on",
    "status",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
)


def cache_dir() -> Path:
    return Path(os.environ.get("MZDESK_BENCH_CACHE", "/tmp/mzdesk-county-list"))


def township_sites(n: int) -> list[tuple[str, str]]:
    """(9-digit site code, name) of ``n`` townships under the county."""
    out = []
    for i in range(n):
        base = TOWN_NAMES[i % len(TOWN_NAMES)]
        name = base + ("镇" if i < len(TOWN_NAMES) else f"{i // len(TOWN_NAMES) + 1}乡")
        out.append((f"{COUNTY[0]}{101 + i:03d}", name + "民政办"))
    return out


class Generator:
    """Households, members and enrolments as row tuples, from one seed."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        data = load_json("demo.json")
        self.surnames = data["surnames"]
        self.surname_weights = [max(1, 30 - i // 3) for i in range(len(self.surnames))]
        self.male, self.female = data["male_chars"], data["female_chars"]
        self.villages = data["villages"]
        self.groups = data["groups"]
        self.taken: set[str] = set()
        self.hid = self.mid = 0

    def uid(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    def id_number(self, region: str, age: int, gender: str) -> tuple[str, str]:
        r = self.rng
        born = dt.date(2026, 1, 1) - dt.timedelta(days=age * 365 + r.randrange(0, 365))
        while True:
            seq = r.randrange(0, 500) * 2 + (1 if gender == "M" else 0)
            body = f"{region}{born:%Y%m%d}{seq:03d}"
            number = body + check_char(body)
            if number not in self.taken:
                self.taken.add(number)
                return number, born.isoformat()

    def name(self, surname: str, gender: str) -> str:
        chars = self.male if gender == "M" else self.female
        given = self.rng.choice(chars)
        if self.rng.random() < 0.7:
            given += self.rng.choice(chars)
        return surname + given

    def household(self, site: str, villages: list[str]) -> tuple[tuple, list[tuple], list[tuple]]:
        r = self.rng
        self.hid += 1
        hid = self.hid
        size = r.choices(SIZES, SIZE_WEIGHTS)[0]
        surname = r.choices(self.surnames, self.surname_weights)[0]
        head_age = r.randint(18 if size == 1 else 24, 92)
        region = site[:6]
        members, head = [], None
        for seq in range(size):
            gender = r.choice("MF") if seq else ("M" if r.random() < 0.8 else "F")
            age = head_age if seq == 0 else r.randint(0, 90)
            own = surname if seq != 1 else r.choices(self.surnames, self.surname_weights)[0]
            name = self.name(own, gender)
            number, born = self.id_number(region, age, gender)
            initials, full = name_keys(name)
            relation = "户主" if seq == 0 else ("配偶" if seq == 1 else "子")
            self.mid += 1
            members.append(
                (self.mid, self.uid(), hid, seq, name, number, number[::-1], gender, born)
                + (relation, name[1:], initials, full, "active", STAMP, STAMP, site, site)
            )
            if seq == 0:
                head = (name, full, number)
        assert head is not None
        village = r.choice(villages)
        phone = f"1{r.choice('3578')}{r.randrange(0, 10**9):09d}"
        status = "deleted" if r.random() < 0.02 else "active"
        house = (hid, self.uid(), village, r.choice(self.groups[: 4 + len(village) % 6]))
        house += ("urban" if village.endswith("社区") else "rural", phone, phone[::-1])
        house += (*head, size, status, STAMP, STAMP, site, site)
        enrolments = []
        x = r.random() if status == "active" else 1.0  # a deleted household holds none
        for category, share, fen in CATEGORIES:
            if x < share:
                member = members[0][0] if category in ("tekun", "orphan") else None
                # a few still 待审核: the county's review queue
                state = r.choices(("active", "stopped", "submitted"), (83, 15, 2))[0]
                enrolments.append(
                    (self.uid(), hid, member, category, state, size, fen * size)
                    + ("2025-06-01", "2025-07-01", "active", STAMP, STAMP, site, site)
                )
                break
            x -= share
        return house, members, enrolments


def build(path: Path, persons: int, townships: int, seed: int, say=print) -> Path:
    """Write a county database of about ``persons`` persons to ``path`` (replaced)."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    store = Store.open(path, operator="county-bench")
    init_site(store, COUNTY[0], COUNTY[1], "county")
    gen = Generator(seed)
    sites = township_sites(townships)
    per_site = persons // townships
    t0 = time.perf_counter()
    with store.checkpoint_after(), store.transaction() as conn:
        conn.executemany(
            "INSERT INTO sync_sites (code, name, role, age_recipient, sign_key, fingerprint, "
            "since) VALUES (?, ?, 'township', '', '', '', ?)",
            [(code, name, STAMP) for code, name in sites],
        )
        for n, (code, _name) in enumerate(sites):
            rng = random.Random(seed * 7919 + n)
            villages = rng.sample(gen.villages, 15)  # names repeat between townships
            houses, members, enrols = [], [], []
            count = 0
            while count < per_site:
                h, ms, es = gen.household(code, villages)
                houses.append(h)
                members += ms
                enrols += es
                count += len(ms)
            source = f"sync:{code}:1:bench"  # the applier names the batch; here a fixed text
            bulk.insert_many(conn, "households", H_COLS, houses, audit_new=source)
            bulk.insert_many(conn, "members", M_COLS, members, audit_new=source)
            bulk.insert_many(conn, "enrolments", E_COLS, enrols, audit_new=source)
            bases = [(code, "households", h[1]) for h in houses]
            bases += [(code, "members", m[1]) for m in members]
            bases += [(code, "enrolments", e[0]) for e in enrols]
            conn.executemany(
                "INSERT INTO sync_base (peer, tbl, uid, hash, batch_id) VALUES (?, ?, ?, '', 1)",
                sorted(bases),
            )
            say(
                f"   {code}: {len(houses):,} households, {len(members):,} persons "
                f"({time.perf_counter() - t0:.0f} s)"
            )
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


def county_db(
    persons: int = 1_000_000,
    townships: int = 30,
    seed: int = 1,
    say=print,
    cache: Path | None = None,
) -> Path:
    """The cached county database for this size, seed and schema version, built on first
    use (in ``cache``, else :func:`cache_dir`)."""
    version = len(MIGRATIONS)
    name = f"county-{persons}-{townships}-{seed}-v{version}.sqlite"
    path = (cache or cache_dir()) / name
    done = path.with_name(path.name + ".done")  # written last: a half-built file is redone
    if not (path.exists() and done.exists()):
        done.unlink(missing_ok=True)
        say(f"== building {path} ({persons:,} persons, {townships} townships, seed {seed})")
        t0 = time.perf_counter()
        build(path, persons, townships, seed, say)
        done.write_text(f"built in {time.perf_counter() - t0:.1f} s\n", encoding="utf-8")
        say(f"   built in {time.perf_counter() - t0:.1f} s")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--townships", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print(county_db(args.persons, args.townships, args.seed))


if __name__ == "__main__":
    main()
