"""Self-care levels (生活自理能力) of 特困 persons and the care amount (照料护理费) by level.

One code per level, several accepted labels (``resources/selfcare.json``): the official
wording of the 2021 rules (具备 / 部分丧失 / 完全丧失生活自理能力), the assessment's
自理 / 半失能 / 失能, and the rosters' 全自理 / 半护理 / 全护理.

>>> level_of("部分丧失生活自理能力"), level_of("半失能"), level_of(" 半护理 ")
('partial', 'partial', 'partial')
>>> label_of("unable")
'完全丧失生活自理能力'
>>> care_fen("全护理")
60000

A category whose class is a self-care level (``"class_vocab": "selfcare"`` in
categories.json, 特困 as shipped) accepts any label and stores its own class label:

>>> class_label({"classes": ["全自理", "半自理", "全护理"], "class_vocab": "selfcare"},
...             "完全丧失生活自理能力")
'全护理'
"""

from __future__ import annotations

from ..resources import load_json
from .errors import MzError

VOCAB = "selfcare"


class UnknownLevel(MzError):
    """A self-care label that is none of the accepted ones."""

    code = "bad_selfcare"


def levels() -> list[dict]:
    """The levels in order, each ``{"code", "label", "labels"}`` (the official label first)."""
    return load_json("selfcare.json")["levels"]


def codes() -> list[str]:
    return [lv["code"] for lv in levels()]


def _squeeze(text: object) -> str:
    return "".join(str(text or "").split())


def level_of(text: str) -> str:
    """The level code of a label or a code; :class:`UnknownLevel` lists the accepted labels."""
    t = _squeeze(text)
    for lv in levels():
        if t == lv["code"] or t in lv["labels"]:
            return lv["code"]
    accepted = "；".join("、".join(lv["labels"]) for lv in levels())
    raise UnknownLevel(f"无法识别的生活自理能力“{t}”，可用：{accepted}")


def label_of(code: str) -> str:
    """The official label of a level (a label is read as its level first)."""
    code = level_of(code)
    return next(lv["label"] for lv in levels() if lv["code"] == code)


def care_table(county: str | None = None) -> dict[str, int]:
    """Level code → monthly 照料护理费 in fen for ``county`` (its 6-digit area code; a
    township's 9-digit code works too), else the default row of the shipped table."""
    table = load_json("selfcare.json")["care_fen"]
    key = (county or "")[:6]
    return dict(table.get(key) or table["default"])


def care_fen(level: str, county: str | None = None, table: dict[str, int] | None = None) -> int:
    """The monthly care amount (照料护理费, fen) of a self-care level given by code or any
    label; ``table`` overrides the shipped one (a county's own figures).  Pure: no store."""
    code = level_of(level)
    row = care_table(county) if table is None else table
    if code not in row:
        raise MzError(f"照料护理费标准缺少“{label_of(code)}”一档", "care_table_incomplete")
    fen = row[code]
    if not isinstance(fen, int) or fen < 0:
        raise MzError(f"照料护理费标准“{label_of(code)}”应为非负整数（分）", "care_table_bad")
    return fen


def class_label(cat: dict, text: str) -> str:
    """The class to store for ``text`` in category ``cat``: for a category whose classes are
    self-care levels, the class of the same level (any accepted label in, the category's own
    label out); otherwise ``text`` unchanged (the caller checks it against the classes)."""
    if cat.get("class_vocab") != VOCAB or not text:
        return text
    try:
        code = level_of(text)
    except UnknownLevel:
        return text  # not a level: the class check refuses it with the category's list
    for cls in cat.get("classes") or []:
        try:
            if level_of(cls) == code:
                return cls
        except UnknownLevel:
            continue  # a configured class that names no level: never matches
    return label_of(code) if not cat.get("classes") else text


def class_level(cat: dict, cls: str) -> str | None:
    """The level code of an enrolment's class in a self-care category, else None."""
    if cat.get("class_vocab") != VOCAB or not cls:
        return None
    try:
        return level_of(cls)
    except UnknownLevel:
        return None
