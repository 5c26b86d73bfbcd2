"""CLI: mzdesk booklet / checklist / sample."""

from __future__ import annotations

import json
import subprocess

import pytest

from mzdesk.cli import main
from mzdesk.models.visits import Visit, Visits


def run(capsys, *args) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def pdftext(path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def embedded_fonts_only(path) -> bool:
    lines = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    return bool(lines) and all(ln.split()[-5] == "yes" for ln in lines)


def test_booklet_household_and_village(capsys, store, village, tmp_path):
    db = store.path
    out = tmp_path / "b.pdf"
    code, o, _ = run(
        capsys, "booklet", "--db", db, "--household", str(village[0]), "--out", str(out)
    )
    assert code == 0 and "1 户" in o
    text = pdftext(out)
    assert "关爱簿" in text and "张红0" in text and "农村低保" in text
    assert "341623********" in text and "19600101" not in text.replace("1960-01-01", "")
    assert embedded_fonts_only(out)
    code, o, _ = run(capsys, "booklet", "--db", db, "--village", "红旗村", "--out", str(out))
    assert code == 0 and "3 户" in o and pdftext(out).count("困难群众关爱工程") == 3


def test_checklist_blank_and_filled(capsys, store, village, full_answers, today, tmp_path):
    db, out = store.path, tmp_path / "c.pdf"
    code, _, err = run(
        capsys, "checklist", "--db", db, "--household", str(village[0]), "--out", str(out)
    )
    assert code == 1 and "--blank" in err and not out.exists()
    code, o, _ = run(
        capsys, "checklist", "--db", db, "--village", "东风村", "--blank", "--out", str(out)
    )
    assert code == 0 and "空白 2" in o
    text = pdftext(out)
    assert "入户调查/核查表（空白）" in text and "张东1" in text and "符合" in text
    assert embedded_fonts_only(out)
    Visits(store).save(
        Visit(
            village[0],
            today,
            ["王调查", "赵核查"],
            full_answers,
            conclusion="情况属实",
            representative="张红0",
            acknowledged=True,
        ),
        today,
    )
    code, o, _ = run(
        capsys, "checklist", "--db", db, "--household", str(village[0]), "--out", str(out)
    )
    assert code == 0 and "已填 1" in o
    text = pdftext(out)
    assert "王调查" in text and "户代表 张红0 已确认" in text


@pytest.mark.parametrize(
    "name, reason",
    [
        ("没有这个文件夹/x.pdf", "文件夹不存在"),
        ("x" * 300 + ".pdf", "文件名或路径太长"),
    ],
)
def test_checklist_to_a_place_that_cannot_be_written_names_the_file_in_chinese(
    capsys, store, village, tmp_path, name, reason
):
    out = tmp_path / name
    code, _, err = run(
        capsys,
        "checklist",
        "--db",
        store.path,
        "--household",
        str(village[0]),
        "--blank",
        "--out",
        str(out),
    )
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert f"{out}：{reason}" in err  # the file as asked, then why, in Chinese
    assert ".part" not in err and "[Errno" not in err and "内部错误" not in err
    assert list(tmp_path.glob("*.pdf*")) == []


def test_every_file_error_is_explained_in_chinese():
    import errno as e

    from mzdesk.models.files import describe, os_reason

    for code in (e.ENOENT, e.EACCES, e.EROFS, e.ENOSPC, e.EIO, e.ENAMETOOLONG, e.EINVAL, e.ELOOP):
        reason = os_reason(OSError(code, "english words", "/u/x.pdf"))
        assert reason and not reason.isascii() and "english" not in reason, (code, reason)
    assert describe(OSError(e.ENOSPC, "No space left on device", "/u/x.pdf")) == (
        "/u/x.pdf：磁盘空间不足（No space left on device）"
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--household", "999"], "999"),
        ([], "--household"),
        (["--household", "1", "--village", "红旗村"], "--household"),
        (["--village", "无此村"], "无此村"),
    ],
)
def test_booklet_bad_arguments(capsys, store, village, tmp_path, args, message):
    out = tmp_path / "x.pdf"
    code, _, err = run(capsys, "booklet", "--db", store.path, *args, "--out", str(out))
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_sample_reproducible_and_recorded(capsys, store, village):
    db = store.path
    args = ["sample", "--db", db, "--percent", "40", "--seed", "11", "--json"]
    code, o1, _ = run(capsys, *args, "--dry-run")
    code, o2, _ = run(capsys, *args)
    a, b = json.loads(o1), json.loads(o2)
    assert code == 0 and a["households"] == b["households"] and a["spot_check_id"] is None
    assert b["spot_check_id"] and b["population"] == 5
    assert store.scalar("SELECT count(*) FROM spot_check_items") == len(b["households"])
    code, o, _ = run(capsys, "sample", "--db", db, "--village", "东风村", "--seed", "1")
    assert code == 0 and "东风村抽查 10%" in o and "共抽取 1 户 / 2 户" in o


def test_county_reviewer_records_the_county_spot_check(capsys, county, monkeypatch):
    monkeypatch.setenv("MZDESK_OPERATOR", "reviewer")
    monkeypatch.setenv("MZDESK_PASSWORD", "review-pass-1")
    code, o, err = run(capsys, "sample", "--db", county.path, "--percent", "30", "--seed", "4")
    assert code == 0, err  # was refused: 县级审核员 reviewer 无权执行此操作（入户调查）
    assert o.startswith("全县抽查 30%（种子4）  抽查编号 1")
    assert county.scalar("SELECT title FROM spot_checks") == "全县抽查 30%（种子4）"
