"""``mzdesk run``: one-off payment runs (一次性发放: 春节一次性生活补贴, 价格临时补贴 …).

``create`` (草拟), ``list``, ``show`` (statistics: 户数, 人数, 金额 by category), ``confirm``
(the list is frozen), ``paid`` (已发放), ``void`` (作废, with a reason) and ``roster`` (the
run's 清册 as .xlsx).  Who is in a run is the monthly 清册's rule for the run's month and
categories.  No Qt here.
"""

from __future__ import annotations

import click

from .common import DATE, RECORD_ID, OutFile, day, db_option, emit_json, open_store, parse_month


@click.group("run")
def run_group():
    """一次性发放: one-off payment runs and their 清册."""


def _show(s: dict) -> None:
    from ..models.money import format_fen
    from ..models.payment_runs import describe

    click.echo(describe(s))
    for v in s["by_category"].values():
        click.echo(
            f"  {v['category_name']}：{v['households']}户{v['persons']}人，"
            f"{format_fen(v['amount_fen'])}元"
        )


@run_group.command("create")
@click.option("--name", required=True, help="发放名称, e.g. 春节一次性生活补贴")
@click.option("--month", required=True, help="YYYY-MM: whose paid list the run takes")
@click.option(
    "--category",
    "category",
    multiple=True,
    required=True,
    help="a category covered (code or name; repeat for several)",
)
@click.option("--class", "classes", multiple=True, help="only these classes (repeatable)")
@click.option("--amount", required=True, help="元 per person (or per household with --per)")
@click.option(
    "--per",
    type=click.Choice(("person", "household")),
    default="person",
    show_default=True,
    help="the amount is per person covered or per household (one per line)",
)
@click.option("--note", default="", help="备注")
@click.option("--json", "as_json", is_flag=True, help="print the run as JSON")
@db_option
def run_create(name, month, category, classes, amount, per, note, as_json, db_path):
    """Create a run in 草拟 (its list is computed until it is confirmed)."""
    from ..models.money import parse_assistance
    from ..models.payment_runs import create_run, summary

    fen = parse_assistance(amount, "amount")
    store = open_store(db_path)
    run = create_run(store, name, parse_month(month), list(category), fen, per, list(classes), note)
    s = summary(store, run.id)
    if as_json:
        emit_json(s)
        return
    click.echo(f"已创建（草拟）：{s['name']}，编号 {run.id}")
    _show(s)


@run_group.command("list")
@click.option("--month", default=None, help="YYYY-MM: only this month's runs")
@click.option(
    "--state",
    type=click.Choice(("draft", "confirmed", "paid", "void")),
    default=None,
    help="草拟, 已确认, 已发放, 作废",
)
@click.option("--json", "as_json", is_flag=True, help="print a JSON list (each as `show --json`)")
@db_option
def run_list(month, state, as_json, db_path):
    """List the runs, newest month first, with 户数, 人数 and 金额."""
    from ..models.payment_runs import describe, list_runs, summary

    store = open_store(db_path)
    runs = [
        summary(store, r.id) for r in list_runs(store, parse_month(month) if month else None, state)
    ]
    if as_json:
        emit_json(runs)
        return
    for s in runs:
        click.echo(describe(s))
    click.echo(f"共 {len(runs)} 次发放")


@run_group.command("show")
@click.argument("run_id", type=RECORD_ID)
@click.option("--json", "as_json", is_flag=True, help="print a JSON object")
@db_option
def run_show(run_id, as_json, db_path):
    """One run: its terms and statistics (户数, 人数, 金额, by category).

    \b
    --json: id, uid, name, month, categories, classes, basis (person/household), rate_fen,
    state (draft/confirmed/paid/void), state_label, confirmed_on, paid_on, void_reason,
    note, frozen (the list is fixed), lines, households, persons, amount_fen, and
    by_category {code: {category_name, households, persons, amount_fen}}.
    """
    from ..models.payment_runs import summary

    s = summary(open_store(db_path), run_id)
    if as_json:
        emit_json(s)
        return
    _show(s)


@run_group.command("confirm")
@click.argument("run_id", type=RECORD_ID)
@click.option("--on", "on", type=DATE, default=None, help="date confirmed (default: today)")
@db_option
def run_confirm(run_id, on, db_path):
    """草拟 → 已确认: the list is computed once more and frozen."""
    from ..models.payment_runs import confirm_run, summary

    store = open_store(db_path)
    confirm_run(store, run_id, day(on))
    click.echo("已确认，名单已固定：")
    _show(summary(store, run_id))


@run_group.command("paid")
@click.argument("run_id", type=RECORD_ID)
@click.option("--on", "on", type=DATE, default=None, help="date paid (default: today)")
@db_option
def run_paid(run_id, on, db_path):
    """已确认 → 已发放."""
    from ..models.payment_runs import mark_paid

    run = mark_paid(open_store(db_path), run_id, day(on))
    click.echo(f"已登记发放：{run.name}（{run.paid_on}）")


@run_group.command("void")
@click.argument("run_id", type=RECORD_ID)
@click.option("--reason", required=True, help="作废原因")
@db_option
def run_void(run_id, reason, db_path):
    """草拟 or 已确认 → 作废 (a paid run cannot be voided)."""
    from ..models.payment_runs import void_run

    run = void_run(open_store(db_path), run_id, reason)
    click.echo(f"已作废：{run.name}")


@run_group.command("roster")
@click.argument("run_id", type=RECORD_ID)
@click.option("--out", type=OutFile(".xlsx"), required=True, help="the 清册 file (.xlsx)")
@db_option
def run_roster(run_id, out, db_path):
    """The run's 清册 (.xlsx; IDs and accounts as text, a 合计 row); confirmed or paid runs."""
    from ..models.money import format_fen
    from ..roster.run_roster import export_run_roster

    res = export_run_roster(open_store(db_path), run_id, out)
    click.echo(
        f"已导出 {out}：{res['households']}户{res['persons']}人，{format_fen(res['total_fen'])}元"
    )


COMMANDS = (run_group,)
