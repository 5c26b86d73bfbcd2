"""Every capability is reachable from the main window and the household form."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from mzdesk.models.demo import generate_demo
from mzdesk.ui.main_window import MainWindow

pytestmark = pytest.mark.gui

PAGES = [
    "家庭档案",
    "工作台",
    "公示",
    "审核确认",
    "今日入户",
    "复核与核查",
    "临时·医疗救助",
    "一次性发放",
    "统计",
    "数据交换",
]


@pytest.fixture
def window(qtbot, store, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    generate_demo(store, 60, seed=5)
    w = MainWindow(store)
    qtbot.addWidget(w)
    w.show()
    return w


def test_every_page_is_a_tab_and_builds_when_shown(window):
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles == PAGES
    for i, title in enumerate(titles):
        window.tabs.setCurrentIndex(i)
        page = window.page(title)
        assert page is not None and page.isVisible(), title
    # the work queues were filled when first shown (the demo has enrolments)
    queues = window.page("工作台")
    assert sum(len(rows) for rows in queues.rows.values()) > 0


def test_household_form_has_capability_tabs(qtbot, window):
    hid = window.households.model.household_id(0)
    dlg = window.edit_household(hid)
    qtbot.addWidget(dlg)
    tabs = [dlg.tabs.tabText(i) for i in range(dlg.tabs.count())]
    assert tabs == ["基本信息", "救助保障", "入户与跟进", "操作记录"]
    dlg.done(0)


def test_admin_pages_open_from_the_menu(window):
    menus = {a.text(): a.menu() for a in window.menuBar().actions() if a.menu()}
    admin = menus["管理(&M)"]
    for action in admin.actions():
        action.trigger()
        assert window.tabs.tabText(window.tabs.currentIndex()) == action.text()
    # menus sit before 帮助
    assert list(menus)[-1] == "帮助(&H)"


def test_payment_roster_export_from_the_dialog(qtbot, window, store, tmp_path):
    import datetime as dt

    import openpyxl
    from PySide6.QtCore import QDate

    from mzdesk.ui.payment_export import PaymentExportDialog

    month = dt.date.today().replace(day=1)
    dlg = PaymentExportDialog(store, window)
    qtbot.addWidget(dlg)
    dlg.month.setDate(QDate(month.year, month.month, 1))
    out = tmp_path / "清册.xlsx"
    dlg.path.setText(str(out))
    task = dlg.start()
    with qtbot.waitSignal(task.done, timeout=20000):
        pass
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames  # one sheet per category paid this month
    assert dlg.result_info


def test_payment_and_statistics_pages_offer_the_townships_own_categories(qtbot, store):
    from mzdesk.models.categories import add_local_category
    from mzdesk.ui.payment_export import PaymentExportDialog
    from mzdesk.ui.stats_dashboard import StatsDashboard

    add_local_category(store, "county_aid", "县困难群众补贴", unit="household")
    dlg = PaymentExportDialog(store)
    qtbot.addWidget(dlg)
    page = StatsDashboard(store)
    qtbot.addWidget(page)
    window = MainWindow(store)  # the household list's category filter
    qtbot.addWidget(window)
    for combo in (dlg.category, page.category, window.households.category):
        i = combo.findData("county_aid")
        assert i >= 0 and combo.itemText(i) == "县困难群众补贴"
        assert combo.findData("rural_dibao") >= 0


def test_household_list_names_the_townships_own_categories(qtbot, store):
    from mzdesk.models.categories import add_local_category
    from mzdesk.models.registry import Registry
    from mzdesk.ui.household_model import COLUMNS, HouseholdListModel
    from tests.helpers import household, make_id

    add_local_category(store, "county_aid", "县困难群众补贴", unit="household")
    hid = Registry(store).save(household("红旗村", ("张三", "户主", make_id("19600101", 1)))).id
    store.conn.execute(
        "INSERT INTO enrolments (uid, household_id, category, state, covered, monthly_fen, "
        "created_at, updated_at, created_by, updated_by) VALUES "
        "('e1', ?, 'county_aid', 'active', 1, 10000, 'x', 'x', 'x', 'x')",
        (hid,),
    )
    model = HouseholdListModel(store)
    model.reload()
    col = [key for _h, key, _s in COLUMNS].index("categories")
    assert model.data(model.index(0, col)) == "县困难群众补贴"  # was: county_aid
