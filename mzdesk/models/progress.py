"""Progress and cancel for long work (import, export, PDF batches, sync).

A long core function takes ``progress(done, total)`` and ``cancel()`` callbacks, so
the GUI worker, the CLI and the tests drive the same code.  When ``cancel()`` turns
true the function raises :class:`Cancelled`, inside its transaction, so nothing of
the cancelled work is kept.

>>> def work(progress: Progress, cancel: Cancel) -> None:
...     for i in range(3):
...         if cancel():
...             raise Cancelled()
...         progress(i + 1, 3)
>>> work(lambda done, total: None, lambda: True)
Traceback (most recent call last):
...
mzdesk.models.progress.Cancelled: 操作已取消
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import MzError

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called as the work advances."""
Cancel = Callable[[], bool]
"""``cancel()``: true once the user asked to stop."""


class Cancelled(MzError):
    """The user cancelled a long operation (操作已取消)."""

    code = "cancelled"

    def __init__(self) -> None:
        super().__init__("操作已取消")
