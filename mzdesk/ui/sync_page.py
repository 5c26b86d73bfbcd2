"""Sync page (数据同步): export for a destination, import with its report, history,
pending acknowledgements, conflicts side by side, and key management.

The widget holds no SQL: it calls ``mzdesk.sync`` and runs export/import in a
worker thread with progress (``ui/worker.py``).  File dialogs are only in the
button handlers; ``export_to(path)`` / ``import_from(path)`` do the work, so
tests drive them directly.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..models.errors import MzError
from ..models.site import ROLES
from ..models.store import Store
from ..sync import conflicts
from ..sync import keys as keymod
from ..sync import scope as scoping
from ..sync.apply import import_batch
from ..sync.export import ExportResult, export_batch
from ..sync.history import held_batches, history, pending_acks
from ..sync.report import REFUSED, ImportReport
from . import file_dialogs, ops
from .saving import ask_save_path, save_reporting
from .worker import run_with_progress


# search keys derived from other fields (id_rev is an ID backwards): never shown
def qr_pixmap(matrix: list[list[bool]], module: int = 4, border: int = 4) -> QPixmap:
    """A QR code matrix painted black on white, with the quiet zone readers need."""
    n = len(matrix)
    size = (n + 2 * border) * module
    img = QImage(size, size, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                p.fillRect(
                    (x + border) * module, (y + border) * module, module, module, QColor("black")
                )
    p.end()
    return QPixmap.fromImage(img)


class SyncPage(QWidget):
    """The whole sync workflow of one site on one page."""

    changed = Signal()  # data was imported or a conflict resolved: lists elsewhere may refresh

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self._keys: keymod.SiteKeys | None = None
        self._task = None
        self.last_report: ImportReport | None = None
        self.last_error: str = ""
        self.tabs = QTabWidget()
        self.tabs.addTab(self._exchange_tab(), "导出/导入")
        self.tabs.addTab(self._history_tab(), "批次记录")
        self.tabs.addTab(self._conflicts_tab(), "冲突")
        self.tabs.addTab(self._keys_tab(), "密钥与信任")
        lay = QVBoxLayout(self)
        self.site_label = QLabel()
        lay.addWidget(self.site_label)
        lay.addWidget(self.tabs)
        self.refresh()

    # -- building -------------------------------------------------------------
    def _exchange_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        row = QHBoxLayout()
        row.addWidget(QLabel("发往站点："))
        self.dest = QComboBox()
        row.addWidget(self.dest, 1)
        self.full = QCheckBox("完整快照")
        row.addWidget(self.full)
        self.export_btn = QPushButton("导出批次…")
        self.export_btn.clicked.connect(self._ask_export)
        row.addWidget(self.export_btn)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.import_btn = QPushButton("导入批次…")
        self.import_btn.clicked.connect(self._ask_import)
        row.addWidget(self.import_btn)
        row.addStretch(1)
        lay.addLayout(row)
        self.exchange_note = QLabel()  # why the buttons above are greyed out, when they are
        self.exchange_note.setStyleSheet("color: #9a6700;")
        self.exchange_note.setWordWrap(True)
        lay.addWidget(self.exchange_note)
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setPlaceholderText("导入报告会显示在这里")
        lay.addWidget(self.report, 1)
        return w

    def _history_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        self.history = QTableWidget(0, 6)
        self.history.setHorizontalHeaderLabels(["方向", "站点", "批次", "时间", "记录数", "确认"])
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.horizontalHeader().setStretchLastSection(True)
        lay.addWidget(self.history, 1)
        self.pending_label = QLabel()
        lay.addWidget(self.pending_label)
        return w

    def _conflicts_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        split = QSplitter()
        self.conflict_list = QListWidget()
        self.conflict_list.currentItemChanged.connect(self._show_conflict)
        split.addWidget(self.conflict_list)
        right = QWidget()
        rl = QVBoxLayout(right)
        self.conflict_note = QLabel()
        self.conflict_note.setWordWrap(True)
        rl.addWidget(self.conflict_note)
        self.sides = QTableWidget(0, 3)
        self.sides.setHorizontalHeaderLabels(["字段", "本站", "对方"])
        self.sides.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.sides.horizontalHeader().setStretchLastSection(True)
        rl.addWidget(self.sides, 1)
        buttons = QHBoxLayout()
        self.keep_local = QPushButton("采用本站")
        self.take_remote = QPushButton("采用对方")
        self.dismiss = QPushButton("已跟进，关闭")
        self.keep_local.clicked.connect(lambda: self.resolve_current("local"))
        self.take_remote.clicked.connect(lambda: self.resolve_current("remote"))
        self.dismiss.clicked.connect(lambda: self.resolve_current("dismiss"))
        for b in (self.keep_local, self.take_remote, self.dismiss):
            buttons.addWidget(b)
        rl.addLayout(buttons)
        split.addWidget(right)
        split.setStretchFactor(1, 3)
        lay.addWidget(split)
        return w

    def _keys_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        top = QHBoxLayout()
        self.own_key = QLabel()
        self.own_key.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.own_key.setWordWrap(True)
        self.own_key.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        top.addWidget(self.own_key, 1)
        self.qr = QLabel()  # the public key file as a QR code: scan it, check the fingerprint
        self.qr.setToolTip("本站公钥二维码：对方可扫码获取公钥，并电话核对指纹")
        top.addWidget(self.qr)
        lay.addLayout(top)
        row = QHBoxLayout()
        self.init_btn = QPushButton("生成本站密钥")
        self.init_btn.clicked.connect(self._ask_init)
        self.pub_btn = QPushButton("导出本站公钥…")
        self.pub_btn.clicked.connect(self._ask_export_public)
        self.trust_btn = QPushButton("导入对方公钥…")
        self.trust_btn.clicked.connect(self._ask_trust)
        self.revoke_btn = QPushButton("吊销所选站点")
        self.revoke_btn.clicked.connect(self._ask_revoke)
        for b in (self.init_btn, self.pub_btn, self.trust_btn, self.revoke_btn):
            row.addWidget(b)
        lay.addLayout(row)
        self.trusted = QTableWidget(0, 6)
        self.trusted.setHorizontalHeaderLabels(
            ["代码", "名称", "角色", "指纹", "信任自", "负责村/状态"]
        )
        self.trusted.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.trusted.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.trusted.horizontalHeader().setStretchLastSection(True)
        lay.addWidget(self.trusted, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("入户终端负责的村（逗号分隔）："))
        self.villages = QLineEdit()
        row.addWidget(self.villages, 1)
        self.assign_btn = QPushButton("分配给所选终端")
        self.assign_btn.clicked.connect(self.assign_selected)
        row.addWidget(self.assign_btn)
        lay.addLayout(row)
        self.assign_note = QLabel(
            "改动分配后，下一批发往该终端时：新分配村的户全部下发；不再分配的村的户从该终端撤回"
            "（有未上传修改的户，待其上传并经本站确认后撤回）。"
        )
        self.assign_note.setWordWrap(True)
        lay.addWidget(self.assign_note)
        self.trusted.itemSelectionChanged.connect(self._show_villages)
        return w

    # -- state ----------------------------------------------------------------
    def refresh(self) -> None:
        from ..models.site import get_site

        site = get_site(self.store)
        has = keymod.has_keys(self.store) if self.store.path != ":memory:" else False
        self.site_label.setText(
            f"本站：{site.code} {site.name}（{ROLES.get(site.role, site.role)}）"
            if site
            else "本站尚未初始化"
        )
        sites = keymod.trusted_sites(self.store)
        self._fill_destinations(sites)
        self._show_exchange_state(has)
        self.init_btn.setEnabled(not has)
        self.own_key.setText(self._own_key_text(has))
        self._fill_trusted(sites)
        self._fill_history()
        self._fill_conflicts()

    def _fill_destinations(self, sites: list[keymod.TrustedSite]) -> None:
        current = self.dest.currentData()
        self.dest.clear()
        for s in sites:
            if not s.revoked:
                self.dest.addItem(f"{s.key.code} {s.key.name}", s.key.code)
        if current is not None and self.dest.findData(current) >= 0:
            self.dest.setCurrentIndex(self.dest.findData(current))

    def _show_exchange_state(self, has: bool) -> None:
        """Export and import are usable only with this site's keys and a destination."""
        for b in (self.import_btn, self.pub_btn):
            b.setEnabled(has)
        self.export_btn.setEnabled(has and self.dest.count() > 0)
        if not has:
            note = "还没有本站密钥，不能导出或导入批次：请先在“密钥与信任”页生成本站密钥。"
        elif not self.dest.count():
            note = "还没有信任的对方站点，不能导出批次：请先在“密钥与信任”页导入对方公钥。"
        else:
            note = ""
        self.exchange_note.setText(note)
        self.exchange_note.setVisible(bool(note))

    def _fill_trusted(self, sites: list[keymod.TrustedSite]) -> None:
        self.trusted.setRowCount(len(sites))
        for i, s in enumerate(sites):
            state = f"已吊销 {s.revoked_at}" if s.revoked else "、".join(s.villages)
            for j, v in enumerate(
                (
                    s.key.code,
                    s.key.name,
                    ROLES.get(s.key.role, s.key.role),
                    s.key.fingerprint,
                    s.since,
                    state,
                )
            ):
                self.trusted.setItem(i, j, QTableWidgetItem(v))
        self.trusted.resizeColumnsToContents()  # fingerprints are read out whole

    def _fill_history(self) -> None:
        hist = history(self.store)
        self.history.setRowCount(len(hist))
        for i, b in enumerate(hist):
            counts = str(sum(json.loads(b["counts"]).values()))
            refused = len(json.loads(b["report"] or "{}").get("refused", []))
            if refused:  # kept with the batch: changes beyond the sender's scope
                counts += f"（{REFUSED} {refused} 条）"
            ack = "—" if b["direction"] == "in" else (b["acked_at"] or "待确认")
            vals = (
                "发出" if b["direction"] == "out" else "收到",
                b["peer"],
                str(b["seq"]),
                b["processed_at"],
                counts,
                ack,
            )
            for j, v in enumerate(vals):
                self.history.setItem(i, j, QTableWidgetItem(v))
        pend, held = pending_acks(self.store), held_batches(self.store)
        names = ", ".join("{}#{}".format(p["peer"], p["seq"]) for p in pend)
        self.pending_label.setText(
            f"待对方确认：{len(pend)} 批"
            + (f"（{names}）" if pend else "")
            + f"；暂存待补齐：{len(held)} 批"
            + (f"（{', '.join(held)}）" if held else "")
        )

    def _own_key_text(self, has: bool) -> str:
        self.qr.clear()
        if not has:
            return "本站还没有密钥：请先生成，再把公钥交给对方站点。"
        pub = self.own_public()
        if pub is None:
            return "本站密钥有口令保护（导出或导入时输入口令）。"
        self.qr.setPixmap(qr_pixmap(keymod.qr_matrix(pub)))
        return (
            f"本站公钥指纹：{pub.fingerprint}\n本站加密密钥：{pub.age_recipient}\n\n"
            "把公钥文件（或右侧二维码）交给对方站点，并电话核对指纹。"
        )

    def own_public(self) -> keymod.PublicKey | None:
        """This site's public key, without asking for the passphrase where the file allows."""
        try:
            return keymod.own_public(self.store) or self.keys(ask=False).public
        except MzError:
            return None

    def keys(self, ask: bool = True) -> keymod.SiteKeys:
        """Unlock this site's keys once per page; asks for the passphrase when there is one."""
        if self._keys is None:
            try:
                self._keys = keymod.load_keys(self.store)
            except MzError as exc:
                if exc.code != "passphrase" or not ask:
                    raise
                hint = (
                    f"请输入口令（输入一次后，账号 {self.store.operator} 登录即可解锁，无需再输）："
                    if self.store.login_password
                    else "请输入口令："
                )
                text, ok = QInputDialog.getText(
                    self, "本站私钥口令", hint, QLineEdit.EchoMode.Password
                )
                if not ok:
                    raise
                self._keys = keymod.load_keys(self.store, text)
        return self._keys

    # -- actions (called by the buttons, and by tests with real paths) ---------
    def export_to(self, path: str | Path) -> None:
        to = self.dest.currentData()
        if not to:
            self._fail("请先选择目的站点（在“密钥与信任”中导入对方公钥）")
            return
        keys, full = self.keys(), self.full.isChecked()

        def job(store, progress, cancel):
            return export_batch(store, keys, to, path, full=full, progress=progress, cancel=cancel)

        def done(res: ExportResult) -> None:
            self.report.setPlainText(
                f"已写出发给 {res.peer} 的第 {res.sequence} 批：{res.path}\n{res.summary()}"
            )
            self.refresh()

        self._task = run_with_progress(
            self, "导出同步批次", self.store, job, on_done=done, on_error=self._error
        )

    def import_from(self, path: str | Path) -> None:
        keys = self.keys()
        data = Path(path).read_bytes()
        name = Path(path).name

        def job(store, progress, cancel):
            return import_batch(store, keys, data, name, progress=progress, cancel=cancel)

        def done(report: ImportReport) -> None:
            self.last_report = report
            self.report.setPlainText(report.text())
            self.refresh()
            self.changed.emit()

        self._task = run_with_progress(
            self, "导入同步批次", self.store, job, on_done=done, on_error=self._error
        )

    def resolve_current(self, choice: str) -> None:
        item = self.conflict_list.currentItem()
        if item is None:
            return
        cid = item.data(Qt.ItemDataRole.UserRole)
        if ops.run(
            self,
            lambda: conflicts.resolve_conflict(self.store, cid, choice),
            on_error=self._refused,
        ):
            self.refresh()
            self.changed.emit()

    def trust_file(self, path: str | Path) -> keymod.TrustedSite | None:
        done = ops.run(
            self,
            lambda: keymod.trust(self.store, keymod.PublicKey.read_file(path)),
            on_error=self._refused,
        )
        if not done:
            return None
        self.refresh()
        return done.value

    def _show_villages(self) -> None:
        """The selected field laptop's villages, ready to edit."""
        row = self.trusted.currentRow()
        site = (
            keymod.get_trusted(self.store, self.trusted.item(row, 0).text()) if row >= 0 else None
        )
        if site is not None and site.key.role == "field":
            self.villages.setText("，".join(site.villages))

    def assign_selected(self) -> None:
        row = self.trusted.currentRow()
        if row < 0:
            return
        code = self.trusted.item(row, 0).text()
        vs = [v.strip() for v in self.villages.text().replace("，", ",").split(",") if v.strip()]
        if ops.run(
            self,
            lambda: scoping.reassign(self.store, code, vs),
            self.assign_note.setText,
            on_error=self._refused,
        ):
            self.refresh()

    # -- conflicts ------------------------------------------------------------
    def _fill_conflicts(self) -> None:
        self.conflict_list.clear()
        self._conflicts: dict[int, dict] = {}
        for c in conflicts.open_conflicts(self.store):
            item = QListWidgetItem(conflicts.conflict_title(c))
            # the id only: the conflict itself stays a Python dict (no QVariant round trip)
            item.setData(Qt.ItemDataRole.UserRole, c["id"])
            self._conflicts[c["id"]] = c
            self.conflict_list.addItem(item)
        self.tabs.setTabText(
            2, f"冲突 ({self.conflict_list.count()})" if self.conflict_list.count() else "冲突"
        )
        self._show_conflict(self.conflict_list.currentItem())

    def _show_conflict(self, item, _previous=None) -> None:
        self.sides.setRowCount(0)
        if item is None:
            self.conflict_note.setText("没有待处理的冲突")
            for b in (self.keep_local, self.take_remote, self.dismiss):
                b.setEnabled(False)
            return
        c = self._conflicts[item.data(Qt.ItemDataRole.UserRole)]
        self.conflict_note.setText(f"来自站点 {c['peer']} 第 {c['batch_seq']} 批：{c['note']}")
        sides = conflicts.conflict_sides(c)  # IDs masked: the page may be on a shared screen
        self.sides.setRowCount(len(sides))
        for i, (*cells, clash) in enumerate(sides):
            for j, v in enumerate(cells):
                cell = QTableWidgetItem(v)
                if clash:
                    cell.setBackground(QColor("#ffe0b2"))
                self.sides.setItem(i, j, cell)
        edit = c["kind"] == "edit"
        self.keep_local.setEnabled(edit)
        self.take_remote.setEnabled(edit)
        self.dismiss.setEnabled(not edit)

    # -- dialogs ---------------------------------------------------------------
    def _ask_export(self) -> None:
        to = self.dest.currentData() or "site"
        path = file_dialogs.save_file(
            self, "sync", "导出同步批次", f"mzdesk-to-{to}.age", "同步批次 (*.age)"
        )
        if path:
            self.export_to(path)

    def _ask_import(self) -> None:
        path = file_dialogs.open_file(
            self, "sync", "导入同步批次", "同步批次 (*.age);;所有文件 (*)"
        )
        if path:
            self.import_from(path)

    def _ask_init(self) -> None:
        text, ok = QInputDialog.getText(
            self, "生成本站密钥", "私钥口令（可留空，建议设置）：", QLineEdit.EchoMode.Password
        )
        if ok:
            ops.run(
                self,
                lambda: keymod.init_keys(self.store, text or None),
                self._set_keys,
                on_error=self._refused,
            )
            self.refresh()

    def _ask_export_public(self) -> None:
        path = ask_save_path(self, "导出本站公钥", "site-public.json", ".json", "公钥")
        if path:
            pub = self.own_public() or self.keys().public
            save_reporting(
                self, "本站公钥", path, lambda: Path(path).write_text(pub.to_json(), "utf-8")
            )

    def _ask_trust(self) -> None:
        path = file_dialogs.open_file(self, "sync", "导入对方公钥", "公钥 (*.json)")
        if not path:
            return
        read = ops.run(self, lambda: keymod.PublicKey.read_file(path), on_error=self._refused)
        if not read:
            return
        pk = read.value
        answer = QMessageBox.question(
            self,
            "核对指纹",
            f"{pk.code} {pk.name}（{ROLES.get(pk.role, pk.role)}）\n指纹：{pk.fingerprint}\n\n请与对方电话核对指纹，一致后再信任。是否信任？",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.trust_file(path)

    def _ask_revoke(self) -> None:
        row = self.trusted.currentRow()
        if row < 0:
            return
        code = self.trusted.item(row, 0).text()
        superior = keymod.is_superior(self.store, code)
        warn = "它是本站的上级站点，吊销后本站将无法再与其同步（须管理员）。" if superior else ""
        if QMessageBox.question(
            self, "吊销密钥", f"吊销站点 {code} 的密钥？此后其批次一律拒收。{warn}"
        ) == (QMessageBox.StandardButton.Yes):
            # the question is the confirmation; the role is checked by the service
            ops.run(
                self,
                lambda: keymod.revoke(self.store, code, confirmed=True),
                on_error=self._refused,
            )
            self.refresh()

    def _error(self, code: str, message: str) -> None:
        self._fail(message)
        self.refresh()  # a held batch shows up in the list

    def _refused(self, exc: MzError) -> None:
        self._fail(exc.message)

    def _set_keys(self, keys: keymod.SiteKeys) -> None:
        self._keys = keys

    def _fail(self, message: str) -> None:
        self.last_error = message
        self.report.setPlainText("未导入/未导出：" + message)
