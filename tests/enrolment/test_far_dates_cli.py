"""Every command that takes a date, given far dates (issue 18, item 7: far dates).

The click tree is walked for date options, so a new one cannot be forgotten: a command
that records the date refuses 0001, 1900, 2099 and 9999 with one line, a non-zero exit
and the database's ``.dump`` unchanged; a command that only reads (statistics of a
month) changes nothing and never fails with a traceback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3

import click
import pytest

from mzdesk.cli import cli, main
from mzdesk.models import enrolment as enr
from mzdesk.models import notice as nt
from tests.enrolment.conftest import HOTLINE
from tests.enrolment.test_date_bounds import active, reviewed
from tests.helpers import household, make_id

T = dt.date.today()
FAR_DAYS = ("0001-01-01", "1900-01-01", "2099-01-01", "9999-12-31")
FAR_MONTHS = ("0001-01", "1900-01", "2099-01", "9999-12")

# command -> its arguments around the date (ids from the ``cases`` fixture)
WRITES = {
    ("notice", "--start"): lambda c: ["--out", str(c["tmp"] / "n.pdf"), "--hotline", HOTLINE],
    ("enrol apply", "--date"): lambda c: ["--household", str(c["free"]), "--category", "temporary"],
    ("enrol submit", "--date"): lambda c: [str(c["publicised"])],
    ("enrol confirm", "--date"): lambda c: [str(c["submitted"])],
    ("enrol reject", "--date"): lambda c: [str(c["submitted"]), "--reason", "收入超标"],
    ("enrol stop", "--date"): lambda c: [str(c["active"]), "--reason", "迁出"],
    ("enrol survey", "--date"): lambda c: [
        str(c["investigating"]),
        "--investigator",
        "刘",
        "--investigator",
        "陈",
        "--verification",
        "核对通过",
    ],
    ("enrol deliberate", "--date"): lambda c: [
        str(c["investigating"]),
        "--attendance",
        "9",
        "--result",
        "同意",
    ],
    ("enrol review", "--date"): lambda c: [str(c["active"]), "--outcome", "keep"],
    ("review round-open", "--on"): lambda c: ["--year", str(T.year)],
    ("review round-close", "--on"): lambda c: ["--year", str(T.year)],
    ("review plan", "--on"): lambda c: [str(c["free"]), "--stability", "stable"],
    ("review survival-record", "--on"): lambda c: [str(c["active"]), "--method", "visit"],
    ("enrol object", "--date"): lambda c: [
        str(c["notice"]),
        str(c["publicised"]),
        "--by",
        "村民甲",
        "--content",
        "有车",
    ],
    ("roster import", "--month"): lambda c: [str(c["roster"])],
    ("standards set", "--from"): lambda c: [
        *("--category", "rural_dibao", "--area", "rural", "--amount", "4800", "--per", "year")
    ],
    ("uprate", "--from"): lambda c: [
        *("--category", "rural_dibao", "--area", "rural", "--amount", "4800", "--confirm")
    ],
    ("income adopt", "--month"): lambda c: [str(c["active"])],
    ("enrol not-accept", "--date"): lambda c: [str(c["investigating"]), "--reason", "户籍不符"],
    ("enrol suspend", "--date"): lambda c: [
        str(c["active"]),
        "--from",
        T.strftime("%Y-%m"),
        "--reason",
        "待核实",
    ],
    ("enrol resume", "--date"): lambda c: [str(c["active"]), "--from", T.strftime("%Y-%m")],
    ("enrol phase-out-end", "--date"): lambda c: [str(c["active"])],
    ("enrol head-change", "--head-died-on"): lambda c: [
        str(c["free"]),
        "--new-head",
        "1",
        "--reason",
        "户主死亡",
    ],
    ("case add", "--date"): lambda c: [
        str(c["free"]),
        "--kind",
        "temporary",
        "--type",
        "urgent",
        "--cause",
        "因病",
        "--amount",
        "800",
    ],
    ("case decide", "--date"): lambda c: [str(c["case"]), "--decision", "approved"],
    ("case pay", "--date"): lambda c: [str(c["approved"])],
    ("case document", "--date"): lambda c: [str(c["fast"])],
    ("deadlines extend", "--date"): lambda c: [str(c["investigating"]), "--reason", "需补充调查"],
    ("letter", "--date"): lambda c: [
        "--enrolment",
        str(c["investigating"]),
        "--kind",
        "accept",
        "--out",
        str(c["tmp"] / "n.pdf"),
    ],
    ("run create", "--month"): lambda c: [
        "--name",
        "春节一次性生活补贴",
        "--category",
        "rural_dibao",
        "--amount",
        "300",
    ],
    ("run confirm", "--on"): lambda c: [str(c["run"])],
    ("run paid", "--on"): lambda c: [str(c["run"])],
}
READS = {
    ("case list", "--month"): lambda c: [],
    ("deadlines list", "--date"): lambda c: [],
    ("run list", "--month"): lambda c: [],
    ("stats", "--month"): lambda c: [],
    ("roster export", "--month"): lambda c: ["--out", str(c["tmp"] / "r.xlsx")],
    ("income show", "--month"): lambda c: ["1"],
    ("enrol parts", "--month"): lambda c: [str(c["active"])],
}


def date_options() -> set[tuple[str, str]]:
    found = set()

    def walk(cmd, path):
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
            return
        for p in cmd.params:
            if isinstance(p.type, click.DateTime) or p.name in ("month", "start", "date", "on"):
                found.add((" ".join(path), p.opts[0]))

    walk(cli, [])
    return found


def test_every_date_option_is_classified():
    assert date_options() == set(WRITES) | set(READS)


def dump_hash(path) -> str:
    conn = sqlite3.connect(path)
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()


@pytest.fixture
def cases(store, registry, family, single, tmp_path, monkeypatch):
    """One enrolment in each state a dated command acts on, dated from the real today."""
    from tests.roster.books import member_per_row

    monkeypatch.setattr("mzdesk.models.dates.current_day", lambda: T)  # a run across midnight
    monkeypatch.setattr("mzdesk.models.notice._today", lambda: T)

    def new_household(n: int) -> int:
        h = household("东风村", (f"户主{n}", "户主", make_id("19700101", 20 + n)))
        return registry.save(h, today=T).id

    c = {"tmp": tmp_path, "active": active(store, family.id).id, "free": single.id}
    e = reviewed(store, new_household(1))
    c["notice"] = nt.create_notice(
        store,
        nt.NoticeSpec(start=T - dt.timedelta(days=70), hotline=HOTLINE),
        enrolment_ids=[e.id],
        today=T - dt.timedelta(days=70),
    )
    c["submitted"] = enr.submit(store, e.id, today=T - dt.timedelta(days=60)).id
    c["publicised"] = reviewed(store, new_household(2)).id
    nt.create_notice(
        store, nt.NoticeSpec(start=T, hotline=HOTLINE), enrolment_ids=[c["publicised"]]
    )
    e = enr.create(store, new_household(3), "rural_dibao", applied_on=T - dt.timedelta(days=9))
    enr.start_investigation(store, e.id)
    c["investigating"] = enr.record_investigation(store, e.id, ["刘", "陈"], "通过", T).id
    c["roster"] = tmp_path / "roster.xlsx"
    member_per_row(
        c["roster"],
        [{"village": "甲村", "amount": 900, "members": [("甲", "户主", make_id("19600101", 9))]}],
    )
    from mzdesk.models import cases as assistance
    from mzdesk.models import payment_runs

    c["case"] = assistance.add(
        store, single.id, "medical", amount_fen=50000, applied_on=T - dt.timedelta(days=5)
    ).id
    approved = assistance.add(store, single.id, "medical", amount_fen=50000, applied_on=T)
    c["approved"] = assistance.decide(store, approved.id, "approved", on=T).id
    fast = assistance.add(store, single.id, "medical", amount_fen=50000, applied_on=T)
    c["fast"] = assistance.pay(store, fast.id, on=T, fast=True).id
    c["run"] = payment_runs.create_run(store, "春节一次性生活补贴", T, ["rural_dibao"], 30000).id
    c["db"] = store.path
    store.close()
    return c


def run(capsys, *args) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err.strip()


@pytest.mark.parametrize("far", range(4))
@pytest.mark.parametrize("command", sorted(WRITES), ids=" ".join)
def test_a_far_date_is_refused_in_one_line_and_changes_nothing(cases, capsys, command, far):
    (path, option), extra = command, WRITES[command]
    value = (FAR_MONTHS if option == "--month" else FAR_DAYS)[far]
    before = dump_hash(cases["db"])
    code, err = run(capsys, *path.split(), "--db", cases["db"], *extra(cases), option, value)
    assert code not in (0, None), err
    assert len(err.splitlines()) == 1 and "Traceback" not in err and "内部错误" not in err, err
    assert any(word in err for word in ("日期", "月份", "年份")), err
    assert dump_hash(cases["db"]) == before
    assert not (cases["tmp"] / "n.pdf").exists()


@pytest.mark.parametrize("value", FAR_MONTHS)
@pytest.mark.parametrize("command", sorted(READS), ids=" ".join)
def test_a_far_month_read_changes_nothing(cases, capsys, command, value):
    (path, option), extra = command, READS[command]
    before = dump_hash(cases["db"])
    code, err = run(capsys, *path.split(), "--db", cases["db"], *extra(cases), option, value)
    assert "Traceback" not in err and "内部错误" not in err, err
    assert code in (0, None) or len(err.splitlines()) == 1, err
    assert dump_hash(cases["db"]) == before
