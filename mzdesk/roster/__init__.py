"""Rosters in and out of Excel (花名册): import, 补贴清册 export, monthly statistics.

No Qt here: the GUI (``mzdesk/ui/import_dialog.py``, ``stats_dashboard.py``) and
the CLI (``mzdesk roster ...``, ``mzdesk stats --month``) call these modules.
"""
