"""Printed booklets and checklists: visit photos small, the township on the cover, no "*"."""

from __future__ import annotations

import io
import re
import subprocess

from PIL import Image

from mzdesk.models.visits import Visit, Visits, load_photo
from mzdesk.reports.booklet_pdf import write_booklets
from mzdesk.reports.checklist_pdf import CheckEntry, write_checklists
from mzdesk.reports.visit_photos import PHOTOS_PER_VISIT, print_photos


def _photo(tmp_path, name, size, colour=(200, 80, 40), orientation=None):
    p = tmp_path / name
    im = Image.new("RGB", size, colour)
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        im.save(p, "JPEG", exif=exif)
    else:
        im.save(p, "JPEG")
    return load_photo(p, f"说明{name[:1]}")


def _visit_with_photos(store, hid, today, answers, photos):
    v = Visit(
        household_id=hid,
        visit_date=today,
        investigators=["王调查", "赵核查"],
        answers=dict(answers),
        conclusion="情况属实",
        photos=photos,
    )
    return Visits(store).save(v, today)


def _images(pdf) -> list[tuple[int, int]]:
    """(width, height) of each image drawn in the PDF (``pdfimages -list``)."""
    out = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    rows = [ln.split() for ln in out.splitlines()[2:] if ln.strip()]
    return [(int(r[3]), int(r[4])) for r in rows if r[2] == "image"]


def _text(pdf) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_booklet_and_checklist_print_a_few_small_photos(
    store, village, full_answers, today, tmp_path
):
    photos = [_photo(tmp_path, f"{i}.jpg", (1200, 800)) for i in range(5)]
    v = _visit_with_photos(store, village[0], today, full_answers, photos)

    booklet = tmp_path / "b.pdf"
    write_booklets(store, [village[0]], booklet, today=today)
    images = _images(booklet)
    assert len(images) == PHOTOS_PER_VISIT  # a few per visit, not all five
    assert all(max(w, h) <= 200 for w, h in images)  # the thumbnails, not the full photos
    assert "照片" in _text(booklet) and "说明0" in _text(booklet)

    sheet = tmp_path / "c.pdf"
    write_checklists(store, [CheckEntry(village[0], v.id)], sheet)
    assert len(_images(sheet)) == PHOTOS_PER_VISIT
    assert "5张（打印前3张）" in _text(sheet)
    # a blank sheet and a household without photos print no image
    blank = tmp_path / "blank.pdf"
    write_checklists(store, [CheckEntry(village[1])], blank)
    assert _images(blank) == []


def test_a_sideways_camera_photo_prints_upright(tmp_path):
    """A portrait photo stored landscape with EXIF orientation 6 prints portrait."""
    p = _photo(tmp_path, "p.jpg", (800, 600), orientation=6)
    (shown,) = print_photos([p])
    assert shown.height > shown.width
    im = Image.open(io.BytesIO(p.thumbnail))
    assert im.size[1] > im.size[0]


def test_booklet_cover_names_the_township_not_the_office(tmp_path, village, store, today):
    store.conn.execute("UPDATE site SET name = '青山镇民政办'")
    out = tmp_path / "b.pdf"
    write_booklets(store, [village[0]], out, today=today)
    cover = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(out), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "青山镇" in cover and "民政办" not in cover.split("本簿")[0]


def test_printed_checklist_has_no_required_markers(store, village, tmp_path, checklist):
    assert any(f.required for s in checklist.sections for f in s.fields)
    out = tmp_path / "c.pdf"
    write_checklists(store, [CheckEntry(village[0])], out)
    text = _text(out)
    # the only stars left are those of the masked ID numbers (341623********0010)
    assert re.findall(r"(?<!\*)\*(?!\*)", text) == []
    label = next(f.label for s in checklist.sections for f in s.fields if f.required)
    assert label[:4] in text
