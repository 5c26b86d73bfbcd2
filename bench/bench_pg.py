"""Benchmark: township batches applied into a PostgreSQL receiver (issue 25, item 5).

    python bench/bench_pg.py [--townships 3] [--households 2000] [--url postgresql://…]
    python bench/bench_pg.py --quick      # 2 townships of 20 households: does it still work?
    python bench/bench_pg.py --county [--limit N] [--profile OUT]   # the 30 cached townships

Generates demo townships (SQLite), exports each one's full batch to two counties — one in
PostgreSQL, one in SQLite — and prints, all measured in the same run on the same rows:

* the PostgreSQL county's import of all batches (the shared apply logic, ``models/pg.py``);
* a bare ``COPY`` of the same rows (every synced table, ids kept) into a fresh database of
  the same schema (its triggers included, as the import's): target import <= 3x COPY;
* the SQLite county's import of the same batches: target PostgreSQL <= 1.5x SQLite.

``--county`` takes the county of ``bench/county_data.py`` instead (30 townships of about
33,000 persons, their real full batches, built once and cached; ``--quick`` there means its
quick cache) and applies every batch, in this process and in the same run, into a
PostgreSQL county (the cached county's key and trust list) and into a copy of the cached
SQLite county, then takes the bare ``COPY`` of the PostgreSQL county's rows.  ``--limit N``
applies only the first N batches; ``--profile OUT`` writes a cProfile of the PostgreSQL
import; ``--pg-first`` runs PostgreSQL's import before SQLite's (the load of a shared
machine drifts: run both orders); ``--interleave`` applies each batch to SQLite then to
PostgreSQL, summing each side's time (both see the same load).

Without ``--url`` the bench starts its own throw-away server from Debian's ``postgresql``
package (``tests/pg/server.py``, fsync and synchronous commit on, as SQLite's commits are
durable); with ``--url`` it creates its databases on that server
(the user needs CREATEDB).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

import county_data  # noqa: E402

from mzdesk.hooks import register_hooks  # noqa: E402
from mzdesk.models.demo import generate_demo  # noqa: E402
from mzdesk.models.site import init_site  # noqa: E402
from mzdesk.models.store import Store  # noqa: E402
from mzdesk.sync.apply import import_batch  # noqa: E402
from mzdesk.sync.changelog import SYNCED_TABLES  # noqa: E402
from mzdesk.sync.export import export_batch  # noqa: E402
from mzdesk.sync.keys import init_keys, trust  # noqa: E402


def new_db(server_url: str) -> str:
    import psycopg

    name = "mzbench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name


def site(db: str, code: str, name: str, role: str):
    store = Store.open(db, operator=f"bench-{code}")
    init_site(store, code, name, role)
    return store, init_keys(store)


def apply_all(store, keys, batches: list[Path]) -> float:
    t0 = time.perf_counter()
    for b in batches:
        report = import_batch(store, keys, b.read_bytes(), b.name)
        assert not report.refused, report.refused
    return time.perf_counter() - t0


def copy_baseline(src_url: str, dst_url: str) -> tuple[float, int]:
    """COPY every synced table's rows of the PG county into a fresh database of the same
    schema (triggers on), in one transaction: what the server alone needs for these rows."""
    import psycopg

    Store.open(dst_url, operator="bench").close()  # the schema, as mzdesk init makes it
    rows_total = 0
    took = 0.0
    with psycopg.connect(src_url) as src, psycopg.connect(dst_url) as dst:
        with dst.transaction():
            for t in SYNCED_TABLES:  # one table in memory at a time; only the COPY is timed
                cur = src.execute(f'SELECT * FROM "{t}" ORDER BY 1')
                cols, rows = [d.name for d in cur.description], cur.fetchall()
                if not rows:
                    continue
                names = ", ".join(f'"{c}"' for c in cols)
                t0 = time.perf_counter()
                with dst.cursor().copy(f'COPY "{t}" ({names}) FROM STDIN') as copy:
                    for r in rows:
                        copy.write_row(r)
                took += time.perf_counter() - t0
                rows_total += len(rows)
                del rows
            t0 = time.perf_counter()
        took += time.perf_counter() - t0  # the commit
    return took, rows_total


def same_rows_then_copy(pg_store, sq_store, url: str) -> tuple[tuple, float, int]:
    """Both counties hold the same (households, members, enrolments); both are closed,
    then the PostgreSQL county's rows are COPYed into a new database (the baseline)."""
    counts = {
        k: tuple(
            s.scalar(f"SELECT count(*) FROM {t}") for t in ("households", "members", "enrolments")
        )
        for k, s in (("pg", pg_store), ("sqlite", sq_store))
    }
    assert counts["pg"] == counts["sqlite"], counts
    pg_url = pg_store.path
    pg_store.close()
    sq_store.close()
    copy_s, rows = copy_baseline(pg_url, new_db(url))
    return counts["pg"], copy_s, rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--townships", type=int, default=3)
    ap.add_argument("--households", type=int, default=2000, help="per township")
    ap.add_argument("--url", default=None, help="a server to create the databases on")
    ap.add_argument("--quick", action="store_true", help="2 townships of 20 households")
    ap.add_argument("--county", action="store_true", help="the cached 30-township county")
    ap.add_argument("--limit", type=int, default=None, help="--county: the first N batches")
    ap.add_argument("--profile", default=None, help="--county: cProfile the PG import to OUT")
    ap.add_argument("--pg-first", action="store_true", help="--county: PostgreSQL's import first")
    ap.add_argument(
        "--interleave", action="store_true", help="--county: each batch into SQLite, then PG"
    )
    args = ap.parse_args()
    if args.quick and not args.county:
        args.townships, args.households = 2, 20
    register_hooks()
    work = Path(tempfile.mkdtemp(prefix="mzdesk-bench-pg-"))
    server = None
    url = args.url
    if url is None:
        from tests.pg.server import PgServer

        server = PgServer.start(work / "server", durable=True)  # fsync on, as SQLite's commits
        url = server.url()
    try:
        return run_county(args, work, url) if args.county else run(args, work, url)
    finally:
        if server is not None:
            server.stop()
            server.remove()
        import shutil

        shutil.rmtree(work, ignore_errors=True)  # the county's copy and sites: 2 GB


def run(args, work: Path, url: str) -> int:
    import os

    os.environ.setdefault("MZDESK_PG_FILES", str(work / "pg-files"))
    pg_store, pg_keys = site(new_db(url), "341623", "县民政局", "county")
    sq_store, sq_keys = site(str(work / "county.sqlite"), "341624", "县民政局（SQLite）", "county")
    batches: dict[str, list[Path]] = {"pg": [], "sqlite": []}
    t0 = time.perf_counter()
    for i in range(args.townships):
        code = f"3416231{i:02d}"
        t, tk = site(str(work / f"{code}.sqlite"), code, f"镇{i + 1}", "township")
        generate_demo(t, args.households, seed=i + 1)
        for key, (store, keys) in {
            "pg": (pg_store, pg_keys),
            "sqlite": (sq_store, sq_keys),
        }.items():
            trust(t, keys.public)
            trust(store, tk.public)
            out = work / f"{code}-to-{key}.age"
            export_batch(t, tk, keys.site.code, out, full=True)
            batches[key].append(out)
        t.close()
    print(
        f"generated {args.townships} townships x {args.households} households and their "
        f"batches in {time.perf_counter() - t0:.1f} s"
    )
    sq = apply_all(sq_store, sq_keys, batches["sqlite"])
    pg = apply_all(pg_store, pg_keys, batches["pg"])
    (h, m, _e), copy_s, rows = same_rows_then_copy(pg_store, sq_store, url)
    print(f"households {h}, members {m}, synced rows {rows}")
    print(f"SQLite county import: {sq:.2f} s")
    print(f"PostgreSQL county import: {pg:.2f} s")
    print(f"bare COPY of the same rows (same schema, triggers on): {copy_s:.2f} s")
    print(f"ratio PostgreSQL import / COPY = {pg / copy_s:.2f}x (target <= 3x)")
    print(f"ratio PostgreSQL / SQLite import = {pg / sq:.2f}x (target <= 1.5x)")
    return 0


def load_avg() -> str:
    import os

    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def pg_county(url: str, data) -> tuple[Store, object]:
    """A PostgreSQL county with the cached county's code, key and trust list: the cached
    batches are encrypted to that key."""
    import shutil

    from mzdesk.sync.keys import get_trusted, key_file, load_keys

    store = Store.open(new_db(url), operator="bench")
    init_site(store, *county_data.COUNTY, "county")
    key_file(store).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(
        data.county_db.parent / "county.sqlite.sync" / "keys" / "site-key.json", key_file(store)
    )
    src = Store.open(data.county_db, operator="bench")
    try:
        for t in data.meta["townships"]:
            trusted = get_trusted(src, t["code"])
            assert trusted is not None, t["code"]
            trust(store, trusted.key)
    finally:
        src.close()
    return store, load_keys(store)


def run_county(args, work: Path, url: str) -> int:
    """The 30 cached townships (``bench/county_data.py``) into PostgreSQL and SQLite."""
    import os

    os.environ.setdefault("MZDESK_PG_FILES", str(work / "pg-files"))
    root = county_data.default_cache(args.quick)
    data = county_data.load(root)
    if data is None:
        print(f"no county cache at {root}: run bench/county_data.py first")
        return 1
    batches = data.batches()[: args.limit]
    print(f"{len(batches)} township batches from {root}; load {load_avg()}")
    sq_store = Store.open(data.copy_county(work / "county.sqlite"), operator="bench")
    sq_keys = load_keys_of(sq_store)
    pg_store, pg_keys = pg_county(url, data)

    def sqlite_import() -> float:
        took = apply_all(sq_store, sq_keys, batches)
        print(f"SQLite county import: {took:.1f} s; load {load_avg()}")
        return took

    def pg_import() -> float:
        if args.profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        took = apply_all(pg_store, pg_keys, batches)
        if args.profile:
            prof.disable()
            prof.dump_stats(args.profile)
        print(f"PostgreSQL county import: {took:.1f} s; load {load_avg()}")
        return took

    if args.interleave:  # batch by batch, one into each: both see the same load
        sq = pg = 0.0
        for b in batches:
            sq += apply_all(sq_store, sq_keys, [b])
            pg += apply_all(pg_store, pg_keys, [b])
        print(f"SQLite county import: {sq:.1f} s, PostgreSQL's: {pg:.1f} s (interleaved)")
    elif args.pg_first:  # the machine's load drifts: a second run in the other order
        pg = pg_import()
        sq = sqlite_import()
    else:
        sq = sqlite_import()
        pg = pg_import()
    (h, m, e), copy_s, rows = same_rows_then_copy(pg_store, sq_store, url)
    print(f"bare COPY of the same rows: {copy_s:.1f} s; load {load_avg()}")
    print(f"households {h}, members {m}, enrolments {e}, synced rows {rows}")
    print(f"ratio PostgreSQL import / COPY = {pg / copy_s:.2f}x (target <= 3x)")
    print(f"ratio PostgreSQL / SQLite import = {pg / sq:.2f}x (target <= 1.5x)")
    return 0


def load_keys_of(store: Store):
    from mzdesk.sync.keys import load_keys

    return load_keys(store)


if __name__ == "__main__":
    sys.exit(main())
