"""The one rule for text entering the database (入库文本): no invisible junk, bounded length.

What is removed, silently (a clerk pasting from Excel or a web page expects that, and
cannot see what to fix anyway):

* C0 control characters and DEL, C1 control characters (U+0080–U+009F), including the
  ``_x001B_`` / ``_x0000_`` escapes that Excel readers decode into real ones.  Tab and
  line breaks stay in multi-line fields (reasons, notes) and become a space elsewhere;
  ``\\r\\n`` and a lone ``\\r`` become ``\\n``.
* zero-width characters (U+200B–U+200D, U+2060–U+2064, U+FEFF), bidi marks, embeddings,
  overrides and isolates (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), lone
  surrogates, the interlinear annotation marks U+FFF9–U+FFFB and the non-characters
  U+FFFE/U+FFFF (illegal in the XML of an .xlsx).

What is refused: a value longer than its kind's limit in :data:`LIMITS` is a
:class:`FieldError` (``too_long``) naming the field: ``姓名过长（最多30字）``.  Nothing
is cut: a clerk decides what a shortened name or reason says.

Not done: Unicode normalisation.  NFC would rewrite CJK compatibility ideographs
(U+F900…), which some registered names use, and NFKC would also turn full-width digits
into ASCII: ID numbers and phones have their own rule for that (``ids.normalise_id``,
``ids.normalise_phone``).  The text is kept as typed apart from the junk above.

Choke points (every path that writes user text passes one of them):

* household and member validation (``household.validate_household``): the GUI form,
  the CLI, ``Registry.save``/``bulk_create`` and the roster import (which also cleans
  each cell as it reads it, ``importer._text``);
* each service that takes free text: site (``site.init_site``), operators
  (``auth.add_operator``), local categories (``categories.add_local_category``),
  enrolment reasons, classes and event details (``enrolment._event``, ``_need_reason``),
  notices and objections (``notice``), declared relatives (``relatives.declare``), visits
  (conclusion, investigators, photo captions) and form answers (``forms._clean_simple``:
  visits, booklets), closing notes of follow-up tasks, operator lock reasons;
* sync (``sync.batch``): this version never sends a forbidden character (the export
  refuses first, ``check_outgoing``, before the batch takes its sequence number, and
  points the clerk to ``mzdesk check``), so a batch line carrying one from a sender at
  ``migrations.TEXT_RULE_VERSION`` or later is refused whole with the code ``dirty_text``.
  It is refused, not cleaned: cleaning on arrival would leave two sites holding different
  text.  An older sender's text is taken as sent: a refused sequence number is never sent
  again with other content, so refusing would stop that site's sync for good.  Its own
  upgrade (migration 14) cleans its records, stamped ``mzdesk 升级``, and sends them again
  as ordinary edits.  Over-long values are not refused on sync either (nothing would
  shorten them): ``check`` reports them on both sites.
* xlsx writers (``xlsx_safe``): a last guard so that even a database written behind
  mzdesk's back produces its payment roster.

>>> clean("张\\x1b三\\u200b")
'张三'
>>> clean("第一行\\r\\n第二行", multiline=True)
'第一行\\n第二行'
"""

from __future__ import annotations

import re

from .errors import FieldError

# never allowed anywhere (sync refuses them, check reports them, migration 14 removes them)
_FORBIDDEN_CLASS = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    "\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
    "\ud800-\udfff\ufeff\ufff9-\ufffb\ufffe\uffff"
)
FORBIDDEN = re.compile(f"[{_FORBIDDEN_CLASS}]")
_UNUSUAL = re.compile(f"[{_FORBIDDEN_CLASS}\t\n\r]")  # nothing to do without one of these
_LINE_BREAKS = re.compile(r"\r\n?")
_SPACES = re.compile(r"[\t\n\r]+")
# what XML 1.0 cannot hold at all: the writers' last guard
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# kind -> (longest value in characters, line breaks allowed)
LIMITS: dict[str, tuple[int, bool]] = {
    "person_name": (30, False),  # 姓名 (a member, a declarant, a relative)
    "village": (50, False),  # 村(社区), 组
    "site_name": (60, False),  # 单位名称
    "category_name": (50, False),  # local category (本地救助类别)
    "operator_name": (50, False),  # account name and display name
    "short": (100, False),  # occupation, bank name, housing, vehicles, a class label
    "address": (200, False),
    "title": (200, False),  # notice title, issuer, hotline, spot-check title
    "reason": (2000, True),  # reasons, results, follow-up, objections
    "note": (2000, True),  # 备注, form textareas
}


def clean(value: object, multiline: bool = False) -> str:
    """``value`` as text without forbidden characters (see the module docstring).

    Single-line text has tabs and line breaks turned into one space and is stripped;
    multi-line text keeps tabs and ``\\n`` and loses only trailing blanks.
    Idempotent: ``clean(clean(x)) == clean(x)``.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if _UNUSUAL.search(text) is None:  # the common case: one scan
        return text.strip()
    if FORBIDDEN.search(text):
        text = FORBIDDEN.sub("", text)
    if multiline:
        return _LINE_BREAKS.sub("\n", text).strip()
    return _SPACES.sub(" ", text).strip()


def has_forbidden(value: str | None) -> bool:
    """Whether ``value`` holds a character no field may hold (tab and line breaks may)."""
    return value is not None and FORBIDDEN.search(value) is not None


def too_long(kind: str, label: str, field: str, row: int | None = None) -> FieldError:
    limit = LIMITS[kind][0]
    return FieldError(field, "too_long", f"{label}过长（最多{limit}字）", row=row)


def field_text(value: object, kind: str, label: str, field: str, row: int | None = None) -> str:
    """``value`` cleaned for a field of ``kind``; :class:`FieldError` when too long.

    >>> field_text(" 红旗村\\u200e ", "village", "村(社区)", "village")
    '红旗村'
    """
    limit, multiline = LIMITS[kind]
    text = clean(value, multiline)
    if len(text) > limit:
        raise too_long(kind, label, field, row)
    return text


def collect(
    problems: list[FieldError],
    value: object,
    kind: str,
    label: str,
    field: str,
    row: int | None = None,
) -> str:
    """:func:`field_text` for validators that gather every problem: a too-long value is
    appended to ``problems`` and returned cleaned (the caller refuses the record)."""
    try:
        return field_text(value, kind, label, field, row)
    except FieldError as exc:
        problems.append(exc)
        return clean(value, LIMITS[kind][1])


def xlsx_safe(value):
    """A cell value openpyxl can write: strings lose the characters XML cannot hold.

    The writers' last guard (``roster.exporter``, ``reports.notice_xlsx``): text that
    entered the database behind mzdesk's back must not stop the payment roster.
    """
    if isinstance(value, str) and _XML_ILLEGAL.search(value):
        return _XML_ILLEGAL.sub("", value)
    return value


# -- stored text, for ``check`` -------------------------------------------------------
# table -> {column: kind}: the user text columns ``check`` reads (``text_problems``)
STORED: dict[str, dict[str, str]] = {
    "site": {"name": "site_name"},
    "households": {
        "village": "village",
        "village_group": "village",
        "address": "address",
        "bank_name": "short",
        "housing_structure": "short",
        "vehicles": "short",
        "commercial_property": "short",
        "notes": "note",
        "status_reason": "reason",
    },
    "members": {
        "name": "person_name",
        "id_raw": "short",
        "occupation": "short",
        "status_reason": "reason",
    },
    "enrolments": {"class": "short", "stop_reason": "reason"},
    "enrolment_events": {"reason": "reason"},
    "notices": {
        "title": "title",
        "township": "site_name",
        "hotline": "title",
        "address": "address",
        "issuer": "title",
    },
    "objections": {
        "raised_by": "person_name",
        "content": "reason",
        "follow_up": "reason",
        "outcome": "reason",
    },
    "operators": {
        "name": "operator_name",
        "display_name": "operator_name",
        "locked_reason": "reason",
    },
    "declared_relatives": {
        "declarant_name": "person_name",
        "declarant_village": "village",
        "relative_name": "person_name",
        "note": "note",
    },
    "visits": {
        "investigators": "reason",
        "conclusion": "note",
        "representative": "title",
        "ack_note": "note",
    },
    "followup_tasks": {"title": "title", "detail": "note", "close_note": "note"},
    "visit_photos": {"caption": "title"},
    "spot_checks": {"title": "title"},
    "standards": {"note": "note"},
    "recoveries": {"cause": "reason", "note": "note"},
    "payment_runs": {"name": "title", "void_reason": "reason", "note": "note"},
    "cases": {"decision_note": "reason", "note": "note"},
}


def stored_problem(value: object, kind: str) -> str | None:
    """What is wrong with a stored value of ``kind``: ``dirty_text``, ``text_too_long`` or None."""
    if not isinstance(value, str) or not value:
        return None
    if FORBIDDEN.search(value):
        return "dirty_text"
    if len(value) > LIMITS[kind][0]:
        return "text_too_long"
    return None


def clean_detail(detail: dict | None) -> dict:
    """An event's ``detail`` with every text in it (strings, lists of strings) cleaned
    as multi-line text of at most the ``reason`` length."""
    out: dict = {}
    for key, v in (detail or {}).items():
        if isinstance(v, str):
            v = field_text(v, "reason", "内容", key)
        elif isinstance(v, list):
            v = [field_text(x, "reason", "内容", key) if isinstance(x, str) else x for x in v]
        out[key] = v
    return out
