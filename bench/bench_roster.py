"""Roster import/export benchmark (issue 5).

    python bench/bench_roster.py [--members 50000] [--repeat 2] [--today DATE]
    python bench/bench_roster.py --quick   # 60 members, one run: does it still work?
    python bench/bench_roster.py --pair [--members 50000] [--quick]   # the provincial pair

1. Generates a roster of N members (one row per member, household cells merged
   vertically, title rows, a few full-width and number-typed IDs, a 合计 row).
2. Import: ``mzdesk.roster.importer`` analyse + apply into a fresh database,
   against openpyxl ``read_only`` merely reading every cell of the same file
   (target: ratio <= 1.0), and against python-calamine merely reading it.
3. Export: the 补贴清册 of N person enrolments against openpyxl ``write_only``
   writing the same N rows (values already in memory; target: ratio <= 1.5).

4. ``--pair``: a provincial export pair (家庭查询 + 人员查询, about 2.5 persons per
   household) imported as one import, against openpyxl ``read_only`` and python-calamine
   merely reading both files (target: ratio to openpyxl <= 1.0); the import runs in a
   child process whose peak RSS is reported (target: <= 500 MB).

Prints figures and ratios; measured in the same run on the same machine.  Dates are
computed from today (or ``--today``): the roster and the 清册 are this month's.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openpyxl import Workbook, load_workbook  # noqa: E402
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange  # noqa: E402

from mzdesk.models.ids import check_char  # noqa: E402
from mzdesk.models.site import init_site  # noqa: E402
from mzdesk.models.store import Store, new_uid  # noqa: E402

HEADERS = [
    "序号",
    "村(社区)",
    "组",
    "户主姓名",
    "家庭人口",
    "保障人口",
    "成员姓名",
    "与户主关系",
    "身份证号码",
    "性别",
    "保障类别",
    "月保障金(元)",
    "联系电话",
    "备注",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"
FW = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def make_id(rng: random.Random, used: set) -> str:
    while True:
        born = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(0, 32000))
        body = f"341623{born:%Y%m%d}{rng.randrange(1000):03d}"
        if body not in used:
            used.add(body)
            return body + check_char(body)


def generate(path: Path, members: int, month: dt.date, seed: int = 5) -> tuple[int, int]:
    rng = random.Random(seed)
    wb = Workbook()
    ws = wb.active
    ws.title = "农村低保"
    ws.append([f"XX镇{month.year}年{month.month}月农村最低生活保障对象花名册"])
    ws.append(["填报单位：XX镇民政办"])
    ws.append(HEADERS)
    used: set = set()
    merged: list = []
    n = hh = 0
    row = 3
    while n < members:
        size = min(rng.choice([1, 2, 3, 3, 4, 5]), members - n)
        hh += 1
        first = row + 1  # ws.max_row scans every cell: quadratic over 50,000 rows
        surname = rng.choice(SURNAMES)
        for k in range(size):
            name = surname + "".join(rng.choices(GIVEN, k=rng.choice([1, 2])))
            idn = make_id(rng, used)
            cell: object = idn
            roll = rng.random()
            if roll < 0.01:
                cell = float(idn[:17] + "0") if idn[-1] != "X" else idn
            elif roll < 0.03:
                cell = idn.translate(FW)
            elif roll < 0.05:
                cell = f" {idn} "
            rel = "户主" if k == 0 else rng.choice(["配偶", "子女", "父母"])
            sex = "男" if int(idn[16]) % 2 else "女"
            if k == 0:
                covered = max(1, size - rng.choice([0, 0, 1]))
                ws.append(
                    [
                        hh,
                        f"村{hh % 40}",
                        f"{hh % 12 + 1}组",
                        name,
                        size,
                        covered,
                        name,
                        rel,
                        cell,
                        sex,
                        rng.choice(["一类", "二类", "三类"]),
                        covered * 320,
                        f"1{rng.randrange(3, 9)}{rng.randrange(10**9):09d}",
                        None,
                    ]
                )
            else:
                ws.append([None] * 6 + [name, rel, cell, sex] + [None] * 4)
            row += 1
        n += size
        last = row
        if last > first:
            merged += [CellRange(f"{col}{first}:{col}{last}") for col in "ABCDEFKLM"]
    ws.append(["合计", None, None, None, f"=SUM(E4:E{row})"])
    # ws.merge_cells checks every earlier range (quadratic); the ranges here never overlap
    ws.merged_cells = MultiCellRange(merged)
    wb.save(path)
    return hh, n


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def openpyxl_read(path: Path) -> int:
    wb = load_workbook(path, read_only=True)
    n = 0
    for ws in wb.worksheets:
        for _row in ws.iter_rows(values_only=True):
            n += 1
    wb.close()
    return n


def calamine_read(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    n = sum(len(wb.get_sheet_by_name(s).to_python()) for s in wb.sheet_names)
    wb.close()
    return n


# -- the provincial pair -------------------------------------------------------------------
PAIR_HOUSEHOLD = [
    "序号",
    "所属街",
    "所属社",
    "户主姓名",
    "户主身份证号",
    "家庭人口",
    "保障人口",
    "家庭成员姓名",
    "户月保障金额（元）",
    "家庭分类施保总额（元）",
    "合计（元）",
    "最初享受月",
    "开户银行",
    "银行帐号",
    "户籍类型",
]
PAIR_PERSON = [
    "序号",
    "所属社",
    "户主姓名",
    "户主身份证号",
    "姓名",
    "身份证号码",
    "性别",
    "与户主关系",
    "救助类型",
    "生活自理能力",
]
RELATIONS = ["户主", "配偶", "子", "女", "父母"]


def generate_pair(folder: Path, persons: int, month: dt.date, seed: int = 7) -> tuple[int, int]:
    """家庭查询.xlsx and 人员查询.xlsx with ``persons`` persons (1-4 per household)."""
    rng = random.Random(seed)
    hwb, pwb = Workbook(write_only=True), Workbook(write_only=True)
    hws, pws = hwb.create_sheet("家庭查询"), pwb.create_sheet("人员查询")
    hws.append(PAIR_HOUSEHOLD)
    pws.append(PAIR_PERSON)
    used: set = set()
    n = hh = 0
    while n < persons:
        hh += 1
        size = min(rng.choice((1, 2, 2, 3, 3, 4)), persons - n)
        village = f"{rng.choice('东南西北中')}{rng.choice('山河湖田林')}村"
        people = [
            (
                "".join((rng.choice(SURNAMES), rng.choice(GIVEN), rng.choice(GIVEN))),
                RELATIONS[k],
                make_id(rng, used),
            )
            for k in range(size)
        ]
        head_name, _, head_id = people[0]
        base = 300 * size + rng.randrange(0, 200)
        extra = rng.choice((0, 0, 50, 100))
        hws.append(
            [
                hh,
                "青山镇",
                village,
                head_name,
                head_id,
                size,
                size,
                "、".join(p[0] for p in people),
                f"{base}.00",
                f"{extra}.00",
                f"{base + extra}.00",
                f"{month:%Y-%m}",
                "农商银行",
                f"6217{rng.randrange(10**14, 10**15)}",
                "农村",
            ]
        )
        for name, rel, pid in people:
            n += 1
            pws.append(
                [
                    n,
                    village,
                    head_name,
                    head_id,
                    name,
                    pid,
                    "男" if int(pid[16]) % 2 else "女",
                    rel,
                    "农村最低生活保障对象",
                    "",
                ]
            )
    hwb.save(folder / "家庭查询.xlsx")
    pwb.save(folder / "人员查询.xlsx")
    return hh, n


def child_import(db: str, files: list[str]) -> None:
    """In a child process: one import of ``files``; prints timings and peak RSS as JSON."""
    import pypinyin  # noqa: F401 - modules loaded before timing, as openpyxl's and calamine's are

    from mzdesk.roster.importer import analyse, apply

    store = Store.open(db, operator="bench")
    init_site(store, "341623101", "青山镇")
    t0 = time.perf_counter()
    plan = analyse(store, files)
    t1 = time.perf_counter()
    summary = apply(store, plan)
    t2 = time.perf_counter()
    rep = plan.report()
    print(
        json.dumps(
            {
                "analyse": t1 - t0,
                "apply": t2 - t1,
                "households": rep["households"],
                "members": rep["members"],
                "problems": rep["problem_counts"],
                "created": summary["created"],
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def bench_pair(tmp: Path, persons: int, repeat: int, month: dt.date) -> None:
    t = time.perf_counter()
    households, n = generate_pair(tmp, persons, month)
    files = [tmp / "家庭查询.xlsx", tmp / "人员查询.xlsx"]
    size = sum(f.stat().st_size for f in files) / 1e6
    print(
        f"generated the pair: {households} households, {n} persons, {size:.1f} MB "
        f"in {time.perf_counter() - t:.1f} s"
    )
    rows = households + n
    t_openpyxl = best(lambda: [openpyxl_read(f) for f in files], repeat)
    t_calamine = best(lambda: [calamine_read(f) for f in files], repeat)
    runs = []
    for i in range(repeat):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child-import",
                str(tmp / f"pair{i}.sqlite"),
                *map(str, files),
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    run = min(runs, key=lambda r: r["analyse"] + r["apply"])
    t_import = run["analyse"] + run["apply"]
    print(
        f"import of the pair: {run['households']} households, {run['members']} members, "
        f"created {run['created']}, problems {run['problems']}"
    )
    print(
        f"  openpyxl read_only, read only:   {t_openpyxl:7.2f} s  ({rows / t_openpyxl:,.0f} rows/s)"
    )
    print(
        f"  python-calamine, read only:      {t_calamine:7.2f} s  ({rows / t_calamine:,.0f} rows/s)"
    )
    print(
        f"  mzdesk import (read+join+check+write): {t_import:6.2f} s  "
        f"(analyse {run['analyse']:.2f} s, apply {run['apply']:.2f} s)"
    )
    print(f"  ratio import / openpyxl read_only = {t_import / t_openpyxl:.2f}  (target <= 1.0)")
    print(f"  ratio import / calamine read      = {t_import / t_calamine:.2f}  (the floor)")
    print(
        f"  peak RSS of the import process    = {max(r['peak_rss_mb'] for r in runs):.0f} MB"
        "  (target <= 500 MB)"
    )
    print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=None,
        help="a frozen today (YYYY-MM-DD); default: the real one",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="60 members, one run: checks that the benchmark works (figures meaningless)",
    )
    ap.add_argument("--pair", action="store_true", help="the provincial pair (家庭查询+人员查询)")
    ap.add_argument("--child-import", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_import:
        child_import(args.child_import[0], args.child_import[1:])
        return
    if args.quick:
        args.members, args.repeat = 60, 1
    month = (args.today or dt.date.today()).replace(day=1)
    start_on = month.replace(year=month.year - 1).isoformat()  # enrolled a year ago
    tmp = Path(tempfile.mkdtemp(prefix="bench_roster_"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # after the checkpoint threads
    if args.pair:
        bench_pair(tmp, args.members, args.repeat, month)
        return
    path = tmp / "roster.xlsx"
    t = time.perf_counter()
    households, members = generate(path, args.members, month)
    print(
        f"generated {path.name}: {households} households, {members} members, "
        f"{path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t:.1f} s"
    )

    from mzdesk.roster.importer import analyse, apply

    t_openpyxl = best(lambda: openpyxl_read(path), args.repeat)
    t_calamine = best(lambda: calamine_read(path), args.repeat)
    timings = {}

    def do_import(i=[0]):  # noqa: B006 - a fresh database per run
        i[0] += 1
        store = Store.open(tmp / f"db{i[0]}.sqlite", operator="bench")
        init_site(store, "341623101", "青山镇")
        t0 = time.perf_counter()
        plan = analyse(store, path)
        t1 = time.perf_counter()
        summary = apply(store, plan)
        t2 = time.perf_counter()
        timings.update(analyse=t1 - t0, apply=t2 - t1, store=store, plan=plan, summary=summary)

    t_import = best(do_import, args.repeat)
    rep = timings["plan"].report()
    print(
        f"import: {rep['households']} households, {rep['members']} members, "
        f"problems {rep['problem_counts']}"
    )
    print(
        f"  openpyxl read_only, read only:   {t_openpyxl:7.2f} s  ({members / t_openpyxl:,.0f} rows/s)"
    )
    print(
        f"  python-calamine, read only:      {t_calamine:7.2f} s  ({members / t_calamine:,.0f} rows/s)"
    )
    print(
        f"  mzdesk import (read+check+write): {t_import:6.2f} s  "
        f"(analyse {timings['analyse']:.2f} s, apply {timings['apply']:.2f} s)"
    )
    print(f"  ratio import / openpyxl read_only = {t_import / t_openpyxl:.2f}  (target <= 1.0)")

    # -- export: N person enrolments in one category --------------------------------------
    store = timings["store"]
    stamp = store.stamp(new=True)
    rows = [
        (
            new_uid(),
            hid,
            mid,
            "elderly",
            "80-89岁",
            "active",
            1,
            5000,
            start_on,
            stamp["created_at"],
            stamp["updated_at"],
            "bench",
            "bench",
        )
        for mid, hid in store.conn.execute(
            "SELECT id, household_id FROM members WHERE status = 'active'"
        )
    ]
    with store.transaction():
        store.conn.executemany(
            "INSERT INTO enrolments (uid, household_id, member_id, category, class, state, "
            "covered, monthly_fen, start_on, created_at, updated_at, created_by, updated_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    from mzdesk.roster.exporter import export_payment_roster, yuan
    from mzdesk.roster.monthly import paid_enrolments

    data = [
        (
            i,
            r["village"],
            r["village_group"],
            r["recipient"],
            r["id_number"],
            r["bank_name"],
            r["bank_account"],
            r["class"],
            r["covered"],
            yuan(r["monthly_fen"]),
        )
        for i, r in enumerate(paid_enrolments(store, month, "elderly"), 1)
    ]

    def plain_write():
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("高龄津贴")
        ws.append(["title"])
        ws.append(HEADERS[:10])
        for r in data:
            ws.append(r)
        wb.save(tmp / "plain.xlsx")

    res = {}
    t_plain = best(plain_write, args.repeat)
    t_export = best(
        lambda: res.update(
            export_payment_roster(store, month, tmp / "qc.xlsx", category="elderly")
        ),
        args.repeat,
    )
    print(f"export: {res['rows']} rows")
    print(
        f"  openpyxl write_only, same rows:   {t_plain:7.2f} s  ({len(data) / t_plain:,.0f} rows/s)"
    )
    print(
        f"  mzdesk 补贴清册 (query+text cells): {t_export:6.2f} s  ({res['rows'] / t_export:,.0f} rows/s)"
    )
    print(f"  ratio export / openpyxl write_only = {t_export / t_plain:.2f}  (target <= 1.5)")


if __name__ == "__main__":
    main()
