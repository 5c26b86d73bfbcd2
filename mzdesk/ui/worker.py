"""Long work off the GUI thread, with a progress dialog and a working Cancel.

Core functions that take a while accept ``progress(done, total)`` and
``cancel() -> bool`` keyword arguments (see ``Registry.bulk_create``).  The GUI
runs them with :func:`run_with_progress`; the core never sees Qt.  Short actions on
the GUI thread go through :func:`mzdesk.ui.ops.run` instead; a failure of either
reaches the same dialog, :func:`mzdesk.ui.ops.show_error`, unless the caller passes
its own ``on_error``.

A worker opens its own :class:`Store` on the same file (SQLite connections
must not cross threads), so pass a ``job(store, progress, cancel)`` callable
and the path is taken from the GUI's store.

Every started :class:`Task` is listed in :func:`running_tasks` until it ends;
the main window asks them to cancel and waits for them before it closes, so a
thread is never destroyed while it runs (Qt aborts the process when it is).
"""

from __future__ import annotations

import sqlite3
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDeadlineTimer, QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from ..models import auth
from ..models.errors import MzError
from ..models.store import Store, store_error
from .ops import show_error
from .saving import failure_reason

Job = Callable[[Store, Callable[[int, int], None], Callable[[], bool]], Any]


class Worker(QObject):
    """Runs ``job`` in a QThread; emits progress, then exactly one of finished/failed."""

    progressed = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str, str)  # code, message
    cancelled = Signal()

    def __init__(
        self, db_path: str, operator: str, job: Job, key: str | None = None, principal=None
    ):
        super().__init__()
        # who is acting (auth.Principal): the worker's store acts as the window's login
        self.principal = principal
        self.db_path = db_path
        self.key = key  # the database passphrase of an encrypted store (Store.key)
        self.operator = operator
        self.job = job
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:
        from ..models.progress import Cancelled

        store = None
        try:
            store = Store.open(self.db_path, operator=self.operator, create=False, key=self.key)
            auth.act_as(store, self.principal)
            result = self.job(store, self.progressed.emit, self._cancel.is_set)
        except Cancelled:
            self.cancelled.emit()
        except MzError as exc:
            self.failed.emit(exc.code, str(exc))
        except OSError as exc:  # a file the job writes: say which, and why, in Chinese
            where = f"\n位置：{exc.filename}" if exc.filename else ""
            self.failed.emit("os_error", f"文件操作失败。{where}\n原因：{failure_reason(exc)}")
        except sqlite3.Error as exc:  # busy, I/O error: the clear words (models/store.py)
            clear = store_error(exc, self.db_path)
            if clear is None:
                traceback.print_exc()
                self.failed.emit("internal", f"{type(exc).__name__}: {exc}")
            else:
                self.failed.emit(clear.code, str(clear))
        except Exception as exc:  # noqa: BLE001 - reported to the user, never swallowed
            traceback.print_exc()
            self.failed.emit("internal", f"{type(exc).__name__}: {exc}")
        else:
            self.finished.emit(result)
        finally:
            if store is not None:
                store.close()


_RUNNING: list[Task] = []  # started and not yet stopped; also keeps them alive


def running_tasks() -> list[Task]:
    """Tasks started and not finished, failed or cancelled yet."""
    return [t for t in _RUNNING if t.thread.isRunning()]


def stop_tasks(wait_ms: int | None) -> list[Task]:
    """Ask every running task to cancel; wait up to ``wait_ms`` in all (None: no limit).

    Returns the tasks still running (a job that cannot be cancelled, such as a
    backup, runs to its end).  Their threads quit as soon as their jobs return.
    """
    deadline = QDeadlineTimer(
        QDeadlineTimer.ForeverConstant.Forever if wait_ms is None else wait_ms
    )
    tasks = running_tasks()
    for t in tasks:
        t.cancel()
        t.thread.quit()  # the event loop ends once the job has returned
    for t in tasks:
        t.thread.wait(deadline)
    return running_tasks()


class Task(QObject):
    """A job, its thread and its progress dialog.  Keep a reference until done."""

    done = Signal(object)  # result
    error = Signal(str, str)
    cancelled = Signal()

    def __init__(
        self, parent: QWidget | None, title: str, store: Store, job: Job, show_dialog: bool = True
    ):
        super().__init__(parent)
        self.title = title
        self.thread = QThread()
        self.worker = Worker(
            store.path,
            store.operator,
            job,
            key=getattr(store, "key", None),
            principal=store.principal,
        )
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.dialog: QProgressDialog | None = None
        if show_dialog:
            dlg = QProgressDialog(title, "取消", 0, 0, parent)
            dlg.setWindowTitle(title)
            dlg.setWindowModality(Qt.WindowModality.WindowModal)
            dlg.setMinimumDuration(300)
            dlg.setAutoClose(False)
            dlg.setAutoReset(False)
            dlg.canceled.connect(self.worker.cancel)
            self.worker.progressed.connect(self._on_progress)
            self.dialog = dlg
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)

    def start(self) -> Task:
        _RUNNING.append(self)
        self.thread.start()
        return self

    def cancel(self) -> None:
        self.worker.cancel()

    def _on_progress(self, done: int, total: int) -> None:
        if self.dialog is not None:
            self.dialog.setMaximum(max(total, 1))
            self.dialog.setValue(min(done, max(total, 1)))

    def _stop(self) -> None:
        self.thread.quit()
        self.thread.wait()
        if self in _RUNNING:
            _RUNNING.remove(self)
        if self.dialog is not None:
            self.dialog.close()

    def _on_finished(self, result) -> None:
        self._stop()
        self.done.emit(result)

    def _on_failed(self, code: str, message: str) -> None:
        self._stop()
        self.error.emit(code, message)

    def _on_cancelled(self) -> None:
        self._stop()
        self.cancelled.emit()


def run_with_progress(
    parent: QWidget | None,
    title: str,
    store: Store,
    job: Job,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[str, str], None] | None = None,
    on_cancel: Callable[[], None] | None = None,
) -> Task:
    """Start ``job(store, progress, cancel)`` in a thread with a progress dialog."""
    task = Task(parent, title, store, job)
    if on_done:
        task.done.connect(on_done)
    if on_error:
        task.error.connect(on_error)
    else:  # the same dialog as a short action's (ops.show_error)
        task.error.connect(lambda _code, message: show_error(parent, title, message))
    if on_cancel:
        task.cancelled.connect(on_cancel)
    return task.start()
