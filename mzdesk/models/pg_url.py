"""Whether a database name is a PostgreSQL URL (no psycopg needed to tell)."""

from __future__ import annotations

import re
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
