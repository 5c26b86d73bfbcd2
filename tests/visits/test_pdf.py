"""Batch PDFs: progress, cancel (no half-written file), fonts embedded."""

from __future__ import annotations

import subprocess

import pytest

from mzdesk.models.progress import Cancelled
from mzdesk.reports.booklet_pdf import village_household_ids, write_booklets
from mzdesk.reports.checklist_pdf import CheckEntry, write_checklists


def test_progress_reported_and_cancel_leaves_no_file(store, village, tmp_path):
    ids = village_household_ids(store, "红旗村")
    seen = []
    out = tmp_path / "v.pdf"
    pages = write_booklets(store, ids, out, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)] and pages >= 6
    out.unlink()
    calls = iter([False, True])
    with pytest.raises(Cancelled):
        write_booklets(store, ids, out, cancel=lambda: next(calls))
    assert [p for p in tmp_path.iterdir() if "pdf" in p.name] == []


def test_blank_checklists_one_per_household_all_fonts_embedded(store, village, tmp_path):
    out = tmp_path / "c.pdf"
    write_checklists(store, [CheckEntry(i) for i in village], out)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert text.count("入户调查/核查表（空白）") == len(village)
    # the form and its version as the clerk knows them, not the template's file id
    assert "表单：入户调查/核查表 第1版" in text and "home_visit" not in text
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(r.split()[-5] == "yes" for r in rows)
    assert "Helvetica" not in fonts


def test_blank_checklist_of_a_big_household_has_a_box_for_everyone(
    store, registry, today, tmp_path
):
    """在场家庭成员 for ten people: every name gets its box on the page (from the seventh
    on they ran off the right edge)."""
    import re

    from tests.helpers import household, make_id

    names = [
        "欧阳明月",
        "司马长风",
        "诸葛青云",
        "上官飞燕",
        "慕容秋水",
        "东方不白",
        "令狐小冲",
        "独孤求败",
        "公孙大娘",
        "西门吹雪",
    ]
    people = [
        (n, "户主" if i == 0 else "子", make_id("19700101", i + 1)) for i, n in enumerate(names)
    ]
    hid = registry.save(household("红旗村", *people, village_group="一组"), today).id
    out = tmp_path / "big.pdf"
    write_checklists(store, [CheckEntry(hid)], out)
    bbox = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-bbox", str(out), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    page_w = float(re.search(r'<page width="([0-9.]+)"', bbox)[1])
    words = re.findall(
        r'<word xMin="([0-9.]+)" yMin="[0-9.]+" xMax="([0-9.]+)"[^>]*>([^<]+)<', bbox
    )
    for name in names:  # once in the member table, once beside its box
        xs = [float(x1) for _x0, x1, w in words if w == name]
        assert len(xs) >= 2, name
        assert max(xs) < page_w - 10, name


def test_booklet_section_headings_stay_with_their_content(store, registry, today, tmp_path):
    """No page ends with a section heading whose table starts on the next page
    (八、走访记录 sat alone at the foot of page 2 for a household of three)."""
    import re

    from tests.helpers import household, make_id

    ids = []
    for n in range(1, 7):
        people = [
            (f"成员{k}", "户主" if k == 0 else "子", make_id("19700101", 10 * n + k))
            for k in range(n)
        ]
        ids.append(registry.save(household("红旗村", *people, phone="13800000000"), today).id)
    out = tmp_path / "b.pdf"
    write_booklets(store, ids, out, today=today)
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    heading = re.compile(r"^[一二三四五六七八九十]+、\S+$")
    for i, page in enumerate(text.split("\f")):
        lines = [ln.strip() for ln in page.splitlines() if ln.strip()]
        body = [ln for ln in lines if not re.search(r"关爱簿\s+第\d+页$", ln)]  # footer
        assert not (body and heading.match(body[-1])), f"page {i + 1} ends with {body[-1]}"
