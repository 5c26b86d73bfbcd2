"""The per-record merge decision, as a pure function: no SQLite, no batch, no site.

A record that arrives from a peer (``incoming``) meets this site's version
(``local``) and the last version both sites are known to have had (``base``,
the common ground from ``sync_base``).  Each is a row as it travels (a dict of
column → value), or ``None``: ``local`` None when this site has no such
record, ``incoming`` None for a tombstone (the record was deleted there), and
``base`` None when there is no common ground (or it is no longer at hand).

>>> decide({"a": 1, "b": 1}, {"a": 2, "b": 1}, {"a": 1, "b": 1}).kind
'take'
>>> d = decide({"a": 2, "b": 1}, {"a": 1, "b": 3}, {"a": 1, "b": 1})
>>> d.kind, d.row == {"a": 2, "b": 3}
('merge', True)
>>> d = decide({"a": 2}, {"a": 3}, {"a": 1})
>>> d.kind, d.fields
('conflict', ('a',))

The whole-record rules (:func:`decide_whole`) compare with ``==`` only, so the
importer applies them to content hashes first and reads rows back only when a
record was changed on both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["new", "keep", "take", "merge", "conflict", "delete"]
Row = Mapping[str, Any]


@dataclass(frozen=True)
class Decision:
    """What to do with one incoming record.

    ``new``: not here, insert ``incoming``; ``keep``: leave this site's version (the same,
    or only this site changed it; it goes out with the next batch); ``take``: only the
    peer changed it, take ``incoming``; ``merge``: both changed different fields, store
    ``row``; ``conflict``: both changed ``fields`` differently, a clerk decides;
    ``delete``: a tombstone for a record that is here.  ``row`` is the content the record
    has afterwards (None for a conflict, a delete, or a tombstone for nothing)."""

    kind: Kind
    row: Row | None = None
    fields: tuple[str, ...] = ()


def decide_whole(local: Any, incoming: Any, base: Any) -> Kind | None:
    """The whole-record rules, on any values compared with ``==`` (rows, or their content
    hashes): ``keep`` when local equals incoming or incoming equals the base, ``take`` when
    local equals the base, None when both sides changed it.  ``base`` None never matches.

    >>> decide_whole("h1", "h2", "h1"), decide_whole("h1", "h2", "h2"), decide_whole("h1", "h2", None)
    ('take', 'keep', None)
    """
    if local == incoming or (base is not None and base == incoming):
        return "keep"
    if base is not None and base == local:
        return "take"
    return None


def clashes(local: Row, incoming: Row, base: Row | None) -> tuple[str, ...]:
    """The fields both sides changed, to different values (every differing field when there
    is no base), in name order."""
    keys = set(local) | set(incoming)
    return tuple(
        sorted(
            k
            for k in keys
            if local.get(k) != incoming.get(k)
            and (base is None or (local.get(k) != base.get(k) and incoming.get(k) != base.get(k)))
        )
    )


def merged(local: Row, incoming: Row, base: Row | None) -> dict[str, Any]:
    """Field by field: the incoming value where the peer changed it (it differs from the
    base), this site's otherwise.  A field the incoming row lacks keeps this site's value.
    Without a base (only called then when nothing clashes, so the two agree) this site's."""
    if base is None:
        return {k: local.get(k) for k in set(local) | set(incoming)}
    return {
        k: (incoming[k] if k in incoming and incoming.get(k) != base.get(k) else local.get(k))
        for k in set(local) | set(incoming)
    }


def decide(local: Row | None, incoming: Row | None, base: Row | None) -> Decision:
    """The three-way merge of one record: see :class:`Decision` and the module's doc."""
    if incoming is None:
        return Decision("keep") if local is None else Decision("delete")
    if local is None:
        return Decision("new", incoming)
    whole = decide_whole(local, incoming, base)
    if whole == "keep":
        return Decision("keep", local)
    if whole == "take":
        return Decision("take", incoming)
    return decide_fields(local, incoming, base)


def decide_fields(local: Row, incoming: Row, base: Row | None) -> Decision:
    """Both sides changed the record: a conflict on the fields both changed differently,
    otherwise a field-level merge."""
    clash = clashes(local, incoming, base)
    if clash:
        return Decision("conflict", None, clash)
    return Decision("merge", merged(local, incoming, base))
