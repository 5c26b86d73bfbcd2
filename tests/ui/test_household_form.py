"""The household form: one field table round-trips a household; the member detail's
problems are the form's own, never attributes stuck onto the Member."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtWidgets import QMessageBox

from mzdesk.models.household import Member
from mzdesk.models.registry import Registry
from mzdesk.ui.household_dialog import HouseholdDialog
from mzdesk.ui.household_fields import FIELDS
from tests.helpers import household, make_id

pytestmark = pytest.mark.gui

FULL = dict(
    village_group="三组",
    area_type="urban",
    address="东街 8 号",
    phone="13800001234",
    bank_name="农商银行",
    bank_account="623000001111",
    housing_tenure="rented",
    housing_structure="砖木",
    housing_area_m2=56,
    dangerous_house=True,
    savings_fen=300050,
    causes=["illness", "schooling"],
    notes="独居老人",
    poverty_flag="monitored",
)


OPEN: list[HouseholdDialog] = []


@pytest.fixture(autouse=True)
def discard_on_teardown(monkeypatch, store):  # store: torn down after this
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    yield
    while OPEN:  # no validation left pending against the closed test database
        OPEN.pop().hide()


def dialog(qtbot, store, **kw) -> HouseholdDialog:
    h = household("红旗村", ("张三丰", "户主", make_id("19600101", 11)), **kw)
    h.members.append(Member(name="王芳", relation="配偶", id_number=make_id("19620202", 12)))
    hid = Registry(store).save(h).id
    dlg = HouseholdDialog(store, hid)
    qtbot.addWidget(dlg)
    dlg.show()
    OPEN.append(dlg)
    return dlg


def test_the_field_table_covers_every_household_field_on_the_form(qtbot, store):
    dlg = dialog(qtbot, store, **FULL)
    keys = [f.key for f in FIELDS]
    assert len(keys) == len(set(keys))
    assert set(FULL) | {"village"} == set(keys)
    assert set(dlg.fields) == set(keys) - {"causes"}
    assert set(dlg.errors) == set(keys) - {"notes"}


def test_a_household_loads_and_collects_unchanged(qtbot, store):
    dlg = dialog(qtbot, store, **FULL)
    assert dlg.fields["savings_fen"].text() == "3000.50"
    assert dlg.fields["area_type"].currentText() == "城市"
    assert [c for c, cb in dlg.cause_boxes.items() if cb.isChecked()] == FULL["causes"]
    h = dlg.collect()
    assert {k: getattr(h, k) for k in FULL} == FULL
    assert h.village == "红旗村"


def test_an_empty_household_collects_its_defaults(qtbot, store):
    dlg = dialog(qtbot, store)
    h = dlg.collect()
    blank = household("红旗村")
    assert {k: getattr(h, k) for k in FULL} == {k: getattr(blank, k) for k in FULL}


def test_edits_are_collected_as_typed(qtbot, store):
    dlg = dialog(qtbot, store)
    dlg.fields["address"].setText("  西街 1 号 ")
    dlg.fields["phone"].setText(" 0557-1234 ")
    dlg.fields["housing_tenure"].setCurrentIndex(0)  # the blank choice
    dlg.fields["housing_area_m2"].setValue(0)
    dlg.cause_boxes["disability"].setChecked(True)
    h = dlg.collect()
    assert (h.address, h.phone, h.housing_tenure) == ("西街 1 号", " 0557-1234 ", "")
    assert h.housing_area_m2 is None and h.causes == ["disability"]


def test_a_bad_savings_amount_is_the_forms_problem_and_keeps_the_stored_value(qtbot, store):
    dlg = dialog(qtbot, store, savings_fen=100)
    dlg.fields["savings_fen"].setText("三千")
    assert dlg.collect().savings_fen == 100
    assert [p.field for p in dlg.validate_now()] == ["savings_fen"]


def test_member_detail_problems_stay_with_the_form(qtbot, store):
    dlg = dialog(qtbot, store)
    dlg.table.setCurrentCell(1, 0)
    dlg.detail.m_deceased.setText("2026-02-30")
    dlg.detail.m_deceased.textEdited.emit("2026-02-30")
    dlg.detail.m_income["wage"].setText("很多")
    dlg.detail.m_income["wage"].textEdited.emit("很多")
    problems = dlg.validate_now()
    assert sorted((p.field, p.row) for p in problems) == [("deceased_on", 1), ("income", 1)]
    assert "工资性收入" in dlg.detail.m_income_err.text()
    assert dlg.detail.m_deceased_err.text() == "日期格式应为 YYYY-MM-DD"
    fields = {f.name for f in dataclasses.fields(Member)}
    for m in dlg.members + dlg.collect().members:
        assert set(vars(m)) == fields  # nothing stuck onto the domain object
    dlg.detail.m_deceased.setText("")
    dlg.detail.m_deceased.textEdited.emit("")
    assert [(p.field, p.row) for p in dlg.validate_now()] == [("income", 1)]


def test_removing_a_member_takes_its_form_problems_away(qtbot, store, monkeypatch):
    dlg = dialog(qtbot, store)
    dlg.table.setCurrentCell(1, 0)
    dlg.detail.m_income["farm"].setText("x")
    dlg.detail.m_income["farm"].textEdited.emit("x")
    assert [(p.field, p.row) for p in dlg.validate_now()] == [("income", 1)]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dlg.remove_member()
    assert len(dlg.members) == 1
    assert dlg.validate_now() == []


def test_a_death_date_typed_as_on_a_visit_form_is_read(qtbot, store):
    """One date parser for forms, dialogs and the CLI: 2026/3/1 is a date everywhere."""
    dlg = dialog(qtbot, store)
    dlg.table.setCurrentCell(1, 0)
    for typed in ("2026/3/1", "2026年3月1日"):
        dlg.detail.m_deceased.setText(typed)
        dlg.detail.m_deceased.textEdited.emit(typed)
        assert "deceased_on" not in [p.field for p in dlg.validate_now()]
