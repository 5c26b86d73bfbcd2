"""Encrypted, signed batch files between field laptops, townships and the county.

``keys`` (site keys, trust list), ``changelog`` (which records changed; the one
list of synced tables), ``batch`` (the file format, docs/batch-format.md),
``exchange`` (export, import with three-way merge, conflicts).  The commands are
``mzdesk/cli/keys.py`` and ``mzdesk/cli/sync.py``.  No Qt here; the GUI page is ``mzdesk/ui/sync_page.py``.
"""
