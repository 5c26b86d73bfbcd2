"""pytest-qt: the notice builder from ticking rows to a saved, printed PDF."""

from __future__ import annotations

import subprocess

import pytest
from PySide6.QtCore import QDate, Qt  # noqa: E402
from PySide6.QtPrintSupport import QPrinter  # noqa: E402

from mzdesk.models import enrolment as enr  # noqa: E402
from mzdesk.models.categories import lifecycle_settings  # noqa: E402
from mzdesk.ui.notice_builder import NoticeBuilder, print_pdf  # noqa: E402
from tests.enrolment.conftest import HOTLINE, ready  # noqa: E402


@pytest.fixture
def warnings(monkeypatch):
    """The texts of the warning boxes the builder shows (none pops up in a test)."""
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    return shown


pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def publish_confirmed(monkeypatch):
    """发布公示 asks first (tests/ui/test_missing_guis.py tests "No"): here, "Yes"."""
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)


def text_of(path) -> str:
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return "".join(out.stdout.split())


def test_builder_preview_publish_save_print(qtbot, store, family, single, tmp_path):
    a = ready(store, family.id)
    b = ready(store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理")
    w = NoticeBuilder(store)
    qtbot.addWidget(w)
    assert w.table.rowCount() == 2 and not w.publish_btn.isEnabled()
    # untick 王老五: only 张三丰 goes on this notice
    row = [w.table.item(i, 2).text() for i in range(2)].index("王老五")
    w.table.item(row, 0).setCheckState(Qt.CheckState.Unchecked)
    w.start.setDate(QDate(2026, 12, 1))
    w.hotline.setText(HOTLINE)
    assert "2026-12-07" in w.end_label.text()

    w.preview_btn.click()
    qtbot.waitUntil(lambda: w.doc.pageCount() == 1 and w.publish_btn.isEnabled(), timeout=10000)
    assert enr.get(store, a.id).state == "reviewed"  # a preview records nothing
    assert store.scalar("SELECT count(*) FROM notices") == 0

    w.publish_btn.click()
    qtbot.waitUntil(lambda: w.notice_id is not None, timeout=10000)
    assert enr.get(store, a.id).state == "publicised"
    assert enr.get(store, b.id).state == "reviewed"  # unticked: still waiting
    assert w.table.rowCount() == 1 and w.print_btn.isEnabled()

    pdf = w.save_pdf(tmp_path / "saved.pdf")
    text = text_of(pdf)
    assert "张三丰" in text and "王老五" not in text and HOTLINE in text
    assert "2026年12月1日至2026年12月7日" in text
    xlsx = w.save_xlsx(tmp_path / "saved.xlsx")
    assert xlsx.stat().st_size > 0

    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    assert print_pdf(w.doc, printer) == 1
    assert (tmp_path / "printed.pdf").stat().st_size > 1000


def test_builder_refuses_without_hotline_and_reopens_past(
    qtbot, store, family, tmp_path, monkeypatch, warnings
):
    ready(store, family.id)
    w = NoticeBuilder(store)
    qtbot.addWidget(w)
    w.hotline.setText("")
    w.preview_btn.click()
    qtbot.waitUntil(lambda: bool(warnings), timeout=10000)
    assert "监督电话" in warnings[0] and w.pdf_path is None
    w.hotline.setText(HOTLINE)
    w.start.setDate(QDate(2026, 12, 1))
    w.preview_btn.click()
    qtbot.waitUntil(lambda: w.publish_btn.isEnabled(), timeout=10000)
    w.publish_btn.click()
    qtbot.waitUntil(lambda: w.notice_id is not None, timeout=10000)
    first = w.save_pdf(tmp_path / "first.pdf").read_bytes()
    w2 = NoticeBuilder(store)
    qtbot.addWidget(w2)
    assert w2.past.count() == 2
    w2.past.setCurrentIndex(1)
    w2.past.activated.emit(1)
    qtbot.waitUntil(lambda: w2.notice_id is not None and w2.doc.pageCount() == 1, timeout=10000)
    assert w2.save_pdf(tmp_path / "again.pdf").read_bytes() == first
    assert w2.hotline.text() == HOTLINE  # defaults come from the last notice


def test_publish_needs_a_new_preview_after_any_change(
    qtbot, store, family, single, monkeypatch, warnings
):
    a = ready(store, family.id)
    b = ready(store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理")
    w = NoticeBuilder(store)
    qtbot.addWidget(w)
    w.start.setDate(QDate(2026, 12, 1))
    w.hotline.setText(HOTLINE)
    w.preview_btn.click()
    qtbot.waitUntil(lambda: w.publish_btn.isEnabled(), timeout=10000)
    # untick one row after the preview: what was previewed is no longer what is ticked
    w.table.item(0, 0).setCheckState(Qt.CheckState.Unchecked)
    assert not w.publish_btn.isEnabled() and "重新预览" in w.status.text()
    w.table.item(0, 0).setCheckState(Qt.CheckState.Checked)
    assert w.publish_btn.isEnabled()  # back to exactly what was previewed
    w.days.setValue(w.days.value() + 1)
    assert not w.publish_btn.isEnabled()
    w.publish()  # even called directly, nothing that was not previewed is published
    assert store.scalar("SELECT count(*) FROM notices") == 0 and "重新预览" in warnings[0]
    w.preview_btn.click()
    qtbot.waitUntil(lambda: w.publish_btn.isEnabled(), timeout=10000)
    w.publish_btn.click()
    qtbot.waitUntil(lambda: w.notice_id is not None, timeout=10000)
    assert {enr.get(store, a.id).state, enr.get(store, b.id).state} == {"publicised"}


def test_saving_to_a_missing_folder_says_what_and_where(
    qtbot, store, family, tmp_path, monkeypatch, warnings
):
    from PySide6.QtWidgets import QFileDialog

    ready(store, family.id)
    w = NoticeBuilder(store)
    qtbot.addWidget(w)
    w.start.setDate(QDate(2026, 12, 1))
    w.hotline.setText(HOTLINE)
    w.preview_btn.click()
    qtbot.waitUntil(lambda: w.publish_btn.isEnabled(), timeout=10000)
    w.publish_btn.click()
    qtbot.waitUntil(lambda: w.notice_id is not None, timeout=10000)
    missing = tmp_path / "没有这个文件夹"
    # the name typed without extension: the dialog adds it
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(missing / "公示"), ""))
    w._save_pdf_clicked()
    w._save_xlsx_clicked()
    assert len(warnings) == 2
    assert str(missing / "公示.pdf") in warnings[0] and "文件夹不存在" in warnings[0]
    assert str(missing / "公示.xlsx") in warnings[1] and "Excel" in warnings[1]


def test_publish_whose_pdf_cannot_be_written_records_nothing(
    qtbot, store, family, monkeypatch, warnings
):
    """The builder's folder is gone (a temp cleaner, a removed drive) when 发布 is pressed:
    no notice, the enrolment still awaits notice, and the clerk is told which file and why."""
    import shutil

    a = ready(store, family.id)
    w = NoticeBuilder(store)
    qtbot.addWidget(w)
    w.start.setDate(QDate(2026, 12, 1))
    w.hotline.setText(HOTLINE)
    w.preview_btn.click()
    qtbot.waitUntil(lambda: w.publish_btn.isEnabled(), timeout=10000)
    shutil.rmtree(w._tmp.name)
    w.publish_btn.click()
    qtbot.waitUntil(lambda: bool(warnings), timeout=10000)
    assert store.scalar("SELECT count(*) FROM notices") == 0 and w.notice_id is None
    assert enr.get(store, a.id).state == "reviewed" and enr.get(store, a.id).notice_pending == ""
    assert [e["action"] for e in enr.history(store, a.id)][-1] == "deliberate"
    assert "文件夹不存在" in warnings[0] and w._tmp.name in warnings[0]
    assert ".part" not in warnings[0]  # the file asked for, not its temporary name


def test_period_rules_are_said_before_publishing_and_backdating_needs_a_reason(
    qtbot, store, family, monkeypatch, warnings
):
    from mzdesk.models import notice as nt

    a = ready(store, family.id)
    w = NoticeBuilder(store)
    qtbot.addWidget(w)
    w.hotline.setText(HOTLINE)
    # the spinbox is the model's range
    minimum = int(lifecycle_settings()["notice_min_days"])
    assert (w.days.minimum(), w.days.maximum()) == (minimum, nt.NOTICE_MAX_DAYS)
    # a start from today on: no 补录说明, no message
    w.start.setDate(QDate(2026, 12, 1))
    assert not w.form.isRowVisible(w.backdate_reason) and w.period_note.text() == ""
    # three days back (today is pinned to 2026-11-23): the reason row appears and the rule says what is missing
    w.start.setDate(QDate(2026, 11, 20))
    assert w.form.isRowVisible(w.backdate_reason) and w.backdate_reason.isEnabled()
    assert "补录说明" in w.period_note.text()
    w.preview_btn.click()  # refused at once: no preview is built
    assert len(warnings) == 1 and "补录说明" in warnings[0] and w.task is None
    # more than 30 days back: no reason is enough
    w.start.setDate(QDate(2026, 10, 1))
    w.backdate_reason.setText("10月1日张贴于红旗村村务公开栏")
    assert "不能补录" in w.period_note.text()
    # with the reason, from three days back: previewed, published, the reason on record
    w.start.setDate(QDate(2026, 11, 20))
    assert w.period_note.text() == ""
    w.preview_btn.click()
    qtbot.waitUntil(lambda: w.publish_btn.isEnabled(), timeout=10000)
    w.publish_btn.click()
    qtbot.waitUntil(lambda: w.notice_id is not None, timeout=10000)
    assert enr.get(store, a.id).state == "publicised"
    event = enr.history(store, a.id)[-1]
    assert event["detail"]["backdate_reason"] == "10月1日张贴于红旗村村务公开栏"
    assert event["detail"]["start_on"] == "2026-11-20"  # three days before the pinned today
    # back to a future start: the row goes and a typed reason is not carried along
    w.start.setDate(QDate(2026, 12, 1))
    assert not w.form.isRowVisible(w.backdate_reason) and w.spec().backdate_reason == ""
