"""``mzdesk enrol amend``: the entry point of ``enrolment.amend`` (调查中核定).

Before the notice a clerk corrects the class, the covered persons or the proposed
amount; after it the record changes only through a review.
"""

from __future__ import annotations

import json

from mzdesk.cli import main
from tests.enrolment.conftest import ready


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


def test_amend_before_the_notice_is_recorded(store, family, capsys):
    e = ready(store, family.id)
    db = str(store.path)
    store.close()
    out = run(
        capsys,
        "enrol",
        "amend",
        "--db",
        db,
        str(e.id),
        "--amount",
        "650",
        "--class",
        "一类",
        "--covered",
        "2",
        "--reason",
        "调查核定",
    )
    assert "一类" in out and "保障人口=2" in out and "金额=650.00元" in out
    hist = json.loads(run(capsys, "enrol", "history", "--db", db, str(e.id)))
    assert hist[-1]["action"] == "amend" and hist[-1]["reason"] == "调查核定"
    assert hist[-1]["monthly_fen"] == 65000


def test_amend_refusals_are_one_line(store, family, capsys):
    e = ready(store, family.id)
    db = str(store.path)
    store.close()
    err = run(capsys, "enrol", "amend", "--db", db, str(e.id), "--class", "五类", ok=False)
    assert "类别/档次应为" in err and "五类" in err
    err = run(capsys, "enrol", "amend", "--db", db, str(e.id), "--amount", "99999999999", ok=False)
    assert "超过上限" in err
    err = run(capsys, "enrol", "amend", "--db", db, "999999", ok=False)
    assert "999999" in err
