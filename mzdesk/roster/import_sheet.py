"""Reading one roster sheet (花名册的一张表): rows to households and members.

Header detection is :mod:`mzdesk.roster.layout`'s; this module walks the data
rows under a detected :class:`~mzdesk.roster.layout.Layout`, groups the lines of
one household (merged cells, the head's line, a change of 序号/户主), reads each
cell through the rules (:mod:`mzdesk.models.ids`, :mod:`mzdesk.models.money`,
:func:`mzdesk.models.household.validate_household`) and records every problem
cell in the plan.  It reads no database.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TypeGuard

from ..models.errors import FieldError
from ..models.household import HEAD, Household, Member, validate_household
from ..models.ids import normalise_id, parse_id
from ..models.money import parse_assistance
from ..models.progress import Cancelled, Progress
from ..models.registry import Cancel as CancelFn
from ..models.text import clean
from ..models.vocab import vocab
from .import_cells import CellRules
from .import_plan import HOUSEHOLD_TEXT, FileHousehold, Problem, RosterPlan, layout_problem
from .layout import Layout, headers_config, norm_header
from .reader import Sheet
from .vocab import Values, relation_words


# -- cells ---------------------------------------------------------------------------
def blank(v: object) -> bool:
    """An empty cell: nothing, or only spaces."""
    return v is None or (isinstance(v, str) and not v.strip())


def cell_text(v: object) -> str:
    """A cell as text; a whole-number float as its digits as Excel shows them
    (3.41623198805059e+17 -> '341623198805059000', not the binary float's tail)."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(Decimal(repr(v))))
    return clean(str(v), multiline=True)  # models/text.py: no "_x001B_" control characters


def _is_number(v: object) -> TypeGuard[int | float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def cell_fen(v: object) -> int:
    """A money cell to fen (a number cell's float: :func:`parse_yuan`, NaN refused there)."""
    return parse_assistance(v, "monthly")


def _count(v: object) -> int | None:
    if blank(v):
        return None
    try:
        n = float(normalise_id(cell_text(v)).replace("人", "")) if not _is_number(v) else float(v)
    except ValueError:
        return None
    return int(n) if n.is_integer() and n >= 0 else None


def _tick(r: int, total: int, progress: Progress | None, cancel: CancelFn | None) -> None:
    if cancel and r % 2000 == 0 and cancel():
        raise Cancelled()
    if progress and r % 5000 == 0:
        progress(r, total)


# -- reading one sheet ---------------------------------------------------------------------
class SheetReader(CellRules):
    """One sheet's data rows under its layout; problems go to ``plan``."""

    def __init__(
        self, sheet: Sheet, layout: Layout, today: dt.date, plan: RosterPlan, cats: dict[str, dict]
    ):
        self.sheet, self.layout, self.today, self.plan = sheet, layout, today, plan
        self.cats = cats  # the database's categories, the township's own ones too
        self.cols = layout.columns
        self.total_markers = {norm_header(m) for m in headers_config()["total_markers"]}
        self.rel_syn = relation_words()
        self.values = Values(cats, layout.value_mapping)
        self.relations = set(vocab()["relation"])

    def problem(self, row: int, name: str, value: object, code: str, message: str) -> Problem:
        p = layout_problem(self.layout, self.sheet.name, row, name, cell_text(value), code, message)
        self.plan.problems.append(p)
        return p

    def get(self, row: list, name: str) -> object:
        col = self.cols.get(name)
        if col is None or col >= len(row):
            return None
        return row[col]

    def is_total(self, row: list) -> bool:
        return any(
            isinstance(v, str) and "计" in v and norm_header(v) in self.total_markers
            for v in row[:6]
        )

    def skip(self, row: list, mapped: list[int]) -> bool:
        """A blank line or a 合计 line (counted in the plan): no member on it."""
        if all(blank(row[c]) if c < len(row) else True for c in mapped):
            self.plan.blank_rows += 1
            return True
        if self.is_total(row):
            self.plan.total_rows += 1
            return True
        return False

    def household_cells_continue(self, r: int) -> bool:
        """A merged household cell over this row that began above: same household."""
        for name in ("seq", "head_name", "village", "head_id"):
            col = self.cols.get(name)
            if col is not None and (r, col) in self.sheet.merged_from:
                return True
        return False

    def starts_household(
        self, r: int, row: list, current: FileHousehold | None, key: tuple, own_key: tuple
    ) -> bool:
        """Whether member line ``r`` begins a new household rather than continuing ``current``."""
        if current is None:
            return True
        if self.household_cells_continue(r):
            return False
        if self.relation_word(self.get(row, "relation")) == HEAD:
            return True
        return any(v and v != k for v, k in zip(own_key, key, strict=True))

    def rows(self, progress: Progress | None, cancel: CancelFn | None) -> list[FileHousehold]:
        out: list[FileHousehold] = []
        current: FileHousehold | None = None
        key: tuple = ()
        member_mode = self.layout.mode == "member"
        rows = self.sheet.rows
        mapped = sorted(self.layout.mapping)
        for r in range(self.layout.data_start, len(rows)):
            row = rows[r]
            _tick(r, len(rows), progress, cancel)
            if self.skip(row, mapped):
                continue
            if not member_mode:
                current = self.start_household(r, row)
                out.append(current)
                self.add_member(current, r, row, head=True)
                continue
            own_key = tuple(cell_text(self.get(row, n)) for n in ("seq", "head_name", "head_id"))
            if self.starts_household(r, row, current, key, own_key):
                current = self.start_household(r, row)
                key = own_key
                out.append(current)
            else:
                key = tuple(k or v for k, v in zip(key, own_key, strict=True))
            assert current is not None  # starts_household is True while there is none
            self.add_member(current, r, row, head=False)
        for fh in out:
            self.finish_household(fh)
        return out

    def relation_word(self, v: object) -> str:
        t = "".join(cell_text(v).split())
        return self.rel_syn.get(t, t)

    # -- the household's own cells (its first line) ------------------------------------
    def household_cells(self, row: list) -> Household:
        h = Household(village="")
        for name in HOUSEHOLD_TEXT:
            v = self.get(row, name)
            if not blank(v):
                text = cell_text(v)
                setattr(h, name, "".join(text.split()) if name != "address" else text)
        h.notes = cell_text(self.get(row, "notes"))
        cert = "".join(cell_text(self.get(row, "cert_no")).split())
        if cert:
            h.notes = (h.notes + f" 证号：{cert}").strip()
        return h

    def start_household(self, r: int, row: list) -> FileHousehold:
        fh = FileHousehold(sheet=self.sheet.name, row=r, household=self.household_cells(row))
        self.read_account(fh, r, row)
        self.read_category(fh, r, row)
        self.read_class(fh, r, row)
        self.read_support(fh, r, row)
        self.read_first_month(fh, r, row)
        self.read_amount(fh, r, row)
        fh.covered = _count(self.get(row, "covered"))
        amounts = {"monthly", "class", "classified", "care", "total"} & set(self.cols)
        if amounts and fh.category is None and not fh.skipped:
            self.problem(
                r,
                "category",
                self.get(row, "category"),
                "unknown_category",
                "无法确定救助类别：请在表名、标题或“救助类别”列写明，或在列对应中指定",
            )
        return fh

    # -- members ------------------------------------------------------------------------
    def add_member(self, fh: FileHousehold, r: int, row: list, head: bool) -> None:
        name_cell = self.get(row, "name")
        if blank(name_cell) and head:
            name_cell = self.get(row, "head_name")
        m = Member(name="".join(cell_text(name_cell).split()), relation=HEAD if head else "")
        if not head:
            m.relation = self.relation_word(self.get(row, "relation"))
        id_name = "id_number" if "id_number" in self.cols else "head_id"
        id_cell = self.get(row, id_name)
        if head and blank(id_cell) and "head_id" in self.cols:
            id_name, id_cell = "head_id", self.get(row, "head_id")
        self.read_id(fh, r, m, id_name, id_cell)
        self.settle_relation(r, m, cell_text(self.get(row, "gender")))
        fh.household.members.append(m)
        fh.member_rows.append(r)
        self.add_person_classified(fh, r, row)
        if head:
            for slot in self.layout.wide:
                self.add_wide_member(fh, r, row, slot)

    def add_wide_member(self, fh: FileHousehold, r: int, row: list, slot: dict[str, int]) -> None:
        """One 成员N of a wide row (成员一姓名, 成员一身份证号 …); the head again is skipped."""

        def cell(name: str) -> object:
            col = slot.get(name)
            return row[col] if col is not None and col < len(row) else None

        name_cell, id_cell = cell("name"), cell("id_number")
        if blank(name_cell) and blank(id_cell):
            return
        name = "".join(cell_text(name_cell).split())
        head = fh.household.members[0]
        if (name and name == head.name) or (
            not blank(id_cell) and cell_text(id_cell) == head.id_number
        ):
            return
        m = Member(name=name, relation=self.relation_word(cell("relation")))
        id_name = "id_number" if "id_number" in self.cols else "head_id"
        self.read_id(fh, r, m, id_name, id_cell)
        self.settle_relation(r, m, cell_text(cell("gender")))
        fh.household.members.append(m)
        fh.member_rows.append(r)

    def settle_relation(self, r: int, m: Member, gender: str) -> None:
        """子女 told apart by sex (the ID's, else the 性别 cell); an unknown word is 其他."""
        if not (
            m.relation in ("子女", "儿女") or (m.relation and m.relation not in self.relations)
        ):
            return
        sex = m.gender or {"男": "M", "女": "F"}.get(gender)
        if m.relation in ("子女", "儿女") and sex:
            m.relation = "子" if sex == "M" else "女"
            return
        raw = m.relation
        m.relation = "其他"
        self.problem(
            r, "relation", raw, "bad_relation", f"与户主关系“{raw}”无法识别，已记为“其他”，请核实"
        )

    def read_id(self, fh: FileHousehold, r: int, m: Member, name: str, cell: object) -> None:
        if _is_number(cell):
            raw = cell_text(cell)
            m.id_number, m.id_pending = raw, True
            self.problem(
                r,
                name,
                cell,
                "id_precision_lost",
                "身份证号是数字格式，Excel只保留15位有效数字，后几位可能已变成0，请按证件核实",
            )
            return
        if blank(cell):
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

    # -- the household as a whole --------------------------------------------------------
    def finish_household(self, fh: FileHousehold) -> None:
        self.settle_head(fh)
        self.check_rules(fh)
        self.settle_amount(fh)

    def settle_head(self, fh: FileHousehold) -> None:
        """No 户主 line: the member named in 户主姓名 is the head; a blank relation is 其他."""
        h = fh.household
        r0 = fh.row
        heads = [m for m in h.members if m.relation == HEAD]
        head_name = "".join(cell_text(self.get(self.sheet.rows[r0], "head_name")).split())
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

    def check_rules(self, fh: FileHousehold) -> None:
        """The household rules (IDs are settled already: pending or valid); a bad phone or
        account is cleared and kept in the notes, so it flags rather than refuses."""
        h = fh.household
        problems = validate_household(h, self.today)
        fixable = [p for p in problems if p.code in ("bad_phone", "bad_account")]
        for p in fixable:
            raw = getattr(h, p.field)
            setattr(h, p.field, "")
            h.notes = (h.notes + f" 导入时{p.message}: {raw}").strip()
            self.problem(fh.row, p.field, raw, p.code, p.message + "，已清空，原值记入备注")
        if fixable:
            problems = validate_household(h, self.today)
        for p in problems:
            self.rule_problem(fh, p)

    def rule_problem(self, fh: FileHousehold, p: FieldError) -> None:
        h = fh.household
        row = fh.member_rows[p.row] if p.row is not None and p.row < len(fh.member_rows) else fh.row
        name = {"members": "head_name"}.get(p.field, p.field)
        value = ""
        if p.row is not None and p.row < len(h.members):
            value = getattr(h.members[p.row], p.field, "") or ""
        elif hasattr(h, p.field):
            value = getattr(h, p.field)
        self.problem(row, name, value, p.code, p.message)
