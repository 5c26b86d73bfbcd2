"""The one place PDF producers get their CJK font (notices, booklets, rosters).

mzdesk ships WenQuanYi Micro Hei in ``resources/fonts/`` (Apache-2.0, see
``resources/fonts/README.md``) and embeds a subset of it in every PDF, so a
notice prints the same on any PC.  Never use reportlab's ``STSong-Light`` CID
font: it is not embedded.

Usage::

    from mzdesk.reports.fonts import register_cjk_font, new_canvas
    font = register_cjk_font()              # 'WQYMicroHei', registered once
    c = new_canvas("out.pdf", title="公示")  # initial font = the CJK font

``new_canvas`` sets the canvas's initial font to the embedded font: a plain
``Canvas(path)`` would list an unused, unembedded Helvetica in ``pdffonts``.
For platypus documents pass ``initialFontName=font`` to ``SimpleDocTemplate``
(or build on a canvas from ``new_canvas``).
"""

from __future__ import annotations

import threading

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from ..resources import resource_path

CJK_FONT = "WQYMicroHei"
FONT_FILE = "fonts/wqy-microhei.ttc"
_lock = threading.Lock()


def font_path() -> str:
    """Path of the shipped TrueType collection."""
    return str(resource_path(FONT_FILE))


def register_cjk_font() -> str:
    """Register the shipped CJK font with reportlab (once) and return its name."""
    with _lock:
        if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(CJK_FONT, font_path(), subfontIndex=0))
    return CJK_FONT


def new_canvas(out, title: str = "", pagesize=A4, size: float = 10, **kwargs) -> Canvas:
    """A canvas whose initial font is the embedded CJK font (no stray Helvetica)."""
    font = register_cjk_font()
    c = Canvas(str(out), pagesize=pagesize, initialFontName=font, initialFontSize=size, **kwargs)
    if title:
        c.setTitle(title)
    c.setAuthor("mzdesk 民政桌面")
    return c


def string_width(text: str, size: float) -> float:
    """Width of ``text`` in points at ``size`` in the CJK font."""
    return pdfmetrics.stringWidth(text, register_cjk_font(), size)
