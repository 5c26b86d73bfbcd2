"""The domain core: records, rules, store and use cases.  Never imports Qt.

One service shape, for every new use case (and for old ones when they are touched):

- **Module functions, store first**: ``enrolment.confirm(store, enrolment_id, today=...)``.
  A module owns one aggregate and is its only writer (``enrolment`` writes
  ``enrolments`` and ``enrolment_events``; bulk paths call its set-based functions).
  Each writing function checks the operator's permission, opens one
  ``store.transaction()`` and raises an :class:`~mzdesk.models.errors.MzError`
  subclass (Chinese message, machine ``code``) for anything the user can fix.
  A class is kept only where it already exists (``Registry``); do not add new ones
  for use cases.
- **Return domain objects**: a dataclass (``Enrolment``, ``Notice``,
  ``FlaggedEnrolment``), never a dict row carrying JSON for the caller to decode.
  Flat list rows for table views (``work_queues.queue``) may stay dicts of plain
  columns.  Older functions that return dicts (``enrolment.history``) are converted
  when their callers are next changed, not all at once.
- **Long work** takes ``progress`` and ``cancel`` callbacks and raises
  :class:`~mzdesk.models.progress.Cancelled` (:mod:`mzdesk.models.progress`).
- Rules live once: categories in :mod:`.categories`, the lifecycle in
  :mod:`.enrolment`, the work queues in :mod:`.work_queues`, dates in :mod:`.dates`.
"""
