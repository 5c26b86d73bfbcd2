"""Benchmark: a public notice (公示) of 2,000 rows, end to end from the database.

Measured in the same run, same font, same rows:
  * full     — ``create_notice`` (select, freeze rows, move enrolments to 公示,
               one transaction) + ``write_pdf`` (read the frozen rows, lay out
               sections, headers, furniture, "第 x 页 共 y 页", write the file);
  * pdf only — ``write_pdf`` of the already-frozen notice (what a re-print costs);
  * bare     — reportlab platypus ``LongTable(repeatRows=1)`` of the same rows
               (no sections, no furniture) in a ``SimpleDocTemplate``.
Target: full / bare <= 1.0.

    python bench/bench_notice.py [--rows 2000] [--repeat 3] [--keep DIR] [--today DATE]
    python bench/bench_notice.py --quick   # a few rows, one run: does it still work?

Dates are computed from today (or ``--today``): the notice starts that day, the
enrolments were applied for and investigated in the weeks before.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import shutil
import sqlite3
import tempfile
import time
from contextlib import closing
from pathlib import Path


def copy_db(src: Path, dst: Path) -> None:
    """Copy a database through SQLite's backup API.  A file copy misses what is still in
    the ``-wal`` (the store checkpoints large transactions on a thread after they return)
    and, in a process holding a connection, opening and closing the file drops its locks."""
    with closing(sqlite3.connect(src)) as a, closing(sqlite3.connect(dst)) as b:
        a.backup(b)


def build_db(path: Path, rows: int, today: dt.date):
    from mzdesk.models.demo import generate_demo
    from mzdesk.models.site import init_site
    from mzdesk.models.store import Store

    store = Store.open(path, operator="bench")
    init_site(store, "341623101", "青山镇")
    ids = generate_demo(store, rows, seed=7)
    with store.transaction():
        for table in ("objections", "notice_items", "notices", "enrolment_events", "enrolments"):
            store.conn.execute(f"DELETE FROM {table}")  # only the bench's own rows below
        stamp = store.stamp(new=True)
        store.conn.executemany(
            "INSERT INTO enrolments (uid, household_id, category, class, state, covered, "
            "monthly_fen, applied_on, investigated_on, created_at, updated_at, created_by, "
            "updated_by) VALUES (?, ?, 'rural_dibao', '二类', 'reviewed', 2, 76000, "
            "?, ?, ?, ?, ?, ?)",
            [
                (
                    f"b{i}",
                    hid,
                    (today - dt.timedelta(days=30)).isoformat(),
                    (today - dt.timedelta(days=20)).isoformat(),
                    stamp["created_at"],
                    stamp["updated_at"],
                    stamp["created_by"],
                    stamp["updated_by"],
                )
                for i, hid in enumerate(ids)
            ],
        )
    return store


def bare_longtable(notice, out: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import LongTable, SimpleDocTemplate, TableStyle

    from mzdesk.models.money import format_fen
    from mzdesk.reports.fonts import register_cjk_font

    font = register_cjk_font()
    data = [["序号", "村组", "户主姓名", "保障人口", "类别", "月保障金额(元)", "备注"]]
    for it in notice.items:
        data.append(
            [
                str(it.seq),
                f"{it.village}{it.village_group}",
                it.name,
                str(it.covered),
                it.category_label,
                format_fen(it.monthly_fen),
                it.action_label,
            ]
        )
    t = LongTable(data, repeatRows=1)
    t.setStyle(
        TableStyle(
            [("FONT", (0, 0), (-1, -1), font, 12.5), ("GRID", (0, 0), (-1, -1), 0.6, (0, 0, 0))]
        )
    )
    doc = SimpleDocTemplate(str(out), pagesize=A4, initialFontName=font)
    doc.build([t])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, default=None, help="copy the PDFs here")
    ap.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=None,
        help="a frozen today (YYYY-MM-DD); default: the real one",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="20 rows, one run: checks that the benchmark works (figures meaningless)",
    )
    args = ap.parse_args()
    if args.quick:
        args.rows, args.repeat = 20, 1
    today = args.today or dt.date.today()

    from mzdesk.models import notice as nt
    from mzdesk.reports.fonts import register_cjk_font
    from mzdesk.reports.notice_pdf import write_pdf

    register_cjk_font()
    tmp = Path(tempfile.mkdtemp(prefix="mzbench-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # also when a run fails
    template = tmp / "template.sqlite"
    t0 = time.perf_counter()
    build_db(template, args.rows, today).close()
    print(f"database with {args.rows} enrolments awaiting notice: {time.perf_counter() - t0:.1f} s")

    full, pdf_only, bare, pages = [], [], [], 0
    for r in range(args.repeat):
        db = tmp / f"run{r}.sqlite"
        copy_db(template, db)
        from mzdesk.models.store import Store

        store = Store.open(db, operator="bench")
        t = time.perf_counter()
        spec = nt.NoticeSpec(today, hotline="0558-8123456")
        nid = nt.create_notice(store, spec, today=today)
        t_freeze = time.perf_counter() - t
        pages = write_pdf(store, nid, tmp / "notice.pdf")
        full.append(time.perf_counter() - t)
        t = time.perf_counter()
        write_pdf(store, nid, tmp / "reprint.pdf")
        pdf_only.append(time.perf_counter() - t)
        notice = nt.get_notice(store, nid)
        t = time.perf_counter()
        bare_longtable(notice, tmp / "bare.pdf")
        bare.append(time.perf_counter() - t)
        print(
            f"run {r + 1}: freeze {t_freeze:.3f} s, full {full[-1]:.3f} s, "
            f"pdf only {pdf_only[-1]:.3f} s, bare LongTable {bare[-1]:.3f} s"
        )
        store.close()
    f, p, b = min(full), min(pdf_only), min(bare)
    print(f"rows {args.rows}, notice pages {pages}")
    print(f"best: full {f:.3f} s, pdf only {p:.3f} s, bare LongTable(repeatRows=1) {b:.3f} s")
    print(f"ratio full/bare = {f / b:.2f}x (target <= 1.0), pdf-only/bare = {p / b:.2f}x")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        for name in ("notice.pdf", "bare.pdf"):
            shutil.copy(tmp / name, args.keep / name)


if __name__ == "__main__":
    main()
