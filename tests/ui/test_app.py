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
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
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


def test_a_database_in_a_read_only_folder_is_refused_in_a_window_saying_to_copy_it(
    qapp, tmp_path, monkeypatch
):
    """The same refusal and words as the CLI, before any question is asked (the first-run
    dialog for a new file, the passphrase for an encrypted one)."""
    from PySide6.QtWidgets import QMessageBox

    from mzdesk.app import run_gui
    from tests.places import read_only_folder

    folder = tmp_path / "usb"
    folder.mkdir()
    s = Store.open(folder / "mz.sqlite")
    from mzdesk.models.site import init_site

    init_site(s, "341623101", "青山镇")
    s.close()
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a: shown.append(a[1:3]))
    monkeypatch.setattr(FirstRunDialog, "exec", lambda self: pytest.fail("asked for a site"))
    with read_only_folder(folder):
        assert run_gui(str(folder / "mz.sqlite")) == 1
        assert run_gui(str(folder / "new.sqlite")) == 1
    assert [title for title, _ in shown] == ["无法打开数据库"] * 2
    for (_, text), name in zip(shown, ("mz.sqlite", "new.sqlite"), strict=True):
        assert str(folder / name) in text and "复制到本机可写的文件夹" in text, text
        assert text.count(str(folder / name)) == 1
    assert sorted(p.name for p in folder.iterdir()) == ["mz.sqlite"]


def test_first_run_without_demo_does_not_keep_the_demo_townships_identity(qtbot, tmp_path):
    """Unticking the demo left 341623101 青山镇民政办 filled in: one click on 开始使用
    made the office's real database the fictional township's, for life."""
    dlg = FirstRunDialog(tmp_path / "x.sqlite")
    qtbot.addWidget(dlg)
    dlg.demo.setChecked(False)
    assert (dlg.code.text(), dlg.name.text()) == ("", "")
    dlg.accept()
    assert dlg.result() != QDialog.DialogCode.Accepted
    assert dlg.error.text().startswith("请填写区划代码")
    dlg.demo.setChecked(True)  # the demo again: its identity comes back
    assert (dlg.code.text(), dlg.name.text()) == ("341623101", "青山镇民政办")
    dlg.demo.setChecked(False)
    dlg.code.setText("341623105")
    dlg.name.setText("白沙乡民政办")
    dlg.demo.setChecked(True)  # what the clerk typed stays
    assert dlg.values()[:2] == ("341623105", "白沙乡民政办")
