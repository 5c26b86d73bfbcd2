"""Household income against the standard (家庭收入核算): proposed eligibility and 补差.

The one place the calculation lives.  Inputs are the member incomes already recorded
(``members.income_*_fen``: each source per month) and what the clerk adds for the
household (刚性支出 items, support from obliged relatives living elsewhere); the rules
are data (``resources/income_rules.json``, example defaults to configure per county).

Arithmetic, all in integer fen, no float anywhere:

* **annual figures are authoritative**: every monthly item × 12; a source counted at
  ``count_percent`` is ``annual × percent // 100`` (a part fen is not counted);
* **deductions**: 就业成本 (``percent`` of each working member's wage income, rounded
  down, capped per person and year) and the 刚性支出 items (capped per item); income
  less deductions is never below 0;
* **per-capita income** is compared with the standard exactly: the household is
  below the standard when ``net < standard_year × persons`` (no per-capita rounding
  decides eligibility); 低保边缘 when ``net × 100 < standard_year × persons × edge_percent``;
* **补差** per month = (standard_year × persons − net) × covered ÷ (12 × persons), i.e.
  (standard − per-capita income) × 保障人口, rounded once at the end to ``round_fen``
  (100: whole yuan) half up (or up); the per-capita and monthly figures shown in the
  working are rounded half up to the fen for reading only.

>>> rules = {"count_percent": {"wage": 100}, "edge_percent": 150,
...          "employment_cost": {"label": "就业成本", "sources": ["wage"], "percent": 20,
...                              "cap_fen_per_person_year": 600000},
...          "rigid_expenses": [], "rounding": {"round_fen": 100, "mode": "half_up"}}
>>> c = compute([MemberIncome("王小明", {"wage": 100000})], persons=3, covered=3,
...             standard_year_fen=431000, rules=rules)
>>> c.eligibility, c.net_annual_fen, c.proposed_fen
('dibao', 960000, 27800)
>>> c.components
{'base': 27800, 'classified': 0}
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from ..resources import load_json
from . import dates, enrolment, standards
from .errors import MzError
from .money import format_fen
from .registry import Registry
from .store import Store
from .vocab import INCOME_SOURCES, vocab

ELIGIBILITY = {"dibao": "符合低保条件", "edge": "低保边缘家庭", "none": "不符合条件"}
# a fixed standard (特困 基本生活标准) is paid as it is: the income only says where it stands
FIXED_ELIGIBILITY = {"dibao": "收入低于标准", "edge": "收入高于标准", "none": "收入高于标准"}


class IncomeError(MzError):
    code = "bad_income_input"


def rules() -> dict:
    """The shipped rules (resources/income_rules.json)."""
    return load_json("income_rules.json")


@dataclass(frozen=True)
class MemberIncome:
    """One member's recorded incomes: source → fen per month (``members.income_*``)."""

    name: str
    income: dict[str, int]


@dataclass(frozen=True)
class Line:
    """One line of the working a clerk reads: its section, label and annual fen."""

    section: str  # income | deduction | result
    label: str
    annual_fen: int | None
    text: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Calculation:
    persons: int
    covered: int
    income_annual_fen: int
    deductions_annual_fen: int
    net_annual_fen: int
    standard_year_fen: int
    eligibility: str
    proposed_fen: int  # the proposed monthly 补差 (base component)
    mode: str  # topup (补差) | fixed (the standard is the amount)
    lines: list[Line] = field(default_factory=list)
    standard_label: str = ""

    @property
    def per_capita_month_fen(self) -> int:
        """For reading: net ÷ persons ÷ 12, half up to the fen."""
        return round_fen(self.net_annual_fen, 12 * self.persons, 1, "half_up")

    @property
    def components(self) -> dict[str, int]:
        """The proposal as the amount's parts (h-money's components: base, classified)."""
        return {"base": self.proposed_fen, "classified": 0}

    @property
    def eligibility_label(self) -> str:
        return (FIXED_ELIGIBILITY if self.mode == "fixed" else ELIGIBILITY)[self.eligibility]

    def working(self) -> list[str]:
        return [ln.text for ln in self.lines]

    def as_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "lines"}
        return {
            **d,
            "per_capita_month_fen": self.per_capita_month_fen,
            "eligibility_label": self.eligibility_label,
            "components": self.components,
            "working": self.working(),
            "lines": [ln.as_dict() for ln in self.lines],
        }

    def summary(self) -> dict:
        """What an event records of the calculation (the working is rebuilt from it)."""
        keys = (
            "persons covered income_annual_fen deductions_annual_fen net_annual_fen "
            "standard_year_fen eligibility proposed_fen mode"
        )
        return {k: getattr(self, k) for k in keys.split()}


def round_fen(num: int, den: int, step: int, mode: str) -> int:
    """``num / den`` fen rounded to a multiple of ``step`` fen (half up, or up), exactly.

    >>> round_fen(10, 4, 1, "half_up"), round_fen(10, 4, 1, "up"), round_fen(149, 1, 100, "half_up")
    (3, 3, 100)
    """
    if num <= 0:
        return 0
    unit = den * step
    k = -(-num // unit) if mode == "up" else (2 * num + unit) // (2 * unit)
    return k * step


def _yuan(fen: int) -> str:
    return f"{format_fen(fen)}元"


def _income_lines(
    members: list[MemberIncome], rules: dict, outside_support_fen_year: int
) -> tuple[int, list[Line]]:
    labels = vocab()["income"]
    pct = rules.get("count_percent", {})
    total, lines = 0, []
    for src in INCOME_SOURCES:
        monthly = sum(int(m.income.get(src, 0)) for m in members)
        if not monthly:
            continue
        annual = monthly * 12
        counted = annual * int(pct.get(src, 100)) // 100
        share = "" if counted == annual else f"，计入{pct.get(src, 100)}%"
        text = f"收入：{labels[src]} 月{_yuan(monthly)}×12 = 年{_yuan(annual)}{share}"
        lines.append(Line("income", labels[src], counted, text))
        total += counted
    if outside_support_fen_year:
        lines.append(
            Line(
                "income",
                "赡养费(户外义务人)",
                outside_support_fen_year,
                f"收入：户外赡(扶、抚)养义务人应给付 年{_yuan(outside_support_fen_year)}",
            )
        )
        total += outside_support_fen_year
    lines.append(Line("income", "收入合计", total, f"家庭年收入合计：{_yuan(total)}"))
    return total, lines


def _deduction_lines(
    members: list[MemberIncome], rules: dict, rigid: dict[str, int]
) -> tuple[int, list[Line]]:
    total, lines = 0, []
    emp = rules.get("employment_cost") or {}
    if emp:
        for m in members:
            wage = sum(int(m.income.get(s, 0)) for s in emp.get("sources", [])) * 12
            if not wage:
                continue
            cost = wage * int(emp.get("percent", 0)) // 100
            cap = emp.get("cap_fen_per_person_year")
            capped = "" if cap is None or cost <= cap else f"（上限{_yuan(int(cap))}）"
            cost = cost if cap is None else min(cost, int(cap))
            text = f"扣除：{emp['label']} {m.name} {_yuan(wage)}×{emp['percent']}% = {_yuan(cost)}{capped}"
            lines.append(Line("deduction", f"{emp['label']}（{m.name}）", cost, text))
            total += cost
    items = {i["code"]: i for i in rules.get("rigid_expenses", [])}
    for code, fen in rigid.items():
        if code not in items:
            raise IncomeError(
                f"未知的刚性支出项目：{code}；可用：{'、'.join(items) or '（未配置）'}"
            )
        if fen < 0:
            raise IncomeError(f"刚性支出金额不能为负：{items[code]['label']}")
        if not fen:
            continue
        cap = items[code].get("cap_fen_year")
        used = fen if cap is None else min(fen, int(cap))
        capped = "" if used == fen else f"（上限{_yuan(int(cap))}）"
        lines.append(
            Line(
                "deduction",
                items[code]["label"],
                used,
                f"扣除：刚性支出 {items[code]['label']} 年{_yuan(fen)}{capped}",
            )
        )
        total += used
    lines.append(Line("deduction", "扣除合计", total, f"扣除合计：{_yuan(total)}"))
    return total, lines


def compute(
    members: list[MemberIncome],
    persons: int,
    covered: int,
    standard_year_fen: int,
    rules: dict,
    rigid: dict[str, int] | None = None,
    outside_support_fen_year: int = 0,
    mode: str = "topup",
    standard_label: str = "",
) -> Calculation:
    """The calculation (pure: no database), with its working."""
    if persons < 1 or covered < 1 or covered > persons:
        raise IncomeError(f"家庭人口应至少1人，保障人口应在1至{persons}人之间")
    if standard_year_fen <= 0:
        raise IncomeError("保障标准必须大于0")
    if outside_support_fen_year < 0:
        raise IncomeError("赡养费金额不能为负")
    income, lines = _income_lines(members, rules, outside_support_fen_year)
    deductions, dlines = _deduction_lines(members, rules, rigid or {})
    lines += dlines
    net = max(0, income - deductions)
    line_total = standard_year_fen * persons
    edge = int(rules.get("edge_percent", 150))
    if net < line_total:
        eligibility = "dibao"
    elif net * 100 < line_total * edge:
        eligibility = "edge"
    else:
        eligibility = "none"
    rnd = rules.get("rounding", {})
    step, how = int(rnd.get("round_fen", 1)), rnd.get("mode", "half_up")
    std_month = round_fen(standard_year_fen, 12, 1, "half_up")
    per_capita = round_fen(net, 12 * persons, 1, "half_up")
    if mode == "fixed":
        proposed = round_fen(standard_year_fen * covered, 12, step, how)
    elif eligibility == "dibao":
        proposed = max(
            round_fen((line_total - net) * covered, 12 * persons, step, how),
            int(rules.get("min_topup_fen", 0)),
        )
    else:
        proposed = 0
    gap = std_month - per_capita  # negative: the income is above the standard
    lines += [
        Line(
            "result",
            "家庭净收入",
            net,
            f"家庭年净收入：{_yuan(income)} − {_yuan(deductions)} = {_yuan(net)}",
        ),
        Line(
            "result",
            "人均月收入",
            None,
            f"人均月收入：{_yuan(net)} ÷ {persons}人 ÷ 12 = {_yuan(per_capita)}",
        ),
        Line(
            "result",
            "保障标准",
            standard_year_fen,
            f"保障标准：{standard_label or _yuan(standard_year_fen) + '/人/年'}，"
            f"折合每人每月{_yuan(std_month)}",
        ),
        Line(
            "result",
            "差额",
            None,
            f"差额：{_yuan(std_month)} − {_yuan(per_capita)} = {_yuan(gap)}/人/月"
            f"（边缘线{edge}%）：{(FIXED_ELIGIBILITY if mode == 'fixed' else ELIGIBILITY)[eligibility]}",
        ),
        Line(
            "result",
            "补差",
            proposed * 12,
            (
                f"核定金额：标准{_yuan(std_month)}×{covered}人，按{_yuan(step)}取整 = 每月{_yuan(proposed)}"
                if mode == "fixed"
                else f"建议补差：差额×保障人口{covered}人，按{_yuan(step)}"
                f"{'向上' if how == 'up' else '四舍五入'}取整 = 每月{_yuan(proposed)}"
            ),
        ),
    ]
    return Calculation(
        persons,
        covered,
        income,
        deductions,
        net,
        standard_year_fen,
        eligibility,
        proposed,
        mode,
        lines,
        standard_label,
    )


def calculate(
    store: Store,
    household_id: int,
    category: str | None = None,
    month: dt.date | None = None,
    covered: int | None = None,
    rigid: dict[str, int] | None = None,
    outside_support_fen_year: int = 0,
) -> Calculation:
    """The calculation for a household from its recorded member incomes, against the
    standard of ``category`` (default: the 低保 of its area type) in ``month``."""
    h = Registry(store).get(household_id)
    living = [m for m in h.members if m.deceased_on is None]
    if not living:
        raise IncomeError("该家庭没有在世成员，无法核算收入")
    category = category or standards.dibao_category(h.area_type)
    if category not in standards.settings():
        standards.check_pair(store, category, h.area_type)  # refuses: says which ones have
    spec = standards.settings()[category]
    area = h.area_type if h.area_type in spec["areas"] else spec["areas"][0]
    month = standards.not_after((month or dates.current_day()).replace(day=1), 1, "核算月份")
    std = standards.required(store, category, area, month)
    if covered is None:
        covered = sum(1 for m in living if m.in_assistance) or 1
    return compute(
        [MemberIncome(m.name, dict(m.income)) for m in living],
        persons=len(living),
        covered=covered,
        standard_year_fen=std.annual_fen,
        rules=rules(),
        rigid=rigid,
        outside_support_fen_year=outside_support_fen_year,
        mode=spec["mode"],
        standard_label=std.label(),
    )


def adopt(
    store: Store,
    enrolment_id: int,
    calc: Calculation,
    amount_fen: int | None = None,
    reason: str = "",
    on: dt.date | None = None,
) -> enrolment.Enrolment:
    """Record the amount of an enrolment from ``calc``: before the notice as an amendment
    (调查中核定), when in payment as a review's change.  An amount other than the proposal
    is the clerk's override and needs a reason; the event keeps the calculation."""
    amount = calc.proposed_fen if amount_fen is None else amount_fen
    override = amount != calc.proposed_fen
    reason = (reason or "").strip()
    if override and not reason:
        raise IncomeError(
            f"金额{_yuan(amount)}与核算建议{_yuan(calc.proposed_fen)}不同（人工调整），必须填写原因",
            "override_reason_required",
        )
    extra = {"income_calc": {**calc.summary(), "override": override}}
    reason = reason or f"按收入核算：{calc.eligibility_label}，每月{_yuan(amount)}"
    e = enrolment.get(store, enrolment_id)
    if e.state == "active":
        return enrolment.review(
            store, e.id, "change", on, reason, monthly_fen=amount, covered=calc.covered, extra=extra
        )
    return enrolment.amend(
        store, e.id, covered=calc.covered, monthly_fen=amount, reason=reason, extra=extra
    )
