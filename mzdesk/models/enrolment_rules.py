"""The enrolment rules that hold between records (保障记录之间的规则), written once.

Two enrolments of one household may not both be live when

- they are the same person (or both the household) in the same category: one live
  enrolment per person and category, per household for household-level categories
  (``duplicate_enrolment``);
- their categories exclude each other (``categories.json`` ``excludes``: 特困 vs
  低保) and they cover the same person; a household-level enrolment covers every
  member (``excluded_category``).

:func:`clash` is that rule for one pair.  It is evaluated in two forms:

- per record, by :func:`mzdesk.models.enrolment._conflicts` (one household's rows read
  from the database, the lifecycle's ``create`` and ``confirm``);
- per set, by :func:`refused` (every household a bulk write touches, read in one
  query, the candidates taken in order as if written one by one) for the roster
  import, the demo and sync apply, and by :func:`violations` over stored rows for
  ``mzdesk check`` (``mzdesk/models/checks.py``).

``tests/enrolment/test_one_writer.py`` checks that the two forms agree.

>>> cats = {"tekun": {"name": "特困", "excludes": ["rural_dibao"]},
...         "rural_dibao": {"name": "农村低保", "excludes": ["tekun"]}}
>>> clash("rural_dibao", None, "tekun", 7, cats)
'excluded_category'
>>> clash("tekun", 8, "tekun", 7, cats) is None
True
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

from .categories import categories, state_label
from .errors import MzError
from .store import Store

DUPLICATE = "duplicate_enrolment"
EXCLUDED = "excluded_category"


class EnrolmentRuleRefused(MzError):
    """A bulk write (import, demo) that would store enrolments the rules forbid."""

    code = EXCLUDED


@dataclass(frozen=True)
class Row:
    """One enrolment as the rules see it.  ``key`` names it to the caller (a stored
    row's id, a file row, a batch record's uid); ``replaces`` is the id of the stored
    row it becomes (an update), if any."""

    key: Hashable
    household_id: int
    member_id: int | None
    category: str
    state: str = "active"
    replaces: int | None = None
    name: str | None = None  # the member's name, for messages


def _cat(cats: dict, code: str) -> dict:
    return cats.get(code, {"name": code, "excludes": []})


def clash(
    category: str, member_id: int | None, other_category: str, other_member: int | None, cats: dict
) -> str | None:
    """The rule broken by two live enrolments of one household, or None."""
    if category == other_category and member_id == other_member:
        return DUPLICATE
    mine, other = _cat(cats, category), _cat(cats, other_category)
    excluded = other_category in mine.get("excludes", []) or category in other.get("excludes", [])
    # household-level 低保 covers every member; a person-level 特困 conflicts with it
    same_person = other_member is None or member_id is None or other_member == member_id
    return EXCLUDED if excluded and same_person else None


def message(code: str, row_category: str, other: Row, cats: dict) -> str:
    """The refusal in words: who holds which record that ``row_category`` clashes with."""
    who = other.name or "该户"
    oname = _cat(cats, other.category)["name"]
    where = f"编号{other.key}，{state_label(other.state)}"
    if code == DUPLICATE:
        return f"{who}已有一条“{oname}”记录（{where}），同一人同一类别不能同时有两条有效记录"
    return f"{who}在“{oname}”中（{where}），不能同时享受“{_cat(cats, row_category)['name']}”"


def _by_household(rows: Iterable[Row]) -> dict[int, list[Row]]:
    out: dict[int, list[Row]] = {}
    for r in rows:
        out.setdefault(r.household_id, []).append(r)
    return out


def decide(
    stored: Iterable[Row], candidates: Sequence[Row], cats: dict
) -> dict[Hashable, tuple[str, Row]]:
    """The set form: ``candidates`` taken in order over the live ``stored`` rows, as if
    each were written alone; {candidate key: (rule code, the row it clashes with)} for
    each refused one.  A refused candidate is not written, so it blocks no later one; an
    accepted candidate that ``replaces`` a stored row takes that row's place."""
    replaced = {c.replaces for c in candidates if c.replaces is not None}
    held = _by_household(r for r in stored if r.key not in replaced)
    out: dict[Hashable, tuple[str, Row]] = {}
    for c in candidates:
        here = held.setdefault(c.household_id, [])
        for o in here:
            code = clash(c.category, c.member_id, o.category, o.member_id, cats)
            if code:
                out[c.key] = (code, o)
                break
        else:
            here.append(c)
    return out


def violations(rows: Iterable[Row], cats: dict) -> list[tuple[Row, Row, str]]:
    """Every pair of ``rows`` (all live) that breaks the rule, as (earlier, later, code):
    what ``check`` reports of records stored before the rule held on every path."""
    out = []
    for group in _by_household(rows).values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                code = clash(a.category, a.member_id, b.category, b.member_id, cats)
                if code:
                    out.append((a, b, code))
    return out


def stored_rows(
    store: Store, household_ids: Iterable[int] | None, states: Sequence[str]
) -> list[Row]:
    """The live enrolments (``states``, not deleted) of ``household_ids`` (all when None),
    in id order: one query for the whole set."""
    ph = ", ".join("?" * len(states))
    sql = (
        "SELECT e.id, e.household_id, e.member_id, e.category, e.state, m.name FROM enrolments e "
        "LEFT JOIN members m ON m.id = e.member_id WHERE e.status = 'active' "
        f"AND e.state IN ({ph})"
    )
    args: list = list(states)
    if household_ids is not None:
        sql += " AND e.household_id IN (SELECT value FROM json_each(?))"
        args.append(json.dumps(sorted(set(household_ids))))
    return [
        Row(eid, hid, mid, cat, state, name=name)
        for eid, hid, mid, cat, state, name in store.conn.execute(sql + " ORDER BY e.id", args)
    ]


def refused(
    store: Store, candidates: Sequence[Row], states: Sequence[str]
) -> dict[Hashable, tuple[str, str]]:
    """The set form against the database: {candidate key: (code, message)} for each
    candidate the rules refuse, given the live (``states``) enrolments stored in the
    households they touch.  Only live candidates are checked (a stopped record blocks
    nothing and is blocked by nothing)."""
    live = {c.key: c for c in candidates if c.state in states}
    if not live:
        return {}
    cats = categories(store)
    gone = {c.replaces for c in candidates if c.replaces is not None}  # stopped, deleted too
    stored = [
        r
        for r in stored_rows(store, {c.household_id for c in live.values()}, states)
        if r.key not in gone
    ]
    return {
        key: (code, message(code, live[key].category, other, cats))
        for key, (code, other) in decide(stored, list(live.values()), cats).items()
    }
