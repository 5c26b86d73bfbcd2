"""关爱簿 (care booklet) as an A4 PDF: cover, household basics, members,
causes, policies received (from the household's enrolments), needs, help
measures, the responsible helper, and the visit history.

One household or a whole village into one PDF (:func:`write_booklets`), with
``progress``/``cancel`` callbacks so the GUI runs it in a worker.  The parts
the records know are read fresh at print time; the typed parts come from the
booklet's answers under the template version they were filled with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib.units import mm

from ..models.auth import require
from ..models.booklets import Booklet, Booklets
from ..models.errors import MzError
from ..models.files import replacing
from ..models.forms import Field, Section, Template, display_value
from ..models.household import Household
from ..models.money import format_fen
from ..models.notice import township_name
from ..models.progress import Cancel, Cancelled, Progress
from ..models.registry import Registry
from ..models.site import get_site
from ..models.store import Store
from ..models.visits import VISIT_KINDS, Visit, Visits
from ..models.vocab import category_name, state_name
from .checklist_pdf import (
    MEMBER_HEADERS,
    MEMBER_WIDTHS,
    household_pairs,
    member_rows,
)
from .fonts import new_canvas, register_cjk_font
from .pagewriter import PAGE_H, PAGE_W, PageWriter, save_canvas
from .visit_photos import PrintPhoto, draw_photos, visit_photos

POLICY_HEADERS = ["救助类别", "档次", "状态", "保障人数", "月金额(元)", "起始日期", "终止日期"]
POLICY_WIDTHS = [0.24, 0.1, 0.1, 0.1, 0.14, 0.16, 0.16]
VISIT_HEADERS = ["日期", "类型", "调查人员", "结论", "户代表确认"]
VISIT_WIDTHS = [0.14, 0.12, 0.22, 0.36, 0.16]
PHOTO_VISITS = 3  # photos of the latest visits only: the booklet stays a booklet
KEEP_WITH_HEADING = 28 * mm  # a heading, a table's header and its first row


@dataclass
class BookletData:
    """Everything one booklet shows, read in one go."""

    household: Household
    booklet: Booklet
    template: Template
    enrolments: list[dict] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    photos: dict[int, list[PrintPhoto]] = field(default_factory=dict)  # visit id -> a few


def load_booklet_data(
    store: Store,
    household_id: int,
    registry: Registry | None = None,
    booklets: Booklets | None = None,
) -> BookletData:
    registry = registry or Registry(store)
    booklets = booklets or Booklets(store)
    h = registry.get(household_id)
    b = booklets.get(household_id)
    enrolments = list(
        store.db.query(
            "SELECT e.category, e.class, e.state, e.covered, e.monthly_fen, e.start_on, e.end_on, "
            "m.name AS member_name FROM enrolments e LEFT JOIN members m ON m.id = e.member_id "
            "WHERE e.household_id = ? AND e.status = 'active' ORDER BY e.start_on, e.id",
            (household_id,),
        )
    )
    visits = Visits(store, booklets.forms).for_household(household_id)
    photos = visit_photos(store, [v.id for v in visits[:PHOTO_VISITS] if v.id is not None])
    return BookletData(h, b, booklets.template(b), enrolments, visits, photos)


def policy_rows(enrolments: Sequence[dict]) -> list[list[str]]:
    return [
        [
            category_name(e["category"]) + (f"（{e['member_name']}）" if e["member_name"] else ""),
            e["class"],
            state_name(e["state"]),
            str(e["covered"] or ""),
            format_fen(e["monthly_fen"]) if e["monthly_fen"] else "",
            e["start_on"] or "",
            e["end_on"] or "",
        ]
        for e in enrolments
    ]


def visit_rows(visits: Sequence[Visit]) -> list[list[str]]:
    return [
        [
            v.visit_date.isoformat(),
            VISIT_KINDS.get(v.kind, v.kind),
            "、".join(v.investigators),
            v.conclusion,
            v.representative if v.acknowledged else "未确认",
        ]
        for v in visits
    ]


def _answer_pairs(
    t: Template, fields: Sequence[Field], answers: dict, members: dict[str, str]
) -> list[tuple[str, str]]:
    return [
        (f.label, display_value(f, answers.get(f.key), members))
        for f in fields
        if f.type not in ("table", "signature", "textarea") and t.visible(f, answers)
    ]


def draw_cover(pw: PageWriter, d: BookletData, site_name: str, today: dt.date) -> None:
    h = d.household
    pw.text(PAGE_W / 2, PAGE_H * 0.68, d.template.title, 40, "center")
    pw.text(PAGE_W / 2, PAGE_H * 0.62, "困难群众关爱工程", 14, "center")
    rows = [
        ("乡镇(街道)", site_name),
        ("村(社区)", f"{h.village}{h.village_group}"),
        ("户主姓名", h.head.name if h.head else ""),
        ("家庭编号", str(h.id)),
        ("建簿日期", (d.booklet.updated_at or today.isoformat())[:10]),
    ]
    y = PAGE_H * 0.45
    x0, x1 = PAGE_W / 2 - 55 * mm, PAGE_W / 2 - 18 * mm
    for label, value in rows:
        pw.text(x0, y, label + "：", 13)
        pw.line(x1, y - 3, PAGE_W / 2 + 55 * mm, y - 3)
        pw.text(x1 + 3 * mm, y, value, 13)
        y -= 13 * mm
    pw.text(PAGE_W / 2, 30 * mm, "本簿一式两份，由家庭和乡镇民政办各执一份", 10, "center")
    pw.show_page()


def _auto_household(pw: PageWriter, d: BookletData) -> None:
    pw.grid(household_pairs(d.household, skip=("致困原因",)))  # its own section below
    pw.space(1.5 * mm)


def _auto_members(pw: PageWriter, d: BookletData) -> None:
    pw.table(MEMBER_HEADERS, member_rows(d.household), MEMBER_WIDTHS, size=8.5)


def _auto_enrolments(pw: PageWriter, d: BookletData) -> None:
    empty_rows = 0 if d.enrolments else 1
    rows = policy_rows(d.enrolments)
    pw.table(POLICY_HEADERS, rows, POLICY_WIDTHS, size=8.5, empty_rows=empty_rows)
    pw.space(1.5 * mm)


def _auto_visits(pw: PageWriter, d: BookletData) -> None:
    rows = visit_rows(d.visits)
    pw.table(VISIT_HEADERS, rows, VISIT_WIDTHS, size=8.5, empty_rows=3, min_row_h=7 * mm)
    for v in d.visits:  # newest first, a few photos of the latest visits
        if v.id in d.photos:
            kind = VISIT_KINDS.get(v.kind, v.kind)
            draw_photos(pw, d.photos[v.id], f"{v.visit_date.isoformat()} {kind} 照片")


# a section's block filled from the records (Section.auto), drawn under its heading
AUTO_DRAW = {
    "household": _auto_household,
    "members": _auto_members,
    "enrolments": _auto_enrolments,
    "visits": _auto_visits,
}


def _draw_table_field(pw: PageWriter, f: Field, a: dict) -> None:
    rows = [[display_value(c, r.get(c.key)) for c in f.columns] for r in a.get(f.key, [])]
    n = len(f.columns)
    widths = [0.16] + [(1 - 0.16) / (n - 1)] * (n - 1) if n > 1 else [1.0]
    headers = [c.label for c in f.columns]
    pw.table(headers, rows, widths, size=9, empty_rows=3, min_row_h=7 * mm)


def _draw_section_fields(
    pw: PageWriter, t: Template, s: Section, a: dict, members: dict[str, str]
) -> None:
    """A section's answers: short ones in a grid, then long texts and tables, then
    its signature lines."""
    pairs = _answer_pairs(t, s.fields, a, members)
    if pairs:
        pw.grid(pairs, cols=1 if any(len(v) > 24 for _, v in pairs) else 2)
    for f in s.fields:
        if f.type == "textarea" and t.visible(f, a):
            pw.grid([(f.label, display_value(f, a.get(f.key)))], cols=1)
        elif f.type == "table":
            _draw_table_field(pw, f, a)
    sigs = [(f.label, a.get(f.key, "")) for f in s.fields if f.type == "signature"]
    if sigs:
        pw.signatures(sigs)


def draw_booklet(pw: PageWriter, d: BookletData, site_name: str, today: dt.date) -> None:
    h, t, a = d.household, d.template, d.booklet.answers
    members = {m.uid: m.name for m in h.members if m.uid}
    draw_cover(pw, d, site_name, today)
    for s in t.sections:
        pw.ensure(KEEP_WITH_HEADING)  # no heading alone at the foot of a page
        pw.heading(s.title)
        auto = AUTO_DRAW.get(s.auto)
        if auto:
            auto(pw, d)
        _draw_section_fields(pw, t, s, a, members)


def write_booklets(
    store: Store,
    household_ids: Sequence[int],
    out: str | Path,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    today: dt.date | None = None,
    record: list | None = None,
) -> int:
    """Print the booklets of ``household_ids`` into one PDF; returns the page count.

    Written to ``out.part`` and renamed at the end: a cancelled or failed
    batch leaves no half-written file.  ``record`` collects the drawing calls
    (for the benchmark's bare-reportlab replay).
    """
    require(store, "forms.print")
    if not household_ids:
        raise MzError("没有要打印的家庭", "nothing_to_print")
    today = today or dt.date.today()
    # the cover names the township (青山镇), not the office (青山镇民政办)
    site_name = township_name(store) if get_site(store) else ""
    font = register_cjk_font()
    registry, booklets = Registry(store), Booklets(store)
    total = len(household_ids)
    with replacing(out) as tmp:
        c = new_canvas(tmp, title="关爱簿")
        pw = PageWriter(c, font, record=record)
        for i, hid in enumerate(household_ids):
            if cancel and cancel():
                raise Cancelled()
            d = load_booklet_data(store, hid, registry, booklets)
            start = pw.page
            who = f"{d.household.village} {d.household.head.name if d.household.head else ''}"
            pw.footer = lambda n, who=who, start=start: (
                "" if n == start else f"{who} 关爱簿  第{n - start}页"
            )
            draw_booklet(pw, d, site_name, today)
            pw.show_page()
            if progress:
                progress(i + 1, total)
        save_canvas(c)
    return pw.page - 1


def village_household_ids(store: Store, village: str) -> list[int]:
    """Active households of a village in print order (group, head)."""
    ids = [
        r[0]
        for r in store.conn.execute(
            "SELECT id FROM households WHERE village = ? AND status = 'active' "
            "ORDER BY village_group, head_py, id",
            (village,),
        )
    ]
    if not ids:
        raise MzError(f"村(社区)“{village}”没有在册家庭", "empty_village")
    return ids
