"""One ID number, one active household: the cases test_registry.py does not cover.

(test_registry.py has the basic refusal that names the other household, and
that deleting a household frees its numbers.)
"""

from __future__ import annotations

import sqlite3

import pytest

from mzdesk.models.errors import ValidationError
from mzdesk.models.household import Member
from tests.helpers import household, make_id

ZSF = make_id("19800101", 1)  # ends in X
LS = make_id("19700101", 3)


@pytest.fixture
def two(registry):
    a = registry.save(household("红旗村", ("张三丰", "户主", ZSF)))
    b = registry.save(household("新华村", ("李四", "户主", LS)))
    return a, b


def only_problem(exc) -> object:
    (p,) = exc.value.problems
    return p


@pytest.mark.parametrize(
    "spelling",
    [
        ZSF.lower(),  # lower-case x
        " " + ZSF[:6] + " " + ZSF[6:] + " ",  # spaces
        ZSF.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"}),  # full-width
        ZSF[:6] + ZSF[8:17],  # the legacy 15-digit form of the same person
    ],
)
def test_any_spelling_of_a_registered_number_is_refused(registry, two, spelling):
    a, b = two
    b.members.append(Member(name="张三丰", relation="其他", id_number=spelling))
    with pytest.raises(ValidationError) as exc:
        registry.save(b)
    p = only_problem(exc)
    assert p.code == "id_exists_in_other_household" and p.row == 1
    assert f"编号{a.id}" in p.message and "张三丰" in p.message and "红旗村" in p.message


def test_refused_edit_changes_nothing(registry, store, two):
    a, b = two
    before = store.one("SELECT rev, updated_at, member_count FROM households WHERE id = ?", (b.id,))
    b.phone = "13900000000"
    b.members.append(Member(name="张三丰", relation="其他", id_number=ZSF))
    with pytest.raises(ValidationError):
        registry.save(b)
    after = store.one("SELECT rev, updated_at, member_count FROM households WHERE id = ?", (b.id,))
    assert after == before
    assert registry.get(b.id).phone == ""
    assert store.scalar("SELECT count(*) FROM members") == 2


def test_the_same_number_twice_in_one_household(registry):
    with pytest.raises(ValidationError) as exc:
        registry.save(household("红旗村", ("张三丰", "户主", ZSF), ("张三丰", "子", ZSF.lower())))
    p = only_problem(exc)
    assert (p.code, p.row) == ("id_duplicate_in_household", 1)


def test_numbers_may_swap_between_rows_of_the_same_household(registry):
    h = registry.save(
        household("红旗村", ("张三丰", "户主", ZSF), ("王芳", "配偶", make_id("19820303", 2)))
    )
    first, second = h.members
    first.id_number, second.id_number = second.id_number, first.id_number
    registry.save(h)  # a typo fixed by swapping: the index must not trip mid-way
    again = registry.get(h.id)
    assert [m.id_number for m in again.members] == [make_id("19820303", 2), ZSF]


def test_a_member_removed_from_one_household_may_join_another(registry, two):
    a, b = two
    a.members.append(Member(name="王芳", relation="配偶", id_number=make_id("19820303", 2)))
    registry.save(a)
    a.members.pop()
    registry.save(a)  # 王芳 moved out
    b.members.append(Member(name="王芳", relation="配偶", id_number=make_id("19820303", 2)))
    registry.save(b)
    assert [m.name for m in registry.get(b.id).members] == ["李四", "王芳"]


def test_pending_numbers_do_not_claim_anything(registry, two):
    a, b = two
    for h in (a, b):
        h.members.append(
            Member(name="某人", relation="其他", id_number="3416231980", id_pending=True)
        )
        registry.save(h)
    assert registry.store.scalar("SELECT count(*) FROM members WHERE id_pending = 1") == 2


def test_bulk_create_names_the_household_already_holding_the_number(registry, two):
    a, _ = two
    batch = [
        household("东风村", ("赵六", "户主", make_id("19900101", 5))),
        household("东风村", ("钱七", "户主", make_id("19910101", 7)), ("张三丰", "其他", ZSF)),
    ]
    with pytest.raises(ValidationError) as exc:
        registry.bulk_create(batch)
    p = only_problem(exc)
    assert p.code == "id_exists_in_other_household"
    assert p.message.startswith("第2户") and f"编号{a.id}" in p.message and "张三丰" in p.message
    assert registry.store.scalar("SELECT count(*) FROM households") == 2  # nothing added


def test_the_database_itself_refuses_a_second_active_holder(store, two):
    """A partial unique index backs the rule, whatever code writes the row."""
    a, b = two
    with pytest.raises(sqlite3.IntegrityError):
        store.conn.execute(
            "INSERT INTO members (uid, household_id, name, relation, id_number, created_at, "
            "updated_at, created_by, updated_by) VALUES ('x', ?, '张三丰', '其他', ?, '', '', '', '')",
            (b.id, ZSF),
        )
