"""What a roster import reads into (花名册导入的结果): problems, households, the plan.

:func:`mzdesk.roster.importer.analyse` fills a :class:`RosterPlan`;
:func:`mzdesk.roster.import_apply.apply` writes it.  Problem codes and their
Chinese labels live here, once, for the dialog, the CLI and the problem list.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..models.errors import MzError
from ..models.household import Household
from ..models.ids import CHECKSUM_MESSAGE
from ..models.money import format_fen
from .layout import Layout
from .reader import column_letter

FLAG_CODES = {
    "id_checksum",
    "id_precision_lost",
    "id_bad_date",
    "id_format",
    "id_duplicate_in_file",
    "id_exists_in_other_household",
    "id_missing",
    "bad_phone",
    "bad_account",
    "bad_relation",
    "head_name_differs",
    "account_precision_lost",
    "support_not_recorded",
}
# Problems that keep only that row's enrolment out (the household and the rest import):
# a value nothing decides (mappable by hand), a 合计 that disagrees with its parts.
SKIP_CODES = {"unknown_value", "total_mismatch"}
# Every problem code the import can report (its own, the ID rules', the household rules'),
# as the clerk reads it: the dialog's table and summary and the exported problem list.
# tests/roster/test_importer.py checks that each code those modules can raise is here.
PROBLEM_LABELS = {
    "id_checksum": f"身份证号{CHECKSUM_MESSAGE}",
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
    "excluded_category": "与该户已有救助类别互斥",
    "duplicate_enrolment": "该户同一类别已有有效记录",
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
    "bad_poverty_flag": "返贫监测标识无效",
    "unknown_value": "无法识别的取值",
    "total_mismatch": "合计与各项金额之和不符",
    "account_precision_lost": "银行账号被Excel截断",
    "member_list_mismatch": "家庭成员名单与人员表不符",
    "orphan_person": "人员的户主不在家庭表中",
    "support_not_recorded": "供养方式未能记录",
}


def problem_label(code: str) -> str:
    """``problem_label('id_checksum')`` → ``'身份证号校验不通过：请对照证件逐位核对'``; an unknown code as it is."""
    return PROBLEM_LABELS.get(code, code)


HOUSEHOLD_TEXT = ("village", "village_group", "phone", "bank_account", "bank_name", "address")
ID_FIELDS = ("id_number", "head_id")


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
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "column_letter": self.column_letter,
            "value": self.value,
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
        }


def layout_problem(
    layout: Layout, sheet: str, row: int, name: str, value: str, code: str, message: str
) -> Problem:
    """A problem in field ``name``'s column of ``layout`` at 0-based ``row``; a ``flag`` when
    ``code`` is one of :data:`FLAG_CODES`, ``skip`` (that row's enrolment only) for
    :data:`SKIP_CODES`, else an ``error``."""
    col = layout.columns.get(name)
    severity = "flag" if code in FLAG_CODES else "skip" if code in SKIP_CODES else "error"
    return Problem(
        sheet=sheet,
        row=row + 1,
        column=layout.header_of(name),
        value=value,
        code=code,
        message=message,
        severity=severity,
        column_letter=column_letter(col) if col is not None else "",
    )


def id_column(layout: Layout) -> str:
    """The field members' IDs are read from: ``id_number``, else the head's ``head_id``."""
    return "id_number" if "id_number" in layout.columns else "head_id"


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
    # 特困 供养方式 read from a provincial person file (import_join): mode, institution,
    # carer_name, carer_id_number; written with the enrolment (importer.import_roster)
    support: dict[str, str] = field(default_factory=dict)
    match_id: int | None = None  # existing household this one is (re-import)
    action: str = "create"  # create / update / unchanged
    # the amount in parts (components.py codes: base, classified, care), when the file has them
    parts: dict[str, int] = field(default_factory=dict)
    total_fen: int | None = None  # the file's 合计: checked against the parts, not stored
    first_month: str | None = None  # 最初享受月份 'YYYY-MM'; None: before mzdesk (存量)
    support_mode: str = ""  # 特困 供养方式: concentrated / dispersed
    institution: str = ""
    single: bool = False  # 单人保: the head enrolled alone
    skipped: str = ""  # a SKIP_CODES code: this row's enrolment is not imported

    def covered_count(self) -> int:
        """保障人口: as written in the file, else the members in assistance (at least 1)."""
        return self.covered or max(1, sum(1 for m in self.household.members if m.in_assistance))


@dataclass
class UnknownValue:
    """A value no vocabulary or mapping decides, listed once with its count and first row."""

    sheet: str
    column: str  # header as in the file
    target: str  # the field it should decide: category, class, selfcare, area_type, …
    value: str
    first_row: int  # Excel row number
    count: int
    problem: Problem
    choices: list[str] = field(default_factory=list)  # what the clerk may map it to

    def as_dict(self) -> dict:
        return {
            "sheet": self.sheet,
            "column": self.column,
            "field": self.target,
            "value": self.value,
            "count": self.count,
            "first_row": self.first_row,
            "choices": self.choices,
        }


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
    # each distinct unrecognised value once: (sheet, column, value) -> its entry
    unknown: dict[tuple[str, str, str], UnknownValue] = field(default_factory=dict)
    # several files, one import (import_join): each file's (path, sha256), and for each
    # sheet as named in problems the file and the sheet's own name
    files: list[tuple[str, str]] = field(default_factory=list)
    sheet_source: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def file_label(self) -> str:
        """The file's name, or every file's: ``家庭查询.xlsx、人员查询.xlsx``."""
        return "、".join(Path(p).name for p, _ in self.files) or Path(self.path).name

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
            "file": self.file_label,
            "sha256": self.sha256,
            "files": [{"file": Path(p).name, "sha256": h} for p, h in self.files],
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
            "skipped_enrolments": sum(1 for fh in self.households if fh.skipped),
            "unknown_values": [u.as_dict() for u in self.unknown.values()],
            "problems": [p.as_dict() for p in self.problems],
        }


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
