"""Domain errors: a machine code plus a message in Chinese for the user.

The GUI shows them in one place (the operations helper), the CLI prints them
on one line and exits non-zero.
"""

from __future__ import annotations

import sqlite3


class MzError(Exception):
    """Base of every error the user is meant to read."""

    code = "error"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def __str__(self) -> str:
        return self.message


class FieldError(MzError):
    """One field of one record is wrong.  ``field`` names the attribute."""

    def __init__(self, field: str, code: str, message: str, row: int | None = None):
        super().__init__(message, code)
        self.field = field
        self.row = row  # member index within a household form, when it applies

    def __repr__(self) -> str:
        return f"FieldError({self.field!r}, {self.code!r}, {self.message!r}, row={self.row})"


class ValidationError(MzError):
    """A record failed one or more rules; ``problems`` lists every one."""

    code = "validation"

    def __init__(self, problems: list[FieldError]):
        self.problems = list(problems)
        first = self.problems[0].message if self.problems else "数据无效"
        extra = f"（另有{len(self.problems) - 1}处问题）" if len(self.problems) > 1 else ""
        super().__init__(first + extra)


class NotFound(MzError):
    code = "not_found"


class StoreError(MzError):
    code = "store"


DISK_FULL_MESSAGE = "磁盘空间不足，操作未完成，数据未改变"


def translate_sqlite_error(exc: BaseException) -> MzError | None:
    """The :class:`MzError` a user should read for a raw SQLite error, or None when
    there is nothing better to say than the error itself.

    SQLITE_FULL ("database or disk is full": the disk, or ``PRAGMA max_page_count``)
    becomes ``StoreError`` ``disk_full``: the transaction it happened in is rolled back
    (by SQLite itself or by the caller), so nothing of the action was saved.

    >>> translate_sqlite_error(sqlite3.OperationalError("database or disk is full")).code
    'disk_full'
    """
    if not isinstance(exc, sqlite3.Error):
        return None
    name = getattr(exc, "sqlite_errorname", None)
    if name == "SQLITE_FULL" or (name is None and "database or disk is full" in str(exc)):
        return StoreError(DISK_FULL_MESSAGE, "disk_full")
    return None
