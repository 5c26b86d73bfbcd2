"""Household income against the standard: the arithmetic, the working, adopting the
proposal (or overriding it with a reason) at application and at review, the CLI."""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as s

from mzdesk.cli import main
from mzdesk.models import enrolment as enr
from mzdesk.models import income
from mzdesk.models.errors import MzError
from mzdesk.models.vocab import INCOME_SOURCES
from tests.enrolment.conftest import ready

RULES = income.rules()
DEC = dt.date(2026, 12, 1)


def test_the_working_shows_incomes_deductions_per_capita_standard_and_gap():
    members = [
        income.MemberIncome("张三丰", {"wage": 150000, "support": 20000}),
        income.MemberIncome("李四妹", {"farm": 30000}),
    ]
    c = income.compute(
        members,
        persons=3,
        covered=3,
        standard_year_fen=431000,
        rules=RULES,
        rigid={"medical": 600000},
        outside_support_fen_year=120000,
    )
    # annual: (1500 + 200 + 300) × 12 = 24000 元 + 1200 元 support from outside
    assert c.income_annual_fen == 2_400_000 + 120_000
    # 就业成本 20% of 18000 元 = 3600 元; 刚性支出 6000 元
    assert c.deductions_annual_fen == 360_000 + 600_000
    assert c.net_annual_fen == 1_560_000
    # 15600 元 against 4310 × 3 = 12930 元: above the standard, below 150% (19395 元)
    text = "\n".join(c.working())
    for part in (
        "收入：工资性收入 月1500.00元×12 = 年18000.00元",
        "户外赡(扶、抚)养义务人",
        "扣除：就业成本 张三丰 18000.00元×20% = 3600.00元",
        "医疗支出",
        "人均月收入",
        "保障标准",
        "差额",
    ):
        assert part in text, part
    assert c.eligibility == "edge"
    assert c.proposed_fen == 0


def test_boundaries_exactly_at_the_standard_and_at_the_edge_line():
    one = {"count_percent": {}, "edge_percent": 150, "rounding": {"round_fen": 1}}

    def elig(monthly_fen: int) -> str:
        m = [income.MemberIncome("甲", {"pension": monthly_fen})]
        return income.compute(m, 1, 1, 600_000, one).eligibility

    assert elig(49_999) == "dibao"  # below 500 元/月
    assert elig(50_000) == "edge"  # exactly the standard: not below it
    assert elig(74_999) == "edge"
    assert elig(75_000) == "none"  # exactly 150%


def test_caps_and_unknown_items():
    rules = {
        **RULES,
        "rigid_expenses": [{"code": "medical", "label": "医疗", "cap_fen_year": 500000}],
    }
    m = [income.MemberIncome("甲", {"wage": 500000})]  # 5000 元/月: 就业成本 capped at 6000 元
    c = income.compute(m, 2, 2, 431000, rules, rigid={"medical": 900000})
    assert c.deductions_annual_fen == 600_000 + 500_000
    assert "（上限6000.00元）" in "\n".join(c.working())
    with pytest.raises(MzError, match="未知的刚性支出项目"):
        income.compute(m, 2, 2, 431000, rules, rigid={"car": 1})
    with pytest.raises(MzError, match="保障人口"):
        income.compute(m, 2, 3, 431000, rules)


def exact_topup(net: int, persons: int, covered: int, std_year: int, step: int, mode: str) -> int:
    value = Fraction(std_year * persons - net, 12 * persons) * covered / step
    if value <= 0:
        return 0
    k = -((-value.numerator) // value.denominator) if mode == "up" else int(value + Fraction(1, 2))
    return k * step


@settings(max_examples=300, deadline=None)
@given(
    incomes=s.lists(
        s.dictionaries(s.sampled_from(INCOME_SOURCES), s.integers(0, 1_000_000), max_size=4),
        min_size=1,
        max_size=6,
    ),
    std_year=s.integers(1, 2_000_000),
    covered_share=s.integers(1, 6),
    step=s.sampled_from([1, 10, 100]),
    mode=s.sampled_from(["half_up", "up"]),
    percent=s.integers(0, 100),
    rigid=s.integers(0, 3_000_000),
)
def test_arithmetic_is_exact_integer_fen(
    incomes, std_year, covered_share, step, mode, percent, rigid
):
    """Against exact fractions: annual ×12, percentages rounded down, one rounding at the end."""
    persons = len(incomes)
    covered = min(covered_share, persons)
    rules = {
        **RULES,
        "employment_cost": {
            "label": "就业成本",
            "sources": ["wage"],
            "percent": percent,
            "cap_fen_per_person_year": None,
        },
        "rounding": {"round_fen": step, "mode": mode},
    }
    members = [income.MemberIncome(f"m{i}", inc) for i, inc in enumerate(incomes)]
    c = income.compute(members, persons, covered, std_year, rules, rigid={"medical": rigid})
    gross = sum(v * 12 for inc in incomes for v in inc.values())
    emp = sum(inc.get("wage", 0) * 12 * percent // 100 for inc in incomes)
    net = max(0, gross - emp - rigid)
    assert (c.income_annual_fen, c.net_annual_fen) == (gross, net)
    per_capita = Fraction(net, persons)
    expected = (
        "dibao"
        if per_capita < std_year
        else "edge"
        if per_capita < std_year * Fraction(3, 2)
        else "none"
    )
    assert c.eligibility == expected
    want = exact_topup(net, persons, covered, std_year, step, mode) if expected == "dibao" else 0
    assert c.proposed_fen == want and isinstance(c.proposed_fen, int)
    assert all(isinstance(ln.annual_fen, int | None) for ln in c.lines)


def set_incomes(registry, household_id, **by_name):
    h = registry.get(household_id)
    for m in h.members:
        m.income = by_name.get(m.name, {})
    return registry.save(h, today=dt.date(2026, 11, 23))


def test_adopt_at_application_records_the_calculation(store, registry, family):
    set_incomes(registry, family.id, 张三丰={"farm": 60000})
    e = ready(store, family.id, fen=0)
    calc = income.calculate(store, family.id, month=DEC)
    # 600 元 × 12 = 7200 元 for 3 persons; (4310×3 − 7200) × 3 ÷ 36 = 477.5 → 478 元
    assert (calc.eligibility, calc.proposed_fen) == ("dibao", 47800)
    e = income.adopt(store, e.id, calc)
    assert e.monthly_fen == 47800
    last = enr.history(store, e.id)[-1]
    assert last["action"] == "amend" and last["monthly_fen"] == 47800
    assert last["detail"]["income_calc"]["override"] is False
    assert last["detail"]["income_calc"]["net_annual_fen"] == 720000


def test_an_override_needs_a_reason_which_the_event_keeps(store, registry, family):
    set_incomes(registry, family.id, 张三丰={"farm": 60000})
    e = ready(store, family.id, fen=0)
    calc = income.calculate(store, family.id, month=DEC)
    with pytest.raises(MzError, match="必须填写原因"):
        income.adopt(store, e.id, calc, amount_fen=50000)
    assert enr.get(store, e.id).monthly_fen == 0
    income.adopt(store, e.id, calc, amount_fen=50000, reason="因病支出未计入")
    last = enr.history(store, e.id)[-1]
    assert last["reason"] == "因病支出未计入" and last["detail"]["income_calc"]["override"] is True


def test_adopt_at_review_is_a_change_from_next_month(store, registry, family, clock):
    from tests.enrolment.test_checks import active

    clock(dt.date(2026, 12, 15))
    e = active(store, family.id)
    clock(dt.date(2027, 3, 10))
    set_incomes(registry, family.id, 张三丰={"wage": 100000})
    calc = income.calculate(store, family.id, month=dt.date(2027, 4, 1))
    e = income.adopt(store, e.id, calc, on=dt.date(2027, 3, 10))
    last = enr.history(store, e.id)[-1]
    assert (last["action"], last["detail"]["outcome"]) == ("review", "change")
    assert last["detail"]["old_fen"] == 76000 and e.monthly_fen == calc.proposed_fen


def run(capsys, *args, ok=True):
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert (code == 0) == ok, (code, out, err)
    return out if ok else err


def test_income_from_the_command_line(store, registry, family, capsys):
    set_incomes(registry, family.id, 张三丰={"farm": 60000})
    e = ready(store, family.id, fen=0)
    db = str(store.path)
    store.close()
    got = json.loads(
        run(
            capsys,
            "income",
            "show",
            str(family.id),
            "--db",
            db,
            "--month",
            "2026-12",
            "--rigid",
            "medical=1200",
            "--json",
        )
    )
    assert got["deductions_annual_fen"] == 120000 and got["eligibility"] == "dibao"
    assert any("医疗支出" in w for w in got["working"])
    err = run(capsys, "income", "adopt", str(e.id), "--db", db, "--amount", "500", ok=False)
    assert "必须填写原因" in err and len(err.strip().splitlines()) == 1
    out = run(capsys, "income", "adopt", str(e.id), "--db", db, "--month", "2026-12")
    assert "478.00 元/月" in out


def test_tekun_is_the_fixed_standard_whatever_the_income(store, registry, single):
    set_incomes(registry, single.id, 王老五={"pension": 15000})
    calc = income.calculate(store, single.id, category="tekun", month=DEC)
    # 5604 元/年 ÷ 12 = 467 元 for the one person, the income only shown
    assert (calc.mode, calc.proposed_fen, calc.eligibility_label) == (
        "fixed",
        46700,
        "收入低于标准",
    )
    assert any("核定金额：标准467.00元×1人" in w for w in calc.working())
