"""The 清册 of a one-off payment run (一次性发放清册) as .xlsx.

One sheet: the run's frozen lines (:func:`mzdesk.models.payment_runs.lines`), with the
monthly 补贴清册's columns (:data:`mzdesk.roster.exporter.PAYMENT_HEADERS`): ID numbers and
bank accounts as text cells (``@``), amounts as yuan number cells from integer fen through
``Decimal``, and a last row 合计 with households, persons and the amount.  Only a confirmed
or paid run has a 清册: a draft's list is not yet fixed.  The monthly 清册 has no printed
PDF form, so neither has this one: print the workbook.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from ..models.auth import require
from ..models.categories import categories
from ..models.money import format_fen
from ..models.payment_runs import RunError, get_run, lines
from ..models.store import Store
from ..reports.xlsx_writer import SheetWriter, save_workbook, yuan
from .exporter import PAYMENT_HEADERS


def export_run_roster(store: Store, run_id: int, out: str | Path, township: str = "") -> dict:
    """Write the run's 清册 to ``out`` (all or nothing); returns rows, households, persons
    and total_fen."""
    require(store, "data.export")
    run = get_run(store, run_id)
    if run.state not in ("confirmed", "paid"):
        raise RunError(
            f"“{run.name}”是{run.state_label}，确认后名单才固定，才能导出清册", "run_not_confirmed"
        )
    items = lines(store, run_id)
    if not township:
        site = store.one("SELECT name FROM site WHERE id = 1")
        township = site["name"] if site else ""
    known = categories(store)
    wb = Workbook(write_only=True)
    heading = f"{township}{run.month_label}{run.name}发放清册（{run.basis_label}{format_fen(run.rate_fen)}元）"
    w = SheetWriter(
        wb,
        run.name,
        (*PAYMENT_HEADERS[:-2], "人数", "金额(元)"),
        text_cols=(4, 6),
        money_cols=(9,),
        heading=heading,
        widths={1: 12, 3: 10, 4: 22, 5: 14, 6: 24, 7: 18, 9: 12},
    )
    for r in items:
        name = known.get(r["category"], {}).get("name", r["category"])
        w.row(
            (
                r["seq"],
                r["village"],
                r["village_group"],
                r["payee"],
                r["id_number"],
                r["bank_name"],
                r["bank_account"],
                f"{name}{r['class']}" if r["class"] else name,
                r["persons"],
                yuan(r["amount_fen"]),
            )
        )
    households = len({r["household_id"] for r in items})
    persons = sum(r["persons"] for r in items)
    total = sum(r["amount_fen"] for r in items)
    w.row(("合计", f"{households}户", *[""] * 6, persons, yuan(total)), bold=True)
    save_workbook(wb, out)
    return {"rows": len(items), "households": households, "persons": persons, "total_fen": total}
