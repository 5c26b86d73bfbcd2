"""The household list, search and window at a county: about a million persons (issue 25).

On the county database of ``bench/county_db.py`` (30 townships, ~330,000 households,
built once and cached), each figure printed with its target and its ratio to a bare
baseline measured in the same run:

* search as the list runs it on a keystroke (plan with the search hits, first page,
  its rows), p50/p95 over a query mix with 1–2 character names, pinyin initials, full
  pinyin, ID prefixes/suffixes/birth dates and phones (``bench_core.MIX``), vs a bare
  indexed lookup of one ID number; target p95 ≤ 16 ms;
* a list page for every sort key, both directions, under every filter (none, a
  township, a village, a common and a rare category, no category, every status):
  the first page (plan and count, 100 ids, their rows) and a deep page (the 100 after
  the middle row's key, their rows), vs a bare primary-key range of 100 rows; target
  ≤ 100 ms each;
* process start to the county window shown and its RSS, in a child process
  (``QT_QPA_PLATFORM=offscreen``, ``MZDESK_BENCH_STARTUP=1``), vs a bare PySide6
  window; targets ≤ 1.5 s and ≤ 500 MB.

    python bench/bench_county_list.py [--persons 1000000] [--townships 30]
    python bench/bench_county_list.py --quick     # 3,000 persons: does it still work?

Results: stdout, ``bench/out/bench_county_list.txt`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_core import (  # noqa: E402
    BARE_WINDOW,
    MIX,
    app_supports_bench,
    machine,
    make_queries,
    ms,
    pct,
    run_startup,
)
from county_db import county_db  # noqa: E402

from mzdesk.models.paging import PAGE, list_plan, next_page, townships  # noqa: E402
from mzdesk.models.query import SORT_COLUMNS, ListFilter, household_rows  # noqa: E402
from mzdesk.models.store import Store  # noqa: E402

TARGET_SEARCH_MS = 16
TARGET_PAGE_MS = 100
TARGET_SHOWN_MS = 1500
TARGET_RSS_MB = 500
LINES: list[str] = []
RESULTS: dict = {}


def say(text: str = "") -> None:
    print(text, flush=True)
    LINES.append(text)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min)"


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "MISSED"


def first_page(store: Store, f: ListFilter) -> tuple[int, list[int]]:
    """What the list does on a filter change: plan (with its count), one page, its rows."""
    plan = list_plan(store, f)
    page = next_page(store, plan, None, PAGE)
    household_rows(store, page.ids)
    return plan.total, page.ids


# -- search ----------------------------------------------------------------------------


def bench_search(store: Store, n: int, seed: int) -> None:
    say(f"\n== search as the list runs it (plan + first page + rows), {n} queries, warm")
    queries = make_queries(store, n, seed)
    for _, q in make_queries(store, n, seed + 1):
        first_page(store, ListFilter(text=q))
    times, by_kind, hits = [], {}, []
    for kind, q in queries:
        t0 = time.perf_counter()
        total, _ = first_page(store, ListFilter(text=q))
        t = time.perf_counter() - t0
        times.append(t)
        hits.append(total)
        by_kind.setdefault(kind, []).append(t)
    rng = random.Random(seed + 2)
    max_id = store.scalar("SELECT max(id) FROM members")
    base = []
    for _ in range(n):
        number = store.scalar(
            "SELECT id_number FROM members WHERE id >= ? AND id_number IS NOT NULL",
            (rng.randint(1, max_id),),
        )
        t0 = time.perf_counter()
        store.conn.execute(
            "SELECT household_id FROM members WHERE id_number = ? AND status = 'active'",
            (number,),
        ).fetchall()
        base.append(time.perf_counter() - t0)
    p50, p95, b50, b95 = pct(times, 50), pct(times, 95), pct(base, 50), pct(base, 95)
    say(
        f"   search p50 {ms(p50):7.2f} ms  p95 {ms(p95):7.2f} ms  max {ms(max(times)):7.2f} ms"
        f"   target p95 <= {TARGET_SEARCH_MS} ms: {verdict(ms(p95), TARGET_SEARCH_MS)}"
        f"   ratio to bare lookup p50 {p50 / b50:5.0f}x  p95 {p95 / b95:5.0f}x"
    )
    say(f"   baseline: bare indexed lookup of one ID  p50 {ms(b50):7.3f} ms  p95 {ms(b95):7.3f} ms")
    kinds = {}
    for kind, _ in MIX:
        v = by_kind.get(kind, [])
        if v:
            kinds[kind] = {"n": len(v), "p50_ms": ms(pct(v, 50)), "max_ms": ms(max(v))}
            say(
                f"     {kind:<24} n={len(v):3d}  p50 {ms(pct(v, 50)):7.2f} ms  "
                f"max {ms(max(v)):7.2f} ms"
            )
    say(f"   households per query: median {statistics.median(hits):.0f}, max {max(hits)}")
    say(f"   {load()}")
    RESULTS["search"] = {
        "queries": len(times),
        "ms": {"p50": ms(p50), "p95": ms(p95), "max": ms(max(times))},
        "baseline_ms": {"p50": ms(b50), "p95": ms(b95)},
        "target_p95_ms": TARGET_SEARCH_MS,
        "by_kind": kinds,
    }


# -- list pages ------------------------------------------------------------------------


def filters(store: Store) -> list[tuple[str, dict]]:
    site = townships(store)[0][0]
    village = store.scalar(
        "SELECT village FROM households GROUP BY village ORDER BY count(*) DESC LIMIT 1"
    )
    own = store.scalar(  # a village of that township, for the filters together
        "SELECT village FROM households h WHERE h.uid IN (SELECT uid FROM sync_base "
        "WHERE peer = ? AND tbl = 'households') GROUP BY village ORDER BY count(*) DESC LIMIT 1",
        (site,),
    )
    return [
        ("all", {}),
        (f"township {site}", {"site": site}),
        (f"village {village}", {"village": village}),
        ("category rural_dibao", {"category": "rural_dibao"}),
        ("category orphan", {"category": "orphan"}),
        ("category none", {"category": "none"}),
        ("every status", {"status": "all"}),
        (
            "township + village + dibao",
            {"site": site, "village": own, "category": "rural_dibao"},
        ),
    ]


def bench_pages(store: Store, repeats: int) -> None:
    say(
        f"\n== list pages: first (plan + count + 100 rows) and deep (100 after the middle), median of {repeats}"
    )

    def bare() -> float:
        t0 = time.perf_counter()
        rows = store.conn.execute(
            "SELECT * FROM households WHERE id > ? ORDER BY id LIMIT ?", (mid_id, PAGE)
        ).fetchall()
        assert rows
        return time.perf_counter() - t0

    mid_id = store.scalar("SELECT max(id) FROM households") // 2
    bare()
    b = statistics.median(bare() for _ in range(max(repeats, 5)))
    say(f"   baseline: bare primary-key range of 100 households {ms(b):7.3f} ms")
    out, worst = {}, (0.0, "")
    for label, extra in filters(store):
        for sort in SORT_COLUMNS:
            for descending in (False, True):
                f = ListFilter(sort=sort, descending=descending, **extra)
                first_page(store, f)  # warm
                firsts = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    total, _ids = first_page(store, f)
                    firsts.append(time.perf_counter() - t0)
                plan = list_plan(store, f)
                # the middle row's key, found untimed (the row a clerk scrolled down to)
                key = None
                if total > 1:
                    where = " AND ".join(plan.where) or "1"
                    order = ", ".join(k + (" DESC" if descending else "") for k in plan.keys)
                    key = store.conn.execute(
                        f"SELECT {', '.join(plan.keys)} FROM households h WHERE {where} "
                        f"ORDER BY {order} LIMIT 1 OFFSET ?",
                        (*plan.params, total // 2),
                    ).fetchone()
                deeps = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    page = next_page(store, plan, tuple(key) if key else None, PAGE)
                    household_rows(store, page.ids)
                    deeps.append(time.perf_counter() - t0)
                t1, t2 = statistics.median(firsts), statistics.median(deeps)
                name = f"{label}, {sort}{' desc' if descending else ''}"
                out[name] = {"rows": total, "first_ms": ms(t1), "deep_ms": ms(t2)}
                worst = max(worst, (max(t1, t2), name))
                say(
                    f"   {name:<44} {total:7,d} rows  first {ms(t1):7.2f} ms  deep "
                    f"{ms(t2):7.2f} ms  ({t1 / b:5.0f}x / {t2 / b:5.0f}x bare)"
                )
    say(
        f"   slowest page {ms(worst[0]):.2f} ms ({worst[1]}), target <= {TARGET_PAGE_MS} ms: "
        f"{verdict(ms(worst[0]), TARGET_PAGE_MS)}"
    )
    say(f"   {load()}")
    RESULTS["pages"] = {
        "baseline_ms": ms(b),
        "target_ms": TARGET_PAGE_MS,
        "slowest": {"ms": ms(worst[0]), "case": worst[1]},
        "cases": out,
    }


# -- window ----------------------------------------------------------------------------


def bench_window(path: Path, runs: int) -> None:
    say(
        f"\n== county window: process start -> shown (offscreen, warm file cache, median of {runs})"
    )
    if not app_supports_bench():
        say("   skipped: mzdesk/app.py does not honour MZDESK_BENCH_STARTUP")
        return
    env = dict(
        os.environ, QT_QPA_PLATFORM="offscreen", MZDESK_BENCH_STARTUP="1", PYTHONPATH=str(ROOT)
    )
    env.pop("MZDESK_DB", None)
    # an installed mzdesk runs from compiled bytecode (pip and the frozen build both ship
    # it): the warm-up run writes it, as a first start would
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    results = {}
    for label, cmd in (
        ("bare PySide6 window, 100k-row model", [sys.executable, "-c", BARE_WINDOW]),
        ("mzdesk county window", [sys.executable, "-m", "mzdesk", "--db", str(path)]),
    ):
        run_startup(cmd, env)  # warm-up: file cache
        samples = [run_startup(cmd, env) for _ in range(runs)]
        results[label] = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    bare = results["bare PySide6 window, 100k-row model"]
    for label, med in results.items():
        say(
            f"   {label:<36} shown {med['wall_ms']:7.1f} ms (in-process {med['self_ms']:7.1f} ms)"
            f"  RSS {med['rss_mb']:6.1f} MB   ratio {med['wall_ms'] / bare['wall_ms']:.2f}x time, "
            f"{med['rss_mb'] / bare['rss_mb']:.2f}x RSS"
        )
    app = results["mzdesk county window"]
    say(
        f"   targets: shown <= {TARGET_SHOWN_MS} ms: {verdict(app['wall_ms'], TARGET_SHOWN_MS)}; "
        f"RSS <= {TARGET_RSS_MB} MB: {verdict(app['rss_mb'], TARGET_RSS_MB)}"
    )
    say(f"   {load()}")
    RESULTS["window"] = results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--townships", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--skip-window", action="store_true")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="3,000 persons in 3 townships, 20 queries, one run each: checks that the "
        "benchmark works (figures meaningless)",
    )
    args = ap.parse_args()
    runs = 3
    if args.quick:
        args.persons, args.townships, args.queries, args.repeats, runs = 3000, 3, 20, 1, 1
    args.out.mkdir(parents=True, exist_ok=True)
    RESULTS["machine"] = machine()
    say("mzdesk county list benchmark  " + json.dumps(RESULTS["machine"], ensure_ascii=False))
    # a tiny run builds its own (about a second) beside its output
    cache = args.out / "county-cache" if args.quick else None
    path = county_db(args.persons, args.townships, args.seed, say, cache)
    store = Store.open(path, operator="bench", readonly=True)
    counts = {t: store.scalar(f"SELECT count(*) FROM {t}") for t in ("households", "members")}
    say(f"   {path}: {counts['households']:,} households, {counts['members']:,} persons")
    RESULTS["size"] = counts
    bench_search(store, args.queries, args.seed)
    bench_pages(store, args.repeats)
    store.close()
    if not args.skip_window:
        bench_window(path, runs)
    (args.out / "bench_county_list.txt").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    (args.out / "bench_county_list.json").write_text(
        json.dumps(RESULTS, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    say(f"\nwritten: {args.out / 'bench_county_list.txt'}, {args.out / 'bench_county_list.json'}")


if __name__ == "__main__":
    main()
