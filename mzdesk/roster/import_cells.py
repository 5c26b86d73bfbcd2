"""Cells a roster row is decided by (花名册的取值): category, 城乡, class, self-care,
供养方式, the amount in parts, the bank account and the first month.

Mixed into :class:`mzdesk.roster.import_sheet.SheetReader`.  Each decision asks the
clerk's value mapping first, then the vocabulary (:mod:`mzdesk.roster.vocab`).  A value
nothing decides is listed once per column and value (``unknown_value``, with its count
and first row) and keeps only that row's enrolment out; the household and the other
rows import.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from ..models.errors import FieldError
from ..models.paid_month import ACCOUNT_PENDING
from ..models.selfcare import label_of
from ..models.support import MODES
from .import_plan import FileHousehold, Problem, RosterPlan, UnknownValue
from .layout import Layout, normalise_class
from .reader import Sheet, column_letter
from .vocab import Values, area_type, names_single, selfcare_level, support_mode

# what the 清册 and the household's notes say of an account Excel cut short
AREA_LABELS = {"urban": "城市", "rural": "农村"}
_EXACT_DIGITS = 15  # Excel keeps 15 significant digits of a number
_MONTH = re.compile(r"^(\d{4})\s*[-./年]?\s*(\d{1,2})(?:\s*[-./月].*)?$")


def parse_month(value: object) -> str | None:
    """最初享受月份 as written (2019-03, 2019.3, 201903, 2019年3月, a date cell) → 'YYYY-MM'."""
    if isinstance(value, (dt.date, dt.datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value or "").strip()
    m = _MONTH.match(text)
    if not m:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    if not (1950 <= year <= 2100 and 1 <= month <= 12):
        return None
    return f"{year:04d}-{month:02d}"


class CellRules:
    """The value decisions of one sheet (state lives on the :class:`SheetReader`)."""

    sheet: Sheet
    layout: Layout
    plan: RosterPlan
    cats: dict[str, dict]
    cols: dict[str, int]  # the layout's field -> column, computed once
    values: Values

    if TYPE_CHECKING:  # SheetReader's

        def get(self, row: list, name: str) -> object: ...

        def problem(
            self, row: int, name: str, value: object, code: str, message: str
        ) -> Problem: ...

    # -- the clerk's mapping, then the vocabulary --------------------------------------
    def mapped(self, name: str, value: object) -> str | None:
        """The clerk's value for ``value`` in field ``name``'s column (by header, letter
        or field name), else None."""
        if not self.values.mapping:
            return None
        col = self.cols.get(name)
        names = [name]
        if col is not None:
            names += [self.layout.headers[col], column_letter(col)]
        return self.values.mapped(*names, str(value))

    def unknown(self, fh: FileHousehold, r: int, name: str, value: object, what: str) -> None:
        """A value nothing decides: listed once per column and value; the row's enrolment
        stays out (``fh.skipped``)."""
        text = str(value).strip()
        column = self.layout.header_of(name)
        key = (self.sheet.name, column, text)
        fh.skipped = fh.skipped or "unknown_value"
        entry = self.plan.unknown.get(key)
        if entry is not None:
            entry.count += 1
            entry.problem.message = self._unknown_message(entry, what)
            return
        p = self.problem(r, name, text, "unknown_value", "")
        entry = UnknownValue(
            self.sheet.name, column, name, text, r + 1, 1, p, self.choices(name, fh.category)
        )
        p.message = self._unknown_message(entry, what)
        self.plan.unknown[key] = entry

    @staticmethod
    def _unknown_message(u: UnknownValue, what: str) -> str:
        return (
            f"{u.column}列的“{u.value}”无法识别为{what}（共{u.count}行，首见第{u.first_row}行）；"
            "该行的保障记录未导入，可在列对应中指定它的含义"
        )

    def choices(self, name: str, category: str | None = None) -> list[str]:
        """What a value of field ``name`` may be mapped to (the dialog's combo): for a
        class, the row's category's classes when it is known."""
        if name == "category":
            return [c.get("name", code) for code, c in self.cats.items()]
        if name == "class":
            if category in self.cats:
                return list(self.cats[category].get("classes", []))
            seen: list[str] = []
            for cat in self.cats.values():
                seen += [c for c in cat.get("classes", []) if c not in seen]
            return seen
        if name == "selfcare":
            return [label_of(c) for c in ("able", "partial", "unable")]
        if name in ("area_type", "village"):
            return list(AREA_LABELS.values())
        if name == "support_mode":
            return list(MODES.values())
        return []

    # -- category and 城乡 ---------------------------------------------------------------
    def read_category(self, fh: FileHousehold, r: int, row: list) -> None:
        """The row's 救助类别 cell, else the sheet's; 低保 without 城/乡 decided by the
        row's 城乡 column or its village's name (社区 → 城市, 村 → 农村)."""
        cell = self.get(row, "category")
        fh.category = self.layout.category
        fh.single = self.layout.single
        if cell is not None and str(cell).strip():
            meant = self.mapped("category", cell)
            code = self.values.category(meant if meant is not None else cell)
            if code is None:
                self.unknown(fh, r, "category", cell, "救助类别")
                fh.category = None
                return
            fh.category = code
            fh.single = fh.single or names_single(cell)
            fh.support_mode = support_mode(cell) or ""
        area = self.read_area(fh, r, row, fh.category in self.values.pseudo)
        resolved = self.values.resolve_area(fh.category, area)
        if resolved != fh.category:
            if resolved is None:
                self.unknown(fh, r, "village", fh.household.village, "城市或农村")
            fh.category = resolved
        area_of = self.values.area_of_category
        if fh.category in area_of and "area_type" not in self.cols:
            fh.household.area_type = area_of[fh.category]

    def read_area(self, fh: FileHousehold, r: int, row: list, by_village: bool) -> str | None:
        """城乡 from the 城乡/户籍类型 column, else (``by_village``) from the village's name."""
        cell = self.get(row, "area_type")
        h = fh.household
        if cell is not None and str(cell).strip():
            meant = self.mapped("area_type", cell)
            area = area_type(meant if meant is not None else cell)
            if area is None:
                self.unknown(fh, r, "area_type", cell, "城市或农村")
                return None
            h.area_type = area
            return area
        if not by_village:
            return None
        meant = self.mapped("village", h.village) if h.village else None
        return area_type(meant) if meant is not None else self.values.area_of_village(h.village)

    # -- class, self-care, 供养方式 -------------------------------------------------------
    def read_class(self, fh: FileHousehold, r: int, row: list) -> None:
        cell = self.get(row, "class")
        name = "class"
        if (cell is None or not str(cell).strip()) and "selfcare" in self.cols:
            cell, name = self.get(row, "selfcare"), "selfcare"
        if cell is None or not str(cell).strip() or fh.category is None:
            return
        meant = self.mapped(name, cell)
        cls, ok = normalise_class(meant if meant is not None else cell, fh.category, self.cats)
        if name == "selfcare" and not self.cats.get(fh.category, {}).get("class_vocab"):
            if selfcare_level(cell) is None:
                self.unknown(fh, r, name, cell, "生活自理能力")
            return  # a self-care level beside a category without such classes: not its class
        fh.cls = cls
        if not ok:
            what = "生活自理能力" if name == "selfcare" else "保障类别/档次"
            self.unknown(fh, r, name, cell, what)

    def read_support(self, fh: FileHousehold, r: int, row: list) -> None:
        cell = self.get(row, "support_mode")
        if cell is not None and str(cell).strip():
            meant = self.mapped("support_mode", cell)
            mode = support_mode(meant if meant is not None else cell)
            if mode is None:
                self.unknown(fh, r, "support_mode", cell, "供养方式（集中/分散）")
            else:
                fh.support_mode = mode
        inst = self.get(row, "institution")
        if inst is not None and str(inst).strip():
            fh.institution = "".join(str(inst).split())

    def read_first_month(self, fh: FileHousehold, r: int, row: list) -> None:
        cell = self.get(row, "first_month")
        if cell is None or not str(cell).strip():
            return
        meant = self.mapped("first_month", cell)
        month = parse_month(meant if meant is not None else cell)
        if month is None:
            self.unknown(fh, r, "first_month", cell, "年月（如 2019-03）")
        fh.first_month = month

    # -- money in parts ----------------------------------------------------------------
    def money(self, fh: FileHousehold, r: int, row: list, name: str) -> int | None:
        if name not in self.cols:
            return None
        from .import_sheet import blank, cell_fen

        v = self.get(row, name)
        if blank(v):
            return None
        try:
            return cell_fen(v)
        except FieldError as exc:
            self.problem(r, name, v, "bad_amount", exc.message)
            return None

    def read_amount(self, fh: FileHousehold, r: int, row: list) -> None:
        """保障金/基本生活费 (base), 分类施保金 (classified), 照料护理费 (care) and 合计 (a
        check only); an amount given only as 合计 is the whole amount."""
        cols = self.cols
        if not {"monthly", "classified", "care", "total", "classified_person"} & set(cols):
            return
        parts = {
            code: fen
            for code, name in (("base", "monthly"), ("classified", "classified"), ("care", "care"))
            if (fen := self.money(fh, r, row, name)) is not None
        }
        fh.total_fen = self.money(fh, r, row, "total")
        if not parts and fh.total_fen is None and "classified_person" not in cols:
            money = self.get(row, "monthly")
            if "monthly" in cols and (money is None or not str(money).strip()):
                self.problem(r, "monthly", money, "missing_required", "月保障金为空")
            return
        fh.parts = parts

    def add_person_classified(self, fh: FileHousehold, r: int, row: list) -> None:
        if "classified_person" not in self.cols:
            return
        fen = self.money(fh, r, row, "classified_person")
        if fen:
            fh.parts["classified"] = fh.parts.get("classified", 0) + fen

    def settle_amount(self, fh: FileHousehold) -> None:
        """The amount is the sum of its parts; a 合计 that differs is ``total_mismatch``."""
        cat = self.cats.get(fh.category or "", {})
        # a part written as 0 is no part (a 特困 row's empty 分类施保金 column)
        fh.parts = {k: v for k, v in fh.parts.items() if v or k == "base"}
        if fh.parts:
            fh.monthly_fen = sum(fh.parts.values())
            if fh.total_fen is not None and fh.total_fen != fh.monthly_fen:
                from ..models.money import format_fen

                self.problem(
                    fh.row,
                    "total",
                    format_fen(fh.total_fen),
                    "total_mismatch",
                    f"合计{format_fen(fh.total_fen)}元与各项之和{format_fen(fh.monthly_fen)}元不符，"
                    "该行的保障记录未导入",
                )
                fh.skipped = fh.skipped or "total_mismatch"
            if set(fh.parts) == {"base"}:
                fh.parts = {}  # one amount: the enrolment's whole amount, no parts to keep
        elif fh.total_fen is not None:
            fh.monthly_fen = fh.total_fen
        if fh.monthly_fen is None and cat.get("payment") == "none":
            fh.monthly_fen = 0  # 低保边缘, 刚性支出困难: monitored, no monthly cash
        if fh.skipped:
            fh.monthly_fen = None  # the enrolment stays out; the household imports

    # -- bank account --------------------------------------------------------------------
    def read_account(self, fh: FileHousehold, r: int, row: list) -> None:
        """An account typed as an Excel number longer than 15 digits lost its tail: kept
        待核实 (blank, the readable digits in the notes), never with made-up digits."""
        v = self.get(row, "bank_account")
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return
        from .import_sheet import cell_text

        digits = cell_text(v)
        if len(digits) <= _EXACT_DIGITS and not (isinstance(v, float) and not v.is_integer()):
            fh.household.bank_account = digits  # short enough to be exact
            return
        h = fh.household
        h.bank_account = ""
        kept = digits[:_EXACT_DIGITS]
        h.notes = (
            h.notes + f" {ACCOUNT_PENDING}：文件中为数字格式，只有前15位可信（{kept}…）"
        ).strip()
        self.problem(
            r,
            "bank_account",
            v,
            "account_precision_lost",
            "银行账号是数字格式，Excel只保留15位有效数字，后几位已丢失；未保存该账号，已标记待核实，请按存折核实",
        )
