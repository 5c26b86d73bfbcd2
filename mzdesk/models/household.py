"""Households (家庭) and their members (家庭成员): the records and their rules.

``validate_household`` is the one place the intake rules live; the GUI form,
the CLI and the importers all call it (through :class:`Registry`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from .dates import BIRTH_FLOOR
from .errors import FieldError
from .ids import normalise_id, normalise_phone, parse_disability_cert, parse_id
from .text import clean, collect
from .vocab import INCOME_SOURCES, vocab

HEAD = "户主"

# the household's free-text fields: (attribute, kind in text.LIMITS, label for messages)
_HOUSEHOLD_TEXT = (
    ("village", "village", "村(社区)"),
    ("village_group", "village", "组"),
    ("address", "address", "住址"),
    ("bank_name", "short", "开户银行"),
    ("housing_structure", "short", "住房结构"),
    ("vehicles", "short", "车辆情况"),
    ("commercial_property", "short", "经营性资产"),
    ("notes", "note", "备注"),
)

_PHONE = re.compile(r"^[0-9]{7,13}$")
_ACCOUNT = re.compile(r"^[0-9]{10,25}$")


@dataclass
class Member:
    """A person in a household.  ``id_number`` holds what was entered;
    :func:`validate_household` normalises it and derives gender and birth date."""

    name: str
    relation: str
    id_number: str = ""
    id_pending: bool = False  # 待核实: the number is kept as entered, not yet valid
    gender: str | None = None
    birth_date: dt.date | None = None
    in_assistance: bool = True
    in_register: bool = True
    health: str = "健康"
    disability_cert: str = ""
    disability_category: int | None = None
    disability_level: int | None = None
    labour_capacity: str = ""
    occupation: str = ""
    income: dict[str, int] = field(default_factory=dict)  # source -> fen per month
    special: list[str] = field(default_factory=list)
    deceased_on: dt.date | None = None
    id: int | None = None
    uid: str | None = None

    @property
    def is_head(self) -> bool:
        return self.relation == HEAD

    def age_on(self, day: dt.date) -> int | None:
        if not self.birth_date:
            return None
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))

    @property
    def income_total_fen(self) -> int:
        return sum(self.income.values())


@dataclass
class Household:
    """An assistance household: who lives together and shares income."""

    village: str
    members: list[Member] = field(default_factory=list)
    village_group: str = ""
    area_type: str = "rural"  # rural / urban: decides which 低保 standard applies
    address: str = ""
    phone: str = ""
    bank_name: str = ""
    bank_account: str = ""
    housing_tenure: str = ""
    housing_structure: str = ""
    housing_area_m2: int | None = None
    dangerous_house: bool = False
    vehicles: str = ""
    commercial_property: str = ""
    savings_fen: int = 0
    causes: list[str] = field(default_factory=list)
    notes: str = ""
    poverty_flag: str = ""  # 防止返贫监测对象 (monitored) / 脱贫人口 (lifted): vocab poverty_flag
    id: int | None = None
    uid: str | None = None
    rev: int = 0
    status: str = "active"

    @property
    def head(self) -> Member | None:
        heads = [m for m in self.members if m.is_head]
        return heads[0] if len(heads) == 1 else None


def validate_member(m: Member, row: int, today: dt.date) -> list[FieldError]:
    """Check one member and fill what the ID number tells (in place)."""
    problems: list[FieldError] = []

    def bad(fld: str, code: str, msg: str) -> None:
        problems.append(FieldError(fld, code, msg, row=row))

    # the text rule first (models/text.py): no control, zero-width or bidi character
    # is saved, whatever path the household came by
    m.name = collect(problems, "".join(clean(m.name).split()), "person_name", "姓名", "name", row)
    if not m.name:
        bad("name", "missing_required", "姓名必填")
    m.occupation = collect(problems, m.occupation, "short", "职业", "occupation", row)
    m.id_number = clean(m.id_number)
    m.disability_cert = clean(m.disability_cert)
    if m.relation not in vocab()["relation"]:
        bad("relation", "bad_relation", f"与户主关系无效: {m.relation!r}")
    raw = (m.id_number or "").strip()
    if not raw:
        if not m.id_pending:
            bad("id_number", "missing_required", "身份证号必填（暂无号码请勾选“待核实”）")
    else:
        try:
            info = parse_id(raw, today)
        except FieldError as exc:
            if m.id_pending:
                m.id_number = raw  # kept exactly as entered, flagged 待核实
            else:
                bad("id_number", exc.code, exc.message)
        else:
            m.id_number = info.number
            m.id_pending = False
            m.gender = info.gender
            m.birth_date = info.birth_date
    if m.disability_cert.strip():
        holder = m.id_number if not m.id_pending else None
        try:
            cert = parse_disability_cert(m.disability_cert, holder)
        except FieldError as exc:
            bad("disability_cert", exc.code, exc.message)
        else:
            m.disability_cert = cert.number
            m.disability_category = cert.category
            m.disability_level = cert.level
    else:
        m.disability_cert = ""
    for name, table in (("health", "health"), ("labour_capacity", "labour_capacity")):
        value = getattr(m, name)
        if value and value not in vocab()[table]:
            bad(name, f"bad_{name}", f"取值无效: {value!r}")
    for code in m.special:
        if code not in vocab()["special"]:
            bad("special", "bad_special", f"特殊身份无效: {code!r}")
    for src, fen in m.income.items():
        if src not in INCOME_SOURCES:
            bad("income", "bad_income_source", f"收入来源无效: {src!r}")
        elif not isinstance(fen, int) or fen < 0:
            bad("income", "bad_amount", f"收入金额无效: {fen!r}")
    if m.deceased_on:
        if m.deceased_on > today:
            bad("deceased_on", "bad_date", "死亡日期在未来")
        elif m.birth_date and m.deceased_on < m.birth_date:
            bad("deceased_on", "bad_date", "死亡日期早于出生日期")
        elif m.deceased_on < BIRTH_FLOOR:  # the floor of dates.RULES["deceased_on"]
            bad("deceased_on", "bad_date", f"死亡日期不能早于{BIRTH_FLOOR}")
    return problems


def validate_household(h: Household, today: dt.date | None = None) -> list[FieldError]:
    """Every intake rule on one household; normalises fields in place.

    Returns the problems (empty when the household may be saved).  The
    one-ID-one-household rule across the database is checked by the registry.
    """
    today = today or dt.date.today()
    problems: list[FieldError] = []
    for name, kind, label in _HOUSEHOLD_TEXT:
        setattr(h, name, collect(problems, getattr(h, name), kind, label, name))
    if not h.village:
        problems.append(FieldError("village", "missing_required", "村(社区)必填"))
    if h.area_type not in vocab()["area_type"]:
        problems.append(FieldError("area_type", "bad_area_type", "城乡类别无效"))
    h.phone = normalise_phone(h.phone)
    if h.phone and not _PHONE.match(h.phone):
        problems.append(FieldError("phone", "bad_phone", "电话号码应为7-13位数字"))
    h.bank_account = normalise_id(h.bank_account or "")
    if h.bank_account and not _ACCOUNT.match(h.bank_account):
        problems.append(FieldError("bank_account", "bad_account", "银行账号应为10-25位数字"))
    if h.housing_tenure and h.housing_tenure not in vocab()["housing_tenure"]:
        problems.append(FieldError("housing_tenure", "bad_housing", "住房情况无效"))
    for code in h.causes:
        if code not in vocab()["causes"]:
            problems.append(FieldError("causes", "bad_cause", f"致困原因无效: {code!r}"))
    if h.poverty_flag and h.poverty_flag not in vocab()["poverty_flag"]:
        flags = "、".join(vocab()["poverty_flag"].values())
        problems.append(
            FieldError("poverty_flag", "bad_poverty_flag", f"返贫监测标识应为{flags}或空")
        )
    if h.savings_fen < 0:
        problems.append(FieldError("savings_fen", "bad_amount", "存款不能为负"))
    if not h.members:
        problems.append(FieldError("members", "no_members", "家庭至少要有一名成员"))
    for i, m in enumerate(h.members):
        problems += validate_member(m, i, today)
    heads = [i for i, m in enumerate(h.members) if m.is_head]
    if h.members and len(heads) == 0:
        problems.append(FieldError("members", "no_head", "家庭必须有一名户主"))
    elif len(heads) > 1:
        problems.append(FieldError("relation", "two_heads", "一个家庭只能有一名户主", row=heads[1]))
    seen: dict[str, int] = {}
    for i, m in enumerate(h.members):
        if m.id_number and not m.id_pending:
            if m.id_number in seen:
                problems.append(
                    FieldError(
                        "id_number",
                        "id_duplicate_in_household",
                        f"与第{seen[m.id_number] + 1}名成员身份证号重复",
                        row=i,
                    )
                )
            seen.setdefault(m.id_number, i)
    return problems


def household_warnings(h: Household, today: dt.date | None = None) -> list[FieldError]:
    """Things to flag but not refuse (domain.md: a head under 16, a disabled
    person without a certificate, an ID still 待核实)."""
    today = today or dt.date.today()
    out = []
    head = h.head
    if head and head.birth_date and (head.age_on(today) or 0) < 16:
        out.append(FieldError("relation", "head_under_16", f"户主{head.name}未满16岁"))
    for i, m in enumerate(h.members):
        if m.id_pending:
            out.append(FieldError("id_number", "id_pending", f"{m.name}身份证号待核实", row=i))
        if m.health == "残疾" and not m.disability_cert:
            out.append(
                FieldError(
                    "disability_cert", "no_cert", f"{m.name}健康状况为残疾但无残疾人证", row=i
                )
            )
    return out
