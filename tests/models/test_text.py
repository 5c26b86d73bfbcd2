"""The text rule (models/text.py): what enters the database is clean and bounded."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mzdesk.models.errors import FieldError
from mzdesk.models.text import (
    FORBIDDEN,
    LIMITS,
    clean,
    field_text,
    has_forbidden,
    stored_problem,
    xlsx_safe,
)

# every character the rule removes, spelled out (not derived from the module's regex)
JUNK = (
    [chr(c) for c in range(0x00, 0x09)]
    + ["\x0b", "\x0c"]
    + [chr(c) for c in range(0x0E, 0x20)]
    + [chr(c) for c in range(0x7F, 0xA0)]
    + ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f"]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\ud800", "\udfff", "\ufffe", "\uffff", "\u061c"]
)
junk = st.sampled_from(JUNK)
cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
punct = st.sampled_from(
    list("，。、；：？！“”‘’（）《》—…·-_.,;:!?()[]{}'\"/ 0123456789abcXYZ０１２３")
)
visible = st.text(st.one_of(cjk, punct), max_size=40)
anything = st.text(st.one_of(st.characters(), junk), max_size=60)


@given(anything, st.booleans())
def test_no_forbidden_character_ever_survives(text, multiline):
    out = clean(text, multiline)
    assert not any(ch in out for ch in JUNK)
    assert not has_forbidden(out)
    if not multiline:
        assert not any(ch in out for ch in "\t\n\r")
    else:
        assert "\r" not in out


@given(anything, st.booleans())
def test_cleaning_is_idempotent(text, multiline):
    once = clean(text, multiline)
    assert clean(once, multiline) == once


@given(visible)
def test_printable_cjk_and_punctuation_are_untouched(text):
    assert clean(text) == text.strip()
    assert clean(text, multiline=True) == text.strip()


@given(st.lists(st.one_of(cjk, junk), max_size=30))
def test_junk_between_characters_is_removed_and_the_rest_kept_in_order(chars):
    text = "".join(chars)
    assert clean(text) == "".join(c for c in chars if c not in JUNK).strip()


def test_excel_escapes_as_decoded_and_line_breaks():
    assert clean("张\x1b三") == "张三"  # _x001B_ as calamine/openpyxl read it
    assert clean("李\x00四") == "李四"  # _x0000_
    assert clean("\u202e王五\u202c") == "王五"  # a bidi override pasted from a web page
    assert clean("第一行\r\n第二行\r第三行\t末", multiline=True) == "第一行\n第二行\n第三行\t末"
    assert clean("第一行\r\n第二行") == "第一行 第二行"
    assert clean(None) == ""


def test_full_width_digits_are_not_normalised_here():
    """ID numbers and phones have their own rule (ids.normalise_id): no NFKC here."""
    assert clean("３４１６２３") == "３４１６２３"
    assert clean("\uf900") == "\uf900"  # a CJK compatibility ideograph stays as typed


def test_too_long_is_refused_with_the_field_named_and_nothing_cut():
    limit = LIMITS["site_name"][0]
    assert field_text("镇" * limit, "site_name", "单位名称", "site_name") == "镇" * limit
    with pytest.raises(FieldError) as exc:
        field_text("镇" * 40000, "site_name", "单位名称", "site_name")
    assert exc.value.code == "too_long"
    assert exc.value.field == "site_name"
    assert exc.value.message == f"单位名称过长（最多{limit}字）"
    # the limit counts what is left after cleaning
    assert field_text("\u200b" * 100 + "镇", "site_name", "单位名称", "site_name") == "镇"


def test_every_limit_is_sane():
    assert LIMITS["person_name"][0] >= 20
    assert all(0 < n <= 2000 for n, _ in LIMITS.values())
    assert LIMITS["reason"][1] and LIMITS["note"][1] and not LIMITS["person_name"][1]


@given(anything)
def test_the_xlsx_guard_leaves_what_openpyxl_accepts(text):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    assert not ILLEGAL_CHARACTERS_RE.search(xlsx_safe(text))
    assert xlsx_safe(12) == 12


def test_stored_problem_names_the_kind_of_problem():
    assert stored_problem("张\x1b三", "person_name") == "dirty_text"
    assert stored_problem("张" * 31, "person_name") == "text_too_long"
    assert stored_problem("多行\n备注", "note") is None
    assert stored_problem(None, "note") is None
    assert FORBIDDEN.search("\t\n\r") is None  # allowed in multi-line fields
