"""docs/income-calculation.png: the 收入核算 dialog on an example household, offscreen.

Usage: PYTHONPATH=. QT_QPA_PLATFORM=offscreen python scripts/screenshot_income.py docs/income-calculation.png
"""

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtWidgets import QApplication

from mzdesk.app import _use_bundled_font
from mzdesk.hooks import register_hooks
from mzdesk.models import enrolment as enr
from mzdesk.models.household import Household, Member
from mzdesk.models.registry import Registry
from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from mzdesk.ui.enrolment_panel import EnrolmentPanel
from tests.helpers import make_id

register_hooks()
out = Path(sys.argv[1])
store = Store.open(Path(tempfile.mkdtemp()) / "d.sqlite", operator="王丽")
init_site(store, "341623101", "青山镇民政办")
h = Registry(store).save(
    Household(
        village="红旗村",
        village_group="一组",
        members=[
            Member(
                name="张建国",
                relation="户主",
                id_number=make_id("19750315", 1),
                income={"wage": 150000},
            ),
            Member(
                name="李秀英",
                relation="配偶",
                id_number=make_id("19780620", 2),
                income={"farm": 25000},
            ),
            Member(
                name="张小雨", relation="女", id_number=make_id("20120910", 4), occupation="在校生"
            ),
            Member(
                name="张德福",
                relation="父母",
                id_number=make_id("19480505", 3),
                income={"pension": 18500},
                health="大病",
            ),
        ],
    )
)
e = enr.create(store, h.id, "rural_dibao", cls="二类", applied_on=dt.date.today())
app = QApplication([])
_use_bundled_font(app)
panel = EnrolmentPanel(store, h.id)
panel.resize(1366, 768)
dlg = panel.open_income()
dlg.rigid["medical"].setText("8600")
dlg.rigid["education"].setText("1200")
dlg.support.setText("1200")
dlg.recompute()
dlg.show()
app.processEvents()
dlg.grab().save(str(out))
print(out, dlg.width(), dlg.height(), dlg.result.text())
