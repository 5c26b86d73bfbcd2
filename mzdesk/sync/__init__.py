"""Encrypted, signed batch files between field laptops, townships and the county.

``keys`` (site keys, trust list), ``changelog`` (which records changed; the one
list of synced tables), ``batch`` (the file format, docs/batch-format.md),
``exchange`` (export, import with three-way merge, conflicts), ``sync_cli``.
No Qt here; the GUI page is ``mzdesk/ui/sync_page.py``.
"""
