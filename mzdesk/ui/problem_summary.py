"""The summary under a form: "有3处需要修改：" and then *every* problem, each a link
that takes the clerk to its field (``focus(problem)``).

>>> # summary = ProblemSummary(focus=lambda p: form.focus_field(p.field))
>>> # summary.show_problems(problems)
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from ..models.errors import FieldError

ERROR_STYLE = "color: #c0392b;"


class ProblemSummary(QLabel):
    """Every problem of the last check, each clickable; empty (hidden) when none."""

    def __init__(self, focus: Callable[[FieldError], object] | None = None, parent=None):
        super().__init__(parent)
        self.focus = focus
        self.problems: list[FieldError] = []
        self.setStyleSheet(ERROR_STYLE)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.linkActivated.connect(self._clicked)
        self.hide()

    def show_problems(self, problems: list[FieldError]) -> None:
        self.problems = list(problems)
        if not self.problems:
            self.setText("")
            self.hide()
            return
        links = [
            f'<a href="{i}" style="color: #c0392b;">{html.escape(p.message)}</a>'
            for i, p in enumerate(self.problems)
        ]
        head = f"有{len(links)}处需要修改：" if len(links) > 1 else "需要修改："
        self.setText(head + "；".join(links))
        self.show()

    def show_message(self, message: str) -> None:
        """A refusal that belongs to no field (shown as plain text)."""
        self.problems = []
        self.setText(html.escape(message))
        self.setVisible(bool(message))

    def messages(self) -> list[str]:
        return [p.message for p in self.problems]

    def activate(self, index: int) -> None:
        """Go to the field of problem ``index`` (what a click on it does)."""
        if self.focus is not None and 0 <= index < len(self.problems):
            self.focus(self.problems[index])

    def _clicked(self, href: str) -> None:
        self.activate(int(href))
