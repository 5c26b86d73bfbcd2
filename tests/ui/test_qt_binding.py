"""The Qt binding must not leak references: PySide6 6.12.0 dropped one reference to None on
every call of a void method, and on Python 3.11 (where None is not immortal) the GUI aborted
with "deallocating None" after a few thousand calls (refreshing the sync page's QR code was
enough).  pyproject pins the 6.11 series on 3.11; this test catches a binding that regresses."""

from __future__ import annotations

import sys

from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QLabel


def test_void_methods_keep_none_alive(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    img = QImage(8, 8, QImage.Format.Format_RGB32)
    before = sys.getrefcount(None)
    painter = QPainter(img)
    for i in range(500):
        label.setText(str(i))
        painter.fillRect(0, 0, 2, 2, QColor("black"))
    painter.end()
    # a few references may come and go; a leak would be thousands
    assert abs(sys.getrefcount(None) - before) < 200
