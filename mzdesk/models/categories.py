"""Assistance categories (救助类别): the shipped ones and the township's local ones.

The shipped categories (低保, 特困, 临时救助, 高龄津贴 ...), their classes, review
intervals, exclusions and the lifecycle settings come from
``resources/categories.json``; a township adds its own (e.g. a county's
困难群众补贴) with :func:`add_local_category`, kept in ``local_categories``.

>>> from mzdesk.models.site import init_site
>>> store = Store.open(":memory:", operator="clerk")
>>> _ = init_site(store, "341623101", "青山镇")
>>> category_code(store, "农村低保")
'rural_dibao'
>>> add_local_category(store, "county_aid", "县困难群众补贴")["local"]
True
>>> categories(store)["county_aid"]["review_months"]
12
"""

from __future__ import annotations

import json

from ..resources import load_json
from . import dates
from .auth import require
from .errors import MzError
from .store import Store
from .text import field_text

UNITS = ("household", "person")
PAYMENTS = ("monthly", "one_off", "none")  # none: monitored, no monthly cash (低保边缘)


def lifecycle_settings() -> dict:
    """The ``lifecycle`` block of categories.json: deliberation, notice days, payment start."""
    return load_json("categories.json")["lifecycle"]


def state_label(state: str) -> str:
    """The Chinese name of a lifecycle state (``'active'`` → 在保)."""
    return load_json("categories.json")["states"].get(state, state)


def categories(store: Store) -> dict[str, dict]:
    """Shipped categories plus the township's local ones (local wins on a code clash)."""
    cats = {c["code"]: dict(c) for c in load_json("categories.json")["categories"]}
    for code, body in store.conn.execute("SELECT code, body FROM local_categories ORDER BY code"):
        cats[code] = {**json.loads(body), "code": code, "local": True}
    return cats


def category(store: Store, code: str) -> dict:
    cats = categories(store)
    if code not in cats:
        raise unknown_category(code, cats)
    return cats[code]


def category_code(store: Store, text: str) -> str:
    """A category by its code or its name (农村低保); ``unknown_category`` lists the valid ones."""
    cats = categories(store)
    if text in cats:
        return text
    for code, cat in cats.items():
        if text.strip() in (cat.get("name"), cat.get("short")):
            return code
    raise unknown_category(text, cats)


def unknown_category(text: str, cats: dict) -> MzError:
    """The error for an unknown category, listing the valid codes and names."""
    valid = "、".join(f"{code}（{cat.get('name', '')}）" for code, cat in cats.items())
    return MzError(f"未知的救助类别: {text}；可用: {valid}", "unknown_category")


def add_local_category(
    store: Store,
    code: str,
    name: str,
    unit: str = "person",
    payment: str = "monthly",
    review_months: int = 12,
    classes: list[str] | None = None,
    excludes: list[str] | None = None,
    new: bool = False,
) -> dict:
    """A township-local category (e.g. a county's own 困难群众补贴); kept in the database.

    The same code again replaces it (an edit), unless ``new`` (the GUI's 新增) refuses a
    code already in use.
    """
    require(store, "enrolment.edit")
    code = code.strip()
    if not code or not code.replace("_", "").isalnum() or not code.isascii():
        raise MzError(f"类别代码只能用字母、数字和下划线: {code!r}", "bad_category_code")
    name = field_text(name, "category_name", "类别名称", "name")  # models/text.py
    classes = [field_text(c, "short", "档次名称", "classes") for c in classes or []]
    if not name:
        raise MzError("类别名称不能为空", "bad_category_name")
    if unit not in UNITS or payment not in PAYMENTS:
        raise MzError(f"保障单位应为 {UNITS}，发放方式应为 {PAYMENTS}", "bad_category")
    if not 0 <= review_months <= dates.MAX_REVIEW_MONTHS:
        raise MzError(f"复核周期应为0至{dates.MAX_REVIEW_MONTHS}个月", "bad_category")
    shipped = {c["code"] for c in load_json("categories.json")["categories"]}
    if code in shipped:
        raise MzError(f"类别代码 {code} 与国家类别重复", "category_exists")
    if new and store.one("SELECT 1 AS x FROM local_categories WHERE code = ?", (code,)):
        raise MzError(f"类别代码 {code} 已有本地类别使用", "category_exists")
    old = store.one("SELECT body FROM local_categories WHERE code = ?", (code,))
    body: dict = dict(
        name=name.strip(),
        short=name.strip(),
        unit=unit,
        payment=payment,
        review_months=review_months,
        classes=classes or [],
        excludes=excludes or [],
    )
    if old and json.loads(old["body"]).get("retired"):
        body["retired"] = True  # an edit keeps it retired
    with store.transaction():
        store.conn.execute(
            "INSERT OR REPLACE INTO local_categories (code, body, created_at, updated_at, "
            "created_by, updated_by) VALUES (:code, :body, :created_at, :updated_at, "
            ":created_by, :updated_by)",
            {"code": code, "body": json.dumps(body, ensure_ascii=False), **store.stamp(new=True)},
        )
    return {**body, "code": code, "local": True}


def local_categories(store: Store) -> list[dict]:
    """The township's own categories, retired ones too (``retired``: no new applications)."""
    return [
        {**json.loads(body), "code": code, "local": True}
        for code, body in store.conn.execute(
            "SELECT code, body FROM local_categories ORDER BY code"
        )
    ]


def is_retired(cat: dict) -> bool:
    return bool(cat.get("retired"))


def retire_local_category(store: Store, code: str, retired: bool = True) -> dict:
    """Retire (停用) a local category: it takes no new applications, while the enrolments
    already in it go on and keep their history.  ``retired=False`` brings it back."""
    require(store, "enrolment.edit")
    with store.transaction():
        row = store.one("SELECT body FROM local_categories WHERE code = ?", (code,))
        if row is None:
            raise MzError(f"没有代码为 {code} 的本地类别", "unknown_category")
        body = {**json.loads(row["body"]), "retired": bool(retired)}
        stamp = store.stamp(new=False)
        store.conn.execute(
            "UPDATE local_categories SET body = ?, updated_at = ?, updated_by = ? WHERE code = ?",
            (json.dumps(body, ensure_ascii=False), stamp["updated_at"], stamp["updated_by"], code),
        )
    return {**body, "code": code, "local": True}
