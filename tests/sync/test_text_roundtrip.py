"""Any text a clerk can store travels in a batch and arrives unchanged.

Text pasted from a word processor carries characters JSON leaves unescaped but
Python's ``str.splitlines`` treats as line ends (U+2028, U+2029, U+0085, …).  A
records file is split on ``\\n`` only, so such a record is one line and one record.
The control characters among them (U+0085, U+000B …) no longer enter the database
(models/text.py) and a batch carrying one is refused (tests/models/test_text_paths.py).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mzdesk.models.text import has_forbidden

from .sites import content, edit, township_county

LINE_BREAKERS = "\u2028\u2029\r\n"  # the ones the text rule lets in


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("text")
    t, c = township_county(tmp, 2, seed=5)
    c.import_(t.export(c))
    yield t, c
    t.store.close()
    c.store.close()


def _send(t, c, address: str, name: str) -> None:
    hh = t.store.scalar("SELECT uid FROM households ORDER BY id LIMIT 1")
    member = t.store.scalar("SELECT uid FROM members ORDER BY id LIMIT 1")
    edit(t.store, "households", hh, address=address)
    edit(t.store, "members", member, name=name)
    report = c.import_(t.export(c))
    assert report.totals().conflicts == 0
    assert c.store.scalar("SELECT address FROM households WHERE uid = ?", (hh,)) == address
    assert c.store.scalar("SELECT name FROM members WHERE uid = ?", (member,)) == name
    assert content(c.store) == content(t.store)


def test_line_separators_inside_values_travel(pair):
    t, c = pair
    _send(t, c, f"红旗村{LINE_BREAKERS}三组", f"王{LINE_BREAKERS[:3]}大山")


# every character the text rule lets in (its forbidden ones are all below U+10000)
ALLOWED = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters=[chr(c) for c in range(0x10000) if has_forbidden(chr(c))],
)
texts = st.text(ALLOWED, min_size=1, max_size=40)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(address=texts, name=texts)
def test_any_text_travels_unchanged(pair, address, name):
    _send(pair[0], pair[1], address, name)
