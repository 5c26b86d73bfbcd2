"""A page's data loaded off the GUI thread once the database is a county's.

At a township a page's queries take milliseconds and run inline.  At a county (a
million persons, ``docs/performance.md``) the review queue or the monthly statistics
take seconds: :class:`Refresher` then runs the page's ``load(store)`` in a worker
(``ui/worker.py``: its own connection, a progress dialog) and hands the result to
``show(data)`` on the GUI thread.  A refresh asked for while one runs supersedes it:
only the newest result is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from ..models.query import household_count
from ..models.store import Store
from .worker import Task, run_with_progress

# from this many households (deleted ones too) a page loads its data in a worker
BACKGROUND_MIN_HOUSEHOLDS = 50_000


class Refresher(QObject):
    """``refresh()`` = ``show(load(store))``, inline or in a worker by the store's size."""

    def __init__(
        self,
        page: QWidget,
        store: Store,
        title: str,
        load: Callable[[Store], Any],
        show: Callable[[Any], None],
    ):
        super().__init__(page)
        self.page, self.store, self.title = page, store, title
        self.load, self.show = load, show
        self.background = household_count(store) >= BACKGROUND_MIN_HOUSEHOLDS
        self.generation = 0
        self.task: Task | None = None

    def refresh(self, load: Callable[[Store], Any] | None = None) -> None:
        """Load (``load`` or the page's own) and show; in a worker at a county's size."""
        fn = load or self.load
        self.generation += 1
        if not self.background:
            self.show(fn(self.store))
            return
        generation = self.generation

        def job(store: Store, _progress, _cancel) -> Any:
            return fn(store)

        self.task = run_with_progress(
            self.page,
            self.title,
            self.store,
            job,
            on_done=lambda data: self._done(generation, data),
        )

    def busy(self) -> bool:
        return self.task is not None and self.task.thread.isRunning()

    def _done(self, generation: int, data: Any) -> None:
        if generation == self.generation:  # an older load finishing late is not shown
            self.task = None
            self.show(data)
