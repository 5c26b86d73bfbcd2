"""Windows that fit the screens township offices have (1366×768 under a taskbar, 1280×720).

:func:`fit_to_screen` sizes a window to what it prefers, but never larger than the
available screen area less a title bar, and keeps it on screen.  Dialogs call it with
their preferred size instead of ``resize()``; long content goes in a scroll area so
that the minimum size stays small and OK/Save stay visible.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

TITLE_BAR = 32  # a window frame's title bar (not part of geometry())
MARGIN = 8  # frame borders


def available(widget: QWidget) -> QRect:
    """The screen area a window may use (without the taskbar)."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return QRect(screen.availableGeometry())


def largest(widget: QWidget) -> QSize:
    """The largest client size whose frame still fits the available area."""
    area = available(widget)
    return QSize(area.width() - 2 * MARGIN, area.height() - TITLE_BAR - MARGIN)


def fit_to_screen(widget: QWidget, preferred: QSize | None = None) -> None:
    """Resize ``widget`` to ``preferred`` (its current size) within the available area."""
    want = preferred or widget.size()
    most = largest(widget)
    widget.resize(min(want.width(), most.width()), min(want.height(), most.height()))
    area = available(widget)
    x = area.x() + max(0, (area.width() - widget.width()) // 2)
    y = area.y() + max(0, (area.height() - TITLE_BAR - widget.height()) // 2)
    if widget.parentWidget() is None or widget.isWindow():
        widget.move(x, y)
