"""``mzdesk case``: 临时救助 and 医疗救助 cases (one case is one 人次).

* ``case add HOUSEHOLD_ID``: an application (申请), 待审批;
* ``case decide CASE_ID``: 批准 or 不予救助 (审批);
* ``case pay CASE_ID``: the payment (发放); ``--fast`` is 小额先行 (paid before the
  decision within the township's limit, then 待补材料);
* ``case document CASE_ID``: a 小额先行 case's file is complete;
* ``case list``: the cases (``--json``).

The month's figures are in ``mzdesk stats --month YYYY-MM --json`` (``cases``).  No Qt here.
"""

from __future__ import annotations

import click

from .common import DATE, RECORD_ID, day, db_option, emit_json, open_store, parse_month

_STATES = ("pending", "approved", "refused", "awaiting_documents", "paid")


def _fen(text: str | None, what: str) -> int | None:
    from ..models.money import parse_assistance

    return None if text is None else parse_assistance(text, what)


def _line(c) -> str:
    d = c.as_dict()
    who = f"{c.village} {c.name}".strip()
    kind = d["kind_label"] + (f"（{d['type_label']}，{d['cause_label']}）" if c.case_type else "")
    paid = f" 已发{d['paid']}元（{c.paid_on}）" if c.paid_on else ""
    return f"#{c.id:<5} {d['state_label']:<4} {who} {kind} 申请{c.applied_on} {d['amount']}元{paid}"


@click.group("case")
def case():
    """临时救助 and 医疗救助 cases: application, decision, payment, 小额先行."""


@case.command("add")
@click.argument("household_id", type=RECORD_ID)
@click.option("--kind", required=True, help="temporary 临时救助 or medical 医疗救助")
@click.option("--type", "case_type", default="", help="临时救助: urgent 急难型 or expense 支出型")
@click.option(
    "--cause",
    default="",
    help="因病 illness, 因灾 disaster, 因学 schooling, 意外伤害 accident, 其他 other "
    "(required for 临时救助)",
)
@click.option("--amount", required=True, help="amount asked for, in 元 (e.g. 800 or 800.50)")
@click.option("--member", "member_id", type=RECORD_ID, default=None, help="the member aided")
@click.option("--date", "applied_on", type=DATE, default=None, help="application date (today)")
@click.option("--note", default="", help="备注")
@click.option("--json", "as_json", is_flag=True, help="print the case as JSON")
@db_option
def case_add(
    household_id, kind, case_type, cause, amount, member_id, applied_on, note, as_json, db_path
):
    """Record an application (申请): the case waits for its decision (待审批)."""
    from ..models import cases

    c = cases.add(
        open_store(db_path),
        household_id,
        kind,
        amount_fen=_fen(amount, "amount") or 0,
        member_id=member_id,
        case_type=case_type,
        cause=cause,
        applied_on=day(applied_on),
        note=note,
    )
    if as_json:
        emit_json(c.as_dict())
        return
    click.echo(f"已登记救助案件 #{c.id}：{_line(c)}")


@case.command("list")
@click.option("--state", type=click.Choice(_STATES), default=None, help="only cases in this state")
@click.option("--kind", default=None, help="temporary 临时救助 or medical 医疗救助")
@click.option("--month", default=None, help="YYYY-MM: cases paid in that month")
@click.option("--household", "household_id", type=RECORD_ID, default=None, help="one household")
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
@db_option
def case_list(state, kind, month, household_id, as_json, db_path):
    """The cases, newest application first.

    \b
    --json: a list of objects: id, uid, household_id, member_id, kind (temporary/medical),
    case_type (urgent/expense/''), cause, applied_on, amount_fen, decision
    (approved/refused/''), decided_on, decided_by, decision_note, fast_track, paid_on,
    paid_fen, documented_on, note, name, village, state (pending, approved, refused,
    awaiting_documents, paid), state_label, stat_key (the key in stats --json's cases).
    """
    from ..models import cases

    rows = cases.list_cases(
        open_store(db_path),
        state,
        kind,
        parse_month(month) if month else None,
        household_id,
    )
    if as_json:
        emit_json([c.as_dict() for c in rows])
        return
    for c in rows:
        click.echo(_line(c))
    click.echo(f"共 {len(rows)} 件")


@case.command("decide")
@click.argument("case_id", type=RECORD_ID)
@click.option(
    "--decision",
    type=click.Choice(("approved", "refused")),
    required=True,
    help="approved 批准 or refused 不予救助 (needs --reason)",
)
@click.option("--amount", default=None, help="the approved amount in 元 (default: as asked)")
@click.option("--date", "on", type=DATE, default=None, help="decision date (today)")
@click.option("--reason", default="", help="审批意见; required for 不予救助")
@db_option
def case_decide(case_id, decision, amount, on, reason, db_path):
    """Decide a case (审批): 批准 or 不予救助."""
    from ..models import cases

    c = cases.decide(
        open_store(db_path),
        case_id,
        decision,
        on=day(on),
        amount_fen=_fen(amount, "amount"),
        note=reason,
    )
    click.echo(f"#{c.id} {c.state_label}")


@case.command("pay")
@click.argument("case_id", type=RECORD_ID)
@click.option("--amount", default=None, help="amount paid in 元 (default: the approved amount)")
@click.option("--date", "on", type=DATE, default=None, help="payment date (today)")
@click.option(
    "--fast",
    is_flag=True,
    help="小额先行: pay a case not yet decided, within the township's limit; documents after",
)
@db_option
def case_pay(case_id, amount, on, fast, db_path):
    """Record the payment (发放) of a case."""
    from ..models import cases

    c = cases.pay(
        open_store(db_path), case_id, on=day(on), paid_fen=_fen(amount, "paid"), fast=fast
    )
    click.echo(f"#{c.id} {c.state_label}：{c.as_dict()['paid']}元（{c.paid_on}）")


@case.command("document")
@click.argument("case_id", type=RECORD_ID)
@click.option("--date", "on", type=DATE, default=None, help="the day the file was completed")
@db_option
def case_document(case_id, on, db_path):
    """A 小额先行 case's documents are complete (待补材料 → 已发放)."""
    from ..models import cases

    c = cases.document(open_store(db_path), case_id, on=day(on))
    click.echo(f"#{c.id} {c.state_label}")


COMMANDS = (case,)
