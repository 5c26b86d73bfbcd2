"""Encrypted, signed batch files between field laptops, townships and the county.

Records are designed to travel: every row has a stable ``uid`` and who/when
stamps (see models/migrations.py).  The batch format arrives with the sync work.
"""
