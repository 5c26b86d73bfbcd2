"""A 告知书 and the 办理时限 queue as pictures: docs/letter-not-accept.png, docs/deadlines-queue.png.

Usage: QT_QPA_PLATFORM=offscreen python scripts/screenshot_letters.py docs
The letter is printed by the service to a PDF and rendered with ``pdftoppm`` (poppler);
the queue is a demo township's work-queue page grabbed offscreen at 1366×728.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from mzdesk.app import _use_bundled_font  # noqa: E402
from mzdesk.hooks import register_hooks  # noqa: E402
from mzdesk.models import enrolment as enr  # noqa: E402
from mzdesk.models import enrolment_states as states  # noqa: E402
from mzdesk.models.demo import generate_demo  # noqa: E402
from mzdesk.models.household import Household, Member  # noqa: E402
from mzdesk.models.ids import check_char  # noqa: E402
from mzdesk.models.registry import Registry  # noqa: E402
from mzdesk.models.site import init_site  # noqa: E402
from mzdesk.models.store import Store  # noqa: E402
from mzdesk.reports.letters_pdf import write_letter  # noqa: E402
from mzdesk.ui.work_queues import DEADLINES, WorkQueues  # noqa: E402


def _id(born: str, seq: int) -> str:
    body = f"341623{born}{seq:03d}"
    return body + check_char(body)


def letter_png(folder: Path, work: Path) -> Path:
    store = Store.open(work / "letter.sqlite", operator="王丽")
    init_site(store, "341623101", "青山镇")
    h = Registry(store).save(
        Household(
            village="红旗村",
            village_group="一组",
            members=[
                Member(name="张三丰", relation="户主", id_number=_id("19580101", 1)),
                Member(name="李四妹", relation="配偶", id_number=_id("19600202", 2)),
            ],
        )
    )
    e = enr.create(
        store, h.id, "rural_dibao", cls="二类", monthly_fen=76000, applied_on=dt.date(2026, 11, 2)
    )
    reason = (
        "经核查，申请人名下登记有小型汽车一辆（非生产经营用途），不符合本县最低生活保障财产条件。"
    )
    states.not_accept(store, e.id, reason, dt.date(2026, 11, 9))
    pdf = work / "letter.pdf"
    write_letter(store, e.id, "not_accept", pdf, dt.date(2026, 11, 10))
    store.close()
    out = folder / "letter-not-accept"
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-singlefile", str(pdf), str(out)], check=True)
    return out.with_suffix(".png")


def queue_png(folder: Path, work: Path) -> Path:
    store = Store.open(work / "demo.sqlite", operator="王丽")
    init_site(store, "341623101", "青山镇")
    generate_demo(store, 300, seed=1)
    app = QApplication.instance() or QApplication(sys.argv)
    _use_bundled_font(app)
    w = WorkQueues(store)
    w.tabs.setCurrentWidget(w.tables[DEADLINES])
    w.tables[DEADLINES].resizeColumnsToContents()
    w.resize(1366, 728)
    w.show()
    app.processEvents()
    out = folder / "deadlines-queue.png"
    w.grab().save(str(out))
    store.close()
    return out


if __name__ == "__main__":
    register_hooks()
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    with tempfile.TemporaryDirectory() as tmp:
        print(letter_png(target, Path(tmp)))
        print(queue_png(target, Path(tmp)))
