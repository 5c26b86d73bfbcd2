"""Benchmark: full snapshot batch of a large township, township -> county.

    python bench/bench_sync.py [--households 100000] [--repeat N] [--cache PATH]
    python bench/bench_sync.py --quick   # 30 households, no shared cache: does it still work?

Prints: export time (target <= 10 s), the age encryption throughput inside the
export against bare pyrage on the same bytes in the same run (target >= 50%),
and import time into an empty county database (target <= 20 s) with its ratio to
SQLite alone copying the same rows into the same schema (no triggers, no Python).  Times
are what the caller waits for: the export and the import commit durably (WAL synced) and
return; copying the WAL into the database file (the checkpoint) follows on a thread of its
own, and is printed separately (the baseline is timed the same way).  The demo
township is cached (it takes a while to generate) and copied for each run.  With
``--repeat N`` the export and the import each run N times on fresh copies (the machine's
run-to-run noise is about ±10%) and the medians are judged.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import pyrage

from mzdesk.models.demo import generate_demo
from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from mzdesk.sync import batch as batch_mod
from mzdesk.sync.apply import import_batch
from mzdesk.sync.changelog import SYNCED_TABLES
from mzdesk.sync.export import export_batch
from mzdesk.sync.keys import init_keys, load_keys, trust


def copy_db(src: Path, dst: Path) -> None:
    """Copy a database through SQLite's backup API.  A file copy misses what is still in
    the ``-wal`` (the store checkpoints large transactions on a thread after they return)
    and, in a process holding a connection, opening and closing the file drops its locks."""
    with closing(sqlite3.connect(src)) as a, closing(sqlite3.connect(dst)) as b:
        a.backup(b)


CACHE = "mzdesk-bench-sync.sqlite"


def township_db(path: Path, households: int, cache: Path) -> None:
    if cache.exists():
        s = Store.open(cache)
        n = s.scalar("SELECT count(*) FROM households")
        s.close()
        if n == households:
            copy_db(cache, path)
            return
        cache.unlink()
    t = time.perf_counter()
    s = Store.open(cache, operator="bench")
    init_site(s, "341623101", "青山镇", "township")
    generate_demo(s, households, seed=7)
    s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    print(f"generated {households} demo households in {time.perf_counter() - t:.1f} s (cached)")
    copy_db(cache, path)


def bare_copy_s(src: Path, work: Path) -> tuple[float, float]:
    """Baseline: the same rows copied into the same county schema by SQLite alone
    (``INSERT … SELECT`` from the attached township file, ids kept, no audit or change-log
    triggers, no Python, no batch): what the indexes alone cost."""
    s = Store.open(work / "bare.sqlite", operator="bench")
    init_site(s, "341623", "县民政局", "county")
    s.close()
    conn = sqlite3.connect(work / "bare.sqlite", isolation_level=None)
    conn.execute("PRAGMA cache_size = -262144")
    conn.execute("PRAGMA synchronous = FULL")  # as the import: durable when COMMIT returns
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # and the WAL's copy after it, as the import
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("ATTACH ? AS src", (str(src),))
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    for t in SYNCED_TABLES:
        cols = [r[1] for r in conn.execute(f"PRAGMA main.table_info({t})")]
        if not cols:
            continue
        conn.execute(
            f"INSERT INTO main.{t} ({', '.join(cols)}) SELECT {', '.join(cols)} "
            f"FROM src.{t} ORDER BY id"
        )
    conn.execute("COMMIT")
    took = time.perf_counter() - t0
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    copy = time.perf_counter() - t0 - took
    conn.close()
    return took, copy


def _copy_site(src: Path, dst: Path) -> Store:
    """A fresh copy of a prepared site (database and its keys), opened."""
    copy_db(src, dst)
    shutil.copytree(Path(str(src) + ".sync"), Path(str(dst) + ".sync"))
    return Store.open(dst, operator="bench")


def _closed(store: Store) -> None:
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


def _summary(values: list[float]) -> str:
    v = sorted(values)
    if len(v) == 1:
        return f"{v[0]:.2f} s"
    return f"median {statistics.median(v):.2f} s (min {v[0]:.2f}, max {v[-1]:.2f}, {len(v)} runs)"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="the generated township, kept between runs (default: "
        f"{Path(tempfile.gettempdir()) / 'mzdesk-bench-sync.sqlite'}; with --quick: none)",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of the export and of the import, each on fresh copies; the "
        "median is judged against the targets",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="30 households, one run: checks that the benchmark works (figures meaningless)",
    )
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mzdesk-bench-sync-"))
    if a.quick:
        a.households, a.repeat = 30, 1
    if a.cache is None:  # a quick run must not replace the big township cached for real runs
        a.cache = work / "cache.sqlite" if a.quick else Path(tempfile.gettempdir()) / CACHE
    try:
        township_db(work / "t.sqlite", a.households, a.cache)
        t = Store.open(work / "t.sqlite", operator="bench")
        c = Store.open(work / "c.sqlite", operator="bench")
        init_site(c, "341623", "县民政局", "county")
        tk, ck = init_keys(t), init_keys(c)
        trust(t, ck.public)
        trust(c, tk.public)
        members = t.scalar("SELECT count(*) FROM members")
        _closed(t)
        _closed(c)

        timing = {}
        real_encrypt = pyrage.encrypt

        def timed_encrypt(data, recipients):
            t0 = time.perf_counter()
            out = real_encrypt(data, recipients)
            timing["encrypt_s"] = time.perf_counter() - t0
            timing["plain"] = data
            timing["recipients"] = recipients
            return out

        exports, ratios, export_copies, import_copies = [], [], [], []
        for i in range(a.repeat):
            t = _copy_site(work / "t.sqlite", work / f"t{i}.sqlite")
            keys = load_keys(t)
            batch_mod.pyrage.encrypt = timed_encrypt
            try:
                t0 = time.perf_counter()
                res = export_batch(t, keys, "341623", work / "full.age", full=True)
                exports.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                t.checkpointer.join()  # the WAL's copy into the file, after the caller's wait
                export_copies.append(time.perf_counter() - t0)
            finally:
                batch_mod.pyrage.encrypt = real_encrypt
            t.close()
            plain = timing["plain"]
            t0 = time.perf_counter()
            real_encrypt(plain, timing["recipients"])
            bare_s = time.perf_counter() - t0
            mb = len(plain) / 1e6
            in_export, bare = mb / timing["encrypt_s"], mb / bare_s
            ratios.append(in_export / bare)
            for f in work.glob(f"t{i}.sqlite*"):
                shutil.rmtree(f) if f.is_dir() else f.unlink()

        data = (work / "full.age").read_bytes()
        imports = []
        for i in range(a.repeat):
            c = _copy_site(work / "c.sqlite", work / f"c{i}.sqlite")
            keys = load_keys(c)
            t0 = time.perf_counter()
            rep = import_batch(c, keys, data, "full.age")
            imports.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            c.checkpointer.join()
            import_copies.append(time.perf_counter() - t0)
            tot = rep.totals()
            c.close()
            for f in work.glob(f"c{i}.sqlite*"):
                shutil.rmtree(f) if f.is_dir() else f.unlink()
        bare_s, bare_copy = bare_copy_s(work / "t.sqlite", work)

        export_s, import_s = statistics.median(exports), statistics.median(imports)
        ratio = statistics.median(ratios)
        print(f"households {a.households}, members {members}, records {sum(res.counts.values())}")
        print(f"batch: plaintext zip {mb:.1f} MB, encrypted file {res.bytes / 1e6:.1f} MB")
        print(
            f"export (full snapshot): {_summary(exports)}   [target <= 10 s] "
            f"{'OK' if export_s <= 10 else 'OVER'}"
        )
        print(
            f"encryption in export: {in_export:.0f} MB/s; bare pyrage same bytes: {bare:.0f} MB/s; "
            f"ratio {ratio:.0%}   [target >= 50%]"
        )
        print(
            f"import into empty county: {_summary(imports)}   [target <= 20 s] "
            f"{'OK' if import_s <= 20 else 'OVER'}; new {tot.new}, conflicts {tot.conflicts}"
        )
        print(
            f"baseline, same rows into the same schema by SQLite alone (INSERT ... SELECT, no "
            f"triggers, no Python): {bare_s:.2f} s; import / baseline {import_s / bare_s:.1f}x"
        )
        print(
            f"after the call, off the caller's wait: the WAL copied into the database file "
            f"(checkpoint thread): export {statistics.median(export_copies):.2f} s, import "
            f"{statistics.median(import_copies):.2f} s, baseline {bare_copy:.2f} s"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
