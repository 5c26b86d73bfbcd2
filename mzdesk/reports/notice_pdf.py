"""Public notice (公示) PDF for the village bulletin board.

Drawn straight on a reportlab canvas in two passes: the first lays every row
out on pages (rows have a fixed height, so pagination is arithmetic), the
second draws each page knowing the page count ("第 x 页 共 y 页").  This is
faster than a platypus ``LongTable`` (see ``bench/bench_notice.py``).

Layout: title, a short lead paragraph, one section per village, the table
header repeated at the top of every page and of every section, then the
period, complaint hotline, address, issuing body, date and room for the seal.
A4 portrait, A4 landscape or A3 landscape; type large enough to read on a wall.

Privacy: the notice only carries what its rows were frozen with
(:mod:`mzdesk.models.notice`): no bank account, phone, health or cause of
difficulty; an ID column only when asked, masked by ``mask_id`` at freeze time.

The PDF is written with ``invariant=1``: printing the same notice again gives
the same bytes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from reportlab import rl_config
from reportlab.lib.pagesizes import A3, A4, landscape
from reportlab.lib.rl_accel import escapePDF
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from ..models.files import replacing
from ..models.money import format_fen
from ..models.notice import Notice
from .fonts import new_canvas, register_cjk_font, string_width

_A85_LOCK = threading.Lock()
Op = tuple  # ('t', x, y, text, size) | ('l', x1, y1, x2, y2, w) | ('r', x, y, w, h, gray)


def cn_date(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


class _Widths:
    """Per-character width cache: CJK strings are measured char by char."""

    def __init__(self, font: str):
        self.font = font
        self.cache: dict[str, float] = {}

    def __call__(self, s: str, size: float) -> float:
        cache = self.cache
        total = 0.0
        for ch in s:
            w = cache.get(ch)
            if w is None:
                w = cache[ch] = string_width(ch, 1000.0) / 1000.0
            total += w
        return total * size


def page_size(n: Notice) -> tuple[float, float]:
    base = A3 if n.page_size == "A3" else A4
    return landscape(base) if n.landscape or n.page_size == "A3" else base


def section_label(village: str, rows: list, name_header: str) -> str:
    """A village's heading: how many households (or persons) and the people they cover."""
    unit = "户" if name_header == "户主姓名" else "人"
    return f"{village}（{len(rows)}{unit}，保障人口{sum(r.covered for r in rows)}人）"


def columns(n: Notice, name_header: str) -> list[tuple[str, float, str]]:
    """(header, relative width, alignment) of the table columns."""
    cols = [("序号", 0.07, "c"), ("村组", 0.19, "l"), (name_header, 0.14, "c")]
    if n.show_id:
        cols.append(("身份证号", 0.30, "c"))
    cols += [
        ("保障人口", 0.10, "c"),
        ("类别", 0.19, "c"),
        ("月保障金额(元)", 0.16, "r"),
        ("备注", 0.08, "c"),
    ]
    return cols


class _Layout:
    def __init__(self, n: Notice, name_header: str):
        self.n = n
        self.name_header = name_header
        self.W, self.H = page_size(n)
        self.s = 1.35 if n.page_size == "A3" else 1.0  # type scale
        s = self.s
        self.margin = 16 * mm * s
        self.left, self.right = self.margin, self.W - self.margin
        self.top, self.bottom = self.H - 14 * mm * s, 18 * mm * s
        self.width = self.right - self.left
        self.font = register_cjk_font()
        self.measure = _Widths(self.font)
        self.body = 12.5 * s
        self.row_h = 8.2 * mm * s
        self.head_h = 11 * mm * s
        cols = columns(n, name_header)
        total = sum(c[1] for c in cols)
        self.cols = []
        x = self.left
        for title, rel, align in cols:
            w = self.width * rel / total
            self.cols.append((title, x, w, align))
            x += w
        self.pages: list[list[Op]] = []
        self.ops: list[Op] = []
        self.y = self.top

    # -- primitives ----------------------------------------------------------
    def text(self, x: float, y: float, s: str, size: float, align: str = "l") -> None:
        if align != "l":
            w = self.measure(s, size)
            x = x - w if align == "r" else x - w / 2
        self.ops.append(("t", x, y, s, size))

    def fit(self, s: str, width: float, size: float, minimum: float) -> tuple[str, float]:
        """Shrink ``s`` to fit ``width``; below ``minimum`` size, cut it with '…'."""
        w = self.measure(s, size)
        if w <= width:
            return s, size
        size = max(minimum, size * width / w * 0.98)
        while s and self.measure(s, size) > width:
            s = s[:-2] + "…" if len(s) > 1 else ""
        return s, size

    def wrap(self, s: str, width: float, size: float) -> list[str]:
        lines, cur, cur_w = [], "", 0.0
        for ch in s:
            w = self.measure(ch, size)
            if cur and cur_w + w > width:
                lines.append(cur)
                cur, cur_w = "", 0.0
            cur += ch
            cur_w += w
        return lines + [cur]

    def new_page(self) -> None:
        self.pages.append(self.ops)
        self.ops = []
        self.y = self.top
        cont = f"{self.n.title}（续）"
        t, size = self.fit(cont, self.width, 11 * self.s, 8)
        self.y -= 11 * self.s
        self.text(self.left, self.y, t, size)
        self.y -= 5 * mm * self.s

    def ensure(self, h: float) -> bool:
        """Start a new page unless ``h`` fits; True when a page was started."""
        if self.y - h < self.bottom:
            self.new_page()
            return True
        return False

    # -- blocks ----------------------------------------------------------------------
    def title(self) -> None:
        s = self.s
        t, size = self.fit(self.n.title, self.width, 20 * s, 12)
        self.y -= size + 2 * mm
        self.text(self.W / 2, self.y, t, size, "c")
        self.y -= 6 * mm * s
        lead = (
            "根据社会救助有关规定，经本人申请、入户调查、家庭经济状况核对等程序，"
            f"现将拟保障对象及变更情况予以公示，公示期为{cn_date(self.n.start_on)}至"
            f"{cn_date(self.n.end_on)}。公示期间如有异议，请向监督电话或受理地址实名反映。"
        )
        size = 12 * s
        lines = self.wrap(lead, self.width - 2 * size, size)
        lines = (
            [lines[0]] + self.wrap("".join(lines[1:]), self.width, size)
            if len(lines) > 1
            else lines
        )
        for i, line in enumerate(lines):
            self.y -= size * 1.5
            self.text(self.left + (2 * size if i == 0 else 0), self.y, line, size)  # indent
        self.y -= 4 * mm * s

    def header(self) -> None:
        h = self.head_h
        y0 = self.y - h
        self.ops.append(("r", self.left, y0, self.width, h, 0.88))
        self.ops.append(("b", self.left, y0, self.width, h))
        size = 12 * self.s
        for title, x, w, _align in self.cols:
            avail = w - 2 * mm * self.s
            if self.measure(title, size) > avail and len(title) > 2:
                # two lines at a readable size rather than one tiny line
                cut = title.find("(") if "(" in title else (len(title) + 1) // 2
                small = 10.5 * self.s
                for i, part in enumerate((title[:cut], title[cut:])):
                    t, sz = self.fit(part, avail, small, 7)
                    yy = y0 + h / 2 + (0.25 * sz if i == 0 else -1.05 * sz)
                    self.text(x + w / 2, yy, t, sz, "c")
            else:
                t, sz = self.fit(title, avail, size, 7)
                self.text(x + w / 2, y0 + (h - sz) / 2 + sz * 0.15, t, sz, "c")
            self.ops.append(("l", x, y0, x, y0 + h, 0.6))
        self.ops.append(("l", self.right, y0, self.right, y0 + h, 0.6))
        self.y = y0

    def section_heading(self, village: str, rows: list, cont: bool) -> None:
        size = 14 * self.s
        if cont:
            label = f"{village}（续）"
        else:
            label = section_label(village, rows, self.name_header)
        self.y -= size + 2.5 * mm * self.s
        self.text(self.left, self.y, label, size)
        self.y -= 2 * mm * self.s
        self.header()

    def row(self, it) -> None:
        h = self.row_h
        y0 = self.y - h
        base = y0 + (h - self.body) / 2 + self.body * 0.15
        values = [str(it.seq), f"{it.village}{it.village_group}", it.name]
        if self.n.show_id:
            values.append(it.id_masked)
        values += [str(it.covered), it.category_label, format_fen(it.monthly_fen), it.action_label]
        pad = 1.6 * mm * self.s
        for (_, x, w, align), v in zip(self.cols, values, strict=True):
            t, size = self.fit(v, w - 2 * pad, self.body, 7)
            if align == "c":
                self.text(x + w / 2, base, t, size, "c")
            elif align == "r":
                self.text(x + w - pad, base, t, size, "r")
            else:
                self.text(x + pad, base, t, size)
        self.ops.append(("g", y0, h))  # row box: verticals and bottom rule
        self.y = y0

    def closing_height(self) -> float:
        s = self.s
        return (3 * 13 * 1.7 * s) + 64 * mm * s

    def closing(self) -> None:
        s = self.s
        size = 13 * s
        n = self.n
        lines = [
            f"公示期：{cn_date(n.start_on)}至{cn_date(n.end_on)}（共{n.days}天）",
            f"监督电话：{n.hotline}",
        ]
        if n.address:
            lines.append(f"受理地址：{n.address}")
        self.ensure(self.closing_height())
        self.y -= 6 * mm * s
        for line in lines:
            for part in self.wrap(line, self.width, size):
                self.y -= size * 1.7
                self.text(self.left, self.y, part, size)
        # room for the seal: it is pressed over the issuer and the date
        self.y -= 32 * mm * s
        x = self.right - 30 * mm * s
        self.text(x, self.y, n.issuer, 14 * s, "c")
        self.y -= 14 * s * 1.8
        self.text(x, self.y, cn_date(n.issued_on), 14 * s, "c")

    def run(self) -> list[list[Op]]:
        self.title()
        groups = self.n.villages()
        last_village = groups[-1][0] if groups else None
        heading = 14 * self.s + self.head_h + 5 * mm * self.s
        for village, rows in groups:
            need = heading + self.row_h * 2
            if village == last_village and len(rows) <= 2:
                # its rows all go with the signature block: the heading goes with them too,
                # not left above an empty table at the foot of the page before
                need = heading + self.row_h * len(rows) + self.closing_height()
            self.ensure(need)
            self.section_heading(village, rows, cont=False)
            for i, it in enumerate(rows):
                need = self.row_h
                if village == last_village and i == max(0, len(rows) - 2):
                    # the signature block never stands alone on a page: keep 2 rows with it
                    need = self.row_h * (len(rows) - i) + self.closing_height()
                if self.ensure(need):
                    self.section_heading(village, rows, cont=True)
                self.row(it)
        self.closing()
        self.pages.append(self.ops)
        return self.pages


def layout(n: Notice, name_header: str = "户主姓名") -> tuple[_Layout, list[list[Op]]]:
    lay = _Layout(n, name_header)
    return lay, lay.run()


class _Stream:
    """PDF operators for one page, written as text (one ``addLiteral`` per page).

    Uses reportlab's documented dynamic-font path (``splitString`` +
    ``getSubsetInternalName``, see ``reportlab.pdfbase.ttfonts``) instead of a
    text object per string: the same PDF, about twice as fast, because
    coordinates are formatted once by Python's C float formatting.
    """

    def __init__(self, canvas, font_name: str):
        self.doc = canvas._doc  # the document the font subsets belong to
        self.font = pdfmetrics.getFont(font_name)
        self.encoded: dict[str, list[tuple[int, bytes]]] = {}
        self.names: dict[int, str] = {}
        self.parts: list[str] = []
        self.subset = -1
        self.size = -1.0

    def begin(self) -> None:
        self.parts = ["BT"]
        self.subset, self.size = -1, -1.0

    def text(self, x: float, y: float, s: str, size: float) -> None:
        chunks = self.encoded.get(s)
        if chunks is None:
            chunks = self.encoded[s] = self.font.splitString(s, self.doc)
        R = self.parts.append
        R(f"1 0 0 1 {x:.2f} {y:.2f} Tm")
        for subset, raw in chunks:
            if subset != self.subset or size != self.size:
                name = self.names.get(subset)
                if name is None:
                    name = self.names[subset] = self.font.getSubsetInternalName(subset, self.doc)
                R(f"{name} {size:.2f} Tf")
                self.subset, self.size = subset, size
            R(f"({escapePDF(raw)}) Tj")

    def end(self) -> str:
        self.parts.append("ET")
        return "\n".join(self.parts)


def render(
    n: Notice,
    out: str | Path,
    name_header: str = "户主姓名",
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the notice to ``out`` (atomically); return the page count."""
    lay, pages = layout(n, name_header)
    with replacing(out) as tmp:
        return _draw(n, tmp, lay, pages, progress)


def _draw(n: Notice, tmp: Path, lay, pages, progress) -> int:
    """Draw the laid-out ``pages`` into a PDF at ``tmp``; the page count."""
    c = new_canvas(tmp, title=n.title, pagesize=(lay.W, lay.H), size=lay.body, invariant=1)
    c.setSubject("公示")
    total = len(pages)
    foot = 10 * lay.s
    col_x = [x for _, x, _, _ in lay.cols] + [lay.right]
    left, right = f"{lay.left:.2f}", f"{lay.right:.2f}"
    stream = _Stream(c, lay.font)
    for p, ops in enumerate(pages, 1):
        stream.begin()
        graphics = ["0.6 w"]
        G = graphics.append
        for op in ops:
            kind = op[0]
            if kind == "t":
                stream.text(op[1], op[2], op[3], op[4])
            elif kind == "g":  # row box: every column rule and the bottom rule
                y0, y1 = f"{op[1]:.2f}", f"{op[1] + op[2]:.2f}"
                G(" ".join(f"{x:.2f} {y0} m {x:.2f} {y1} l" for x in col_x))
                G(f"{left} {y0} m {right} {y0} l S")
            elif kind == "r":
                G(f"{op[5]:.2f} g {op[1]:.2f} {op[2]:.2f} {op[3]:.2f} {op[4]:.2f} re f 0 g")
            elif kind == "b":
                G(f"{op[1]:.2f} {op[2]:.2f} {op[3]:.2f} {op[4]:.2f} re S")
            elif kind == "l":
                G(f"{op[1]:.2f} {op[2]:.2f} m {op[3]:.2f} {op[4]:.2f} l S")
        label = f"第 {p} 页 共 {total} 页"
        w = lay.measure(label, foot)
        stream.text((lay.W - w) / 2, lay.bottom - 9 * mm * lay.s, label, foot)
        # fills first, then rules, then text on top
        c.addLiteral("\n".join(graphics) + "\n" + stream.end())
        c.showPage()
        if progress:
            progress(p, total)
    # binary (Flate-only) page streams: ASCII85 armour costs a third of the time
    # and nothing in any reader; restored at once for other producers
    with _A85_LOCK:
        old = rl_config.useA85
        rl_config.useA85 = 0
        try:
            c.save()
        finally:
            rl_config.useA85 = old
    return total


def name_header(store, n: Notice) -> str:
    """'户主姓名' when every row is a household, else '姓名' (person categories)."""
    from ..models.categories import categories

    cats = categories(store)
    units = {cats.get(it.category, {}).get("unit", "person") for it in n.items}
    return "户主姓名" if units == {"household"} else "姓名"


def write_pdf(
    store, notice_id: int, out: str | Path, progress: Callable[[int, int], None] | None = None
) -> int:
    """The notice ``notice_id`` as a PDF at ``out``; returns the page count."""
    from ..models.notice import get_notice

    n = get_notice(store, notice_id)
    return render(n, out, name_header(store, n), progress)
