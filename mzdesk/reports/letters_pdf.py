"""Written notices to a household (受理通知书, 不予受理/不予确认告知书, 停发告知书) as PDF.

One A4 page: title, number, the household addressed, the template's paragraphs
(:mod:`mzdesk.models.letters`, wording in ``resources/letters.json``), the rights of
appeal, the office and date with room for the seal, and a tear-off receipt (送达回执).
The font is the embedded CJK font of the 公示 (:mod:`mzdesk.reports.fonts`); the only
ID on the page is masked by the notice's masking function.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reportlab.lib.units import mm

from ..models import letters
from ..models.auth import require
from ..models.files import replacing
from ..models.store import Store
from .fonts import new_canvas, register_cjk_font
from .pagewriter import LEFT, PAGE_W, RIGHT, WIDTH, PageWriter, save_canvas

BODY = 12.5


def draw_letter(pw: PageWriter, letter: letters.Letter) -> None:
    pw.space(6 * mm)
    pw.title(letter.office, 15)
    pw.title(letter.title, 22)
    pw.space(2 * mm)
    pw.text(RIGHT, pw.y - 4 * mm, letter.number, 10.5, "right")
    pw.space(12 * mm)
    who = letter.name
    where = letter.values.get("village", "")
    masked = letter.values.get("id_masked", "")
    pw.text(LEFT, pw.y, f"{who}：", BODY)
    if where or masked:
        pw.text(
            RIGHT,
            pw.y,
            f"（{where}  身份证号：{masked}）" if masked else f"（{where}）",
            9,
            "right",
        )
    pw.space(3 * mm)
    indent = pw.width("　　", BODY)
    for para in letter.paragraphs:
        lines = pw.wrap(para, WIDTH - indent, BODY)
        for i, ln in enumerate(lines):
            pw.ensure(BODY * 1.8)
            pw.y -= BODY * 1.8
            pw.text(LEFT + (indent if i == 0 else 0), pw.y, ln, BODY)
    if letter.appeal:
        pw.space(2 * mm)
        for i, ln in enumerate(pw.wrap(letter.appeal, WIDTH - indent, BODY)):
            pw.y -= BODY * 1.8
            pw.text(LEFT + (indent if i == 0 else 0), pw.y, ln, BODY)
    if letter.address or letter.hotline:
        pw.space(3 * mm)
        contact = "　".join(
            x
            for x in (
                f"地址：{letter.address}" if letter.address else "",
                f"联系电话：{letter.hotline}" if letter.hotline else "",
            )
            if x
        )
        pw.y -= BODY * 1.6
        pw.text(LEFT, pw.y, contact, 10.5)
    pw.space(16 * mm)
    right = RIGHT - 10 * mm
    pw.text(right, pw.y, f"{letter.office}（盖章）", BODY, "right")
    pw.space(8 * mm)
    pw.text(right, pw.y, letters.cn_date(letter.issued_on), BODY, "right")
    _receipt(pw, letter)


def _receipt(pw: PageWriter, letter: letters.Letter) -> None:
    """The receipt the household signs, below a cut line at the foot of the page."""
    y = 62 * mm
    if pw.y - 10 * mm < y:
        pw.show_page()
    pw.c.setDash(3, 3)
    pw.line(LEFT, y, RIGHT, y, 0.6)
    pw.c.setDash()
    pw.text(PAGE_W / 2, y + 1.5 * mm, "（沿此线剪下，回执由办理机关留存）", 8, "center")
    pw.text(LEFT, y - 12 * mm, letter.receipt, 11)
    pw.text(LEFT, y - 20 * mm, f"编号：{letter.number}", 10)
    pw.text(LEFT, y - 32 * mm, "受送达人（签名）：________________", 11)
    pw.text(LEFT + WIDTH / 2 + 10 * mm, y - 32 * mm, "送达日期：______年____月____日", 11)
    pw.text(LEFT, y - 42 * mm, "送达人（签名）：__________________", 11)


def write_letter(
    store: Store,
    enrolment_id: int,
    kind: str,
    out: str | Path,
    today: dt.date | None = None,
) -> letters.Letter:
    """Print the letter of ``kind`` for an enrolment to ``out`` (permission ``forms.print``;
    the file appears whole or not at all) and record it as given (see
    :func:`mzdesk.models.letters.record_letter`)."""
    require(store, "forms.print")
    letter = letters.letter_data(store, enrolment_id, kind, today)
    font = register_cjk_font()
    with replacing(out) as tmp:
        c = new_canvas(tmp, title=letter.title, invariant=1)
        pw = PageWriter(c, font)
        draw_letter(pw, letter)
        pw.show_page()
        save_canvas(c)
    letters.record_letter(store, enrolment_id, kind, letter.issued_on)
    return letter
