"""Notice builder (公示制作): pick enrolments, preview the real PDF, publish, print, save.

Flow: the candidates awaiting notice are listed (filter by village/category,
tick rows) → 预览 builds the very PDF that publishing would make (the notice
is created and rolled back, in a worker thread) and shows it with QtPdf →
发布 records the notice, moves its enrolments to 公示 and writes its PDF, all or
nothing (``notice.publish_notice``) → 打印 (QPrinter, printer choice and copies) /
另存PDF / 另存Excel.  发布 asks first, naming how many enrolments move to 公示 (it
cannot be taken back).  异议… lists the rows of the notice shown with their objections
(ui/objections.py: record, investigate, resolve).  Past notices can be opened again and re-printed exactly as
posted.  The period follows ``notice.check_period`` (7-60 days; a start before today
only with a 补录说明, shown for such a start), said as the dates are set.

Wiring: a menu entry or tab "公示" → ``NoticeBuilder(store)``.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from PySide6.QtCore import QDate, QSize, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models import notice as nt
from ..models.categories import categories, lifecycle_settings
from ..models.errors import MzError
from ..models.money import format_fen
from ..models.store import Store
from . import ops
from .saving import ask_save_path, save_reporting
from .worker import run_with_progress

PAPERS = (("A4 竖向", "A4", False), ("A4 横向", "A4", True), ("A3 横向", "A3", True))
COLUMNS = ("", "村组", "姓名", "类别", "保障人口", "月保障金额(元)", "备注")


class NoticeBuilder(QWidget):
    """Pick enrolments → preview → publish → print / save (公示)."""

    published = Signal(int)  # notice id

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.notice_id: int | None = None
        self.pdf_path: Path | None = None
        # what the shown preview was built from: publishing records exactly this
        self.previewed: tuple[list[int], nt.NoticeSpec] | None = None
        self.task = None
        self._tmp = tempfile.TemporaryDirectory(prefix="mz-notice-")
        self._build()
        self.reload()

    # -- layout ----------------------------------------------------------------------
    def _build(self) -> None:
        self.village = QComboBox()
        self.category = QComboBox()
        self.village.currentIndexChanged.connect(self.reload)
        self.category.currentIndexChanged.connect(self.reload)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.all_box = QCheckBox("全选")
        self.all_box.setChecked(True)
        self.all_box.toggled.connect(self._tick_all)

        d = nt.defaults(self.store)
        self.start = QDateEdit(QDate.currentDate())
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("yyyy-MM-dd")
        self.days = QSpinBox()
        self.days.setRange(int(lifecycle_settings()["notice_min_days"]), nt.NOTICE_MAX_DAYS)
        self.days.setSuffix(" 天")
        self.end_label = QLabel()
        self.start.dateChanged.connect(self._show_end)
        self.days.valueChanged.connect(self._show_end)
        # a start before today records a paper notice already posted: say when and where
        self.backdate_reason = QLineEdit()
        self.backdate_reason.setPlaceholderText(
            "纸质公示已于何时何地张贴，例如 11月20日张贴于红旗村村务公开栏"
        )
        self.period_note = QLabel()  # the period rule's message, before anything is previewed
        self.period_note.setWordWrap(True)
        self.period_note.setStyleSheet("color: #b00020")
        self.hotline = QLineEdit(d["hotline"])
        self.hotline.setPlaceholderText("必填，例如 0558-8123456")
        self.address = QLineEdit(d["address"])
        self.issuer = QLineEdit(d["issuer"])
        self.paper = QComboBox()
        for label, *_ in PAPERS:
            self.paper.addItem(label)
        self.show_id = QCheckBox("显示身份证号（脱敏：前6位后4位）")

        self.past = QComboBox()
        self.past.activated.connect(self._open_past)

        form = QFormLayout()
        form.addRow("村(社区)", self.village)
        form.addRow("类别", self.category)
        form.addRow("公示开始", self.start)
        form.addRow("公示天数", self.days)
        form.addRow("", self.end_label)
        form.addRow("补录说明", self.backdate_reason)
        form.addRow("", self.period_note)
        form.addRow("监督电话", self.hotline)
        form.addRow("受理地址", self.address)
        form.addRow("发布单位", self.issuer)
        form.addRow("纸张", self.paper)
        form.addRow("", self.show_id)
        form.addRow("历史公示", self.past)
        self.form = form

        self.preview_btn = QPushButton("预览")
        self.publish_btn = QPushButton("发布公示")
        self.print_btn = QPushButton("打印…")
        self.pdf_btn = QPushButton("另存PDF…")
        self.xlsx_btn = QPushButton("另存Excel…")
        self.objections_btn = QPushButton("异议…")
        self.objections_btn.setToolTip("登记、核实、处理对该公示各行的异议")
        self.preview_btn.clicked.connect(self.preview)
        self.publish_btn.clicked.connect(lambda: self.publish())
        self.objections_btn.clicked.connect(lambda: self.open_objections())
        self.print_btn.clicked.connect(self.print_notice)
        self.pdf_btn.clicked.connect(self._save_pdf_clicked)
        self.xlsx_btn.clicked.connect(self._save_xlsx_clicked)
        self.status = QLabel()
        self.status.setWordWrap(True)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addLayout(form)
        top = QHBoxLayout()
        top.addWidget(QLabel("待公示对象"))
        top.addStretch(1)
        top.addWidget(self.all_box)
        lv.addLayout(top)
        lv.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        for b in (
            self.preview_btn,
            self.publish_btn,
            self.print_btn,
            self.pdf_btn,
            self.xlsx_btn,
            self.objections_btn,
        ):
            buttons.addWidget(b)
        lv.addLayout(buttons)
        lv.addWidget(self.status)

        self.doc = QPdfDocument(self)
        self.view = QPdfView(self)
        self.view.setDocument(self.doc)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.view)
        split.setStretchFactor(1, 1)
        outer = QVBoxLayout(self)
        outer.addWidget(split)
        # any change to what would be published makes the preview stale
        self.table.itemChanged.connect(self._set_state)
        for sig in (
            self.village.currentIndexChanged,
            self.category.currentIndexChanged,
            self.start.dateChanged,
            self.days.valueChanged,
            self.hotline.textChanged,
            self.backdate_reason.textChanged,
            self.address.textChanged,
            self.issuer.textChanged,
            self.paper.currentIndexChanged,
            self.show_id.toggled,
        ):
            sig.connect(self._set_state)
        self.backdate_reason.textChanged.connect(self._show_end)
        self._show_end()
        self._set_state()

    def _show_end(self) -> None:
        end = nt.period_end(self.start.date().toPython(), self.days.value())
        self.end_label.setText(f"至 {end:%Y-%m-%d}（含首尾共{self.days.value()}天）")
        backdated = nt.is_backdated(self.start.date().toPython())  # 补录说明 only then
        self.form.setRowVisible(self.backdate_reason, backdated)
        self.backdate_reason.setEnabled(backdated)
        self.period_note.setText(self.period_problem() or "")

    def period_problem(self) -> str | None:
        """The period rule's message for the dates as set (notice.check_period), or None."""
        try:
            nt.check_period(self.spec())
        except MzError as exc:
            return exc.message
        return None

    def preview_is_current(self) -> bool:
        """The shown preview was built from the ticks and settings as they are now."""
        return self.previewed is not None and self.previewed == (self.selected_ids(), self.spec())

    def _set_state(self, *_args) -> None:
        current = self.notice_id is None and self.preview_is_current()
        self.publish_btn.setEnabled(current)
        stale = self.notice_id is None and self.previewed is not None and not current
        self.publish_btn.setToolTip("勾选或设置已更改，请重新预览后再发布" if stale else "")
        if stale:
            self.status.setText("勾选或设置已更改，请重新预览后再发布")
        for b in (self.print_btn, self.pdf_btn, self.xlsx_btn, self.objections_btn):
            b.setEnabled(self.notice_id is not None)

    # -- candidates ----------------------------------------------------------------
    def reload(self) -> None:
        rows = nt.candidates(self.store)
        for combo, key, label in (
            (self.village, "village", "全部村(社区)"),
            (self.category, "category", "全部类别"),
        ):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(label, None)
            for value in sorted({r[key] for r in rows}):
                text = (
                    categories(self.store).get(value, {}).get("name", value)
                    if key == "category"
                    else value
                )
                combo.addItem(text, value)
            i = combo.findData(current)
            combo.setCurrentIndex(max(i, 0))
            combo.blockSignals(False)
        v, c = self.village.currentData(), self.category.currentData()
        self.rows = [
            r for r in rows if (not v or r["village"] == v) and (not c or r["category"] == c)
        ]
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            tick = QTableWidgetItem()
            tick.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            tick.setCheckState(
                Qt.CheckState.Checked if self.all_box.isChecked() else Qt.CheckState.Unchecked
            )
            tick.setData(Qt.ItemDataRole.UserRole, r["id"])
            self.table.setItem(i, 0, tick)
            values = (
                f"{r['village']}{r['village_group']}",
                r["name"],
                f"{r['category_name']} {r['cls']}".strip(),
                str(r["covered"]),
                format_fen(r["monthly_fen"]),
                nt.ACTION_LABELS[r["action"]],
            )
            for j, text in enumerate(values, 1):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.past.blockSignals(True)
        self.past.clear()
        self.past.addItem("（选择以重新打印）", None)
        for n in nt.list_notices(self.store):
            open_ = f"，{n['open_objections']}条异议未处理" if n["open_objections"] else ""
            self.past.addItem(
                f"{n['id']} {n['title']} {n['start_on']}（{n['rows']}条{open_}）", n["id"]
            )
        self.past.blockSignals(False)
        self.status.setText(f"待公示 {len(self.rows)} 条")

    def _tick_all(self, on: bool) -> None:
        state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        for i in range(self.table.rowCount()):
            self.table.item(i, 0).setCheckState(state)

    def selected_ids(self) -> list[int]:
        return [
            self.table.item(i, 0).data(Qt.ItemDataRole.UserRole)
            for i in range(self.table.rowCount())
            if self.table.item(i, 0).checkState() == Qt.CheckState.Checked
        ]

    def spec(self) -> nt.NoticeSpec:
        _, size, land = PAPERS[self.paper.currentIndex()]
        start = self.start.date().toPython()
        reason = self.backdate_reason.text().strip() if nt.is_backdated(start) else ""
        return nt.NoticeSpec(
            start=start,
            days=self.days.value(),
            hotline=self.hotline.text(),
            address=self.address.text(),
            issuer=self.issuer.text(),
            show_id=self.show_id.isChecked(),
            page_size=size,
            landscape=land,
            backdate_reason=reason,
        )

    # -- actions ---------------------------------------------------------------------
    def _run(self, title: str, job, on_done) -> None:
        self.status.setText(f"{title}…")
        self.task = run_with_progress(
            self, title, self.store, job, on_done=on_done, on_error=self._failed
        )

    def _failed(self, code: str, message: str) -> None:
        self.status.setText(message)
        ops.show_error(self, "公示", message)

    def preview(self) -> None:
        """Build the PDF that publishing would make (nothing recorded) and show it."""
        ids, spec = self.selected_ids(), self.spec()
        if not ids:
            self._failed("nothing", "请至少勾选一条待公示记录")
            return
        problem = self.period_problem()
        if problem:  # said now, not after a preview has been built
            self._failed("notice_period", problem)
            return
        out = Path(self._tmp.name) / f"preview-{dt.datetime.now():%H%M%S%f}.pdf"

        def job(store, progress, cancel):
            from ..reports.notice_pdf import name_header, render

            n = nt.preview_notice(store, spec, enrolment_ids=ids)
            render(n, out, name_header(store, n), progress)
            return out

        def done(path) -> None:
            self.previewed = (ids, spec)
            self._show_pdf(path)

        self.notice_id = None
        self.previewed = None
        self._set_state()
        self._run("生成预览", job, done)

    def publish(self, confirm: bool = True) -> None:
        """Record the notice exactly as previewed (one transaction) and build its PDF.

        Asked first (``confirm``): publishing moves the ticked enrolments to 公示 and
        cannot be taken back."""
        if not self.preview_is_current():
            self._failed("stale_preview", "勾选或设置已更改，请重新预览后再发布")
            return
        ids, spec = self.previewed
        problem = self.period_problem()
        if problem:  # a preview made yesterday of a notice starting yesterday
            self._failed("notice_period", problem)
            return
        if confirm and not self.confirm_publish(len(ids), spec):
            self.status.setText("未发布：预览仍在，可以修改后再发布")
            return
        out = Path(self._tmp.name) / f"notice-{dt.datetime.now():%H%M%S%f}.pdf"

        def job(store, progress, cancel):
            from ..reports.notice_pdf import write_pdf

            def pdf(s, nid, part):
                return write_pdf(s, nid, part, progress)

            # all or nothing: a PDF that cannot be written records no notice and leaves the
            # enrolments awaiting notice (the worker then says which file and why)
            nid = nt.publish_notice(store, spec, [(out, pdf)], enrolment_ids=ids)
            return nid, out

        self._run("发布公示", job, self._published)

    def confirm_publish(self, count: int, spec: nt.NoticeSpec) -> bool:
        """发布公示 asks first, naming how many enrolments move to 公示."""
        end = nt.period_end(spec.start, spec.days)
        answer = QMessageBox.question(
            self,
            "发布公示",
            f"发布后将记录本次公示，{count}条保障记录进入“公示”状态"
            f"（公示期{spec.start:%Y-%m-%d}至{end:%Y-%m-%d}）。\n发布后不能撤回。确定发布？",
        )
        return answer == QMessageBox.StandardButton.Yes

    def open_objections(self):
        """异议 on the rows of the notice shown (ui/objections.py); returned for tests."""
        from .objections import ObjectionsDialog

        if self.notice_id is None:
            return None
        dlg = ObjectionsDialog(self.store, self.notice_id, self)
        dlg.changed.connect(self.reload)
        dlg.open()
        return dlg

    def _published(self, result) -> None:
        nid, out = result
        self.previewed = None
        self._show_pdf(out)
        self.notice_id = nid
        self._set_state()
        self.reload()
        n = nt.get_notice(self.store, nid)
        self.status.setText(
            f"已发布公示{nid}：{n.title}，{len(n.items)}条，公示期{n.start_on}至{n.end_on}"
        )
        self.published.emit(nid)

    def open_notice(self, notice_id: int) -> None:
        """Show a recorded notice again, exactly as posted (re-print)."""
        out = Path(self._tmp.name) / f"notice-{notice_id}-{dt.datetime.now():%H%M%S%f}.pdf"

        def job(store, progress, cancel):
            from ..reports.notice_pdf import write_pdf

            write_pdf(store, notice_id, out, progress)
            return notice_id, out

        def done(result):
            self.previewed = None
            self._show_pdf(result[1])
            self.notice_id = notice_id
            self._set_state()
            self.status.setText(f"公示{notice_id}（重新打印与原件一致）")

        self._run("打开公示", job, done)

    def _open_past(self, index: int) -> None:
        nid = self.past.itemData(index)
        if nid is not None:
            self.open_notice(nid)

    def _show_pdf(self, path) -> None:
        self.doc.close()
        self.pdf_path = Path(path)
        self.doc.load(str(path))
        self.status.setText(
            f"预览：共{self.doc.pageCount()}页" + ("" if self.notice_id else "（尚未发布）")
        )
        self._set_state()

    # -- output ------------------------------------------------------------------------
    def save_pdf(self, path: str | Path) -> Path:
        from ..reports.notice_pdf import write_pdf

        write_pdf(self.store, self._require_notice(), path)
        return Path(path)

    def save_xlsx(self, path: str | Path) -> Path:
        from ..reports.notice_xlsx import write_xlsx

        write_xlsx(self.store, self._require_notice(), path)
        return Path(path)

    def _require_notice(self) -> int:
        if self.notice_id is None:
            raise RuntimeError("no published notice")  # buttons are disabled until then
        return self.notice_id

    def _save_pdf_clicked(self) -> None:
        path = ask_save_path(self, "保存公示PDF", f"公示{self.notice_id}.pdf", ".pdf", "PDF")
        if path and save_reporting(self, "公示PDF", path, lambda: self.save_pdf(path)):
            self.status.setText(f"已保存 {path}")

    def _save_xlsx_clicked(self) -> None:
        path = ask_save_path(self, "保存公示Excel", f"公示{self.notice_id}.xlsx", ".xlsx", "Excel")
        if path and save_reporting(self, "公示Excel", path, lambda: self.save_xlsx(path)):
            self.status.setText(f"已保存 {path}")

    def print_notice(self, printer: QPrinter | None = None) -> int:
        """Print the shown PDF page by page at printer resolution; returns pages printed."""
        if printer is None:
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            dlg = QPrintDialog(printer, self)
            dlg.setWindowTitle("打印公示")
            if dlg.exec() != QPrintDialog.DialogCode.Accepted:
                return 0
        return print_pdf(self.doc, printer)


def print_pdf(doc: QPdfDocument, printer: QPrinter) -> int:
    """Paint every page of ``doc`` on ``printer`` (copies are the printer's business)."""
    painter = QPainter()
    if not painter.begin(printer):
        return 0
    try:
        for i in range(doc.pageCount()):
            if i:
                printer.newPage()
            rect = painter.viewport()
            size = doc.pagePointSize(i)
            scale = min(rect.width() / size.width(), rect.height() / size.height())
            image = doc.render(i, QSize(int(size.width() * scale), int(size.height() * scale)))
            painter.drawImage(0, 0, image)
    finally:
        painter.end()
    return doc.pageCount()
