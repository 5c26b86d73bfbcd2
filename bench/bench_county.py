"""Benchmark: a county of 30 townships (about 1M persons) on SQLite (issue 25, item 1).

    python bench/bench_county.py [--townships 30] [--persons 33000] [--cache DIR] [--keep DIR]
    python bench/bench_county.py --quick     # 3 townships x 3,000 persons: does it work?

The townships and their real full batches come from ``bench/county_data.py`` (cached under
``$MZDESK_BENCH_CACHE`` or /tmp).  The county imports every batch with the real CLI
(``mzdesk sync import F --db D``, one child process per batch, as an office runs it);
then, on the imported county, in this process:

* total import time (target ≤ 10 min) and the peak RSS of the import processes (≤ 1 GB),
  against SQLite alone copying the same rows into the same schema (``INSERT … SELECT``
  from the imported county, no triggers, no Python, one transaction);
* the cross-township duplicate report (重复享受, ``models/duplicates.py``, ≤ 5 s) against a
  bare indexed ``GROUP BY`` over the active members' ID numbers; it must list exactly the
  planted duplicates and none of the moved people;
* the month's statistics by township and category (``stats --month``: ``monthly_stats``
  with ``by_township``, ≤ 1 s) and the status-bar counts (``stats --json``), against a bare
  ``GROUP BY category`` over the enrolments.

Each figure is printed with its target and its ratio to the baseline measured in the same
run, with the load average (the machine is shared: wall times are pessimistic).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import county_data  # noqa: E402

from mzdesk.models.duplicates import duplicate_report  # noqa: E402
from mzdesk.models.site import init_site  # noqa: E402
from mzdesk.models.stats import registry_stats  # noqa: E402
from mzdesk.models.store import Store  # noqa: E402
from mzdesk.roster.monthly import monthly_stats  # noqa: E402
from mzdesk.sync.changelog import SYNCED_TABLES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"import_s": 600.0, "rss_mb": 1024.0, "duplicates_s": 5.0, "stats_s": 1.0}


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def line(what: str, value: float, unit: str, target: float, base: float | None) -> str:
    ok = "OK" if value <= target else "OVER"
    ratio = f"; {value / base:.1f}x the baseline ({base:.3g} {unit})" if base else ""
    return f"{what}: {value:.3g} {unit}   [target <= {target:g} {unit}] {ok}{ratio}"


def import_all(data: county_data.CountyData, db: Path) -> tuple[float, list[float], float, float]:
    """Every batch through ``mzdesk sync import`` in its own process: (total s, each s,
    peak RSS in MB of the largest import process, CPU s of the import processes)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    each = []
    t0 = time.perf_counter()
    for batch in data.batches():
        t1 = time.perf_counter()
        r = subprocess.run(
            [sys.executable, "-m", "mzdesk", "sync", "import", str(batch), "--db", str(db)],
            env=env,
            capture_output=True,
            text=True,
        )
        if r.returncode:
            raise SystemExit(f"import of {batch.name} failed: {r.stderr.strip() or r.stdout}")
        each.append(time.perf_counter() - t1)
        PEAKS.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    total = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return total, each, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


PEAKS: list[float] = []  # the peak RSS of the import processes so far, after each batch


def bare_copy(src: Path, work: Path) -> float:
    """SQLite alone: the imported rows copied into an empty county schema (no triggers)."""
    dst = work / "bare.sqlite"
    s = Store.open(dst, operator="bench")
    init_site(s, county_data.COUNTY[0], county_data.COUNTY[1], "county")
    s.close()
    conn = sqlite3.connect(dst, isolation_level=None)
    conn.execute("PRAGMA cache_size = -262144")
    conn.execute("PRAGMA synchronous = FULL")
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    tables = [t for t in SYNCED_TABLES if conn.execute(f"PRAGMA table_info({t})").fetchall()]
    conn.execute("ATTACH ? AS src", (str(src),))
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    for t in tables:
        cols = ", ".join(r[1] for r in conn.execute(f"PRAGMA main.table_info({t})"))
        conn.execute(f"INSERT INTO main.{t} ({cols}) SELECT {cols} FROM src.{t} ORDER BY id")
    conn.execute("COMMIT")
    took = time.perf_counter() - t0
    conn.close()
    return took


CPU: list[float] = []  # the CPU time of the last :func:`best` (median), for the printout


def best(fn, runs: int = 3) -> tuple[float, object]:
    """Median wall time of ``runs`` calls (warm cache after the first) and the last result;
    the median CPU time goes to :data:`CPU`."""
    times, cpus, out = [], [], None
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    CPU[:] = [statistics.median(cpus)]
    return statistics.median(times), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--townships", type=int, default=30)
    ap.add_argument("--persons", type=int, default=33_000, help="persons per township")
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--keep", type=Path, default=None, help="keep the imported county here")
    ap.add_argument("--quick", action="store_true", help="3 townships x 3,000 persons")
    a = ap.parse_args()
    if a.quick:
        a.townships, a.persons = 3, 3_000
    moved, dups = (5, 2) if a.quick else (20, 3)
    print(f"load average at start: {load()}")
    t0 = time.perf_counter()
    data = county_data.build(
        a.cache or county_data.default_cache(a.quick),
        a.townships,
        a.persons,
        moved=moved,
        duplicates=dups,
        say=lambda s: print(s, flush=True),
    )
    built = time.perf_counter() - t0
    persons = sum(t["persons"] for t in data.meta["townships"])
    mb = sum(b.stat().st_size for b in data.batches()) / 1e6
    print(
        f"county: {len(data.batches())} townships, {persons} persons, "
        f"{sum(t['households'] for t in data.meta['townships'])} households, batches {mb:.0f} MB "
        f"(built in {data.meta['built_s']} s; this run {built:.1f} s, cache {data.root})"
    )
    work = Path(tempfile.mkdtemp(prefix="mzdesk-bench-county-"))
    try:
        db = data.copy_county(work / "county.sqlite")
        print(f"importing {len(data.batches())} batches (load {load()}) ...", flush=True)
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        total, each, rss, cpu = import_all(data, db)
        cpu -= cpu0.ru_utime + cpu0.ru_stime
        base = bare_copy(db, work)
        print(line("import of all batches", total, "s", TARGETS["import_s"], base))
        print(f"  CPU time of the import processes: {cpu:.0f} s (user + system)")
        print(
            f"  per batch: first {each[0]:.1f} s, last {each[-1]:.1f} s, "
            f"median {statistics.median(each):.1f} s (each a process: start-up included)"
        )
        print(line("peak RSS of an import process", rss, "MB", TARGETS["rss_mb"], None))
        marks = sorted({0, len(PEAKS) // 3, 2 * len(PEAKS) // 3, len(PEAKS) - 1})
        print(
            "  peak so far after batch "
            + ", ".join(f"{i + 1}: {PEAKS[i]:.0f} MB" for i in marks)
            + " (does it grow with the county?)"
        )
        print(f"  load average after the import: {load()}")
        store = Store.open(db, operator="bench")
        n_members = store.scalar("SELECT count(*) FROM members WHERE status = 'active'")
        bare_dup, _ = best(
            lambda: store.conn.execute(
                "SELECT id_number FROM members WHERE status = 'active' AND id_number IS NOT NULL "
                "GROUP BY id_number HAVING count(*) > 1"
            ).fetchall()
        )
        dup_s, report = best(lambda: duplicate_report(store))
        found = sorted(d.id_number for d in report)
        print(line(f"duplicate report over {n_members} IDs", dup_s, "s", 5.0, bare_dup))
        print(f"  CPU {CPU[0]:.2f} s")
        right = found == sorted(data.duplicates) and not set(found) & set(data.moved)
        print(
            f"  found {len(found)} IDs; planted {len(data.duplicates)} duplicates and "
            f"{len(data.moved)} moved people: {'exactly the duplicates' if right else 'MISMATCH'}"
        )
        month = dt.date.today().replace(day=1)
        bare_stats, _ = best(
            lambda: store.conn.execute(
                "SELECT category, count(*), sum(covered), sum(monthly_fen) FROM enrolments "
                "WHERE status = 'active' AND state IN ('active', 'stopped', 'phasing_out', "
                "'suspended') GROUP BY category"
            ).fetchall()
        )
        stats_s, stats = best(lambda: monthly_stats(store, month))
        print(
            line(
                f"monthly statistics {month:%Y-%m} by township and category",
                stats_s,
                "s",
                TARGETS["stats_s"],
                bare_stats,
            )
        )
        print(
            f"  CPU {CPU[0]:.2f} s; {len(stats.get('by_township', []))} township x category rows, "
            f"{len(stats['rows'])} category x village rows, total persons "
            f"{stats['total']['persons']}"
        )
        reg_s, _ = best(lambda: registry_stats(store))
        print(
            f"status counts (stats --json): {reg_s:.3g} s   [no target in the issue]; "
            f"{reg_s / bare_stats:.1f}x the baseline ({bare_stats:.3g} s)"
        )
        print(f"  CPU {CPU[0]:.2f} s")
        store.close()
        print(f"load average at the end: {load()}")
        if a.keep:
            a.keep.mkdir(parents=True, exist_ok=True)
            county_data.copy_db(db, a.keep / "county.sqlite")
            print(f"kept the imported county: {a.keep / 'county.sqlite'}")
        return 0 if right else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
