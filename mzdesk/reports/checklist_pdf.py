"""入户调查/核查表 as PDF: blank (registered data pre-printed, to fill by hand)
or filled from a recorded visit, with signature lines for both investigators
and the household representative.

ID numbers are printed masked (:func:`mzdesk.models.ids.mask_id`): the sheet
leaves the office, and first 6 + last 4 characters are enough to compare with
the ID card at the door.

>>> from mzdesk.reports.checklist_pdf import CheckEntry
>>> CheckEntry(12).blank
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.units import mm

from ..models.auth import require
from ..models.errors import MzError
from ..models.files import replacing
from ..models.forms import Field, Template, display_value
from ..models.household import Household
from ..models.ids import mask_id
from ..models.money import format_fen
from ..models.progress import Cancel, Cancelled, Progress
from ..models.registry import Registry
from ..models.site import get_site
from ..models.store import Store
from ..models.visits import CONCLUSIONS, VISIT_KINDS, Visit, Visits, visit_members
from ..models.vocab import INCOME_SOURCES, label
from .fonts import new_canvas, register_cjk_font
from .pagewriter import LEFT, RIGHT, WIDTH, PageWriter, save_canvas
from .visit_photos import draw_photos, photo_count, print_photos

CONTROL_X = LEFT + 64 * mm


@dataclass
class CheckEntry:
    """One sheet to print: a household, and the visit to fill it from (None: blank)."""

    household_id: int
    visit_id: int | None = None

    @property
    def blank(self) -> bool:
        return self.visit_id is None


# -- household facts ---------------------------------------------------------
def household_pairs(h: Household, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    head = h.head
    pairs = [
        ("户主", head.name if head else ""),
        ("村(社区)/组", f"{h.village}{h.village_group}"),
        ("家庭住址", h.address),
        ("联系电话", h.phone),
        ("城乡类别", label("area_type", h.area_type)),
        ("家庭人数", f"{len(h.members)}人"),
        (
            "住房",
            "、".join(
                x for x in (label("housing_tenure", h.housing_tenure), h.housing_structure) if x
            ),
        ),
        ("住房面积", f"{h.housing_area_m2}平方米" if h.housing_area_m2 else ""),
        ("车辆", h.vehicles),
        ("申报存款", f"{format_fen(h.savings_fen)}元" if h.savings_fen else ""),
        ("致困原因", "、".join(label("causes", c) for c in h.causes)),
        ("危房", "是" if h.dangerous_house else "否"),
    ]
    return [p for p in pairs if p[0] not in skip]


MEMBER_HEADERS = [
    "序号",
    "姓名",
    "关系",
    "身份证号",
    "性别",
    "出生日期",
    "健康",
    "劳动能力",
    "月收入(元)",
]
MEMBER_WIDTHS = [0.06, 0.11, 0.08, 0.22, 0.06, 0.13, 0.1, 0.11, 0.13]


def member_rows(h: Household) -> list[list[str]]:
    rows = []
    for i, m in enumerate(h.members, start=1):
        income = sum(m.income.get(s, 0) for s in INCOME_SOURCES)
        rows.append(
            [
                str(i),
                m.name,
                m.relation,
                mask_id(m.id_number) + ("(待核实)" if m.id_pending else ""),
                {"M": "男", "F": "女"}.get(m.gender or "", ""),
                m.birth_date.isoformat() if m.birth_date else "",
                m.health,
                m.labour_capacity,
                format_fen(income) if income else "",
            ]
        )
    return rows


# -- one field -------------------------------------------------------------
def option_rows(pw: PageWriter, options: Sequence[str], x: float, size: float) -> list[list[str]]:
    """Check-box options split into rows that fit between ``x`` and the right margin
    (a household of eight has more names than one row holds)."""
    rows: list[list[str]] = [[]]
    end = x
    for o in options:
        w = 4.4 * mm + pw.width(o, size)  # box, label (as PageWriter.choices draws them)
        if rows[-1] and end + w > RIGHT:
            rows.append([])
            end = x
        rows[-1].append(o)
        end += w + 4 * mm
    return rows


CHOICE_TYPES = ("check", "single", "yesno", "multiple")


def _blank_condition(f: Field) -> str:
    """On a blank sheet, when a conditional field is to be filled in."""
    assert f.show_if is not None  # only conditional fields are asked about
    wanted = f.show_if.get("in") or [f.show_if.get("contains") or f.show_if.get("equals")]
    return f"（选“{'/'.join(map(str, wanted))}”时填写）"


def _is_choice(f: Field, blank: bool) -> bool:
    """Drawn as check boxes (members are names to tick only on a blank sheet)."""
    return f.type in CHOICE_TYPES or (f.type == "member" and blank)


def _field_options(f: Field, members: dict[str, str]) -> Sequence[str]:
    return {"yesno": ("是", "否"), "member": tuple(members.values())}.get(f.type, f.choices)


def _answer_lines(
    pw: PageWriter, f: Field, value, members: dict[str, str], blank: bool, size: float
) -> int:
    """How many lines a written answer needs (0: the field has none)."""
    if f.type == "textarea":
        return 3 if blank else len(pw.wrap(value or "", RIGHT - CONTROL_X, size))
    if f.type in ("text", "number", "money", "date") and not blank:
        return len(pw.wrap(display_value(f, value, members), RIGHT - CONTROL_X, size))
    return 0


def _draw_choices(
    pw: PageWriter,
    f: Field,
    value,
    rows: list[list[str]],
    blank: bool,
    y: float,
    lead: float,
    size: float,
) -> int:
    """Check boxes; returns the lines already moved down past (help under the rows)."""
    chosen = [] if blank else (value if isinstance(value, list) else [display_value(f, value)])
    for k, row in enumerate(rows):
        pw.choices(row, chosen, CONTROL_X, y - k * lead, size)
    if not (f.help and blank):
        return 0
    pw.y -= (len(rows) - 1) * lead + lead * 0.8
    pw.text(CONTROL_X, pw.y + 2, f.help, 7.5)
    return len(rows) - 1


def _draw_signature(pw: PageWriter, value, y: float, size: float) -> None:
    x = CONTROL_X
    pw.line(x, y - 2, x + 60 * mm, y - 2)
    if value:
        pw.text(x + 2 * mm, y, value, size)


def _draw_label(
    pw: PageWriter, f: Field, label_lines: list[str], y: float, lead: float, size: float
) -> None:
    for k, ln in enumerate(label_lines):
        pw.text(LEFT + (3 * mm if f.show_if else 0), y - k * lead, ln, size)


def _draw_answer(
    pw: PageWriter,
    f: Field,
    value,
    members: dict[str, str],
    blank: bool,
    lines: int,
    y: float,
    lead: float,
    size: float,
) -> None:
    """Answer lines with the answer written on them; on a blank sheet, when a conditional
    field is to be filled in, in small print in front."""
    text = "" if blank else display_value(f, value, members)
    cond = _blank_condition(f) if blank and f.show_if else ""
    x = CONTROL_X
    if cond:
        pw.text(x, y, cond, 7.5)
        x += pw.width(cond, 7.5) + 1 * mm
    avail = RIGHT - x
    body = pw.wrap(text, avail, size) if text else [""] * lines
    for k in range(max(lines, len(body))):
        yy = y - k * lead
        pw.line(x, yy - 2, RIGHT, yy - 2, 0.3)
        if k < len(body) and body[k]:
            pw.text(x + 1 * mm, yy, body[k], size)


def draw_field(
    pw: PageWriter, t: Template, f: Field, answers: dict | None, members: dict[str, str]
) -> None:
    """A question with its boxes or answer line.  ``answers`` None: blank sheet."""
    blank = answers is None
    value = None if answers is None else answers.get(f.key)
    if answers is not None and f.show_if and not t.visible(f, answers):
        return
    size = 9.5
    # no "*" for required fields: that marker is for the screen, not the paper
    label_lines = pw.wrap(f.label, CONTROL_X - LEFT - 4 * mm, size)
    lead = size * (1.9 if blank else 1.5)  # room to write by hand on a blank sheet
    if f.type == "check":
        pw.y -= 1.2 * mm
    choice = _is_choice(f, blank)
    rows = option_rows(pw, _field_options(f, members), CONTROL_X, size) if choice else []
    lines = max(len(label_lines), 1, len(rows), _answer_lines(pw, f, value, members, blank, size))
    pw.ensure(lines * lead + 2 * mm)
    pw.y -= lead
    y = pw.y + 2
    _draw_label(pw, f, label_lines, y, lead, size)
    if choice:
        lines -= _draw_choices(pw, f, value, rows, blank, y, lead, size)
    elif f.type == "signature":
        _draw_signature(pw, value, y, size)
    else:
        _draw_answer(pw, f, value, members, blank, lines, y, lead, size)
    pw.y -= (lines - 1) * lead


# -- one sheet -------------------------------------------------------------
def _draw_visit_facts(pw: PageWriter, visit: Visit | None) -> None:
    """入户情况: date, investigators and kind (to fill in on a blank sheet)."""
    pw.heading("入户情况")
    if visit is None:
        pw.grid([("入户日期", "      年    月    日"), ("调查人员", "")])
        pw.space(1 * mm)
        pw.y -= 5 * mm
        pw.text(LEFT, pw.y, "入户类型：", 9.5)
        pw.choices(list(VISIT_KINDS.values()), [], LEFT + 20 * mm, pw.y)
    else:
        pw.grid(
            [
                ("入户日期", visit.visit_date.isoformat()),
                ("调查人员", "、".join(visit.investigators)),
                ("入户类型", VISIT_KINDS.get(visit.kind, visit.kind)),
                ("照片", photo_count(len(visit.photos))),
            ]
        )
        draw_photos(pw, print_photos(visit.photos))


def _draw_conclusion(pw: PageWriter, visit: Visit | None) -> None:
    pw.heading("调查结论")
    pw.y -= 6 * mm
    if visit is None:
        pw.choices(CONCLUSIONS, [], LEFT, pw.y)
        for _ in range(2):
            pw.y -= 7 * mm
            pw.line(LEFT, pw.y, RIGHT, pw.y, 0.3)
    else:
        for ln in pw.wrap(visit.conclusion, WIDTH, 10):
            pw.text(LEFT, pw.y, ln, 10)
            pw.y -= 5 * mm


def _acknowledgement(visit: Visit | None) -> str:
    ack = "以上情况经本人确认属实。"
    if visit is not None and visit.acknowledged:
        ack += f"（户代表 {visit.representative} 已确认）"
    if visit is not None and visit.ack_note:
        ack += f" 户代表意见：{visit.ack_note}"
    return ack


def _draw_signoff(pw: PageWriter, visit: Visit | None) -> None:
    """Acknowledgement, signature lines and the date at the foot of a sheet."""
    pw.paragraph(_acknowledgement(visit), 9.5)
    names = visit.investigators if visit else []
    pw.signatures(
        [
            ("调查人(签字)", names[0] if names else ""),
            ("调查人(签字)", names[1] if len(names) > 1 else ""),
            ("户代表(签字)", visit.representative if visit else ""),
        ]
    )
    if len(names) > 2:
        pw.paragraph("其他调查人员：" + "、".join(names[2:]), 9)
    pw.y -= 4 * mm
    day = visit.visit_date.isoformat() if visit else "      年    月    日"
    pw.text(RIGHT, pw.y, f"日期：{day}", 10, "right")


def draw_checklist(
    pw: PageWriter,
    t: Template,
    h: Household,
    visit: Visit | None,
    site_name: str,
    members: dict[str, str] | None = None,
) -> None:
    """``members``: uid -> name the visit's answers are shown with (default: today's)."""
    if members is None:
        members = {m.uid: m.name for m in h.members if m.uid}
    answers = None if visit is None else visit.answers
    pw.title(t.title + ("" if visit else "（空白）"))
    sub = f"{site_name}    家庭编号：{h.id}    表单：{t.title} 第{t.version}版"
    pw.text(LEFT + WIDTH / 2, pw.y, sub, 8.5, "center")
    pw.space(2 * mm)
    pw.heading("家庭登记信息" + ("（调查前打印，请逐项核对）" if visit is None else ""))
    pw.grid(household_pairs(h))
    pw.space(2 * mm)
    pw.table(MEMBER_HEADERS, member_rows(h), MEMBER_WIDTHS, size=8.5)
    _draw_visit_facts(pw, visit)
    for s in t.sections:
        if not s.fields:
            continue
        pw.heading(s.title)
        for f in s.fields:
            draw_field(pw, t, f, answers, members)
    pw.ensure(75 * mm)  # conclusion, acknowledgement and signatures stay together
    _draw_conclusion(pw, visit)
    pw.y -= 6 * mm
    _draw_signoff(pw, visit)


def write_checklists(
    store: Store,
    entries: Sequence[CheckEntry | int],
    out: str | Path,
    *,
    visits: Visits | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> int:
    """Print one sheet per entry (ints are household ids: their latest visit,
    or blank when there is none) into one PDF.  Returns the number of pages.

    Written to a temporary file and renamed, so a cancelled or failed batch
    never leaves a half-written PDF at ``out``.
    """
    require(store, "forms.print")
    visits = visits or Visits(store)
    registry = Registry(store)
    site = get_site(store)
    site_name = site.name if site else ""
    font = register_cjk_font()
    resolved = []
    for e in entries:
        if isinstance(e, int):
            latest = visits.for_household(e)
            e = CheckEntry(e, latest[0].id if latest else None)
        resolved.append(e)
    if not resolved:
        raise MzError("没有要打印的家庭", "nothing_to_print")
    total = len(resolved)
    with replacing(out) as tmp:
        c = new_canvas(tmp, title="入户调查/核查表")
        pw = PageWriter(c, font)
        for i, e in enumerate(resolved):
            if cancel and cancel():
                raise Cancelled()
            h = registry.get(e.household_id)
            if e.visit_id is None:  # e.blank
                t, v = visits.forms.latest("home_visit"), None
            else:
                v = visits.get(e.visit_id)
                t = visits.template(v)
            start = pw.page
            who = h.head.name if h.head else ""
            pw.footer = lambda n, who=who, start=start: (
                f"{who} 入户调查/核查表  第{n - start + 1}页"
            )
            names = None if v is None else visit_members(store, e.household_id, v.id)
            draw_checklist(pw, t, h, v, site_name, names)
            pw.show_page()
            if progress:
                progress(i + 1, total)
        save_canvas(c)
    return pw.page - 1
