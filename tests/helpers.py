"""Helpers that read like examples; imported by tests as ``from tests.helpers import ...``."""

from __future__ import annotations

from mzdesk.models.household import Household, Member
from mzdesk.models.ids import check_char

REGION = "341623"


def make_id(born: str = "19800101", seq: int = 1, region: str = REGION) -> str:
    """A valid ID number: ``make_id('19800101', 1)`` → '34162319800101001X'."""
    body = f"{region}{born}{seq:03d}"
    return body + check_char(body)


def household(village: str = "红旗村", *people: tuple[str, str, str], **kw) -> Household:
    """``household('红旗村', ('张三丰', '户主', make_id()), ...)``"""
    members = [Member(name=n, relation=r, id_number=i) for n, r, i in people]
    return Household(village=village, members=members, **kw)


def require_tool(*names: str) -> str:
    """Path of the first of ``names`` on PATH.

    ``make test`` installs these tools (scripts/system-deps.sh), so under CI a
    missing tool fails the test; a developer running bare pytest gets a skip.
    """
    import os
    import shutil

    import pytest

    for name in names:
        path = shutil.which(name)
        if path:
            return path
    message = f"{' / '.join(names)} not installed: scripts/system-deps.sh installs it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
