"""Import a roster workbook (花名册导入): analyse (dry run), apply, undo.

A roster whose spouse's ID was typed as a number (Excel keeps 15 digits of it):

>>> import tempfile
>>> from openpyxl import Workbook
>>> from mzdesk.models.site import init_site
>>> from mzdesk.models.store import Store
>>> tmp = tempfile.TemporaryDirectory()
>>> roster = f"{tmp.name}/花名册.xlsx"
>>> wb = Workbook()
>>> ws = wb.active
>>> ws.title = "农村低保"                                   # the sheet names the category
>>> ws.append(["村(社区)", "户主姓名", "保障人口", "成员姓名", "与户主关系", "身份证号码",
...            "保障类别", "月保障金(元)"])
>>> ws.append(["红旗村", "王小明", 2, "王小明", "户主", "34162319900101009X", "二类", 760])
>>> ws.append([None, None, None, "李芳", "配偶", 341623199201020022, None, None])
>>> wb.save(roster)
>>> store = Store.open(":memory:", operator="clerk")
>>> _ = init_site(store, "341623101", "青山镇")
>>> plan = analyse(store, roster)                  # reads, validates, writes nothing
>>> plan.report()["problems"][0]
{'sheet': '农村低保', 'row': 3, 'column': '身份证号码', 'column_letter': 'F', 'value': '341623199201020000', 'code': 'id_precision_lost', ...}
>>> summary = apply(store, plan)                  # one transaction, all or nothing
>>> summary["created"], summary["members"], summary["flagged"]
(1, 2, 1)
>>> undo(store, summary["batch_id"])              # soft-deletes exactly what it created
{'batch_id': 1, 'households_removed': 1, 'rows': 4}
>>> tmp.cleanup()

Rules are not restated here: IDs go through :mod:`mzdesk.models.ids`, money
through :mod:`mzdesk.models.money`, households through
:func:`mzdesk.models.household.validate_household` and
:meth:`mzdesk.models.registry.Registry.bulk_create`.

Problems have a severity: ``flag`` problems are imported and marked (an
invalid ID is kept as written and the member flagged 待核实); ``error``
problems (no name, no village, a bad amount, an unknown category, no head)
refuse the whole import until the file or the mapping is corrected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..models.bulk import insert_many
from ..models.categories import categories
from ..models.dates import check_date
from ..models.errors import FieldError, MzError
from ..models.household import HEAD, Household, Member, validate_household
from ..models.ids import ids_may_match, normalise_id, parse_id
from ..models.money import format_fen, parse_assistance
from ..models.progress import Cancel as CancelFn
from ..models.progress import Cancelled, Progress
from ..models.registry import (
    Registry,
    _insert_sql,
    _member_row,
    write_new_households,
)
from ..models.store import Store, new_uid, now_iso
from ..models.text import clean
from ..models.vocab import vocab
from .layout import (
    Layout,
    category_from_cell,
    detect_layout,
    headers_config,
    load_saved_layouts,
    norm_header,
    normalise_class,
    remember_layout,
    validate_mapping,
)
from .reader import (
    Sheet,
    UnreadableWorkbook,
    check_workbook,
    column_letter,
    formula_cells,
    read_workbook,
)

FLAG_CODES = {
    "id_checksum", "id_precision_lost", "id_bad_date", "id_format", "id_duplicate_in_file",
    "id_exists_in_other_household", "id_missing", "bad_phone", "bad_account", "bad_relation",
    "head_name_differs",
}  # fmt: skip
# Every problem code the import can report (its own, the ID rules', the household rules'),
# as the clerk reads it: the dialog's table and summary and the exported problem list.
# tests/roster/test_importer.py checks that each code those modules can raise is here.
PROBLEM_LABELS = {
    "id_checksum": "身份证号校验位错误",
    "id_precision_lost": "身份证号被Excel截断",
    "id_bad_date": "身份证号出生日期无效",
    "id_format": "身份证号格式错误",
    "id_missing": "身份证号为空",
    "id_pending": "身份证号待核实",
    "id_duplicate_in_file": "身份证号在文件中重复",
    "id_duplicate_in_household": "身份证号在同户重复",
    "id_exists_in_other_household": "身份证号已在其他家庭",
    "probable_duplicate": "疑似已登记的同一户",
    "head_name_differs": "户主姓名与已登记的不同",
    "bad_phone": "联系电话无效",
    "bad_account": "银行账号无效",
    "bad_relation": "与户主关系无效",
    "missing_required": "必填项为空",
    "formula_no_value": "公式没有保存计算结果",
    "no_head": "没有户主",
    "two_heads": "户主不止一人",
    "head_under_16": "户主未满16岁",
    "no_members": "没有成员",
    "unknown_category": "救助类别无法识别",
    "bad_amount": "金额无效",
    "amount_too_large": "金额过大",
    "bad_date": "日期无效",
    "too_long": "内容过长",
    "no_cert": "缺少残疾人证",
    "cert_format": "残疾人证号格式错误",
    "cert_category": "残疾类别无效",
    "cert_level": "残疾等级无效",
    "cert_holder": "残疾人证无法核对",
    "bad_area_type": "城乡类别无效",
    "bad_cause": "致困原因无效",
    "bad_housing": "住房情况无效",
    "bad_health": "健康状况无效",
    "bad_labour_capacity": "劳动能力无效",
    "bad_income_source": "收入来源无效",
    "bad_special": "特殊身份无效",
}


def problem_label(code: str) -> str:
    """``problem_label('id_checksum')`` → ``'身份证号校验位错误'``; an unknown code as it is."""
    return PROBLEM_LABELS.get(code, code)


HOUSEHOLD_TEXT = ("village", "village_group", "phone", "bank_account", "bank_name", "address")
ID_FIELDS = ("id_number", "head_id")


def _require_import(store: Store) -> None:
    """The operator may import (批量导入), when operator accounts are in use."""
    try:
        from ..models.auth import require
    except ImportError:  # accounts not part of this build
        return
    require(store, "household.import")


class ImportRefused(MzError):
    """The file has problems that must be corrected before anything is written."""

    code = "import_refused"


@dataclass
class Problem:
    """One problem cell: where it is, what it held, why (``code``) and in words."""

    sheet: str
    row: int  # Excel row number (1-based)
    column: str  # header text as in the file (or the field's label)
    value: str
    code: str
    message: str
    severity: str = "error"
    column_letter: str = ""

    def as_dict(self) -> dict:
        return {
            "sheet": self.sheet, "row": self.row, "column": self.column,
            "column_letter": self.column_letter, "value": self.value, "code": self.code,
            "message": self.message, "severity": self.severity,
        }  # fmt: skip


@dataclass
class FileHousehold:
    """A household as read from the file, with where each member came from."""

    sheet: str
    row: int  # 0-based row of its first line
    household: Household
    member_rows: list[int] = field(default_factory=list)
    category: str | None = None
    cls: str = ""
    covered: int | None = None
    monthly_fen: int | None = None
    match_id: int | None = None  # existing household this one is (re-import)
    action: str = "create"  # create / update / unchanged


@dataclass
class RosterPlan:
    """The result of reading and checking a roster: what would be written."""

    path: str
    sha256: str
    layouts: list[Layout]
    households: list[FileHousehold]
    problems: list[Problem]
    skipped_sheets: list[str] = field(default_factory=list)
    blank_rows: int = 0
    total_rows: int = 0

    @property
    def members(self) -> int:
        return sum(len(fh.household.members) for fh in self.households)

    @property
    def monthly_total_fen(self) -> int:
        return sum(fh.monthly_fen or 0 for fh in self.households)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def report(self) -> dict:
        counts = Counter(p.code for p in self.problems)
        actions = Counter(fh.action for fh in self.households)
        return {
            "file": Path(self.path).name,
            "sha256": self.sha256,
            "sheets": [lay.as_dict() for lay in self.layouts],
            "skipped_sheets": self.skipped_sheets,
            "households": len(self.households),
            "members": self.members,
            "blank_rows": self.blank_rows,
            "total_rows": self.total_rows,
            "monthly_total_fen": self.monthly_total_fen,
            "monthly_total": format_fen(self.monthly_total_fen),
            "problem_counts": dict(sorted(counts.items())),
            "errors": len(self.errors),
            "would_create": actions.get("create", 0),
            "would_update": actions.get("update", 0),
            "unchanged": actions.get("unchanged", 0),
            "problems": [p.as_dict() for p in self.problems],
        }


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# -- cells ---------------------------------------------------------------------------
def _blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _text(v: object) -> str:
    """A cell as text; a whole-number float as its digits as Excel shows them
    (3.41623198805059e+17 -> '341623198805059000', not the binary float's tail)."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(Decimal(repr(v))))
    return clean(str(v), multiline=True)  # models/text.py: no "_x001B_" control characters


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def cell_fen(v: object) -> int:
    """A money cell to fen (a number cell's float: :func:`parse_yuan`, NaN refused there)."""
    return parse_assistance(v, "monthly")


def _count(v: object) -> int | None:
    if _blank(v):
        return None
    try:
        n = float(normalise_id(_text(v)).replace("人", "")) if not _is_number(v) else float(v)
    except ValueError:
        return None
    return int(n) if n.is_integer() and n >= 0 else None


# -- reading one sheet ---------------------------------------------------------------------
class _SheetReader:
    def __init__(self, sheet: Sheet, layout: Layout, today: dt.date, plan: RosterPlan,
                 cats: dict[str, dict]):  # fmt: skip
        self.sheet, self.layout, self.today, self.plan = sheet, layout, today, plan
        self.cats = cats  # the database's categories, the township's own ones too
        self.cols = layout.columns
        self.total_markers = {norm_header(m) for m in headers_config()["total_markers"]}
        self.rel_syn = headers_config()["relation_synonyms"]
        self.relations = set(vocab()["relation"])

    def problem(self, row: int, name: str, value: object, code: str, message: str) -> Problem:
        col = self.cols.get(name)
        p = Problem(
            sheet=self.sheet.name, row=row + 1, column=self.layout.header_of(name),
            value=_text(value),
            code=code, message=message,
            severity="flag" if code in FLAG_CODES else "error",
            column_letter=column_letter(col) if col is not None else "",
        )  # fmt: skip
        self.plan.problems.append(p)
        return p

    def get(self, row: list, name: str) -> object:
        col = self.cols.get(name)
        if col is None or col >= len(row):
            return None
        return row[col]

    def is_total(self, row: list) -> bool:
        return any(isinstance(v, str) and "计" in v and norm_header(v) in self.total_markers
                   for v in row[:6])  # fmt: skip

    def household_cells_continue(self, r: int) -> bool:
        """A merged household cell over this row that began above: same household."""
        for name in ("seq", "head_name", "village", "head_id"):
            col = self.cols.get(name)
            if col is not None and (r, col) in self.sheet.merged_from:
                return True
        return False

    def rows(self, progress: Progress | None, cancel: CancelFn | None) -> list[FileHousehold]:
        out: list[FileHousehold] = []
        current: FileHousehold | None = None
        key: tuple = ()
        member_mode = self.layout.mode == "member"
        rows = self.sheet.rows
        mapped = sorted(self.layout.mapping)
        for r in range(self.layout.data_start, len(rows)):
            row = rows[r]
            if cancel and r % 2000 == 0 and cancel():
                raise Cancelled()
            if progress and r % 5000 == 0:
                progress(r, len(rows))
            if all(_blank(row[c]) if c < len(row) else True for c in mapped):
                self.plan.blank_rows += 1
                continue
            if self.is_total(row):
                self.plan.total_rows += 1
                continue
            if not member_mode:
                current = self.start_household(r, row)
                out.append(current)
                self.add_member(current, r, row, head=True)
                continue
            own_key = tuple(_text(self.get(row, n)) for n in ("seq", "head_name", "head_id"))
            relation = self.relation_word(self.get(row, "relation"))
            if current is None:
                new = True
            elif self.household_cells_continue(r):
                new = False
            elif relation == HEAD:
                new = True
            else:
                new = any(v and v != k for v, k in zip(own_key, key, strict=True))
            if new:
                current = self.start_household(r, row)
                key = own_key
                out.append(current)
            else:
                key = tuple(k or v for k, v in zip(key, own_key, strict=True))
            self.add_member(current, r, row, head=False)
        for fh in out:
            self.finish_household(fh)
        return out

    def relation_word(self, v: object) -> str:
        t = "".join(_text(v).split())
        return self.rel_syn.get(t, t)

    def start_household(self, r: int, row: list) -> FileHousehold:
        h = Household(village="")
        for name in HOUSEHOLD_TEXT:
            v = self.get(row, name)
            if not _blank(v):
                text = _text(v)
                setattr(h, name, "".join(text.split()) if name != "address" else text)
        area = _text(self.get(row, "area_type"))
        if area:
            h.area_type = "urban" if ("城" in area and "乡" not in area) else "rural"
        notes = _text(self.get(row, "notes"))
        h.notes = notes
        fh = FileHousehold(sheet=self.sheet.name, row=r, household=h)
        # category: the row's own cell, else the sheet's
        cat_cell = self.get(row, "category")
        fh.category = self.layout.category
        if not _blank(cat_cell):
            code = category_from_cell(cat_cell, self.cats)
            if code is None:
                self.problem(r, "category", cat_cell, "unknown_category",
                             f"无法识别的救助类别: {_text(cat_cell)}")  # fmt: skip
            fh.category = code
        cls_cell = self.get(row, "class")
        if not _blank(cls_cell):
            cls, ok = normalise_class(cls_cell, fh.category, self.cats)
            fh.cls = cls
            if not ok:
                allowed = "、".join(self.cats[fh.category]["classes"])
                self.problem(r, "class", cls_cell, "unknown_category",
                             f"无法识别的保障类别/档次“{_text(cls_cell)}”（应为{allowed}）")  # fmt: skip
        money = self.get(row, "monthly")
        if "monthly" in self.cols:
            if _blank(money):
                self.problem(r, "monthly", money, "missing_required", "月保障金为空")
            else:
                try:
                    fh.monthly_fen = cell_fen(money)
                except FieldError as exc:
                    self.problem(r, "monthly", money, "bad_amount", exc.message)
        fh.covered = _count(self.get(row, "covered"))
        if ("monthly" in self.cols or "class" in self.cols) and fh.category is None \
                and _blank(cat_cell):  # fmt: skip
            self.problem(r, "category", cat_cell, "unknown_category",
                         "无法确定救助类别：请在表名、标题或“救助类别”列写明，或在列对应中指定")  # fmt: skip
        return fh

    def add_member(self, fh: FileHousehold, r: int, row: list, head: bool) -> None:
        name_cell = self.get(row, "name")
        if _blank(name_cell) and head:
            name_cell = self.get(row, "head_name")
        m = Member(name="".join(_text(name_cell).split()), relation=HEAD if head else "")
        if not head:
            m.relation = self.relation_word(self.get(row, "relation"))
        id_name = "id_number" if "id_number" in self.cols else "head_id"
        id_cell = self.get(row, id_name)
        if head and _blank(id_cell) and "head_id" in self.cols:
            id_name, id_cell = "head_id", self.get(row, "head_id")
        self.read_id(fh, r, m, id_name, id_cell)
        gender = _text(self.get(row, "gender"))
        if m.relation in ("子女", "儿女") or (m.relation and m.relation not in self.relations):
            sex = m.gender or {"男": "M", "女": "F"}.get(gender)
            if m.relation in ("子女", "儿女") and sex:
                m.relation = "子" if sex == "M" else "女"
            else:
                raw = m.relation
                m.relation = "其他"
                self.problem(r, "relation", raw, "bad_relation",
                             f"与户主关系“{raw}”无法识别，已记为“其他”，请核实")  # fmt: skip
        fh.household.members.append(m)
        fh.member_rows.append(r)

    def read_id(self, fh: FileHousehold, r: int, m: Member, name: str, cell: object) -> None:
        if _is_number(cell):
            raw = _text(cell)
            m.id_number, m.id_pending = raw, True
            self.problem(r, name, cell, "id_precision_lost",
                         "身份证号是数字格式，Excel只保留15位有效数字，后几位可能已变成0，请按证件核实")  # fmt: skip
            return
        if _blank(cell):
            m.id_number, m.id_pending = "", True
            self.problem(r, name, cell, "id_missing", "身份证号为空，已标记待核实")
            return
        try:
            info = parse_id(str(cell), self.today)
        except FieldError as exc:
            m.id_number, m.id_pending = str(cell).strip(), True
            self.problem(r, name, cell, exc.code, exc.message + "，已按原样保存并标记待核实")
            return
        m.id_number, m.gender, m.birth_date = info.number, info.gender, info.birth_date

    def finish_household(self, fh: FileHousehold) -> None:
        h = fh.household
        r0 = fh.row
        heads = [m for m in h.members if m.relation == HEAD]
        head_name = "".join(_text(self.get(self.sheet.rows[r0], "head_name")).split())
        if not heads and h.members:
            for m in h.members:
                if m.name == head_name:
                    m.relation = HEAD
                    break
            else:
                self.problem(r0, "relation", "", "no_head", "该户没有户主（与户主关系无“户主”）")
        for m, r in zip(h.members, fh.member_rows, strict=True):
            if not m.relation:
                m.relation = "其他"
                self.problem(
                    r, "relation", "", "bad_relation", "与户主关系为空，已记为“其他”，请核实"
                )
        # validate with the household rules (IDs are settled already: pending or valid)
        problems = validate_household(h, self.today)
        fixable = [p for p in problems if p.code in ("bad_phone", "bad_account")]
        for p in fixable:
            raw = getattr(h, p.field)
            setattr(h, p.field, "")
            h.notes = (h.notes + f" 导入时{p.message}: {raw}").strip()
            self.problem(r0, p.field, raw, p.code, p.message + "，已清空，原值记入备注")
        if fixable:
            problems = validate_household(h, self.today)
        for p in problems:
            row = fh.member_rows[p.row] if p.row is not None and p.row < len(fh.member_rows) else r0
            name = {"members": "head_name"}.get(p.field, p.field)
            value = ""
            if p.row is not None and p.row < len(h.members):
                value = getattr(h.members[p.row], p.field, "") or ""
            elif hasattr(h, p.field):
                value = getattr(h, p.field)
            self.problem(row, name, value, p.code, p.message)


# -- whole file ----------------------------------------------------------------------------
def analyse(store: Store, path: str | Path, mapping: dict | None = None,
            today: dt.date | None = None, progress: Progress | None = None,
            cancel: CancelFn | None = None) -> RosterPlan:  # fmt: skip
    """Read ``path`` and check every row against the rules and the database.

    Writes nothing.  ``mapping`` overrides header detection (``--mapping``):
    ``{"header_row": 3, "category": "农村低保", "columns": {"I": "id_number"}}``,
    or per sheet ``{"sheets": {"Sheet1": {...}}}``.
    """
    today = today or dt.date.today()
    sheets = read_workbook(path)
    plan = RosterPlan(path=str(path), sha256=file_sha256(path), layouts=[], households=[],
                      problems=[])  # fmt: skip
    saved = load_saved_layouts(store)
    cats = categories(store)
    mapping = validate_mapping(mapping or {})
    for sheet in sheets:
        overrides = mapping.get("sheets", {}).get(sheet.name, mapping if "sheets" not in mapping
                                                  else {})  # fmt: skip
        layout = detect_layout(sheet, overrides, saved, cats)
        if layout is None:
            if any(any(not _blank(v) for v in row) for row in sheet.rows):
                plan.skipped_sheets.append(sheet.name)
            continue
        plan.layouts.append(layout)
        reader = _SheetReader(sheet, layout, today, plan, cats)
        plan.households += reader.rows(progress, cancel)
    if not plan.layouts:
        names = "、".join(f"“{s.name}”" for s in sheets)
        raise UnreadableWorkbook(
            f"{Path(path).name}: 工作表{names}中没有找到花名册表头（前25行里需要姓名/身份证号等列）；"
            "请检查文件，或用 --mapping 指定表头行和列（导入界面可手工指定）"
        )
    if not plan.households:  # a header alone, or nothing but blank rows: not an import
        names = "、".join(f"“{lay.sheet}”" for lay in plan.layouts)
        raise UnreadableWorkbook(
            f"{Path(path).name}: 工作表{names}只有表头，没有可导入的数据行"
            + (f"（表头下只有 {plan.blank_rows:,} 个空行）" if plan.blank_rows else "")
            + "；未导入任何数据",
            "no_data_rows",
        )
    _formula_cells_without_value(plan)
    _check_across(store, plan)
    return plan


def _formula_cells_without_value(plan: RosterPlan) -> None:
    """A required cell that reads as empty but holds a formula: the file was written by a
    program and never opened and saved in Excel, so no result was stored with the formula."""
    blanks = [p for p in plan.problems if p.code == "missing_required" and p.column_letter]
    if not blanks or check_workbook(plan.path) != "xlsx":
        return
    for sheet in {p.sheet for p in blanks}:
        cells = {(p.row, p.column_letter) for p in blanks if p.sheet == sheet}
        formulas = formula_cells(plan.path, sheet, cells)
        for p in blanks:
            if p.sheet == sheet and (p.row, p.column_letter) in formulas:
                p.code, p.value = "formula_no_value", formulas[(p.row, p.column_letter)]
                p.message = (f"{p.column}是公式（{p.value}），但文件里没有保存计算结果；"
                             "请用Excel/WPS打开该文件、保存后再导入")  # fmt: skip


def _check_across(store: Store, plan: RosterPlan) -> None:
    """Duplicates within the file, IDs already in other households, re-import matching."""
    readers = {lay.sheet: lay for lay in plan.layouts}

    def flag(fh: FileHousehold, i: int, code: str, message: str) -> None:
        lay = readers[fh.sheet]
        m = fh.household.members[i]
        name = "id_number" if "id_number" in lay.columns else "head_id"
        col = lay.columns.get(name)
        plan.problems.append(Problem(
            sheet=fh.sheet, row=fh.member_rows[i] + 1, column=lay.header_of(name),
            value=m.id_number, code=code, message=message, severity="flag",
            column_letter=column_letter(col) if col is not None else "",
        ))  # fmt: skip
        m.id_pending = True
        m.gender = m.birth_date = None

    seen: dict[str, tuple[FileHousehold, int]] = {}
    for fh in plan.households:
        for i, m in enumerate(fh.household.members):
            if m.id_pending or not m.id_number:
                continue
            if m.id_number in seen:
                first, j = seen[m.id_number]
                flag(fh, i, "id_duplicate_in_file",
                     f"身份证号与{first.sheet}第{first.member_rows[j] + 1}行重复，已标记待核实")  # fmt: skip
            else:
                seen[m.id_number] = (fh, i)
    registry = Registry(store)
    owners = registry.id_owners(list(seen), exclude_household=None)
    heads: dict[str, tuple] = {}  # a head's valid ID -> (household, name, village)
    numbers = [fh.household.head.id_number for fh in plan.households
               if fh.household.head and not fh.household.head.id_pending]  # fmt: skip
    for chunk in range(0, len(numbers), 500):
        part = numbers[chunk : chunk + 500]
        for number, *found in store.conn.execute(
            "SELECT m.id_number, m.household_id, m.name, h.village FROM members m "
            "JOIN households h ON h.id = m.household_id WHERE m.status = 'active' "
            "AND h.status = 'active' "
            f"AND m.relation = ? AND m.id_number IN ({', '.join('?' * len(part))})",
            (HEAD, *part)):  # fmt: skip
            heads[number] = tuple(found)
    elsewhere = _HeadsById(store)
    for fh in plan.households:
        head = fh.household.head
        if head is None:
            continue
        settled = False
        if not head.id_pending and head.id_number in heads:
            # the ID is the person: that household, under whatever name (never a second one)
            settled = _match_by_id(plan, readers[fh.sheet], fh, *heads[head.id_number])
        if fh.match_id is None and not settled:
            before = len(plan.problems)
            fh.match_id = _match_by_name(store, plan, readers[fh.sheet], fh)
            if fh.match_id is None and len(plan.problems) == before:
                _may_be_registered(plan, readers[fh.sheet], fh, elsewhere)
        for i, m in enumerate(fh.household.members):
            if not m.id_pending and m.id_number in owners:
                hid, other_head, village = owners[m.id_number]
                if hid != fh.match_id:
                    flag(fh, i, "id_exists_in_other_household",
                         f"身份证号已在其他家庭登记（编号{hid}，户主{other_head}，{village}），已标记待核实")  # fmt: skip
        if fh.match_id is not None:
            fh.action = _compare(store, fh)
    plan.problems.sort(key=lambda p: (p.sheet, p.row, p.column_letter))


def _match_by_name(store: Store, plan: RosterPlan, lay: Layout, fh: FileHousehold) -> int | None:
    """The existing household whose head has this name in this village, when the head's ID
    cannot settle it (待核实 in the file or in the database), or ``None`` for a new one.

    Recognised as the same household when the IDs may be the same person's
    (:func:`mzdesk.models.ids.ids_may_match`) or the bank accounts are the same.  A same-name
    head in the same village without such evidence is a blocking ``probable_duplicate``: a
    second household would be paid twice.
    """
    head = fh.household.head
    rows = store.conn.execute(
        "SELECT h.id, h.bank_account, COALESCE(m.id_number, m.id_raw), m.id_pending "
        "FROM households h JOIN members m ON m.household_id = h.id "
        "WHERE h.status = 'active' AND m.status = 'active' AND m.relation = ? AND m.name = ? "
        "AND h.village = ? ORDER BY h.id",
        (HEAD, head.name, fh.household.village),
    ).fetchall()
    if not head.id_pending:  # a valid ID in the file: only a 待核实 head can be the same one
        rows = [r for r in rows if r[3]]
    if not rows:
        return None
    exact = [r[0] for r in rows if normalise_id(r[2] or "") == head.id_number]
    if len(exact) == 1:
        return exact[0]
    account = fh.household.bank_account
    same = [r[0] for r in rows
            if ids_may_match(head.id_number, r[2]) or (account and account == r[1])]  # fmt: skip
    if len(same) == 1:
        return same[0]
    name = "id_number" if "id_number" in lay.columns else "head_id"
    col = lay.columns.get(name)
    found = "、".join(f"编号{r[0]}" for r in rows)
    plan.problems.append(Problem(
        sheet=fh.sheet, row=fh.member_rows[0] + 1, column=lay.header_of(name),
        value=head.id_number, code="probable_duplicate", severity="error",
        column_letter=column_letter(col) if col is not None else "",
        message=f"户主{head.name}（{fh.household.village}）可能与已登记的家庭（{found}）是同一户，"
                "但身份证号待核实（文件中或库中），无法确认；为免重复发放未导入。请按证件改正身份证号"
                "（设为文本格式）或核对银行账号后再导入",
    ))  # fmt: skip
    return None


def _head_problem(plan: RosterPlan, lay: Layout, fh: FileHousehold, column: str, value: str,
                  code: str, message: str) -> None:  # fmt: skip
    col = lay.columns.get(column)
    plan.problems.append(Problem(
        sheet=fh.sheet, row=fh.member_rows[0] + 1, column=lay.header_of(column), value=value,
        code=code, severity="flag" if code in FLAG_CODES else "error", message=message,
        column_letter=column_letter(col) if col is not None else "",
    ))  # fmt: skip


def _match_by_id(plan: RosterPlan, lay: Layout, fh: FileHousehold, hid: int, name: str,
                 village: str) -> bool:  # fmt: skip
    """The head's valid ID is the head's of household ``hid``: that household.

    Under another name (a typo, a variant character) in the same village it is still that
    household: imported into it, the name left as registered, and flagged
    ``head_name_differs`` to confirm.  Another name in another village may as well be a
    number copied from the wrong line: a blocking ``probable_duplicate`` (never a second
    household for that number, never a silent move).  True once settled either way.
    """
    head = fh.household.head
    if name == head.name:
        fh.match_id = hid
        return True
    column = "head_name" if "head_name" in lay.columns else "name"
    if village == fh.household.village:
        fh.match_id = hid
        _head_problem(plan, lay, fh, column, head.name, "head_name_differs",
                      f"户主身份证号与已登记的家庭（编号{hid}，户主{name}）相同，"
                      f"但姓名写作“{head.name}”：已按身份证号计入该户（不新建家庭），姓名未改，"
                      "请核对证件；如需更正，请在家庭信息中修改")  # fmt: skip
        return True
    column = "id_number" if "id_number" in lay.columns else "head_id"
    _head_problem(plan, lay, fh, column, head.id_number, "probable_duplicate",
                  f"户主{head.name}（{fh.household.village}）的身份证号已是另一户户主的"
                  f"（编号{hid}，户主{name}，{village}），姓名和村(社区)都不同：可能是同一人，"
                  "也可能抄错了身份证号，无法确认；为免重复发放未导入。请按证件核对后再导入")  # fmt: skip
    return True


# an ID's characters after the region code in four blocks (birth year, month-day, ...):
# two numbers at most two characters apart agree on at least one pair of these blocks
_BLOCKS = ((6, 10), (10, 14), (14, 16), (16, 18))
_PAIRS = [(a, b) for i, a in enumerate(_BLOCKS) for b in _BLOCKS[i + 1 :]]


def _pair_keys(number: str) -> list[tuple]:
    return [(a, b, number[a[0] : a[1]] + number[b[0] : b[1]]) for a, b in _PAIRS]


class _HeadsById:
    """Active heads whose ID may be the same person's as a given one, where a 待核实 number
    on one side keeps the IDs from settling it (:func:`ids_may_match`).

    The database's 待核实 heads (few) are read once and found by :data:`_PAIRS` (exact for
    up to two wrong characters).  Its valid heads are found through the ID indexes: same
    region and birth year (an Excel number's lost digits, a wrong digit after the year) or
    the same number after the region code (a wrong region digit).
    """

    def __init__(self, store: Store):
        self.store = store
        self._pending: dict[tuple, list[tuple]] | None = None

    def _pending_heads(self) -> dict[tuple, list[tuple]]:
        if self._pending is None:
            self._pending = {}
            for hid, name, village, raw in self.store.conn.execute(
                "SELECT h.id, m.name, h.village, m.id_raw FROM members m JOIN households h "
                "ON h.id = m.household_id WHERE m.status = 'active' AND h.status = 'active' "
                "AND m.relation = ? AND m.id_pending = 1 AND m.id_raw != ''",
                (HEAD,),
            ):
                number = normalise_id(raw)
                if len(number) == 18:
                    for key in _pair_keys(number):
                        self._pending.setdefault(key, []).append((hid, name, village, number))
        return self._pending

    def find(self, number: str, pending: bool) -> list[tuple]:
        """(household, head name, village, ID) of heads whose ID may match ``number``."""
        number = normalise_id(number)
        if len(number) != 18:
            return []
        index = self._pending_heads()
        rows = {r for key in _pair_keys(number) for r in index.get(key, [])}
        if pending:  # a 待核实 number in the file: valid heads in the database too
            rows |= set(self.store.conn.execute(
                "SELECT h.id, m.name, h.village, m.id_number FROM members m JOIN households h "
                "ON h.id = m.household_id WHERE m.status = 'active' AND h.status = 'active' "
                "AND m.relation = ? AND m.id_number GLOB ? UNION "
                "SELECT h.id, m.name, h.village, m.id_number FROM members m JOIN households h "
                "ON h.id = m.household_id WHERE m.status = 'active' AND h.status = 'active' "
                "AND m.relation = ? AND substr(m.id_number, 7) = ?",
                (HEAD, number[:10] + "*", HEAD, number[6:])).fetchall())  # fmt: skip
        return sorted(r for r in rows if ids_may_match(number, r[3]))


def _may_be_registered(plan: RosterPlan, lay: Layout, fh: FileHousehold,
                       heads: _HeadsById) -> None:  # fmt: skip
    """A head who may already be registered under another name or in another village (the
    IDs may match, one of them 待核实): a blocking ``probable_duplicate``, since a second
    household for the same person would be paid twice."""
    head = fh.household.head
    found = heads.find(head.id_number, head.id_pending)
    if not found:
        return
    column = "id_number" if "id_number" in lay.columns else "head_id"
    which = "、".join(f"编号{hid}，户主{name}，{village}" for hid, name, village, _ in found)
    _head_problem(plan, lay, fh, column, head.id_number, "probable_duplicate",
                  f"户主{head.name}（{fh.household.village}）的身份证号与已登记的家庭（{which}）"
                  "户主的身份证号可能是同一人的（其中一方待核实），但姓名或村(社区)不同，无法确认；"
                  "为免重复发放未导入。请按证件核对身份证号和姓名（身份证号设为文本格式）后再导入")  # fmt: skip


def _enrolment_for(store: Store, household_id: int, category: str) -> dict | None:
    return store.one(
        "SELECT id, class, covered, monthly_fen, state, rev FROM enrolments WHERE household_id = ? "
        "AND category = ? AND status = 'active' AND state NOT IN ('rejected', 'stopped') "
        "ORDER BY id DESC LIMIT 1",
        (household_id, category),
    )


def _covered(fh: FileHousehold) -> int:
    return fh.covered or max(1, sum(1 for m in fh.household.members if m.in_assistance))


def _compare(store: Store, fh: FileHousehold) -> str:
    """'unchanged' or 'update' for a household already in the database."""
    db = Registry(store).get(fh.match_id)
    h = fh.household
    for name in HOUSEHOLD_TEXT:
        new = getattr(h, name)
        if new and new != getattr(db, name):
            return "update"
    if _new_members(db, h):
        return "update"
    if fh.category and fh.monthly_fen is not None:
        e = _enrolment_for(store, db.id, fh.category)
        if e is None or (e["class"], e["covered"], e["monthly_fen"]) != (
            fh.cls,
            _covered(fh),
            fh.monthly_fen,
        ):
            return "update"
    return "unchanged"


def _new_members(db: Household, h: Household) -> list[Member]:
    """Members of ``h`` not yet in ``db``.  Where either side's ID is 待核实 the ID cannot
    tell, so a member of the same name in this household is the same person."""
    known_ids = {m.id_number for m in db.members if not m.id_pending}
    pending_names = {m.name for m in db.members if m.id_pending}
    all_names = {m.name for m in db.members}
    out = []
    for m in h.members:
        if not m.id_pending and (m.id_number in known_ids or m.name in pending_names):
            continue
        if m.id_pending and m.name in all_names:
            continue
        out.append(m)
    return out


# -- writing -------------------------------------------------------------------------------
def apply(store: Store, plan: RosterPlan, month: dt.date | None = None,
          progress: Progress | None = None, cancel: CancelFn | None = None,
          today: dt.date | None = None) -> dict:  # fmt: skip
    """Write the plan in ONE transaction; returns a summary with ``batch_id``.

    Refuses (:class:`ImportRefused`) while any ``error`` problem remains.
    Enrolments from the roster are recorded as 在保 from ``month`` (default:
    this month), each with an ``import`` event naming the batch.
    """
    if plan.errors:
        codes = Counter(p.code for p in plan.errors)
        what = "，".join(f"{problem_label(c)} {n}处" for c, n in codes.items())
        first = plan.errors[0]
        raise ImportRefused(
            f"文件有{len(plan.errors)}处必须先改正的问题（{what}），"
            f"例如 {first.sheet} 第{first.row}行 {first.column}: {first.message}；未导入任何数据"
        )
    today = today or dt.date.today()
    start = (month or today).replace(day=1).isoformat()
    check_date("roster_month", start, today=today, field="month")  # not 1900, not 2099
    registry = Registry(store)
    creates = [fh for fh in plan.households if fh.action == "create"]
    updates = [fh for fh in plan.households if fh.action == "update"]
    with store.checkpoint_after(), store.transaction():  # the WAL's copy: after the report
        stamp = store.stamp(new=True)
        batch_uid = new_uid()
        batch_id = store.conn.execute(
            "INSERT INTO import_batches (uid, file_name, file_sha256, created_at, updated_at, "
            "created_by, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (batch_uid, Path(plan.path).name, plan.sha256, stamp["created_at"],
             stamp["updated_at"], stamp["created_by"], stamp["updated_by"]),
        ).lastrowid  # fmt: skip
        log: list[tuple] = []
        _require_import(store)
        ids = _insert_households(store, [fh.household for fh in creates], progress, cancel)
        for hid, fh in zip(ids, creates, strict=True):
            fh.match_id = hid
            log.append((batch_id, "households", hid, "created", None))
            log += [(batch_id, "members", m.id, "created", None) for m in fh.household.members]
        for fh in updates:
            if cancel and cancel():
                raise Cancelled()
            log += _update_household(store, registry, fh, batch_id, today)
        enrol_rows: list[tuple] = []
        next_eid = [(store.scalar("SELECT max(id) FROM enrolments") or 0) + 1]
        cats = categories(store)
        for fh in creates + updates:
            if not fh.category or fh.monthly_fen is None:
                continue
            log += _enrol(store, fh, start, batch_uid, batch_id, enrol_rows, stamp, next_eid,
                          created=fh.action == "create", cats=cats)  # fmt: skip
        _insert_enrolments(store, enrol_rows, batch_uid)
        store.conn.executemany(
            "INSERT INTO import_rows (batch_id, table_name, row_id, action, before) "
            "VALUES (?, ?, ?, ?, ?)", log)  # fmt: skip
        for lay in plan.layouts:
            remember_layout(store, lay)
        summary = {
            "batch_id": batch_id,
            "file": Path(plan.path).name,
            "households": len(plan.households),
            "members": plan.members,
            "created": len(creates),
            "updated": len(updates),
            "unchanged": len(plan.households) - len(creates) - len(updates),
            "flagged": len(plan.problems),
            "monthly_total_fen": plan.monthly_total_fen,
        }
        store.conn.execute("UPDATE import_batches SET summary = ? WHERE id = ?",
                           (json.dumps(summary, ensure_ascii=False), batch_id))  # fmt: skip
        if cancel and cancel():
            raise Cancelled()
    return summary


def _insert_households(store: Store, households: list[Household], progress: Progress | None,
                       cancel: CancelFn | None) -> list[int]:  # fmt: skip
    """Insert validated households and members with ``executemany`` (the registry's rows).

    Not :meth:`Registry.bulk_create`: that re-validates and would clear the 待核实
    flag of a well-formed number the import flagged (duplicate in the file,
    already registered elsewhere); the rules were applied in :func:`analyse`.
    """
    return write_new_households(store, households, store.stamp(new=True), batch=2000,
                                progress=progress, cancel=cancel)  # fmt: skip


def _update_household(store: Store, registry: Registry, fh: FileHousehold, batch_id: int,
                      today: dt.date) -> list[tuple]:  # fmt: skip
    db = registry.get(fh.match_id)
    before = store.one("SELECT * FROM households WHERE id = ?", (db.id,))
    changed = {n: getattr(fh.household, n) for n in HOUSEHOLD_TEXT
               if getattr(fh.household, n) and getattr(fh.household, n) != getattr(db, n)}  # fmt: skip
    added = _new_members(db, fh.household)
    stamp = store.stamp(new=True)
    seq0 = len(db.members)
    for k, m in enumerate(added):
        row = _member_row(m, seq0 + k)
        row.update(uid=new_uid(), household_id=db.id, **stamp)
        m.id = store.conn.execute(_insert_sql("members", row), tuple(row.values())).lastrowid
    if "phone" in changed:
        changed["phone_rev"] = changed["phone"][::-1]
    changed["member_count"] = seq0 + len(added)
    sets = ", ".join(f"{k} = ?" for k in changed)
    store.conn.execute(
        f"UPDATE households SET {sets}, rev = rev + 1, updated_at = ?, updated_by = ? WHERE id = ?",
        (*changed.values(), stamp["updated_at"], stamp["updated_by"], db.id),
    )
    keep = {k: before[k] for k in (*changed, "rev")}
    log = [(batch_id, "households", db.id, "updated", json.dumps(keep, ensure_ascii=False))]
    log += [(batch_id, "members", m.id, "created", None) for m in added]
    return log


def _enrol(store: Store, fh: FileHousehold, start: str, batch_uid: str, batch_id: int,
           new_rows: list, stamp: dict, next_id: list[int], created: bool,
           cats: dict[str, dict]) -> list[tuple]:  # fmt: skip
    """Record the household's enrolment: a new 在保 row (batched into ``new_rows``), or an
    update of the live one when re-importing changed figures."""
    cat = cats.get(fh.category, {})
    member_id = fh.household.head.id if cat.get("unit") == "person" and fh.household.head else None
    covered = _covered(fh)
    existing = None if created else _enrolment_for(store, fh.match_id, fh.category)
    detail = json.dumps({"import_batch": batch_uid}, ensure_ascii=False)
    if existing:
        if (existing["class"], existing["covered"], existing["monthly_fen"]) == (
            fh.cls,
            covered,
            fh.monthly_fen,
        ):
            return []
        before = json.dumps({k: existing[k] for k in ("class", "covered", "monthly_fen", "rev")},
                            ensure_ascii=False)  # fmt: skip
        store.conn.execute(
            "UPDATE enrolments SET class = ?, covered = ?, monthly_fen = ?, rev = rev + 1, "
            "updated_at = ?, updated_by = ? WHERE id = ?",
            (fh.cls, covered, fh.monthly_fen, stamp["updated_at"], stamp["updated_by"],
             existing["id"]),
        )  # fmt: skip
        _event(store, existing["id"], existing["state"], detail, fh.monthly_fen)
        return [(batch_id, "enrolments", existing["id"], "updated", before)]
    eid = next_id[0]
    next_id[0] += 1
    new_rows.append((eid, new_uid(), fh.match_id, member_id, fh.category, fh.cls, covered,
                     fh.monthly_fen, stamp["created_at"][:10], start, stamp["created_at"],
                     stamp["updated_at"], stamp["created_by"], stamp["updated_by"]))  # fmt: skip
    return [(batch_id, "enrolments", eid, "created", None)]


def _insert_enrolments(store: Store, rows: list[tuple], batch_uid: str) -> None:
    # one statement per table (bulk.insert_many): the triggers' statement journal once, not per row
    insert_many(store.conn, "enrolments",
                ("id", "uid", "household_id", "member_id", "category", "class", "state", "covered",
                 "monthly_fen", "applied_on", "start_on", "notice_pending", "created_at",
                 "updated_at", "created_by", "updated_by"),
                [(*r[:6], "active", *r[6:10], "", *r[10:]) for r in rows])  # fmt: skip
    detail = json.dumps({"import_batch": batch_uid}, ensure_ascii=False)
    at = now_iso()
    insert_many(store.conn, "enrolment_events",
                ("uid", "enrolment_id", "action", "from_state", "to_state", "reason", "detail",
                 "monthly_fen", "at", "by"),
                [(new_uid(), r[0], "import", None, "active", "花名册导入", detail, r[7], at,
                  store.operator) for r in rows])  # fmt: skip


def _event(store: Store, eid: int, from_state: str | None, detail: str, fen: int) -> None:
    store.conn.execute(
        "INSERT INTO enrolment_events (uid, enrolment_id, action, from_state, to_state, reason, "
        "detail, monthly_fen, at, by) VALUES (?, ?, 'import', ?, 'active', '花名册导入', ?, ?, ?, ?)",
        (new_uid(), eid, from_state, detail, fen, now_iso(), store.operator),
    )


# -- undo ----------------------------------------------------------------------------------
def batches(store: Store, limit: int = 50) -> list[dict]:
    """Recent imports, newest first, with their summary."""
    return [
        {**r, "summary": json.loads(r["summary"])}
        for r in store.db.query(
            "SELECT id, uid, file_name, state, created_at, created_by, undone_at, summary "
            "FROM import_batches ORDER BY id DESC LIMIT ?",
            (limit,),
        )
    ]


def undo(store: Store, batch_id: int | None = None, reason: str = "撤销导入") -> dict:
    """Undo an import as a unit: soft-delete what it created, restore what it changed.

    Only the most recent applied import can be undone, and only while the
    households it created have not been edited since.
    """
    with store.transaction():
        last = store.one("SELECT * FROM import_batches WHERE state = 'applied' ORDER BY id DESC "
                         "LIMIT 1")  # fmt: skip
        if last is None:
            raise MzError("没有可以撤销的导入", "nothing_to_undo")
        if batch_id is not None and batch_id != last["id"]:
            raise MzError(f"只能撤销最近一次导入（编号{last['id']}）", "not_last_import")
        rows = store.conn.execute(
            "SELECT table_name, row_id, action, before FROM import_rows WHERE batch_id = ? "
            "ORDER BY id DESC", (last["id"],)).fetchall()  # fmt: skip
        created_h = [r[1] for r in rows if r[0] == "households" and r[2] == "created"]
        for table, row_id, action, before in rows:
            if table not in ("households", "enrolments") or (table, action) == (
                "enrolments",
                "created",
            ):
                continue
            expect = 1 if action == "created" else json.loads(before)["rev"] + 1
            rev = store.scalar(f"SELECT rev FROM {table} WHERE id = ?", (row_id,))
            if rev != expect:
                raise MzError(f"该次导入写入的记录（{table} {row_id}）在导入后已被修改，不能整体撤销",
                              "edited_since")  # fmt: skip
        stamp = store.stamp(new=False)
        ts, by = stamp["updated_at"], stamp["updated_by"]
        for table, row_id, action, before in rows:
            if action == "created" and table == "members":
                store.conn.execute(
                    "UPDATE members SET status = 'deleted', status_reason = ?, "
                    "id_raw = COALESCE(id_number, id_raw), id_number = NULL, id_rev = NULL, "
                    "updated_at = ?, updated_by = ? WHERE id = ? AND status = 'active'",
                    (reason, ts, by, row_id))  # fmt: skip
            elif action == "created" and table == "households":
                store.conn.execute(
                    "UPDATE households SET status = 'deleted', status_reason = ?, rev = rev + 1, "
                    "updated_at = ?, updated_by = ? WHERE id = ?", (reason, ts, by, row_id))  # fmt: skip
            elif action == "created" and table == "enrolments":
                store.conn.execute(
                    "UPDATE enrolments SET status = 'deleted', rev = rev + 1, updated_at = ?, "
                    "updated_by = ? WHERE id = ?", (ts, by, row_id))  # fmt: skip
            elif action == "updated":
                values = json.loads(before)
                sets = ", ".join(f'"{k}" = ?' for k in values)  # rev too: as before the import
                store.conn.execute(
                    f"UPDATE {table} SET {sets}, updated_at = ?, updated_by = ? "
                    "WHERE id = ?", (*values.values(), ts, by, row_id))  # fmt: skip
        store.conn.execute(
            "UPDATE import_batches SET state = 'undone', undone_at = ?, undone_by = ?, "
            "updated_at = ?, updated_by = ? WHERE id = ?", (ts, by, ts, by, last["id"]))  # fmt: skip
    return {"batch_id": last["id"], "households_removed": len(created_h),
            "rows": len(rows)}  # fmt: skip


def import_roster(store: Store, path: str | Path, dry_run: bool = False,
                  mapping: dict | None = None, month: dt.date | None = None,
                  progress: Progress | None = None, cancel: CancelFn | None = None,
                  today: dt.date | None = None) -> dict:  # fmt: skip
    """Analyse and (unless ``dry_run``) apply; the report the CLI prints."""
    plan = analyse(store, path, mapping, today, progress, cancel)
    report = plan.report()
    report["applied"] = False
    if not dry_run:
        summary = apply(store, plan, month, progress, cancel, today)
        report.update(applied=True, batch_id=summary["batch_id"], created=summary["created"],
                      updated=summary["updated"], unchanged=summary["unchanged"])  # fmt: skip
    return report
