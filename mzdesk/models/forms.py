"""Form templates as data (表单模板) and the validation of filled answers.

A template is a JSON file ``resources/forms/<id>.v<version>.json``: sections of
fields.  Field types:

========== ============================== =================================
type       answer stored as               notes
========== ============================== =================================
text       str                            ``pattern`` (regex) optional
textarea   str
number     int or float                   ``min``/``max``; ``integer``
money      int fen                        typed as yuan (``parse_yuan``)
yesno      bool
single     str, one of ``options``
multiple   list[str], subset of options
date       ISO date str                   not in the future unless ``future``
member     member uid (list if multiple)  uids of the household's members
signature  str: the signer's name         printed as a signature line
check      "符合" / "不符合" / "说明"     ``followup``: task on 不符合
table      list[dict] rows of ``columns``  columns are simple fields
========== ============================== =================================

``show_if: {"field": k, "in": [...]}`` or ``{"field": k, "contains": v}`` or
``{"field": k, "equals": v}`` shows a field only when the condition holds;
hidden fields are neither required nor stored.

Every filled form stores its template id and version.  A released version is
never edited: a change is a new file with ``version + 1``.  When a form is
saved, :func:`remember_template` also copies that exact version into the
database (``form_templates``), so a record filled with an old version stays
readable and printable even after the resource file is gone, and travels with
the database.

>>> t = library().latest("home_visit")
>>> (t.id, t.field("housing").type)
('home_visit', 'check')
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..resources import resource_path
from .dates import DATE_HINT, parse_day  # the one parser of typed dates (visits imports it here)
from .errors import FieldError, MzError, NotFound
from .money import format_fen, parse_yuan
from .text import LIMITS, clean

CHECK_RESULTS = ("符合", "不符合", "说明")
MISMATCH = "不符合"
FIELD_TYPES = {
    "text",
    "textarea",
    "number",
    "money",
    "yesno",
    "single",
    "multiple",
    "date",
    "member",
    "signature",
    "check",
    "table",
}
COLUMN_TYPES = {"text", "number", "money", "date", "single", "yesno"}
AUTO_BLOCKS = {"household", "members", "enrolments", "visits"}
_FILE = re.compile(r"^(?P<id>[a-z0-9_]+)\.v(?P<version>[0-9]+)\.json$")


class TemplateError(MzError):
    code = "bad_template"


@dataclass(frozen=True)
class Field:
    """One question of a form."""

    key: str
    type: str
    label: str
    required: bool = False
    help: str = ""
    options: tuple[str, ...] = ()
    show_if: dict | None = None
    followup: dict | None = None
    columns: tuple[Field, ...] = ()
    multiple: bool = False
    min: float | None = None
    max: float | None = None
    integer: bool = False
    pattern: str = ""
    future: bool = False

    @property
    def choices(self) -> tuple[str, ...]:
        return CHECK_RESULTS if self.type == "check" else self.options


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    fields: tuple[Field, ...] = ()
    auto: str = ""  # a block filled from the records, see AUTO_BLOCKS
    help: str = ""


@dataclass(frozen=True)
class Template:
    id: str
    version: int
    title: str
    kind: str
    sections: tuple[Section, ...]
    body: dict = field(repr=False, compare=False, hash=False, default_factory=dict)

    def fields(self) -> Iterator[Field]:
        for s in self.sections:
            yield from s.fields

    def field(self, key: str) -> Field:
        for f in self.fields():
            if f.key == key:
                return f
        raise KeyError(key)

    def check_fields(self) -> list[Field]:
        return [f for f in self.fields() if f.type == "check"]

    def visible(self, f: Field, answers: dict) -> bool:
        """Whether ``f`` is shown (and so may be required) given the answers so far."""
        cond = f.show_if
        if not cond:
            return True
        value = answers.get(cond["field"])
        if "in" in cond:
            return value in cond["in"]
        if "contains" in cond:
            return isinstance(value, list) and cond["contains"] in value
        if "equals" in cond:
            return value == cond["equals"]
        return True

    @property
    def json(self) -> str:
        return json.dumps(self.body, ensure_ascii=False, sort_keys=True)


def _parse_field(d: dict, where: str, column: bool = False) -> Field:
    if not isinstance(d, dict) or not d.get("key") or not d.get("label"):
        raise TemplateError(f"{where}: 字段缺少 key 或 label")
    ftype = d.get("type")
    allowed = COLUMN_TYPES if column else FIELD_TYPES
    if ftype not in allowed:
        raise TemplateError(f"{where}: 字段 {d['key']} 的类型 {ftype!r} 无效")
    options = tuple(d.get("options", ()))
    if ftype in ("single", "multiple") and not options:
        raise TemplateError(f"{where}: 选择题 {d['key']} 没有选项")
    columns: tuple[Field, ...] = ()
    if ftype == "table":
        columns = tuple(
            _parse_field(c, f"{where}.{d['key']}", column=True) for c in d.get("columns", ())
        )
        if not columns:
            raise TemplateError(f"{where}: 表格 {d['key']} 没有列")
    pattern = d.get("pattern", "")
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise TemplateError(f"{where}: 字段 {d['key']} 的 pattern 无效: {exc}") from None
    return Field(
        key=d["key"],
        type=ftype,
        label=d["label"],
        required=bool(d.get("required")),
        help=d.get("help", ""),
        options=options,
        show_if=d.get("show_if"),
        followup=d.get("followup"),
        columns=columns,
        multiple=bool(d.get("multiple")),
        min=d.get("min"),
        max=d.get("max"),
        integer=bool(d.get("integer")),
        pattern=pattern,
        future=bool(d.get("future")),
    )


def parse_template(body: dict) -> Template:
    """Check a template's structure and build it; raises :class:`TemplateError`."""
    try:
        tid, version = body["id"], int(body["version"])
    except (KeyError, TypeError, ValueError):
        raise TemplateError("模板缺少 id 或 version") from None
    where = f"{tid} v{version}"
    sections = []
    keys: set[str] = set()
    for s in body.get("sections", ()):
        auto = s.get("auto", "")
        if auto and auto not in AUTO_BLOCKS:
            raise TemplateError(f"{where}: 未知的自动填充块 {auto!r}")
        fields = tuple(_parse_field(f, where) for f in s.get("fields", ()))
        for f in fields:
            if f.key in keys:
                raise TemplateError(f"{where}: 字段 {f.key} 重复")
            keys.add(f.key)
        sections.append(Section(s["key"], s["title"], fields, auto, s.get("help", "")))
    for s in sections:
        for f in s.fields:
            if f.show_if and f.show_if.get("field") not in keys:
                raise TemplateError(f"{where}: {f.key} 的显示条件引用了不存在的字段")
    if not sections:
        raise TemplateError(f"{where}: 模板没有任何部分")
    return Template(
        tid, version, body.get("title", tid), body.get("kind", ""), tuple(sections), body
    )


class FormLibrary:
    """The shipped templates: every version of every form, from one folder."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._cache: dict[tuple[str, int], Template] = {}

    def versions(self, template_id: str) -> list[int]:
        out = []
        for p in self.folder.glob(f"{template_id}.v*.json"):
            m = _FILE.match(p.name)
            if m and m["id"] == template_id:
                out.append(int(m["version"]))
        return sorted(out)

    def get(self, template_id: str, version: int) -> Template:
        key = (template_id, int(version))
        if key not in self._cache:
            path = self.folder / f"{template_id}.v{int(version)}.json"
            if not path.is_file():
                raise NotFound(f"找不到表单模板 {template_id} 第{version}版", "no_template")
            with open(path, encoding="utf-8") as fh:
                t = parse_template(json.load(fh))
            if (t.id, t.version) != key:
                raise TemplateError(f"模板文件 {path.name} 的 id/version 与文件名不符")
            self._cache[key] = t
        return self._cache[key]

    def latest(self, template_id: str) -> Template:
        versions = self.versions(template_id)
        if not versions:
            raise NotFound(f"找不到表单模板 {template_id}", "no_template")
        return self.get(template_id, versions[-1])


@functools.cache
def library() -> FormLibrary:
    return FormLibrary(resource_path("forms"))


# -- templates kept with the records ---------------------------------------
def remember_template(store, t: Template) -> None:
    """Keep a copy of this template version in the database (once)."""
    store.conn.execute(
        "INSERT OR IGNORE INTO form_templates (template_id, version, body, created_at, created_by) "
        "VALUES (?, ?, ?, ?, ?)",
        (t.id, t.version, t.json, store.stamp(new=True)["created_at"], store.operator),
    )


def template_for(store, template_id: str, version: int, lib: FormLibrary | None = None) -> Template:
    """The exact template a record was filled with: the database copy first, then
    the shipped file."""
    row = store.conn.execute(
        "SELECT body FROM form_templates WHERE template_id = ? AND version = ?",
        (template_id, int(version)),
    ).fetchone()
    if row:
        return parse_template(json.loads(row[0]))
    return (lib or library()).get(template_id, version)


# -- answers ---------------------------------------------------------------
# One cleaner per field type: (field, value, members, today, bad) -> stored value.
# ``bad(msg)`` builds the FieldError the cleaner raises; None means "empty".
def _clean_text(f: Field, value, members, today, bad):
    # the text rule (models/text.py): one line unless the field is a textarea
    kind = "note" if f.type == "textarea" else "reason"
    text = clean(value, multiline=f.type == "textarea")
    if not text:
        return None
    if len(text) > LIMITS[kind][0]:
        raise bad(f"内容过长（最多{LIMITS[kind][0]}字）")
    if f.pattern and not re.fullmatch(f.pattern, text):
        raise bad(f"格式不正确{('（' + f.help + '）') if f.help else ''}")
    return text


def _to_number(value, bad):
    if isinstance(value, bool):
        raise bad("应为数字")
    try:
        num = float(str(value).strip()) if not isinstance(value, int | float) else value
    except ValueError:
        raise bad(f"应为数字: {value!r}") from None
    if num != num or num in (float("inf"), float("-inf")):
        raise bad("应为数字")
    return num


def _clean_number(f: Field, value, members, today, bad):
    num = _to_number(value, bad)
    if f.integer and int(num) != num:
        raise bad("应为整数")
    if f.min is not None and num < f.min:
        raise bad(f"不能小于{f.min:g}")
    if f.max is not None and num > f.max:
        raise bad(f"不能大于{f.max:g}")
    return int(num) if int(num) == num else num


def _clean_money(f: Field, value, members, today, bad):
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise bad("金额不能为负")
        return value  # already fen
    try:
        return parse_yuan(value, f.key)
    except FieldError as exc:
        raise bad(exc.message) from None


def _clean_yesno(f: Field, value, members, today, bad):
    if isinstance(value, bool):
        return value
    if value in ("是", "yes", "true", 1):
        return True
    if value in ("否", "no", "false", 0):
        return False
    raise bad("应为是或否")


def _clean_choice(f: Field, value, members, today, bad):
    if value not in f.choices:
        raise bad(f"选项无效: {value!r}")
    return value


def _clean_multiple(f: Field, value, members, today, bad):
    items = [value] if isinstance(value, str) else list(value)
    for v in items:
        if v not in f.options:
            raise bad(f"选项无效: {v!r}")
    return [o for o in f.options if o in items] or None


def _clean_date(f: Field, value, members, today, bad):
    try:
        day = parse_day(value)
    except ValueError:
        raise bad(f"日期无效（{DATE_HINT}）: {value!r}") from None
    if day > today and not f.future:
        raise bad("日期不能在未来")
    return day.isoformat()


def _clean_member(f: Field, value, members, today, bad):
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


_CLEANERS = {
    "text": _clean_text,
    "textarea": _clean_text,
    "signature": _clean_text,
    "number": _clean_number,
    "money": _clean_money,
    "yesno": _clean_yesno,
    "single": _clean_choice,
    "check": _clean_choice,
    "multiple": _clean_multiple,
    "date": _clean_date,
    "member": _clean_member,
}


def _clean_simple(f: Field, value, members: dict[str, str] | None, today: dt.date):
    """One value to its stored form; raises FieldError; returns None when empty."""

    def bad(msg: str):
        return FieldError(f.key, "bad_answer", f"{f.label}: {msg}")

    if value is None or value == "" or value == []:
        return None
    cleaner = _CLEANERS.get(f.type)
    if cleaner is None:
        raise bad(f"不支持的类型 {f.type}")
    return cleaner(f, value, members, today, bad)


def validate_answers(
    t: Template,
    answers: dict,
    members: dict[str, str] | None = None,
    today: dt.date | None = None,
) -> tuple[dict, list[FieldError]]:
    """Check ``answers`` against ``t``; return (clean answers, problems).

    ``members`` maps member uid -> name for member pickers.  Hidden fields
    are dropped; unknown keys are refused (they would be lost silently).
    """
    today = today or dt.date.today()
    clean: dict = {}
    problems: list[FieldError] = []
    known = {f.key for f in t.fields()}
    for key in answers:
        if key not in known:
            problems.append(
                FieldError(key, "unknown_field", f"模板 {t.id} v{t.version} 没有字段 {key}")
            )
    for f in t.fields():
        # conditions look at the answers as typed so far (cleaned values of earlier fields)
        if not t.visible(f, {**answers, **clean}):
            continue
        value = answers.get(f.key)
        try:
            if f.type == "table":
                v = _clean_table(f, value, members, today)
            else:
                v = _clean_simple(f, value, members, today)
        except FieldError as exc:
            problems.append(exc)
            continue
        if v is None:
            if f.required:
                problems.append(FieldError(f.key, "missing_required", f"{f.label}: 必填"))
            continue
        clean[f.key] = v
    return clean, problems


def _clean_table(f: Field, rows, members, today) -> list[dict] | None:
    if rows in (None, "", []):
        return None
    if not isinstance(rows, list):
        raise FieldError(f.key, "bad_answer", f"{f.label}: 应为表格")
    out = []
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise FieldError(f.key, "bad_answer", f"{f.label}第{i}行: 格式无效")
        if all(v in (None, "") for v in row.values()):
            continue  # an empty row left in the table is not an answer
        clean_row = {}
        for c in f.columns:
            try:
                v = _clean_simple(c, row.get(c.key), members, today)
            except FieldError as exc:
                raise FieldError(f.key, "bad_answer", f"{f.label}第{i}行 {exc.message}") from None
            if v is None and c.required:
                raise FieldError(f.key, "missing_required", f"{f.label}第{i}行: {c.label}必填")
            if v is not None:
                clean_row[c.key] = v
        if clean_row:
            out.append(clean_row)
    return out or None


def mismatches(t: Template, answers: dict) -> list[Field]:
    """The checklist items answered 不符合 (each becomes a follow-up task)."""
    return [f for f in t.check_fields() if answers.get(f.key) == MISMATCH]


def display_value(f: Field, value, members: dict[str, str] | None = None) -> str:
    """An answer as text for lists and printouts."""
    if value is None or value == "" or value == []:
        return ""
    if f.type == "money":
        return format_fen(value)
    if f.type == "yesno":
        return "是" if value else "否"
    if f.type == "multiple":
        return "、".join(value)
    if f.type == "member":
        uids = value if isinstance(value, list) else [value]
        names = members or {}
        return "、".join(names.get(u, "（已移除成员）") for u in uids)
    if f.type == "number":
        return f"{value:g}" if isinstance(value, float) else str(value)
    if f.type == "table":
        return "；".join(" ".join(display_value(c, r.get(c.key)) for c in f.columns) for r in value)
    return str(value)
