"""Fixtures for one-off payment runs: a 低保 family and a 特困 old man, paid from 2027-01."""

from __future__ import annotations

import pytest

from tests.enrolment.conftest import family, notice_today, single  # noqa: F401  (fixtures)
from tests.enrolment.test_components import active


@pytest.fixture
def paid(store, family, single, registry):  # noqa: F811
    """(低保 enrolment of 3 persons, 特困 enrolment) paid from 2027-01; the family banks."""
    family.bank_name, family.bank_account = "农业银行", "6228480012345678901"
    registry.save(family)
    dibao = active(store, family.id, cls="二类")
    member = single.members[0].id
    tekun = active(store, single.id, category="tekun", member_id=member, fen=68700, cls="全自理")
    return dibao, tekun
