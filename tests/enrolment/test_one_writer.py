"""One writer per aggregate: enrolments and their events are written by the enrolment
service alone, and its rules between records (特困 vs 低保, one live enrolment per
person and category) hold on every path: the lifecycle, the roster import, the demo,
notices and sync apply.  ``check`` finds what older versions may have stored."""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mzdesk.models import enrolment as enr
from mzdesk.models import enrolment_rules as rules
from mzdesk.models.checks import run_checks
from mzdesk.models.enrolment import LIVE_STATES, TransitionRefused
from mzdesk.models.enrolment_rules import Row
from mzdesk.roster.importer import ImportRefused, analyse, apply, import_roster
from tests.enrolment.conftest import ready
from tests.helpers import make_id
from tests.roster.books import member_per_row

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "mzdesk"
# the enrolment service: the lifecycle and its bulk paths (import, demo, notices, sync)
SERVICE = {
    "models/enrolment.py",
    "models/enrolment_import.py",
    "models/enrolment_demo.py",
    "models/enrolment_bulk.py",
    "models/enrolment_states.py",  # 暂停/恢复, 渐退期, 不予受理, 户主变更
    "models/components.py",  # the amount's parts
    "models/support.py",  # 特困 供养方式 and 照料人 of an enrolment
}
# history, not writers: frozen migration SQL creates and upgrades the tables
HISTORY = {"models/migrations.py", "models/migrations_sql.py"}
TABLES = r"enrolments|enrolment_events"
SQL_WRITE = re.compile(
    rf"\b(INSERT\s+(OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(\s+OR\s+\w+)?|DELETE\s+FROM)"
    rf"\s+[\"'`]?({TABLES})\b",
    re.IGNORECASE,
)
WRITE_CALLS = {"insert_many", "insert_select", "insert", "insert_all", "upsert", "upsert_all"}
WRITE_METHODS = {"insert", "insert_all", "upsert", "upsert_all", "update", "delete", "delete_where"}


def _strings(node: ast.AST) -> list[str]:
    """The text of a string constant or an f-string (its literal parts joined)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)]
    return []


def enrolment_writes(source: str) -> list[tuple[int, str]]:
    """(line, what) for each write of the enrolment tables in ``source``: SQL text that
    writes them (in any string, joined with the literal strings next to it), a bulk helper
    called with their name (``insert_many(conn, "enrolments", …)``), or sqlite-utils
    ``db["enrolments"]`` / ``db.table("enrolments")`` followed by a write method."""
    tree = ast.parse(source)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        texts = _strings(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # "INSERT " + "INTO x"
            texts = ["".join(_strings(node.left) + _strings(node.right))]
        for text in texts:
            if SQL_WRITE.search(" ".join(text.split())):
                found.append((node.lineno, "SQL"))
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        names = [s for a in node.args for s in _strings(a)]
        if name in WRITE_CALLS and any(re.fullmatch(TABLES, s) for s in names):
            found.append((node.lineno, name))
        if isinstance(func, ast.Attribute) and func.attr in WRITE_METHODS:
            target = func.value
            inner: list[str] = []
            if isinstance(target, ast.Subscript):
                inner = _strings(target.slice)
            elif isinstance(target, ast.Call) and getattr(target.func, "attr", "") == "table":
                inner = [s for a in target.args for s in _strings(a)]
            if any(re.fullmatch(TABLES, s) for s in inner):
                found.append((node.lineno, f"table.{func.attr}"))
    return found


# -- the static rule ----------------------------------------------------------------------
def test_only_the_enrolment_service_writes_enrolments():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in SERVICE or rel in HISTORY:
            continue
        for line, what in enrolment_writes(path.read_text(encoding="utf-8")):
            offenders.append(f"mzdesk/{rel}:{line} ({what})")
    assert not offenders, "enrolments written outside the enrolment service: " + ", ".join(
        offenders
    )


@pytest.mark.parametrize(
    "source",
    [
        'conn.execute("INSERT INTO enrolments (uid) VALUES (?)", x)',
        'conn.execute("insert or replace into enrolment_events (uid) values (?)")',
        'conn.execute(f"UPDATE enrolments SET {a} WHERE id = ?")',
        'conn.execute("UPDATE " + "enrolments SET state = ?")',
        'conn.execute("""DELETE\n FROM enrolments""")',
        'insert_many(conn, "enrolments", cols, rows)',
        'db["enrolment_events"].insert_all(rows)',
        'db.table("enrolments").upsert(row, pk="id")',
    ],
)
def test_the_scan_sees_each_way_of_writing(source):
    assert enrolment_writes(source)


def test_the_scan_leaves_reads_alone():
    src = (
        'conn.execute("SELECT * FROM enrolments WHERE id = ?")\n'
        'conn.execute("UPDATE households SET x = 1 WHERE id IN (SELECT household_id FROM '
        'enrolments)")\ndb["enrolments"].rows_where("id = ?")\n'
    )
    assert enrolment_writes(src) == []


# -- one rule, two forms: they agree -------------------------------------------------------
CATS = ("rural_dibao", "urban_dibao", "tekun", "elderly", "temporary")
_row = st.tuples(
    st.integers(0, 1),  # household
    st.sampled_from([None, 0, 1]),  # member of that household (None: the household)
    st.sampled_from(CATS),
    st.sampled_from(("applied", "active", "submitted", "stopped")),
)


@pytest.fixture(scope="module")
def rule_store(tmp_path_factory):
    """Two households of two members each; enrolments written raw, cleared per example."""
    from mzdesk.models.registry import Registry
    from mzdesk.models.site import init_site
    from mzdesk.models.store import Store
    from tests.helpers import household

    s = Store.open(tmp_path_factory.mktemp("rules") / "r.sqlite", operator="tester")
    init_site(s, "341623101", "青山镇")
    reg = Registry(s)
    hh = []
    for k in range(2):
        h = household(
            "红旗村",
            ("户主" + "甲乙"[k], "户主", make_id("19500101", 10 * k + 1)),
            ("配偶" + "甲乙"[k], "配偶", make_id("19520101", 10 * k + 2)),
        )
        h = reg.save(h, today=dt.date(2026, 11, 23))
        hh.append((h.id, [m.id for m in h.members]))
    yield s, hh
    s.close()


def _raw_insert(conn, hid: int, mid: int | None, cat: str, state: str) -> int:
    """An enrolment written behind the service's back (an older version, sqlite3)."""
    return conn.execute(
        "INSERT INTO enrolments (uid, household_id, member_id, category, class, state, "
        "covered, monthly_fen, notice_pending, created_at, updated_at, created_by, updated_by) "
        "VALUES (lower(hex(randomblob(16))), ?, ?, ?, '', ?, 1, 0, '', '', '', 'old', 'old')",
        (hid, mid, cat, state),
    ).lastrowid


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(stored=st.lists(_row, max_size=4), incoming=st.lists(_row, min_size=1, max_size=4))
@example(  # two rules apply: the first stored record names it (was plan-dependent)
    stored=[(0, None, "tekun", "submitted"), (0, None, "rural_dibao", "applied")],
    incoming=[(0, None, "rural_dibao", "applied")],
)
def test_per_row_and_set_forms_agree(rule_store, stored, incoming):
    """The lifecycle's per-record check (enrolment._conflicts, one candidate at a time,
    each accepted one written before the next) and the set form (enrolment_rules.refused,
    all candidates at once) refuse the same candidates with the same codes."""
    store, hh = rule_store
    conn = store.conn
    cats = enr.categories(store)

    def place(r):
        hid, members = hh[r[0]]
        return hid, None if r[1] is None else members[r[1]]

    conn.execute("BEGIN")
    try:
        for r in stored:
            _raw_insert(conn, *place(r), r[2], r[3])
        wanted = [Row(i, *place(r), r[2], r[3]) for i, r in enumerate(incoming)]
        set_form = {
            k: code for k, (code, _why) in rules.refused(store, wanted, LIVE_STATES).items()
        }
        per_row = {}
        for w in wanted:
            if w.state not in LIVE_STATES:
                continue
            try:
                enr._conflicts(store, w.household_id, w.member_id, cats[w.category])
            except TransitionRefused as e:
                per_row[w.key] = e.code
                continue
            _raw_insert(conn, w.household_id, w.member_id, w.category, w.state)
        assert set_form == per_row
    finally:
        conn.execute("ROLLBACK")


def test_violations_list_every_clashing_pair():
    cats = {
        "tekun": {"name": "特困", "excludes": ["rural_dibao"]},
        "rural_dibao": {"name": "农村低保", "excludes": ["tekun"]},
        "elderly": {"name": "高龄", "excludes": []},
    }
    rows = [
        Row(1, 1, None, "rural_dibao"),
        Row(2, 1, 7, "tekun"),
        Row(3, 1, 7, "elderly"),
        Row(4, 1, 8, "elderly"),
        Row(5, 2, 9, "tekun"),
        Row(6, 2, 9, "tekun"),
    ]
    found = {(a.key, b.key, code) for a, b, code in rules.violations(rows, cats)}
    assert found == {(1, 2, "excluded_category"), (5, 6, "duplicate_enrolment")}


# -- the roster import ------------------------------------------------------------------
def _roster(path: Path, head: str, head_id: str, sheet: str = "农村低保") -> Path:
    member_per_row(
        path,
        [
            {
                "village": "青山村",
                "head": head,
                "covered": 1,
                "class": "一类",
                "amount": 600,
                "members": [(head, "户主", head_id)],
            }
        ],
        sheet=sheet,
    )
    return path


def test_roster_import_refuses_dibao_beside_a_live_tekun(store, single, today, tmp_path):
    """The attack: a roster created an active 农村低保 beside a live 特困 in the same
    household.  The row is now an error (``excluded_category``) and nothing is written."""
    head = single.members[0]
    tk = ready(store, single.id, "tekun", member_id=head.id, fen=90000, cls="全自理")
    before = store.scalar("SELECT count(*) FROM enrolments")
    path = _roster(tmp_path / "dibao.xlsx", head.name, head.id_number)
    plan = analyse(store, path, today=today)
    codes = [(p.code, p.severity) for p in plan.problems]
    assert ("excluded_category", "error") in codes
    problem = next(p for p in plan.problems if p.code == "excluded_category")
    assert "特困人员供养" in problem.message and f"编号{tk.id}" in problem.message
    with pytest.raises(ImportRefused, match="与该户已有救助类别互斥"):
        apply(store, plan, today=today)
    assert store.scalar("SELECT count(*) FROM enrolments") == before
    assert not [f for f in run_checks(store, today)[1] if f.household_id == single.id]


def test_the_service_refuses_at_write_time_too(store, single, today, tmp_path):
    """The write itself checks, not only the analysis: a 特困 that arrives between the
    analysis and the apply still stops the 低保 (whole import refused, nothing written)."""
    head = single.members[0]
    plan = analyse(store, _roster(tmp_path / "d.xlsx", head.name, head.id_number), today=today)
    assert not plan.errors
    ready(store, single.id, "tekun", member_id=head.id, fen=90000, cls="全自理")
    n = store.scalar("SELECT count(*) FROM enrolments")
    with pytest.raises(rules.EnrolmentRuleRefused) as err:
        apply(store, plan, today=today)
    assert err.value.code == "excluded_category"
    assert store.scalar("SELECT count(*) FROM enrolments") == n


def test_reimport_of_the_same_category_still_updates(store, today, tmp_path):
    """The set form knows an update from a second record: re-importing a changed
    amount replaces the live 低保, it does not clash with it."""
    head_id = make_id("19600101", 40)
    import_roster(store, _roster(tmp_path / "a.xlsx", "赵大", head_id), today=today)
    path = tmp_path / "b.xlsx"
    member_per_row(
        path,
        [
            {
                "village": "青山村",
                "head": "赵大",
                "covered": 1,
                "class": "二类",
                "amount": 700,
                "members": [("赵大", "户主", head_id)],
            }
        ],
    )
    rep = import_roster(store, path, today=today)
    assert rep["updated"] == 1 and not [p for p in rep["problems"] if p["severity"] == "error"]
    assert store.scalar("SELECT monthly_fen FROM enrolments WHERE status = 'active'") == 70000


# -- check: what older versions may have stored -------------------------------------------
def _check_codes(db: Path) -> list[tuple[str, int]]:
    """``mzdesk check --json`` in a real process: (code, household) of each finding."""
    proc = subprocess.run(
        [sys.executable, "-m", "mzdesk", "--db", str(db), "check", "--json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8"),
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return [(f["code"], f.get("household_id")) for f in json.loads(proc.stdout)["findings"]]


def test_check_finds_every_violation_stored_behind_the_service(store, family, single):
    """Rows an older version (or sqlite3) wrote without the rules: each pair is a
    finding with a code; before, only the both-在保 特困/低保 and duplicate cases were."""
    head, spouse = family.members[0], family.members[1]
    alone = single.members[0]
    db = Path(store.path)
    store.close()
    conn = sqlite3.connect(db)
    with conn:
        # 特困 待审核 beside a 低保 在保: the attack's shape (check said nothing)
        _raw_insert(conn, family.id, None, "rural_dibao", "active")
        _raw_insert(conn, family.id, head.id, "tekun", "submitted")
        # two live household-level 低保 records (one 申请, one 在保)
        _raw_insert(conn, single.id, None, "urban_dibao", "applied")
        _raw_insert(conn, single.id, None, "urban_dibao", "active")
        # both 在保: the codes check always had
        _raw_insert(conn, single.id, alone.id, "tekun", "active")
        _raw_insert(conn, family.id, spouse.id, "elderly", "active")
        _raw_insert(conn, family.id, spouse.id, "elderly", "active")
        # a stopped record blocks nothing
        _raw_insert(conn, family.id, spouse.id, "elderly", "stopped")
    conn.close()
    found = Counter(_check_codes(db))
    rule_codes = {"excluded_category", "duplicate_enrolment", "tekun_with_dibao"}
    rule_codes.add("two_active_enrolments")
    assert {k: n for k, n in found.items() if k[0] in rule_codes} == {
        ("excluded_category", family.id): 1,  # 特困 待审核 / 低保 在保
        ("two_active_enrolments", family.id): 1,
        ("duplicate_enrolment", single.id): 1,  # 低保 申请 / 低保 在保
        ("excluded_category", single.id): 1,  # 低保 申请 / 特困 在保
        ("tekun_with_dibao", single.id): 1,  # 低保 在保 / 特困 在保
    }


def test_check_knows_a_local_categorys_exclusions(store, family):
    from mzdesk.models.categories import add_local_category

    add_local_category(store, "county_aid", "县困难群众补贴", unit="household", excludes=["tekun"])
    head = family.members[0]
    _raw_insert(store.conn, family.id, None, "county_aid", "active")
    _raw_insert(store.conn, family.id, head.id, "tekun", "applied")
    store.conn.commit()
    findings = [f for f in run_checks(store)[1] if f.household_id == family.id]
    assert [f.code for f in findings] == ["excluded_category"]
    assert "县困难群众补贴" in findings[0].message and "特困人员供养" in findings[0].message


# -- the demo and notices go through the service -------------------------------------------
def test_demo_data_keeps_the_rules(store):
    from mzdesk.models.demo import generate_demo

    generate_demo(store, 400, seed=4)
    assert store.scalar("SELECT count(*) FROM enrolments") >= 20
    codes = {f.code for f in run_checks(store)[1]}
    assert not codes & {
        "excluded_category",
        "duplicate_enrolment",
        "tekun_with_dibao",
        "two_active_enrolments",
    }


def test_the_demo_writer_refuses_a_clashing_plan(store, single):
    from mzdesk.models.enrolment_demo import insert_demo_enrolments

    head = single.members[0]
    row = ("u1", single.id, head.id, "tekun", "全自理", "active", 1, 90000, "2025-06-01")
    rows = [
        (*row, "2025-07-01", None, "t", "t", "demo", "demo"),
        ("u2", single.id, None, "rural_dibao", "一类", "applied", 1, 50000, "2025-06-01")
        + (None, None, "t", "t", "demo", "demo"),
    ]
    with pytest.raises(rules.EnrolmentRuleRefused), store.transaction():
        insert_demo_enrolments(store, rows)
    assert store.scalar("SELECT count(*) FROM enrolments") == 0


# -- sync apply ----------------------------------------------------------------------------
@pytest.mark.parametrize("staged", [False, True], ids=["in-process", "worker"])
def test_sync_refuses_a_dibao_beside_a_live_tekun(tmp_path, monkeypatch, staged):
    """A field laptop registers a 低保 application for a household while the township
    registers a 特困 for its head: each legal where it was made.  The township applies
    the laptop's batch with the rules: the 低保 is set aside (possible 重复享受) with the
    rule in words, listed in the report, not applied; the rest of the batch is."""
    from mzdesk.models.registry import Registry
    from mzdesk.sync import staging
    from mzdesk.sync.conflicts import open_conflicts
    from tests.helpers import household
    from tests.sync.sites import link, make_site

    monkeypatch.setattr(staging, "STAGE_MIN", 0 if staged else 10**9)
    f = make_site(tmp_path, "341623101001", "青山镇入户终端", "field")
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    h = Registry(t.store).save(household("红旗村", ("周老汉", "户主", make_id("19450101", 71))))
    other = Registry(t.store).save(household("红旗村", ("吴大姐", "户主", make_id("19700101", 72))))
    link(t, f, villages=["红旗村"])
    f.import_(t.export(f))
    f_hid = {uid: hid for hid, uid in f.store.conn.execute("SELECT id, uid FROM households")}
    enr.create(f.store, f_hid[h.uid], "rural_dibao", cls="一类", monthly_fen=0)
    enr.create(f.store, f_hid[other.uid], "rural_dibao", cls="一类", monthly_fen=0)
    tk = enr.create(t.store, h.id, "tekun", member_id=h.members[0].id, cls="全自理")
    rep = t.import_(f.export(t))
    live = t.store.conn.execute(
        "SELECT household_id, category FROM enrolments WHERE status = 'active' ORDER BY id"
    ).fetchall()
    assert live == [(h.id, "tekun"), (other.id, "rural_dibao")]
    assert rep.tables["enrolments"].new == 1 and rep.tables["enrolments"].conflicts == 1
    [note] = [d["note"] for d in rep.duplicates]
    assert "特困人员供养" in note and f"编号{tk.id}" in note
    [c] = [c for c in open_conflicts(t.store) if c["tbl"] == "enrolments"]
    assert c["kind"] == "duplicate_id" and c["fields"] == ["category"]
    assert not [x for x in run_checks(t.store)[1] if x.household_id == h.id]
    for s in (f, t):
        s.store.close()


def test_sync_applies_a_stop_and_its_successor_together(tmp_path):
    """The set form reads a batch as its writes will stand: a township rejects a 特困
    application and registers a 低保 for the household instead; the county applies the
    two in one batch (the rejection frees the place), and an amount changed later on a
    record still applies."""
    from mzdesk.models.registry import Registry
    from tests.helpers import household
    from tests.sync.sites import link, make_site

    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    link(t, c)
    h = Registry(t.store).save(household("红旗村", ("周老汉", "户主", make_id("19450101", 81))))
    tk = enr.create(t.store, h.id, "tekun", member_id=h.members[0].id, cls="全自理")
    c.import_(t.export(c))
    enr.start_investigation(t.store, tk.id)
    c.import_(t.export(c))
    enr.reject(t.store, tk.id, "不符合特困条件")
    db = enr.create(t.store, h.id, "rural_dibao", cls="一类", monthly_fen=30000)
    rep = c.import_(t.export(c))
    assert rep.tables["enrolments"].conflicts == 0 and not rep.duplicates
    enr.amend(t.store, db.id, monthly_fen=35000)
    rep = c.import_(t.export(c))
    assert rep.tables["enrolments"].updated == 1 and rep.tables["enrolments"].conflicts == 0
    assert c.store.conn.execute(
        "SELECT category, state, monthly_fen FROM enrolments ORDER BY id"
    ).fetchall() == [("tekun", "rejected", 0), ("rural_dibao", "applied", 35000)]
    for s in (t, c):
        s.store.close()
