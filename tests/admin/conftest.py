"""Admin tests: fast scrypt so that logging in costs milliseconds, not 0.1 s."""

from __future__ import annotations

import pytest

from mzdesk.models import auth


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2**10)
    real = auth.hash_password
    monkeypatch.setattr(auth, "hash_password", lambda pw, n=2**10: real(pw, n))


@pytest.fixture
def accounts(store):
    """An admin, a clerk, a field operator and a read-only account; logged in as admin."""
    auth.add_operator(store, "admin", "admin-pass-1", "admin", "王主任")
    store.operator = "admin"
    for name, role in (
        ("clerk", "clerk"),
        ("field", "field"),
        ("viewer", "readonly"),
        ("county", "county_reviewer"),
    ):
        auth.add_operator(store, name, f"{name}-pass-1", role)
    return store
