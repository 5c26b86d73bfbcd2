"""First start and the GUI entry point."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtWidgets import QDialog

from mzdesk.app import FirstRunDialog, open_or_create
from mzdesk.models.site import get_site
from mzdesk.models.store import Store

pytestmark = pytest.mark.gui


def test_first_start_creates_database_with_site(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "sub" / "mz.sqlite"
    monkeypatch.setattr(FirstRunDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    store, demo = open_or_create(path)
    try:
        assert path.exists()
        assert get_site(store).code == "341623101"
        assert demo == 2000  # the demo is offered, checked by default
    finally:
        store.close()
    # second start: no dialog at all
    monkeypatch.setattr(FirstRunDialog, "exec", lambda self: pytest.fail("asked again"))
    store, demo = open_or_create(path)
    store.close()
    assert demo == 0


def test_first_start_quit_creates_nothing(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "mz.sqlite"
    monkeypatch.setattr(FirstRunDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    store, _ = open_or_create(path)
    assert store is None and not path.exists()


def test_first_run_dialog_refuses_bad_site_code(qtbot, tmp_path):
    dlg = FirstRunDialog(tmp_path / "x.sqlite")
    qtbot.addWidget(dlg)
    dlg.code.setText("12ab")
    dlg.accept()
    assert dlg.result() != QDialog.DialogCode.Accepted
    assert "区划代码" in dlg.error.text()


def test_gui_entry_point_opens_main_window(tmp_path):
    db = tmp_path / "mz.sqlite"
    from mzdesk.models.demo import generate_demo
    from mzdesk.models.site import init_site

    s = Store.open(db)
    init_site(s, "341623101", "青山镇")
    generate_demo(s, 50, seed=2)
    s.close()
    env = {**os.environ, "MZDESK_BENCH_STARTUP": "1", "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-m", "mzdesk", "--db", str(db)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("startup_ms=")


def test_qt_standard_buttons_are_in_chinese(qapp):
    from PySide6.QtWidgets import QMessageBox

    from mzdesk.app import use_chinese_qt_strings

    translator = use_chinese_qt_strings(qapp)
    assert translator is not None  # PySide6 ships qtbase_zh_CN.qm
    try:
        box = QMessageBox()
        box.setStandardButtons(
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel
        )
        texts = {b.text().replace("&", "") for b in box.buttons()}
        assert all(not t.isascii() for t in texts), texts
        assert any("保存" in t for t in texts) and any("取消" in t for t in texts)
    finally:
        qapp.removeTranslator(translator)
