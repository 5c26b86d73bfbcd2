"""PostgreSQL URLs: whether a database name is one (no psycopg needed to tell), the URL
and the driver's messages without a password, and where a URL site keeps its files."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_AUTH = re.compile(r"^([^/?#]*)@")  # the user[:password]@ before the host


def is_url(path: object) -> bool:
    return isinstance(path, str) and path.startswith(("postgresql://", "postgres://"))


def safe_url(url: str) -> str:
    """The URL without its password (in the user part or as ``?password=``), for
    messages; anything else as given.  Never raises, even on a URL that does not parse
    (a port out of range, a broken IPv6 host): the message about it must still be said."""
    if not is_url(url):
        return url
    scheme, rest = url.split("://", 1)
    auth = _AUTH.match(rest)
    if auth:
        user = auth.group(1).split(":", 1)[0]
        rest = (f"{user}@" if user else "") + rest[auth.end() :]
    try:
        parts = urlsplit(f"{scheme}://{rest}")
    except ValueError:
        return f"{scheme}://{rest.split('?', 1)[0]}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if k.lower() != "password"]
    if len(kept) == len(query):
        return f"{scheme}://{rest}"
    return urlunsplit(parts._replace(query=urlencode(kept)))


def _password(url: str) -> str:
    """The password in ``url`` ('' when none): in the user part or as ``?password=``."""
    rest = url.split("://", 1)[-1]
    auth = _AUTH.match(rest)
    if auth and ":" in auth.group(1):
        return auth.group(1).split(":", 1)[1]
    query = rest.split("?", 1)[1] if "?" in rest else ""
    for k, v in parse_qsl(query.split("#", 1)[0], keep_blank_values=True):
        if k.lower() == "password":
            return v
    return ""


def safe_text(text: str, url: str) -> str:
    """``text`` (a driver's message that may quote the URL, as libpq does for a URL it
    cannot parse) with the URL's password taken out."""
    text = text.replace(url, safe_url(url))
    secret = _password(url)
    return text.replace(secret, "***") if secret else text


def reason(exc: BaseException) -> str:
    """A connection failure's first line (psycopg's message), for the user."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def files_stem(url: str) -> str:
    """Where a URL site keeps its files (keys, held batches): ``$MZDESK_PG_FILES`` or the
    user data folder's ``pg/<host>-<port>-<db>-<hash>``; ``<stem>.sync/`` as beside a file."""
    import hashlib

    from psycopg.conninfo import conninfo_to_dict

    # what libpq connects to (?host=/?port=/?dbname= win over the URL's parts), readable,
    # plus a hash of it: two databases never share a folder even when their names clean
    # to the same text (a b / a_b), one database keeps its folder whatever the password
    info = conninfo_to_dict(url)
    host = str(info.get("host") or "local")
    port = str(info.get("port") or 5432)
    db = str(info.get("dbname") or info.get("user") or "db")
    digest = hashlib.sha256("\0".join((host, port, db)).encode()).hexdigest()[:12]
    name = re.sub(r"[^\w.-]", "_", f"{host}-{port}-{db}")[:80] + f"-{digest}"
    base = os.environ.get("MZDESK_PG_FILES")
    if base:
        folder = Path(base)
    else:
        from platformdirs import user_data_dir

        folder = Path(user_data_dir("mzdesk", appauthor=False)) / "pg"
    return str(folder / name)
