"""The household list model fetches the list as the view scrolls (keyset pages), keeps
the selected household across a sort, and filters a county's list by township."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QTableView

from mzdesk.models.query import ListFilter, list_household_ids
from mzdesk.ui import household_model
from mzdesk.ui.household_model import COLUMNS, HouseholdListModel

STAMP = "2026-06-01 09:00:00"
SITES = [("341623101", "城关镇民政办"), ("341623102", "王人镇民政办")]
N = 1_234


def fill(store, n: int = N) -> None:
    """``n`` households in two townships (as a county holds them), ties in the sort keys."""
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO sync_sites (code, name, role, age_recipient, sign_key, fingerprint, "
            "since) VALUES (?, ?, 'township', '', '', '', ?)",
            [(code, name, STAMP) for code, name in SITES],
        )
        for i in range(1, n + 1):
            uid = f"h{i}"
            conn.execute(
                "INSERT INTO households (id, uid, village, village_group, head_name, head_py, "
                "member_count, phone, status, created_at, updated_at, created_by, updated_by) "
                "VALUES (?, ?, ?, '一组', ?, ?, ?, '', 'active', ?, ?, 't', 't')",
                (i, uid, ["红旗村", "新华村"][i % 2], f"户主{i}", f"py{i % 97:02d}", i % 5 + 1)
                + (STAMP, STAMP),
            )
            conn.execute(
                "INSERT INTO sync_base (peer, tbl, uid) VALUES (?, 'households', ?)",
                (SITES[i % 3 == 0][0], uid),
            )


def test_the_model_loads_a_page_then_more_as_the_view_scrolls(qapp, store):
    fill(store)
    model = HouseholdListModel(store)
    model.reload(ListFilter(sort="head"))
    assert model.total == N
    assert model.rowCount() == household_model.FETCH < N  # not the whole list
    assert model.canFetchMore()
    view = QTableView()
    view.setModel(model)
    view.resize(800, 400)
    view.show()
    view.scrollToBottom()  # the view asks for more at the bottom
    qapp.processEvents()
    assert model.rowCount() > household_model.FETCH
    while model.canFetchMore():
        model.fetchMore()
    assert model.ids == list_household_ids(store, ListFilter(sort="head"))
    col = [key for _h, key, _s in COLUMNS].index("head_name")
    last = model.rowCount() - 1
    assert model.data(model.index(last, col)) == f"户主{model.ids[last]}"


def test_row_of_a_household_far_down_loads_down_to_it(qapp, store):
    fill(store)
    model = HouseholdListModel(store)
    model.reload(ListFilter(sort="head", descending=True))
    everything = list_household_ids(store, model.filter)
    far = everything[1_100]
    assert far not in model.ids
    assert model.row_of(far) == 1_100
    assert model.household_id(1_100) == far
    assert model.ids == everything[: model.rowCount()]
    assert model.row_of(10**9) is None  # not in the list


def test_sorting_keeps_the_selected_household_selected(qapp, store):
    fill(store)
    model = HouseholdListModel(store)
    model.reload(ListFilter(sort="id"))
    view = QTableView()
    view.setModel(model)
    chosen = model.household_id(3)
    view.selectionModel().setCurrentIndex(
        model.index(3, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    for column, order in ((1, Qt.SortOrder.AscendingOrder), (6, Qt.SortOrder.DescendingOrder)):
        model.sort(column, order)
        row = view.currentIndex().row()
        assert model.household_id(row) == chosen
        assert model.ids == list_household_ids(store, model.filter)[: model.rowCount()]
        assert [i.row() for i in view.selectionModel().selectedRows()] == [row]


def test_the_county_list_filters_by_township(qtbot, store):
    from mzdesk.ui.main_window import MainWindow

    fill(store, 300)
    window = MainWindow(store)
    qtbot.addWidget(window)
    page = window.households
    assert [page.township.itemText(i) for i in range(page.township.count())] == [
        "全部乡镇",
        "城关镇民政办",
        "王人镇民政办",
    ]
    page.township.setCurrentIndex(2)
    model = page.model
    assert model.total == 100 and model.rowCount() == 100
    assert all(model.household_id(r) % 3 == 0 for r in range(100))
    assert "共 100 户" in window.count_label.text()


def test_a_township_has_no_township_filter(qtbot, store):
    from mzdesk.ui.main_window import MainWindow

    window = MainWindow(store)
    qtbot.addWidget(window)
    assert window.households.township.isHidden()


def test_a_count_taken_from_the_enrolments_says_about(qtbot, store, monkeypatch):
    """A whole-county category is counted from the enrolments' index (models/paging.py):
    the status bar says 共约 for it, and 共 for a count made household by household."""
    from mzdesk.models import paging
    from mzdesk.ui.main_window import MainWindow

    fill(store, 50)
    with store.transaction() as conn:
        for hid in range(1, 11):
            conn.execute(
                "INSERT INTO enrolments (uid, household_id, category, state, created_at, "
                "updated_at, created_by, updated_by) VALUES (?, ?, 'rural_dibao', 'active', "
                "?, ?, 't', 't')",
                (f"e{hid}", hid, STAMP, STAMP),
            )
    monkeypatch.setattr(paging, "SELECTIVE_MAX", 5)  # ten households: "many" here
    window = MainWindow(store)
    qtbot.addWidget(window)
    page = window.households
    page.category.setCurrentIndex(page.category.findData("rural_dibao"))
    assert page.model.total == 10 and page.model.plan.estimated
    assert window.count_label.text() == "共约 10 户"
    page.status.setCurrentIndex(page.status.findData("all"))  # exact under 全部状态
    assert window.count_label.text() == "共 10 户"
    page.category.setCurrentIndex(0)
    assert window.count_label.text() == "共 50 户"
