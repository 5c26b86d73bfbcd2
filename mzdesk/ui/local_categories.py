"""地方类别: the township's own assistance categories — list, add, edit, retire.

All the work is :mod:`mzdesk.models.categories` (``add_local_category``,
``retire_local_category``); 新增/修改 open a :class:`FieldsDialog` that checks before it
closes.  A retired (停用) category takes no new applications; what it already holds goes on.

Wiring: 管理 → 地方类别 (ui/pages.py).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models import dates
from ..models.categories import add_local_category, local_categories, retire_local_category
from ..models.store import Store
from . import ops
from .fields_dialog import FieldsDialog

UNIT_LABELS = {"person": "按人", "household": "按户"}
PAYMENT_LABELS = {"monthly": "按月发放", "one_off": "一次性", "none": "不发放（仅监测）"}
COLUMNS = ("代码", "名称", "保障单位", "发放方式", "复核周期", "档次", "状态")


class LocalCategoriesPage(QWidget):
    """The township's local categories in a table with 新增 / 修改 / 停用·恢复."""

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.rows: list[dict] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        self.add_btn = QPushButton("新增类别…")
        self.edit_btn = QPushButton("修改…")
        self.retire_btn = QPushButton("停用")
        self.add_btn.clicked.connect(lambda: self.open_editor())
        self.edit_btn.clicked.connect(lambda: self.edit_selected())
        self.retire_btn.clicked.connect(lambda: self.toggle_retired())
        self.status = QLabel()
        intro = QLabel(
            "本乡镇（县）自行设立的救助类别，例如县级困难群众补贴。国家规定的类别不在此处修改。"
            "停用后不再受理新申请，已有的保障记录照常保留。"
        )
        intro.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (self.add_btn, self.edit_btn, self.retire_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)
        root = QVBoxLayout(self)
        root.addWidget(intro)
        root.addWidget(self.table, 1)
        root.addLayout(buttons)
        root.addWidget(self.status)
        self.reload()

    def reload(self) -> None:
        self.rows = local_categories(self.store)
        self.table.setRowCount(len(self.rows))
        for i, c in enumerate(self.rows):
            values = (
                c["code"],
                c.get("name", ""),
                UNIT_LABELS.get(c.get("unit", ""), c.get("unit", "")),
                PAYMENT_LABELS.get(c.get("payment", ""), c.get("payment", "")),
                f"{c.get('review_months', 0)}个月",
                "、".join(c.get("classes") or []),
                "已停用" if c.get("retired") else "使用中",
            )
            for j, text in enumerate(values):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.status.setText(f"共 {len(self.rows)} 个地方类别" if self.rows else "尚无地方类别")
        self._update_buttons()

    def selected(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def select_code(self, code: str) -> None:
        for i, c in enumerate(self.rows):
            if c["code"] == code:
                self.table.selectRow(i)

    def _update_buttons(self) -> None:
        c = self.selected()
        self.edit_btn.setEnabled(c is not None)
        self.retire_btn.setEnabled(c is not None)
        self.retire_btn.setText("恢复使用" if c and c.get("retired") else "停用")

    # -- add / edit -------------------------------------------------------------
    def open_editor(self, current: dict | None = None) -> FieldsDialog:
        """新增 (``current`` None) or 修改 a category; shown non-blocking, returned for tests."""
        code = QLineEdit(current["code"] if current else "")
        code.setPlaceholderText("字母、数字和下划线，例如 county_aid")
        code.setReadOnly(current is not None)  # the code is what enrolments refer to
        name = QLineEdit(current.get("name", "") if current else "")
        name.setPlaceholderText("例如 县困难群众生活补贴")
        unit, payment = QComboBox(), QComboBox()
        for combo, labels, key, default in (
            (unit, UNIT_LABELS, "unit", "person"),
            (payment, PAYMENT_LABELS, "payment", "monthly"),
        ):
            for value, label in labels.items():
                combo.addItem(label, value)
            combo.setCurrentIndex(combo.findData((current or {}).get(key, default)))
        months = QSpinBox()
        months.setRange(0, dates.MAX_REVIEW_MONTHS)
        months.setSuffix(" 个月")
        months.setValue(int((current or {}).get("review_months", 12)))
        classes = QLineEdit("、".join((current or {}).get("classes") or []))
        classes.setPlaceholderText("可不填；多个档次用顿号分隔，例如 一档、二档")

        def save() -> dict:
            return add_local_category(
                self.store,
                code.text(),
                name.text(),
                unit.currentData(),
                payment.currentData(),
                months.value(),
                [c.strip() for c in classes.text().replace(",", "、").split("、") if c.strip()],
                excludes=(current or {}).get("excludes"),
                new=current is None,
            )

        def done(cat: dict) -> None:
            self.reload()
            self.select_code(cat["code"])
            self.status.setText(f"已保存地方类别 {cat['code']} {cat['name']}")

        dlg = FieldsDialog(
            "修改地方类别" if current else "新增地方类别",
            [
                ("code", "类别代码", code),
                ("name", "类别名称", name),
                ("unit", "保障单位", unit),
                ("payment", "发放方式", payment),
                ("review_months", "复核周期", months),
                ("classes", "档次", classes),
            ],
            self,
            action=save,
            on_done=done,
            where={
                "bad_category_code": "code",
                "category_exists": "code",
                "bad_category_name": "name",
                "category_name": "name",
                "bad_category": "unit",
            },
        )
        dlg.open()
        return dlg

    def edit_selected(self) -> FieldsDialog | None:
        c = self.selected()
        return self.open_editor(c) if c else None

    # -- retire ----------------------------------------------------------------------
    def toggle_retired(self) -> bool:
        """停用 (asked first) or 恢复使用 the selected category; True when done."""
        c = self.selected()
        if c is None:
            return False
        retire = not c.get("retired")
        if retire:
            answer = QMessageBox.question(
                self,
                "停用地方类别",
                f"停用“{c.get('name', c['code'])}”？\n停用后不再受理该类别的新申请，"
                "已有的保障记录照常保留，可以随时恢复使用。",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        if not ops.run(self, lambda: retire_local_category(self.store, c["code"], retire)):
            return False
        self.reload()
        self.select_code(c["code"])
        self.status.setText(("已停用 " if retire else "已恢复使用 ") + c.get("name", c["code"]))
        return True
