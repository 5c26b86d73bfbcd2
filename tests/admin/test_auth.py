"""Operators and roles, enforced in the core services (not only by hiding buttons)."""

from __future__ import annotations

import pytest

from mzdesk.models import auth
from mzdesk.models.auth import LoginFailed, PermissionDenied, require
from mzdesk.models.errors import FieldError, MzError
from mzdesk.models.registry import Registry
from tests.helpers import household, make_id


def test_setup_mode_allows_everything_until_the_first_admin(store, registry):
    assert auth.setup_mode(store)
    require(store, "operators.manage")
    registry.save(household("红旗村", ("张三", "户主", make_id())))
    with pytest.raises(MzError, match="第一个账号必须是管理员"):
        auth.add_operator(store, "clerk", "clerk-pass-1", "clerk")
    auth.add_operator(store, "admin", "admin-pass-1", "admin")
    assert not auth.setup_mode(store)


def test_password_is_scrypt_hashed_and_checked(accounts):
    stored = accounts.scalar("SELECT pw_hash FROM operators WHERE name = 'clerk'")
    assert stored.startswith("scrypt$") and "clerk-pass-1" not in stored
    assert auth.login(accounts, "clerk", "clerk-pass-1").role == "clerk"
    assert accounts.operator == "clerk"
    with pytest.raises(LoginFailed, match="不正确"):
        auth.authenticate(accounts, "clerk", "wrong-password")


def test_account_locks_after_repeated_failures_and_admin_unlocks(accounts):
    for _ in range(auth.MAX_FAILURES - 1):
        with pytest.raises(LoginFailed, match="还可尝试"):
            auth.authenticate(accounts, "field", "nope-nope")
    with pytest.raises(LoginFailed, match="已锁定") as exc:
        auth.authenticate(accounts, "field", "nope-nope")
    assert exc.value.code == "account_locked"
    with pytest.raises(LoginFailed, match="已锁定"):  # even the right password
        auth.authenticate(accounts, "field", "field-pass-1")
    auth.set_locked(accounts, "field", False)
    assert auth.authenticate(accounts, "field", "field-pass-1").name == "field"


def test_admin_resets_password_others_cannot(accounts):
    auth.set_password(accounts, "clerk", "new-clerk-pw")
    assert auth.authenticate(accounts, "clerk", "new-clerk-pw")
    auth.login(accounts, "clerk", "new-clerk-pw")
    with pytest.raises(PermissionDenied):
        auth.set_password(accounts, "field", "hijacked-pw")
    auth.set_password(accounts, "clerk", "newer-clerk-pw", old_password="new-clerk-pw")
    with pytest.raises(PermissionDenied):
        auth.add_operator(accounts, "mole", "mole-pass-1", "admin")


def test_weak_password_and_bad_role_refused(accounts):
    with pytest.raises(FieldError, match="至少"):
        auth.add_operator(accounts, "x", "short", "clerk")
    with pytest.raises(FieldError, match="角色"):
        auth.add_operator(accounts, "x", "long-enough", "boss")
    assert auth.get_operator(accounts, "x") is None


def test_last_admin_cannot_be_locked(accounts):
    with pytest.raises(MzError, match="最后一个"):
        auth.set_locked(accounts, "admin", True)


def test_readonly_operator_cannot_edit_a_household(accounts):
    reg = Registry(accounts)
    h = reg.save(household("红旗村", ("张三", "户主", make_id())))
    auth.login(accounts, "viewer", "viewer-pass-1")
    h.address = "改了"
    with pytest.raises(PermissionDenied, match="只读 viewer 无权执行此操作"):
        reg.save(h)
    with pytest.raises(PermissionDenied):
        reg.delete(h.id, "迁出")
    with pytest.raises(PermissionDenied):
        reg.bulk_create([household("红旗村", ("李四", "户主", make_id(seq=3)))])
    assert reg.get(h.id).address == ""
    assert accounts.scalar("SELECT count(*) FROM households") == 1


def test_field_operator_edits_households_but_cannot_import_or_delete(accounts):
    reg = Registry(accounts)
    auth.login(accounts, "field", "field-pass-1")
    h = reg.save(household("红旗村", ("张三", "户主", make_id())))
    with pytest.raises(PermissionDenied):
        reg.delete(h.id, "迁出")
    with pytest.raises(PermissionDenied):
        require(accounts, "enrolment.confirm")
    require(accounts, "enrolment.edit")


def test_not_logged_in_is_told_how(accounts):
    auth.act_as(accounts, None)  # nobody logged in
    accounts.operator = "admin"  # a recorded name is no login
    with pytest.raises(PermissionDenied, match="MZDESK_OPERATOR") as exc:
        require(accounts, "household.edit")
    assert exc.value.code == "not_logged_in"


def test_locked_account_loses_its_rights_at_once(accounts):
    admin = accounts.principal
    auth.login(accounts, "clerk", "clerk-pass-1")
    clerk = accounts.principal
    auth.act_as(accounts, admin)
    auth.set_locked(accounts, "clerk", True, "离职")
    auth.act_as(accounts, clerk)  # still the clerk's session (the window, the CLI)
    with pytest.raises(PermissionDenied, match="已锁定"):
        require(accounts, "household.edit")


def test_every_action_has_a_label_and_unknown_actions_fail_loudly(store):
    assert set(auth.PERMISSIONS) == set(auth.ACTION_LABELS)
    with pytest.raises(KeyError):
        auth.allowed(store, "household.eat")
