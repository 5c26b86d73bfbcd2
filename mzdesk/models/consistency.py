"""One place for cross-checks between records: pre-fill and consistency warnings.

* ``booklet_prefill``: the booklet answers the records already know (户别 from the
  enrolments, 致困原因 from the household), so they are not typed twice;
* ``registered_values`` / ``differences``: what the register says beside each item of
  the home-visit checklist, and where a visit's figures differ from it;
* ``household_warnings`` / ``consistency_findings``: records that contradict each other
  (a disability certificate with health 健康, a 重度 subsidy with level 3–4 ...), shown in
  the GUI and reported by ``mzdesk check``.

Never a full ID number in a message: findings may be pasted into a report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .auth import require
from .enrolment import LIVE_STATES, for_household
from .household import Household
from .money import format_fen
from .registry import Registry
from .store import Store, new_uid
from .vocab import vocab

# enrolment category -> booklet 户别 option, first match wins (特困 before 低保)
_HOUSEHOLD_TYPE = (
    ("tekun", "特困供养户"),
    ("urban_dibao", "城市低保户"),
    ("rural_dibao", "农村低保户"),
)


@dataclass(frozen=True)
class Warning:
    code: str
    message: str
    member: str | None = None

    def text(self) -> str:
        return f"{self.member}：{self.message}" if self.member else self.message


def _live_categories(store: Store, household_id: int) -> list[str]:
    return [e.category for e in for_household(store, household_id) if e.state in LIVE_STATES]


def booklet_prefill(store: Store, household_id: int) -> dict:
    """Booklet answers taken from the records; only keys the records decide."""
    h = Registry(store).get(household_id)
    cats = set(_live_categories(store, household_id))
    out: dict = {}
    for code, label in _HOUSEHOLD_TYPE:
        if code in cats:
            out["household_type"] = label
            break
    else:
        if cats:
            out["household_type"] = "其他困难户"
    labels = vocab()["causes"]  # code -> 因病 ...
    causes = [labels[c] for c in h.causes if c in labels]
    if causes:
        out["causes"] = causes
    return out


def with_prefill(answers: dict, prefill: dict) -> dict:
    """``answers`` with the empty keys filled from ``prefill``; typed answers win."""
    out = dict(answers)
    for k, v in prefill.items():
        if out.get(k) in (None, "", []):
            out[k] = v
    return out


def _registered_income_fen(h: Household) -> int:
    return sum(sum(m.income.values()) for m in h.members if m.in_assistance)


def registered_values(store: Store, household_id: int) -> dict[str, str]:
    """checklist item key -> what the register says, as text for the clerk to compare."""
    h = Registry(store).get(household_id)
    members = [m for m in h.members if m.deceased_on is None]
    health = [
        f"{m.name}{m.health}" + (f"（残疾证{m.disability_level}级）" if m.disability_level else "")
        for m in members
        if m.health != "健康" or m.disability_cert
    ]
    housing = "、".join(
        x
        for x in (
            h.housing_tenure,
            h.housing_structure,
            f"{h.housing_area_m2}平方米" if h.housing_area_m2 else "",
            "危房" if h.dangerous_house else "",
        )
        if x
    )
    return {
        "members_match": f"{len(members)}人：" + "、".join(m.name for m in members),
        "housing": housing or "未登记",
        "vehicles": h.vehicles or "无",
        "income": f"月收入{format_fen(_registered_income_fen(h))}元",
        "savings": f"{format_fen(h.savings_fen)}元",
        "health": "、".join(health) or "全部健康",
        "employment": "、".join(f"{m.name}{m.occupation}" for m in members if m.occupation)
        or "未登记",
    }


def checklist_prefill(store: Store, household_id: int) -> dict:
    """Checklist figures taken from the register, to be confirmed or corrected on the visit."""
    h = Registry(store).get(household_id)
    out: dict = {}
    if h.housing_area_m2:
        out["housing_area"] = h.housing_area_m2
    if h.housing_structure:
        out["housing_structure"] = h.housing_structure
    if _registered_income_fen(h):  # nothing registered: left for the visit to fill
        out["monthly_income"] = _registered_income_fen(h)
    if h.savings_fen:
        out["savings_amount"] = h.savings_fen
    return out


def differences(store: Store, household_id: int, answers: dict) -> dict[str, str]:
    """checklist item key -> how the visit's figures differ from the register."""
    h = Registry(store).get(household_id)
    out: dict[str, str] = {}
    area = answers.get("housing_area")
    if area not in (None, "") and h.housing_area_m2 and int(area) != h.housing_area_m2:
        out["housing"] = f"住房面积登记{h.housing_area_m2}平方米，核查{area}平方米"
    struct = answers.get("housing_structure")
    if struct and h.housing_structure and struct != h.housing_structure:
        out["housing"] = f"房屋结构登记为{h.housing_structure}，核查为{struct}"
    income = answers.get("monthly_income")
    if income not in (None, "") and int(income) != _registered_income_fen(h):
        out["income"] = (
            f"月收入登记{format_fen(_registered_income_fen(h))}元，核查{format_fen(int(income))}元"
        )
    savings = answers.get("savings_amount")
    if savings not in (None, "") and int(savings) != h.savings_fen:
        out["savings"] = f"存款登记{format_fen(h.savings_fen)}元，申报{format_fen(int(savings))}元"
    return out


def household_warnings(
    store: Store, household_id: int, today: dt.date | None = None
) -> list[Warning]:
    """The rules below, for one household (registered members and live enrolments)."""
    h = Registry(store).get(household_id)
    return _warnings(h, store, today or dt.date.today())


def _warnings(h: Household, store: Store, today: dt.date) -> list[Warning]:
    out: list[Warning] = []
    live = [e for e in for_household(store, h.id or 0) if e.state in LIVE_STATES]
    by_member = {m.id: m for m in h.members}
    for m in h.members:
        if m.deceased_on is not None:
            continue
        if m.disability_cert and m.health == "健康":
            out.append(Warning("disabled_but_healthy", "持残疾证但健康状况登记为“健康”", m.name))
        if m.disability_level and not m.disability_cert:
            out.append(Warning("level_without_cert", "登记了残疾等级但没有残疾证号", m.name))
    for e in live:
        who = by_member.get(e.member_id)
        if e.category == "disability_care":
            if who is None:
                out.append(Warning("care_no_member", "重度残疾人护理补贴未指定享受成员"))
            elif who.disability_level not in (1, 2):
                lvl = f"{who.disability_level}级" if who.disability_level else "未登记等级"
                out.append(
                    Warning(
                        "care_not_severe", f"享受重度残疾人护理补贴，但残疾等级为{lvl}", who.name
                    )
                )
        if e.category == "disability_living" and who is not None and not who.disability_cert:
            out.append(
                Warning("living_no_cert", "享受困难残疾人生活补贴，但没有残疾证号", who.name)
            )
        if e.category == "elderly" and who is not None:
            age = who.age_on(today)
            if age is not None and age < 80:
                out.append(Warning("elderly_under_80", f"享受高龄津贴，但年龄为{age}岁", who.name))
        if e.category in ("orphan", "unsupported_child") and who is not None:
            age = who.age_on(today)
            if age is not None and age >= 18:
                out.append(Warning("child_over_18", f"享受儿童保障，但已满{age}岁", who.name))
    return out


def consistency_findings(store: Store, today: dt.date) -> list:
    """``mzdesk check``: the warnings of every active household, as findings."""
    from .checks import Finding  # checks imports this module's function list

    out = []
    for (hid,) in store.conn.execute(
        "SELECT id FROM households WHERE status = 'active' ORDER BY id"
    ).fetchall():
        for w in household_warnings(store, hid, today):
            out.append(Finding(w.code, w.message, hid, w.member))
    return out


def open_difference_tasks(store: Store, visit_id: int) -> int:
    """A follow-up task (核实) for each item where the saved visit differs from the
    register, once per item and visit; returns how many were opened."""
    from .visits import Visits

    require(store, "visit.edit")
    v = Visits(store).get(visit_id, with_photos=False)
    diffs = differences(store, v.household_id, v.answers)
    opened = 0
    with store.transaction():
        have = {
            r[0]
            for r in store.conn.execute(
                "SELECT item_key FROM followup_tasks WHERE visit_id = ?", (visit_id,)
            )
        }
        for key, detail in diffs.items():
            if key in have:
                continue
            row = {
                "uid": new_uid(),
                "household_id": v.household_id,
                "visit_id": visit_id,
                "item_key": key,
                "kind": "other",
                "title": f"核实与登记不一致：{CHECK_LABELS.get(key, key)}",
                "detail": f"{v.visit_date.isoformat()} 入户：{detail}",
                **store.stamp(new=True),
            }
            store.conn.execute(
                f"INSERT INTO followup_tasks ({', '.join(row)}) "
                f"VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
            opened += 1
    return opened


CHECK_LABELS = {
    "members_match": "家庭成员",
    "housing": "住房情况",
    "vehicles": "车辆情况",
    "income": "家庭收入",
    "savings": "存款",
    "health": "健康及残疾",
    "employment": "就业情况",
}
