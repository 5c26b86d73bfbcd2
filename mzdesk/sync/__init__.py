"""Encrypted, signed batch files between field laptops, townships and the county.

``keys`` (site keys, trust list), ``changelog`` (which records changed; the one
list of synced tables), ``batch`` (the file format, docs/batch-format.md),
``export`` (a batch out), ``apply`` (a batch in: checks, hold, acknowledgement),
``applier`` (its records into the tables), ``merge`` (the per-record decision, pure),
``conflicts`` (set aside, listed, resolved), ``history`` (batches in and out),
``report`` (what an import did).  The commands are
``mzdesk/cli/keys.py`` and ``mzdesk/cli/sync.py``.  No Qt here; the GUI page is ``mzdesk/ui/sync_page.py``.
"""
