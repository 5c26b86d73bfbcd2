"""Batch PDFs: progress, cancel (no half-written file), fonts embedded."""

from __future__ import annotations

import subprocess

import pytest

from mzdesk.models.registry import Cancelled
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
