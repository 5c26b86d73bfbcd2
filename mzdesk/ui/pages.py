"""Where each capability plugs into the window: main-window pages and menu
entries, and tabs on the household form.  One list per place, so adding a
capability is one entry here and nothing in the window code.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from ..models.store import Store


def household_tabs(store: Store, household_id: int, parent: QWidget) -> list[tuple[str, QWidget]]:
    """Panels shown as tabs on the form of a saved household."""
    from .visits_panel import VisitsPanel

    return [
        ("入户与跟进", VisitsPanel(store, household_id, parent)),
    ]


def install(window) -> None:
    """Add every capability's pages and menus to the main window."""
    from .visits_panel import TodayVisitsView, VillagePrintDialog

    store = window.store
    window.add_page("今日入户", TodayVisitsView(store))
    visits_menu = window.add_menu("入户核查(&V)")
    act = QAction("按村批量打印核查表/关爱簿…", window)
    act.triggered.connect(lambda: VillagePrintDialog(store, window).exec())
    visits_menu.addAction(act)
