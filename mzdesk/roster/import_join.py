"""A household file and a person file read as one roster (家庭查询 + 人员查询).

Provincial systems export a *pair* of workbooks: a household file (家庭查询, one row per
household: village, category, amounts, bank account, and every member's name in one cell,
家庭成员姓名 "张三、李四") and a person file (人员查询, one row per person: name, ID,
relation, 救助类型, self-care level), joined by 户主身份证号.

Which sheet is which is told by its columns (:func:`sheet_role`): a sheet with both a
person's own ID and the head's ID is a person sheet; a sheet with the head's ID and no
person ID is a household sheet.  :func:`join_sheets` then builds one
:class:`~mzdesk.roster.import_plan.FileHousehold` per household row: its own cells from the
household row, its members from the person rows with the same 户主身份证号.

- The member list in one cell is checked against the person rows, never imported as
  names: ``member_list_mismatch`` (a flag) when they disagree.
- A person row whose 户主身份证号 has no household row is ``orphan_person`` (an error:
  that person has no village, category or amount to be imported with).

Reads no database; the rules are those of :mod:`mzdesk.roster.import_sheet` and
:func:`mzdesk.models.household.validate_household`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from ..models.household import HEAD, Household, Member, validate_household
from ..models.ids import is_valid_id, normalise_id
from ..models.progress import Cancel as CancelFn
from ..models.progress import Cancelled, Progress
from ..models.support import SupportRefused, mode_code
from .import_plan import FileHousehold, Problem, RosterPlan
from .import_sheet import SheetReader, blank, cell_text
from .layout import Layout, category_from_cell, field_for_header, norm_header
from .reader import Sheet, column_letter

# what separates the names in a 家庭成员姓名 cell: 、，,;； and any space
MEMBER_SEPARATORS = re.compile(r"[、，,;；\s]+")
# a person file's 特困 供养 columns (by header), read for categories with support_modes
SUPPORT_HEADERS = {
    "mode": "供养方式",
    "institution": "供养机构",
    "carer_name": "照料人姓名",
    "carer_id_number": "照料人身份证号",
}


def sheet_role(layout: Layout) -> str:
    """'person', 'household' or '' (an ordinary roster sheet), by the columns mapped."""
    cols = layout.columns
    if "head_id" in cols and "id_number" in cols:
        return "person"
    if "head_id" in cols and "id_number" not in cols and "relation" not in cols:
        return "household"
    return ""


def is_pair(layouts: list[Layout]) -> bool:
    """Whether the sheets read are (at least) one household and one person sheet."""
    roles = {sheet_role(lay) for lay in layouts}
    return {"person", "household"} <= roles


def split_members(text: str) -> list[str]:
    """``split_members('张三、李四， 王五')`` → ['张三', '李四', '王五']."""
    return [n for n in MEMBER_SEPARATORS.split(text.strip()) if n]


@dataclass
class _Persons:
    """The person rows of one household (same 户主身份证号), in file order."""

    reader: SheetReader
    rows: list[int] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    used: bool = False


def _id_key(v: object) -> str:
    return normalise_id(cell_text(v)).upper()


class PairJoin:
    """Household sheets and person sheets of one import, joined by 户主身份证号."""

    def __init__(
        self,
        plan: RosterPlan,
        sheets: list[tuple[Sheet, Layout]],
        today: dt.date,
        cats: dict[str, dict],
    ):
        self.plan, self.today, self.cats = plan, today, cats
        self.households: list[tuple[SheetReader, int]] = []  # (reader, row) per household row
        self.persons: dict[str, _Persons] = {}
        self.readers: list[tuple[str, SheetReader]] = []
        self.member_list: dict[str, int] = {}  # household sheet -> its 家庭成员姓名 column
        self.labels: dict[str, str | None] = {}  # 救助类型 label -> category
        self.support_cols: dict[str, dict[str, int]] = {}  # person sheet -> 供养 columns
        for sheet, layout in sheets:
            role = sheet_role(layout)
            col = _member_list_column(layout) if role == "household" else None
            if col is not None:
                # read as a name column by its header: the member list, checked, not mapped
                layout.mapping.pop(col, None)
                self.member_list[sheet.name] = col
            self.readers.append((role, SheetReader(sheet, layout, today, plan, cats)))
            if role == "person":
                words = {norm_header(w): k for k, w in SUPPORT_HEADERS.items()}
                self.support_cols[sheet.name] = {
                    words[norm_header(h)]: c
                    for c, h in enumerate(layout.headers)
                    if norm_header(h) in words
                }

    def run(self, progress: Progress | None, cancel: CancelFn | None) -> list[FileHousehold]:
        out: list[FileHousehold] = []
        for role, reader in self.readers:
            if role == "person":
                self.read_persons(reader, progress, cancel)
        for role, reader in self.readers:
            if role == "household":
                out += self.read_households(reader, progress, cancel)
            elif role == "":  # an ordinary roster sheet beside the pair: read as always
                out += reader.rows(progress, cancel)
        self.orphans()
        return out

    # -- person rows -------------------------------------------------------------------
    def read_persons(
        self, reader: SheetReader, progress: Progress | None, cancel: CancelFn | None
    ) -> None:
        rows = reader.sheet.rows
        mapped = sorted(reader.layout.mapping)
        holder = FileHousehold(sheet=reader.sheet.name, row=0, household=Household(village=""))
        for r in range(reader.layout.data_start, len(rows)):
            row = rows[r]
            _tick(r, len(rows), progress, cancel)
            if reader.skip(row, mapped):
                continue
            key = _id_key(reader.get(row, "head_id"))
            relation = reader.relation_word(reader.get(row, "relation"))
            if not key and relation == HEAD:
                key = _id_key(reader.get(row, "id_number"))
            group = self.persons.get(key)
            if group is None:
                group = self.persons[key] = _Persons(reader)
            if group.reader is not reader:  # one household's persons on two sheets
                key = f"{key}\x1f{reader.sheet.name}"
                group = self.persons.setdefault(key, _Persons(reader))
            holder.household.members.clear()
            holder.member_rows.clear()
            reader.add_member(holder, r, row, head=False)
            group.rows.append(r)
            group.members.append(holder.household.members[0])

    # -- household rows ----------------------------------------------------------------
    def read_households(
        self, reader: SheetReader, progress: Progress | None, cancel: CancelFn | None
    ) -> list[FileHousehold]:
        out = []
        rows = reader.sheet.rows
        mapped = sorted(reader.layout.mapping)
        if reader.sheet.name in self.member_list:
            mapped.append(self.member_list[reader.sheet.name])
        for r in range(reader.layout.data_start, len(rows)):
            row = rows[r]
            _tick(r, len(rows), progress, cancel)
            if reader.skip(row, mapped):
                continue
            head_id = _id_key(reader.get(row, "head_id"))
            group = self.persons.get(head_id) if head_id else None
            if group is not None and group.used:
                group = None  # a second household row for the same head: no persons of its own
            at = self.head_at(group, head_id) if group is not None else 0
            fh = self.start_household(reader, r, row, group, at)
            if group is not None:
                group.used = True
                self.take_persons(reader, fh, r, row, group, at)
            else:  # no person rows: the head as the household row names them
                reader.add_member(fh, r, row, head=True)
                reader.settle_head(fh)
            self.check_member_list(reader, fh, r, row, group)
            self.check_rules(reader, fh, r, group)
            reader.settle_amount(fh)  # the amount from its parts; a 合计 is a check
            out.append(fh)
        return out

    @staticmethod
    def head_at(group: _Persons, head_id: str) -> int:
        """Which of the group's persons is the head: by the head's ID, else by relation."""
        return next(
            (i for i, m in enumerate(group.members) if m.id_number.upper() == head_id),
            next((i for i, m in enumerate(group.members) if m.relation == HEAD), 0),
        )

    def person_category(self, group: _Persons, at: int) -> str | None:
        """The category the head's person row names (救助类型), memoised by label."""
        persons = group.reader
        cell = persons.get(persons.sheet.rows[group.rows[at]], "category")
        key = cell_text(cell)
        if key not in self.labels:
            self.labels[key] = category_from_cell(cell, self.cats) if key else None
        return self.labels[key]

    def start_household(
        self, reader: SheetReader, r: int, row: list, group: _Persons | None, at: int
    ) -> FileHousehold:
        """The household row's own cells; where neither its 救助类别 cell nor the sheet's
        title or name gives the category, the one its head's person row names."""
        layout = reader.layout
        if group is None or layout.category is not None:
            return reader.start_household(r, row)
        layout.category = self.person_category(group, at)
        try:
            return reader.start_household(r, row)
        finally:
            layout.category = None

    def take_persons(
        self,
        reader: SheetReader,
        fh: FileHousehold,
        r: int,
        row: list,
        group: _Persons,
        at: int,
    ) -> None:
        """The household's members are its person rows; its class, when the household row
        names none, is its head's person row's (生活自理能力)."""
        persons = group.reader
        fh.sheet, fh.row = persons.sheet.name, group.rows[0]
        fh.household.members = group.members
        fh.member_rows = group.rows
        head_row = persons.sheet.rows[group.rows[at]]
        if fh.category is None and not blank(persons.get(head_row, "category")):
            cell = persons.get(head_row, "category")
            persons.problem(
                group.rows[at],
                "category",
                cell,
                "unknown_category",
                f"无法识别的救助类别: {cell_text(cell)}",
            )
        if not fh.cls:  # the head's 生活自理能力 or class, read by the vocabulary
            persons.read_class(fh, group.rows[at], head_row)
        self.settle_head(reader, fh, r, row, group)
        if self.cats.get(fh.category or "", {}).get("support_modes"):
            self.read_support(group, at, fh)

    def read_support(self, group: _Persons, at: int, fh: FileHousehold) -> None:
        """The 供养方式 on the recipient's person row (集中 with 供养机构, 分散 with 照料人), kept
        for the write (:mod:`mzdesk.models.support` records it).  One that cannot be recorded
        is flagged ``support_not_recorded``: the person is imported, the clerk enters it."""
        persons = group.reader
        cols = self.support_cols.get(persons.sheet.name, {})
        if "mode" not in cols:
            return
        r = group.rows[at]
        row = persons.sheet.rows[r]
        got = {k: cell_text(row[c]) if c < len(row) else "" for k, c in cols.items()}
        got["carer_id_number"] = normalise_id(got.get("carer_id_number", ""))
        if not got["mode"].strip():
            return
        why = ""
        try:
            mode = mode_code(got["mode"])
        except SupportRefused as exc:
            mode, why = "", exc.message
        if mode == "concentrated" and not got.get("institution", "").strip():
            why = "集中供养未写供养机构"
        elif mode == "dispersed":
            carer = got.get("carer_id_number", "")
            if not got.get("carer_name", "").strip() or not carer:
                why = "分散供养未写照料人姓名或身份证号"
            elif not is_valid_id(carer, self.today):
                why = "照料人身份证号无效"
            elif carer == group.members[at].id_number:
                why = "照料人不能是本人"
        if why:
            self.plan.problems.append(
                Problem(
                    sheet=persons.sheet.name,
                    row=r + 1,
                    column=persons.layout.headers[cols["mode"]],
                    value=got["mode"],
                    code="support_not_recorded",
                    message=f"{why}：供养方式未记录，导入后请在救助记录中补录",
                    severity="flag",
                    column_letter=column_letter(cols["mode"]),
                )
            )
            return
        fh.support = {"mode": mode, **{k: v for k, v in got.items() if k != "mode"}}

    def settle_head(
        self, reader: SheetReader, fh: FileHousehold, r: int, row: list, group: _Persons
    ) -> None:
        """No 户主 among the person rows: the one whose ID (else name) the household row gives
        as the head's; a blank relation is 其他 (flagged)."""
        members = fh.household.members
        if not any(m.relation == HEAD for m in members):
            head_id = _id_key(reader.get(row, "head_id"))
            head_name = "".join(cell_text(reader.get(row, "head_name")).split())
            found = [m for m in members if head_id and m.id_number.upper() == head_id]
            found = found or [m for m in members if m.name == head_name]
            if found:
                found[0].relation = HEAD
            else:
                reader.problem(r, "head_id", "", "no_head", "该户的人员中没有户主")
        for m, pr in zip(members, fh.member_rows, strict=True):
            if not m.relation:
                m.relation = "其他"
                group.reader.problem(
                    pr, "relation", "", "bad_relation", "与户主关系为空，已记为“其他”，请核实"
                )

    def check_member_list(
        self, reader: SheetReader, fh: FileHousehold, r: int, row: list, group: _Persons | None
    ) -> None:
        col = self.member_list.get(reader.sheet.name)
        if col is None or col >= len(row) or blank(row[col]):
            return
        text = cell_text(row[col])
        listed = split_members(text)
        persons = [m.name for m in fh.household.members] if group is not None else []
        missing = [n for n in listed if n not in persons]
        extra = [n for n in persons if n not in listed]
        if group is None:
            missing = listed
        if not missing and not extra:
            return
        what = []
        if missing:
            what.append(f"人员表中没有{'、'.join(missing)}")
        if extra:
            what.append(f"名单中没有{'、'.join(extra)}")
        p = Problem(
            sheet=reader.sheet.name,
            row=r + 1,
            column=reader.layout.headers[col],
            value=text,
            code="member_list_mismatch",
            message=f"家庭成员名单与人员表不符（{'；'.join(what)}）：成员按人员表导入，请核实",
            severity="flag",
            column_letter=column_letter(col),
        )
        self.plan.problems.append(p)

    def check_rules(
        self, reader: SheetReader, fh: FileHousehold, r: int, group: _Persons | None
    ) -> None:
        """The household rules on the joined household: a member's problem at its person
        row, the household's at its household row (a bad phone or account flags)."""
        if group is None or fh.sheet == reader.sheet.name:
            reader.check_rules(fh)
            return
        h = fh.household
        problems = validate_household(h, self.today)
        fixable = [p for p in problems if p.code in ("bad_phone", "bad_account")]
        for p in fixable:
            raw = getattr(h, p.field)
            setattr(h, p.field, "")
            h.notes = (h.notes + f" 导入时{p.message}: {raw}").strip()
            reader.problem(r, p.field, raw, p.code, p.message + "，已清空，原值记入备注")
        if fixable:
            problems = validate_household(h, self.today)
        for p in problems:
            if p.row is not None and p.row < len(h.members):
                m = h.members[p.row]
                name = {"members": "name"}.get(p.field, p.field)
                group.reader.problem(
                    fh.member_rows[p.row], name, getattr(m, p.field, "") or "", p.code, p.message
                )
            else:
                name = {"members": "head_name"}.get(p.field, p.field)
                reader.problem(r, name, getattr(h, p.field, "") or "", p.code, p.message)

    def orphans(self) -> None:
        """Person rows whose 户主身份证号 names no household row."""
        for group in self.persons.values():
            if group.used:
                continue
            reader = group.reader
            for r in group.rows:
                value = cell_text(reader.get(reader.sheet.rows[r], "head_id"))
                reader.problem(
                    r,
                    "head_id",
                    value,
                    "orphan_person",
                    f"户主身份证号{value or '为空'}在家庭表中没有对应的家庭，"
                    "该人员无法导入：请同时导入对应的家庭表，或核对户主身份证号",
                )


def _member_list_column(layout: Layout) -> int | None:
    """A household sheet's 家庭成员姓名: mapped as a name by its header, or left unmapped in
    the mapping the clerk confirmed (the dialog sends the mapping back as it showed it)."""
    col = layout.columns.get("name")
    if col is not None:
        return col
    return next(
        (
            c
            for c, h in enumerate(layout.headers)
            if c not in layout.mapping and field_for_header(h) == "name"
        ),
        None,
    )


def _tick(r: int, total: int, progress: Progress | None, cancel: CancelFn | None) -> None:
    if cancel and r % 2000 == 0 and cancel():
        raise Cancelled()
    if progress and r % 5000 == 0:
        progress(r, total)
