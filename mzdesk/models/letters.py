"""Written notices to a household (告知书): what goes in them and that one was given.

Four kinds, their wording in ``resources/letters.json`` (a county edits it there):
受理通知书 (``accept``), 不予受理告知书 (``not_accept``), 不予确认告知书 (``reject``) and
停发告知书 (``stop``).  :func:`letter_data` finds the enrolment, the household, the
decision (its day and the reason recorded with it) and the office, and fills the template;
:mod:`mzdesk.reports.letters_pdf` prints it.  Privacy as on the 公示: the applicant's ID
only masked (:func:`mzdesk.models.ids.mask_id`), no bank account, phone or health detail.

A printed 不予受理/不予确认告知书 stops the ``refusal_notice`` clock
(:mod:`mzdesk.models.clocks`): :func:`record_letter` writes a ``letter`` event when the
office (a role with ``enrolment.confirm``) prints one.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field

from ..resources import load_json
from . import dates
from . import enrolment as enr
from .auth import allowed, require
from .categories import categories, state_label
from .clocks import settings as clock_settings
from .errors import MzError
from .ids import mask_id
from .notice import defaults, township_name
from .store import Store

LETTER_FILE = "letters.json"
KINDS = {
    "accept": "受理通知书",
    "not_accept": "不予受理告知书",
    "reject": "不予确认告知书",
    "stop": "停发告知书",
}
# the state an enrolment must be in for each kind (accept: any state after an application)
_STATE = {"not_accept": "not_accepted", "reject": "rejected", "stop": "stopped"}
PLACEHOLDERS = (
    "name",
    "village",
    "id_masked",
    "category",
    "applied_on",
    "decided_on",
    "stop_from",
    "reason",
    "office",
    "township",
    "decision_days",
    "extended_days",
    "review_body",
    "court",
    "review_days",
    "lawsuit_months",
    "title",
)


class LetterError(MzError):
    code = "letter_refused"


@dataclass
class Letter:
    kind: str
    title: str
    number: str
    name: str
    paragraphs: list[str]
    appeal: str
    receipt: str
    office: str
    address: str
    hotline: str
    issued_on: dt.date
    values: dict = field(default_factory=dict)


def cn_date(day: dt.date | str | None) -> str:
    """``2026年12月5日`` (empty for no date)."""
    if not day:
        return ""
    d = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return f"{d.year}年{d.month}月{d.day}日"


def fill(template: str, values: dict) -> str:
    """``template`` with its ``{placeholders}``; an unknown one is refused, naming it."""
    names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    unknown = [n for n in names if n not in values]
    if unknown:
        raise LetterError(
            f"告知书模板 {LETTER_FILE} 中有未知的占位符：{'、'.join(unknown)}", "letter_template"
        )
    return template.format_map(values)


def templates() -> dict:
    data = load_json(LETTER_FILE)
    if set(KINDS) - set(data.get("letters", {})):
        raise LetterError(f"告知书模板 {LETTER_FILE} 应包含：{'、'.join(KINDS)}", "letter_template")
    return data


def _decision(store: Store, e: enr.Enrolment, kind: str) -> tuple[str, str]:
    """(day, reason) of the decision the letter tells: the last event into its state."""
    if kind == "accept":
        return e.applied_on or "", ""
    row = store.one(
        "SELECT reason, json_extract(detail, '$.on') AS on_day, substr(at, 1, 10) AS at_day "
        "FROM enrolment_events WHERE enrolment_id = ? AND to_state = ? "
        "AND from_state IS NOT to_state ORDER BY id DESC LIMIT 1",
        (e.id, _STATE[kind]),
    )
    reason = (row or {}).get("reason") or (e.stop_reason if kind == "stop" else "")
    day = (row or {}).get("on_day") or (row or {}).get("at_day") or e.end_on or ""
    return day, reason


def letter_data(store: Store, enrolment_id: int, kind: str, today: dt.date | None = None) -> Letter:
    """The filled letter of ``kind`` for an enrolment (permission ``forms.print``)."""
    require(store, "forms.print")
    if kind not in KINDS:
        raise LetterError(f"未知的告知书种类：{kind}（可选：{'、'.join(KINDS)}）", "unknown_letter")
    e = enr.get(store, enrolment_id)
    want = _STATE.get(kind)
    if want and e.state != want:
        raise LetterError(
            f"不能打印{KINDS[kind]}：该记录当前为“{state_label(e.state)}”，"
            f"应为“{state_label(want)}”",
            "letter_state",
        )
    if kind == "accept" and e.state == "not_accepted":
        raise LetterError("该申请已不予受理，不能打印受理通知书", "letter_state")
    day, reason = _decision(store, e, kind)
    if kind != "accept" and not reason:
        raise LetterError(f"该记录没有登记{KINDS[kind][:-3]}的理由，不能打印告知书", "no_reason")
    person = store.one(
        "SELECT coalesce(m.name, h.head_name) AS name, coalesce(m.id_number, "
        "(SELECT id_number FROM members WHERE household_id = h.id AND relation = '户主' "
        "AND status = 'active' LIMIT 1)) AS id_number, h.village, h.village_group "
        "FROM enrolments e JOIN households h ON h.id = e.household_id "
        "LEFT JOIN members m ON m.id = e.member_id WHERE e.id = ?",
        (e.id,),
    )
    assert person is not None  # enr.get found the enrolment
    data = templates()
    spec = data["letters"][kind]
    office = defaults(store)
    limits = clock_settings()["clocks"]["decision"]
    stop_from = ""
    if kind == "stop" and e.end_on:
        nxt = dt.date.fromisoformat(e.end_on) + dt.timedelta(days=1)
        stop_from = f"{nxt.year}年{nxt.month}月"
    values = {
        **data.get("settings", {}),
        "name": person["name"] or "",
        "village": f"{person['village'] or ''}{person['village_group'] or ''}",
        "id_masked": mask_id(person["id_number"]),
        "category": categories(store).get(e.category, {}).get("name", e.category),
        "applied_on": cn_date(e.applied_on),
        "decided_on": cn_date(day),
        "stop_from": stop_from,
        "reason": reason,
        "office": office["issuer"],
        "township": township_name(store),
        "decision_days": limits["working_days"],
        "extended_days": limits.get("extended_working_days", limits["working_days"]),
        "title": spec["title"],
    }
    issued = dates.check_date(
        "letter_on", today or dates.current_day(), not_before=[("决定日期", day or None)]
    )
    return Letter(
        kind=kind,
        title=fill(spec["title"], values),
        number=f"{values['township']}〔{issued.year}〕第{e.id}号",
        name=values["name"],
        paragraphs=[fill(p, values) for p in spec["body"]],
        appeal=fill(data["appeal"], values) if spec.get("appeal") else "",
        receipt=fill(data.get("receipt", ""), values),
        office=values["office"],
        address=office.get("address") or "",
        hotline=office.get("hotline") or "",
        issued_on=issued,
        values=values,
    )


def record_letter(store: Store, enrolment_id: int, kind: str, on: dt.date) -> bool:
    """Record that the office gave the household a letter (a ``letter`` event); a printing
    role that may not decide (a field laptop) prints without recording.  True if recorded."""
    require(store, "forms.print")
    if not allowed(store, "enrolment.confirm"):
        return False
    with store.transaction():
        e = enr.get(store, enrolment_id)
        enr.record_event(
            store, e, "letter", KINDS[kind], {"kind": kind, "on": on.isoformat()}, e.monthly_fen
        )
    return True


def letters_given(store: Store, enrolment_id: int) -> list[dict]:
    """The letters recorded for an enrolment: kind, day, who."""
    return list(
        store.db.query(
            "SELECT json_extract(detail, '$.kind') AS kind, json_extract(detail, '$.on') AS on_day, "
            "by FROM enrolment_events WHERE enrolment_id = ? AND action = 'letter' ORDER BY id",
            (enrolment_id,),
        )
    )
