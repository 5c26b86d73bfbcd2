"""``mzdesk standards``, ``uprate``, ``income`` and ``recovery``: money as offices compute it.

* ``standards list/set``: 保障标准 per category and area type, from a month on;
* ``uprate``: 提标, a new standard and every active amount recomputed (``--preview``
  shows household by household, ``--confirm`` records it);
* ``income show/adopt``: a household's income against the standard, with the working;
  ``adopt`` records the proposed (or an overridden, with ``--reason``) amount;
* ``recovery scan/list/set``: 后补追缴 (paid after a death or a stop) and 补发 records.

No Qt here.
"""

from __future__ import annotations

import click

from .common import PEOPLE, RECORD_ID, db_option, emit_json, open_store

_AREAS = ("urban", "rural")
_PERIODS = ("month", "year")


def _fen(text: str, what: str) -> int:
    from ..models.money import parse_assistance

    return parse_assistance(text, what)


def _month(text: str | None):
    from ..models.standards import parse_month

    return parse_month(text) if text else None


def _yuan(fen: int) -> str:
    from ..models.money import format_fen

    return format_fen(fen)


@click.group()
def standards():
    """保障标准: standards per category (低保, 特困) and area type (城市 urban / 农村 rural)."""


@standards.command("list")
@click.option("--category", default=None, help="category code or name (农村低保, rural_dibao)")
@click.option("--area", type=click.Choice(_AREAS), default=None, help="area type")
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
@db_option
def standards_list(category, area, as_json, db_path):
    """Every standard in use, oldest first (shipped example defaults until a county sets its own)."""
    from ..models.categories import category_code
    from ..models.standards import history

    store = open_store(db_path)
    code = category_code(store, category) if category else None
    rows = history(store, code, area)
    if as_json:
        emit_json([s.as_dict() for s in rows])
        return
    for s in rows:
        src = "县级设置" if s.source == "database" else "示例默认值"
        click.echo(f"{s.category:<12} {s.area_type:<6} {s.label()}  {src} {s.note}".rstrip())
    click.echo(f"共 {len(rows)} 条标准")


@standards.command("set")
@click.option("--category", required=True, help="category code or name (农村低保, rural_dibao)")
@click.option("--area", type=click.Choice(_AREAS), required=True, help="area type")
@click.option("--from", "month", required=True, help="first month it applies (YYYY-MM)")
@click.option("--amount", required=True, help="元 per person (528, 4310)")
@click.option(
    "--per", "period", type=click.Choice(_PERIODS), default="month", help="元/人/月 or 元/人/年"
)
@click.option("--note", default="", help="备注 (the decision's document number)")
@db_option
def standards_set(category, area, month, amount, period, note, db_path):
    """Record a standard from a month on, without recomputing amounts (see ``uprate``)."""
    from ..models.categories import category_code
    from ..models.standards import set_standard

    store = open_store(db_path)
    s = set_standard(
        store,
        category_code(store, category),
        area,
        _month(month),
        _fen(amount, "amount"),
        period,
        note,
    )
    click.echo(f"已设置保障标准：{s.category} {s.area_type} {s.label()}")


@click.command("uprate")
@click.option("--category", required=True, help="category code or name (农村低保, rural_dibao)")
@click.option("--area", type=click.Choice(_AREAS), required=True, help="area type")
@click.option("--from", "month", required=True, help="first month of the new standard (YYYY-MM)")
@click.option("--amount", required=True, help="the new standard, 元 per person")
@click.option(
    "--per", "period", type=click.Choice(_PERIODS), default="month", help="元/人/月 or 元/人/年"
)
@click.option("--preview", "mode", flag_value="preview", default=True, help="show only (default)")
@click.option("--confirm", "mode", flag_value="confirm", help="record the standard and amounts")
@click.option("--json", "as_json", is_flag=True, help="print the plan as JSON")
@db_option
def uprate(category, area, month, amount, period, mode, as_json, db_path):
    """提标: a new standard from a month; every active amount of the category recomputed.

    --preview lists each household before/after and the totals; --confirm records the
    standard, the new amounts (增发 from that month, on that month's 清册) and the 补发
    owed for months already paid, in one transaction."""
    from ..models import uprating
    from ..models.categories import category_code

    store = open_store(db_path)
    args = (category_code(store, category), area, _month(month), _fen(amount, "amount"), period)
    plan = uprating.confirm(store, *args) if mode == "confirm" else uprating.preview(store, *args)
    if as_json:
        emit_json(plan)
        return
    click.echo(
        f"提标：{plan['category']} {plan['area_type']} {plan['old_standard'] or '无'} → {plan['standard']}"
    )
    for r in plan["rows"]:
        tail = f"  {r['blocked']}" if r["blocked"] else ""
        click.echo(
            f"救助#{r['enrolment_id']:<5} {r['village']} {r['name']} {r['covered']}人 "
            f"{_yuan(r['before_fen'])} → {_yuan(r['after_fen'])}（{_yuan(r['delta_fen'])}）{tail}"
        )
    t = plan["totals"]
    click.echo(
        f"合计：{t['enrolments']}户/人 {t['persons']}人，每月 {_yuan(t['before_fen'])} → "
        f"{_yuan(t['after_fen'])}（增加 {_yuan(t['delta_fen'])}），补发 {_yuan(t['backpay_fen'])}，"
        f"待人工复核 {t['blocked']} 条"
    )
    if mode == "confirm":
        click.echo(f"已确认提标，{plan['effective']}起按新金额发放")
    else:
        click.echo("预览：未保存；确认请加 --confirm")


@click.group()
def income():
    """家庭收入核算: income against the standard, proposed eligibility and 补差."""


def _rigid(items: tuple[str, ...]) -> dict[str, int]:
    from ..models.errors import MzError
    from ..models.money import parse_yuan

    out = {}
    for item in items:
        code, sep, value = item.partition("=")
        if not sep:
            raise MzError(f"刚性支出应写作 项目=年金额，例如 medical=3000：{item!r}", "bad_rigid")
        out[code.strip()] = parse_yuan(value, "rigid")
    return out


def _calc_options(f):
    for opt in reversed(
        (
            click.option("--category", default=None, help="default: the 低保 of the area"),
            click.option("--month", default=None, help="standard of this month (YYYY-MM)"),
            click.option("--covered", type=PEOPLE, default=None, help="保障人口 (default: all)"),
            click.option("--rigid", multiple=True, help="刚性支出 item=元 per year (medical=3000)"),
            click.option("--support", default="0", help="户外义务人赡养费, 元 per year"),
        )
    ):
        f = opt(f)
    return f


def _calculate(store, household_id, category, month, covered, rigid, support):
    from ..models import income as inc
    from ..models.categories import category_code
    from ..models.money import parse_yuan

    code = category_code(store, category) if category else None
    return inc.calculate(
        store, household_id, code, _month(month), covered, _rigid(rigid), parse_yuan(support)
    )


@income.command("show")
@click.argument("household_id", type=RECORD_ID)
@_calc_options
@click.option("--json", "as_json", is_flag=True, help="print the calculation as JSON")
@db_option
def income_show(household_id, category, month, covered, rigid, support, as_json, db_path):
    """A household's calculation with the working (收入项、扣除项、人均、标准、差额)."""
    store = open_store(db_path)
    calc = _calculate(store, household_id, category, month, covered, rigid, support)
    if as_json:
        emit_json(calc.as_dict())
        return
    for line in calc.working():
        click.echo(line)
    click.echo(f"结论：{calc.eligibility_label}，建议每月 {_yuan(calc.proposed_fen)} 元")


@income.command("adopt")
@click.argument("enrolment_id", type=RECORD_ID)
@_calc_options
@click.option("--amount", default=None, help="元 per month, if not the proposal (needs --reason)")
@click.option("--reason", default="", help="why the amount differs from the proposal")
@db_option
def income_adopt(enrolment_id, category, month, covered, rigid, support, amount, reason, db_path):
    """Record an enrolment's amount from its household's calculation (the event keeps it)."""
    from ..models import enrolment
    from ..models import income as inc

    store = open_store(db_path)
    e = enrolment.get(store, enrolment_id)
    calc = _calculate(
        store, e.household_id, category or e.category, month, covered or e.covered, rigid, support
    )
    fen = _fen(amount, "amount") if amount is not None else None
    e = inc.adopt(store, enrolment_id, calc, fen, reason)
    click.echo(
        f"救助#{e.id} 金额 {_yuan(e.monthly_fen)} 元/月（核算建议 {_yuan(calc.proposed_fen)}）"
    )


@click.group()
def recovery():
    """后补追缴 and 补发: money paid after a death or a stop, money owed."""


@recovery.command("scan")
@click.option("--through", default=None, help="last month paid (YYYY-MM; default: last month)")
@click.option("--record", is_flag=True, help="record the findings as 待追缴 records")
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
@db_option
def recovery_scan(through, record, as_json, db_path):
    """Months paid after a death or a stop that no recovery record holds yet."""
    from ..models import recovery as rec

    store = open_store(db_path)
    if record:
        made = rec.record_overpayments(store, _month(through))
        if as_json:
            emit_json([r.as_dict() for r in made])
            return
        click.echo(
            f"已登记 {len(made)} 条待追缴记录，共 {_yuan(sum(r.amount_fen for r in made))} 元"
        )
        return
    found = rec.find_overpayments(store, _month(through))
    if as_json:
        emit_json([o.as_dict() for o in found])
        return
    for o in found:
        click.echo(
            f"救助#{o.enrolment_id:<5} {o.name} {o.category} {'、'.join(o.months)} "
            f"{_yuan(o.amount_fen)} 元  {o.cause}"
        )
    click.echo(f"共 {len(found)} 条多发未登记，{_yuan(sum(o.amount_fen for o in found))} 元")


@recovery.command("list")
@click.option(
    "--kind", type=click.Choice(("recovery", "backpay")), default=None, help="追缴 or 补发"
)
@click.option(
    "--state",
    type=click.Choice(("pending", "recovered", "written_off", "paid")),
    default=None,
    help="待追缴/待补发, 已追缴, 核销, 已补发",
)
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
@db_option
def recovery_list(kind, state, as_json, db_path):
    """Recovery (追缴) and back-pay (补发) records."""
    from ..models import recovery as rec

    rows = rec.list_records(open_store(db_path), kind, state)
    if as_json:
        emit_json([r.as_dict() for r in rows])
        return
    for r in rows:
        d = r.as_dict()
        click.echo(
            f"#{r.id:<4} {d['kind_label']} {d['state_label']} 救助#{r.enrolment_id} {r.village} "
            f"{r.name} {'、'.join(r.months)} {d['amount']} 元  {r.cause}"
        )
    click.echo(f"共 {len(rows)} 条")


@recovery.command("set")
@click.argument("recovery_id", type=RECORD_ID)
@click.option(
    "--state",
    type=click.Choice(("recovered", "written_off", "paid")),
    required=True,
    help="recovered 已追缴, written_off 核销 (needs --note), paid 已补发",
)
@click.option("--note", default="", help="说明 (a write-off's reason)")
@db_option
def recovery_set(recovery_id, state, note, db_path):
    """Close a record: recovered, written off, or (补发) paid."""
    from ..models import recovery as rec

    r = rec.set_state(open_store(db_path), recovery_id, state, note)
    click.echo(f"#{r.id} {r.as_dict()['kind_label']}：{r.state_label}")


COMMANDS = (standards, uprate, income, recovery)
