"""County review queue (县级审核确认): submitted enrolments from every township.

Shows each 待审核 enrolment with what came with it — the transition history
(investigation, deliberation), the notice it was on and its objections — and
records 审核确认 or 不予确认 with a reason.  The decision travels back to the
township in a sync batch (the sync module carries enrolment events).

On a township installation the same panel records a county decision that
arrived on paper; the banner says which role this installation has.

Wiring: for role ``county`` a main page "审核确认" → ``CountyReview(store)``.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..models import enrolment as enr
from ..models import notice as nt
from ..models import notice_rules, relatives
from ..models.money import format_fen
from ..models.site import get_site
from ..models.store import Store
from ..models.work_queues import queue
from . import ops
from .background_refresh import Refresher
from .enrolment_panel import ACTION_LABELS, fill, table


def _load(store: Store) -> tuple[list[dict], dict[int, list]]:
    """The 待审核 queue and the 近亲属备案 flags by enrolment id."""
    flagged: dict[int, list] = {}
    for f in relatives.flagged_enrolments(store):
        flagged.setdefault(f.enrolment_id, []).append(f)
    return queue(store, "submitted"), flagged


class CountyReview(QWidget):
    decided = Signal(int, str)  # enrolment id, new state

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        site = get_site(store)
        role = site.role if site else "township"
        self.banner = QLabel(
            "县级审核：以下为各乡镇报送的待审核对象"
            if role == "county"
            else "本机为乡镇端：此处登记县民政局的审核结果（纸质批复）"
        )
        self.list = table(("编号", "村组", "姓名", "类别", "保障人口", "金额(元)", "申请日期"))
        self.list.itemSelectionChanged.connect(self._show)
        self.detail = QTextBrowser()
        self.confirm_btn = QPushButton("审核确认")
        self.reject_btn = QPushButton("不予确认…")
        self.confirm_btn.clicked.connect(lambda: self.confirm_selected())
        self.reject_btn.clicked.connect(self._reject_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.confirm_btn)
        buttons.addWidget(self.reject_btn)
        buttons.addStretch(1)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(self.detail)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self.rows: list[dict] = []
        self.flagged: dict[int, list] = {}
        # at a county the queue takes seconds: loaded in a worker then (background_refresh)
        self.refresher = Refresher(self, store, "正在读取待审核对象…", _load, self._show_rows)
        self.refresh()

    def refresh(self) -> None:
        self.refresher.refresh()

    def _show_rows(self, data: tuple[list[dict], dict[int, list]]) -> None:
        # the 近亲属备案 flags, read once per refresh (not once per row clicked)
        self.rows, self.flagged = data
        fill(
            self.list,
            [
                (
                    r["id"],
                    f"{r['village']}{r['village_group']}",
                    r["name"],
                    f"{r['category_name']} {r['cls']}".strip(),
                    r["covered"],
                    format_fen(r["monthly_fen"]),
                    r["applied_on"],
                )
                for r in self.rows
            ],
        )
        if self.rows:
            self.list.selectRow(0)
        self._show()

    def current_id(self) -> int | None:
        sel = self.list.selectionModel().selectedRows()
        return self.rows[sel[0].row()]["id"] if sel and self.rows else None

    def _show(self) -> None:
        eid = self.current_id()
        self.confirm_btn.setEnabled(eid is not None)
        self.reject_btn.setEnabled(eid is not None)
        if eid is None:
            self.detail.setHtml("<p>没有待审核的对象</p>")
            return
        parts = []
        for f in self.flagged.get(eid, []):  # the county visits every one of these (近亲属备案)
            d = f.as_dict()
            who = f"{f.member_name}是{d['role_label']}{f.declarant_name}的{d['relation_label']}"
            parts.append(
                f"<p style='color:#b00020'><b>近亲属备案对象</b>：{escape(who)}"
                "，县级须逐户入户核查</p>"
            )
        parts.append("<h3>办理经过</h3><ul>")
        for h in enr.history(self.store, eid):
            extra = ""
            if h["detail"].get("investigators"):
                extra = f"（调查人：{'、'.join(h['detail']['investigators'])}；核对：{h['detail'].get('verification', '')}）"
            elif h["detail"].get("attendance"):
                extra = f"（参会{h['detail']['attendance']}人：{h['detail'].get('result', '')}）"
            line = f"{h['at']} {h['by']} {ACTION_LABELS.get(h['action'], h['action'])}{extra} {h['reason']}"
            parts.append(f"<li>{escape(line)}</li>")
        parts.append("</ul>")
        notice, open_count = notice_rules.notice_status(self.store, eid)
        if notice:
            parts.append(
                f"<h3>公示</h3><p>公示{notice['id']}：{notice['start_on']} 至 {notice['end_on']}</p>"
            )
        objs = nt.objections(self.store, enrolment_id=eid)
        parts.append(f"<h3>异议（{len(objs)}条，未处理{open_count}条）</h3><ul>")
        for o in objs:
            line = (
                f"{o['raised_on']} {o['raised_by']}：{o['content']} —— "
                f"核实：{o['follow_up'] or '（未处理）'}；结果：{o['outcome']}"
            )
            parts.append(f"<li>{escape(line)}</li>")
        parts.append("</ul>")
        self.detail.setHtml("".join(parts))

    def confirm_selected(self, today: dt.date | None = None) -> bool:
        return self._decide(lambda eid: enr.confirm(self.store, eid, today=today), "审核确认")

    def reject_selected(self, reason: str, today: dt.date | None = None) -> bool:
        return self._decide(
            lambda eid: enr.reject(self.store, eid, reason, today=today), "不予确认"
        )

    def _decide(self, fn, title: str) -> bool:
        eid = self.current_id()
        if eid is None:
            return False
        return bool(ops.run(self, lambda: fn(eid), self._decided, title=title))

    def _decided(self, e: enr.Enrolment) -> None:
        self.decided.emit(e.id, e.state)
        self.refresh()

    def _reject_clicked(self) -> None:
        reason, ok = QInputDialog.getText(self, "不予确认", "不予确认的理由（将书面告知申请人）：")
        if ok:
            self.reject_selected(reason)
