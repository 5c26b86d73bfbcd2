"""Main window: the household list with find-as-you-type search and filters.

Widgets hold no SQL: the list model and the dialogs call ``mzdesk.models``.
Pages of other capabilities (enrolments, notices, visits, rosters, sync ...)
are added as tabs with :meth:`MainWindow.add_page`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..models import auth
from ..models.categories import categories
from ..models.errors import MzError
from ..models.paging import townships
from ..models.query import ListFilter, count_text, household_count, villages
from ..models.registry import Registry
from ..models.site import ROLES, get_site
from ..models.store import Store
from . import ops
from .household_dialog import HouseholdDialog
from .household_model import HouseholdListModel
from .screen_fit import fit_to_screen, largest


def settings() -> QSettings:
    """The window's own settings (sizes): an ini file in the user's config folder."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "mzdesk", "mzdesk")


def window_title(site) -> str:
    """The title without the program's name: the window system adds the application's
    display name (民政桌面) itself, so it would read twice."""
    if not site:
        return ""
    return f"{site.name}（{ROLES.get(site.role, site.role)}）"


class HouseholdListPage(QWidget):
    """Search box, filters and the lazily fetched household table."""

    open_household = Signal(int)
    count_changed = Signal(int)

    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self.store = store
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText(
            "查找：姓名、拼音首字母(zsf)或全拼、身份证号片段、电话  (Ctrl+F)"
        )
        self.search.setClearButtonEnabled(True)
        self.village = QComboBox()
        self.township = QComboBox()  # at a county: the township a household came from
        self.township.addItem("全部乡镇", None)
        for code, name in townships(store):
            self.township.addItem(name, code)
        self.category = QComboBox()
        self.status = QComboBox()
        for text, code in (("在册", "active"), ("已注销", "deleted"), ("全部状态", "all")):
            self.status.addItem(text, code)
        self.category.addItem("全部类别", None)
        self.category.addItem("无保障", "none")
        for code, cat in categories(store).items():  # the township's own too
            self.category.addItem(cat["name"], code)
        self.new_btn = QPushButton("新建家庭 (Ctrl+N)")
        bar.addWidget(self.search, 3)
        if self.township.count() > 1:
            bar.addWidget(QLabel("乡镇"))
            bar.addWidget(self.township, 1)
        else:
            self.township.hide()
        bar.addWidget(QLabel("村(社区)"))
        bar.addWidget(self.village, 1)
        bar.addWidget(QLabel("类别"))
        bar.addWidget(self.category, 1)
        bar.addWidget(self.status)
        bar.addWidget(self.new_btn)
        layout.addLayout(bar)

        self.model = HouseholdListModel(store, self)
        self.view = QTableView()
        # sorting is switched on before the model is set, so that the first load is
        # the one apply_filter() makes (not a sort of 100k rows and then a reload)
        self.view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.horizontalHeader().setStretchLastSection(True)
        for i, width in enumerate((70, 90, 170, 110, 70, 50, 50, 160, 110, 60)):
            self.view.setColumnWidth(i, width)
        self.view.doubleClicked.connect(self._activated)
        layout.addWidget(self.view, 1)

        self._search_timer = QTimer(self, singleShot=True, interval=60)
        self._search_timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._open_first)
        for box in (self.township, self.village, self.category, self.status):
            box.currentIndexChanged.connect(lambda _i: self.apply_filter())
        QShortcut(
            QKeySequence(Qt.Key.Key_Return),
            self.view,
            activated=self._open_current,
            context=Qt.ShortcutContext.WidgetShortcut,
        )
        QShortcut(
            QKeySequence(Qt.Key.Key_Enter),
            self.view,
            activated=self._open_current,
            context=Qt.ShortcutContext.WidgetShortcut,
        )
        self.reload_villages()

    def reload_villages(self) -> None:
        current = self.village.currentData()
        self.village.blockSignals(True)
        self.village.clear()
        self.village.addItem("全部村(社区)", None)
        for v in villages(self.store):
            self.village.addItem(v, v)
        i = self.village.findData(current)
        self.village.setCurrentIndex(max(i, 0))
        self.village.blockSignals(False)

    def current_filter(self) -> ListFilter:
        old = self.model.filter
        return ListFilter(
            text=self.search.text(),
            village=self.village.currentData(),
            site=self.township.currentData(),
            category=self.category.currentData(),
            status=self.status.currentData(),
            sort=old.sort,
            descending=old.descending,
        )

    def apply_filter(self) -> None:
        self._search_timer.stop()
        self.model.reload(self.current_filter())
        self.count_changed.emit(self.model.total)
        if self.model.rowCount():
            self.select_row(0)

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.view.scrollTo(index)

    def select_household(self, household_id: int) -> bool:
        row = self.model.row_of(household_id)
        if row is None:
            return False
        self.select_row(row)
        return True

    def current_household_id(self) -> int | None:
        index = self.view.currentIndex()
        return self.model.household_id(index.row()) if index.isValid() else None

    def _activated(self, index) -> None:
        hid = self.model.household_id(index.row())
        if hid is not None:
            self.open_household.emit(hid)

    def _open_current(self) -> None:
        hid = self.current_household_id()
        if hid is not None:
            self.open_household.emit(hid)

    def _open_first(self) -> None:
        self._search_timer.stop()
        self.apply_filter()
        if self.model.total == 1:
            self.open_household.emit(self.model.household_id(0))
        else:
            self.view.setFocus()


class LazyPage(QWidget):
    """A tab's placeholder: ``factory()`` builds the page the first time it is shown."""

    def __init__(self, factory: Callable[[], QWidget]):
        super().__init__()
        QVBoxLayout(self).setContentsMargins(0, 0, 0, 0)
        self.factory = factory
        self.page: QWidget | None = None


class MainWindow(QMainWindow):
    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self.store = store
        self.registry = Registry(store)
        self._tasks: list = []
        self._closing: QProgressDialog | None = None  # waiting for background work to end
        site = get_site(store)
        self.setWindowTitle(window_title(site))
        self._restore_size()

        self.tabs = QTabWidget()
        self.households = HouseholdListPage(store)
        self.tabs.addTab(self.households, "家庭档案")
        self.tabs.currentChanged.connect(self._tab_shown)
        self.setCentralWidget(self.tabs)
        self.count_label = QLabel("")
        self.statusBar().addPermanentWidget(self.count_label)
        if site:
            self.statusBar().addPermanentWidget(QLabel(f"{site.code} {site.name}"))
        self.statusBar().addPermanentWidget(QLabel(f"操作员：{auth.display_name(store)}"))

        self.households.open_household.connect(self.edit_household)
        self.households.count_changed.connect(self._show_count)
        self.households.new_btn.clicked.connect(self.new_household)
        self._build_menus()
        from .pages import install

        install(self)
        self.households.apply_filter()
        self.households.search.setFocus()

    def _restore_size(self) -> None:
        """The size the clerk left it at, else the whole available screen; never larger."""
        saved = settings().value("main_window/size")
        size = saved if isinstance(saved, QSize) and saved.isValid() else largest(self)
        fit_to_screen(self, size)
        if settings().value("main_window/maximized") in (True, "true"):
            self.setWindowState(self.windowState() | Qt.WindowState.WindowMaximized)

    def _remember_size(self) -> None:
        s = settings()
        s.setValue("main_window/maximized", self.isMaximized())
        if not self.isMaximized():
            s.setValue("main_window/size", self.size())
        s.sync()

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = self.file_menu = menu.addMenu("文件(&F)")
        self.act_new = QAction("新建家庭(&N)", self, shortcut=QKeySequence("Ctrl+N"))
        self.act_new.triggered.connect(self.new_household)
        file_menu.addAction(self.act_new)
        self.act_demo = QAction("加载演示数据(&D)…", self)
        self.act_demo.triggered.connect(self.load_demo)
        file_menu.addAction(self.act_demo)
        self.act_reader = QAction("身份证读卡器设置(&R)…", self)
        self.act_reader.triggered.connect(self.open_reader_settings)
        file_menu.addAction(self.act_reader)
        file_menu.addSeparator()
        act_quit = QAction("退出(&Q)", self, shortcut=QKeySequence("Ctrl+Q"))
        act_quit.triggered.connect(self.close)
        file_menu.addAction(act_quit)

        hh = menu.addMenu("家庭(&J)")
        self.act_edit = QAction("打开/编辑(&E)", self)
        self.act_edit.triggered.connect(self._edit_current)
        hh.addAction(self.act_edit)
        self.act_delete = QAction("注销家庭(&X)…", self, shortcut=QKeySequence("Ctrl+Delete"))
        self.act_delete.triggered.connect(self.delete_current)
        hh.addAction(self.act_delete)
        act_find = QAction("查找(&F)", self, shortcut=QKeySequence("Ctrl+F"))
        act_find.triggered.connect(self._focus_search)
        hh.addAction(act_find)
        self.pages_menu = menu.addMenu("业务(&B)")
        self.pages_menu.menuAction().setVisible(False)

        help_menu = self.help_menu = menu.addMenu("帮助(&H)")
        about = QAction("关于民政桌面", self)
        about.triggered.connect(
            lambda: QMessageBox.about(
                self,
                "关于民政桌面",
                f"民政桌面 mzdesk {__version__}\n乡镇民政办离线业务系统\n数据库：{self.store.path}",
            )
        )
        help_menu.addAction(about)

    def open_reader_settings(self):
        """The ID-card reader's settings (ui/idcard_settings.py) in a small window."""
        from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout

        from .idcard_settings import IdCardSettings

        dlg = QDialog(self)
        dlg.setWindowTitle("身份证读卡器设置")
        box = QVBoxLayout(dlg)
        dlg.settings = IdCardSettings(dlg)
        box.addWidget(dlg.settings)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(dlg.reject)
        box.addWidget(buttons)
        dlg.open()
        return dlg

    def add_menu(self, title: str):
        """A capability's own menu, placed before 帮助."""
        from PySide6.QtWidgets import QMenu

        m = QMenu(title, self)
        self.menuBar().insertMenu(self.help_menu.menuAction(), m)
        return m

    def add_page(self, title: str, widget: QWidget) -> None:
        """Add a capability's page as a tab (and a menu entry to reach it)."""
        self.tabs.addTab(widget, title)
        act = QAction(title, self)
        act.triggered.connect(lambda: self.tabs.setCurrentWidget(widget))
        self.pages_menu.addAction(act)
        self.pages_menu.menuAction().setVisible(True)

    def add_lazy_page(self, title: str, factory) -> None:
        """A page built the first time it is shown, so that start-up stays fast."""
        holder = LazyPage(factory)
        holder.setProperty("mz_title", title)
        self.add_page(title, holder)

    def page(self, title: str) -> QWidget | None:
        """The widget of a page by its tab title (building a lazy page now)."""
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i) == title:
                w = self.tabs.widget(i)
                return self._materialise(w)
        return None

    @staticmethod
    def _materialise(w: QWidget) -> QWidget:
        if not isinstance(w, LazyPage):
            return w
        if w.page is None:
            w.page = w.factory()
            w.layout().addWidget(w.page)
            w.page.show()  # a child added after its parent was shown starts hidden
        return w.page

    def open_page(self, title: str, factory) -> QWidget:
        """Show a page made on first use (admin pages), as a closable tab."""
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i) == title:
                self.tabs.setCurrentIndex(i)
                return self.tabs.widget(i)
        widget = factory()
        self.tabs.setCurrentIndex(self.tabs.addTab(widget, title))
        return widget

    def _tab_shown(self, index: int) -> None:
        """Pages show what the database holds now (others may have changed it)."""
        widget = self.tabs.widget(index)
        if widget is None:
            return
        if isinstance(widget, LazyPage):
            fresh = widget.page is None
            widget = self._materialise(widget)
            if fresh and not getattr(widget, "lazy_refresh", False):
                return  # just built: already shows the current data
        refresh = getattr(widget, "refresh", None) or getattr(widget, "reload", None)
        if widget is not self.households and callable(refresh):
            refresh()

    # ------------------------------------------------------------------ actions
    def _focus_search(self) -> None:
        self.tabs.setCurrentWidget(self.households)
        self.households.search.setFocus()
        self.households.search.selectAll()

    def _show_count(self, n: int) -> None:
        plan = self.households.model.plan
        estimated = plan is not None and plan.estimated
        self.count_label.setText(
            count_text(self.store, n, self.households.search.text(), estimated)
        )

    def _edit_current(self) -> None:
        hid = self.households.current_household_id()
        if hid is not None:
            self.edit_household(hid)

    def new_household(self) -> HouseholdDialog:
        return self._open_dialog(None)

    def edit_household(self, household_id: int) -> HouseholdDialog:
        return self._open_dialog(household_id)

    def _open_dialog(self, household_id: int | None) -> HouseholdDialog:
        try:
            dlg = HouseholdDialog(self.store, household_id, self)
        except MzError as exc:  # shown, then raised: the caller gets no dialog to use
            ops.show_error(self, "无法打开", exc)
            raise
        if household_id is not None:
            from .pages import household_tabs

            for title, panel in household_tabs(self.store, household_id, dlg):
                dlg.add_tab(title, panel)
        dlg.saved.connect(self._after_save)
        dlg.setModal(True)
        dlg.show()
        self.dialog = dlg
        return dlg

    def _after_save(self, household_id: int) -> None:
        page = self.households
        page.reload_villages()
        page.apply_filter()
        if not page.select_household(household_id):
            # not in the current filter: show it anyway by clearing the search
            page.search.blockSignals(True)
            page.search.clear()
            page.search.blockSignals(False)
            page.apply_filter()
            page.select_household(household_id)
        self.statusBar().showMessage(f"已保存家庭 {household_id}", 5000)

    def delete_current(self):
        hid = self.households.current_household_id()
        if hid is None:
            return
        h = self.registry.get(hid)
        if h.status != "active":
            QMessageBox.information(self, "注销家庭", "该家庭已注销。")
            return
        blocker = self.registry.delete_blocker(hid)
        if blocker:  # said before the reason is asked for
            ops.show_error(self, "无法注销", blocker)
            return
        from .deregister import deregister_dialog

        return deregister_dialog(self, self.registry, h, self._after_delete)

    def _after_delete(self, household_id: int) -> None:
        self.households.apply_filter()
        self.statusBar().showMessage(f"已注销家庭 {household_id}", 5000)

    def load_demo(self) -> None:
        n, ok = QInputDialog.getInt(
            self, "加载演示数据", "添加多少户演示家庭？", 2000, 1, 200000, 500
        )
        if ok:
            self.run_demo(n)

    def run_demo(self, n: int, seed: int | None = None):
        from ..models.demo import generate_demo
        from .worker import run_with_progress

        if seed is None:
            seed = household_count(self.store) + 1

        def job(store, progress, cancel):
            return len(generate_demo(store, n, seed=seed, progress=progress, cancel=cancel))

        def done(count):
            self.households.reload_villages()
            self.households.apply_filter()
            self.statusBar().showMessage(f"已添加 {count} 户演示家庭", 5000)

        task = run_with_progress(self, "正在生成演示数据…", self.store, job, on_done=done)
        self._tasks.append(task)
        return task

    def closeEvent(self, event) -> None:
        """Background work is cancelled and waited for before the window closes.

        A job that cannot be cancelled (a backup) is let finish under a notice,
        and the window then closes by itself.
        """
        from .worker import stop_tasks

        left = stop_tasks(wait_ms=300)
        if not left:
            if self._closing is not None:
                self._closing.close()
                self._closing = None
            self._remember_size()
            super().closeEvent(event)
            return
        event.ignore()
        if self._closing is not None:
            return
        names = "、".join(dict.fromkeys(t.title.rstrip("…") for t in left))
        dlg = QProgressDialog(
            f"正在完成后台任务：{names}\n完成后窗口自动关闭，请稍候。", "", 0, 0, self
        )
        dlg.setCancelButton(None)
        dlg.setWindowTitle("正在关闭")
        dlg.setWindowModality(Qt.WindowModality.ApplicationModal)
        dlg.setMinimumDuration(0)
        dlg.show()
        self._closing = dlg
        for t in left:
            for sig in (t.done, t.error, t.cancelled):
                sig.connect(self._close_when_idle)

    def _close_when_idle(self, *_args) -> None:
        from .worker import running_tasks

        if not running_tasks():
            QTimer.singleShot(0, self.close)
