"""补贴清册 and roster exports read back; monthly statistics reconcile with enrolments."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
from decimal import Decimal

import openpyxl
import pytest

from mzdesk.models import enrolment as enr
from mzdesk.models.categories import add_local_category
from mzdesk.models.store import new_uid
from mzdesk.roster.exporter import (
    export_monthly_stats,
    export_payment_roster,
    export_registry,
    export_rows,
    yuan,
)
from mzdesk.roster.monthly import monthly_stats, paid_enrolments, summary_lines, write_pdf
from tests.helpers import household, make_id, require_tool

NOV = dt.date(2026, 11, 1)


def enrol(
    store, hid, category, fen, start, end=None, state="active", covered=2, member=None, cls=""
):
    stamp = store.stamp(new=True)
    store.conn.execute(
        "INSERT INTO enrolments (uid, household_id, member_id, category, class, state, covered, "
        "monthly_fen, start_on, end_on, created_at, updated_at, created_by, updated_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            new_uid(),
            hid,
            member,
            category,
            cls,
            state,
            covered,
            fen,
            start,
            end,
            stamp["created_at"],
            stamp["updated_at"],
            stamp["created_by"],
            stamp["updated_by"],
        ),
    )


@pytest.fixture
def township(store, registry):
    """Four households in two villages with enrolments that start, stop and never pay."""
    hids = []
    for i, village in enumerate(["红旗村", "红旗村", "向阳村", "向阳村"]):
        h = household(
            village,
            (f"户主{i}", "户主", make_id("19600101", 2 * i + 1)),
            (f"配偶{i}", "配偶", make_id("19610101", 2 * i + 2)),
            bank_account=f"62170000123456789{i:02d}",
        )
        hids.append(registry.save(h).id)
    enrol(store, hids[0], "rural_dibao", 80000, "2026-01-01", cls="一类")  # all year
    enrol(store, hids[1], "rural_dibao", 60000, "2026-11-01", covered=1)  # new in Nov
    enrol(
        store, hids[2], "rural_dibao", 45000, "2025-07-01", "2026-11-30", state="stopped", covered=3
    )  # stopped end of Nov
    enrol(store, hids[3], "rural_dibao", 99900, "2026-03-01", "2026-08-31", state="stopped")
    enrol(store, hids[3], "rural_dibao", 12300, "2026-12-01")  # starts later: not in Nov
    head3 = store.scalar(
        "SELECT id FROM members WHERE household_id = ? AND relation = '户主'", (hids[3],)
    )
    enrol(store, hids[3], "elderly", 5000, "2026-06-01", covered=1, member=head3)
    enrol(store, hids[0], "rural_dibao", 1, "2026-01-01", state="applied")  # never paid
    return hids


def test_monthly_stats_reconcile_with_enrolments(store, township):
    s = monthly_stats(store, NOV)
    t = s["totals"]["rural_dibao"]
    assert (t["households"], t["persons"], t["monthly_fen"]) == (
        3,
        2 + 1 + 3,
        80000 + 60000 + 45000,
    )
    assert (t["new"], t["stopped"]) == (1, 1)
    assert t["avg_fen"] == 30833  # 185000 / 6 = 308.333 -> 308.33
    # Jan-Nov: 11 months x 2 persons + 1 x 1 + 11 months (Jan-Nov) x 3 + 6 months (Mar-Aug) x 2
    assert t["ytd_person_months"] == 22 + 1 + 33 + 12
    assert t["ytd_fen"] == 11 * 80000 + 60000 + 11 * 45000 + 6 * 99900
    by_village = {r["village"]: r for r in s["rows"] if r["category"] == "rural_dibao"}
    assert by_village["红旗村"]["persons"] == 3 and by_village["向阳村"]["households"] == 1
    e = s["totals"]["elderly"]
    assert (e["households"], e["persons"], e["monthly_fen"], e["ytd_person_months"]) == (
        1,
        1,
        5000,
        6,
    )
    assert s["total"]["monthly_fen"] == 185000 + 5000
    # the same rule as the payment roster, and the same as plain SQL over enrolments
    paid = paid_enrolments(store, NOV, "rural_dibao")
    assert sum(r["monthly_fen"] for r in paid) == t["monthly_fen"]
    assert (
        store.scalar(
            "SELECT sum(monthly_fen) FROM enrolments WHERE category = 'rural_dibao' AND state IN "
            "('active','stopped') AND start_on <= '2026-11-30' AND (end_on IS NULL OR "
            "end_on >= '2026-11-01')"
        )
        == t["monthly_fen"]
    )
    dec = monthly_stats(store, dt.date(2026, 12, 1))["totals"]["rural_dibao"]
    assert (dec["households"], dec["stopped"], dec["new"]) == (3, 0, 1)


def test_stats_follow_the_lifecycle_service(store, registry, today):
    """An enrolment confirmed through mzdesk.models.enrolment is counted from its start."""
    hid = registry.save(household("东村", ("甲", "户主", make_id("19500101", 1)))).id
    e = enr.create(store, hid, "rural_dibao", cls="二类", monthly_fen=42000)
    store.conn.execute(
        "UPDATE enrolments SET state = 'active', start_on = '2026-10-01' WHERE id = ?", (e.id,)
    )
    assert monthly_stats(store, NOV)["totals"]["rural_dibao"]["monthly_fen"] == 42000
    enr.stop(store, e.id, "收入增加", today=dt.date(2026, 11, 20))
    assert monthly_stats(store, NOV)["totals"]["rural_dibao"]["stopped"] == 1
    dec = monthly_stats(store, dt.date(2026, 12, 1))["totals"]["rural_dibao"]
    assert (dec["households"], dec["monthly_fen"], dec["ytd_person_months"]) == (0, 0, 2)
    assert dec["ytd_fen"] == 2 * 42000  # paid for October and November


def test_payment_roster_ids_and_accounts_are_text(store, township, tmp_path):
    out = tmp_path / "清册.xlsx"
    res = export_payment_roster(store, NOV, out)
    assert res["sheets"] == ["农村低保", "高龄津贴"]
    assert res["total_fen"] == 190000
    wb = openpyxl.load_workbook(out)
    ws = wb["农村低保"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][4] == "身份证号码"
    data = rows[2:-1]
    assert len(data) == 3
    for i, r in enumerate(data, start=3):
        assert isinstance(r[4], str) and len(r[4]) == 18
        assert ws.cell(i, 5).data_type == "s" and ws.cell(i, 5).number_format == "@"
        assert ws.cell(i, 7).data_type == "s" and r[6].startswith("6217")
    assert rows[-1][0] == "合计" and Decimal(str(rows[-1][9])) == Decimal("1850.00")
    assert rows[-1][8] == 6
    elderly = list(wb["高龄津贴"].iter_rows(values_only=True))
    assert elderly[2][3] == "户主3"  # person unit: the person, not the head by default


def test_export_refuses_unknown_category_and_leaves_no_file(store, township, tmp_path):
    out = tmp_path / "x.xlsx"
    with pytest.raises(Exception, match="未知的救助类别"):
        export_payment_roster(store, NOV, out, category="nope")
    with pytest.raises(Exception, match="没有在保对象"):
        export_payment_roster(store, dt.date(2020, 1, 1), out)
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_registry_export_and_generic_list(store, township, tmp_path):
    res = export_registry(store, tmp_path / "r.xlsx")
    assert res == {"households": 4, "members": 8}
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    members = list(wb["成员花名册"].iter_rows(values_only=True))
    assert make_id("19600101", 1) in {r[6] for r in members[1:]}
    n = export_rows(
        tmp_path / "l.xlsx",
        ["姓名", "身份证号", "金额"],
        [("甲", "34162319600101001X", yuan(12345))],
        text_cols=(1,),
        money_cols=(2,),
    )
    assert n == 1
    ws = openpyxl.load_workbook(tmp_path / "l.xlsx").active
    assert ws["B2"].value == "34162319600101001X" and ws["C2"].value == 123.45


def test_stats_pdf_has_the_figures(store, township, tmp_path):
    require_tool("pdftotext")
    write_pdf(monthly_stats(store, NOV), tmp_path / "s.pdf", "青山镇")
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "s.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "农村低保" in text and "1850.00" in text and "308.33" in text


def test_a_stats_pdf_that_fails_halfway_leaves_the_earlier_file_as_it_was(
    store, township, tmp_path, monkeypatch
):
    """Written over an earlier report on a USB stick that fills up: the earlier report
    stays whole and no partial file is left (it used to be overwritten in place)."""
    from reportlab.pdfgen.canvas import Canvas

    out = tmp_path / "s.pdf"
    write_pdf(monthly_stats(store, NOV), out, "青山镇")
    before = out.read_bytes()

    def disk_full(self):
        with open(self._filename, "wb") as fh:
            fh.write(b"%PDF-1.4 truncat")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Canvas, "save", disk_full)
    with pytest.raises(OSError):
        write_pdf(monthly_stats(store, NOV), out, "青山镇")
    assert out.read_bytes() == before and not list(tmp_path.glob("*.part"))


@pytest.mark.slow
def test_libreoffice_reads_ids_back_as_text(store, township, tmp_path):
    soffice = require_tool("soffice", "libreoffice")
    out = tmp_path / "qc.xlsx"
    export_payment_roster(store, NOV, out, category="rural_dibao")
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1",
            "--outdir",
            str(tmp_path),
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    with open(tmp_path / "qc.csv", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    ids_back = [r[4] for r in rows[2:-1]]
    assert ids_back == [r["id_number"] for r in paid_enrolments(store, NOV, "rural_dibao")]
    assert all(len(i) == 18 and "E" not in i for i in ids_back)
    assert rows[2][6].startswith("6217") and len(rows[2][6]) == 19


# -- the township's own categories (本地类别) are paid and counted like the shipped ones -----
def test_the_clearing_list_and_statistics_know_the_townships_own_categories(
    store, township, tmp_path
):
    from mzdesk.models.errors import MzError

    add_local_category(store, "county_aid", "县困难群众补贴", unit="household")
    enrol(store, township[1], "county_aid", 30000, "2026-10-01")
    for asked in ("county_aid", "县困难群众补贴"):  # by code or by name
        out = tmp_path / f"{asked}.xlsx"
        res = export_payment_roster(store, NOV, out, category=asked)
        assert (res["rows"], res["total_fen"], res["sheets"]) == (1, 30000, ["县困难群众补贴"])
        ws = openpyxl.load_workbook(out).active
        assert ws["A1"].value.endswith("县困难群众补贴补贴发放清册") and ws["J3"].value == 300
    # the whole month: the local category is paid too, after the shipped ones
    res = export_payment_roster(store, NOV, tmp_path / "all.xlsx")
    assert res["sheets"] == ["农村低保", "高龄津贴", "县困难群众补贴"]
    assert res["total_fen"] == 80000 + 60000 + 45000 + 5000 + 30000
    stats = monthly_stats(store, NOV)
    assert stats["totals"]["county_aid"]["category_name"] == "县困难群众补贴"
    assert stats["total"]["monthly_fen"] == res["total_fen"]
    with pytest.raises(MzError) as info:
        export_payment_roster(store, NOV, tmp_path / "x.xlsx", category="县补贴")
    assert info.value.code == "unknown_category"
    assert "county_aid（县困难群众补贴）" in str(info.value) and "rural_dibao（农村低保）" in str(
        info.value
    )
    assert not (tmp_path / "x.xlsx").exists()


# -- a review's change applies from the next month; the months before keep their terms -----
def test_a_review_change_applies_from_the_next_month_and_earlier_months_keep_theirs(
    store, registry, tmp_path
):
    """Reviewed on 15 November from 800.00 元 for 2 persons (一类) to 600.00 元 for 1 (二类):
    November is paid as before, like a stop, and the year's totals count 800.00 元 for
    January to November.  They were all counted at the new amount, the past months too."""
    hid = registry.save(
        household(
            "东村", ("甲", "户主", make_id("19500101", 1)), ("乙", "配偶", make_id("19510101", 2))
        )
    ).id
    enrol(store, hid, "rural_dibao", 80000, "2026-01-01", cls="一类")
    eid = store.scalar("SELECT id FROM enrolments WHERE household_id = ?", (hid,))
    enr.review(
        store,
        eid,
        "change",
        today=dt.date(2026, 11, 15),
        reason="收入增加",
        monthly_fen=60000,
        covered=1,
        cls="二类",
    )
    figures = {}
    for month in (dt.date(2026, 10, 1), NOV, dt.date(2026, 12, 1)):
        t = monthly_stats(store, month)["totals"]["rural_dibao"]
        figures[month.month] = (
            t["persons"],
            t["monthly_fen"],
            t["avg_fen"],
            t["ytd_person_months"],
            t["ytd_fen"],
        )
    assert figures == {
        10: (2, 80000, 40000, 20, 10 * 80000),
        11: (2, 80000, 40000, 22, 11 * 80000),
        12: (1, 60000, 60000, 23, 11 * 80000 + 60000),
    }
    for month, expected in ((NOV, ("一类", 2, 800)), (dt.date(2026, 12, 1), ("二类", 1, 600))):
        out = tmp_path / f"{month.month}.xlsx"
        export_payment_roster(store, month, out)
        row = list(openpyxl.load_workbook(out)["农村低保"].iter_rows(values_only=True))[2]
        assert (row[7], row[8], row[9]) == expected


def test_the_clearing_lists_total_counts_households_as_the_statistics_do(store, registry, tmp_path):
    """Two 特困 persons of one household: the sheet's 合计 says 1户 with 2 persons, as the
    statistics' 户数 and 人数 do (it said 2户, one per row)."""
    hid = registry.save(
        household(
            "东村", ("甲", "户主", make_id("19400101", 1)), ("乙", "配偶", make_id("19410101", 2))
        )
    ).id
    for relation, fen, cls in (("户主", 120000, "全自理"), ("配偶", 150000, "全护理")):
        mid = store.scalar(
            "SELECT id FROM members WHERE household_id = ? AND relation = ?", (hid, relation)
        )
        enrol(store, hid, "tekun", fen, "2026-01-01", covered=1, member=mid, cls=cls)
    export_payment_roster(store, NOV, tmp_path / "q.xlsx")
    rows = list(
        openpyxl.load_workbook(tmp_path / "q.xlsx")["特困人员供养"].iter_rows(values_only=True)
    )
    assert [r[3] for r in rows[2:-1]] == ["甲", "乙"]
    assert (rows[-1][0], rows[-1][1], rows[-1][8], rows[-1][9]) == ("合计", "1户", 2, 2700)
    t = monthly_stats(store, NOV)["totals"]["tekun"]
    assert (t["households"], t["persons"], t["monthly_fen"]) == (1, 2, 270000)


def test_january_and_person_categories_read_as_a_clerk_writes_them(store, township, tmp_path):
    """January's 累计 is '1月累计' (it said '1-1月'); a 特困 or 高龄 person added is 新增1人,
    not 1户; the title is '2026年1月', not '2026年01月' — in the text, the PDF and the xlsx."""
    require_tool("pdftotext")
    jan = monthly_stats(store, dt.date(2026, 1, 1))
    # 户主0 (2 persons, 800.00) and 户主2 (3 persons, 450.00, paid since 2025)
    assert [line.split("，")[-1] for line in summary_lines(jan)] == ["1月累计5人次、1250.00元"]
    june = summary_lines(monthly_stats(store, dt.date(2026, 6, 1)))
    assert "高龄津贴对象1户1人" in june[1] and "新增1人、停发0人，1-6月累计1人次" in june[1]
    assert "新增0户、停发0户" in june[0]
    write_pdf(jan, tmp_path / "jan.pdf", "青山镇")
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "jan.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "青山镇2026年1月社会救助统计" in text and "1月累计5人次" in text and "1-1月" not in text
    export_monthly_stats(jan, tmp_path / "jan.xlsx", "青山镇")
    assert openpyxl.load_workbook(tmp_path / "jan.xlsx").active["A1"].value == (
        "青山镇2026年1月社会救助统计"
    )


def test_the_clearing_list_and_statistics_print_every_column_on_one_a4_page(
    store, township, tmp_path
):
    """Printed as saved (LibreOffice, Excel): landscape A4, all columns fitted across, so a
    row's name and amount are on one sheet of paper (portrait put 开户银行…金额(元) on a
    page of their own), and the statistics' columns wide enough for 特困人员供养 and
    当月金额(元) (they were cut at the default width)."""
    export_payment_roster(store, NOV, tmp_path / "q.xlsx")
    export_monthly_stats(monthly_stats(store, NOV), tmp_path / "s.xlsx", "青山镇")
    for name in ("q.xlsx", "s.xlsx"):
        for ws in openpyxl.load_workbook(tmp_path / name):
            assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
            assert ws.sheet_properties.pageSetUpPr.fitToPage
            assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    ws = openpyxl.load_workbook(tmp_path / "s.xlsx").active
    assert ws.column_dimensions["A"].width >= 2 * len("特困人员供养")
    assert ws.column_dimensions["E"].width >= 2 * len("当月金额(元)")
