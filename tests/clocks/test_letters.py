"""告知书 PDFs through the service and the CLI: the reason, fonts embedded, no full ID."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mzdesk.models import dates, letters
from mzdesk.models import enrolment as enr
from mzdesk.models import enrolment_states as states
from mzdesk.models.auth import PermissionDenied, add_operator, login
from mzdesk.reports.letters_pdf import write_letter
from tests.clocks.conftest import HEAD_ID
from tests.helpers import require_tool

ROOT = Path(__file__).resolve().parents[2]
FULL_ID = re.compile(r"\d{17}[\dXx]")


def _text(pdf: Path) -> str:
    require_tool("pdftotext")
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return out.stdout


def _fonts_embedded(pdf: Path) -> None:
    require_tool("pdffonts")
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    rows = out.stdout.strip().splitlines()[2:]
    assert rows, out.stdout
    for row in rows:
        # name type encoding emb sub uni ...: every font embedded
        assert row.split()[-5] == "yes", out.stdout


def _no_full_id(text: str) -> None:
    assert HEAD_ID not in text and not FULL_ID.search(text.replace(" ", "")), text


def test_not_accepted_letter_has_the_reason_the_appeal_and_a_masked_id(store, applied, tmp_path):
    reason = "申请人户籍不在本镇，请向户籍所在地乡镇提出申请"
    states.not_accept(store, applied.id, reason, dt.date(2026, 10, 12))
    out = tmp_path / "不予受理.pdf"
    given = write_letter(store, applied.id, "not_accept", out, dt.date(2026, 10, 13))
    assert given.title == "不予受理告知书"
    text = _text(out)
    flat = re.sub(r"\s+", "", text)
    assert reason in flat and "不予受理告知书" in flat and "张三丰" in flat
    assert "行政复议" in flat and "行政诉讼" in flat and "2026年10月9日" in flat
    assert "青山镇人民政府" in flat and "2026年10月13日" in flat
    assert "341623********0016" in flat  # the notice's mask, nothing more
    _no_full_id(text)
    _fonts_embedded(out)
    assert letters.letters_given(store, applied.id) == [
        {"kind": "not_accept", "on_day": "2026-10-13", "by": "tester"}
    ]


@pytest.mark.parametrize("kind", ["accept", "reject", "stop"])
def test_each_kind_prints_from_its_template(store, applied, tmp_path, kind):
    if kind == "reject":
        enr.start_investigation(store, applied.id)
        enr.reject(store, applied.id, "家庭财产超过规定标准", dt.date(2026, 11, 2))
    if kind == "stop":
        store.conn.execute(
            "UPDATE enrolments SET state = 'active', start_on = '2026-11-01' WHERE id = ?",
            (applied.id,),
        )
        enr.stop(store, applied.id, "家庭成员已就业，收入超过标准", dt.date(2026, 12, 3))
    out = tmp_path / f"{kind}.pdf"
    write_letter(store, applied.id, kind, out, dt.date(2026, 12, 4))
    flat = re.sub(r"\s+", "", _text(out))
    assert letters.KINDS[kind] in flat
    if kind == "accept":
        assert "30个工作日" in flat and "行政复议" not in flat
    if kind == "reject":
        assert "家庭财产超过规定标准" in flat and "2026年11月2日" in flat
    if kind == "stop":
        assert "家庭成员已就业，收入超过标准" in flat and "自2027年1月起停发" in flat
    _fonts_embedded(out)
    _no_full_id(flat)


def test_a_letter_the_state_does_not_allow_is_refused_and_writes_nothing(store, applied, tmp_path):
    out = tmp_path / "x.pdf"
    with pytest.raises(letters.LetterError) as exc:
        write_letter(store, applied.id, "reject", out)
    assert exc.value.code == "letter_state" and "不予确认" in str(exc.value)
    assert not out.exists() and letters.letters_given(store, applied.id) == []


def test_an_unknown_placeholder_is_refused_naming_it():
    with pytest.raises(letters.LetterError, match="身份证号码"):
        letters.fill("{name}，{身份证号码}", {"name": "张三丰"})


def test_printing_needs_forms_print_and_a_field_laptop_does_not_record(store, applied, tmp_path):
    states.not_accept(store, applied.id, "不符合条件", dt.date(2026, 10, 12))
    add_operator(store, "admin", "管理员的密码123", "admin")
    add_operator(store, "li", "核查员的密码123", "field")
    add_operator(store, "ro", "只读者的密码123", "readonly")
    login(store, "ro", "只读者的密码123")
    with pytest.raises(PermissionDenied):
        write_letter(store, applied.id, "not_accept", tmp_path / "a.pdf")
    login(store, "li", "核查员的密码123")
    write_letter(store, applied.id, "not_accept", tmp_path / "b.pdf")
    assert (tmp_path / "b.pdf").exists() and letters.letters_given(store, applied.id) == []


def mz(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "mzdesk", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert (proc.returncode == 0) == ok, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def test_cli_letter_and_deadlines(store, applied, tmp_path):
    # the CLI counts from the real today: a decision 20 days ago (never outside the 90-day
    # lookback, always more than 3 working days ago, even over 春节)
    decided = dates.current_day() - dt.timedelta(days=20)
    states.not_accept(store, applied.id, "名下有商品房两套", decided)
    db = str(store.path)
    store.close()
    listed = json.loads(mz("deadlines", "list", "--db", db, "--json").stdout)
    assert [(r["clock"], r["status"]) for r in listed] == [("refusal_notice", "overdue")]
    text = mz("deadlines", "list", "--db", db, "--show", "overdue").stdout
    assert "已超期" in text and "张三丰" in text and "共 1 项" in text
    check = mz("check", "--db", db, "--json", ok=False)
    codes = {f["code"] for f in json.loads(check.stdout)["findings"]}
    assert "refusal_notice_overdue" in codes
    out = tmp_path / "letter.pdf"
    printed = mz(
        "letter", "--db", db, "--enrolment", "1", "--kind", "not_accept", "--out", str(out)
    )
    assert "不予受理告知书" in printed.stdout
    assert "名下有商品房两套" in re.sub(r"\s+", "", _text(out))
    assert json.loads(mz("deadlines", "list", "--db", db, "--json").stdout) == []
    refused = mz(
        "letter", "--db", db, "--enrolment", "1", "--kind", "stop", "--out", str(out), ok=False
    )
    assert len(refused.stderr.strip().splitlines()) == 1 and "letter_state" in refused.stderr
    extend = mz("deadlines", "extend", "1", "--db", db, "--reason", "补充材料", ok=False)
    assert "not_extendable" in extend.stderr
