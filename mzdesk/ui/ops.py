"""Short GUI actions: one busy cursor, one error path (Anki's ``CollectionOp``, in small).

A button handler hands the core call to :func:`run` instead of catching errors itself::

    ops.run(self, lambda: enr.stop(store, eid, reason=r), self._stopped, title="停发")

``fn`` runs on the GUI thread under a busy cursor.  When it returns, the cursor is
restored and ``on_done(result)`` is called.  When it raises :class:`MzError`, the cursor
is restored and the error goes to ``on_error(exc)``, by default the one warning dialog,
:func:`show_error`, with the core's Chinese message.  Any other exception is a bug and
propagates unchanged.

Long work (imports, exports, PDF batches, sync) runs in a thread through
:func:`mzdesk.ui.worker.run_with_progress`; its failures reach the same
:func:`show_error` unless the caller passes its own ``on_error``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from ..models.errors import MzError

T = TypeVar("T")


def show_error(parent: QWidget | None, title: str, error: MzError | str) -> None:
    """The one dialog that shows a refused action: ``title`` and the core's message."""
    message = error.message if isinstance(error, MzError) else error
    QMessageBox.warning(parent, title, message)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What :func:`run` did: true when ``fn`` returned; ``value`` is its result."""

    value: T | None = None
    error: MzError | None = None

    def __bool__(self) -> bool:
        return self.error is None


def run(
    parent: QWidget | None,
    fn: Callable[[], T],
    on_done: Callable[[T], object] | None = None,
    *,
    title: str = "操作",
    on_error: Callable[[MzError], object] | None = None,
) -> Outcome[T]:
    """Run ``fn()`` under a busy cursor; hand its result to ``on_done`` or its error to
    ``on_error`` (default: :func:`show_error` with ``title``).  Returns the outcome."""
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        result = fn()
    except MzError as exc:
        QApplication.restoreOverrideCursor()  # never a busy cursor over the error
        if on_error is None:
            show_error(parent, title, exc)
        else:
            on_error(exc)
        return Outcome(error=exc)
    except BaseException:
        QApplication.restoreOverrideCursor()
        raise
    QApplication.restoreOverrideCursor()
    if on_done is not None:
        on_done(result)
    return Outcome(value=result)
