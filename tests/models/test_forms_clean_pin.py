"""Pins ``forms._clean_simple``: a frozen copy of the pre-refactor function (issue 19,
radon) must agree with the current one on every input: same value or same error."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mzdesk.models.dates import DATE_HINT, parse_day
from mzdesk.models.errors import FieldError
from mzdesk.models.forms import Field, _clean_simple
from mzdesk.models.money import parse_yuan
from mzdesk.models.text import LIMITS, clean

TODAY = dt.date(2026, 6, 15)
MEMBERS = {"u1": "张三", "u2": "李四"}
OPTIONS = ("甲", "乙", "丙")


# fmt: off
def _old_clean_simple(f: Field, value, members: dict[str, str] | None, today: dt.date):
    """One value to its stored form; raises FieldError; returns None when empty."""

    def bad(msg: str):
        return FieldError(f.key, "bad_answer", f"{f.label}: {msg}")

    if value is None or value == "" or value == []:
        return None
    t = f.type
    if t in ("text", "textarea", "signature"):
        # the text rule (models/text.py): one line unless the field is a textarea
        kind = "note" if t == "textarea" else "reason"
        text = clean(value, multiline=t == "textarea")
        if not text:
            return None
        if len(text) > LIMITS[kind][0]:
            raise bad(f"内容过长（最多{LIMITS[kind][0]}字）")
        if f.pattern and not re.fullmatch(f.pattern, text):
            raise bad(f"格式不正确{('（' + f.help + '）') if f.help else ''}")
        return text
    if t == "number":
        if isinstance(value, bool):
            raise bad("应为数字")
        try:
            num = float(str(value).strip()) if not isinstance(value, int | float) else value
        except ValueError:
            raise bad(f"应为数字: {value!r}") from None
        if num != num or num in (float("inf"), float("-inf")):
            raise bad("应为数字")
        if f.integer and int(num) != num:
            raise bad("应为整数")
        if f.min is not None and num < f.min:
            raise bad(f"不能小于{f.min:g}")
        if f.max is not None and num > f.max:
            raise bad(f"不能大于{f.max:g}")
        return int(num) if int(num) == num else num
    if t == "money":
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                raise bad("金额不能为负")
            return value  # already fen
        try:
            return parse_yuan(value, f.key)
        except FieldError as exc:
            raise bad(exc.message) from None
    if t == "yesno":
        if isinstance(value, bool):
            return value
        if value in ("是", "yes", "true", 1):
            return True
        if value in ("否", "no", "false", 0):
            return False
        raise bad("应为是或否")
    if t in ("single", "check"):
        if value not in f.choices:
            raise bad(f"选项无效: {value!r}")
        return value
    if t == "multiple":
        items = [value] if isinstance(value, str) else list(value)
        for v in items:
            if v not in f.options:
                raise bad(f"选项无效: {v!r}")
        return [o for o in f.options if o in items] or None
    if t == "date":
        try:
            day = parse_day(value)
        except ValueError:
            raise bad(f"日期无效（{DATE_HINT}）: {value!r}") from None
        if day > today and not f.future:
            raise bad("日期不能在未来")
        return day.isoformat()
    if t == "member":
        uids = [value] if isinstance(value, str) else list(value)
        if members is not None:
            for u in uids:
                if u not in members:
                    raise bad("不是本户成员")
        if f.multiple:
            return uids or None
        if len(uids) != 1:
            raise bad("只能选择一人")
        return uids[0]
    raise bad(f"不支持的类型 {t}")
# fmt: on


def outcome(fn, f, value, members):
    try:
        return ("ok", repr(fn(f, value, members, TODAY)))
    except FieldError as exc:
        return ("err", exc.field, exc.code, exc.message)
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:  # the old crashes, kept
        return ("crash", type(exc).__name__, str(exc))


fields = st.builds(
    Field,
    key=st.just("k"),
    type=st.sampled_from(
        [
            "text",
            "textarea",
            "signature",
            "number",
            "money",
            "yesno",
            "single",
            "check",
            "multiple",
            "date",
            "member",
            "table",
            "weird",
        ]
    ),
    label=st.just("标签"),
    help=st.sampled_from(["", "如：12"]),
    options=st.just(OPTIONS),
    multiple=st.booleans(),
    min=st.sampled_from([None, 0.0, 5.5]),
    max=st.sampled_from([None, 10.0, 1000.0]),
    integer=st.booleans(),
    pattern=st.sampled_from(["", r"\d+"]),
    future=st.booleans(),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 20000),
    st.floats(allow_nan=True),
    st.sampled_from(
        [
            "",
            "是",
            "否",
            "yes",
            "no",
            "true",
            "false",
            "符合",
            "不符合",
            "说明",
            "甲",
            "乙",
            "丁",
            "u1",
            "u2",
            "u9",
            "12",
            "3.5",
            "-1",
            "1.234",
            "abc",
            "nan",
            "inf",
            "2026-06-15",
            "2026-06-16",
            "2026/1/2",
            "20260101",
            "2026-13-01",
            " 7 ",
            "良好\x1b\n",
            "第一行\r\n第二行\x00",
            "字" * 600,
            "字" * 40000,
            "1,000.00",
            "￥12.5",
        ]
    ),
    st.text(max_size=20),
)
values = st.one_of(
    scalars, st.lists(st.sampled_from(["甲", "乙", "丁", "u1", "u2", "u9"]), max_size=4)
)


@settings(max_examples=3000, deadline=None)
@given(fields, values, st.sampled_from([None, MEMBERS]))
def test_clean_simple_agrees_with_the_frozen_copy(f, value, members):
    assert outcome(_clean_simple, f, value, members) == outcome(
        _old_clean_simple, f, value, members
    )
