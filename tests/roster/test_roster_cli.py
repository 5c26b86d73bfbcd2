"""``mzdesk roster ...`` and ``mzdesk stats --month``: exit codes, report file, malformed input."""

from __future__ import annotations

import errno
import gc
import io
import json
import subprocess
import sys
import zipfile

import pytest

from mzdesk.cli import main
from tests.helpers import make_id
from tests.roster.books import bad_check, member_per_row


def run(capsys, *args) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def db(store):
    return store.path


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "roster.xlsx"
    member_per_row(
        path,
        [
            {
                "village": "甲村",
                "amount": 900,
                "members": [
                    ("甲", "户主", make_id("19600101", 1)),
                    ("乙", "配偶", bad_check(make_id("19610101", 2))),
                ],
            },
            {
                "village": "乙村",
                "amount": "450.50",
                "members": [("丙", "户主", make_id("19620101", 3))],
            },
        ],
    )
    return path


def counts(store):
    return (
        store.scalar("SELECT count(*) FROM households"),
        store.scalar("SELECT count(*) FROM import_batches"),
    )


def test_dry_run_reports_problems_and_exits_1(capsys, store, db, roster, tmp_path):
    report_path = tmp_path / "r.json"
    code, out, _ = run(
        capsys,
        "roster",
        "import",
        str(roster),
        "--db",
        db,
        "--dry-run",
        "--report",
        str(report_path),
    )
    assert code == 1 and "试运行" in out
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert (report["households"], report["members"]) == (2, 3)
    assert [(p["sheet"], p["row"], p["column"], p["code"]) for p in report["problems"]] == [
        ("农村低保", 4, "身份证号码", "id_checksum")
    ]
    assert set(report["problems"][0]) >= {"sheet", "row", "column", "value", "code"}
    assert counts(store) == (0, 0)


def test_import_applies_exits_0_then_undo(capsys, store, db, roster):
    code, out, _ = run(capsys, "roster", "import", str(roster), "--db", db, "--month", "2026-11")
    assert code == 0 and "新增 2 户" in out
    assert counts(store) == (2, 1)
    assert store.scalar("SELECT start_on FROM enrolments LIMIT 1") == "2026-11-01"
    code, out, _ = run(capsys, "roster", "import", str(roster), "--db", db)
    assert code == 0 and "未变 2 户" in out
    code, out, _ = run(capsys, "roster", "undo", "--db", db)
    assert code == 0 and "已撤销导入批次 2" in out


def test_clean_dry_run_exits_0(capsys, db, tmp_path):
    path = tmp_path / "ok.xlsx"
    member_per_row(path, [{"village": "甲村", "members": [("甲", "户主", make_id("19600101", 1))]}])
    code, _, _ = run(capsys, "roster", "import", str(path), "--db", db, "--dry-run")
    assert code == 0


def test_refused_import_exits_1_and_changes_nothing(capsys, store, db, tmp_path):
    path = tmp_path / "bad.xlsx"
    member_per_row(
        path,
        [{"village": "甲村", "amount": "abc", "members": [("甲", "户主", make_id("19600101", 1))]}],
    )
    code, _, err = run(capsys, "roster", "import", str(path), "--db", db)
    assert code == 1 and "金额无效 1处" in err and len(err.strip().splitlines()) == 1
    assert counts(store) == (0, 0)


def _file(path, data: bytes):
    path.write_bytes(data)
    return path


def _truncated(tmp_path):
    good = tmp_path / "good.xlsx"
    member_per_row(good, [{"village": "甲村", "members": [("甲", "户主", make_id("19600101", 1))]}])
    data = good.read_bytes()
    p = tmp_path / "truncated.xlsx"
    p.write_bytes(data[: len(data) // 2])
    return p


def _encrypted(tmp_path):
    """Shaped like Excel's 'encrypt with password': an OLE2 container holding
    EncryptionInfo and EncryptedPackage streams instead of a zip."""
    p = tmp_path / "locked.xlsx"
    body = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    body += "EncryptionInfo".encode("utf-16-le") + b"\x00" * 50
    body += "EncryptedPackage".encode("utf-16-le") + b"\x00" * 4000
    p.write_bytes(body)
    return p


def _zip_not_workbook(tmp_path):
    p = tmp_path / "docs.xlsx"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("readme.txt", "hello")
    return p


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda t: _file(t / "empty.xlsx", b""), "空"),
        (lambda t: _file(t / "notes.xlsx", "姓名,身份证号\n".encode()), "不是Excel"),
        (lambda t: _file(t / "a.pdf", b"%PDF-1.4\n"), "不是Excel"),
        (_truncated, "损坏"),
        (_encrypted, "密码"),
        (_zip_not_workbook, "不是Excel"),
        (lambda t: t / "missing.xlsx", "不存在"),
    ],
)
def test_malformed_workbooks_exit_2_with_one_line(capsys, store, db, tmp_path, make, words):
    path = make(tmp_path)
    code, out, err = run(capsys, "roster", "import", str(path), "--db", db)
    assert code == 2, (out, err)
    assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert counts(store) == (0, 0)


def test_real_password_protected_workbook_exits_2(capsys, store, db, tmp_path):
    """Encrypted the way Excel does it ("用密码进行加密"), by msoffcrypto-tool."""
    from msoffcrypto.format import ooxml  # dev dependency (pyproject [dev])

    plain = tmp_path / "plain.xlsx"
    member_per_row(
        plain, [{"village": "甲村", "members": [("甲", "户主", make_id("19600101", 1))]}]
    )
    locked = tmp_path / "locked.xlsx"
    with open(plain, "rb") as src, open(locked, "wb") as dst:
        ooxml.OOXMLFile(src).encrypt("secret", dst)
    code, _, err = run(capsys, "roster", "import", str(locked), "--db", db)
    assert code == 2 and "密码" in err
    assert counts(store) == (0, 0)


def test_workbook_without_any_roster_exits_2(capsys, db, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["会议记录", "2026-11-01"])
    wb.save(tmp_path / "other.xlsx")
    code, _, err = run(capsys, "roster", "import", str(tmp_path / "other.xlsx"), "--db", db)
    assert code == 2 and "表头" in err


def test_mapping_file(capsys, db, tmp_path):
    path = tmp_path / "x.xlsx"
    member_per_row(
        path,
        [{"village": "甲村", "members": [("甲", "户主", make_id("19600101", 1))]}],
        sheet="Sheet1",
        title_rows=0,
    )
    code, _, _ = run(capsys, "roster", "import", str(path), "--db", db, "--dry-run")
    assert code == 1  # no category anywhere
    m = tmp_path / "m.json"
    m.write_text(json.dumps({"category": "农村低保"}, ensure_ascii=False), encoding="utf-8")
    code, _, _ = run(
        capsys, "roster", "import", str(path), "--db", db, "--dry-run", "--mapping", str(m)
    )
    assert code == 0


def test_export_and_stats_month(capsys, store, db, roster, tmp_path):
    run(capsys, "roster", "import", str(roster), "--db", db, "--month", "2026-11")
    out = tmp_path / "q.xlsx"
    code, text, _ = run(
        capsys,
        "roster",
        "export",
        "--db",
        db,
        "--month",
        "2026-11",
        "--category",
        "rural_dibao",
        "--out",
        str(out),
    )
    assert code == 0 and out.exists() and "1350.50" in text
    code, text, _ = run(
        capsys,
        "stats",
        "--db",
        db,
        "--month",
        "2026-11",
        "--json",
        "--out",
        str(tmp_path / "s.xlsx"),
    )
    data = json.loads(text)
    assert code == 0 and data["totals"]["rural_dibao"]["monthly_fen"] == 135050
    assert (tmp_path / "s.xlsx").exists()
    code, _, err = run(capsys, "stats", "--db", db, "--month", "11/2026")
    assert code == 2 and "YYYY-MM" in err


def test_stats_without_month_is_unchanged(capsys, db, roster):
    run(capsys, "roster", "import", str(roster), "--db", db)
    code, text, _ = run(capsys, "stats", "--db", db)
    assert code == 0
    assert text == "家庭 2 户，成员 3 人，村(社区) 2 个，身份证待核实 1 人\n"


def test_help_mentions_every_option(capsys):
    code, text, _ = run(capsys, "roster", "import", "--help")
    assert code == 0
    for opt in ("--dry-run", "--report", "--mapping", "--db"):
        assert opt in text


def test_subprocess_exit_code_2():
    """The installed entry point, as a clerk's script would call it."""
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "mzdesk",
            "roster",
            "import",
            "/nonexistent.xlsx",
            "--db",
            "/tmp/never-created-mzdesk.sqlite",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2, r.stderr
    assert "不存在" in r.stderr


def test_report_folder_that_does_not_exist_is_refused_before_importing(
    capsys, store, db, roster, tmp_path
):
    code, _, err = run(
        capsys,
        "roster",
        "import",
        str(roster),
        "--db",
        db,
        "--report",
        str(tmp_path / "nodir" / "r.json"),
    )
    assert code != 0 and "保存位置不存在" in err and len(err.strip().splitlines()) == 1
    assert counts(store) == (0, 0)
    assert not (tmp_path / "nodir").exists()


class _FullDisk(io.FileIO):
    """A file on a disk that fills up after a few kilobytes."""

    room = 3000
    full = False

    def write(self, data):
        if self.full or self.tell() + len(data) > self.room:
            self.full = True  # and stays full: the zip's closing record fails too
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)


@pytest.mark.parametrize(
    "command",
    [
        ["roster", "export", "--month", "2026-11"],
        ["roster", "registry"],
        ["stats", "--month", "2026-11"],
    ],
)
def test_full_disk_gives_one_line_naming_the_file_and_no_traceback(
    capsys, db, roster, tmp_path, monkeypatch, command
):
    run(capsys, "roster", "import", str(roster), "--db", db, "--month", "2026-11")
    real_open = io.open

    def open_on_full_disk(file, mode="r", *a, **kw):
        if str(file).endswith(".xlsx.part") and "w" in mode:
            return _FullDisk(file, "w+")
        return real_open(file, mode, *a, **kw)

    unraisable = []
    monkeypatch.setattr(zipfile.io, "open", open_on_full_disk)
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    out = tmp_path / "q.xlsx"
    code, _, err = run(capsys, *command, "--db", db, "--out", str(out))
    gc.collect()
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert [u.exc_value for u in unraisable] == [] and list(tmp_path.glob("q.xlsx*")) == []
    assert "No space left" in err and str(out) in err
    assert "磁盘空间不足" in err  # said in Chinese too (files.os_reason, as the window says it)


@pytest.mark.parametrize("month", ["26-1", "2026-11-99", "2026-13", "2026-0", "1900-01", "202611"])
def test_month_must_be_year_and_month(capsys, db, month):
    for command in (
        ["stats", "--month", month],
        ["roster", "export", "--month", month, "--out", "x.xlsx"],
    ):
        code, _, err = run(capsys, *command, "--db", db)
        assert code == 2 and ("YYYY-MM" in err or "年份" in err), err
        assert "内部错误" not in err and len(err.strip().splitlines()) == 1


def test_month_accepts_a_single_digit_month():
    import datetime as dt

    from mzdesk.roster.monthly import parse_month

    assert parse_month(" 2026-1 ") == parse_month("2026-01") == dt.date(2026, 1, 1)


@pytest.mark.parametrize(
    "mapping, where",
    [
        ([1, 2], "整个文件"),
        ({"header_row": "x"}, "header_row"),
        ({"header_row": 0}, "header_row"),
        ({"columns": ["A"]}, "columns"),
        ({"columns": {"I": 5}}, "columns.I"),
        ({"sheets": {"Sheet1": {"header_row": True}}}, "sheets.Sheet1.header_row"),
        ({"category": 3}, "category"),
        ({"headerrow": 3}, "headerrow"),
    ],
)
def test_bad_mapping_file_names_the_wrong_key(capsys, db, roster, tmp_path, mapping, where):
    m = tmp_path / "m.json"
    m.write_text(json.dumps(mapping), encoding="utf-8")
    code, _, err = run(capsys, "roster", "import", str(roster), "--db", db, "--mapping", str(m))
    assert code == 1 and "bad_mapping" in err and f"{where} 无效" in err, err
    assert "内部错误" not in err and len(err.strip().splitlines()) == 1


def test_no_header_names_the_file_and_its_sheets(capsys, db, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "会议"
    wb.active.append(["会议记录", "2026-11-01"])
    wb.save(tmp_path / "other.xlsx")
    code, _, err = run(capsys, "roster", "import", str(tmp_path / "other.xlsx"), "--db", db)
    assert code == 2 and "other.xlsx" in err and "“会议”" in err and "表头" in err


def test_formula_without_a_saved_value_is_named_as_such(capsys, db, tmp_path):
    """openpyxl (and other programs) write formulas without their result: the cell is not
    empty, it needs opening and saving in Excel."""
    path = tmp_path / "f.xlsx"
    member_per_row(
        path,
        [
            {
                "village": "甲村",
                "amount": "=450+50",
                "members": [("甲", "户主", make_id("19600101", 1))],
            }
        ],
    )
    report = tmp_path / "r.json"
    code, _, _ = run(
        capsys, "roster", "import", str(path), "--db", db, "--dry-run", "--report", str(report)
    )
    problems = json.loads(report.read_text(encoding="utf-8"))["problems"]
    assert code == 1 and [(p["code"], p["row"], p["column_letter"]) for p in problems] == [
        ("formula_no_value", 3, "J")
    ]
    assert "=450+50" in problems[0]["message"] and "保存" in problems[0]["message"]
    assert "为空" not in problems[0]["message"]


def test_export_takes_every_category_the_database_knows(capsys, store, db, roster, tmp_path):
    """``--category`` by code or name, the township's own categories included; an unknown
    one is refused with the list of valid ones (it used to know the shipped list only)."""
    run(capsys, "roster", "import", str(roster), "--db", db, "--month", "2026-11")
    code, _, _ = run(
        capsys,
        "enrol",
        "category-add",
        "county_aid",
        "--name",
        "县困难群众补贴",
        "--unit",
        "household",
        "--db",
        db,
    )
    assert code == 0
    hid = store.scalar("SELECT min(id) FROM households")
    stamp = store.stamp(new=True)
    store.conn.execute(
        "INSERT INTO enrolments (uid, household_id, category, class, state, covered, "
        "monthly_fen, start_on, created_at, updated_at, created_by, updated_by) "
        "VALUES ('local-1', ?, 'county_aid', '', 'active', 2, 30000, '2026-11-01', ?, ?, ?, ?)",
        (hid, stamp["created_at"], stamp["updated_at"], stamp["created_by"], stamp["updated_by"]),
    )
    for asked in ("county_aid", "县困难群众补贴", "农村低保"):
        out = tmp_path / f"{asked}.xlsx"
        code, text, err = run(
            capsys,
            "roster",
            "export",
            "--db",
            db,
            "--month",
            "2026-11",
            "--category",
            asked,
            "--out",
            str(out),
        )
        assert code == 0 and out.exists(), err
    assert (
        "300.00"
        in run(
            capsys,
            "roster",
            "export",
            "--db",
            db,
            "--month",
            "2026-11",
            "--category",
            "county_aid",
            "--out",
            str(out),
        )[1]
    )
    code, _, err = run(
        capsys,
        "roster",
        "export",
        "--db",
        db,
        "--month",
        "2026-11",
        "--category",
        "nonsense",
        "--out",
        str(tmp_path / "n.xlsx"),
    )
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "unknown_category" in err and "county_aid（县困难群众补贴）" in err
    assert "rural_dibao（农村低保）" in err and not (tmp_path / "n.xlsx").exists()


@pytest.mark.parametrize("place", ["full disk", "read-only folder"])
@pytest.mark.parametrize("suffix", [".pdf", ".xlsx"])
def test_stats_file_that_cannot_be_written_is_one_clear_line_and_no_file(
    store, roster, tmp_path, place, suffix
):
    """A real full disk (a 2 MB tmpfs filled up) and a real read-only folder, in a real
    process: one line naming the file asked for and why in Chinese; nothing left behind."""
    from mzdesk.roster.importer import import_roster
    from tests.places import read_only_folder, small_disk

    import_roster(store, roster, month=__import__("datetime").date(2026, 11, 1))
    folder = tmp_path / "usb"
    folder.mkdir()
    out = folder / f"统计{suffix}"
    if place == "full disk":
        where, reason = small_disk(folder), "磁盘空间不足"
    else:
        where, reason = read_only_folder(folder), "磁盘是只读的"
    with where:
        before = sorted(p.name for p in folder.iterdir())
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "mzdesk",
                "stats",
                "--db",
                store.path,
                "--month",
                "2026-11",
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
        )
        assert proc.returncode == 1 and proc.stdout == "", proc.stdout
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr  # no traceback, no "Exception ignored"
        assert f"{out}：{reason}" in lines[0], lines[0]  # the file as asked, then why
        assert sorted(p.name for p in folder.iterdir()) == before
