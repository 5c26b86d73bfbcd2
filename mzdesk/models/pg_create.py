"""``mzdesk init`` on a PostgreSQL database that does not exist yet: create it.

A file site is created by ``init`` when the file is missing; a URL site likewise, when the
server says the database does not exist and the user may create databases (``CREATEDB`` or
a superuser).  The database is created through the server's maintenance database
(``postgres``) with the same user, host and port.  Nothing else is ever created or dropped.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

from .errors import StoreError
from .pg_url import safe_url

# a name mzdesk creates: letters, digits, _ and - (quoted as an identifier below)
_NAME = re.compile(r"[A-Za-z0-9_\-]{1,63}")


def missing_database(exc: BaseException) -> bool:
    """Whether a connection failed because the database does not exist (SQLSTATE 3D000)."""
    if getattr(exc, "sqlstate", None) == "3D000":
        return True
    text = str(exc)
    return "does not exist" in text and "database" in text


def database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def maintenance_url(url: str) -> str:
    """The same server and user, database ``postgres``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))


def create_database(url: str) -> None:
    """CREATE DATABASE for ``url``'s database, or a StoreError saying why not."""
    import psycopg
    from psycopg import sql

    name = database_name(url)
    if not _NAME.fullmatch(name):
        raise StoreError(
            f"PostgreSQL数据库名只能含字母、数字、下划线和连字符（不超过63个字符）：{safe_url(url)}",
            "bad_database_name",
        )
    try:
        with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(
                    sql.Identifier(name)
                )
            )
    except psycopg.errors.DuplicateDatabase:
        return  # made meanwhile by another init: the caller connects to it
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise StoreError(
            f"PostgreSQL数据库不存在，也无法创建（{first}）：请数据库管理员先建库，"
            f"如 createdb -O 用户名 {name}：{safe_url(url)}",
            "open_failed",
        ) from None
