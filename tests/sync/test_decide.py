"""The per-record merge decision, ``decide(local, incoming, base)``, on plain dicts: no
SQLite, no batch.  Properties over field-level three-way merges (hypothesis), and every
case of one field exhaustively."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mzdesk.sync.changelog import canonical, content_hash
from mzdesk.sync.merge import Decision, decide, decide_whole

FIELDS = ("name", "status", "village", "phone")
# few values, so that sides often agree by chance (the interesting cases)
VALUES = st.sampled_from([None, 0, 1, "王五", "李四", ""])
ROWS = st.fixed_dictionaries({k: VALUES for k in FIELDS})
BASES = st.none() | ROWS


def outcome(d: Decision, local: dict, incoming: dict) -> dict | None:
    """The record's content afterwards (None: it is set aside as a conflict)."""
    return None if d.kind == "conflict" else dict(d.row)


def edited(row: dict, changes: dict) -> dict:
    return {**row, **changes}


@given(ROWS, BASES)
def test_the_same_on_both_sides_is_kept(x, base):
    assert decide(x, dict(x), base) == Decision("keep", x)


@given(ROWS, ROWS)
def test_only_the_peer_changed_it_takes_incoming(base, incoming):
    d = decide(dict(base), incoming, base)
    if incoming == base:
        assert d == Decision("keep", base)
    else:
        assert d == Decision("take", incoming)


@given(ROWS, ROWS)
def test_only_this_site_changed_it_keeps_local(base, local):
    assert decide(local, dict(base), base) == Decision("keep", local)


@given(ROWS, st.sampled_from(FIELDS), VALUES, VALUES, st.data())
def test_both_changed_one_field_differently_conflict_on_that_field_only(base, f, v1, v2, data):
    """Other fields may be edited on either side (not both): the conflict names only ``f``."""
    if len({repr(base[f]), repr(v1), repr(v2)}) < 3:
        return  # not two different edits of f
    others = [k for k in FIELDS if k != f]
    mine = data.draw(st.lists(st.sampled_from(others), unique=True))
    theirs = [k for k in others if k not in mine]
    local = edited(base, {f: v1, **{k: f"本站{k}" for k in mine}})
    incoming = edited(base, {f: v2, **{k: f"对方{k}" for k in theirs}})
    d = decide(local, incoming, base)
    assert d.kind == "conflict" and d.fields == (f,) and d.row is None


@given(ROWS, st.data())
def test_disjoint_field_edits_merge(base, data):
    mine = data.draw(st.lists(st.sampled_from(FIELDS), min_size=1, unique=True))
    theirs = data.draw(
        st.lists(st.sampled_from([k for k in FIELDS if k not in mine] or FIELDS), unique=True)
    )
    theirs = [k for k in theirs if k not in mine]
    local = edited(base, {k: f"本站{k}" for k in mine})
    incoming = edited(base, {k: f"对方{k}" for k in theirs})
    d = decide(local, incoming, base)
    both = edited(base, {**{k: local[k] for k in mine}, **{k: incoming[k] for k in theirs}})
    assert outcome(d, local, incoming) == both
    assert d.kind == ("merge" if theirs else "keep")


@given(ROWS, ROWS, ROWS)
def test_the_same_edit_on_both_sides_is_no_conflict(base, local, incoming):
    """A field both sides set to the same value never clashes."""
    d = decide(local, incoming, base)
    agreed = {k for k in FIELDS if local[k] == incoming[k]}
    assert not agreed & set(d.fields)


@given(ROWS, ROWS, ROWS)
def test_field_level_rule(local, incoming, base):
    """The general case: a field clashes when all three differ; otherwise the changed side's
    value wins."""
    d = decide(local, incoming, base)
    clash = tuple(
        k
        for k in sorted(FIELDS)
        if local[k] != incoming[k] and local[k] != base[k] and incoming[k] != base[k]
    )
    if local == incoming or incoming == base:
        assert d == Decision("keep", local)
    elif local == base:
        assert d == Decision("take", incoming)
    elif clash:
        assert d == Decision("conflict", None, clash)
    else:
        want = {k: incoming[k] if incoming[k] != base[k] else local[k] for k in FIELDS}
        assert d == Decision("merge", want)


@given(ROWS, ROWS, BASES)
def test_symmetric(local, incoming, base):
    """Which side is local does not matter: the same fields clash, the same content results."""
    d, e = decide(local, incoming, base), decide(incoming, local, base)
    assert d.fields == e.fields
    assert outcome(d, local, incoming) == outcome(e, incoming, local)


@given(ROWS, ROWS)
def test_without_common_ground_every_difference_is_a_conflict(local, incoming):
    d = decide(local, incoming, None)
    differ = tuple(sorted(k for k in FIELDS if local[k] != incoming[k]))
    assert d == (Decision("conflict", None, differ) if differ else Decision("keep", local))


@given(ROWS, BASES)
def test_tombstones(row, base):
    assert decide(row, None, base) == Decision("delete")  # deleted there: delete here
    assert decide(None, None, base) == Decision("keep")  # deleted there, never here
    assert decide(None, row, base) == Decision("new", row)  # not here: inserted


def test_a_field_the_incoming_row_lacks_keeps_this_sites_value():
    """An older sender's row without a newer column does not blank it here."""
    base = {"name": "王五", "phone": "1", "village": "东村"}
    local = {"name": "王五", "phone": "1", "village": "西村"}
    incoming = {"name": "王六", "village": "东村"}
    merged = {"name": "王六", "phone": "1", "village": "西村"}
    assert decide(local, incoming, base) == Decision("merge", merged)


@given(ROWS, ROWS, BASES)
def test_the_whole_record_rules_give_the_same_answer_on_content_hashes(local, incoming, base):
    """The importer applies them to the hashes it already has, and reads rows back only when
    both sides changed the record: that shortcut must agree with the rule on rows."""

    def h(row):
        return None if row is None else content_hash(canonical(row))

    assert decide_whole(h(local), h(incoming), h(base)) == decide_whole(local, incoming, base)


ONE = [0, 1, 2]


@pytest.mark.parametrize("loc,inc,base", list(itertools.product(ONE, ONE, [*ONE, None])))
def test_every_case_of_one_field(loc, inc, base):
    """All 36 cases of one field (three values, and no base), against the table a clerk
    would write: equal → keep; one side changed → that side; both, differently → conflict."""
    d = decide({"f": loc}, {"f": inc}, None if base is None else {"f": base})
    if loc == inc:
        want = Decision("keep", {"f": loc})
    elif base is None:
        want = Decision("conflict", None, ("f",))
    elif inc == base:
        want = Decision("keep", {"f": loc})
    elif loc == base:
        want = Decision("take", {"f": inc})
    else:
        want = Decision("conflict", None, ("f",))
    assert d == want
