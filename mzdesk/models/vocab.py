"""Code lists (relations, health, causes, categories ...) loaded from resources/.

>>> category_name("rural_dibao")
'农村低保'
"""

from __future__ import annotations

import functools

from ..resources import load_json

INCOME_SOURCES = ("wage", "farm", "business", "property", "pension", "transfer", "support")


def vocab() -> dict:
    return load_json("vocab.json")


@functools.cache
def categories() -> dict[str, dict]:
    return {c["code"]: c for c in load_json("categories.json")["categories"]}


def category_name(code: str) -> str:
    cat = categories().get(code)
    return cat["name"] if cat else code


def state_name(code: str) -> str:
    return load_json("categories.json")["states"].get(code, code)


def label(list_name: str, code: str) -> str:
    """Label of a code in a dict-shaped list (causes, special, area_type ...)."""
    table = vocab()[list_name]
    return table.get(code, code) if isinstance(table, dict) else code
