"""Resident ID numbers (居民身份证号码, GB 11643) and disability certificate numbers.

The one place that knows how an ID is normalised, checked and masked.  The GUI,
the CLI, the importers and the reports all call these functions.

>>> normalise_id(" ３４１６２３１９９００１０１００９ｘ ")
'34162319900101009X'
>>> check_char("34162319900101009")
'X'
>>> check_char("34162319900101001")
'4'
>>> mask_id("34162319900101009X")
'341623********009X'
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from .errors import FieldError

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

_FULLWIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９ＸｘＡＢＣＤＥＦａｂｃｄｅｆ"}
_FULLWIDTH[0x3000] = 0x20  # ideographic space

DISABILITY_CATEGORIES = {
    1: "视力",
    2: "听力",
    3: "言语",
    4: "肢体",
    5: "智力",
    6: "精神",
    7: "多重",
}
DISABILITY_LEVELS = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}


@dataclass(frozen=True)
class IdInfo:
    """What an 18-character ID number tells: birth date, gender, region."""

    number: str
    birth_date: dt.date
    gender: str  # "M" or "F"
    region: str


def to_halfwidth(text: str) -> str:
    """Full-width digits, letters and ideographic spaces to their ASCII forms."""
    return text.translate(_FULLWIDTH)


def normalise_id(raw: str) -> str:
    """Trim, drop inner spaces, full-width to half-width, upper-case X.

    Does not validate; see :func:`parse_id`.
    """
    text = to_halfwidth(str(raw))
    text = "".join(text.split())
    return text.upper()


_PHONE_SEPARATORS = str.maketrans("", "", "-()（）.—－ ")


def normalise_phone(raw: str | None) -> str:
    """A phone number as digits only, the one form it is stored, searched and compared in:
    full-width digits and separators (``-``, brackets, dots, spaces) as clerks type them go,
    and a mobile's country code (+86 / 0086 / 86 before 1xxxxxxxxxx) too.  Anything else
    (letters, an extension mark) is kept, for the validator to refuse.  Does not validate."""
    text = "".join(to_halfwidth(str(raw or "")).split()).translate(_PHONE_SEPARATORS)
    for prefix in ("+86", "0086", "86"):
        rest = text[len(prefix) :]
        if text.startswith(prefix) and len(rest) == 11 and rest.startswith("1") and rest.isdigit():
            return rest
    return text


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def convert_15_to_18(id15: str) -> str:
    """Legacy 15-digit number to 18 characters ("19" before the year, then the check)."""
    if len(id15) != 15 or not id15.isdigit():
        raise FieldError("id_number", "id_format", f"不是15位旧身份证号: {len(id15)}位")
    body = id15[:6] + "19" + id15[6:]
    return body + check_char(body)


def _birth_date(digits8: str, today: dt.date) -> dt.date:
    try:
        born = dt.date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        raise FieldError("id_number", "id_bad_date", f"出生日期不存在: {digits8}") from None
    if born > today:
        raise FieldError("id_number", "id_bad_date", f"出生日期在未来: {digits8}")
    if born.year < 1890:
        raise FieldError("id_number", "id_bad_date", f"出生日期过早: {digits8}")
    return born


CHECKSUM_MESSAGE = "校验不通过：请对照证件逐位核对"


def checksum_hint(raw: str) -> str:
    """After the clerk re-checked the digits: what the last character should be.

    >>> checksum_hint("341623199001010091")
    '按前17位计算，末位应为X'
    """
    number = normalise_id(raw)
    if len(number) < 17 or not number[:17].isdigit():
        return ""
    return f"按前17位计算，末位应为{check_char(number[:17])}"


def parse_id(raw: str, today: dt.date | None = None) -> IdInfo:
    """Normalise and validate an ID number; return what it tells.

    Accepts 18-character numbers and legacy 15-digit ones (converted).  Raises
    :class:`FieldError` with code ``id_format``, ``id_bad_date`` or
    ``id_checksum``.
    """
    return _parse_id(normalise_id(raw), today or dt.date.today())


@functools.lru_cache(maxsize=1 << 16)
def _parse_id(number: str, today: dt.date) -> IdInfo:
    """:func:`parse_id` of a normalised number; remembered (an import checks each member's
    number when it reads the row and again when the household's rules run; the result is
    frozen, and a refusal is raised anew each time, never cached)."""
    if len(number) == 15 and number.isdigit():
        _birth_date("19" + number[6:12], today)
        number = convert_15_to_18(number)
    if len(number) != 18:
        raise FieldError("id_number", "id_format", f"身份证号应为18位，实为{len(number)}位")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise FieldError("id_number", "id_format", "身份证号只能包含数字和末位X")
    born = _birth_date(number[6:14], today)
    if check_char(number[:17]) != number[17]:
        raise FieldError("id_number", "id_checksum", CHECKSUM_MESSAGE)
    gender = "M" if int(number[16]) % 2 == 1 else "F"
    return IdInfo(number=number, birth_date=born, gender=gender, region=number[:6])


def is_valid_id(raw: str, today: dt.date | None = None) -> bool:
    try:
        parse_id(raw, today)
    except FieldError:
        return False
    return True


def mask_id(number: str | None, head: int = 6, tail: int = 4) -> str:
    """Mask an ID for anything shown outside the office (公示, exports).

    At most the first 6 and last 4 characters stay visible:
    >>> mask_id("34162319900101001X")
    '341623********001X'
    """
    if not number:
        return ""
    number = normalise_id(number)
    head = min(head, 6)
    tail = min(tail, 4)
    if len(number) <= head + tail:
        return "*" * len(number)
    return number[:head] + "*" * (len(number) - head - tail) + number[len(number) - tail :]


@dataclass(frozen=True)
class DisabilityCert:
    number: str
    category: int
    level: int

    @property
    def category_name(self) -> str:
        return DISABILITY_CATEGORIES[self.category]

    @property
    def level_name(self) -> str:
        return DISABILITY_LEVELS[self.level]


def parse_disability_cert(raw: str, holder_id: str | None) -> DisabilityCert:
    """Second-generation disability certificate (第二代残疾人证): ID + category + level.

    The first 18 characters must be the holder's own ID number.
    """
    number = normalise_id(raw)
    field = "disability_cert"
    if len(number) != 20:
        raise FieldError(field, "cert_format", f"残疾人证号应为20位，实为{len(number)}位")
    if not number[18:].isdigit():
        raise FieldError(field, "cert_format", "残疾人证号末两位应为类别和等级数字")
    category, level = int(number[18]), int(number[19])
    if category not in DISABILITY_CATEGORIES:
        raise FieldError(field, "cert_category", f"残疾类别代码{category}无效(应为1-7)")
    if level not in DISABILITY_LEVELS:
        raise FieldError(field, "cert_level", f"残疾等级代码{level}无效(应为1-4)")
    if holder_id is None:
        raise FieldError(field, "cert_holder", "持证人没有有效身份证号，无法核对残疾人证")
    if number[:18] != normalise_id(holder_id):
        raise FieldError(field, "cert_holder", "残疾人证号前18位与持证人身份证号不一致")
    return DisabilityCert(number=number, category=category, level=level)


def ids_may_match(a: str | None, b: str | None) -> bool:
    """Whether two written ID numbers can be the same person's (the order does not matter).

    True when, once normalised, they are equal; or both have 18 characters and one is the
    other as an Excel number cell kept it (the first 15 digits, then ``000``); or at most
    two characters differ (a wrong or swapped digit).  An empty number matches nothing.
    Used where an ID cannot settle identity on its own (a 待核实 number): with a same name
    in the same village it is evidence, never proof.

    >>> ids_may_match("341623198805059123", "341623198805059000")  # Excel kept 15 digits
    True
    >>> ids_may_match("34162319880505912X", "34162319880505921X")  # two digits swapped
    True
    >>> ids_may_match("341623198805059123", "341623200105059123")  # another person
    False
    """
    a, b = normalise_id(a or ""), normalise_id(b or "")
    if not a or not b:
        return False
    if a == b:
        return True
    if len(a) != 18 or len(b) != 18:
        return False
    if a[:15] == b[:15] and any(x.isdigit() and x.endswith("000") for x in (a, b)):
        return True
    return sum(x != y for x, y in zip(a, b, strict=True)) <= 2
