"""The county window's 重复享受 page over a county fed the townships' real batches."""

from __future__ import annotations

import shutil

import pytest
from openpyxl import load_workbook

from mzdesk.models.ids import mask_id
from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from mzdesk.ui.duplicates_page import SET_ASIDE, DuplicatesPage
from mzdesk.ui.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def county_store(county, tmp_path):
    _data, db = county
    shutil.copy(db, tmp_path / "c.sqlite")
    s = Store.open(tmp_path / "c.sqlite", operator="tester")
    yield s
    s.close()


def test_the_page_lists_every_claim_masked_and_exports(qtbot, county, county_store, tmp_path):
    data, _db = county
    page = DuplicatesPage(county_store)
    qtbot.addWidget(page)
    page.resize(1300, 700)
    assert page.table.rowCount() == 2 * len(data.duplicates)
    shown = {page.table.item(r, 1).text() for r in range(page.table.rowCount())}
    assert shown == {mask_id(i) for i in data.duplicates}
    states = [page.table.item(r, 7).text() for r in range(page.table.rowCount())]
    assert states.count(SET_ASIDE) == len(data.duplicates)
    assert f"共 {len(data.duplicates)} 人可能重复享受" in page.summary.text()
    page.grab().save(str(tmp_path / "duplicates.png"))
    out = page.export(str(tmp_path / "核查表"))
    assert out and out.endswith(".xlsx")
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert {r[1] for r in rows[2:]} == {mask_id(i) for i in data.duplicates}  # masked
    page.category.setCurrentIndex(page.category.findData("no_such"))  # -1: stays
    other = page.category.findText("特困人员救助供养")
    if other >= 0:
        page.category.setCurrentIndex(other)
        assert page.table.rowCount() <= 2 * len(data.duplicates)


def test_a_county_window_has_the_page_and_a_township_has_not(qtbot, county_store, store):
    win = MainWindow(county_store)
    qtbot.addWidget(win)
    titles = [win.tabs.tabText(i) for i in range(win.tabs.count())]
    assert "重复享受" in titles
    win.tabs.setCurrentIndex(titles.index("重复享受"))
    page = win.tabs.currentWidget()
    qtbot.waitUntil(
        lambda: page.findChild(DuplicatesPage) is not None or isinstance(page, DuplicatesPage)
    )
    town = MainWindow(store)
    qtbot.addWidget(town)
    assert "重复享受" not in [town.tabs.tabText(i) for i in range(town.tabs.count())]


def test_an_empty_county_says_so(qtbot, tmp_path):
    s = Store.open(tmp_path / "e.sqlite", operator="tester")
    init_site(s, "341623", "县民政局", "county")
    page = DuplicatesPage(s)
    qtbot.addWidget(page)
    assert page.table.rowCount() == 0 and "未发现重复享受" in page.summary.text()
    assert not page.xlsx_btn.isEnabled()
    s.close()


def test_the_county_statistics_page_goes_by_township(qtbot, county, county_store):
    import datetime as dt

    from mzdesk.ui.stats_dashboard import StatsDashboard

    data, _db = county
    page = StatsDashboard(county_store, month=dt.date.today().replace(day=1))
    qtbot.addWidget(page)
    assert page.table.horizontalHeaderItem(1).text() == "乡镇"
    shown = {page.table.item(r, 1).text() for r in range(page.table.rowCount())}
    assert {t["name"] for t in data.meta["townships"]} <= shown
    assert "按乡镇" in page.chart_title.text()


def test_at_a_province_the_page_names_township_and_county(qtbot, tmp_path):
    """Two counties forward to the province; one ID paid in a township of each."""
    from tests.sync.test_upward import plant_cross_county_duplicate, region

    r = region(tmp_path, forward=False, households=20)
    plant_cross_county_duplicate(r)
    for c in r.counties.values():
        r.province.import_(c.export(r.province))
    page = DuplicatesPage(r.province.store)
    qtbot.addWidget(page)
    page.resize(1300, 700)
    assert page.table.rowCount() == 2
    origins = [page.table.item(row, 3).text() for row in range(2)]
    assert origins == [
        "341623101镇（341623101），经341623县民政局转报",
        "341624101镇（341624101），经341624县民政局转报",
    ]
    assert "涉及 2 个站点" in page.summary.text()
    page.grab().save(str(tmp_path / "province-duplicates.png"))
