"""``mzdesk enrol ...``: enrolments (保障对象) and every lifecycle transition.

mzdesk enrol list|apply|amend|investigate|survey|deliberate|submit|confirm|reject|review|
             stop|object|resolve|history|category-add|support ...
             not-accept|suspend|resume|phase-out|phase-out-end|head-change|change-amount|parts
The last ones are the states and amounts in parts of models/enrolment_states.py and
models/components.py (docs/model.md).
"""

from __future__ import annotations

import click

from .common import (
    DATE,
    MONTHS,
    PEOPLE,
    RECORD_ID,
    BoundedInt,
    day,
    db_option,
    emit_json,
    operator_option,
)
from .common import open_store_as as _store


@click.group()
def enrol():
    """Enrolments (保障对象) and their lifecycle: apply → investigate → ... → active."""


def _show(e) -> None:
    from ..models.categories import state_label
    from ..models.money import format_fen

    click.echo(
        f"保障记录{e.id}: {e.category} {e.cls} 状态={state_label(e.state)} "
        f"保障人口={e.covered} 金额={format_fen(e.monthly_fen)}元"
        + (f" 复核到期={e.review_due}" if e.review_due else "")
    )


@enrol.command("list")
@db_option
@click.option("--household", "household_id", type=RECORD_ID, default=None)
@click.option(
    "--queue",
    type=click.Choice(
        [
            "investigate",
            "notice",
            "publicised",
            "submitted",
            "active",
            "review_due",
            "phase_out_due",
            "round_pending",
            "survival_due",
        ]
    ),
    default=None,
)
@click.option("--json", "as_json", is_flag=True)
def enrol_list(db_path, household_id, queue, as_json):
    """List enrolments of one household, or a work queue (待调查, 公示中, 待审核 ...)."""
    from dataclasses import asdict

    from ..models import enrolment as enr
    from ..models.categories import state_label
    from ..models.work_queues import queue as work_queue

    store = _store(db_path)
    if household_id is not None:
        rows = [asdict(e) for e in enr.for_household(store, household_id)]
    else:
        rows = work_queue(store, queue or "active")
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r['id']:>6} 家庭{r['household_id']:<6} {r['category']:<12} {r.get('cls', '')} "
            f"{state_label(r['state'])} {r.get('name', '')}"
        )
    click.echo(f"共 {len(rows)} 条")


@enrol.command("apply")
@db_option
@click.option("--household", "household_id", type=RECORD_ID, required=True)
@click.option("--category", required=True, help="category code, e.g. rural_dibao, tekun")
@click.option("--member", "member_id", type=RECORD_ID, default=None, help="member id (按人类别)")
@click.option("--class", "cls", default="", help="class/level, e.g. 二类 or 全自理")
@click.option("--covered", type=PEOPLE, default=None, help="保障人口 (default: assistance members)")
@click.option("--amount", default="0", help="proposed monthly (or one-off) amount in yuan")
@click.option("--date", "on", type=DATE, default=None, help="application date")
@click.option("--reason", default="")
@operator_option
def enrol_apply(
    db_path, household_id, category, member_id, cls, covered, amount, on, reason, operator
):
    """Register an application (申请)."""
    from ..models import enrolment as enr
    from ..models.money import parse_assistance

    e = enr.create(
        _store(db_path, operator),
        household_id,
        category,
        member_id=member_id,
        cls=cls,
        covered=covered,
        monthly_fen=parse_assistance(amount),
        applied_on=day(on),
        reason=reason,
    )
    _show(e)


def _simple(
    name: str, help_text: str, fn_name: str, needs_reason: bool = False, with_date: bool = False
):
    def cmd(db_path, enrolment_id, reason, operator, date=None):
        from ..models import enrolment as enr

        fn = getattr(enr, fn_name)
        store = _store(db_path, operator)
        if with_date:
            _show(fn(store, enrolment_id, reason=reason, today=day(date)))
        else:
            _show(fn(store, enrolment_id, reason=reason))

    if with_date:
        cmd = click.option(
            "--date", type=DATE, default=None, help="the day it happens (default: today)"
        )(cmd)
    cmd = operator_option(cmd)
    cmd = click.option("--reason", default="", required=needs_reason, help="原因/说明")(cmd)
    cmd = click.argument("enrolment_id", type=RECORD_ID)(cmd)
    cmd = db_option(cmd)
    return enrol.command(name, help=help_text)(cmd)


_simple("investigate", "申请 → 调查: start the investigation.", "start_investigation")
_simple(
    "submit",
    "公示 → 待审核: after the notice period, with no open objection.",
    "submit",
    with_date=True,
)
_simple("confirm", "待审核 → 在保 (审核确认).", "confirm", with_date=True)
_simple("reject", "不予确认, with a written reason.", "reject", needs_reason=True, with_date=True)
_simple("stop", "在保 → 停发, with a reason.", "stop", needs_reason=True, with_date=True)


@enrol.command("survey")
@db_option
@click.argument("enrolment_id", type=RECORD_ID)
@click.option(
    "--investigator",
    "investigators",
    multiple=True,
    required=True,
    help="调查人 (give at least two)",
)
@click.option("--verification", required=True, help="家庭经济状况核对结果")
@click.option("--conclusion", default="")
@click.option("--date", "on", type=DATE, default=None)
@operator_option
def enrol_survey(db_path, enrolment_id, investigators, verification, conclusion, on, operator):
    """Record the home visit (入户调查) and economic verification."""
    from ..models import enrolment as enr

    _show(
        enr.record_investigation(
            _store(db_path, operator),
            enrolment_id,
            list(investigators),
            verification,
            day(on),
            conclusion,
        )
    )


@enrol.command("deliberate")
@db_option
@click.argument("enrolment_id", type=RECORD_ID)
@click.option("--attendance", type=PEOPLE, required=True, help="参会人数")
@click.option("--result", required=True, help="评议结果")
@click.option("--date", "on", type=DATE, default=None)
@operator_option
def enrol_deliberate(db_path, enrolment_id, attendance, result, on, operator):
    """Record the democratic review (民主评议): 调查 → 评议."""
    from ..models import enrolment as enr

    _show(enr.deliberate(_store(db_path, operator), enrolment_id, attendance, result, day(on)))


@enrol.command("review")
@db_option
@click.argument("enrolment_id", type=RECORD_ID)
@click.option("--outcome", type=click.Choice(["keep", "change", "stop"]), required=True)
@click.option("--amount", default=None, help="new monthly amount in yuan (change)")
@click.option("--class", "cls", default=None)
@click.option("--covered", type=PEOPLE, default=None)
@click.option("--reason", default="")
@click.option("--date", type=DATE, default=None)
@operator_option
def enrol_review(db_path, enrolment_id, outcome, amount, cls, covered, reason, date, operator):
    """复核 (dynamic review): keep, change the amount, or stop."""
    from ..models import enrolment as enr
    from ..models.money import parse_assistance

    fen = parse_assistance(amount) if amount is not None else None
    _show(
        enr.review(
            _store(db_path, operator), enrolment_id, outcome, day(date), reason, fen, cls, covered
        )
    )


@enrol.command("amend")
@db_option
@click.argument("enrolment_id", type=RECORD_ID)
@click.option("--amount", default=None, help="corrected monthly amount in yuan")
@click.option("--class", "cls", default=None)
@click.option("--covered", type=PEOPLE, default=None)
@click.option("--reason", default="")
@operator_option
def enrol_amend(db_path, enrolment_id, amount, cls, covered, reason, operator):
    """Correct class, covered persons or amount before the notice (调查中核定)."""
    from ..models import enrolment as enr
    from ..models.money import parse_assistance

    fen = parse_assistance(amount) if amount is not None else None
    _show(enr.amend(_store(db_path, operator), enrolment_id, cls, covered, fen, reason))


@enrol.command("object")
@db_option
@click.argument("notice_id", type=RECORD_ID)
@click.argument("enrolment_id", type=RECORD_ID)
@click.option("--by", "raised_by", required=True, help="异议人")
@click.option("--content", required=True, help="异议内容")
@click.option("--date", type=DATE, default=None)
@operator_option
def enrol_object(db_path, notice_id, enrolment_id, raised_by, content, date, operator):
    """Record an objection (异议) to one row of a notice."""
    from ..models.notice import add_objection

    oid = add_objection(
        _store(db_path, operator), notice_id, enrolment_id, raised_by, content, day(date)
    )
    click.echo(f"已登记异议{oid}")


@enrol.command("resolve")
@db_option
@click.argument("objection_id", type=RECORD_ID)
@click.option("--follow-up", required=True, help="调查核实情况")
@click.option("--outcome", required=True, help="处理结果, e.g. 异议不成立")
@operator_option
def enrol_resolve(db_path, objection_id, follow_up, outcome, operator):
    """Close an objection with its follow-up and outcome."""
    from ..models.notice import close_objection

    close_objection(_store(db_path, operator), objection_id, follow_up, outcome)
    click.echo(f"异议{objection_id}已处理")


@enrol.command("history")
@db_option
@click.argument("enrolment_id", type=RECORD_ID)
def enrol_history(db_path, enrolment_id):
    """Every transition of one enrolment as JSON (who, when, why)."""
    from ..models import enrolment as enr

    emit_json(enr.history(_store(db_path), enrolment_id))


@enrol.command("category-add")
@db_option
@click.argument("code")
@click.option("--name", required=True)
@click.option("--unit", type=click.Choice(["household", "person"]), default="person")
@click.option(
    "--payment",
    type=click.Choice(["monthly", "one_off", "none"]),
    default="monthly",
    help="none: monitored, no monthly cash (like 低保边缘家庭)",
)
@click.option("--review-months", type=MONTHS, default=12)
@click.option("--class", "classes", multiple=True)
@operator_option
def enrol_category_add(db_path, code, name, unit, payment, review_months, classes, operator):
    """Add a township-local category (本地救助类别)."""
    from ..models.categories import add_local_category

    add_local_category(
        _store(db_path, operator), code, name, unit, payment, review_months, list(classes)
    )
    click.echo(f"已添加本地类别 {code} {name}")


# -- states and amounts in parts (models/enrolment_states.py, models/components.py) ---------
def _month_option(required: bool, help_text: str):
    return click.option(
        "--from", "from_month", required=required, metavar="YYYY-MM", help=help_text
    )


@enrol.command("not-accept")
@db_option
@click.argument("enrolment_id", type=RECORD_ID)
@click.option("--reason", required=True, help="不予受理的原因 (given to the household)")
@click.option("--date", type=DATE, default=None, help="the day it is decided (default: today)")
@operator_option
def enrol_not_accept(db_path, enrolment_id, reason, date, operator):
    """申请/调查 → 不予受理 (application not accepted), with a reason."""
    from ..models.enrolment_states import not_accept

    _show(not_accept(_store(db_path, operator), enrolment_id, reason, day(date)))


@enrol.command("suspend")
@db_option
@click.argument("enrolment_id", type=RECORD_ID)
@_month_option(True, "first month not paid")
@click.option("--reason", required=True, help="暂停原因")
@click.option("--date", type=DATE, default=None, help="the day it is decided (default: today)")
@operator_option
def enrol_suspend(db_path, enrolment_id, from_month, reason, date, operator):
    """在保/渐退期 → 暂停 from a month: no payment until resumed."""
    from ..models.enrolment_states import suspend

    _show(suspend(_store(db_path, operator), enrolment_id, from_month, reason, day(date)))


@enrol.command("resume")
@db_option
@click.argument("enrolment_id", type=RECORD_ID)
@_month_option(True, "first month paid again")
@click.option("--reason", default="", help="恢复原因")
@click.option(
    "--no-back-pay",
    is_flag=True,
    help="do not pay the suspended months back (default: 补发 on this month's 清册)",
)
@click.option("--date", type=DATE, default=None, help="the day it is decided (default: today)")
@operator_option
def enrol_resume(db_path, enrolment_id, from_month, reason, no_back_pay, date, operator):
    """暂停 → 恢复 from a month; the suspended months are paid back (补发) on the
    清册 of that month (``roster export --month``) as a line of their own."""
    from ..models.enrolment_states import resume
    from ..models.money import format_fen

    store = _store(db_path, operator)
    e = resume(store, enrolment_id, from_month, reason, not no_back_pay, day(date))
    _show(e)
    from ..models import enrolment as enr

    d = enr.history(store, e.id)[-1]["detail"]
    if d.get("back_pay_fen"):
        months = d["back_pay_months"]
        click.echo(
            f"补发{months[0]}至{months[-1]}共{len(months)}个月{format_fen(d['back_pay_fen'])}元，"
            f"列入{d['from_month']}清册"
        )


@enrol.command("phase-out")
@db_option
@click.argument("enrolment_id", type=RECORD_ID)
@_month_option(True, "first month of the 渐退期")
@click.option(
    "--months",
    type=BoundedInt("months", "月数", 1, 24),
    default=None,
    help="months of continued payment (default: phase_out_months in components.json)",
)
@click.option("--reason", required=True, help="e.g. 务工收入增加")
@operator_option
def enrol_phase_out(db_path, enrolment_id, from_month, months, reason, operator):
    """在保 → 渐退期: payment continues for some months, then stops by itself."""
    from ..models.enrolment_states import phase_out

    _show(phase_out(_store(db_path, operator), enrolment_id, from_month, reason, months))


@enrol.command("phase-out-end")
@db_option
@click.argument("enrolment_id", type=RECORD_ID)
@click.option("--reason", default="渐退期满", help="停发原因")
@click.option("--date", type=DATE, default=None, help="the day it is recorded (default: today)")
@operator_option
def enrol_phase_out_end(db_path, enrolment_id, reason, date, operator):
    """渐退期满 → 停发 (the ``phase_out_due`` queue); goes on the next notice."""
    from ..models.enrolment_states import finish_phase_out

    _show(finish_phase_out(_store(db_path, operator), enrolment_id, reason, day(date)))


@enrol.command("head-change")
@db_option
@click.argument("household_id", type=RECORD_ID)
@click.option("--new-head", "new_head", type=RECORD_ID, required=True, help="member id")
@click.option("--old-relation", default="其他", help="the old head's relation to the new one")
@click.option("--head-died-on", type=DATE, default=None, help="户主死亡: the date of death")
@click.option("--reason", required=True, help="户主变更原因")
@operator_option
def enrol_head_change(
    db_path, household_id, new_head, old_relation, head_died_on, reason, operator
):
    """户主变更 / 户主死亡: the household keeps its enrolments under a new head."""
    from ..models.enrolment_states import change_head

    for e in change_head(
        _store(db_path, operator), household_id, new_head, reason, old_relation, day(head_died_on)
    ):
        _show(e)


@enrol.command("change-amount")
@db_option
@click.argument("enrolment_id", type=RECORD_ID)
@_month_option(False, "first month on the new amount (required once paid)")
@click.option("--base", default=None, help="保障金/基本生活费 in yuan (default: unchanged)")
@click.option("--classified", default=None, help="分类施保金 in yuan (default: unchanged)")
@click.option("--care", default=None, help="照料护理费 in yuan (default: unchanged)")
@click.option("--mode", type=click.Choice(["gap", "tier"]), default=None, help="补差 or 分档")
@click.option("--tier", default=None, help="分档: the tier")
@click.option("--reason", default="", help="增发/减发原因 (required once paid)")
@operator_option
def enrol_change_amount(
    db_path, enrolment_id, from_month, base, classified, care, mode, tier, reason, operator
):
    """增发/减发 from a month: set the parts of the monthly amount (yuan).  Parts not given
    keep their current amount; earlier months keep their terms."""
    from ..models.components import in_force, set_components
    from ..models.money import parse_assistance

    store = _store(db_path, operator)
    parts = in_force(store, enrolment_id)
    for key, value in (("base", base), ("classified", classified), ("care", care)):
        if value is not None:
            parts[key] = parse_assistance(value)
    parts = {k: v for k, v in parts.items() if v or k == "base"}
    e = set_components(store, enrolment_id, parts, from_month, reason, mode, tier)
    _show(e)


@enrol.command("parts")
@db_option
@click.argument("enrolment_id", type=RECORD_ID)
@click.option("--month", default=None, metavar="YYYY-MM", help="the month (default: current terms)")
@click.option("--json", "as_json", is_flag=True)
def enrol_parts(db_path, enrolment_id, month, as_json):
    """The parts of the monthly amount (保障金, 分类施保金, 照料护理费 …), in fen with --json."""
    from ..models import enrolment as enr
    from ..models.components import component_names, in_force
    from ..models.money import format_fen

    store = _store(db_path)
    parts = in_force(store, enrolment_id, month)
    if as_json:
        emit_json(parts)
        return
    names = component_names(enr.get(store, enrolment_id).category)
    for k, v in parts.items():
        click.echo(f"{names.get(k, k)}: {format_fen(v)}元")
    click.echo(f"合计: {format_fen(sum(parts.values()))}元")


@enrol.command("support")
@db_option
@click.argument("enrolment_id", type=RECORD_ID)
@click.option("--mode", default=None, help="供养方式: 集中 or 分散 (without it: show only)")
@click.option("--institution", default="", help="供养机构 (集中)")
@click.option("--carer-name", default="", help="照料人姓名 (分散)")
@click.option("--carer-id", default="", help="照料人身份证号 (分散)")
@click.option("--carer-phone", default="", help="照料人电话 (分散)")
@click.option("--care-from", default=None, help="照料协议开始日期 (分散)")
@click.option("--care-to", default=None, help="照料协议结束日期 (分散)")
@click.option("--level", default=None, help="生活自理能力, any label (e.g. 部分丧失生活自理能力)")
@click.option("--reason", default="")
@operator_option
def enrol_support(
    db_path,
    enrolment_id,
    mode,
    institution,
    carer_name,
    carer_id,
    carer_phone,
    care_from,
    care_to,
    level,
    reason,
    operator,
):
    """特困: 供养方式 (集中 + 供养机构, or 分散 + 照料人) and self-care level; prints the
    support as JSON (the carer's ID number masked, as ``households show``) with the care
    amount (care_fen, fen) of the level."""
    from ..models import support
    from ..models.ids import mask_id

    def shown(s) -> None:
        emit_json({**s.as_dict(), "carer_id_number": mask_id(s.carer_id_number)})

    if mode is None:
        given = (institution, carer_name, carer_id, carer_phone, care_from, care_to, level, reason)
        if any(given):
            raise click.UsageError("--mode is required to change the support")
        shown(support.get(_store(db_path, operator), enrolment_id))
        return
    s = support.save(
        _store(db_path, operator),
        enrolment_id,
        mode,
        institution=institution,
        carer_name=carer_name,
        carer_id_number=carer_id,
        carer_phone=carer_phone,
        care_from=care_from,
        care_to=care_to,
        level=level,
        reason=reason,
    )
    shown(s)


COMMANDS = (enrol,)
