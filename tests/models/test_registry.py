import datetime as dt

import pytest

from mzdesk.models.errors import MzError, ValidationError
from mzdesk.models.household import Member
from mzdesk.models.registry import Registry, StaleRecord
from tests.helpers import household, make_id


def codes(exc):
    return {p.code for p in exc.value.problems}


def test_save_and_reopen_derives_birth_date_and_gender(registry):
    h = household(
        "红旗村",
        ("张三丰", "户主", make_id("19800101", 1)),
        ("王芳", "配偶", make_id("19820303", 2)),
        ("张小明", "子", make_id("20100606", 3)),
    )
    h.phone = "139 1234 5678"
    registry.save(h)
    again = registry.get(h.id)
    assert [m.name for m in again.members] == ["张三丰", "王芳", "张小明"]
    assert again.members[1].gender == "F"
    assert again.members[2].birth_date == dt.date(2010, 6, 6)
    assert again.phone == "13912345678"
    row = registry.store.one(
        "SELECT created_by, updated_by, head_name, member_count FROM households"
    )
    assert row == {
        "created_by": "tester",
        "updated_by": "tester",
        "head_name": "张三丰",
        "member_count": 3,
    }


def test_same_id_cannot_be_active_in_two_households_and_the_error_names_the_other(registry):
    first = registry.save(household("红旗村", ("张三丰", "户主", make_id("19800101", 1))))
    second = household(
        "新华村",
        ("李四", "户主", make_id("19700101", 3)),
        ("张三丰", "兄弟姐妹", make_id("19800101", 1)),
    )
    with pytest.raises(ValidationError) as exc:
        registry.save(second)
    problem = exc.value.problems[0]
    assert problem.code == "id_exists_in_other_household"
    assert problem.row == 1
    assert f"编号{first.id}" in problem.message and "张三丰" in problem.message
    assert registry.store.scalar("SELECT count(*) FROM households") == 1  # nothing half-written


def test_soft_delete_keeps_the_record_and_frees_the_id(registry):
    h = registry.save(household("红旗村", ("张三丰", "户主", make_id())))
    registry.delete(h.id, "迁出")
    row = registry.store.one("SELECT status, status_reason FROM households WHERE id = ?", (h.id,))
    assert row == {"status": "deleted", "status_reason": "迁出"}
    assert registry.store.scalar("SELECT count(*) FROM members") == 1
    registry.save(household("新华村", ("张三丰", "户主", make_id())))  # now allowed
    with pytest.raises(MzError):
        registry.delete(h.id, "again")


def test_exactly_one_head(registry):
    with pytest.raises(ValidationError) as exc:
        registry.save(household("红旗村", ("王芳", "配偶", make_id("19820303", 2))))
    assert "no_head" in codes(exc)
    with pytest.raises(ValidationError) as exc:
        registry.save(
            household(
                "红旗村",
                ("甲", "户主", make_id("19800101", 1)),
                ("乙", "户主", make_id("19800101", 3)),
            )
        )
    assert "two_heads" in codes(exc)


def test_invalid_id_is_refused_unless_marked_pending_then_kept_verbatim(registry):
    bad = "341623198001010011"
    with pytest.raises(ValidationError) as exc:
        registry.save(household("红旗村", ("张三丰", "户主", bad)))
    assert codes(exc) == {"id_checksum"}
    h = household("红旗村", ("张三丰", "户主", bad))
    h.members[0].id_pending = True
    registry.save(h)
    again = registry.get(h.id).members[0]
    assert (again.id_number, again.id_pending) == (bad, True)


def test_disability_cert_checked_against_holder(registry):
    h = household("红旗村", ("张三丰", "户主", make_id()))
    h.members[0].disability_cert = make_id("19820303", 2) + "41"
    with pytest.raises(ValidationError) as exc:
        registry.save(h)
    assert codes(exc) == {"cert_holder"}
    h.members[0].disability_cert = make_id() + "41"
    registry.save(h)
    m = registry.get(h.id).members[0]
    assert (m.disability_category, m.disability_level) == (4, 1)


def test_edit_removes_a_member_softly_and_bumps_the_revision(registry):
    h = registry.save(
        household("红旗村", ("张三丰", "户主", make_id()), ("王芳", "配偶", make_id("19820303", 2)))
    )
    h.members.pop()
    h.members.append(Member(name="张小明", relation="子", id_number=make_id("20100606", 3)))
    registry.save(h)
    assert [m.name for m in registry.get(h.id).members] == ["张三丰", "张小明"]
    statuses = dict(registry.store.conn.execute("SELECT name, status FROM members"))
    assert statuses == {"张三丰": "active", "王芳": "deleted", "张小明": "active"}
    assert registry.get(h.id).rev == 2


def test_a_stale_form_cannot_overwrite_a_newer_save(store):
    reg = Registry(store)
    h = reg.save(household("红旗村", ("张三丰", "户主", make_id())))
    a, b = reg.get(h.id), reg.get(h.id)
    a.phone = "13900000000"
    reg.save(a)
    b.phone = "13811111111"
    with pytest.raises(StaleRecord):
        reg.save(b)
    assert reg.get(h.id).phone == "13900000000"


def test_failed_save_rolls_back_everything(registry, monkeypatch):
    h = household("红旗村", ("张三丰", "户主", make_id()), ("王芳", "配偶", make_id("19820303", 2)))
    import mzdesk.models.registry as mod

    real = mod._member_row
    calls = {"n": 0}

    def explode(m, seq):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(m, seq)

    monkeypatch.setattr(mod, "_member_row", explode)
    with pytest.raises(RuntimeError):
        registry.save(h)
    assert registry.store.scalar("SELECT count(*) FROM households") == 0
    assert registry.store.scalar("SELECT count(*) FROM members") == 0


def test_bulk_create_is_all_or_nothing(registry):
    good = household("红旗村", ("张三丰", "户主", make_id()))
    dup = household("新华村", ("李四", "户主", make_id()))
    with pytest.raises(ValidationError) as exc:
        registry.bulk_create([good, dup])
    assert codes(exc) == {"id_duplicate_in_file"}
    assert registry.store.scalar("SELECT count(*) FROM households") == 0


def test_deleted_household_can_be_read_with_the_members_it_had(registry):
    h = household(
        "红旗村",
        ("张三丰", "户主", make_id("19800101", 1)),
        ("王芳", "配偶", make_id("19820303", 2)),
        ("张小明", "子", make_id("20100606", 3)),
    )
    registry.save(h)
    h.members = h.members[:2]  # 张小明 removed before the household was deleted
    registry.save(h)
    registry.delete(h.id, "迁出本镇")
    assert registry.get(h.id).members == []  # active members only, as before
    gone = registry.get(h.id, as_deleted=True)
    assert gone.status == "deleted"
    assert [(m.name, m.id_number) for m in gone.members] == [
        ("张三丰", make_id("19800101", 1)),
        ("王芳", make_id("19820303", 2)),
    ]
    assert registry.status_reason(h.id) == "迁出本镇"


def test_a_household_save_that_failed_halfway_can_be_saved_again(store, registry, today):
    """The household row was written, a member's was not (disk full): after the rollback the
    form's household has no id, so saving it again creates it instead of '已被修改'."""
    import sqlite3

    h = household(
        "红旗村", ("张三", "户主", make_id("19600101", 1)), ("李四", "配偶", make_id("19620202", 2))
    )
    store.conn.execute(
        "CREATE TEMP TRIGGER full BEFORE INSERT ON members WHEN NEW.name = '李四' "
        "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )
    with pytest.raises(sqlite3.Error):
        registry.save(h, today)
    assert h.id is None and [m.id for m in h.members] == [None, None]
    store.conn.execute("DROP TRIGGER full")
    registry.save(h, today)
    assert [m.name for m in registry.get(h.id).members] == ["张三", "李四"] and h.rev == 1
