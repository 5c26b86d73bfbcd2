import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mzdesk.models.errors import FieldError
from mzdesk.models.ids import (
    check_char,
    convert_15_to_18,
    ids_may_match,
    is_valid_id,
    mask_id,
    normalise_id,
    parse_disability_cert,
    parse_id,
)

TODAY = dt.date(2026, 11, 23)


@st.composite
def valid_ids(draw):
    region = draw(st.from_regex(r"[1-8][0-9]{5}", fullmatch=True))
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY))
    seq = draw(st.integers(0, 999))
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + check_char(body)


def test_known_number():
    info = parse_id("34162319800101001X", TODAY)
    assert info.birth_date == dt.date(1980, 1, 1)
    assert info.gender == "M"  # 001: odd
    assert info.region == "341623"


@given(valid_ids())
@settings(max_examples=400)
def test_every_valid_id_passes(number):
    info = parse_id(number, TODAY)
    assert info.number == number
    assert info.gender == ("M" if int(number[16]) % 2 else "F")


@given(valid_ids(), st.integers(0, 17), st.sampled_from("0123456789X"))
@settings(max_examples=800)
def test_every_single_character_change_fails(number, pos, ch):
    if number[pos] == ch:
        ch = "X" if ch != "X" else "0"
    changed = number[:pos] + ch + number[pos + 1 :]
    assert not is_valid_id(changed, TODAY)


@given(valid_ids())
def test_lowercase_x_fullwidth_and_spaces_normalise(number):
    fancy = (
        " " + number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}).lower() + "\u3000"
    )
    assert parse_id(fancy, TODAY).number == number


def test_fifteen_digit_legacy_number_converts():
    assert convert_15_to_18("341623800101001") == "34162319800101001X"
    assert parse_id("341623800101001", TODAY).number == "34162319800101001X"


@pytest.mark.parametrize(
    "raw, code",
    [
        ("341623198002300019", "id_bad_date"),  # 30 Feb
        ("341623203001010010", "id_bad_date"),  # future
        ("34162319800101001", "id_format"),
        ("3416231980010100A1", "id_format"),
        ("341623198001010011", "id_checksum"),
        ("341623180001010011", "id_bad_date"),  # year 1800
    ],
)
def test_rejections_carry_a_code(raw, code):
    with pytest.raises(FieldError) as exc:
        parse_id(raw, TODAY)
    assert exc.value.code == code
    assert exc.value.field == "id_number"


def test_mask_shows_at_most_six_and_four():
    assert mask_id("34162319800101001X") == "341623********001X"
    assert mask_id("34162319800101001X", head=10, tail=8) == "341623********001X"
    assert mask_id("") == ""


@given(valid_ids())
def test_mask_never_reveals_the_birth_date(number):
    masked = mask_id(number)
    assert len(masked) == 18
    assert masked[6:14] == "*" * 8


def test_disability_certificate_must_match_its_holder():
    holder = "34162319800101001X"
    cert = parse_disability_cert(holder + "42", holder)
    assert (cert.category, cert.level, cert.category_name) == (4, 2, "肢体")
    with pytest.raises(FieldError) as exc:
        parse_disability_cert("341623198203030027" + "42", holder)
    assert exc.value.code == "cert_holder"
    with pytest.raises(FieldError) as exc:
        parse_disability_cert(holder + "82", holder)
    assert exc.value.code == "cert_category"
    with pytest.raises(FieldError) as exc:
        parse_disability_cert(holder + "45", holder)
    assert exc.value.code == "cert_level"


def test_normalise_keeps_what_it_cannot_judge():
    assert normalise_id(" 3416 2319 8001 0100 1x ") == "34162319800101001X"


# -- ids_may_match: can two written numbers be the same person's (re-import matching) -------
def excel_kept(number: str) -> str:
    """An ID typed into a number cell, as Excel keeps it: 15 digits, then zeros."""
    return number[:15] + "000"


def test_ids_may_match_examples():
    a = "341623198805059123"
    assert ids_may_match(a, a) and ids_may_match(" ３４１６２３１９８８０５０５９１２３ ", a)
    assert ids_may_match(a, excel_kept(a)) and ids_may_match(excel_kept(a), a)
    assert ids_may_match(a, "341623198805059213")  # two digits swapped
    assert ids_may_match(a, "341623198805059124")  # one wrong digit
    assert not ids_may_match(a, "341623200105059123")  # another birth date
    assert not ids_may_match(a, "341623198805059")  # lengths differ
    assert not ids_may_match("", "") and not ids_may_match(None, a) and not ids_may_match(a, "")


@given(valid_ids())
@settings(max_examples=300)
def test_an_id_matches_itself_and_what_excel_kept_of_it_either_way(number):
    assert ids_may_match(number, number)
    assert ids_may_match(number, excel_kept(number))
    assert ids_may_match(excel_kept(number), number)  # the database may hold the cut one


ID_TEXT = st.text(alphabet="0123456789X ", max_size=20)


@given(st.one_of(valid_ids(), ID_TEXT), st.one_of(valid_ids(), ID_TEXT))
@settings(max_examples=500)
def test_ids_may_match_is_symmetric(a, b):
    assert ids_may_match(a, b) == ids_may_match(b, a)


@given(valid_ids(), valid_ids())
def test_ids_three_or_more_characters_apart_do_not_match(a, b):
    if sum(x != y for x, y in zip(a, b, strict=True)) > 2 and excel_kept(a) != excel_kept(b):
        assert not ids_may_match(a, b)


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("13800001234", "13800001234"),
        ("138-0000-1234", "13800001234"),
        ("138 0000 1234", "13800001234"),
        ("１３８００００１２３４", "13800001234"),
        ("+86 138 0000 1234", "13800001234"),
        ("0086-13800001234", "13800001234"),
        ("8613800001234", "13800001234"),
        ("0556-1234567", "05561234567"),
        ("(0556) 1234567", "05561234567"),
        ("（0556）1234567", "05561234567"),
        ("", ""),
        (None, ""),
        ("0556-1234567转8", "05561234567转8"),  # kept for the validator to refuse
    ],
)
def test_phone_numbers_are_stored_as_digits(typed, stored):
    from mzdesk.models.ids import normalise_phone

    assert normalise_phone(typed) == stored


def test_checksum_message_is_plain_and_the_digit_only_a_hint():
    from mzdesk.models.ids import CHECKSUM_MESSAGE, checksum_hint

    with pytest.raises(FieldError) as exc:
        parse_id("341623198001010011")
    assert exc.value.message == "校验不通过：请对照证件逐位核对" == CHECKSUM_MESSAGE
    assert checksum_hint("341623198001010011").startswith("按前17位计算，末位应为")
