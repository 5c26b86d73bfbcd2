"""docs/cases-page.png and docs/cases-stats.png: the 临时·医疗救助 page and the statistics
page of a demo township (400 households, seed 7), offscreen.

Usage: PYTHONPATH=. QT_QPA_PLATFORM=offscreen python scripts/screenshot_cases.py docs
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
from mzdesk.models import cases
from mzdesk.models.demo import generate_demo
from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from mzdesk.ui.cases_page import CasesPage
from mzdesk.ui.stats_dashboard import StatsDashboard

register_hooks()
out = Path(sys.argv[1])
store = Store.open(Path(tempfile.mkdtemp()) / "d.sqlite", operator="王丽")
init_site(store, "341623101", "青山镇民政办")
generate_demo(store, 400, seed=7)
app = QApplication([])
_use_bundled_font(app)
page = CasesPage(store)
page.resize(1340, 640)
page.show()
app.processEvents()
page.grab().save(str(out / "cases-page.png"))
paid = sorted({c.paid_on[:7] for c in cases.list_cases(store) if c.paid_on})
month = dt.date.fromisoformat(paid[-2] + "-01")  # the last full month
dash = StatsDashboard(store, month=month)
dash.resize(1340, 700)
dash.show()
app.processEvents()
dash.grab().save(str(out / "cases-stats.png"))
