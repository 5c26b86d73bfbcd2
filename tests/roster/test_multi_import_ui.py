"""The import dialog with several files chosen at once: one check, one import, one undo."""

from __future__ import annotations

import pytest

from mzdesk.ui import file_dialogs
from mzdesk.ui.import_dialog import ImportDialog
from tests.roster.test_provincial_books import households, write_pair


def wait(qtbot, dlg):
    qtbot.waitUntil(lambda: dlg.task is not None and not dlg.task.thread.isRunning(), timeout=20000)
    qtbot.wait(10)


@pytest.fixture
def pair(tmp_path):
    rows = households(4, sizes=(2,))
    return write_pair(tmp_path, rows, member_list={1: "王某、李某"})


def test_two_files_chosen_together_are_one_import(qtbot, store, pair, monkeypatch):
    chosen = []
    monkeypatch.setattr(
        file_dialogs,
        "open_files",
        lambda parent, purpose, title, filt: chosen.append(title) or [str(p) for p in pair],
    )
    dlg = ImportDialog(store)
    dlg.setProperty("quiet", True)
    qtbot.addWidget(dlg)
    dlg.browse()  # the chooser takes several files; the check starts by itself
    wait(qtbot, dlg)
    assert "可多选" in chosen[0]
    assert dlg.paths() == [str(p) for p in pair]
    assert (dlg.report["households"], dlg.report["members"]) == (4, 8)
    assert dlg.report["problem_counts"] == {"member_list_mismatch": 1}
    assert dlg.import_btn.isEnabled()
    sheets = {dlg.mapping.item(r, 0).text() for r in range(dlg.mapping.rowCount())}
    assert sheets == {"家庭查询.xlsx/家庭查询", "人员查询.xlsx/人员查询"}
    dlg.check()  # again, with the mapping as the table shows it: the same report
    wait(qtbot, dlg)
    assert dlg.report["problem_counts"] == {"member_list_mismatch": 1}
    with qtbot.waitSignal(dlg.imported, timeout=20000):
        dlg.do_import(confirm=False)
    assert store.scalar("SELECT count(*) FROM households WHERE status = 'active'") == 4
    assert store.scalar("SELECT count(*) FROM import_batches") == 1
    dlg.undo_last(confirm=False)
    assert store.scalar("SELECT count(*) FROM households WHERE status = 'active'") == 0
