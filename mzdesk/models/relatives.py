"""Declared relatives (近亲属备案) of assistance staff and village cadres.

Township assistance staff and village-committee members declare their close
relatives; every enrolment whose covered person (or, for a household
enrolment, any active member of the household) carries a declared ID number
is flagged, so the county visits each one.  Declarations travel in sync
batches (``declared_relatives`` in ``sync.changelog.SYNCED_TABLES``) and are
audited.  ID numbers are stored normalised (:func:`ids.parse_id`) and shown
only through :func:`ids.mask_id`.

>>> from mzdesk.models.household import Household, Member
>>> from mzdesk.models.registry import Registry
>>> from mzdesk.models.site import init_site
>>> store = Store.open(":memory:", operator="clerk")
>>> init_site(store, "341623101", "青山镇")
Site(code='341623101', name='青山镇', role='township')
>>> h = Registry(store).save(Household(village="红旗村", members=[
...     Member(name="王小明", relation="户主", id_number="34162319900101009X")]))
>>> from mzdesk.models import enrolment
>>> e = enrolment.create(store, h.id, "rural_dibao", cls="二类", monthly_fen=76000)
>>> r = declare(store, "王主任", "cadre", "红旗村", "王小明", "34162319900101009X", "child")
>>> [(f.enrolment_id, f.relative_id_masked) for f in flagged_enrolments(store)]
[(1, '341623********009X')]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from ..resources import load_json
from . import dates
from .auth import require
from .enrolment import END_STATES
from .errors import FieldError, NotFound, ValidationError
from .ids import mask_id, parse_id
from .store import Store, new_uid
from .text import collect
from .vocab import category_name, state_name

ACTION = "relatives.edit"


def declarant_roles() -> dict[str, str]:
    """``staff`` 乡镇救助经办人员, ``cadre`` 村(居)委会成员 (resources/relatives.json)."""
    return load_json("relatives.json")["declarant_roles"]


def relations() -> dict[str, str]:
    """Relation codes of the relative to the declarant (配偶, 父母, 子女 ...)."""
    return load_json("relatives.json")["relations"]


@dataclass(frozen=True)
class Relative:
    """One declaration; ``id_masked`` is the only form of the ID meant for display."""

    id: int
    uid: str
    declarant_name: str
    declarant_role: str
    declarant_village: str
    relative_name: str
    id_masked: str
    relation: str
    note: str
    declared_on: str
    created_by: str

    @property
    def role_label(self) -> str:
        return declarant_roles().get(self.declarant_role, self.declarant_role)

    @property
    def relation_label(self) -> str:
        return relations().get(self.relation, self.relation)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["role_label"], d["relation_label"] = self.role_label, self.relation_label
        return d


@dataclass(frozen=True)
class FlaggedEnrolment:
    """An enrolment that covers a declared relative (县级需逐户核查)."""

    enrolment_id: int
    household_id: int
    village: str
    head_name: str
    member_name: str
    relative_id_masked: str
    category: str
    state: str
    declarant_name: str
    declarant_role: str
    relation: str

    def as_dict(self) -> dict:
        d = asdict(self)
        d["category_label"] = category_name(self.category)
        d["state_label"] = state_name(self.state)
        d["role_label"] = declarant_roles().get(self.declarant_role, self.declarant_role)
        d["relation_label"] = relations().get(self.relation, self.relation)
        return d


def declare(
    store: Store,
    declarant_name: str,
    declarant_role: str,
    declarant_village: str,
    relative_name: str,
    id_number: str,
    relation: str,
    note: str = "",
    declared_on: dt.date | None = None,
) -> Relative:
    """Record one declaration (one transaction); every bad field is reported at once."""
    require(store, ACTION)
    problems: list[FieldError] = []
    # the text rule (models/text.py): cleaned, bounded, every problem reported at once
    declarant_name = collect(
        problems, declarant_name, "person_name", "备案人姓名", "declarant_name"
    )
    relative_name = collect(problems, relative_name, "person_name", "亲属姓名", "relative_name")
    declarant_village = collect(
        problems, declarant_village, "village", "所在村(居)", "declarant_village"
    )
    note = collect(problems, note, "note", "备注", "note")
    if not declarant_name:
        problems.append(FieldError("declarant_name", "required", "请填写备案人姓名"))
    if declarant_role not in declarant_roles():
        problems.append(
            FieldError("declarant_role", "bad_role", f"备案人身份无效: {declarant_role}")
        )
    if declarant_role == "cadre" and not declarant_village.strip():
        problems.append(FieldError("declarant_village", "required", "村干部须填写所在村(居)"))
    if not relative_name:
        problems.append(FieldError("relative_name", "required", "请填写亲属姓名"))
    if relation not in relations():
        problems.append(FieldError("relation", "bad_relation", f"亲属关系无效: {relation}"))
    number = ""
    try:
        number = parse_id(id_number).number
    except FieldError as exc:
        problems.append(exc)
    declared_on = declared_on or dates.current_day()
    try:
        declared_on = dates.check_date("declared_on", declared_on)
    except ValidationError as exc:
        problems += exc.problems
    if problems:
        raise ValidationError(problems)
    with store.transaction() as conn:
        dup = conn.execute(
            "SELECT declarant_name FROM declared_relatives WHERE id_number = ? AND status = 'active' "
            "AND declarant_name = ?",
            (number, declarant_name),
        ).fetchone()
        if dup:
            raise ValidationError(
                [
                    FieldError(
                        "id_number",
                        "duplicate",
                        f"{declarant_name} 已备案过此人（{mask_id(number)}）",
                    )
                ]
            )
        row = {
            "uid": new_uid(),
            "declarant_name": declarant_name,
            "declarant_role": declarant_role,
            "declarant_village": declarant_village.strip(),
            "relative_name": relative_name,
            "id_number": number,
            "relation": relation,
            "note": note.strip(),
            "declared_on": declared_on.isoformat(),
            **store.stamp(new=True),
        }
        cols = ", ".join(row)
        cur = conn.execute(
            f"INSERT INTO declared_relatives ({cols}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )
        assert cur.lastrowid is not None  # an INSERT's rowid
        return get_relative(store, cur.lastrowid)


def withdraw(store: Store, relative_id: int) -> None:
    """Withdraw a declaration (soft: the record stays, travels and is audited)."""
    require(store, ACTION)
    with store.transaction() as conn:
        cur = conn.execute(
            "UPDATE declared_relatives SET status = 'deleted', rev = rev + 1, updated_at = :updated_at, "
            "updated_by = :updated_by WHERE id = :id AND status = 'active'",
            {"id": relative_id, **store.stamp(new=False)},
        )
        if cur.rowcount != 1:
            raise NotFound(f"没有这条近亲属备案: {relative_id}")


_COLS = (
    "id, uid, declarant_name, declarant_role, declarant_village, relative_name, id_number, "
    "relation, note, declared_on, created_by"
)


def _relative(row: tuple) -> Relative:
    values = list(row)
    values[6] = mask_id(values[6])
    return Relative(*values)


def get_relative(store: Store, relative_id: int) -> Relative:
    row = store.conn.execute(
        f"SELECT {_COLS} FROM declared_relatives WHERE id = ?", (relative_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"没有这条近亲属备案: {relative_id}")
    return _relative(row)


def list_relatives(store: Store) -> list[Relative]:
    """Active declarations, by declarant then relative."""
    rows = store.conn.execute(
        f"SELECT {_COLS} FROM declared_relatives WHERE status = 'active' "
        "ORDER BY declarant_name, relative_name, id"
    )
    return [_relative(r) for r in rows]


# A member enrolment matches on its member; a household enrolment on any active member.
# Driven from the (few) declarations through the members' ID index, then each member's
# enrolments by index: CROSS JOIN keeps that
# order (without it SQLite scanned every enrolment of a 1M-person county: 0.47 s a call).
_ENDED = ", ".join(f"'{s}'" for s in END_STATES)
_LIVE = f"e.status = 'active' AND e.state NOT IN ({_ENDED})"
_FLAGGED_COLS = """e.id, e.household_id, h.village, h.head_name, m.name, m.id_number, e.category,
       e.state, r.declarant_name, r.declarant_role, r.relation"""
FLAGGED_SQL = f"""
SELECT * FROM (
  SELECT {_FLAGGED_COLS} FROM declared_relatives r
  CROSS JOIN members m ON m.id_number = r.id_number AND m.status = 'active'
  CROSS JOIN enrolments e ON e.member_id = m.id
  JOIN households h ON h.id = e.household_id
  WHERE r.status = 'active' AND {_LIVE}
  UNION ALL
  SELECT {_FLAGGED_COLS} FROM declared_relatives r
  CROSS JOIN members m ON m.id_number = r.id_number AND m.status = 'active'
  CROSS JOIN enrolments e ON e.household_id = m.household_id AND e.member_id IS NULL
  JOIN households h ON h.id = e.household_id
  WHERE r.status = 'active' AND {_LIVE}
) ORDER BY 3, 2, 1, 9
"""


def flagged_enrolments(store: Store) -> list[FlaggedEnrolment]:
    """Live enrolments covering a declared relative (one row per enrolment and declaration)."""
    out = []
    for row in store.conn.execute(FLAGGED_SQL):
        values = list(row)
        values[5] = mask_id(values[5])
        out.append(FlaggedEnrolment(*values))
    return out
