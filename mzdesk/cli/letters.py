"""CLI for written notices to households and the working-day clocks.

mzdesk letter --db P --enrolment ID --kind accept|not_accept|reject|stop --out F.pdf
mzdesk deadlines list [--show all|due|overdue] [--date D] [--json]
mzdesk deadlines extend ENROLMENT_ID --reason R [--date D]
"""

from __future__ import annotations

import click

from .common import DATE, RECORD_ID, OutFile, day, db_option, emit_json, operator_option
from .common import open_store_as as _store

KIND_CHOICES = ("accept", "not_accept", "reject", "stop")


@click.command()
@db_option
@click.option("--enrolment", "enrolment_id", type=RECORD_ID, required=True, help="enrolment number")
@click.option(
    "--kind",
    type=click.Choice(KIND_CHOICES),
    required=True,
    help="accept 受理通知书, not_accept 不予受理告知书, reject 不予确认告知书, stop 停发告知书",
)
@click.option("--out", type=OutFile(".pdf"), required=True, help="PDF file to write")
@click.option("--date", type=DATE, default=None, help="the letter's date (default: today)")
@operator_option
def letter(db_path, enrolment_id, kind, out, date, operator):
    """Print a written notice to the household (告知书) with the recorded reason; a
    不予受理/不予确认告知书 printed by the office stops its 3-working-day clock."""
    from ..reports.letters_pdf import write_letter

    store = _store(db_path, operator)
    given = write_letter(store, enrolment_id, kind, out, day(date))
    click.echo(f"已生成 {out}：{given.title}（{given.name}）")


@click.group()
def deadlines():
    """Working-day clocks (办理时限): what is due or overdue, and 延期."""


@deadlines.command("list")
@db_option
@click.option(
    "--show",
    type=click.Choice(("all", "due", "overdue")),
    default="all",
    show_default=True,
    help="all running clocks, due (overdue or within the warning days) or overdue only",
)
@click.option("--date", type=DATE, default=None, help="count from this day (default: today)")
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
def deadlines_list(db_path, show, date, as_json):
    """List the running clocks, most urgent first, with the working days left."""
    from ..models.clocks import describe_item
    from ..models.work_queues import deadlines as queue

    store = _store(db_path)
    rows = queue(store, day(date), show)
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(
            f"[{r['status_label']}] 记录{r['enrolment_id']} 家庭{r['household_id']} "
            f"{r['village']}{r['village_group'] or ''} {r['name']} {r['category_name']}"
            f"（{r['state_name']}）：{describe_item(r)}"
        )
    click.echo(f"共 {len(rows)} 项")


@deadlines.command("extend")
@db_option
@click.argument("enrolment_id", type=RECORD_ID)
@click.option("--reason", required=True, help="延期的原因 (recorded on the enrolment)")
@click.option("--date", type=DATE, default=None, help="the day it is decided (default: today)")
@operator_option
def deadlines_extend(db_path, enrolment_id, reason, date, operator):
    """延期: the decision limit becomes 45 working days (clocks.json), once, with a reason."""
    from ..models.clocks import extend

    done = extend(_store(db_path, operator), enrolment_id, reason, day(date))
    click.echo(
        f"记录{done['enrolment_id']}已延期：审核确认期限为{done['working_days']}个工作日"
        f"（{done['on']}，原因：{done['reason']}）"
    )


COMMANDS = (letter, deadlines)
