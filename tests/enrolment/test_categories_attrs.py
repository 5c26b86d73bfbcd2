"""Issue 21, categories and attributes, through the services: 低保边缘, 刚性支出困难, 单人保,
困境儿童, the 防返贫 flag, 特困 供养方式/照料人, self-care labels and the care amount, and the
statistics that count them (by_class, by_support, low_income)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from mzdesk.models import enrolment as enr
from mzdesk.models import selfcare, support
from mzdesk.models.errors import MzError, ValidationError
from mzdesk.models.household_flags import set_poverty_flag
from mzdesk.models.registry import Registry
from mzdesk.models.stats import registry_stats
from mzdesk.models.store import Store
from tests.enrolment.conftest import publicised
from tests.helpers import household, make_id

AFTER = dt.date(2026, 12, 8)
CARER = make_id("19700505", 7)


def active(store, household_id, **kw):
    e, _ = publicised(store, household_id, **kw)
    enr.submit(store, e.id, today=AFTER)
    return enr.confirm(store, e.id, today=dt.date(2026, 12, 15))


def head_id(h) -> int:
    return next(m.id for m in h.members if m.relation == "户主")


# -- self-care labels and the care amount ----------------------------------------------
@pytest.mark.parametrize(
    "label, code",
    [
        ("具备生活自理能力", "able"),
        ("自理", "able"),
        ("全自理", "able"),
        ("部分丧失生活自理能力", "partial"),
        ("半失能", "partial"),
        ("半护理", "partial"),
        ("完全丧失生活自理能力", "unable"),
        ("失能", "unable"),
        ("全护理", "unable"),
    ],
)
def test_every_accepted_label_is_one_level(label, code):
    assert selfcare.level_of(label) == code


def test_care_amount_by_level_from_the_configurable_table():
    assert [selfcare.care_fen(c) for c in ("able", "partial", "unable")] == [10000, 30000, 60000]
    own = {"able": 5000, "partial": 20000, "unable": 80000}  # a county's own figures
    assert selfcare.care_fen("半失能", table=own) == 20000
    with pytest.raises(MzError) as exc:
        selfcare.care_fen("能走路")
    assert exc.value.code == "bad_selfcare" and "部分丧失生活自理能力" in exc.value.message


def test_official_selfcare_wording_is_accepted_for_tekun(store, single):
    """The bug: 特困 refused 部分丧失生活自理能力 (its classes were only 全自理/半自理/全护理)."""
    pid = head_id(single)
    e = enr.create(store, single.id, "tekun", member_id=pid, cls="部分丧失生活自理能力")
    assert e.cls == "半自理"  # the category's own label for that level
    e = enr.amend(store, e.id, cls="完全丧失生活自理能力")
    assert e.cls == "全护理"
    with pytest.raises(MzError) as exc:
        enr.amend(store, e.id, cls="还行")
    assert exc.value.code == "bad_class"


# -- 特困 供养方式 ------------------------------------------------------------------------
def test_concentrated_support_needs_the_institution(store, single):
    e = enr.create(store, single.id, "tekun", member_id=head_id(single), cls="全自理")
    with pytest.raises(ValidationError) as exc:
        support.save(store, e.id, "集中")
    assert exc.value.problems[0].field == "institution"
    s = support.save(store, e.id, "集中供养", institution="青山镇敬老院")
    assert (s.mode, s.mode_label, s.institution) == ("concentrated", "集中", "青山镇敬老院")
    assert (s.level, s.level_label, s.care_fen) == ("able", "具备生活自理能力", 10000)


def test_dispersed_support_checks_the_carer(store, single):
    e = enr.create(store, single.id, "tekun", member_id=head_id(single), cls="半自理")
    bad = make_id("19700505", 7)[:-1] + ("0" if CARER[-1] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        support.save(store, e.id, "分散", carer_name="李照料", carer_id_number=bad)
    assert [p.code for p in exc.value.problems] == ["id_checksum"]
    with pytest.raises(ValidationError) as exc:
        support.save(
            store,
            e.id,
            "分散",
            carer_name="王老五",
            carer_id_number=make_id("19400101", 5),  # the person himself
            care_from="2026-12-01",
            care_to="2026-01-01",
        )
    assert {p.code for p in exc.value.problems} == {"carer_is_person", "date_before_step"}
    s = support.save(
        store,
        e.id,
        "分散",
        carer_name="李照料",
        carer_id_number=CARER.lower(),
        carer_phone="139 0000 0000",
        care_from="2026/12/1",
        care_to="2027年11月30日",
        institution="ignored for 分散",
    )
    assert (s.carer_id_number, s.carer_phone) == (CARER, "13900000000")
    assert (s.care_from, s.care_to, s.institution) == ("2026-12-01", "2027-11-30", "")
    assert s.care_fen == 30000
    # switching to 集中 clears the carer
    s = support.save(store, e.id, "集中", institution="县福利院")
    assert (s.carer_name, s.carer_id_number, s.care_from) == ("", "", None)


def test_level_changes_only_before_the_notice(store, single):
    e = active(
        store, single.id, category="tekun", member_id=head_id(single), fen=90000, cls="全自理"
    )
    with pytest.raises(MzError) as exc:
        support.save(store, e.id, "集中", institution="敬老院", level="失能")
    assert exc.value.code == "level_by_review"
    s = support.save(store, e.id, "集中", institution="敬老院", level="自理")  # unchanged: fine
    assert s.mode == "concentrated"
    enr.stop(store, e.id, today=dt.date(2026, 12, 20), reason="死亡")
    with pytest.raises(MzError) as exc:
        support.save(store, e.id, "分散", carer_name="李照料", carer_id_number=CARER)
    assert exc.value.code == "support_of_ended"
    assert support.get(store, e.id).institution == "敬老院"


def test_support_is_for_tekun_only(store, family):
    e = enr.create(store, family.id, "rural_dibao", cls="二类")
    with pytest.raises(MzError) as exc:
        support.save(store, e.id, "集中", institution="敬老院")
    assert exc.value.code == "not_support_category"
    s = support.get(store, e.id)  # reading shows that nothing applies
    assert (s.applies, s.mode, s.level, s.care_fen) == (False, "", None, None)


# -- 单人保, new categories, the flag -------------------------------------------------------
def test_single_person_dibao_for_a_seriously_ill_member(store, family):
    spouse = next(m for m in family.members if m.relation == "配偶")
    with pytest.raises(MzError) as exc:
        enr.create(store, family.id, "rural_dibao", member_id=spouse.id, cls="一类")
    assert exc.value.code == "single_not_qualified"
    spouse.health = "大病"
    family = Registry(store).save(family, today=dt.date(2026, 11, 23))
    e = enr.create(store, family.id, "rural_dibao", member_id=spouse.id, cls="一类")
    assert e.covered == 1
    with pytest.raises(MzError) as exc:  # 按户保 beside the 单人保 of the same category
        enr.create(store, family.id, "rural_dibao", cls="二类")
    assert exc.value.code == "single_and_household"
    with pytest.raises(MzError) as exc:  # a category without 单人保
        enr.create(store, family.id, "dibao_edge", member_id=spouse.id)
    assert exc.value.code == "single_not_allowed"


def test_edge_and_rigid_exclude_dibao_and_child_in_difficulty_is_paid(store, family):
    enr.create(store, family.id, "dibao_edge")
    for other in ("rural_dibao", "rigid_expense"):
        with pytest.raises(MzError) as exc:
            enr.create(store, family.id, other, cls="二类" if other == "rural_dibao" else "")
        assert exc.value.code == "excluded_category"
    child = next(m for m in family.members if m.relation == "孙子女")
    e = enr.create(store, family.id, "child_in_difficulty", member_id=child.id, monthly_fen=80000)
    assert e.monthly_fen == 80000


def test_poverty_flag_is_stored_and_refused_when_unknown(store, family):
    assert Registry(store).get(family.id).poverty_flag == ""
    assert set_poverty_flag(store, family.id, "防止返贫监测对象") == "monitored"
    assert Registry(store).get(family.id).poverty_flag == "monitored"
    assert set_poverty_flag(store, family.id, "无") == ""
    h = Registry(store).get(family.id)
    h.poverty_flag = "rich"
    with pytest.raises(ValidationError) as exc:
        Registry(store).save(h)
    assert exc.value.problems[0].field == "poverty_flag"


# -- statistics ------------------------------------------------------------------------
def test_stats_by_class_by_support_and_low_income(store, registry, family, single):
    other = registry.save(
        household("青山村", ("赵六", "户主", make_id("19380303", 9))), today=dt.date(2026, 11, 23)
    )
    active(store, family.id, fen=76000, cls="二类")  # 3 persons
    a = active(
        store, single.id, category="tekun", member_id=head_id(single), fen=90000, cls="全自理"
    )
    b = active(store, other.id, category="tekun", member_id=head_id(other), fen=95000, cls="全护理")
    support.save(store, a.id, "集中", institution="青山镇敬老院")
    support.save(store, b.id, "分散", carer_name="李照料", carer_id_number=CARER)
    data = registry_stats(store)
    tekun = data["active_enrolments"]["tekun"]
    assert {k: tekun[k] for k in ("households", "persons", "monthly_fen")} == {
        "households": 2,
        "persons": 2,
        "monthly_fen": 185000,
    }
    assert tekun["by_class"] == {"全护理": 1, "全自理": 1}
    assert tekun["by_support"] == {"集中": 1, "分散": 1}
    dibao = data["active_enrolments"]["rural_dibao"]
    assert dibao["by_class"] == {"二类": 3} and "by_support" not in dibao
    assert sum(dibao["by_class"].values()) == dibao["persons"]
    assert data["low_income"] == {"households": 3, "persons": 5}


def test_roster_import_reads_the_official_selfcare_wording(store, tmp_path):
    """A 特困 roster written in the 2021 rules' words imports (it was refused as an unknown
    class); each level lands on the category's own class label."""
    from openpyxl import Workbook

    from mzdesk.roster.importer import analyse, apply
    from tests.roster.books import household_per_row

    wb = Workbook()
    ws = wb.active
    ws.title = "特困供养"
    ws.append(["青山镇特困人员名单"])
    people = [
        ("红旗村", "张老大", make_id("19400101", 1), "具备生活自理能力", "720.00"),
        ("红旗村", "李老二", make_id("19420202", 3), "部分丧失生活自理能力", 950),
        ("向阳村", "王老三", make_id("19380303", 5), "失能", 1100),
    ]
    household_per_row(
        ws, people, headers=("村居", "姓名", "公民身份号码", "生活自理能力", "供养金")
    )
    path = tmp_path / "tekun.xlsx"
    wb.save(path)
    plan = analyse(store, path, today=dt.date(2026, 11, 23))
    assert plan.report()["problems"] == []
    apply(store, plan, today=dt.date(2026, 11, 23))
    classes = [r[0] for r in store.conn.execute("SELECT class FROM enrolments ORDER BY id")]
    assert classes == ["全自理", "半自理", "全护理"]


def test_a_version_14_database_upgrades_with_the_new_attributes_empty(tmp_path):
    """The last fixture before the model changes: its households have no flag, its
    enrolments no 供养方式; the flag can be set after the upgrade, the statistics count."""
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "schema_v14.sqlite"
    path = tmp_path / "v14.sqlite"
    shutil.copy(fixture, path)
    store = Store.open(path, operator="upgrader")
    assert store.scalar("SELECT count(*) FROM households WHERE poverty_flag != ''") == 0
    assert store.scalar("SELECT count(*) FROM enrolments WHERE support_mode != ''") == 0
    assert set_poverty_flag(store, 1, "脱贫人口") == "lifted"
    assert "by_class" in registry_stats(store)["active_enrolments"]["rural_dibao"]
    store.close()


def test_the_care_part_follows_the_level_before_the_notice(store, single):
    """The care table decides the 照料护理费 part when the level is set at application."""
    from mzdesk.models import components as comp
    from mzdesk.models.selfcare import care_fen

    e = enr.create(
        store, single.id, "tekun", member_id=head_id(single), monthly_fen=90000, cls="全自理"
    )
    support.save(store, e.id, "集中", institution="敬老院", level="完全丧失生活自理能力")
    parts = comp.in_force(store, e.id)
    assert parts["care"] == care_fen("失能") > 0
    assert parts["base"] == 90000  # the base part keeps its amount
    assert enr.get(store, e.id).monthly_fen == 90000 + care_fen("失能")
