"""The real notice PDF and xlsx, opened with pdftotext/pdffonts/openpyxl."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from mzdesk.models import notice as nt
from mzdesk.models.household import Household, Member
from mzdesk.models.ids import check_char
from mzdesk.models.progress import Cancelled
from mzdesk.models.registry import Registry
from mzdesk.reports.notice_pdf import layout, write_pdf
from mzdesk.reports.notice_xlsx import write_xlsx
from tests.enrolment.conftest import HOTLINE, ready
from tests.helpers import household, make_id

DEC1 = dt.date(2026, 12, 1)


def pdftext(path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdffonts(path) -> list[str]:
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()[2:]


def pages(text: str) -> list[str]:
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def many(registry, n, village="红旗村", start=1):
    out = []
    for i in range(start, start + n):
        h = household(
            village,
            (f"户主{i:04d}", "户主", make_id("19600101", i % 999)),
            village_group=f"{i % 5 + 1}组",
        )
        # unique IDs per household: vary the birth date
        h.members[0].id_number = make_id(f"1960{(i // 28) % 12 + 1:02d}{i % 28 + 1:02d}", i % 997)
        out.append(registry.save(h, today=dt.date(2026, 11, 23)))
    return out


def test_notice_pdf_text_fonts_and_no_id(store, family, single, tmp_path):
    ready(store, family.id)
    ready(
        store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理", fen=72000
    )
    nid = nt.create_notice(store, nt.NoticeSpec(DEC1, hotline=HOTLINE, issuer="青山镇人民政府"))
    out = tmp_path / "n.pdf"
    assert write_pdf(store, nid, out) == 1
    text = pdftext(out)
    flat = "".join(text.split())
    assert "青山镇2026年12月社会救助拟保障对象公示" in flat
    for needle in (
        "张三丰",
        "王老五",
        "2026年12月1日至2026年12月7日",
        HOTLINE,
        "青山镇人民政府",
        "红旗村（1人",
        "青山村（1人",
        "760.00",
        "农村低保二类",
        "特困全自理",
        "第1页共1页",
    ):
        assert needle in flat, needle
    assert "身份证号" not in flat and not re.search(r"\d{17}", flat)
    assert "3416231950" not in flat  # no ID fragment at all by default
    fonts = pdffonts(out)
    assert fonts and all(" yes " in line and "emb no" not in line for line in fonts), fonts
    assert not any("Helvetica" in line for line in fonts)


def test_notice_reprint_is_identical_and_frozen(store, registry, family, tmp_path):
    ready(store, family.id)
    nid = nt.create_notice(store, nt.NoticeSpec(DEC1, hotline=HOTLINE))
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    write_pdf(store, nid, a)
    h = registry.get(family.id)  # the household changes after the notice ...
    h.members[0].name = "张改名"
    h.village = "新村"
    registry.save(h, today=dt.date(2026, 12, 3))
    write_pdf(store, nid, b)  # ... the re-print still shows what was posted
    assert a.read_bytes() == b.read_bytes()
    assert "张三丰" in "".join(pdftext(b).split())


def test_masked_id_column_when_asked(store, family, tmp_path):
    ready(store, family.id)
    nid = nt.create_notice(store, nt.NoticeSpec(DEC1, hotline=HOTLINE, show_id=True))
    out = tmp_path / "n.pdf"
    write_pdf(store, nid, out)
    flat = "".join(pdftext(out).split())
    assert "身份证号" in flat and "341623********0016" in flat
    assert not re.search(r"\d{17}", flat) and "19500101" not in flat


def test_long_notice_pages_and_repeated_headers(store, registry, tmp_path):
    hs = many(registry, 70, "红旗村") + many(registry, 30, "青山村", start=500)
    for h in hs:
        ready(store, h.id, fen=45000, cls="三类")
    nid = nt.create_notice(store, nt.NoticeSpec(DEC1, hotline=HOTLINE))
    out = tmp_path / "long.pdf"
    total = write_pdf(store, nid, out)
    ps = pages(pdftext(out))
    assert len(ps) == total >= 4
    for i, p in enumerate(ps, 1):
        flat = "".join(p.split())
        assert f"第{i}页共{total}页" in flat
        assert "序号村组户主姓名" in flat, f"table header missing on page {i}"
        if i > 1:
            assert "公示（续）" in flat
    rows = re.findall(r"^\s*(\d+)\s+\S+村\d组", pdftext(out), re.M)
    assert [int(r) for r in rows] == list(range(1, 101))
    assert "青山村（续）" in "".join(pdftext(out).split()) or "红旗村（续）" in "".join(
        pdftext(out).split()
    )
    assert "监督电话" in "".join(ps[-1].split())

    # the clerk cancels a re-print halfway (the progress callback stops it): the notice
    # printed before stays whole, and no partial file is left beside it
    before = out.read_bytes()

    def cancel_on_page_2(page: int, of: int) -> None:
        if page == 2:
            raise Cancelled()

    with pytest.raises(Cancelled):
        write_pdf(store, nid, out, cancel_on_page_2)
    assert out.read_bytes() == before and not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("size, land", [("A4", True), ("A3", True)])
def test_landscape_sizes(store, family, tmp_path, size, land):
    ready(store, family.id)
    nid = nt.create_notice(
        store, nt.NoticeSpec(DEC1, hotline=HOTLINE, page_size=size, landscape=land)
    )
    out = tmp_path / "l.pdf"
    write_pdf(store, nid, out)
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    expected = {"A4": "841.89 x 595.276", "A3": "1190.55 x 841.89"}[size]
    assert expected in info


def test_notice_xlsx(store, family, single, tmp_path):
    ready(store, family.id)
    nid = nt.create_notice(store, nt.NoticeSpec(DEC1, hotline=HOTLINE))
    out = tmp_path / "n.xlsx"
    write_xlsx(store, nid, out)
    ws = load_workbook(out).active
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells[0] == "青山镇2026年12月农村低保拟保障对象公示"
    assert "张三丰" in cells and "760.00" in cells and f"监督电话：{HOTLINE}" in cells
    assert not any(re.search(r"\d{17}", c) for c in cells)
    # each village's heading reads as in the PDF of the same notice
    pdf = tmp_path / "n.pdf"
    write_pdf(store, nid, pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    headings = [c for c in cells if "保障人口" in c and "（" in c]
    assert headings and all(h in text for h in headings), headings


names = st.text(
    alphabet="张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁",
    min_size=2,
    max_size=4,
)


@st.composite
def people(draw):
    born = draw(st.dates(dt.date(1930, 1, 1), dt.date(2008, 12, 31)))
    seq = draw(st.integers(0, 999))
    body = f"341623{born:%Y%m%d}{seq:03d}"
    return draw(names), body + check_char(body)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batch=st.lists(people(), min_size=1, max_size=6, unique_by=lambda p: p[1]),
    show_id=st.booleans(),
)
def test_no_17_digit_run_in_any_notice(tmp_path_factory, batch, show_id):
    from mzdesk.models.site import init_site
    from mzdesk.models.store import Store

    d = tmp_path_factory.mktemp("prop")
    store = Store.open(d / "p.sqlite", operator="t")
    init_site(store, "341623101", "青山镇")
    reg = Registry(store)
    for i, (name, number) in enumerate(batch):
        h = Household(
            village=f"村{i % 3}", members=[Member(name=name, relation="户主", id_number=number)]
        )
        h.phone = "13800001111"
        h.bank_account = "6228480012345678901"
        h = reg.save(h, today=dt.date(2026, 11, 23))
        ready(store, h.id)
    nid = nt.create_notice(store, nt.NoticeSpec(DEC1, hotline="12345", show_id=show_id))
    out = d / "n.pdf"
    write_pdf(store, nid, out)
    flat = "".join(pdftext(out).split())
    assert not re.search(r"\d{17}", flat)
    assert "13800001111" not in flat and "622848" not in flat
    for name, number in batch:
        assert name in flat
        assert (number[:6] + "********" + number[-4:] in flat) == show_id
    store.close()


def _notice(villages: dict[str, int], landscape: bool) -> nt.Notice:
    items, seq = [], 0
    for village, n in villages.items():
        for _ in range(n):
            seq += 1
            items.append(
                nt.NoticeItem(
                    seq,
                    village,
                    "一组",
                    f"户主{seq}",
                    "",
                    2,
                    "rural_dibao",
                    "农村低保 二类",
                    45000,
                    "new",
                )
            )
    return nt.Notice(
        1,
        "u",
        "青山镇2026年12月农村低保拟保障对象公示",
        "青山镇",
        DEC1,
        DEC1 + dt.timedelta(days=6),
        HOTLINE,
        "青山镇民政办",
        "青山镇人民政府",
        DEC1,
        False,
        "A4",
        landscape,
        items,
    )


@pytest.mark.parametrize("landscape", [False, True])
@pytest.mark.parametrize("last", [1, 2])
def test_no_village_heading_left_without_rows_at_a_page_foot(landscape, last):
    """A short last village went over with the signature block, its heading and table
    header stayed behind, empty, at the foot of the page before."""
    for first in range(1, 40):
        n = _notice({"红旗村": first, "胜利村": last}, landscape)
        _lay, pages_ops = layout(n)
        for p, ops in enumerate(pages_ops, 1):
            kinds = [op[0] for op in ops]
            if "r" in kinds:  # a table header on this page: rows must follow it
                last_header = len(kinds) - 1 - kinds[::-1].index("r")
                after = kinds[last_header:]
                assert "g" in after, f"{first}+{last} rows: empty table at the foot of page {p}"


def test_short_last_village_prints_with_its_heading(tmp_path):
    from mzdesk.reports.notice_pdf import render

    for first in range(1, 40):  # the first count that moves 胜利村's rows to a new page
        n = _notice({"红旗村": first, "胜利村": 2}, True)
        if len(layout(n)[1]) > 1:
            break
    out = tmp_path / "n.pdf"
    render(n, out)
    for page in pages(pdftext(out)):
        flat = "".join(page.split())
        if "胜利村（" in flat:
            assert "户主" + str(first + 1) in flat, flat
