"""Screenshot of the 特困 panel on the household form's 救助保障 tab: docs/tekun-panel.png.

Usage: QT_QPA_PLATFORM=offscreen python scripts/tekun_panel.py docs/tekun-panel.png
Renders offscreen at 1366×768 (QWidget.grab) a 特困 person supported at home (分散供养)
with a carer, from a temporary database.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from mzdesk.app import _use_bundled_font  # noqa: E402
from mzdesk.models import enrolment as enr  # noqa: E402
from mzdesk.models import support  # noqa: E402
from mzdesk.models.household import Household, Member  # noqa: E402
from mzdesk.models.ids import check_char  # noqa: E402
from mzdesk.models.registry import Registry  # noqa: E402
from mzdesk.models.site import init_site  # noqa: E402
from mzdesk.models.store import Store  # noqa: E402
from mzdesk.ui.household_dialog import HouseholdDialog  # noqa: E402
from mzdesk.ui.pages import household_tabs  # noqa: E402


def _id(born: str, seq: int) -> str:
    body = f"341623{born}{seq:03d}"
    return body + check_char(body)


def main(out: str) -> None:
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    store = Store.open(Path(tempfile.mkdtemp()) / "demo.sqlite", operator="王丽")
    init_site(store, "341623101", "青山镇民政办")
    h = Registry(store).save(
        Household(
            village="青山村",
            village_group="三组",
            members=[Member(name="王老五", relation="户主", id_number=_id("19400101", 5))],
        )
    )
    e = enr.create(
        store,
        h.id,
        "tekun",
        member_id=h.members[0].id,
        cls="部分丧失生活自理能力",
        monthly_fen=75000,
        applied_on=dt.date(2026, 11, 2),
    )
    enr.start_investigation(store, e.id)
    support.save(
        store,
        e.id,
        "分散",
        carer_name="李秀英",
        carer_id_number=_id("19700505", 8),
        carer_phone="13905571234",
        care_from="2026-12-01",
        care_to="2027-11-30",
    )
    app = QApplication(sys.argv[:1])
    _use_bundled_font(app)
    dlg = HouseholdDialog(store, h.id)
    for title, panel in household_tabs(store, h.id, dlg):
        dlg.add_tab(title, panel)
    dlg.tabs.setCurrentIndex(1)
    dlg.resize(1366, 768)
    dlg.show()
    app.processEvents()
    dlg.grab().save(str(out_path))
    dlg.done(0)
    store.close()
    print(out_path)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/tekun-panel.png")
