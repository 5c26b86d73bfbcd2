"""A one-off payment run travels in sync batches like the monthly payments: township →
county with its frozen lines, its later state, a field laptop getting only its villages'
lines and never changing a run, and another township never receiving it."""

from __future__ import annotations

import pytest

from mzdesk.models import payment_runs as pr
from mzdesk.models.demo import generate_demo
from mzdesk.sync.report import refusals
from tests.sync.sites import content, edit, link, make_site

MONTH = "2025-12"  # the demo's enrolments are paid from 2025-07


@pytest.fixture
def sites(tmp_path):
    f = make_site(tmp_path, "341623101001", "青山镇入户终端", "field")
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    o = make_site(tmp_path, "341623102", "红星镇", "township")
    generate_demo(t.store, 40, seed=3)
    villages = [
        r[0] for r in t.store.conn.execute("SELECT DISTINCT village FROM households ORDER BY 1")
    ]
    link(t, f, villages=[villages[1]])  # 新华村: some of the lines
    link(t, c)
    link(o, c)
    yield f, t, c, o, villages
    for s in (f, t, c, o):
        s.store.close()


def _runs(store) -> dict:
    got = content(store)
    return {k: got[k] for k in ("payment_runs", "payment_run_lines")}


def test_a_run_and_its_lines_travel_township_to_county(sites):
    f, t, c, o, villages = sites
    run = pr.create_run(t.store, "冬春救助", MONTH, ["rural_dibao", "urban_dibao", "tekun"], 20000)
    run = pr.confirm_run(t.store, run.id)
    frozen = pr.summary(t.store, run.id)
    assert frozen["lines"] > 1

    c.import_(t.export(c))
    assert _runs(c.store) == _runs(t.store)
    [at_county] = [r for r in pr.list_runs(c.store) if r.uid == run.uid]  # beside the demo's
    s = pr.summary(c.store, at_county.id)
    assert (s["state"], s["lines"], s["households"], s["persons"], s["amount_fen"]) == (
        "confirmed",
        frozen["lines"],
        frozen["households"],
        frozen["persons"],
        frozen["amount_fen"],
    )
    keys = ("payee", "id_number", "bank_account", "persons", "amount_fen")
    assert [{k: r[k] for k in keys} for r in pr.lines(c.store, at_county.id)] == [
        {k: r[k] for k in keys} for r in pr.lines(t.store, run.id)
    ]

    # the state changes later: the county gets the paid run
    pr.mark_paid(t.store, run.id)
    c.import_(t.export(c))
    assert pr.get_run(c.store, at_county.id).state == "paid"
    assert _runs(c.store) == _runs(t.store)

    # the county's batch to another township does not carry this township's run
    o.import_(c.export(o))
    assert pr.list_runs(o.store) == []


def test_a_field_laptop_gets_its_villages_lines_and_cannot_change_a_run(sites):
    f, t, c, o, villages = sites
    run = pr.create_run(t.store, "冬春救助", MONTH, ["rural_dibao", "urban_dibao", "tekun"], 20000)
    pr.confirm_run(t.store, run.id)
    f.import_(t.export(f))
    mine = content(f.store)["payment_run_lines"]
    assert mine == content(t.store, [villages[1]])["payment_run_lines"]
    assert 0 < len(mine) < len(content(t.store)["payment_run_lines"])
    [here] = [r for r in pr.list_runs(f.store) if r.uid == run.uid]
    # the laptop's list is the frozen lines it holds, never recomputed from its records
    held = pr.lines(f.store, here.id)
    assert here.frozen and len(held) == sum(f'"run_uid":"{run.uid}"' in b for b in mine.values())
    assert {line["village"] for line in held} == {villages[1]}
    assert len(held) < len(pr.lines(t.store, run.id))
    edit(f.store, "payment_runs", here.uid, rate_fen=99900)
    t.import_(f.export(t))
    assert pr.get_run(t.store, run.id).rate_fen == 20000  # refused, not applied
    assert [(r["table"], r["reason"]) for r in refusals(t.store)] == [
        ("payment_runs", "sender_role_forbidden")
    ]
