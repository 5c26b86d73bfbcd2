"""Pinyin search keys for names (张三丰 → ``zsf``, ``zhangsanfeng``).

pypinyin is imported on first use only: start-up of the GUI does not pay for
its dictionaries.  Keys are cached per character, which keeps bulk creation of
hundreds of thousands of members fast.

>>> name_keys("张三丰")
('zsf', 'zhangsanfeng')
>>> name_keys("曾小明")
('zxm', 'zengxiaoming')
"""

from __future__ import annotations

import functools

from ..resources import load_json


@functools.cache
def _surnames() -> dict[str, str]:
    return {k: v for k, v in load_json("surname_pinyin.json").items() if not k.startswith("_")}


@functools.cache
def _char_pinyin(ch: str) -> str:
    if ch.isascii():
        return ch.lower() if ch.isalnum() else ""
    from pypinyin import Style, lazy_pinyin

    out = lazy_pinyin(ch, style=Style.NORMAL, errors="ignore")
    return out[0].lower() if out else ""


@functools.lru_cache(maxsize=65536)
def name_keys(name: str) -> tuple[str, str]:
    """(initials, full pinyin), lower-case, without spaces or tones."""
    name = "".join(name.split()).replace("·", "").replace("•", "")
    syllables = []
    for i, ch in enumerate(name):
        py = _surnames().get(ch) if i == 0 else None
        syllables.append(py or _char_pinyin(ch))
    syllables = [s for s in syllables if s]
    return "".join(s[0] for s in syllables), "".join(syllables)
