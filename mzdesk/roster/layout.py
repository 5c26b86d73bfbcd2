"""Where the table is on a sheet and what each column means (表头识别).

The header row is found by scoring the first rows against header synonyms kept
as data (``resources/roster_headers.json``); a second header row under a
merged group heading (``家庭成员`` over 姓名/关系/身份证号) is folded in.  The
clerk may override any of it (GUI mapping table or ``--mapping M.json``), and a
confirmed mapping is remembered per layout (the signature of the header cells).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field

from ..models.ids import to_halfwidth
from ..models.selfcare import class_label
from ..models.vocab import categories
from ..resources import load_json
from .reader import Sheet, column_letter
from .vocab import Values, class_words, names_single

SCAN_ROWS = 25
MIN_SCORE = 3


@functools.cache
def headers_config() -> dict:
    return load_json("roster_headers.json")


def fields() -> dict[str, dict]:
    return headers_config()["fields"]


def norm_header(text: object) -> str:
    """'月保障金（元）' -> '月保障金(元)'; spaces, line breaks and '*' removed."""
    t = to_halfwidth(str(text or "")).replace("（", "(").replace("）", ")")
    return "".join(t.split()).replace("*", "").replace("：", "").replace(":", "").lower()


def _strip_units(text: str) -> str:
    return re.sub(r"\(.*?\)", "", text)


@functools.cache
def _synonym_index() -> tuple[dict[str, str], dict[str, str]]:
    exact: dict[str, str] = {}
    loose: dict[str, str] = {}
    for name, spec in fields().items():
        for word in spec["synonyms"]:
            n = norm_header(word)
            exact.setdefault(n, name)
            loose.setdefault(_strip_units(n), name)
    return exact, loose


def field_for_header(text: object) -> str | None:
    """The field a header cell names, or ``None``: ``field_for_header('公民身份号码')`` -> 'id_number'."""
    n = norm_header(text)
    if not n:
        return None
    exact, loose = _synonym_index()
    return exact.get(n) or loose.get(_strip_units(n)) or loose.get(n)


def category_in_text(text: str, cats: dict[str, dict] | None = None) -> str | None:
    """The category a title or sheet name selects: a marker word (边缘, 刚性支出) first,
    then the longest category word in it (``dibao`` for 城乡低保: 城乡 decides per row)."""
    return _values(cats).category_in_text(text)


def category_from_cell(value: object, cats: dict[str, dict] | None = None) -> str | None:
    """A 救助类别 cell ('农村低保', '特困', 'rural_dibao', a local category's name) to a code."""
    return _values(cats).category(value)


def _values(cats: dict[str, dict] | None) -> Values:
    if cats is None:
        return _shipped_values()
    return Values(cats)


@functools.cache
def _shipped_values() -> Values:
    return Values(None)


def normalise_class(
    value: object, category: str | None, cats: dict[str, dict] | None = None
) -> tuple[str, bool]:
    """A class cell ('A类', '一档', '二类') to the category's class; ``ok`` false if unknown.
    A self-care level in any accepted label (部分丧失生活自理能力, 半失能 …) becomes the
    category's own class for that level (:func:`mzdesk.models.selfcare.class_label`)."""
    cat = (categories() if cats is None else cats).get(category or "", {})
    cls, ok = _normalise_class(value, tuple(cat.get("classes", [])))
    if not ok:
        cls = class_label(cat, cls)
        ok = cls in cat.get("classes", [])
    return cls, ok


@functools.lru_cache(maxsize=1024)
def _normalise_class(value: object, allowed: tuple[str, ...]) -> tuple[str, bool]:
    t = norm_header(value)
    if not t:
        return "", True
    syn = class_words()
    cls = syn.get(t, syn.get(t.upper(), str(value).strip()))
    cls = "".join(cls.split())
    if allowed:
        return cls, cls in allowed
    return cls, True


@dataclass
class Layout:
    """How one sheet is read.  Rows are 0-based here; reports say Excel row numbers."""

    sheet: str
    header_row: int
    data_start: int
    headers: list[str]
    mapping: dict[int, str]  # column -> field
    category: str | None = None
    category_source: str = ""
    title: str = ""
    notes: list[str] = field(default_factory=list)
    # wide layouts: one dict per 成员N, field -> column (成员一姓名, 成员一身份证号 …)
    wide: list[dict[str, int]] = field(default_factory=list)
    single: bool = False  # the title says 单人保: each row's person is enrolled alone
    # the clerk's value mapping: {column header/letter/field: {value as written: meant}}
    value_mapping: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def columns(self) -> dict[str, int]:
        """field -> column (first mapped column wins)."""
        out: dict[str, int] = {}
        for col, name in sorted(self.mapping.items()):
            out.setdefault(name, col)
        return out

    @property
    def mode(self) -> str:
        """'member' (one row per member) or 'household' (one row per household)."""
        cols = self.columns
        if self.wide:
            return "household"
        if "relation" in cols or ("name" in cols and "head_name" in cols):
            return "member"
        return "household"

    @property
    def signature(self) -> str:
        text = "\x1f".join(norm_header(h) for h in self.headers)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def header_of(self, name: str) -> str:
        col = self.columns.get(name)
        if col is None:
            return fields().get(name, {}).get("label", name)
        return self.headers[col] or column_letter(col)

    def as_dict(self) -> dict:
        return {
            "sheet": self.sheet,
            "header_row": self.header_row + 1,
            "mode": self.mode,
            "category": self.category,
            "category_source": self.category_source,
            "single": self.single,
            "wide_members": len(self.wide),
            "notes": list(self.notes),
            "signature": self.signature,
            "columns": {
                column_letter(c): {"header": self.headers[c], "field": f}
                for c, f in sorted(self.mapping.items())
            },
        }


def _score(row: list) -> dict[int, str]:
    found: dict[int, str] = {}
    used: set[str] = set()
    for col, value in enumerate(row):
        if not isinstance(value, str):
            continue
        name = field_for_header(value)
        if name and name not in used:
            found[col] = name
            used.add(name)
    return found


_MAPPING_KEYS = ("header_row", "category", "columns", "values")


def validate_mapping(mapping: object) -> dict:
    """A ``--mapping`` as read from JSON, checked key by key; :class:`MzError`
    ``bad_mapping`` names the key that is wrong and what it should be."""
    from ..models.errors import MzError

    def bad(where: str, what: str) -> MzError:
        return MzError(f"列对应文件中 {where} 无效：{what}", "bad_mapping")

    def one(m: object, where: str, sheets_allowed: bool) -> None:
        if not isinstance(m, dict):
            raise bad(where or "整个文件", f"应为JSON对象 {{...}}，而不是 {type(m).__name__}")
        allowed = _MAPPING_KEYS + (("sheets",) if sheets_allowed else ())
        for key, value in m.items():
            at = f"{where}.{key}" if where else str(key)
            if key not in allowed:
                raise bad(at, f"未知的键（可用: {', '.join(allowed)}）")
            if (
                key == "header_row"
                and value is not None
                and (isinstance(value, bool) or not isinstance(value, int) or value < 1)
            ):
                raise bad(at, f"表头行号应为正整数（如 3），而不是 {value!r}")
            if key == "category" and value is not None and not isinstance(value, str):
                raise bad(at, f'救助类别应为文字（如 "农村低保"），而不是 {value!r}')
            if key == "columns":
                if not isinstance(value, dict):
                    raise bad(at, '应为 {"表头文字或列字母": "字段名或null"}')
                for col, name in value.items():
                    if name is not None and not isinstance(name, str):
                        raise bad(f"{at}.{col}", f"字段名应为文字或null，而不是 {name!r}")
            if key == "values":
                _check_values(value, at, bad)
            if key == "sheets":
                if not isinstance(value, dict):
                    raise bad(at, '应为 {"工作表名": {...}}')
                for name, sub in value.items():
                    one(sub, f"{at}.{name}", False)

    one(mapping, "", True)
    return mapping  # type: ignore[return-value]  # one() checked its shape


def _check_values(value: object, at: str, bad) -> None:
    """``{"类别": {"C类": "三类"}}``: per column (header, letter or field), value -> meant."""
    if not isinstance(value, dict):
        raise bad(at, '应为 {"列的表头": {"文件中的值": "对应的值"}}')
    for col, values in value.items():
        if not isinstance(values, dict):
            raise bad(f"{at}.{col}", '应为 {"文件中的值": "对应的值"}')
        for k, v in values.items():
            if not isinstance(v, str) or not v.strip():
                raise bad(f"{at}.{col}.{k}", f"对应的值应为文字，而不是 {v!r}")


_KEY_FIELDS = {"name", "head_name", "id_number", "head_id"}
_NUMERALS = "一二三四五六七八九十"
_WIDE = re.compile(r"^(?:家庭)?成员([一二三四五六七八九十]{1,2}|\d{1,2})的?(.+)$")
_WIDE_FIELDS = {"name", "id_number", "relation", "gender"}


def _member_index(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _NUMERALS.index(text[1]) + 1
    return _NUMERALS.index(text[0]) + 1


def wide_members(headers: list[str]) -> list[dict[str, int]]:
    """成员一姓名/成员一身份证号 … 成员N (成员1姓名 too): one {field: column} per member,
    in member order; [] when the header has no such columns."""
    found: dict[int, dict[str, int]] = {}
    for col, h in enumerate(headers):
        m = _WIDE.match(norm_header(h))
        if not m:
            continue
        name = field_for_header(m.group(2)) or field_for_header("成员" + m.group(2))
        if name not in _WIDE_FIELDS:
            continue
        found.setdefault(_member_index(m.group(1)), {}).setdefault(name, col)
    return [found[i] for i in sorted(found) if "name" in found[i] or "id_number" in found[i]]


# the fields a column of 类别-like words may be, decided by its values
_VALUE_ROLES = ("category", "class", "selfcare")
_ROLE_HEADER = re.compile(r"类别|类型|档次|等级|自理")
_SAMPLE_ROWS = 300


def _decide_roles(layout: Layout, rows: list, values: Values) -> None:
    """A column's role from its values: 农村低保/特困 in a 保障类别 column is the category,
    A类/C类 in a 类别 column the class, 具备生活自理能力 a self-care level."""
    sample = rows[layout.data_start : layout.data_start + _SAMPLE_ROWS]
    for col, h in enumerate(layout.headers):
        current = layout.mapping.get(col)
        if current not in _VALUE_ROLES and not (current is None and _ROLE_HEADER.search(h or "")):
            continue
        role = values.role([r[col] for r in sample if col < len(r)])
        if role is None or role == current:
            continue
        if role in layout.columns.values() and layout.columns.get(role) != col:
            continue  # another column holds it already (by its header)
        layout.mapping[col] = role
        layout.notes.append(f"“{h}”列按内容识别为{fields()[role]['label']}")


def _find_header(rows: list, overrides: dict) -> tuple[int, dict[int, str]] | None:
    """The header row (0-based) and its columns' fields: the one ``overrides`` forces, or
    the best scoring of the first rows; ``None`` when no row looks like a roster's header
    and no columns are given."""
    forced = overrides.get("header_row")
    if forced:
        row = int(forced) - 1
        return row, (_score(rows[row]) if 0 <= row < len(rows) else {})
    best: dict[int, str] = {}
    best_row = -1
    for r, row in enumerate(rows[:SCAN_ROWS]):
        found = _score(row)
        if len(found) > len(best):
            best_row, best = r, found
    weak = len(best) < MIN_SCORE or not _KEY_FIELDS & set(best.values())
    if weak and not overrides.get("columns"):
        return None
    return best_row, best


def _header_texts(row: list, width: int) -> list[str]:
    headers = [str(v).strip() if v not in (None, "") else "" for v in row]
    return headers + [""] * (width - len(headers))


def _second_header(rows: list, data_start: int, headers: list[str], mapping: dict) -> int:
    """Take in a second header row under merged group headings (updating ``headers`` and
    ``mapping``); the first data row."""
    if data_start >= len(rows):
        return data_start
    below = _score(rows[data_start])
    extra = {c: f for c, f in below.items() if f not in mapping.values() and (c not in mapping)}
    numbers = any(isinstance(v, (int, float)) for v in rows[data_start] if not isinstance(v, bool))
    if len(extra) < 2 or numbers:
        return data_start
    for c, f in extra.items():
        mapping[c] = f
        headers[c] = str(rows[data_start][c]).strip()
    return data_start + 1


def _set_category(layout: Layout, overrides: dict, sheet_name: str, cats) -> None:
    """The category the mapping names, or the first found in the title or the sheet name."""
    layout.single = names_single(layout.title) or names_single(sheet_name)
    if overrides.get("category"):
        layout.category = category_from_cell(overrides["category"], cats) or overrides["category"]
        layout.category_source = "mapping"
        return
    for source, text in (("title", layout.title), ("sheet", sheet_name)):
        code = category_in_text(text, cats)
        if code:
            layout.category, layout.category_source = code, source
            return


def detect_layout(
    sheet: Sheet,
    overrides: dict | None = None,
    saved: dict[str, dict] | None = None,
    cats: dict[str, dict] | None = None,
) -> Layout | None:
    """Find the header row and map columns; ``None`` if the sheet holds no roster.

    ``overrides``: ``{"header_row": 3, "category": "rural_dibao", "columns":
    {"身份证号码" or "I": "id_number" or null}}`` (what ``--mapping`` reads).
    ``saved``: remembered mappings, signature -> {column letter: field}.
    ``cats``: the database's categories (local ones too); ``None``: the shipped list.
    """
    overrides = overrides or {}
    rows = sheet.rows
    found = _find_header(rows, overrides)
    if found is None:
        return None
    best_row, best = found
    if best_row < 0 or best_row >= len(rows):
        return None
    headers = _header_texts(rows[best_row], sheet.width)
    mapping = dict(best)
    data_start = _second_header(rows, best_row + 1, headers, mapping)
    layout = Layout(
        sheet=sheet.name,
        header_row=best_row,
        data_start=data_start,
        headers=headers,
        mapping=mapping,
    )
    layout.wide = wide_members(headers)
    _decide_roles(layout, rows, _values(cats))
    if saved and layout.signature in saved:
        remembered = saved[layout.signature]
        layout.mapping = _apply_columns(layout, remembered, {})
        layout.value_mapping = _merge_values(remembered.get(SAVED_VALUES_KEY) or {}, {})
        layout.notes.append("使用上次保存的列对应关系")
    layout.value_mapping = _merge_values(layout.value_mapping, overrides.get("values") or {})
    if overrides.get("columns"):
        layout.mapping = _apply_columns(layout, overrides["columns"], layout.mapping)
    layout.title = " ".join(
        str(v) for row in rows[:best_row] for v in row if isinstance(v, str) and v
    )
    _set_category(layout, overrides, sheet.name, cats)
    return layout


SAVED_VALUES_KEY = "_values"  # a remembered layout's value mapping, beside its columns


def _merge_values(base: dict, extra: dict) -> dict[str, dict[str, str]]:
    out = {str(col): dict(values) for col, values in base.items() if isinstance(values, dict)}
    for col, values in extra.items():
        out.setdefault(str(col), {}).update(values)
    return out


def _apply_columns(layout: Layout, columns: dict, base: dict[int, str]) -> dict[int, str]:
    """Apply {header text or column letter: field or None} on top of ``base``."""
    mapping = dict(base)
    columns = {k: v for k, v in columns.items() if k != SAVED_VALUES_KEY}
    letters = {column_letter(c): c for c in range(len(layout.headers))}
    by_header = {norm_header(h): c for c, h in reversed(list(enumerate(layout.headers))) if h}
    for key, name in columns.items():
        col = letters.get(str(key).strip().upper())
        if col is None:
            col = by_header.get(norm_header(key))
        if col is None:
            continue
        if name in (None, "", "ignore"):
            mapping.pop(col, None)
            continue
        if name not in fields():
            from ..models.errors import MzError

            raise MzError(
                f"列对应关系中的字段名无效: {name!r}（可用: {', '.join(fields())}）", "bad_mapping"
            )
        for c, f in list(mapping.items()):
            if f == name:
                del mapping[c]
        mapping[col] = name
    return mapping


def load_saved_layouts(store) -> dict[str, dict]:
    return {
        sig: json.loads(m)
        for sig, m in store.conn.execute("SELECT signature, mapping FROM roster_layouts")
    }


def remember_layout(store, layout: Layout) -> None:
    """Keep the mapping of this header layout for next time (inside the caller's transaction)."""
    mapping: dict = {column_letter(c): f for c, f in sorted(layout.mapping.items())}
    if layout.value_mapping:
        mapping[SAVED_VALUES_KEY] = layout.value_mapping
    stamp = store.stamp(new=True)
    store.conn.execute(
        "INSERT INTO roster_layouts (signature, headers, mapping, created_at, updated_at, "
        "created_by, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(signature) DO UPDATE "
        "SET mapping = excluded.mapping, updated_at = excluded.updated_at, "
        "updated_by = excluded.updated_by",
        (
            layout.signature,
            json.dumps(layout.headers, ensure_ascii=False),
            json.dumps(mapping, ensure_ascii=False),
            stamp["created_at"],
            stamp["updated_at"],
            stamp["created_by"],
            stamp["updated_by"],
        ),
    )
