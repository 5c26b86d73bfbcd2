"""The county's layout out (省级系统格式导出): the 家庭查询 / 人员查询 pair.

Provincial social-assistance systems exchange rosters as a pair of workbooks: a household
file (家庭查询.xlsx, one row per household) and a person file (人员查询.xlsx, one row per
person), joined by 户主身份证号.  :func:`export_provincial` writes that pair for a month,
one sheet per category in each file (named after the category), with the provincial
headers and the amount in its parts (户月保障金额 = 保障金 / 基本生活费, 家庭分类施保总额 =
分类施保金, 照料护理费用, 合计).  ID numbers and bank accounts are text cells.

Who is on it is the one monthly rule (:func:`mzdesk.roster.monthly.paid_enrolments`), for
the 低收入人口 categories (城市/农村低保, 特困, 低保边缘, 刚性支出困难: the ones a provincial
system holds; they exclude each other, so a household is on one sheet) or the ones asked
for.  Importing the pair into an empty database (``mzdesk roster import 家庭查询.xlsx
人员查询.xlsx --month M``) gives the same ``stats --month M --json``
(tests/roster/test_provincial_roundtrip.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook

from ..models.auth import require
from ..models.categories import categories, category_code
from ..models.errors import MzError
from ..models.progress import Cancel as CancelFn
from ..models.progress import Cancelled, Progress
from ..models.selfcare import class_level, label_of
from ..models.store import Store
from ..reports.xlsx_writer import SheetWriter, save_workbook, yuan
from .monthly import paid_enrolments, stock_enrolments

HOUSEHOLD_FILE = "家庭查询.xlsx"
PERSON_FILE = "人员查询.xlsx"

HOUSEHOLD_HEADERS = (
    "序号",
    "所属街",
    "所属社",
    "组",
    "户主姓名",
    "户主身份证号",
    "家庭人口",
    "保障人口",
    "家庭成员姓名",
    "保障类别",
    "户月保障金额（元）",
    "家庭分类施保总额（元）",
    "合计（元）",
    "最初享受月",
    "开户银行",
    "银行账户名称",
    "银行帐号",
    "联系电话",
    "户籍类型",
)
PERSON_HEADERS = (
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
    "供养方式",
    "供养机构",
    "照料人姓名",
    "照料人身份证号",
    "基本生活标准（元）",
    "照料护理费用（元）",
)

# 救助类型 as provincial person files write it, by category and area type (城市/农村);
# a category not listed is written by its name
TYPE_LABELS = {
    "urban_dibao": "城市最低生活保障对象",
    "rural_dibao": "农村最低生活保障对象",
    "dibao_edge": "{area}最低生活保障边缘家庭成员",
    "rigid_expense": "刚性支出困难家庭成员",
    "tekun": "{area}特困人员（{mode}）",
}
AREA = {"urban": "城市", "rural": "农村"}
MODE = {"concentrated": "集中供养", "dispersed": "分散供养"}


def provincial_categories(store: Store) -> list[str]:
    """The categories a provincial system holds: 低收入人口 (``low_income`` in categories.json)."""
    return [c for c, spec in categories(store).items() if spec.get("low_income")]


def type_label(category: str, name: str, area_type: str, mode: str) -> str:
    """``type_label('tekun', '特困人员供养', 'rural', 'dispersed')`` → '农村特困人员（分散供养）'."""
    label = TYPE_LABELS.get(category, name)
    return label.format(area=AREA.get(area_type, "农村"), mode=MODE.get(mode, "分散供养"))


def export_provincial(
    store: Store,
    month: dt.date,
    out_dir: str | Path,
    category: str | None = None,
    progress: Progress | None = None,
    cancel: CancelFn | None = None,
) -> dict:
    """Write ``家庭查询.xlsx`` and ``人员查询.xlsx`` into ``out_dir`` for ``month``.

    Returns ``{"households": n, "persons": n, "total_fen": n, "sheets": [...], "files":
    [paths]}``.  Each file appears only when complete (:func:`save_workbook`).
    """
    require(store, "data.export")
    out = Path(out_dir)
    if not out.is_dir():
        raise MzError(f"导出文件夹不存在：{out}", "no_such_folder")
    known = categories(store)
    cats = [category_code(store, category)] if category else provincial_categories(store)
    site = store.one("SELECT name FROM site WHERE id = 1")
    township = site["name"] if site else ""
    households_wb, persons_wb = Workbook(write_only=True), Workbook(write_only=True)
    res: dict = {"households": 0, "persons": 0, "total_fen": 0, "sheets": []}
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if done % 2000 == 0:
            if progress:
                progress(done, 0)
            if cancel and cancel():
                raise Cancelled()

    for cat in cats:
        rows = paid_enrolments(store, month, cat)
        if not rows:
            continue
        name = known.get(cat, {}).get("name", cat)
        _sheets(store, households_wb, persons_wb, cat, name, township, rows, res, tick)
        res["sheets"].append(name)
    if not res["sheets"]:
        raise MzError(f"{month:%Y年%m月}没有在保对象，未导出", "nothing_to_export")
    files = [out / HOUSEHOLD_FILE, out / PERSON_FILE]
    save_workbook(households_wb, files[0])
    save_workbook(persons_wb, files[1])
    res["files"] = [str(f) for f in files]
    return res


def _members(store: Store, household_ids: list[int]) -> dict[int, list[dict]]:
    """Active members per household, the head first, then in the order they were added."""
    out: dict[int, list[dict]] = {}
    for chunk in range(0, len(household_ids), 500):
        part = household_ids[chunk : chunk + 500]
        for r in store.db.query(
            "SELECT id, household_id, name, relation, gender, "
            "COALESCE(id_number, id_raw) AS id_number FROM members "
            f"WHERE status = 'active' AND household_id IN ({', '.join('?' * len(part))}) "
            "ORDER BY household_id, relation != '户主', seq, id",
            part,
        ):
            out.setdefault(r["household_id"], []).append(r)
    return out


def _households(store: Store, household_ids: list[int]) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for chunk in range(0, len(household_ids), 500):
        part = household_ids[chunk : chunk + 500]
        for r in store.db.query(
            f"SELECT id, area_type FROM households WHERE id IN ({', '.join('?' * len(part))})",
            part,
        ):
            out[r["id"]] = r
    return out


def _support(store: Store, enrolment_ids: list[int]) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for chunk in range(0, len(enrolment_ids), 500):
        part = enrolment_ids[chunk : chunk + 500]
        for r in store.db.query(
            "SELECT id, member_id, support_mode, institution, carer_name, carer_id_number "
            "FROM enrolments "
            f"WHERE id IN ({', '.join('?' * len(part))})",
            part,
        ):
            out[r["id"]] = r
    return out


def _sheets(
    store: Store,
    households_wb: Workbook,
    persons_wb: Workbook,
    cat: str,
    name: str,
    township: str,
    rows: list[dict],
    res: dict,
    tick: Callable[[], None],
) -> None:
    """One category: its sheet in the household file and in the person file."""
    spec = categories(store).get(cat, {})
    hids = sorted({r["household_id"] for r in rows})
    members = _members(store, hids)
    extra = _households(store, hids)
    support = _support(store, [r["id"] for r in rows])
    hw = SheetWriter(
        households_wb,
        name,
        HOUSEHOLD_HEADERS,
        text_cols=(5, 13, 16, 17),
        money_cols=(10, 11, 12),
        widths={4: 10, 5: 22, 8: 24, 16: 24},
    )
    pw = SheetWriter(
        persons_wb,
        name,
        PERSON_HEADERS,
        text_cols=(3, 5, 13),
        money_cols=(14, 15),
        widths={3: 22, 5: 22, 8: 24},
    )
    stock = stock_enrolments(store)  # 存量: their first month is before mzdesk, unknown
    seq = 0
    for i, r in enumerate(rows, 1):
        people = members.get(r["household_id"], [])
        head = people[0] if people and people[0]["relation"] == "户主" else None
        head_name = head["name"] if head else r["recipient"]
        head_id = (head["id_number"] if head else r["id_number"]) or ""
        parts = r.get("components_fen") or {"base": r["monthly_fen"]}
        hh = extra.get(r["household_id"], {})
        sup = support.get(r["id"], {})
        hw.row(
            (
                i,
                township,
                r["village"],
                r["village_group"],
                head_name,
                head_id,
                len(people),
                r["covered"],
                "、".join(p["name"] for p in people),
                r["class"],
                yuan(parts.get("base", 0)),
                yuan(parts.get("classified", 0)),
                yuan(r["monthly_fen"]),
                "" if r["id"] in stock else (r["start_on"] or "")[:7],
                r["bank_name"],
                head_name,
                r["bank_account"],
                r["phone"],
                AREA.get(hh.get("area_type", ""), ""),
            )
        )
        label = type_label(cat, name, hh.get("area_type", ""), sup.get("support_mode", ""))
        recipient = sup.get("member_id")
        level = class_level(spec, r["class"]) if spec.get("class_vocab") == "selfcare" else None
        for p in people:
            seq += 1
            own = recipient is None or recipient == p["id"]  # 按户保: every member
            pw.row(
                (
                    seq,
                    r["village"],
                    head_name,
                    head_id,
                    p["name"],
                    p["id_number"] or "",
                    {"M": "男", "F": "女"}.get(p["gender"] or "", ""),
                    p["relation"],
                    label if own else "",
                    label_of(level) if own and level else "",
                    MODE.get(sup.get("support_mode", ""), "") if own and recipient else "",
                    sup.get("institution", "") if own and recipient else "",
                    sup.get("carer_name", "") if own and recipient else "",
                    sup.get("carer_id_number", "") if own and recipient else "",
                    yuan(parts.get("base", 0)) if own and recipient else None,
                    yuan(parts.get("care", 0)) if own and recipient else None,
                )
            )
        res["households"] += 1
        res["persons"] += len(people)
        res["total_fen"] += r["monthly_fen"]
        tick()
