"""Three sites — field laptop, township, county — through several rounds of edits.

Covers: assigned villages down to the field, edits up, field-level merge of
different fields, a real conflict resolved at the township, a lost batch
(held, re-sent, then both applied), a replay (applied zero times), county
decisions down, acknowledgements, identical data at the end, and the sender
scope (nothing legitimate refused; a field laptop's raw amount refused and
never passed on).
"""

from __future__ import annotations

import json

import pytest

from mzdesk.models.demo import generate_demo
from mzdesk.models.errors import MzError
from mzdesk.sync.batch import BatchRefused
from mzdesk.sync.checkpoints import report as checkpoint_report
from mzdesk.sync.conflicts import open_conflicts, resolve_conflict
from mzdesk.sync.export import resend
from mzdesk.sync.history import pending_acks
from mzdesk.sync.report import refusals

from .sites import content, edit, fingerprint, link, make_site


@pytest.fixture
def sites(tmp_path):
    f = make_site(tmp_path, "341623101001", "青山镇入户终端", "field")
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    generate_demo(t.store, 40, seed=3)
    villages = [
        r[0] for r in t.store.conn.execute("SELECT DISTINCT village FROM households ORDER BY 1")
    ]
    link(t, f, villages=[villages[0]])
    link(t, c)
    yield f, t, c, villages
    for s in (f, t, c):
        s.store.close()


def hh_uids(store, village):
    return [
        r[0]
        for r in store.conn.execute(
            "SELECT uid FROM households WHERE village = ? ORDER BY id", (village,)
        )
    ]


def test_three_sites_rounds_conflict_lost_batch_replay(sites):
    f, t, c, villages = sites
    mine = [villages[0]]

    # round 1: assigned village down to the field, everything up to the county
    r = f.import_(t.export(f))
    assert r.tables["households"].new == len(hh_uids(t.store, villages[0])) > 0
    assert f.store.scalar("SELECT count(DISTINCT village) FROM households") == 1
    c.import_(t.export(c))
    assert content(f.store) == content(t.store, mine)
    assert content(c.store) == content(t.store)

    # round 2: different fields of one household on both sides -> merged, no conflict
    h1, h2, h3 = hh_uids(t.store, villages[0])[:3]
    edit(f.store, "households", h1, phone="13900000001")
    edit(t.store, "households", h1, address="新地址1号")
    edit(t.store, "households", h2, notes="镇上补充")
    up, down = f.export(t), t.export(f)
    r = t.import_(up)
    assert (r.tables["households"].merged, r.tables["households"].conflicts) == (1, 0)
    r = f.import_(down)
    assert r.tables["households"].merged == 1
    assert (
        r.acked == 0
    )  # the two batches crossed: the township wrote its before reading the field's
    for s in (f, t):
        row = s.store.one("SELECT phone, address FROM households WHERE uid = ?", (h1,))
        assert row == {"phone": "13900000001", "address": "新地址1号"}

    # round 3: the same field on both sides -> a conflict on each side, nothing silently lost
    edit(f.store, "households", h3, phone="13900000003")
    edit(t.store, "households", h3, phone="13800000003")
    up, down = f.export(t), t.export(f)
    assert t.import_(up).tables["households"].conflicts == 1
    assert f.import_(down).tables["households"].conflicts == 1
    assert t.store.scalar("SELECT phone FROM households WHERE uid = ?", (h3,)) == "13800000003"
    assert f.store.scalar("SELECT phone FROM households WHERE uid = ?", (h3,)) == "13900000003"
    [fc] = open_conflicts(f.store)
    with pytest.raises(MzError, match="上级站点"):
        resolve_conflict(f.store, fc["id"], "remote")  # the township decides
    [tc] = open_conflicts(t.store)
    assert tc["fields"] == ["phone"] and tc["remote"]["row"]["phone"] == "13900000003"
    resolve_conflict(
        t.store, tc["id"], "remote"
    )  # the field laptop saw the household: take its number
    f.import_(t.export(f))
    assert open_conflicts(f.store) == [] and open_conflicts(t.store) == []
    assert content(f.store) == content(t.store, mine)

    # round 4: township -> county, one batch lost on the way, then a replay
    c.import_(t.export(c))  # carries the merged and resolved households up
    edit(t.store, "households", h2, notes="第一批")
    lost = t.export(c)
    n = t.store.scalar("SELECT last_out_seq FROM sync_sites WHERE code = ?", (c.code,))
    edit(t.store, "households", h2, dangerous_house=1)
    later = t.export(c)
    before = fingerprint(c.store)
    with pytest.raises(BatchRefused) as e:
        c.import_(later)
    assert e.value.code == "gap" and fingerprint(c.store) == before
    assert [p["seq"] for p in pending_acks(t.store) if p["peer"] == c.code][-2:] == [n, n + 1]
    again = resend(t.store, c.code, n, t.dir / "resent.age")
    assert again.read_bytes() == lost.read_bytes()
    r = c.import_(again)
    assert r.also_applied == [n + 1]  # the held batch followed on its own
    assert c.store.one("SELECT notes, dangerous_house FROM households WHERE uid = ?", (h2,)) == {
        "notes": "第一批",
        "dangerous_house": 1,
    }
    before = fingerprint(c.store)
    with pytest.raises(BatchRefused) as e:
        c.import_(later)
    assert e.value.code == "replay" and fingerprint(c.store) == before

    # round 5: the county confirms an application (审核确认); the decision goes down
    enr = t.store.one(
        "SELECT e.uid FROM enrolments e JOIN households h ON h.id = e.household_id "
        "WHERE h.village = ? LIMIT 1",
        (villages[0],),
    )["uid"]
    edit(c.store, "enrolments", enr, state="active", start_on="2026-12-01")
    r = t.import_(c.export(t))
    assert r.tables["enrolments"].updated == 1 and r.acked >= 1
    assert t.store.scalar("SELECT state FROM enrolments WHERE uid = ?", (enr,)) == "active"
    f.import_(t.export(f))
    assert f.store.scalar("SELECT state FROM enrolments WHERE uid = ?", (enr,)) == "active"

    # a closing round both ways: every acknowledgement comes back, data identical
    t.import_(f.export(t))
    c.import_(t.export(c))
    t.import_(c.export(t))
    assert content(f.store) == content(t.store, mine)
    assert content(c.store) == content(t.store)
    # every batch the township sent has come back acknowledged; the county's last one is on its way
    assert pending_acks(t.store) == []
    last = c.store.scalar("SELECT last_out_seq FROM sync_sites WHERE code = ?", (t.code,))
    assert [p["seq"] for p in pending_acks(c.store)] == [last]

    # the audit chains: the county verifies the township's signed checkpoints from what it
    # received, the township its field laptop's and its own chain against its own
    at_county = {r.site: r for r in checkpoint_report(c.store)}
    assert at_county[t.code].ok and at_county[t.code].count >= 2 and not at_county[t.code].own
    at_township = {r.site: r for r in checkpoint_report(t.store)}
    assert at_township[f.code].ok and at_township[f.code].count >= 1
    assert at_township[t.code].own and at_township[t.code].ok
    assert at_township[t.code].last_n == at_county[t.code].last_n  # it sent every one
    # sender scope: none of the rounds above went beyond a sender's scope; then the field
    # laptop raises an amount behind the program's back: the township refuses it, and it
    # never reaches the county
    assert refusals(f.store) == refusals(t.store) == refusals(c.store) == []
    f.store.conn.execute("UPDATE enrolments SET monthly_fen = 9999900 WHERE uid = ?", (enr,))
    r = t.import_(f.export(t))
    assert [(x["uid"], x["reason"]) for x in r.refused] == [(enr, "sender_role_forbidden")]
    c.import_(t.export(c))
    for s in (t, c):
        assert s.store.scalar("SELECT count(*) FROM enrolments WHERE monthly_fen = 9999900") == 0
    assert content(c.store) == content(t.store)


def _two_townships_one_id(tmp_path):
    """Two townships reporting to one county; the first has 王大山 as a head, whose ID
    number (returned) the tests then register in the second as well."""
    from mzdesk.models.registry import Registry
    from tests.helpers import household, make_id

    t1 = make_site(tmp_path, "341623101", "青山镇", "township")
    t2 = make_site(tmp_path, "341623102", "绿水镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    link(t1, c)
    link(t2, c)
    shared = make_id("19600101", 11)
    Registry(t1.store).save(household("红旗村", ("王大山", "户主", shared)))
    return t1, t2, c, shared


def test_county_flags_an_id_active_in_two_townships(tmp_path):
    from mzdesk.models.registry import Registry
    from tests.helpers import household, make_id

    t1, t2, c, shared = _two_townships_one_id(tmp_path)
    Registry(t2.store).save(
        household("绿水村", ("王大山", "户主", shared), ("李花", "配偶", make_id("19620202", 12)))
    )
    c.import_(t1.export(c))
    r = c.import_(t2.export(c))
    assert len(r.duplicates) == 1
    assert shared not in str(r.as_dict())  # masked, never the full number
    assert r.duplicates[0]["id_masked"] == shared[:6] + "********" + shared[-4:]
    assert r.tables["members"].new == 1 and r.tables["members"].conflicts == 1
    [dup] = [x for x in open_conflicts(c.store) if x["kind"] == "duplicate_id"]
    assert "重复享受" in dup["note"]
    resolve_conflict(c.store, dup["id"], "dismiss")
    assert open_conflicts(c.store) == []
    for s in (t1, t2, c):
        s.store.close()


def test_records_arriving_by_sync_are_audited_by_their_batch(tmp_path):
    """Each new record gets its own chained audit entry naming the batch it came in, which
    is kept verbatim; later edits are audited field by field as any edit."""
    import json

    from mzdesk.models import audit
    from mzdesk.sync.batch import read_records, sha256

    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    generate_demo(t.store, 12, seed=4)
    link(t, c)
    c.import_(t.export(c))
    sha = c.store.scalar("SELECT sha256 FROM sync_batches WHERE direction = 'in'")
    entries = c.store.conn.execute(
        "SELECT record_uid, new FROM audit_log WHERE tbl = 'households' AND action = 'insert'"
    ).fetchall()
    uids = {r[0] for r in c.store.conn.execute("SELECT uid FROM households")}
    assert {u for u, _ in entries} == uids and len(entries) == len(uids) == 12
    assert {new for _, new in entries} == {audit.sync_source(t.code, 1, sha)}
    assert json.loads(entries[0][1])["sync_batch"]["sha256"] == sha
    data = c.store.scalar("SELECT data FROM sync_batches WHERE sha256 = ?", (sha,))
    assert sha256(data) == sha and set(read_records(data, c.keys)["households"]) == uids
    assert audit.verify(c.store.conn).ok

    uid = sorted(uids)[0]
    edit(t.store, "households", uid, address="新修的门牌号")
    c.import_(t.export(c))
    assert (
        c.store.scalar(
            "SELECT new FROM audit_log WHERE action = 'update' AND field = 'address' AND record_uid = ?",
            (uid,),
        )
        == "新修的门牌号"
    )
    for s in (t, c):
        s.store.close()


def test_a_conflict_at_the_higher_site_is_not_settled_by_the_next_batch(tmp_path):
    """The township's edit reaches the county, which changed the same field: a conflict there.
    The county's next batch acknowledges the township's batch and carries its own value.  The
    township must not take that as common ground and overwrite its edit: it shows the
    conflict too, and nothing closes it but the county's decision."""
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    generate_demo(t.store, 6, seed=5)
    link(t, c)
    c.import_(t.export(c))
    h = t.store.scalar("SELECT uid FROM households ORDER BY id LIMIT 1")
    phone = "SELECT phone FROM households WHERE uid = ?"
    edit(t.store, "households", h, phone="13911111111")
    edit(c.store, "households", h, phone="13922222222")
    assert c.import_(t.export(c)).tables["households"].conflicts == 1
    r = t.import_(c.export(t))
    assert r.acked == 2  # both of the township's batches
    assert r.tables["households"].conflicts == 1  # shown at the township, not taken
    assert t.store.scalar(phone, (h,)) == "13911111111"
    [tc] = open_conflicts(t.store)
    assert tc["local"]["phone"] == "13911111111" and tc["remote"]["row"]["phone"] == "13922222222"
    # more rounds without a decision change nothing on either side, and close nothing
    for _ in range(2):
        c.import_(t.export(c))
        t.import_(c.export(t))
    assert t.store.scalar(phone, (h,)) == "13911111111"
    assert c.store.scalar(phone, (h,)) == "13922222222"
    assert [x["uid"] for x in open_conflicts(c.store)] == [h]
    assert [x["uid"] for x in open_conflicts(t.store)] == [h]
    # the county decides for the township's number; the decision settles both sides
    [cc] = open_conflicts(c.store)
    resolve_conflict(c.store, cc["id"], "remote")
    t.import_(c.export(t))
    c.import_(t.export(c))
    assert open_conflicts(t.store) == [] and open_conflicts(c.store) == []
    assert t.store.scalar(phone, (h,)) == c.store.scalar(phone, (h,)) == "13911111111"
    assert content(t.store) == content(c.store)
    for s in (t, c):
        s.store.close()


def test_a_held_batch_applied_later_reports_its_counts_and_duplicates(tmp_path):
    """A batch held for a gap is applied when the gap fills; its report (a possible double
    receipt above all) reaches the clerk with the report of the batch that filled the gap."""
    from mzdesk.models.registry import Registry
    from tests.helpers import household, make_id

    t1, t2, c, shared = _two_townships_one_id(tmp_path)
    c.import_(t1.export(c))
    Registry(t2.store).save(household("绿水村", ("李花", "户主", make_id("19620202", 12))))
    first = t2.export(c)
    Registry(t2.store).save(household("绿水村", ("王大山", "户主", shared)))
    second = t2.export(c)
    with pytest.raises(BatchRefused):
        c.import_(second)  # held: batch 1 is missing
    r = c.import_(first)
    assert r.also_applied == [2] and r.tables["households"].new == 1
    [held] = r.then
    assert held.sequence == 2 and len(held.duplicates) == 1
    assert held.tables["members"].conflicts == 1
    text = r.text()
    assert "第 2 批" in text and "重复享受" in text and shared not in text
    d = r.as_dict()
    assert d["then"][0]["duplicates"][0]["id_masked"] == shared[:6] + "********" + shared[-4:]
    assert shared not in json.dumps(d, ensure_ascii=False)
    for s in (t1, t2, c):
        s.store.close()


def _recompute_chain(path, edit_sql: str) -> None:
    """An attacker at the township: edit an old audit entry, recompute every hash with the
    program's own function (the chain has no secret) and delete the site's own signed
    checkpoints so that its local check finds nothing; guards dropped and put back."""
    import sqlite3

    from mzdesk.models import audit

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        guards = {
            n: sql
            for n, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE name IN "
                "('audit_log_seal_only', 'audit_checkpoints_no_delete')"
            )
        }
        conn.execute("BEGIN")
        for n in guards:
            conn.execute(f"DROP TRIGGER {n}")
        conn.execute(edit_sql)
        prev = audit.GENESIS
        for row in conn.execute(
            "SELECT seq, at, operator, tbl, record_id, record_uid, household_id, action, "
            "field, old, new FROM audit_log ORDER BY seq"
        ).fetchall():
            prev = audit.entry_hash(prev, row)
            conn.execute("UPDATE audit_log SET hash = ? WHERE seq = ?", (prev, row[0]))
        conn.execute("DELETE FROM audit_checkpoints WHERE received_at IS NULL")
        for sql in guards.values():
            conn.execute(sql)
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_county_catches_a_recomputed_township_chain_from_its_checkpoints(sites):
    """The township's chain, recomputed after its checkpoints reached the county, passes
    every local check; the county sees the fork in the next batch's checkpoints."""
    import subprocess
    import sys

    from mzdesk.models import audit_guard
    from mzdesk.models.store import Store
    from tests.cli.test_cli import ROOT, _env

    f, t, c, villages = sites
    c.import_(t.export(c))
    hh = t.store.scalar("SELECT uid FROM households ORDER BY id LIMIT 1")
    edit(t.store, "households", hh, address="青山镇3号")
    c.import_(t.export(c))
    assert {r.site: r.ok for r in checkpoint_report(c.store)} == {c.code: True, t.code: True}

    path = t.store.path
    t.store.close()
    _recompute_chain(path, "UPDATE audit_log SET operator = '无名氏' WHERE seq = 3")
    t.store = Store.open(path, operator="clerk-341623101")
    assert audit_guard.problems(t.store.conn)[1] == []  # the township's own checks pass
    assert all(r.ok for r in checkpoint_report(t.store))
    edit(t.store, "households", hh, address="青山镇4号")
    c.import_(t.export(c))  # a valid batch, signed with the township's real key

    township = {r.site: r for r in checkpoint_report(c.store)}[t.code]
    assert not township.ok
    assert {p["code"] for p in township.problems} == {"checkpoint_fork"}
    proc = subprocess.run(
        [sys.executable, "-m", "mzdesk", "audit", "verify", "--json", "--db", c.store.path],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_env(),
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert {(p["site"], p["code"]) for p in out["problems"]} == {(t.code, "checkpoint_fork")}
    assert "审计链分叉" in proc.stdout


def test_a_checkpoint_altered_after_signing_is_refused_its_signature(sites, monkeypatch):
    """A validly signed batch (the sender's real key, the project's writer) whose checkpoint
    was changed after the checkpoint's own signature: the county reports it."""
    from mzdesk.sync import checkpoints, export

    f, t, c, villages = sites
    real = checkpoints.for_batch

    def forged(store, keys, to):
        out = real(store, keys, to)
        out[-1]["seq"] -= 1
        return out

    monkeypatch.setattr(export.checkpoints, "for_batch", forged)
    c.import_(t.export(c))
    township = {r.site: r for r in checkpoint_report(c.store)}[t.code]
    assert [p["code"] for p in township.problems] == ["checkpoint_bad_signature"]


def test_a_malformed_checkpoint_list_refuses_the_batch_and_changes_nothing(sites, monkeypatch):
    from mzdesk.sync import export

    f, t, c, villages = sites
    monkeypatch.setattr(export.checkpoints, "for_batch", lambda store, keys, to: [{"n": "1"}])
    batch = t.export(c)
    before = c.store.scalar("SELECT count(*) FROM households")
    with pytest.raises(BatchRefused) as exc:
        c.import_(batch)
    assert exc.value.code == "not_a_batch"
    assert c.store.scalar("SELECT count(*) FROM households") == before
    assert c.store.scalar("SELECT count(*) FROM audit_checkpoints") == 0
