"""Where each capability plugs into the window: main-window pages and menu
entries, and tabs on the household form.  One list per place, so adding a
capability is one entry here and nothing in the window code.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from ..models.store import Store


def household_tabs(store: Store, household_id: int, parent: QWidget) -> list[tuple[str, QWidget]]:
    """Panels shown as tabs on the form of a saved household."""
    from .audit_view import AuditView
    from .enrolment_panel import EnrolmentPanel
    from .visits_panel import VisitsPanel

    return [
        ("救助保障", EnrolmentPanel(store, household_id, parent)),
        ("入户与跟进", VisitsPanel(store, household_id, parent)),
        ("操作记录", AuditView(store, parent, household_id=household_id)),
    ]


def install(window) -> None:
    """Add every capability's pages and menus to the main window.

    Pages are built on first show (imports included): start-up pays for none.
    """
    from ..models.site import REGION_ROLES, get_site

    store = window.store
    site = get_site(store)
    role = site.role if site else "township"

    def queues() -> QWidget:
        from .work_queues import WorkQueues

        w = WorkQueues(store, lazy=True)
        w.lazy_refresh = True  # built empty; the window's tab switch fills it
        w.householdActivated.connect(window.edit_household)
        return w

    def notices() -> QWidget:
        from .notice_builder import NoticeBuilder

        w = NoticeBuilder(store)
        w.published.connect(lambda _id: window.statusBar().showMessage("公示已生成", 5000))
        return w

    def review() -> QWidget:
        from .county_review import CountyReview

        return CountyReview(store)

    def calendar() -> QWidget:
        from .reviews_page import ReviewsPage

        w = ReviewsPage(store)
        w.householdActivated.connect(window.edit_household)
        return w

    def today() -> QWidget:
        from .visits_panel import TodayVisitsView

        return TodayVisitsView(store)

    def village_print() -> None:
        from .visits_panel import VillagePrintDialog

        VillagePrintDialog(store, window).exec()

    def admin_page(name: str):
        return _admin_factory(store, name)

    def assistance_cases() -> QWidget:
        from .cases_page import CasesPage

        return CasesPage(store)

    def stats() -> QWidget:
        from .stats_dashboard import StatsDashboard

        return StatsDashboard(store)

    def duplicates() -> QWidget:
        from .duplicates_page import DuplicatesPage

        return DuplicatesPage(store)

    def runs() -> QWidget:
        from .runs_page import RunsPage

        return RunsPage(store)

    def sync() -> QWidget:
        from .sync_page import SyncPage

        w = SyncPage(store)
        w.changed.connect(window.households.apply_filter)
        return w

    def roster_import() -> None:
        from .import_dialog import ImportDialog

        dlg = ImportDialog(store, window)
        dlg.imported.connect(
            lambda _r: (window.households.reload_villages(), window.households.apply_filter())
        )
        dlg.exec()

    def payment_export() -> None:
        from .payment_export import PaymentExportDialog

        PaymentExportDialog(store, window).exec()

    if role in REGION_ROLES:  # a city or province receives its counties' batches: it reads
        window.add_lazy_page("统计", stats)
        window.add_lazy_page("数据交换", sync)
        _install_admin(window)
        return
    pages = [("工作台", queues), ("公示", notices), ("审核确认", review)]
    if role == "county":  # the county's daily work is the review queue
        pages = [pages[2], pages[0]]
    for title, factory in pages:
        window.add_lazy_page(title, factory)
    window.add_lazy_page("今日入户", today)
    window.add_lazy_page("复核与核查", calendar)
    window.add_lazy_page("临时·医疗救助", assistance_cases)
    window.add_lazy_page("一次性发放", runs)
    window.add_lazy_page("统计", stats)
    if role not in ("township", "field"):  # a county and above: 重复享受 across its sites
        window.add_lazy_page("重复享受", duplicates)
    window.add_lazy_page("数据交换", sync)
    imp = QAction("导入花名册(Excel)…", window, shortcut="Ctrl+I")
    imp.triggered.connect(roster_import)
    window.file_menu.insertAction(window.act_demo, imp)
    pay = QAction("导出补贴清册(Excel)…", window)
    pay.triggered.connect(payment_export)
    window.file_menu.insertAction(window.act_demo, pay)
    visits_menu = window.add_menu("入户核查(&V)")
    act = QAction("按村批量打印核查表/关爱簿…", window)
    act.triggered.connect(village_print)
    visits_menu.addAction(act)
    spot = QAction("抽查(&S)…", window)
    spot.triggered.connect(lambda: window.open_page("抽查", admin_page("spotcheck")))
    visits_menu.addAction(spot)

    _install_admin(window)


def _install_admin(window) -> None:
    """The 管理 menu: accounts, the audit trail, backups, declarations, local categories."""
    store = window.store

    def admin_page(name: str):
        return _admin_factory(store, name)

    admin = window.add_menu("管理(&M)")
    for title, factory in (
        ("操作员", admin_page("operators")),
        ("操作记录", admin_page("audit")),
        ("备份与恢复", admin_page("backup")),
        ("近亲属备案", admin_page("relatives")),
        ("地方类别", admin_page("categories")),
    ):
        a = QAction(title, window)
        a.triggered.connect(lambda _=False, t=title, f=factory: window.open_page(t, f))
        admin.addAction(a)


def _admin_factory(store: Store, name: str):
    """The factory of one page of the 管理 menu (built on first show)."""

    def make() -> QWidget:
        if name == "operators":
            from .operators_page import OperatorsPage

            return OperatorsPage(store)
        if name == "audit":
            from .audit_view import AuditView

            return AuditView(store)
        if name == "categories":
            from .local_categories import LocalCategoriesPage

            return LocalCategoriesPage(store)
        if name == "spotcheck":
            from .spotcheck_page import SpotCheckPage

            return SpotCheckPage(store)
        if name == "relatives":
            from .relatives_page import RelativesPage

            return RelativesPage(store)
        from .backup_page import BackupPage

        return BackupPage(store)

    return make
