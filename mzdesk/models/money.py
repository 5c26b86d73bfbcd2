"""Money is integer fen (分) everywhere; yuan appear only at the edges.

>>> parse_yuan("1,234.5")
123450
>>> format_fen(123450)
'1234.50'
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from .errors import FieldError

# The largest assistance amount (a monthly payment, or one 临时救助/医疗救助 case):
# 100,000 元.  A month of 低保 for a household is a few hundred to a few thousand 元
# (standard × persons), 特困 support with full care a few thousand; one-off 临时救助 is
# capped locally at a few months of the standard and 医疗救助 at about 10万 a year.  More
# is a typing or Excel mistake (extra digits, an ID in the amount column) that would go
# straight into the 清册.  Savings and incomes are not assistance: parse_yuan has no cap.
MAX_ASSISTANCE_FEN = 100_000_00


def check_assistance(fen: int, field: str = "amount") -> int:
    """``fen`` if it can be an assistance amount (0 to 100,000 元), else :class:`FieldError`."""
    if fen < 0:
        raise FieldError(field, "bad_amount", f"金额不能为负: {format_fen(fen)}")
    if fen > MAX_ASSISTANCE_FEN:
        raise FieldError(
            field,
            "amount_too_large",
            f"保障金额 {format_fen(fen)} 元超过上限 {format_fen(MAX_ASSISTANCE_FEN)} 元，"
            "请核对是否多输了位数",
        )
    return fen


def parse_assistance(text: object, field: str = "amount") -> int:
    """An assistance amount as typed or read (:func:`parse_yuan`), at most 100,000 元."""
    return check_assistance(parse_yuan(text, field), field)


def parse_yuan(text: object, field: str = "amount") -> int:
    """Yuan as typed or read from a cell ("1,234.50", "1234元", 980, 980.5) to fen."""
    if isinstance(text, bool):
        raise FieldError(field, "bad_amount", f"金额无效: {text!r}")
    if isinstance(text, int):
        return text * 100
    if isinstance(text, float):
        return _float_fen(text, field)
    raw = str(text).strip().replace(",", "").replace("，", "").replace("元", "").replace("¥", "")
    raw = raw.replace("￥", "")
    if raw == "":
        raise FieldError(field, "bad_amount", "金额为空")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FieldError(field, "bad_amount", f"金额无效: {text!r}") from None
    if not value.is_finite():
        raise FieldError(field, "bad_amount", f"金额无效: {text!r}")
    fen = value * 100
    if fen != fen.to_integral_value():
        raise FieldError(field, "bad_amount", f"金额最多两位小数: {text!r}")
    if fen < 0:
        raise FieldError(field, "bad_amount", f"金额不能为负: {text!r}")
    return int(fen)


def _float_fen(value: float, field: str) -> int:
    """A number cell (Excel keeps numbers as binary floats: 980.1 is 980.0999…) to fen, when
    it is whole fen up to the float's noise; NaN and infinity (a formula's #NUM!, a file
    written by a program) are no amount."""
    if not math.isfinite(value):
        raise FieldError(field, "bad_amount", f"金额不是有效的数字：{value!r}")
    cents = round(value * 100)
    if abs(value * 100 - cents) > 1e-6:
        raise FieldError(field, "bad_amount", f"金额最多两位小数: {value!r}")
    if cents < 0:
        raise FieldError(field, "bad_amount", f"金额不能为负: {value!r}")
    return cents


def format_fen(fen: int | None) -> str:
    """Fen to yuan with two decimals, no float on the way."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"
