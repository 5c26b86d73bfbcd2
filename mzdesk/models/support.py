"""特困 support (特困人员供养): 供养方式, 供养机构 or 照料人, self-care level and care amount.

A 特困 person is supported in an institution (集中供养, with the 供养机构's name) or at home
(分散供养, with a 照料人: name, ID number, phone and the care agreement's dates).  The
self-care level is the enrolment's class (:mod:`.selfcare`: one code, several labels) and
decides the monthly 照料护理费 (:func:`mzdesk.models.selfcare.care_fen`, per county).

Which categories have a 供养方式 is data: ``"support_modes": true`` in categories.json.

>>> mode_code("集中供养"), mode_code("分散"), mode_code("dispersed")
('concentrated', 'dispersed', 'dispersed')
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass

from . import enrolment as enr
from .auth import require
from .categories import category, state_label
from .dates import RECORDS_FLOOR, parse_day
from .errors import FieldError, MzError, ValidationError
from .ids import normalise_phone, parse_id
from .selfcare import care_fen, class_level, label_of, level_of
from .site import get_site
from .store import Store
from .text import field_text

MODES = {"concentrated": "集中", "dispersed": "分散"}
_MODE_WORDS = {"集中": "concentrated", "集中供养": "concentrated", "分散": "dispersed"}
_MODE_WORDS["分散供养"] = "dispersed"
_PHONE = re.compile(r"^[0-9]{7,13}$")  # as household phones (models/household.py)
AMENDABLE = ("applied", "investigating", "reviewed")  # enrolment.amend's states
AGREEMENT_MAX_YEARS = 10  # a care agreement longer than this is a typing mistake


class SupportRefused(MzError):
    code = "support_refused"


@dataclass
class Support:
    """The 特困 attributes of one enrolment, with what they derive (level, care amount)."""

    enrolment_id: int
    category: str
    applies: bool  # the category has a 供养方式 (support_modes)
    mode: str  # '', concentrated, dispersed
    institution: str
    carer_name: str
    carer_id_number: str
    carer_phone: str
    care_from: str | None
    care_to: str | None
    level: str | None  # self-care level code (from the class)
    level_label: str
    care_fen: int | None

    @property
    def mode_label(self) -> str:
        return MODES.get(self.mode, "")

    def as_dict(self) -> dict:
        return {**asdict(self), "mode_label": self.mode_label}


def mode_code(text: str) -> str:
    """A 供养方式 as typed (集中, 集中供养, 分散, 分散供养 or the code) → its code; '' → ''."""
    t = "".join(str(text or "").split())
    if not t or t in MODES:
        return t
    if t in _MODE_WORDS:
        return _MODE_WORDS[t]
    raise SupportRefused(f"供养方式应为 集中 或 分散，而不是“{t}”", "bad_support_mode")


def county_code(store: Store) -> str | None:
    site = get_site(store)
    return site.code[:6] if site else None


def _support_category(store: Store, e: enr.Enrolment) -> dict:
    cat = category(store, e.category)
    if not cat.get("support_modes"):
        raise SupportRefused(f"“{cat['name']}”没有供养方式、照料人等信息", "not_support_category")
    return cat


def get(store: Store, enrolment_id: int) -> Support:
    """The support of an enrolment: for a category without 供养方式 (低保 …) every field is
    empty and ``applies`` false (reading never refuses; :func:`save` does)."""
    e = enr.get(store, enrolment_id)
    cat = category(store, e.category)
    row = store.one(
        "SELECT support_mode, institution, carer_name, carer_id_number, carer_phone, "
        "care_from, care_to FROM enrolments WHERE id = ?",
        (e.id,),
    )
    assert row is not None  # enr.get found it
    level = class_level(cat, e.cls)
    return Support(
        enrolment_id=e.id,
        category=e.category,
        applies=bool(cat.get("support_modes")),
        mode=row["support_mode"],
        institution=row["institution"],
        carer_name=row["carer_name"],
        carer_id_number=row["carer_id_number"],
        carer_phone=row["carer_phone"],
        care_from=row["care_from"],
        care_to=row["care_to"],
        level=level,
        level_label=label_of(level) if level else "",
        care_fen=care_fen(level, county_code(store)) if level else None,
    )


def _day(value, field: str, label: str) -> dt.date | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        day = parse_day(value)
    except ValueError:
        raise ValidationError(
            [FieldError(field, "bad_date", f"{label}“{value}”无效，应为 年-月-日")]
        ) from None
    if day < RECORDS_FLOOR:
        raise ValidationError(
            [FieldError(field, "date_too_early", f"{label}不能早于{RECORDS_FLOOR}")]
        )
    return day


def _carer(
    store: Store, e: enr.Enrolment, name: str, id_number: str, phone: str, start, end
) -> dict:
    """The 照料人 of a 分散供养 person, checked: name and a valid ID number (the one ID
    rule, ``ids.parse_id``) required, not the person themself; phone and dates optional."""
    problems: list[FieldError] = []
    name = field_text(name, "person_name", "照料人姓名", "carer_name")
    if not name:
        problems.append(FieldError("carer_name", "missing_required", "分散供养须填写照料人姓名"))
    number = ""
    if not str(id_number or "").strip():
        problems.append(
            FieldError("carer_id_number", "missing_required", "分散供养须填写照料人身份证号")
        )
    else:
        try:
            number = parse_id(id_number).number
        except FieldError as exc:
            problems.append(FieldError("carer_id_number", exc.code, f"照料人{exc.message}"))
    own = store.scalar("SELECT id_number FROM members WHERE id = ?", (e.member_id,))
    if number and own and number == own:
        problems.append(FieldError("carer_id_number", "carer_is_person", "照料人不能是本人"))
    phone = normalise_phone(phone)
    if phone and not _PHONE.match(phone):
        problems.append(FieldError("carer_phone", "bad_phone", "照料人电话应为7-13位数字"))
    try:
        first = _day(start, "care_from", "照料协议开始日期")
        last = _day(end, "care_to", "照料协议结束日期")
    except ValidationError as exc:
        problems += exc.problems
        first = last = None
    if last and not first:
        problems.append(FieldError("care_from", "missing_required", "请填写照料协议开始日期"))
    if first and last and last < first:
        problems.append(
            FieldError("care_to", "date_before_step", "照料协议结束日期不能早于开始日期")
        )
    if first and last and (last - first).days > AGREEMENT_MAX_YEARS * 366:
        problems.append(
            FieldError("care_to", "date_too_late", f"照料协议期限不能超过{AGREEMENT_MAX_YEARS}年")
        )
    if problems:
        raise ValidationError(problems)
    return {
        "carer_name": name,
        "carer_id_number": number,
        "carer_phone": phone,
        "care_from": first.isoformat() if first else None,
        "care_to": last.isoformat() if last else None,
    }


def save(
    store: Store,
    enrolment_id: int,
    mode: str,
    institution: str = "",
    carer_name: str = "",
    carer_id_number: str = "",
    carer_phone: str = "",
    care_from: dt.date | str | None = None,
    care_to: dt.date | str | None = None,
    level: str | None = None,
    reason: str = "",
) -> Support:
    """Record the 供养方式 of a 特困 enrolment: 集中 with its 供养机构, or 分散 with its
    照料人; the other form's fields are cleared.  ``level`` (any self-care label) changes the
    class through :func:`mzdesk.models.enrolment.amend`, so only before the notice; an
    active enrolment changes its level by a review (复核)."""
    require(store, "enrolment.edit")
    with store.transaction():
        e = enr.get(store, enrolment_id)
        cat = _support_category(store, e)
        if not e.live:  # history stays as it was when the enrolment ended
            raise SupportRefused(
                f"“{state_label(e.state)}”的记录不能修改供养信息", "support_of_ended"
            )
        code = mode_code(mode)
        cols = {
            "support_mode": code,
            "institution": "",
            "carer_name": "",
            "carer_id_number": "",
            "carer_phone": "",
            "care_from": None,
            "care_to": None,
        }
        if code == "concentrated":
            cols["institution"] = field_text(institution, "short", "供养机构", "institution")
            if not cols["institution"]:
                raise ValidationError(
                    [FieldError("institution", "missing_required", "集中供养须填写供养机构")]
                )
        elif code == "dispersed":
            cols.update(
                _carer(store, e, carer_name, carer_id_number, carer_phone, care_from, care_to)
            )
        if level is not None and class_level(cat, e.cls) != (level_of(level) if level else None):
            if e.state not in AMENDABLE:
                raise SupportRefused(
                    f"“{state_label(e.state)}”的记录不能直接变更生活自理能力，请通过复核变更",
                    "level_by_review",
                )
            enr.amend(store, e.id, cls=level, reason=reason or "变更生活自理能力")
            _care_follows_level(store, e, level, reason)
        sets = ", ".join(f"{k} = :{k}" for k in cols)
        store.conn.execute(
            f"UPDATE enrolments SET {sets}, rev = rev + 1, updated_at = :updated_at, "
            f"updated_by = :updated_by WHERE id = :id",
            {**cols, **store.stamp(new=False), "id": e.id},
        )
        return get(store, e.id)


def _care_follows_level(store: Store, e: enr.Enrolment, level: str, reason: str) -> None:
    """Before the notice, the 照料护理费 part follows the self-care level (the county's care
    table, :func:`mzdesk.models.selfcare.care_fen`); the base part keeps its amount."""
    from . import components as comp  # components reads the enrolment; support sits beside

    if not level or "care" not in comp.category_components(store, e.category):
        return
    parts = comp.in_force(store, e.id)
    parts["care"] = care_fen(level, county_code(store))
    comp.set_components(store, e.id, parts, reason=reason or "照料护理费随生活自理能力")


def write_demo_support(store: Store, updates: list[tuple]) -> None:
    """The demo's 特困 support, (mode, institution, carer name, ID, phone, from, to, id)
    per enrolment, written in one statement (models/support_demo.py plans it)."""
    store.conn.executemany(
        "UPDATE enrolments SET support_mode = ?, institution = ?, carer_name = ?, "
        "carer_id_number = ?, carer_phone = ?, care_from = ?, care_to = ? WHERE id = ?",
        updates,
    )
