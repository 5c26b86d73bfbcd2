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
import hashlib
from collections.abc import Sequence
from pathlib import Path

from ..models import support
from ..models.auth import require
from ..models.categories import categories
from ..models.enrolment_import import live_enrolment
from ..models.progress import Cancel as CancelFn
from ..models.progress import Progress
from ..models.store import Store
from .import_apply import apply
from .import_join import PairJoin, is_pair
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
from .layout import Layout, detect_layout, load_saved_layouts, validate_mapping
from .reader import Sheet, UnreadableWorkbook, read_workbook

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


def _paths(path: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(path, (str, Path)):
        return [Path(path)]
    return [Path(p) for p in path]


def read_files(paths: list[Path]) -> tuple[list[Sheet], dict[str, tuple[str, str]]]:
    """Every sheet of every file; with several files each sheet is named ``file/sheet`` so
    that problems say where they are (two provincial exports both have a "Sheet1")."""
    sheets: list[Sheet] = []
    source: dict[str, tuple[str, str]] = {}
    names = [p.name for p in paths]
    if len(set(names)) < len(names):
        twice = next(n for n in names if names.count(n) > 1)
        same = len({p.resolve() for p in paths if p.name == twice}) == 1
        raise UnreadableWorkbook(
            f"同一个文件选了两次：{twice}；每个文件只需选一次"
            if same
            else f"两个文件同名：{twice}；请把其中一个改名后再一起导入",
            "same_file_twice" if same else "same_file_name",
        )
    for path in paths:
        for sheet in read_workbook(path):
            own = sheet.name
            if len(paths) > 1:
                sheet.name = f"{path.name}/{own}"
            source[sheet.name] = (str(path), own)
            sheets.append(sheet)
    return sheets, source


def _overrides(mapping: dict, sheet: str, own: str) -> dict:
    """The ``--mapping`` for one sheet: by ``file/sheet`` or the sheet's own name."""
    if "sheets" not in mapping:
        return mapping
    per = mapping["sheets"]
    return per.get(sheet, per.get(own, {}))


def analyse(
    store: Store,
    path: str | Path | Sequence[str | Path],
    mapping: dict | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
    cancel: CancelFn | None = None,
) -> RosterPlan:
    """Read ``path`` (one file or several: ONE import) and check every row against the
    rules and the database.

    Writes nothing.  ``mapping`` overrides header detection (``--mapping``):
    ``{"header_row": 3, "category": "农村低保", "columns": {"I": "id_number"}}``,
    or per sheet ``{"sheets": {"Sheet1": {...}}}``.  A household file and a person file
    (家庭查询 + 人员查询) are joined by 户主身份证号 (:mod:`mzdesk.roster.import_join`).
    """
    today = today or dt.date.today()
    paths = _paths(path)
    if not paths:
        raise UnreadableWorkbook("没有选择要导入的文件", "no_file")
    sheets, source = read_files(paths)
    files = [(str(p), file_sha256(p)) for p in paths]
    plan = RosterPlan(
        path=str(paths[0]),
        sha256=files[0][1] if len(files) == 1 else _combined(files),
        layouts=[],
        households=[],
        problems=[],
        files=files,
        sheet_source=source,
    )
    saved = load_saved_layouts(store)
    cats = categories(store)
    mapping = validate_mapping(mapping or {})
    found: list[tuple[Sheet, Layout]] = []
    for sheet in sheets:
        overrides = _overrides(mapping, sheet.name, source[sheet.name][1])
        layout = detect_layout(sheet, overrides, saved, cats)
        if layout is None:
            if any(any(not blank(v) for v in row) for row in sheet.rows):
                plan.skipped_sheets.append(sheet.name)
            continue
        plan.layouts.append(layout)
        found.append((sheet, layout))
    if is_pair(plan.layouts):
        plan.households = PairJoin(plan, found, today, cats).run(progress, cancel)
    else:
        for sheet, layout in found:
            reader = SheetReader(sheet, layout, today, plan, cats)
            plan.households += reader.rows(progress, cancel)
    _require_rows(paths, sheets, plan)
    formula_cells_without_value(plan)
    check_across(store, plan)
    return plan


def _combined(files: list[tuple[str, str]]) -> str:
    """One hash for several files: of their names and hashes, in the order given."""
    text = "\n".join(f"{Path(p).name}\t{h}" for p, h in files)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _require_rows(paths: list[Path], sheets: list, plan: RosterPlan) -> None:
    """No roster header on any sheet, or a header alone: not an import."""
    label = "、".join(p.name for p in paths)
    if not plan.layouts:
        names = "、".join(f"“{s.name}”" for s in sheets)
        raise UnreadableWorkbook(
            f"{label}: 工作表{names}中没有找到花名册表头（前25行里需要姓名/身份证号等列）；"
            "请检查文件，或用 --mapping 指定表头行和列（导入界面可手工指定）"
        )
    if not plan.households:  # a header alone, or nothing but blank rows: not an import
        names = "、".join(f"“{lay.sheet}”" for lay in plan.layouts)
        raise UnreadableWorkbook(
            f"{label}: 工作表{names}只有表头，没有可导入的数据行"
            + (f"（表头下只有 {plan.blank_rows:,} 个空行）" if plan.blank_rows else "")
            + "；未导入任何数据",
            "no_data_rows",
        )


def import_roster(
    store: Store,
    path: str | Path | Sequence[str | Path],
    dry_run: bool = False,
    mapping: dict | None = None,
    month: dt.date | None = None,
    progress: Progress | None = None,
    cancel: CancelFn | None = None,
    today: dt.date | None = None,
) -> dict:
    """Analyse and (unless ``dry_run``) apply; the report the CLI prints.  Several files
    are one import: one report, one transaction, one batch (undone as a unit)."""
    require(store, "household.import")  # a dry run too: it reports on everyone's records
    plan = analyse(store, path, mapping, today, progress, cancel)
    report = plan.report()
    report["applied"] = False
    if not dry_run:
        if any(fh.support for fh in plan.households):
            with store.transaction():  # the 供养方式 in the same transaction as the rest
                summary = apply(store, plan, month, progress, cancel, today)
                _record_support(store, plan)
        else:
            summary = apply(store, plan, month, progress, cancel, today)
        report.update(
            applied=True,
            batch_id=summary["batch_id"],
            created=summary["created"],
            updated=summary["updated"],
            unchanged=summary["unchanged"],
        )
    return report


def _record_support(store: Store, plan: RosterPlan) -> None:
    """The 特困 供养方式 read from a person file (``FileHousehold.support``), for the
    enrolments this import created, through the support service (its rules: 供养机构 for
    集中, a valid 照料人 for 分散).  The caller holds the transaction."""
    for fh in plan.households:
        if not fh.support or fh.action != "create" or fh.match_id is None or not fh.category:
            continue
        live = live_enrolment(store, fh.match_id, fh.category)
        if live is None:
            continue
        support.save(
            store,
            live["id"],
            fh.support["mode"],
            institution=fh.support.get("institution", ""),
            carer_name=fh.support.get("carer_name", ""),
            carer_id_number=fh.support.get("carer_id_number", ""),
        )
