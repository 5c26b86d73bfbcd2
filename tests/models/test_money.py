import pytest
from hypothesis import given
from hypothesis import strategies as st

from mzdesk.models.errors import FieldError
from mzdesk.models.money import format_fen, parse_yuan


@pytest.mark.parametrize(
    "text, fen",
    [
        ("1,234.5", 123450),
        ("980", 98000),
        (980, 98000),
        ("0.01", 1),
        ("320元", 32000),
        ("￥12.30", 1230),
    ],
)
def test_parse(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "1.234", "-5", "nan", True])
def test_bad_amounts_are_refused(text):
    with pytest.raises(FieldError) as exc:
        parse_yuan(text)
    assert exc.value.code == "bad_amount"


@given(st.integers(0, 10**12))
def test_round_trip(fen):
    assert parse_yuan(format_fen(fen)) == fen


def test_assistance_amounts_have_an_upper_limit_savings_do_not():
    from mzdesk.models.money import MAX_ASSISTANCE_FEN, parse_assistance

    assert MAX_ASSISTANCE_FEN == 100_000_00
    assert parse_assistance("100000") == MAX_ASSISTANCE_FEN
    for too_much in ("100000.01", 99999999999, "1e12"):
        with pytest.raises(FieldError, match="超过上限 100000.00 元") as exc:
            parse_assistance(too_much)
        assert exc.value.code == "amount_too_large"
    assert parse_yuan("250000") == 250_000_00  # declared savings may be larger
