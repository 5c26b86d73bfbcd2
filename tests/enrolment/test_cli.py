"""``mzdesk notice`` and ``mzdesk enrol``: the whole lifecycle from the command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mzdesk.cli import main
from tests.enrolment.conftest import HOTLINE
from tests.reviews.conftest import county_sets

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *args, ok=True) -> str:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert (code == 0) == ok, (code, out, err)
    if not ok:
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        return err
    return out


def test_lifecycle_and_notice_from_cli(store, family, single, tmp_path, capsys):
    county_sets(store, "on")  # the county's 民主评议 setting (default 视情)
    db = store.path
    store.close()
    d = ["--db", db]
    out = run(
        capsys,
        "enrol",
        "apply",
        *d,
        "--household",
        str(family.id),
        "--category",
        "rural_dibao",
        "--class",
        "二类",
        "--amount",
        "760",
        "--operator",
        "刘干事",
        "--date",
        "2026-11-01",
    )
    eid = int(re.search(r"保障记录(\d+)", out).group(1))
    assert "状态=申请" in out and "金额=760.00元" in out
    run(capsys, "enrol", "investigate", *d, str(eid))
    err = run(
        capsys,
        "enrol",
        "survey",
        *d,
        str(eid),
        "--investigator",
        "刘",
        "--verification",
        "通过",
        ok=False,
    )
    assert "至少需要两名" in err
    run(
        capsys,
        "enrol",
        "survey",
        *d,
        str(eid),
        "--investigator",
        "刘",
        "--investigator",
        "陈",
        "--verification",
        "核对通过",
        "--date",
        "2026-11-10",
    )
    err = run(
        capsys,
        "notice",
        *d,
        "--out",
        str(tmp_path / "x.pdf"),
        "--start",
        "2026-12-01",
        "--hotline",
        HOTLINE,
        ok=False,
    )
    assert "没有待公示" in err  # 低保 still needs its 民主评议
    run(capsys, "enrol", "deliberate", *d, str(eid), "--attendance", "15", "--result", "同意")
    pdf, xlsx = tmp_path / "n.pdf", tmp_path / "n.xlsx"
    out = run(
        capsys,
        "notice",
        *d,
        "--out",
        str(pdf),
        "--start",
        "2026-12-01",
        "--hotline",
        HOTLINE,
        "--xlsx",
        str(xlsx),
        "--paper",
        "A4L",
    )
    assert (
        "公示1「青山镇2026年12月农村低保拟保障对象公示」1条" in out
        and pdf.exists()
        and xlsx.exists()
    )
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "张三丰" in text and HOTLINE in text
    err = run(capsys, "enrol", "submit", *d, str(eid), "--date", "2026-12-05", ok=False)
    assert "尚未结束" in err
    run(
        capsys,
        "enrol",
        "object",
        *d,
        "1",
        str(eid),
        "--by",
        "村民甲",
        "--content",
        "有车",
        "--date",
        "2026-12-03",
    )
    err = run(capsys, "enrol", "submit", *d, str(eid), "--date", "2026-12-09", ok=False)
    assert "open_objection" in err
    run(capsys, "enrol", "resolve", *d, "1", "--follow-up", "已核实", "--outcome", "异议不成立")
    assert "待审核" in run(capsys, "enrol", "submit", *d, str(eid), "--date", "2026-12-09")
    out = run(capsys, "enrol", "confirm", *d, str(eid), "--date", "2026-12-15")
    assert "状态=在保" in out and "复核到期=2027-07-01" in out
    out = run(
        capsys,
        "enrol",
        "review",
        *d,
        str(eid),
        "--outcome",
        "change",
        "--amount",
        "500",
        "--reason",
        "收入增加",
        "--date",
        "2026-12-20",
    )
    assert "金额=500.00元" in out
    hist = json.loads(run(capsys, "enrol", "history", *d, str(eid)))
    assert [h["action"] for h in hist][-3:] == ["submit", "confirm", "review"]
    assert hist[0]["by"] == "刘干事"
    # re-print reproduces the posted notice byte for byte
    again = tmp_path / "again.pdf"
    run(capsys, "notice", *d, "--out", str(again), "--reprint", "1")
    assert again.read_bytes() == pdf.read_bytes()
    err = run(capsys, "enrol", "stop", *d, str(eid), ok=False)
    assert "停发必须填写原因" in err
    out = run(capsys, "enrol", "list", *d, "--household", str(family.id), "--json")
    assert json.loads(out)[0]["state"] == "active"
    err = run(
        capsys, "enrol", "apply", *d, "--household", str(single.id), "--category", "tekun", ok=False
    )
    assert "按人保障" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--days", "5"], "不得少于7天"),
        (["--hotline", ""], "监督电话"),
    ],
)
def test_notice_refusals(store, tmp_path, capsys, args, message):
    db = store.path
    store.close()
    err = run(capsys, "notice", "--db", db, "--out", str(tmp_path / "n.pdf"), *args, ok=False)
    assert message in err
    assert not (tmp_path / "n.pdf").exists()


def test_notice_is_a_real_command(store, tmp_path):
    """One real process: the command is registered and --help documents the options."""
    out = subprocess.run(
        [sys.executable, "-m", "mzdesk", "notice", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    for opt in ("--village", "--category", "--start", "--days", "--hotline", "--issuer", "--xlsx"):
        assert opt in out


@pytest.mark.parametrize("failing", ["pdf", "xlsx"])
def test_notice_whose_file_cannot_be_written_records_nothing(
    store, family, tmp_path, capsys, monkeypatch, failing
):
    """A full disk: no notice recorded, nothing moved to 公示, no file; the retry works."""
    import errno

    from mzdesk.reports import notice_pdf, notice_xlsx
    from tests.enrolment.conftest import ready

    eid = ready(store, family.id).id
    db = store.path
    store.close()
    module = notice_pdf if failing == "pdf" else notice_xlsx
    real = module.render

    def full_disk(n, out, *a, **kw):
        Path(out).write_bytes(b"%PDF-1.4 half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(module, "render", full_disk)
    pdf, xlsx = tmp_path / "n.pdf", tmp_path / "n.xlsx"
    args = [
        "notice",
        "--db",
        db,
        "--out",
        str(pdf),
        "--xlsx",
        str(xlsx),
        "--start",
        "2026-12-01",
        "--hotline",
        HOTLINE,
    ]
    err = run(capsys, *args, ok=False)
    assert "No space left" in err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("n.")) == []
    from mzdesk.models.store import Store

    s = Store.open(db, operator="t")
    assert s.scalar("SELECT count(*) FROM notices") == 0
    assert s.scalar("SELECT state FROM enrolments WHERE id = ?", (eid,)) == "reviewed"
    s.close()
    monkeypatch.setattr(module, "render", real)
    assert "公示1" in run(capsys, *args)
    assert pdf.exists() and xlsx.exists()
    assert "--reprint 编号 重新打印，最近一期为1" in run(capsys, *args, ok=False)


def test_notice_xlsx_on_a_full_disk_one_line_naming_it(
    store, family, tmp_path, capsys, monkeypatch
):
    import gc
    import zipfile

    from tests.enrolment.conftest import ready
    from tests.roster.test_roster_cli import _FullDisk

    ready(store, family.id)
    db = store.path
    store.close()
    real_open = zipfile.io.open

    def open_on_full_disk(file, mode="r", *a, **kw):
        if ".xlsx.part" in str(file) and "w" in mode:
            return _FullDisk(file, "w+")
        return real_open(file, mode, *a, **kw)

    unraisable = []
    monkeypatch.setattr(zipfile.io, "open", open_on_full_disk)
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    xlsx = tmp_path / "n.xlsx"
    err = run(
        capsys,
        "notice",
        "--db",
        db,
        "--out",
        str(tmp_path / "n.pdf"),
        "--xlsx",
        str(xlsx),
        "--start",
        "2026-12-01",
        "--hotline",
        HOTLINE,
        ok=False,
    )
    gc.collect()
    assert [u.exc_value for u in unraisable] == []
    assert "No space left" in err and f"{xlsx}：磁盘空间不足" in err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("n.")) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--days", "100000"], "不得超过60天"),
        (["--start", "2026-11-13"], "补录说明"),
        (["--start", "2026-10-01", "--backdate-reason", "10月1日已张贴"], "30天以上"),
    ],
)
def test_notice_period_limits(store, family, tmp_path, capsys, args, message):
    from tests.enrolment.conftest import ready

    ready(store, family.id)
    db = store.path
    store.close()
    err = run(
        capsys,
        "notice",
        "--db",
        db,
        "--out",
        str(tmp_path / "n.pdf"),
        "--hotline",
        HOTLINE,
        *args,
        ok=False,
    )
    assert message in err and not (tmp_path / "n.pdf").exists()


def test_backdated_paper_notice_is_recorded_with_its_reason(store, family, tmp_path, capsys):
    from tests.enrolment.conftest import ready

    eid = ready(store, family.id).id
    db = store.path
    store.close()
    run(
        capsys,
        "notice",
        "--db",
        db,
        "--out",
        str(tmp_path / "n.pdf"),
        "--hotline",
        HOTLINE,
        "--start",
        "2026-11-13",
        "--backdate-reason",
        "11月13日已在村务公开栏张贴纸质公示",
    )
    hist = json.loads(run(capsys, "enrol", "history", "--db", db, str(eid)))
    assert "已在村务公开栏张贴" in json.dumps(hist, ensure_ascii=False)


def test_enrol_apply_amount_above_the_limit_is_refused(store, family, capsys):
    db = store.path
    store.close()
    err = run(
        capsys,
        "enrol",
        "apply",
        "--db",
        db,
        "--household",
        str(family.id),
        "--category",
        "rural_dibao",
        "--amount",
        "99999999999",
        ok=False,
    )
    assert "超过上限" in err


def test_notice_unknown_category_lists_the_valid_ones(store, family, tmp_path, capsys):
    from tests.enrolment.conftest import ready

    ready(store, family.id)
    db = store.path
    store.close()
    base = ["notice", "--db", db, "--out", str(tmp_path / "n.pdf"), "--hotline", HOTLINE]
    err = run(capsys, *base, "--category", "nosuch", ok=False)
    assert "未知的救助类别: nosuch" in err and "rural_dibao（农村低保）" in err
    assert "1条" in run(capsys, *base, "--category", "农村低保")  # the name works too
