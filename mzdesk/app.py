"""The GUI entry point: open (or on first start create) the database, show the window.

First start with no database: a short dialog asks for the site (code, name,
role) and offers to load a demo township, which is generated in a worker
thread with a progress bar.

``MZDESK_BENCH_STARTUP=1``: once the main window is shown and its first page
of households painted, print ``startup_ms=<ms> rss_mb=<MB>`` and exit 0
(``bench/bench_core.py`` uses it).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTimer, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QVBoxLayout,
)

from . import STARTED
from .models.errors import MzError
from .models.site import REGION_ROLES, ROLES, get_site, init_site, validate_site
from .models.store import Store, require_writable
from .paths import default_db_path

DEMO_SITE = ("341623101", "青山镇民政办")
IDLE_LOCK_MINUTES = 10


class FirstRunDialog(QDialog):
    """Site identity for a new database, and whether to load a demo township."""

    def __init__(self, path: Path, parent=None):
        super().__init__(parent)
        self.setWindowTitle("欢迎使用民政桌面")
        self.setMinimumWidth(560)  # the fields' hints readable when they are empty
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"首次使用：将在此处创建数据库\n{path}"))
        form = QFormLayout()
        self.code = QLineEdit(DEMO_SITE[0])
        self.code.setPlaceholderText("统计用区划代码：乡镇9位 / 县6位 / 市4位 / 省2位")
        self.name = QLineEdit(DEMO_SITE[1])
        self.name.setPlaceholderText("本单位名称，如 白沙乡民政办")
        self.role = QComboBox()
        for code, text in ROLES.items():
            self.role.addItem(text, code)
        self.demo = QCheckBox("加载演示乡镇（虚构数据，便于熟悉操作）")
        self.demo.setChecked(True)
        self.demo_count = QSpinBox()
        self.demo_count.setRange(10, 200000)
        self.demo_count.setValue(2000)
        self.demo_count.setSuffix(" 户")
        self.demo.toggled.connect(self.demo_count.setEnabled)
        self.demo.toggled.connect(self._demo_toggled)
        self.role.currentIndexChanged.connect(self._role_changed)
        form.addRow("区划代码", self.code)
        form.addRow("单位名称", self.name)
        form.addRow("本机用途", self.role)
        form.addRow(self.demo, self.demo_count)
        layout.addLayout(form)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #c0392b;")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("开始使用")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("退出")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _demo_toggled(self, on: bool) -> None:
        """The demo township's code and name go with the demo: without it the office
        types its own, since a database belongs to its site for life."""
        code, name, _role = self.values()
        if not on and (code, name) == DEMO_SITE:
            self.code.clear()
            self.name.clear()
            self.code.setFocus()
        elif on and not code and not name:
            self.code.setText(DEMO_SITE[0])
            self.name.setText(DEMO_SITE[1])

    def _role_changed(self) -> None:
        """A city or province receives its counties' batches: it has no demo township."""
        receiver = self.role.currentData() in REGION_ROLES
        if receiver:
            self.demo.setChecked(False)
        self.demo.setEnabled(not receiver)

    def values(self) -> tuple[str, str, str]:
        return self.code.text().strip(), self.name.text().strip(), self.role.currentData()

    def accept(self) -> None:
        try:
            validate_site(*self.values())
        except MzError as exc:
            self.error.setText(str(exc))
            return
        super().accept()


def _use_bundled_font(app: QApplication) -> None:
    """Prefer the CJK font shipped in resources/fonts, so the screen matches the PDFs."""
    from .resources import resources_dir

    fonts = resources_dir() / "fonts"
    if not fonts.is_dir():
        return
    for f in sorted(fonts.iterdir()):
        if f.suffix.lower() in (".ttf", ".ttc", ".otf"):
            fid = QFontDatabase.addApplicationFont(str(f))
            families = QFontDatabase.applicationFontFamilies(fid) if fid >= 0 else []
            if families:
                font = QFont(families[0])
                font.setPointSize(10)
                app.setFont(font)
                return


def use_chinese_qt_strings(app: QApplication) -> QTranslator | None:
    """Qt's own texts (Save/Discard/Cancel, OK ...) in Chinese, from PySide6's qtbase_zh_CN.qm.

    build.spec bundles that file; if it is missing anyway, Qt's English stays.
    """
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not translator.load(
        QLocale(QLocale.Language.Chinese, QLocale.Country.China), "qtbase", "_", folder
    ):
        return None
    app.installTranslator(translator)
    return translator


def _set_icon(app: QApplication) -> None:
    from PySide6.QtGui import QIcon

    from .resources import resources_dir

    icon = resources_dir() / "icons" / "mzdesk.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


def _rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def open_or_create(path: Path, parent=None):
    """Open the database; on first start ask for the site.  None if the user quits."""
    # before any question (site, passphrase): a read-only place fails whatever the answer
    require_writable(path)
    first = not path.exists()
    if first:
        dlg = FirstRunDialog(path, parent)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None, 0
        path.parent.mkdir(parents=True, exist_ok=True)
        store = Store.open(path)
        init_site(store, *dlg.values())
        return store, (dlg.demo_count.value() if dlg.demo.isChecked() else 0)
    from .models.cipher import is_encrypted_file

    if is_encrypted_file(path):  # SQLCipher (docs/at-rest.md): passphrase before the login
        from .ui.db_key import open_encrypted

        store = open_encrypted(path, parent)
        if store is None:
            return None, 0
    else:
        store = Store.open(path, create=False)
    if get_site(store) is None:
        dlg = FirstRunDialog(path, parent)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None, 0
        init_site(store, *dlg.values())
        return store, (dlg.demo_count.value() if dlg.demo.isChecked() else 0)
    return store, 0


def run_gui(db_path: str | None = None) -> int:
    from .hooks import register_hooks

    register_hooks()
    bench = os.environ.get("MZDESK_BENCH_STARTUP") == "1"
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("mzdesk")
    app.setApplicationDisplayName("民政桌面")
    _set_icon(app)
    use_chinese_qt_strings(app)
    _use_bundled_font(app)
    path = Path(db_path) if db_path else default_db_path()
    try:
        store, demo = open_or_create(path)
    except MzError as exc:
        text = str(exc) if str(path) in str(exc) else f"{path}\n\n{exc}"
        QMessageBox.critical(None, "无法打开数据库", text)
        return 1
    if store is None:
        return 0

    from .models import auth
    from .ui.login_dialog import IdleLock, login_at_start
    from .ui.main_window import MainWindow

    # log in (or, on a database with no accounts yet, create the first admin);
    # the startup benchmark opens a database in setup mode and skips the dialog
    if not (bench and auth.setup_mode(store)) and not login_at_start(store, None):
        store.close()
        return 0
    window = MainWindow(store)
    window.show()
    IdleLock(store, window, minutes=IDLE_LOCK_MINUTES)
    if demo:
        window.run_demo(demo, seed=1)
    elif not bench:
        QTimer.singleShot(2000, lambda: _daily_backup(window, store))
    if bench:

        def report() -> None:
            window.households.view.viewport().repaint()
            ms = (time.perf_counter() - STARTED) * 1000
            print(f"startup_ms={ms:.1f} rss_mb={_rss_mb():.1f}", flush=True)
            app.quit()

        QTimer.singleShot(0, report)
    code = app.exec()
    from .ui.worker import stop_tasks

    stop_tasks(wait_ms=None)  # quit by other means than the window: never leave a thread running
    if not bench:
        _backup_on_exit(store)
    store.close()
    return code


def _daily_backup(window, store: Store) -> None:
    """The day's first backup, in a worker so a large database never freezes the window."""
    from .models import backup as bk
    from .ui.worker import Task

    if not bk.daily_backup_due(store):
        return
    task = Task(
        window, "每日备份", store, lambda s, _p, _c: bk.auto_backup(s, "daily"), show_dialog=False
    )
    task.done.connect(lambda info: window.statusBar().showMessage(f"已自动备份：{info.path}", 8000))
    task.error.connect(lambda _c, msg: window.statusBar().showMessage(f"自动备份失败：{msg}"))
    window._tasks.append(task.start())


def _backup_on_exit(store: Store) -> None:
    from .ui.backup_page import backup_on_exit

    try:
        backup_on_exit(store)
    except (MzError, OSError) as exc:  # never lose the session's work over a backup
        QMessageBox.warning(None, "退出备份失败", f"退出时自动备份未完成：{exc}")
