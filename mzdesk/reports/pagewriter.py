"""A small flowing-page writer on a reportlab canvas (A4, one CJK font).

Booklets and checklists are drawn straight on the canvas: headings, wrapped
paragraphs, boxed label/value grids, tables that wrap their cells and repeat
their header on a new page, check boxes and signature lines.  Drawing on the
canvas (rather than platypus) keeps a 500-household batch fast; every drawing
call can be recorded so ``bench/`` can replay the same content on a bare
canvas and measure what the layout costs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

PAGE_W, PAGE_H = A4
LEFT = 18 * mm
RIGHT = PAGE_W - 18 * mm
TOP = PAGE_H - 16 * mm
BOTTOM = 16 * mm
WIDTH = RIGHT - LEFT
GREY = 0.93


def save_canvas(c: Canvas) -> None:
    """Save with Flate-only page streams: ASCII85 on top costs ~15 % of a big
    batch's time and ~20 % of its size, and no PDF reader needs it."""
    before = rl_config.useA85
    rl_config.useA85 = 0
    try:
        c.save()
    finally:
        rl_config.useA85 = before


class PageWriter:
    """Cursor-based drawing: each method draws below the previous one."""

    def __init__(
        self,
        canvas: Canvas,
        font: str,
        footer: Callable[[int], str] | None = None,
        record: list | None = None,
    ):
        self.c = canvas
        self.font = font
        self.footer = footer
        self.record = record
        self.y = TOP
        self.page = 1
        self.on_new_page: Callable[[], None] | None = None
        self._widths: dict[tuple[str, float], float] = {}
        self._size: float | None = None

    # -- primitives (recorded) -------------------------------------------
    def text(self, x: float, y: float, s: str, size: float = 10, align: str = "left") -> None:
        if align != "left":
            w = self.width(s, size)
            x = x - w if align == "right" else x - w / 2
        if not s:
            return
        if self.record is not None:
            self.record.append(("t", x, y, s, size))
        if size != self._size:  # setFont writes to the page stream: only when it changes
            self.c.setFont(self.font, size)
            self._size = size
        self.c.drawString(x, y, s)

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = 0.5) -> None:
        if self.record is not None:
            self.record.append(("l", x1, y1, x2, y2, width))
        self.c.setLineWidth(width)
        self.c.line(x1, y1, x2, y2)

    def rect(self, x: float, y: float, w: float, h: float, fill: float | None = None) -> None:
        if self.record is not None:
            self.record.append(("r", x, y, w, h, fill))
        if fill is None:
            self.c.setLineWidth(0.5)
            self.c.rect(x, y, w, h, stroke=1, fill=0)
        else:
            self.c.setFillGray(fill)
            self.c.rect(x, y, w, h, stroke=0, fill=1)
            self.c.setFillGray(0)

    def show_page(self) -> None:
        if self.footer:
            self.text(PAGE_W / 2, BOTTOM - 8 * mm, self.footer(self.page), 8, "center")
        if self.record is not None:
            self.record.append(("p",))
        self.c.showPage()
        self._size = None  # a new page starts with the canvas's initial font
        self.page += 1
        self.y = TOP

    # -- measuring ---------------------------------------------------------
    def width(self, s: str, size: float) -> float:
        total = 0.0
        cache = self._widths
        for ch in s:
            key = (ch, size)
            w = cache.get(key)
            if w is None:
                w = cache[key] = stringWidth(ch, self.font, size)
            total += w
        return total

    def wrap(self, s: str, width: float, size: float) -> list[str]:
        """Break text into lines that fit ``width`` (character by character: CJK)."""
        lines: list[str] = []
        for para in str(s).split("\n"):
            cur, cur_w = "", 0.0
            for ch in para:
                w = self.width(ch, size)
                if cur and cur_w + w > width:
                    lines.append(cur)
                    cur, cur_w = "", 0.0
                cur += ch
                cur_w += w
            lines.append(cur)
        return lines

    # -- flow ----------------------------------------------------------------
    def ensure(self, height: float) -> None:
        """Start a new page unless ``height`` still fits on this one."""
        if self.y - height < BOTTOM:
            self.show_page()
            if self.on_new_page:
                self.on_new_page()

    def space(self, h: float) -> None:
        self.y -= h

    def title(self, s: str, size: float = 18) -> None:
        self.ensure(size * 2)
        self.y -= size
        self.text(PAGE_W / 2, self.y, s, size, "center")
        self.y -= size * 0.6

    def heading(self, s: str, size: float = 12) -> None:
        self.ensure(size * 4)  # never a heading alone at the foot of a page
        self.y -= size * 1.7
        self.rect(LEFT, self.y - size * 0.35, WIDTH, size * 1.45, fill=GREY)
        self.text(LEFT + 2 * mm, self.y, s, size)
        self.y -= size * 0.6

    def paragraph(self, s: str, size: float = 10, indent: float = 0) -> None:
        lead = size * 1.45
        for ln in self.wrap(s, WIDTH - indent, size):
            self.ensure(lead)
            self.y -= lead
            self.text(LEFT + indent, self.y + size * 0.3, ln, size)

    def grid(
        self,
        pairs: Sequence[tuple[str, str]],
        cols: int = 2,
        label_w: float = 26 * mm,
        size: float = 9.5,
    ) -> None:
        """Boxed label/value cells, ``cols`` pairs per row; values wrap."""
        cell_w = WIDTH / cols
        lead = size * 1.35
        longest = max((self.width(lbl, size) for lbl, _ in pairs), default=0) + 3 * mm
        label_w = min(max(label_w, longest), cell_w * 0.45)
        for i in range(0, len(pairs), cols):
            row = pairs[i : i + cols]
            # the last cell of a short row takes the rest of the width (no stray half box)
            widths = [cell_w] * (len(row) - 1) + [WIDTH - cell_w * (len(row) - 1)]
            wrapped = [
                self.wrap(v or "", w - label_w - 3 * mm, size)
                for (_, v), w in zip(row, widths, strict=True)
            ]
            labels = [self.wrap(lbl, label_w - 2.5 * mm, size) for lbl, _ in row]
            h = max(len(w) for w in wrapped + labels) * lead + size * 0.6
            self.ensure(h)
            top = self.y
            for j, (label_lines, lines) in enumerate(zip(labels, wrapped, strict=True)):
                x = LEFT + j * cell_w
                self.rect(x, top - h, label_w, h, fill=GREY)
                self.rect(x, top - h, widths[j], h)
                self.line(x + label_w, top, x + label_w, top - h)
                for k, ln in enumerate(label_lines):
                    self.text(x + 1.5 * mm, top - (k + 1) * lead + size * 0.1, ln, size)
                for k, ln in enumerate(lines):
                    self.text(x + label_w + 1.5 * mm, top - (k + 1) * lead + size * 0.1, ln, size)
            self.y = top - h

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        size: float = 9,
        empty_rows: int = 0,
        min_row_h: float = 0,
    ) -> None:
        """A boxed table; ``widths`` are fractions of the page width.  The header
        is repeated on a new page; ``empty_rows`` adds blank rows to fill by hand."""
        ws = [w * WIDTH for w in widths]
        lead = size * 1.35

        def draw_row(cells: Sequence[str], fill: float | None) -> None:
            wrapped = [
                self.wrap(c or "", w - 2.5 * mm, size) for c, w in zip(cells, ws, strict=True)
            ]
            h = max(max(len(w) for w in wrapped) * lead + size * 0.6, min_row_h)
            if self.y - h < BOTTOM:
                self.show_page()
                if self.on_new_page:
                    self.on_new_page()
                if fill is None:
                    draw_row(headers, GREY)
            top, x = self.y, LEFT
            if fill is not None:
                self.rect(LEFT, top - h, WIDTH, h, fill=fill)
            for lines, w in zip(wrapped, ws, strict=True):
                self.rect(x, top - h, w, h)
                for k, ln in enumerate(lines):
                    self.text(x + 1.2 * mm, top - (k + 1) * lead + size * 0.1, ln, size)
                x += w
            self.y = top - h

        self.ensure(lead * 3)
        draw_row(headers, GREY)
        for r in rows:
            draw_row(r, None)
        for _ in range(empty_rows):
            draw_row([""] * len(headers), None)

    def checkbox(self, x: float, y: float, checked: bool, size: float = 3.2 * mm) -> None:
        self.rect(x, y, size, size)
        if checked:
            self.line(x + size * 0.15, y + size * 0.5, x + size * 0.42, y + size * 0.15, 1.2)
            self.line(x + size * 0.42, y + size * 0.15, x + size * 0.9, y + size * 0.9, 1.2)

    def choices(
        self, options: Sequence[str], chosen: Sequence[str], x: float, y: float, size: float = 9.5
    ) -> float:
        """Check boxes with labels in a row; returns the x after the last one."""
        for o in options:
            self.checkbox(x, y - 0.6 * mm, o in chosen)
            x += 4.4 * mm
            self.text(x, y, o, size)
            x += self.width(o, size) + 4 * mm
        return x

    def signatures(self, items: Sequence[tuple[str, str]], size: float = 10) -> None:
        """Signature lines side by side: (label, name already known or '')."""
        self.ensure(22 * mm)
        self.y -= 14 * mm
        w = WIDTH / len(items)
        for i, (label, name) in enumerate(items):
            x = LEFT + i * w
            self.text(x, self.y, label + "：", size)
            lx = x + self.width(label + "：", size) + 1 * mm
            self.line(lx, self.y - 1.5, x + w - 6 * mm, self.y - 1.5)
            if name:
                self.text(lx + 2 * mm, self.y + 1, name, size)
        self.y -= 4 * mm
