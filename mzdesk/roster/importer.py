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

The work is split by job; this module is the public entry and ties them together:

- :mod:`mzdesk.roster.import_plan`: problems, file households, the plan, the labels;
- :mod:`mzdesk.roster.import_sheet`: one sheet's rows to households (no database);
- :mod:`mzdesk.roster.import_match`: the file against the registry (reads only);
- :mod:`mzdesk.roster.import_apply`: the one write transaction (registry and
  enrolment services);
- :mod:`mzdesk.roster.import_undo`: the last batch taken back as a unit.

Rules are not restated here: IDs go through :mod:`mzdesk.models.ids`, money
through :mod:`mzdesk.models.money`, households through
:func:`mzdesk.models.household.validate_household` and
:func:`mzdesk.models.registry.write_new_households`.

Problems have a severity: ``flag`` problems are imported and marked (an
invalid ID is kept as written and the member flagged 待核实); ``error``
problems (no name, no village, a bad amount, an unknown category, no head)
refuse the whole import until the file or the mapping is corrected.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..models.auth import require
from ..models.categories import categories
from ..models.progress import Cancel as CancelFn
from ..models.progress import Progress
from ..models.store import Store
from .import_apply import apply
from .import_match import check_across, formula_cells_without_value
from .import_plan import (
    FLAG_CODES,
    PROBLEM_LABELS,
    FileHousehold,
    ImportRefused,
    Problem,
    RosterPlan,
    file_sha256,
    problem_label,
)
from .import_sheet import SheetReader, blank, cell_fen
from .import_undo import batches, undo
from .layout import detect_layout, load_saved_layouts, validate_mapping
from .reader import UnreadableWorkbook, read_workbook

__all__ = [
    "FLAG_CODES",
    "PROBLEM_LABELS",
    "FileHousehold",
    "ImportRefused",
    "Problem",
    "RosterPlan",
    "analyse",
    "apply",
    "batches",
    "cell_fen",
    "file_sha256",
    "import_roster",
    "problem_label",
    "undo",
]


def analyse(
    store: Store,
    path: str | Path,
    mapping: dict | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
    cancel: CancelFn | None = None,
) -> RosterPlan:
    """Read ``path`` and check every row against the rules and the database.

    Writes nothing.  ``mapping`` overrides header detection (``--mapping``):
    ``{"header_row": 3, "category": "农村低保", "columns": {"I": "id_number"}}``,
    or per sheet ``{"sheets": {"Sheet1": {...}}}``.
    """
    today = today or dt.date.today()
    sheets = read_workbook(path)
    plan = RosterPlan(
        path=str(path), sha256=file_sha256(path), layouts=[], households=[], problems=[]
    )
    saved = load_saved_layouts(store)
    cats = categories(store)
    mapping = validate_mapping(mapping or {})
    for sheet in sheets:
        overrides = mapping.get("sheets", {}).get(
            sheet.name, mapping if "sheets" not in mapping else {}
        )
        layout = detect_layout(sheet, overrides, saved, cats)
        if layout is None:
            if any(any(not blank(v) for v in row) for row in sheet.rows):
                plan.skipped_sheets.append(sheet.name)
            continue
        plan.layouts.append(layout)
        reader = SheetReader(sheet, layout, today, plan, cats)
        plan.households += reader.rows(progress, cancel)
    _require_rows(path, sheets, plan)
    formula_cells_without_value(plan)
    check_across(store, plan)
    return plan


def _require_rows(path: str | Path, sheets: list, plan: RosterPlan) -> None:
    """No roster header on any sheet, or a header alone: not an import."""
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


def import_roster(
    store: Store,
    path: str | Path,
    dry_run: bool = False,
    mapping: dict | None = None,
    month: dt.date | None = None,
    progress: Progress | None = None,
    cancel: CancelFn | None = None,
    today: dt.date | None = None,
) -> dict:
    """Analyse and (unless ``dry_run``) apply; the report the CLI prints."""
    require(store, "household.import")  # a dry run too: it reports on everyone's records
    plan = analyse(store, path, mapping, today, progress, cancel)
    report = plan.report()
    report["applied"] = False
    if not dry_run:
        summary = apply(store, plan, month, progress, cancel, today)
        report.update(
            applied=True,
            batch_id=summary["batch_id"],
            created=summary["created"],
            updated=summary["updated"],
            unchanged=summary["unchanged"],
        )
    return report
