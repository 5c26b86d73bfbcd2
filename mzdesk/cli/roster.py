"""``mzdesk roster ...``: import a roster workbook, undo an import, export a 补贴清册.

Exit codes for ``roster import``: 0 applied (or a clean dry run), 1 a dry run
found problems or the import was refused, 2 the file cannot be read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .common import RECORD_ID, OutFile, db_option, emit_json, open_store, parse_month


@click.group()
def roster():
    """Rosters in and out of Excel (花名册导入、补贴清册导出)."""


@roster.command("import")
@click.argument(
    "file", metavar="FILE [FILE...]", nargs=-1, required=True, type=click.Path(dir_okay=False)
)
@db_option
@click.option("--dry-run", is_flag=True, help="check only; write nothing (exit 1 if problems)")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    help="write the JSON report (households, members, problems) here",
)
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(exists=True, dir_okay=False),
    help='column mapping JSON: {"header_row": 3, "category": "农村低保", '
    '"columns": {"身份证号码" or "I": "id_number"}}',
)
@click.option(
    "--month",
    default=None,
    help="payments recorded as 在保 from this month (YYYY-MM; default: this month)",
)
@click.option("--json", "as_json", is_flag=True, help="print the whole report as JSON")
def roster_import(file, db_path, dry_run, report_path, mapping_path, month, as_json):
    """Import roster workbooks (.xlsx/.xls): check every row, then write all or nothing.

    Several files are ONE import: one report, one transaction, one batch that
    `roster undo` takes back as a unit.  A household file and a person file
    (家庭查询 + 人员查询, the provincial export pair) are recognised by their
    columns and joined by 户主身份证号.  Invalid ID numbers are kept as written
    and flagged 待核实; problems that need correcting (no name, bad amount,
    unknown category, a person without a household row ...) refuse the import.
    """
    from ..roster.importer import ImportRefused, import_roster
    from ..roster.reader import UnreadableWorkbook, check_workbook

    if report_path and not Path(report_path).resolve().parent.is_dir():
        # before the import: a report that cannot be saved must not follow an applied import
        raise click.BadParameter(
            f"报告的保存位置不存在: {Path(report_path).resolve().parent}", param_hint="--report"
        )
    mapping = None
    if mapping_path:
        try:
            mapping = json.loads(Path(mapping_path).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise click.BadParameter(f"列对应文件不是有效的JSON: {exc}") from None
        from ..roster.layout import validate_mapping

        validate_mapping(mapping)  # before the database opens: says which key is wrong
    try:
        for one in file:  # an unreadable file is exit 2 even before the database opens
            check_workbook(one)
        store = open_store(db_path)
        report = import_roster(
            store,
            list(file),
            dry_run=dry_run,
            mapping=mapping,
            month=parse_month(month) if month else None,
        )
    except UnreadableWorkbook as exc:
        click.echo(f"错误 [{exc.code}]: {' '.join(str(exc).split())}", err=True)
        sys.exit(2)
    except ImportRefused as exc:
        click.echo(f"错误 [{exc.code}]: {' '.join(str(exc).split())}", err=True)
        if report_path:
            from ..roster.importer import analyse

            _write_report(report_path, analyse(store, list(file), mapping).report())
        sys.exit(1)
    if report_path:
        _write_report(report_path, report)
    if as_json:
        emit_json(report)
    else:
        counts = "，".join(f"{c} {n}处" for c, n in report["problem_counts"].items()) or "无"
        click.echo(
            f"{report['file']}: {report['households']} 户 {report['members']} 人，"
            f"月保障金合计 {report['monthly_total']} 元；问题: {counts}"
        )
        if report["applied"]:
            click.echo(
                f"已导入(批次 {report['batch_id']}): 新增 {report['created']} 户，"
                f"更新 {report['updated']} 户，未变 {report['unchanged']} 户"
            )
        else:
            click.echo("试运行，未写入数据库")
    if dry_run and report["problems"]:
        sys.exit(1)


def _write_report(path: str, report: dict) -> None:
    from ..models.files import write_bytes

    data = json.dumps(report, ensure_ascii=False, indent=2).encode("utf-8")
    write_bytes(path, data, fsync=False)


@roster.command("undo")
@db_option
@click.option(
    "--batch", "batch_id", type=RECORD_ID, default=None, help="batch id (default: the last)"
)
def roster_undo(db_path, batch_id):
    """Undo the last roster import as a unit (its records are soft-deleted)."""
    from ..roster.importer import undo

    result = undo(open_store(db_path), batch_id)
    click.echo(f"已撤销导入批次 {result['batch_id']}: 移除 {result['households_removed']} 户")


@roster.command("batches")
@db_option
def roster_batches(db_path):
    """List recent roster imports (JSON)."""
    from ..roster.importer import batches

    emit_json(batches(open_store(db_path)))


class _ExportOut(OutFile):
    """The 清册's F.xlsx, or with ``--layout provincial`` the folder of the pair (checked by
    the command: it must exist)."""

    def convert(self, value, param, ctx):
        if ctx is not None and ctx.params.get("layout") == "provincial":
            return value
        return super().convert(value, param, ctx)


@roster.command("export")
@db_option
@click.option("--month", required=True, help="YYYY-MM")
@click.option(
    "--category",
    default=None,
    help="category code or name, local ones too: rural_dibao, 农村低保 (default: all)",
)
@click.option(
    "--layout",
    type=click.Choice(["payment", "provincial"]),
    default="payment",
    is_eager=True,  # before --out, whose check depends on it
    show_default=True,
    help="payment: the 补贴发放清册 F.xlsx; provincial: the 家庭查询.xlsx/人员查询.xlsx pair "
    "written into the folder --out (default categories: 低保, 特困, 低保边缘, 刚性支出困难)",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=_ExportOut(".xlsx"),
    help="F.xlsx (--layout provincial: DIR)",
)
@click.pass_context
def roster_export(ctx, db_path, month, category, layout, out):
    """The month's 补贴清册 for the 一卡通 payment system (.xlsx, IDs as text), or with
    --layout provincial the provincial pair (家庭查询/人员查询, IDs and accounts as text)
    that `roster import` reads back."""
    from ..models.money import format_fen

    if layout == "provincial":
        from ..roster.provincial import export_provincial

        if not Path(out).is_dir():
            raise click.BadParameter(f"--layout provincial 需要一个已存在的文件夹：{out}", ctx)
        res = export_provincial(open_store(db_path), parse_month(month), out, category=category)
        click.echo(
            f"已导出 {'、'.join(res['files'])}: {res['households']} 户，{res['persons']} 人，"
            f"合计 {format_fen(res['total_fen'])} 元（{'、'.join(res['sheets'])}）"
        )
        return
    from ..roster.exporter import export_payment_roster

    res = export_payment_roster(open_store(db_path), parse_month(month), out, category=category)
    click.echo(
        f"已导出 {out}: {res['rows']} 条，{res['persons']} 人，合计 "
        f"{format_fen(res['total_fen'])} 元（{'、'.join(res['sheets'])}）"
    )


@roster.command("registry")
@db_option
@click.option("--village", default=None, help="only this village")
@click.option("--out", "out", required=True, type=OutFile(".xlsx"), help="F.xlsx")
def roster_registry(db_path, village, out):
    """Household and member rosters (家庭/成员花名册) as .xlsx."""
    from ..roster.exporter import export_registry

    res = export_registry(open_store(db_path), out, village=village)
    click.echo(f"已导出 {out}: {res['households']} 户，{res['members']} 人")


COMMANDS = (roster,)
