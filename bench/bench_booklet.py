"""Benchmark: care booklets (关爱簿) for 500 households into one PDF.

Target: <= 10 s.  In the same run, the drawing calls the booklet writer made
are replayed on a bare reportlab canvas (same font, same strings, same
coordinates, no database and no layout), and the ratio full / bare says what
mzdesk's loading and layout cost on top of reportlab itself.

    python bench/bench_booklet.py [--households 500] [--keep DIR] [--today DATE]
    python bench/bench_booklet.py --quick   # 10 households: does it still work?

Dates are computed from today (or ``--today``): visits in the months before it,
help measures in the year before it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from reportlab.pdfgen.canvas import Canvas

from mzdesk.reports.pagewriter import save_canvas


def build_db(path: Path, n: int, today: dt.date):
    from mzdesk.models.booklets import Booklet, Booklets
    from mzdesk.models.demo import generate_demo
    from mzdesk.models.forms import library
    from mzdesk.models.site import init_site
    from mzdesk.models.store import Store
    from mzdesk.models.visits import Visit, Visits, household_members

    store = Store.open(path, operator="bench")
    init_site(store, "341623101", "青山镇")
    ids = generate_demo(store, n, seed=1)
    t = library().latest("home_visit")
    spring, summer = (str(today - dt.timedelta(days=d)) for d in (270, 165))
    booklets, visits = Booklets(store), Visits(store)
    with store.transaction():
        for i, hid in enumerate(ids):
            members = household_members(store, hid)
            booklets.save(
                Booklet(
                    hid,
                    {
                        "household_type": "农村低保户",
                        "difficulty_summary": "户主患慢性病，家庭缺少劳动力，子女在校就读。",
                        "causes": ["因病", "缺劳力"],
                        "other_policies": ["政府代缴城乡居民医疗保险"],
                        "needs": ["医疗", "教育"],
                        "needs_detail": "希望解决看病报销和孩子上学问题",
                        "measures": [
                            {"date": spring, "measure": "春节慰问", "result": "已落实"},
                            {"date": summer, "measure": "办理慢性病门诊卡", "result": "已办理"},
                        ],
                        "helper_name": "陈建国",
                        "helper_unit": "青山镇民政办",
                        "helper_phone": "0558-1234567",
                    },
                ),
                today,
            )
            answers = {
                "members_present": list(members)[:1],
                **{f.key: "符合" for f in t.check_fields()},
            }
            for k in range(1 + i % 3):
                visits.save(
                    Visit(
                        hid,
                        today - dt.timedelta(days=90 * k),
                        ["王调查", "赵核查"],
                        dict(answers),
                        conclusion="情况属实",
                    ),
                    today,
                )
    return store, ids


def replay(ops: list, font: str, out: Path) -> None:
    """Bare reportlab: the same strings, lines and boxes at the same places."""
    c = Canvas(str(out), initialFontName=font, initialFontSize=10)
    current = None
    for op in ops:
        kind = op[0]
        if kind == "t":
            _, x, y, s, size = op
            if size != current:
                c.setFont(font, size)
                current = size
            c.drawString(x, y, s)
        elif kind == "l":
            _, x1, y1, x2, y2, w = op
            c.setLineWidth(w)
            c.line(x1, y1, x2, y2)
        elif kind == "r":
            _, x, y, w, h, fill = op
            if fill is None:
                c.setLineWidth(0.5)
                c.rect(x, y, w, h, stroke=1, fill=0)
            else:
                c.setFillGray(fill)
                c.rect(x, y, w, h, stroke=0, fill=1)
                c.setFillGray(0)
        else:
            c.showPage()
            current = None
    save_canvas(c)  # the same stream encoding as mzdesk's


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=500)
    ap.add_argument("--keep", type=Path, default=None, help="keep the PDFs in this folder")
    ap.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=None,
        help="a frozen today (YYYY-MM-DD); default: the real one",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="10 households: checks that the benchmark works (figures meaningless)",
    )
    args = ap.parse_args()
    if args.quick:
        args.households = 10
    from mzdesk.reports.booklet_pdf import write_booklets
    from mzdesk.reports.fonts import register_cjk_font

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        store, ids = build_db(
            Path(tmp) / "bench.sqlite", args.households, args.today or dt.date.today()
        )
        setup = time.perf_counter() - t0
        font = register_cjk_font()
        ids = ids[: args.households]
        # warm-up: font registration, template parsing, glyph width cache
        write_booklets(store, ids[:2], folder / "warm.pdf")

        t0 = time.perf_counter()
        pages = write_booklets(store, ids, folder / "booklets.pdf")
        full = time.perf_counter() - t0

        ops: list = []
        write_booklets(store, ids, folder / "recorded.pdf", record=ops)
        t0 = time.perf_counter()
        replay(ops, font, folder / "bare.pdf")
        bare = time.perf_counter() - t0

        size = (folder / "booklets.pdf").stat().st_size
        print(f"setup (demo db + booklets + visits): {setup:.1f} s")
        print(
            f"households: {len(ids)}, pages: {pages}, drawing calls: {len(ops)}, "
            f"PDF {size / 1e6:.1f} MB"
        )
        print(
            f"mzdesk write_booklets: {full:.2f} s ({len(ids) / full:.0f} households/s) "
            f"target <= 10 s: {'OK' if full <= 10 else 'MISSED'}"
        )
        print(f"bare reportlab replay:  {bare:.2f} s")
        print(f"ratio mzdesk / bare:    {full / bare:.2f}")
        store.close()


if __name__ == "__main__":
    main()
