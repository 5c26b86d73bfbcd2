"""Screenshot of the main window (and the household form) under Xvfb: docs/*.png.

Usage: xvfb-run -a python scripts/screenshot.py docs/main-window.png
Builds a demo township in a temporary database, opens the real window on the
X server (QT_QPA_PLATFORM=xcb), types a pinyin search and grabs the screen.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from mzdesk.app import _use_bundled_font  # noqa: E402
from mzdesk.models.demo import generate_demo  # noqa: E402
from mzdesk.models.site import init_site  # noqa: E402
from mzdesk.models.store import Store  # noqa: E402
from mzdesk.ui.main_window import MainWindow  # noqa: E402


def main(out: str) -> None:
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp()) / "demo.sqlite"
    store = Store.open(tmp, operator="王丽")
    init_site(store, "341623101", "青山镇民政办")
    generate_demo(store, 3000, seed=7)
    app = QApplication(sys.argv[:1])
    _use_bundled_font(app)
    win = MainWindow(store)
    win.resize(1280, 760)
    win.show()

    def shoot_list() -> None:
        win.households.search.setText("zh")
        win.households.apply_filter()
        QTimer.singleShot(300, grab_list)

    def grab_list() -> None:
        win.grab().save(str(out_path))
        hid = win.households.current_household_id()
        dlg = win.edit_household(hid)
        dlg.resize(1100, 760)
        QTimer.singleShot(400, lambda: grab_dialog(dlg))

    def grab_dialog(dlg) -> None:
        dlg.grab().save(str(out_path.with_name("household-form.png")))
        dlg.done(0)
        app.quit()

    QTimer.singleShot(500, shoot_list)
    app.exec()
    print(out_path, out_path.with_name("household-form.png"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/main-window.png")
