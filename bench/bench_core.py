"""Benchmark of the core registry on a 100,000-household township (issue 2).

Every figure is printed with its ratio to a bare baseline measured in the
same run, on the same machine, against the same data:

* bulk creation (demo generator -> ``Registry.bulk_create``) vs raw sqlite3
  ``executemany`` of the very same rows into the same schema; generating the
  households (Python, random numbers) is timed separately from writing them;
* find-as-you-type search, p50/p95 over 200 queries of 1-2 and 3 character
  names, pinyin initials, full pinyin, ID prefixes/suffixes/middles and phone
  numbers, vs a bare indexed lookup of one ID number;
* one page of the household list (ids for the whole list + 100 rows) for every
  sort key and for village/category filters, vs a bare ``SELECT id ... ORDER
  BY id`` plus 100 rows by primary key;
* process start to main window shown (``MZDESK_BENCH_STARTUP=1``) and its RSS,
  vs a bare PySide6 window with a 100k-row ``QAbstractTableModel``.

    python bench/bench_core.py [--households 100000] [--out bench/out] [--skip-startup]
    python bench/bench_core.py --quick --out DIR   # a tiny township: does it still work?

Results: stdout, ``bench/out/bench_core.txt`` and ``bench/out/bench_core.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mzdesk.models.demo import insert_demo, plan_demo  # noqa: E402
from mzdesk.models.query import (  # noqa: E402
    SORT_COLUMNS,
    ListFilter,
    household_rows,
    list_household_ids,
    search_household_ids,
)
from mzdesk.models.site import init_site  # noqa: E402
from mzdesk.models.store import Store  # noqa: E402

PAGE = 100
LINES: list[str] = []
RESULTS: dict = {}


def say(text: str = "") -> None:
    print(text, flush=True)
    LINES.append(text)


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def machine() -> dict:
    info = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for key in ("Model name", "CPU(s)", "Thread(s) per core", "Hypervisor vendor"):
            m = re.search(rf"^{re.escape(key)}:\s*(.+)$", lscpu, re.M)
            if m:
                info[key] = m.group(1).strip()
        with open("/proc/meminfo", encoding="ascii") as fh:
            kb = int(fh.readline().split()[1])
        info["RAM"] = f"{kb / 1024 / 1024:.1f} GiB"
        info["load average (1 min) at start"] = os.getloadavg()[0]
    except (OSError, ValueError):
        pass
    try:
        import PySide6

        info["PySide6"] = PySide6.__version__
    except ImportError:
        pass
    return info


# -- 1. bulk creation --------------------------------------------------------------


def bench_bulk(out: Path, households: int, seed: int, default_cache_baseline: bool) -> Path:
    say(f"== bulk creation: {households:,} households (demo generator, seed {seed})")
    path = fresh(out / f"core-{households}.sqlite")
    store = Store.open(path, operator="bench")
    init_site(store, "341623101", "青山镇民政办")
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    made, planned = plan_demo(store, households, seed)
    t_gen, c_gen = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    insert_demo(store, made, planned)
    t_ins, c_ins = time.perf_counter() - t0, time.process_time() - c0
    del made, planned
    counts = {
        t: store.scalar(f"SELECT count(*) FROM {t}")
        for t in ("households", "members", "enrolments")
    }
    store.close()
    rows = sum(counts.values())
    say(f"   rows: {counts}")
    say(f"   generate in memory (random names/IDs)  {t_gen:8.2f} s wall, {c_gen:8.2f} s CPU")
    say(
        f"   write: validate + Registry.bulk_create + enrolments  {t_ins:8.2f} s wall, "
        f"{c_ins:8.2f} s CPU ({rows / t_ins:,.0f} rows/s)"
    )

    # the baseline: the same rows, read back, written by bare sqlite3 into the same schema
    src = sqlite3.connect(path)
    data = {}
    for table in counts:
        cur = src.execute(f"SELECT * FROM {table} ORDER BY id")
        data[table] = ([d[0] for d in cur.description], cur.fetchall())
    src.close()
    baselines, cpu = {}, {}
    variants = [("bare sqlite3, 64 MB cache (as bulk_create)", ["PRAGMA cache_size = -65536"])]
    if default_cache_baseline:
        variants.append(("bare sqlite3, default cache", []))
    for label, pragmas in variants:
        bpath = fresh(out / "baseline.sqlite")
        Store.open(bpath, operator="bench").close()  # the same schema (tables, indexes, triggers)
        conn = sqlite3.connect(bpath, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        for p in pragmas:
            conn.execute(p)
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        conn.execute("BEGIN")
        for table, (cols, table_rows) in data.items():
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                table_rows,
            )
        conn.execute("COMMIT")
        baselines[label] = time.perf_counter() - t0
        cpu[label] = time.process_time() - c0
        conn.close()
        fresh(bpath)
        say(
            f"   baseline: {label}: executemany of the same rows  {baselines[label]:8.2f} s wall, "
            f"{cpu[label]:8.2f} s CPU -> write ratio {t_ins / baselines[label]:.2f}x wall, "
            f"{c_ins / cpu[label]:.2f}x CPU; generate+write {(t_gen + t_ins) / baselines[label]:.2f}x wall"
        )
    RESULTS["bulk"] = {
        "households": households,
        "rows": counts,
        "generate_s": round(t_gen, 3),
        "generate_cpu_s": round(c_gen, 3),
        "write_s": round(t_ins, 3),
        "write_cpu_s": round(c_ins, 3),
        "baseline_s": {k: round(v, 3) for k, v in baselines.items()},
        "baseline_cpu_s": {k: round(v, 3) for k, v in cpu.items()},
        "write_ratio": {k: round(t_ins / v, 2) for k, v in baselines.items()},
        "write_ratio_cpu": {k: round(c_ins / v, 2) for k, v in cpu.items()},
    }
    return path


# -- 2. search -----------------------------------------------------------------------

MIX = [  # (kind, how many of the 200)
    ("name, 1 char", 25),
    ("name, 2 chars", 35),
    ("name, 3 chars", 25),
    ("pinyin initials", 25),
    ("full pinyin", 20),
    ("ID prefix", 15),
    ("ID last 4", 15),
    ("ID last 6", 10),
    ("ID middle (birth date)", 10),
    ("phone", 10),
    ("phone last 4", 10),
]


def make_queries(store: Store, n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    max_id = store.scalar("SELECT max(id) FROM members")
    scale = n / sum(c for _, c in MIX)

    def member() -> tuple:
        while True:
            r = store.conn.execute(
                "SELECT m.name, m.id_number, m.py_initials, m.py_full, h.phone FROM members m "
                "JOIN households h ON h.id = m.household_id WHERE m.id = ? AND m.status = 'active'",
                (rng.randint(1, max_id),),
            ).fetchone()
            if r and r[1]:
                return r

    queries = []
    for kind, count in MIX:
        for _ in range(max(1, round(count * scale))):
            name, idn, ini, full, phone = member()
            if kind == "name, 1 char":
                q = name[0]
            elif kind == "name, 2 chars":
                q = name[:2]
            elif kind == "name, 3 chars":
                while len(name) < 3:
                    name = member()[0]
                q = name[:3]
            elif kind == "pinyin initials":
                q = ini[: rng.randint(2, len(ini))] if len(ini) > 2 else ini
            elif kind == "full pinyin":
                q = full[: rng.randint(max(3, len(full) - 4), len(full))]
            elif kind == "ID prefix":
                q = idn[: rng.choice([8, 10, 12, 14])]
            elif kind == "ID last 4":
                q = idn[-4:]
            elif kind == "ID last 6":
                q = idn[-6:]
            elif kind == "ID middle (birth date)":
                q = idn[6:14]
            elif kind == "phone":
                q = phone
            else:
                q = phone[-4:]
            queries.append((kind, q))
    rng.shuffle(queries)
    return queries[:n]


def timed(fn, *args) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t0, result


def bench_search(path: Path, n: int, seed: int) -> None:
    say(f"\n== search: {n} queries, warm cache")
    store = Store.open(path, operator="bench")
    queries = make_queries(store, n, seed)
    warmup = make_queries(store, n, seed + 1)
    for _, q in warmup:  # warm the file cache and SQLite's page cache once
        list_household_ids(store, ListFilter(text=q))

    core, shown, shown_cpu, by_kind, hits = [], [], [], {}, []
    for kind, q in queries:
        t_core, ids = timed(search_household_ids, store, q)

        def typed(q=q):  # what the list does on a keystroke: search, filter, sort, first page
            ids = list_household_ids(store, ListFilter(text=q))
            household_rows(store, ids[:PAGE])
            return ids

        c0 = time.thread_time()
        t_shown, _ = timed(typed)
        shown_cpu.append(time.thread_time() - c0)
        core.append(t_core)
        shown.append(t_shown)
        hits.append(len(ids))
        by_kind.setdefault(kind, []).append(t_shown)

    # baseline: a bare indexed lookup of one whole ID number
    rng = random.Random(seed + 2)
    max_id = store.scalar("SELECT max(id) FROM members")
    numbers = [
        store.scalar("SELECT id_number FROM members WHERE id >= ? AND id_number IS NOT NULL", (i,))
        for i in (rng.randint(1, max_id) for _ in range(n))
    ]
    base = []
    for number in numbers:
        t, _ = timed(
            lambda x=number: store.conn.execute(
                "SELECT household_id FROM members WHERE id_number = ? AND status = 'active'", (x,)
            ).fetchall()
        )
        base.append(t)
    store.close()
    b50, b95 = pct(base, 50), pct(base, 95)
    for label, values in (
        ("search_household_ids", core),
        ("search + list + first page", shown),
        ("  the same, CPU time", shown_cpu),
    ):
        p50, p95 = pct(values, 50), pct(values, 95)
        say(
            f"   {label:<28} p50 {ms(p50):7.2f} ms  p95 {ms(p95):7.2f} ms  max {ms(max(values)):7.2f} ms"
            f"   ratio to bare lookup p50 {p50 / b50:5.0f}x  p95 {p95 / b95:5.0f}x"
        )
    say(f"   baseline: bare indexed lookup    p50 {ms(b50):7.3f} ms  p95 {ms(b95):7.3f} ms")
    say("   by kind (search + list + first page):")
    kinds = {}
    for kind, _ in MIX:
        v = by_kind.get(kind, [])
        if v:
            kinds[kind] = {"n": len(v), "p50_ms": ms(pct(v, 50)), "max_ms": ms(max(v))}
            say(
                f"     {kind:<24} n={len(v):3d}  p50 {ms(pct(v, 50)):7.2f} ms  max {ms(max(v)):7.2f} ms"
            )
    say(f"   hits per query: median {statistics.median(hits):.0f}, max {max(hits)}")
    RESULTS["search"] = {
        "queries": len(queries),
        "core_ms": {"p50": ms(pct(core, 50)), "p95": ms(pct(core, 95)), "max": ms(max(core))},
        "shown_ms": {"p50": ms(pct(shown, 50)), "p95": ms(pct(shown, 95)), "max": ms(max(shown))},
        "shown_cpu_ms": {"p50": ms(pct(shown_cpu, 50)), "p95": ms(pct(shown_cpu, 95))},
        "baseline_ms": {"p50": ms(b50), "p95": ms(b95)},
        "by_kind": kinds,
        "examples": [q for _, q in queries[:12]],
    }


# -- 3. list pages ---------------------------------------------------------------------


def bench_list(path: Path, repeats: int = 5) -> None:
    say(f"\n== household list: ids of the whole list + one page of 100 rows (median of {repeats})")
    store = Store.open(path, operator="bench")
    village = store.scalar(
        "SELECT village FROM households GROUP BY village ORDER BY count(*) DESC LIMIT 1"
    )
    cases = []
    for key in SORT_COLUMNS:
        for desc in (False, True):
            cases.append(
                (f"sort {key}{' desc' if desc else ''}", ListFilter(sort=key, descending=desc))
            )
    cases += [
        (f"village {village}", ListFilter(village=village)),
        ("category rural_dibao", ListFilter(category="rural_dibao")),
        ("category none", ListFilter(category="none")),
        (
            "village + rural_dibao, by head",
            ListFilter(village=village, category="rural_dibao", sort="head"),
        ),
    ]

    def page(f: ListFilter) -> tuple[int, float, float]:
        t0 = time.perf_counter()
        ids = list_household_ids(store, f)
        t1 = time.perf_counter()
        mid = len(ids) // 2
        household_rows(store, ids[mid : mid + PAGE])
        return len(ids), t1 - t0, time.perf_counter() - t1

    def bare() -> tuple[float, float]:
        t0 = time.perf_counter()
        ids = [r[0] for r in store.conn.execute("SELECT id FROM households ORDER BY id")]
        t1 = time.perf_counter()
        chunk = ids[len(ids) // 2 :][:PAGE]  # fewer than a page on a tiny township
        store.conn.execute(
            f"SELECT * FROM households WHERE id IN ({','.join('?' * len(chunk))})", chunk
        ).fetchall()
        return t1 - t0, time.perf_counter() - t1

    bare(), page(ListFilter())  # warm
    b = [bare() for _ in range(repeats)]
    b_ids, b_rows = statistics.median(x[0] for x in b), statistics.median(x[1] for x in b)
    b_total = b_ids + b_rows
    say(
        f"   baseline: bare SELECT id ORDER BY id {ms(b_ids):7.2f} ms + 100 rows by id "
        f"{ms(b_rows):6.2f} ms = {ms(b_total):7.2f} ms"
    )
    out = {}
    for label, f in cases:
        runs = [page(f) for _ in range(repeats)]
        n = runs[0][0]
        t_ids = statistics.median(r[1] for r in runs)
        t_rows = statistics.median(r[2] for r in runs)
        total = t_ids + t_rows
        out[label] = {
            "rows": n,
            "ids_ms": ms(t_ids),
            "page_ms": ms(t_rows),
            "ratio": round(total / b_total, 2),
        }
        say(
            f"   {label:<34} {n:7,d} rows  ids {ms(t_ids):7.2f} ms  page {ms(t_rows):6.2f} ms  "
            f"total {ms(total):7.2f} ms  ({total / b_total:4.1f}x)"
        )
    store.close()
    RESULTS["list"] = {"baseline_ms": {"ids": ms(b_ids), "page": ms(b_rows)}, "cases": out}


# -- 4. start-up ------------------------------------------------------------------------

BARE_WINDOW = r"""
import os, sys, time
t_start = time.perf_counter()
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView

class Model(QAbstractTableModel):
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else 100_000
    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else 8
    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{index.row()}-{index.column()}"
        return None

app = QApplication(sys.argv[:1])
win = QMainWindow()
view = QTableView()
view.setModel(Model())
win.setCentralWidget(view)
win.resize(1200, 800)
win.show()

def report():
    view.viewport().repaint()
    with open("/proc/self/status") as fh:
        rss = next(int(l.split()[1]) / 1024 for l in fh if l.startswith("VmRSS:"))
    print(f"startup_ms={(time.perf_counter() - t_start) * 1000:.1f} rss_mb={rss:.1f}", flush=True)
    app.quit()

QTimer.singleShot(0, report)
app.exec()
"""

LINE = re.compile(r"startup_ms=([0-9.]+) rss_mb=([0-9.]+)")


def run_startup(cmd: list[str], env: dict) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    wall = time.perf_counter() - t0
    m = LINE.search(proc.stdout)
    if proc.returncode != 0 or not m:
        raise RuntimeError(
            f"{cmd[-3:]}: exit {proc.returncode}: {proc.stdout[-300:]} {proc.stderr[-500:]}"
        )
    return {"wall_ms": ms(wall), "self_ms": float(m.group(1)), "rss_mb": float(m.group(2))}


def app_supports_bench() -> bool:
    app = ROOT / "mzdesk" / "app.py"
    return app.is_file() and "MZDESK_BENCH_STARTUP" in app.read_text(encoding="utf-8")


def bench_startup(path: Path, runs: int = 5) -> None:
    say(f"\n== start-up to main window shown (offscreen, warm file cache, median of {runs})")
    if not app_supports_bench():
        say("   skipped: mzdesk/app.py does not honour MZDESK_BENCH_STARTUP yet")
        RESULTS["startup"] = {"skipped": "mzdesk/app.py has no MZDESK_BENCH_STARTUP"}
        return
    env = dict(
        os.environ, QT_QPA_PLATFORM="offscreen", MZDESK_BENCH_STARTUP="1", PYTHONPATH=str(ROOT)
    )
    env.pop("MZDESK_DB", None)
    bare_cmd = [sys.executable, "-c", BARE_WINDOW]
    app_cmd = [sys.executable, "-m", "mzdesk", "--db", str(path)]
    results = {}
    for label, cmd in (
        ("bare PySide6 window, 100k-row model", bare_cmd),
        ("mzdesk main window", app_cmd),
    ):
        run_startup(cmd, env)  # warm-up run: file cache
        samples = [run_startup(cmd, env) for _ in range(runs)]
        med = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
        results[label] = {"median": med, "samples": samples}
    bare = results["bare PySide6 window, 100k-row model"]["median"]
    for label, r in results.items():
        med = r["median"]
        say(
            f"   {label:<36} process start -> shown {med['wall_ms']:7.1f} ms "
            f"(in-process {med['self_ms']:7.1f} ms)  RSS {med['rss_mb']:6.1f} MB   "
            f"ratio {med['wall_ms'] / bare['wall_ms']:.2f}x time, {med['rss_mb'] / bare['rss_mb']:.2f}x RSS"
        )
    RESULTS["startup"] = results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--reuse", action="store_true", help="skip bulk creation; reuse the database")
    ap.add_argument("--skip-startup", action="store_true")
    ap.add_argument(
        "--default-cache-baseline",
        action="store_true",
        help="also time the bare insert with SQLite's default 2 MB page cache (slow)",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="50 households, 20 queries, one start-up run: checks that the benchmark works "
        "(figures meaningless)",
    )
    args = ap.parse_args()
    startup_runs = 5
    if args.quick:
        args.households, args.queries, startup_runs = 50, 20, 1
    args.out.mkdir(parents=True, exist_ok=True)
    RESULTS["machine"] = machine()
    say("mzdesk core benchmark  " + json.dumps(RESULTS["machine"], ensure_ascii=False))
    path = args.out / f"core-{args.households}.sqlite"
    if not (args.reuse and path.exists()):
        path = bench_bulk(args.out, args.households, args.seed, args.default_cache_baseline)
    bench_search(path, args.queries, args.seed)
    bench_list(path)
    if not args.skip_startup:
        bench_startup(path, startup_runs)
    (args.out / "bench_core.txt").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    (args.out / "bench_core.json").write_text(
        json.dumps(RESULTS, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    say(f"\nwritten: {args.out / 'bench_core.txt'}, {args.out / 'bench_core.json'}")


if __name__ == "__main__":
    main()
