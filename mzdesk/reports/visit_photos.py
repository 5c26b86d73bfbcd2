"""Visit photos (入户照片) printed small in the booklet and the checklist.

The stored thumbnails (``visit_photos.thumbnail``, at most 200 px, already turned
upright from the camera's EXIF orientation when the photo was loaded) are drawn a few
per visit, scaled to one row height with their aspect kept, each with its caption.
Only the thumbnails are read: a village batch never decodes the full photos.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader

from ..models.store import Store
from .pagewriter import LEFT, RIGHT, PageWriter

PHOTOS_PER_VISIT = 3  # a few: the booklet and the sheet are paper, not an album
PHOTO_H = 30 * mm
PHOTO_MAX_W = 45 * mm
GAP = 4 * mm
CAPTION_SIZE = 7.5


@dataclass
class PrintPhoto:
    """One thumbnail to print: the JPEG bytes, its pixel size and caption."""

    thumbnail: bytes
    width: int
    height: int
    caption: str = ""


def visit_photos(
    store: Store, visit_ids: Sequence[int], per_visit: int = PHOTOS_PER_VISIT
) -> dict[int, list[PrintPhoto]]:
    """The first ``per_visit`` active photos of each visit (their stored order)."""
    out: dict[int, list[PrintPhoto]] = {}
    ids = [int(v) for v in visit_ids if v is not None]
    if not ids:
        return out
    rows = store.conn.execute(
        "SELECT visit_id, thumbnail, caption FROM visit_photos WHERE status = 'active' "
        f"AND visit_id IN ({', '.join('?' * len(ids))}) ORDER BY visit_id, seq, id",
        ids,
    )
    for visit_id, thumb, caption in rows:
        got = out.setdefault(visit_id, [])
        if len(got) < per_visit and thumb:
            w, h = _upright_size(thumb)
            got.append(PrintPhoto(thumb, w, h, caption or ""))
    return out


def photo_count(n: int) -> str:
    """``4张（打印前3张）``: how many a visit has, and that only a few are printed."""
    if not n:
        return "无"
    return f"{n}张" + (f"（打印前{PHOTOS_PER_VISIT}张）" if n > PHOTOS_PER_VISIT else "")


def print_photos(photos: Sequence, per_visit: int = PHOTOS_PER_VISIT) -> list[PrintPhoto]:
    """The first ``per_visit`` of a loaded visit's photos (``models.visits.Photo``)."""
    out: list[PrintPhoto] = []
    for p in photos:
        if len(out) >= per_visit:
            break
        if p.thumbnail:
            w, h = _upright_size(p.thumbnail)
            out.append(PrintPhoto(p.thumbnail, w, h, p.caption or ""))
    return out


def _upright_size(data: bytes) -> tuple[int, int]:
    """The pixel size as the photo is meant to be seen (EXIF orientation 5-8 swap)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        w, h = im.size
        if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
            return h, w
        return w, h


def _reader(p: PrintPhoto) -> ImageReader:
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(p.thumbnail)) as im:
        return ImageReader(ImageOps.exif_transpose(im).convert("RGB"))


def photo_box(p: PrintPhoto) -> tuple[float, float]:
    """The printed size: one row height, aspect kept, never wider than PHOTO_MAX_W."""
    if p.width <= 0 or p.height <= 0:
        return PHOTO_MAX_W, PHOTO_H
    scale = min(PHOTO_H / p.height, PHOTO_MAX_W / p.width)
    return p.width * scale, p.height * scale


def draw_photos(pw: PageWriter, photos: Sequence[PrintPhoto], label: str = "") -> None:
    """One row of thumbnails (wrapping to more rows if the width runs out), captions below."""
    if not photos:
        return
    row_h = PHOTO_H + CAPTION_SIZE * 1.6
    if label:
        pw.ensure(row_h + 6 * mm)
        pw.y -= 5 * mm
        pw.text(LEFT, pw.y, label, 9)
    x = LEFT
    pw.ensure(row_h + 2 * mm)
    top = pw.y - 2 * mm
    for p in photos:
        w, h = photo_box(p)
        if x + w > RIGHT and x > LEFT:
            pw.y = top - row_h
            pw.ensure(row_h + 2 * mm)
            top, x = pw.y - 2 * mm, LEFT
        pw.c.drawImage(_reader(p), x, top - h, w, h)
        pw.rect(x, top - h, w, h)
        if p.caption:
            text = p.caption
            while text and pw.width(text, CAPTION_SIZE) > max(w, 20 * mm):
                text = text[:-1]
            pw.text(x, top - PHOTO_H - CAPTION_SIZE * 1.3, text, CAPTION_SIZE)
        x += max(w, 20 * mm) + GAP
    pw.y = top - row_h
