"""The words roster cells are written in (花名册的取值词表), and deciding by them.

One JSON, ``resources/roster_vocab.json``, holds what a county may extend: category
labels (the provincial 救助类型 ones too: 农村最低生活保障对象, 城市特困人员 …), classes
(一类/A类/重点保障户 …), 城乡 words, which village names are urban (社区/居委会) or rural
(村), 供养方式 and relations.  Self-care levels are :mod:`mzdesk.models.selfcare`'s
(``selfcare.json``); categories' own names come from the database.

:class:`Values` decides one analysis's cells, the clerk's value mapping first
(``--mapping {"values": {"类别": {"C类": "三类"}}}``), then the vocabulary:

>>> v = Values(None, {"类别": {"丙类": "三类"}})
>>> v.category("农村最低生活保障对象"), v.category("城乡低保"), v.category("C类")
('rural_dibao', 'dibao', None)
>>> v.role(["A类", "C类", "重点保障户"]), v.role(["农村低保", "特困"])
('class', 'category')
>>> v.area_of_village("幸福社区"), v.area_of_village("红旗村"), v.area_of_village("石桥")
('urban', 'rural', None)
>>> v.mapped("类别", "丙类")
'三类'
"""

from __future__ import annotations

import functools

from ..models.selfcare import UnknownLevel, level_of
from ..models.vocab import categories
from ..resources import load_json


@functools.cache
def vocab() -> dict:
    """``resources/roster_vocab.json`` as shipped (or as the county extended it)."""
    return load_json("roster_vocab.json")


def squeeze(value: object) -> str:
    """A cell compared as a word: half-width, no spaces, '（）' as '()', lower case."""
    from .layout import norm_header  # layout imports this module

    return norm_header(value)


@functools.cache
def _words(name: str) -> dict[str, str]:
    return {squeeze(k): v for k, v in vocab()[name].items()}


def relation_words() -> dict[str, str]:
    """与户主关系 as written → the relation vocabulary's word (``本人`` → ``户主``)."""
    return vocab()["relations"]


def class_words() -> dict[str, str]:
    """A class as written (squeezed) → the class (``a类`` → ``一类``)."""
    return _words("classes")


def selfcare_level(value: object) -> str | None:
    """A self-care level's code (able/partial/unable) for any accepted label, else None."""
    try:
        return level_of(str(value or ""))
    except UnknownLevel:
        return None


def support_mode(value: object) -> str | None:
    """供养方式 as written → 'concentrated' / 'dispersed'; also read out of a 救助类型 label
    (农村特困人员（分散供养）); None when it names neither."""
    t = squeeze(value)
    if not t:
        return None
    words = _words("support_modes")
    if t in words:
        return words[t]
    for word in sorted(words, key=len, reverse=True):
        if word in t:
            return words[word]
    return None


def area_type(value: object) -> str | None:
    """A 城乡/户籍类型 cell → 'urban' / 'rural', None when it names neither."""
    return _words("area_types").get(squeeze(value))


def names_single(text: object) -> bool:
    """A title or a 救助类型 label naming 单人保 (one person enrolled alone)."""
    t = squeeze(text)
    return any(squeeze(w) in t for w in vocab()["single_markers"])


def area_categories() -> dict[str, dict[str, str]]:
    """{pseudo code: {'urban': code, 'rural': code}}: 低保 without 城/乡 (``dibao``)."""
    return vocab()["area_categories"]


def title_marker(text: object) -> str | None:
    """The category a title or sheet name selects by a marker word (边缘, 刚性支出)."""
    t = squeeze(text)
    for word, code in vocab()["title_markers"].items():
        if squeeze(word) in t:
            return code
    return None


class Values:
    """Decides the cells of one analysis: the clerk's value mapping, then the vocabulary.

    ``cats``: the database's categories (local ones too), ``None`` for the shipped list;
    ``mapping``: {column header, column letter or field: {value as written: meant value}}.
    """

    def __init__(self, cats: dict[str, dict] | None, mapping: dict[str, dict] | None = None):
        self.cats = categories() if cats is None else cats
        self.mapping = {
            squeeze(col): {squeeze(k): str(v) for k, v in values.items()}
            for col, values in (mapping or {}).items()
        }
        words = dict(_words("categories"))
        for code, cat in self.cats.items():
            for w in (cat.get("name", ""), cat.get("short", ""), code):
                if w:
                    words.setdefault(squeeze(w), code)
        self.category_words = words
        self.by_length = sorted(words.items(), key=lambda kv: -len(kv[0]))
        self.classes = class_words()
        self.known_classes = {c for cat in self.cats.values() for c in cat.get("classes", [])}
        self.pseudo = set(area_categories())
        # {'urban_dibao': 'urban', 'rural_dibao': 'rural'}: the 城乡 a category implies
        self.area_of_category = {
            code: area for pair in area_categories().values() for area, code in pair.items()
        }
        self._village_area: dict[str, str | None] = {}

    def mapped(self, *columns_and_value: str) -> str | None:
        """The clerk's meaning of a value in a column (any of its names), else None."""
        *columns, value = columns_and_value
        v = squeeze(value)
        for col in columns:
            hit = self.mapping.get(squeeze(col), {}).get(v)
            if hit is not None:
                return hit
        return None

    def category(self, value: object) -> str | None:
        """A category cell → a code (or a pseudo code of :func:`area_categories`), else None."""
        t = squeeze(value)
        if not t:
            return None
        if t in self.category_words:
            return self.category_words[t]
        # provincial labels with a suffix: 农村特困人员（分散供养）, 最低生活保障对象（单人）
        bare = t.split("(")[0]
        return self.category_words.get(bare)

    def category_in_text(self, text: object) -> str | None:
        """The category a title or sheet name selects: a marker word (边缘, 刚性支出) first,
        then the longest category word in it."""
        marker = title_marker(text)
        if marker and marker in self.cats:
            return marker
        t = squeeze(text)
        for word, code in self.by_length:
            if word and word in t:
                return code
        return None

    def is_class(self, value: object) -> bool:
        t = squeeze(value)
        return t in self.classes or t.upper() in self.classes or value in self.known_classes

    def role(self, values: list) -> str | None:
        """What a 类别-like column holds, by its values: 'category', 'class', 'selfcare',
        or None when most of its values are none of these."""
        seen = [v for v in values if squeeze(v)]
        if not seen:
            return None
        hits = {
            "category": sum(1 for v in seen if self.category(v)),
            "class": sum(1 for v in seen if self.is_class(v)),
            "selfcare": sum(1 for v in seen if selfcare_level(v)),
        }
        role, n = max(hits.items(), key=lambda kv: kv[1])
        return role if n * 2 >= len(seen) else None

    def area_of_village(self, name: object) -> str | None:
        """城乡 from a village's name: 社区/居委会 → 'urban', 村 → 'rural' (the longest
        ending word wins: 城关社区 is urban, 新村社区 too)."""
        key = str(name or "")
        if key not in self._village_area:
            self._village_area[key] = self._area_of_village(key)
        return self._village_area[key]

    def _area_of_village(self, name: str) -> str | None:
        t = squeeze(name)
        if not t:
            return None
        ends = [
            (len(w), area)
            for area, words in vocab()["village_area"].items()
            for w in words
            if t.endswith(squeeze(w))
        ]
        if ends:
            return max(ends)[1]
        inside = [
            (len(w), area)
            for area, words in vocab()["village_area"].items()
            for w in words
            if squeeze(w) in t
        ]
        return max(inside)[1] if inside else None

    def resolve_area(self, code: str | None, area: str | None) -> str | None:
        """A pseudo code (``dibao``) to the urban or rural category; others unchanged."""
        pair = area_categories().get(code or "")
        if pair is None:
            return code
        return pair.get(area or "")
