"""Money is integer fen (分) everywhere; yuan appear only at the edges.

>>> parse_yuan("1,234.5")
123450
>>> format_fen(123450)
'1234.50'
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .errors import FieldError


def parse_yuan(text: object, field: str = "amount") -> int:
    """Yuan as typed or read from a cell ("1,234.50", "1234元", 980, 980.5) to fen."""
    if isinstance(text, bool):
        raise FieldError(field, "bad_amount", f"金额无效: {text!r}")
    if isinstance(text, int):
        return text * 100
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


def format_fen(fen: int | None) -> str:
    """Fen to yuan with two decimals, no float on the way."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"
