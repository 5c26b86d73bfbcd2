"""Values and errors across the PostgreSQL driver, as the sqlite3 API gives them: rows by
index and by name, numbers and booleans as SQLite returns and binds them, and psycopg's
errors as ``sqlite3`` exceptions (``models/pg.py`` uses them; psycopg imported lazily)."""

from __future__ import annotations

import sqlite3


class PgRow(tuple):
    """A row by index and by column name (what ``sqlite3.Row`` gives)."""

    _names: tuple[str, ...] = ()

    def __new__(cls, values, names):
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names.index(key))
        return tuple.__getitem__(self, key)

    def keys(self):
        return list(self._names)


def to_sqlite_error(exc: Exception) -> sqlite3.Error:
    import psycopg

    diag = getattr(exc, "diag", None)
    msg = (diag.message_primary if diag is not None else None) or str(exc)
    if isinstance(exc, psycopg.errors.IntegrityError):
        text = msg
        if isinstance(exc, psycopg.errors.UniqueViolation):
            text = f"UNIQUE constraint failed: {msg}"
        elif isinstance(exc, psycopg.errors.ForeignKeyViolation):
            text = f"FOREIGN KEY constraint failed: {msg}"
        elif isinstance(exc, psycopg.errors.NotNullViolation):
            text = f"NOT NULL constraint failed: {msg}"
        elif isinstance(exc, psycopg.errors.CheckViolation):
            text = f"CHECK constraint failed: {msg}"
        return sqlite3.IntegrityError(text)
    if isinstance(exc, psycopg.errors.LockNotAvailable | psycopg.errors.DeadlockDetected):
        return sqlite3.OperationalError(f"database is locked: {msg}")
    return sqlite3.OperationalError(msg)


def convert(value):
    # numeric (sum of bigint) -> int when whole, as SQLite gives; booleans -> 0/1
    from decimal import Decimal

    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def is_pg_error(exc: BaseException) -> bool:
    import psycopg

    return isinstance(exc, psycopg.Error)


def param(v):
    if isinstance(v, bool):
        return int(v)
    return v


def text_params(conn) -> None:
    """Numbers go to the server as untyped text, as SQLite's loose types expect: ``uid = ?``
    with an int, ``n > ?`` with a string both work; the server infers the type."""
    from psycopg.adapt import Dumper

    class _Untyped(Dumper):
        oid = 0  # unknown: the server decides from the context

        def dump(self, obj):
            return str(obj).encode()

    class _Bool(Dumper):  # as SQLite stores True: 1 (param() does it for statements;
        oid = 0  # this saves COPY a conversion per value)

        def dump(self, obj):
            return b"1" if obj else b"0"

    for t in (int, float):
        conn.adapters.register_dumper(t, _Untyped)
    conn.adapters.register_dumper(bool, _Bool)
