"""``mzdesk review``: the office's calendar (复核, 年度全面核查, 生存认证, 民主评议).

* ``review deliberation``: the county's 民主评议 setting (on / off / case = 视情), shown or set;
  ``review flag`` ticks 需民主评议 on one new record (what 视情 asks for);
* ``review plan``: a household's review interval by the stability of its circumstances
  (稳定 stable / 基本稳定 fair / 不稳定 unstable, or ``custom --months N``);
* ``review round-open/round-status/round-close``: the yearly full-review round;
* ``review survival-queue/survival-record/survival-stop``: 高龄津贴 survival checks per
  half-year, and the stop proposals (停发建议) of those not confirmed by the deadline.

No Qt here.
"""

from __future__ import annotations

import click

from .common import DATE, RECORD_ID, BoundedInt, day, db_option, emit_json, open_store

YEAR = BoundedInt("year", "年度", 2000, 2100)
PLAN_MONTHS = BoundedInt("months", "月数", 1, 36)
_MODES = ("on", "off", "case")
_STABILITY = ("stable", "fair", "unstable", "custom")
_METHODS = ("visit", "video", "village")


@click.group()
def review():
    """复核与年度核查: review plans, the yearly round, survival checks, 民主评议 setting."""


@review.command("deliberation")
@click.option(
    "--mode",
    type=click.Choice(_MODES),
    default=None,
    help="on 一律评议, off 不评议, case 视情评议 (default since 2021); omit to show",
)
@click.option("--note", default="", help="说明 (the decision's document number)")
@click.option("--json", "as_json", is_flag=True, help="print JSON: mode, label")
@db_option
def review_deliberation(mode, note, as_json, db_path):
    """Show or set the county's 民主评议 setting; it travels to the townships in sync."""
    from ..models import notice_rules as nr

    if note and mode is None:
        raise click.UsageError("--note 只能与 --mode 一起使用（说明设置的依据）")
    store = open_store(db_path)
    if mode is not None:
        nr.set_deliberation_mode(store, mode, note)
    now = nr.deliberation_mode(store)
    if as_json:
        emit_json({"mode": now, "label": nr.DELIBERATION_MODES[now]})
        return
    click.echo(f"民主评议：{nr.DELIBERATION_MODES[now]}（{now}）")


@review.command("flag")
@click.argument("enrolment_id", type=RECORD_ID)
@click.option("--needed/--not-needed", default=True, help="需民主评议 or not")
@click.option("--reason", default="", help="why (e.g. 收入接近保障标准)")
@db_option
def review_flag(enrolment_id, needed, reason, db_path):
    """Tick (or untick) 需民主评议 on a new record: under 视情 it must then be deliberated."""
    from ..models.notice_rules import flag_deliberation

    flag_deliberation(open_store(db_path), enrolment_id, needed, reason)
    click.echo(f"#{enrolment_id} {'需民主评议' if needed else '无需民主评议'}")


@review.command("plan")
@click.argument("household_id", type=RECORD_ID)
@click.option(
    "--stability",
    type=click.Choice(_STABILITY),
    required=True,
    help="stable 稳定 (12个月), fair 基本稳定 (6), unstable 不稳定 (3), custom (--months)",
)
@click.option("--months", type=PLAN_MONTHS, default=None, help="explicit interval in months")
@click.option("--on", "on", type=DATE, default=None, help="date of the decision (default today)")
@click.option("--note", default="", help="备注")
@click.option("--json", "as_json", is_flag=True, help="print the plan as JSON")
@db_option
def review_plan(household_id, stability, months, on, note, as_json, db_path):
    """Set a household's review interval; its next review dates move accordingly."""
    from ..models import reviews

    p = reviews.set_plan(open_store(db_path), household_id, stability, months, day(on), note)
    if as_json:
        emit_json(p)
        return
    click.echo(f"家庭{household_id}：{p['label']}，每{p['months']}个月复核")


def _status_line(s: dict) -> str:
    state = "进行中" if s["state"] == "open" else f"已于{s['closed_on']}结束"
    return (
        f"{s['year']}年度全面核查（{s['opened_on']}开启，{state}）："
        f"共{s['total']}条，已复核{s['done']}条，未复核{s['pending']}条"
    )


def _emit_status(s: dict, as_json: bool, items: bool = True) -> None:
    if as_json:
        emit_json(s if items else {k: v for k, v in s.items() if k != "items"})
        return
    click.echo(_status_line(s))
    for r in s["items"] if items else ():
        click.echo(
            f"#{r['id']} {r['village']}{r['village_group']} {r['name']} {r['category_name']} "
            f"{r['result_name']} {r['reviewed_on'] or ''}".rstrip()
        )


@review.command("round-open")
@click.option("--year", type=YEAR, required=True, help="the round's year")
@click.option("--on", "on", type=DATE, default=None, help="opening date (default today)")
@click.option("--json", "as_json", is_flag=True, help="print the round as JSON")
@db_option
def review_round_open(year, on, as_json, db_path):
    """Open the yearly full-review round (年度全面核查): lists every paid record."""
    from ..models import reviews

    _emit_status(reviews.open_round(open_store(db_path), year, day(on)), as_json, items=False)


@review.command("round-status")
@click.option("--year", type=YEAR, default=None, help="default: the open round, else the latest")
@click.option("--pending", "only_pending", is_flag=True, help="list only the records not reviewed")
@click.option("--json", "as_json", is_flag=True, help="print JSON: counts and items")
@db_option
def review_round_status(year, only_pending, as_json, db_path):
    """A round's progress: every listed record, reviewed or not, and the result."""
    from ..models import reviews

    s = reviews.round_status(open_store(db_path), year)
    if only_pending:
        s["items"] = [r for r in s["items"] if r["result"] == "pending"]
    _emit_status(s, as_json)


@review.command("round-close")
@click.option("--year", type=YEAR, required=True, help="the round's year")
@click.option("--on", "on", type=DATE, default=None, help="closing date (default today)")
@click.option("--force", is_flag=True, help="close although records are still to review")
@click.option("--json", "as_json", is_flag=True, help="print the round as JSON")
@db_option
def review_round_close(year, on, force, as_json, db_path):
    """Close the round and freeze its counts (refused while records are pending)."""
    from ..models import reviews

    s = reviews.close_round(open_store(db_path), year, day(on), force)
    _emit_status(s, as_json, items=False)


def _emit_rows(rows: list[dict], as_json: bool, what: str) -> None:
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(
            f"#{r['id']} {r['village']}{r['village_group']} {r['name']} {r['cls']} "
            f"认证期{r['period']} 截止{r['deadline']} 上次认证{r['last_checked'] or '无'}"
        )
    click.echo(f"{what}：共{len(rows)}人")


@review.command("survival-queue")
@click.option("--period", default=None, help="half-year such as 2027-H1 (default: the current)")
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
@db_option
def review_survival_queue(period, as_json, db_path):
    """高龄津贴 recipients not yet confirmed alive (生存认证) in the half-year."""
    from ..models import survival

    _emit_rows(survival.due(open_store(db_path), period), as_json, "待生存认证")


@review.command("survival-record")
@click.argument("enrolment_id", type=RECORD_ID)
@click.option(
    "--method",
    type=click.Choice(_METHODS),
    required=True,
    help="visit 上门, video 视频, village 村代办",
)
@click.option("--on", "on", type=DATE, default=None, help="date of the check (default today)")
@click.option("--note", default="", help="备注")
@db_option
def review_survival_record(enrolment_id, method, on, note, db_path):
    """Record a survival confirmation for the half-year of its date."""
    from ..models import survival

    r = survival.record_check(open_store(db_path), enrolment_id, method, day(on), note)
    click.echo(
        f"#{enrolment_id} {r['period']} 已认证（{survival.methods()[method]}，{r['checked_on']}）"
    )


@review.command("survival-stop")
@click.option("--period", default=None, help="half-year (default: the latest past its deadline)")
@click.option("--confirm", "enrolment_id", type=RECORD_ID, default=None, help="stop this record")
@click.option("--json", "as_json", is_flag=True, help="print the proposals as JSON")
@db_option
def review_survival_stop(period, enrolment_id, as_json, db_path):
    """Stop proposals (停发建议) for those not confirmed by the deadline; ``--confirm ID``
    stops one (from next month, with its 停发 notice)."""
    from ..models import survival

    store = open_store(db_path)
    if enrolment_id is None:
        _emit_rows(survival.stop_proposals(store, period), as_json, "停发建议")
        return
    e = survival.confirm_stop(store, enrolment_id, period)
    if as_json:
        emit_json({"id": e.id, "state": e.state, "end_on": e.end_on, "reason": e.stop_reason})
        return
    click.echo(f"#{e.id} 已停发（发放至{e.end_on}）：{e.stop_reason}")


COMMANDS = (review,)
