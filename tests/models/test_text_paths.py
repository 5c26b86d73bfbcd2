"""Every way text enters passes the text rule (models/text.py); every xlsx export survives
text that got in anyway.  Issue 18, item 4: a name imported from a cell holding
``_x001B_`` stopped ``roster export``, ``roster registry`` and ``notice --xlsx`` with
``内部错误 … IllegalCharacterError``, so the office could not print its payment roster.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook

from mzdesk.cli import main
from mzdesk.models import enrolment as enr
from mzdesk.models.auth import add_operator
from mzdesk.models.categories import add_local_category
from mzdesk.models.checks import run_checks, text_findings
from mzdesk.models.errors import FieldError, MzError, ValidationError
from mzdesk.models.forms import Field, _clean_simple
from mzdesk.models.notice import NoticeSpec, add_objection, create_notice
from mzdesk.models.relatives import declare
from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from mzdesk.models.text import has_forbidden
from tests.helpers import household, make_id
from tests.roster.books import member_per_row

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ESC, NUL = "\x1b", "\x00"


def run(capsys, *args) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def dump_hash(path) -> str:
    with sqlite3.connect(path) as raw:
        return hashlib.sha256("\n".join(raw.iterdump()).encode()).hexdigest()


def all_text(store: Store) -> str:
    """Every text value of the tables people type into, joined."""
    out = []
    for table in (
        "site",
        "households",
        "members",
        "enrolments",
        "enrolment_events",
        "notices",
        "notice_items",
        "objections",
        "operators",
        "declared_relatives",
    ):
        for row in store.conn.execute(f"SELECT * FROM {table}"):
            out += [v for v in row if isinstance(v, str)]
    return "\n".join(out)


def cells(path: Path) -> list:
    wb = load_workbook(path)  # reopening is the proof the file is a valid workbook
    return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def ready(store, household_id, category="rural_dibao"):
    e = enr.create(
        store,
        household_id,
        category,
        cls="二类",
        monthly_fen=76000,
        applied_on=dt.date(2026, 11, 1),
    )
    enr.start_investigation(store, e.id)
    enr.record_investigation(store, e.id, ["刘干事", "陈干事"], "核对通过", dt.date(2026, 11, 10))
    enr.deliberate(store, e.id, 12, "同意", dt.date(2026, 11, 15))
    return e.id


@pytest.fixture
def notice_today(monkeypatch):
    monkeypatch.setattr("mzdesk.models.notice._today", lambda: dt.date(2026, 11, 23))


# -- the reported failure: import, then the three exports ------------------------------
def test_excel_escapes_in_cells_import_clean_and_every_export_works(
    store, tmp_path, capsys, notice_today
):
    book = tmp_path / "roster.xlsx"
    # openpyxl writes the text as given; Excel readers decode _x001B_ into ESC (calamine too)
    member_per_row(
        book,
        [
            {
                "village": "甲_x001B_村",
                "amount": 900,
                "members": [
                    ("张_x001B_三", "户主", make_id("19600101", 1)),
                    ("李_x0000_四", "配偶", make_id("19610101", 2)),
                ],
            },
        ],
    )
    db = store.path
    code, out, err = run(capsys, "roster", "import", str(book), "--db", db, "--month", "2026-11")
    assert code == 0, err
    names = [r[0] for r in store.conn.execute("SELECT name FROM members ORDER BY id")]
    assert names == ["张三", "李四"]
    assert store.scalar("SELECT village FROM households") == "甲村"
    assert not has_forbidden(all_text(store))

    roster, registry_xlsx = tmp_path / "清册.xlsx", tmp_path / "花名册.xlsx"
    code, _, err = run(
        capsys, "roster", "export", "--db", db, "--month", "2026-11", "--out", str(roster)
    )
    assert code == 0, err
    assert "张三" in cells(roster)
    code, _, err = run(capsys, "roster", "registry", "--db", db, "--out", str(registry_xlsx))
    assert code == 0, err
    assert {"张三", "李四"} <= set(cells(registry_xlsx))

    hid = store.scalar("SELECT id FROM households")
    # a second household typed in the window with a pasted ESC: the service cleans it too
    from mzdesk.models.registry import Registry

    h = Registry(store).save(
        household("乙村", ("王\x1b五", "户主", make_id("19500101", 5))), today=dt.date(2026, 11, 23)
    )
    assert h.members[0].name == "王五"
    ready(store, h.id)
    assert hid != h.id
    pdf, xlsx = tmp_path / "n.pdf", tmp_path / "n.xlsx"
    code, out, err = run(
        capsys,
        "notice",
        "--db",
        db,
        "--out",
        str(pdf),
        "--start",
        "2026-12-01",
        "--hotline",
        "0558-8123456",
        "--xlsx",
        str(xlsx),
    )
    assert code == 0, err
    assert "王五" in cells(xlsx)


def test_a_dirty_database_still_produces_the_payment_roster_and_notice(
    store, tmp_path, capsys, notice_today
):
    """Text written behind mzdesk's back (raw sqlite3): the xlsx writers' last guard."""
    from mzdesk.models.registry import Registry

    h = Registry(store).save(
        household("乙村", ("王五", "户主", make_id("19500101", 5))), today=dt.date(2026, 11, 23)
    )
    eid = ready(store, h.id)
    create_notice(
        store, NoticeSpec(start=dt.date(2026, 12, 1), hotline="0558-8123456"), enrolment_ids=[eid]
    )
    store.conn.execute("UPDATE enrolments SET state = 'active', start_on = '2026-11-01'")
    dirty = f"王{ESC}五{NUL}"
    for sql in (
        "UPDATE members SET name = ?",
        "UPDATE households SET head_name = ?, address = ?",
        "UPDATE notice_items SET name = ?",
    ):
        store.conn.execute(sql, (dirty,) * sql.count("?"))
    store.conn.commit()
    db = store.path
    outs = {k: tmp_path / f"{k}.xlsx" for k in ("roster", "registry", "notice")}
    assert (
        run(
            capsys,
            "roster",
            "export",
            "--db",
            db,
            "--month",
            "2026-11",
            "--out",
            str(outs["roster"]),
        )[0]
        == 0
    )
    assert run(capsys, "roster", "registry", "--db", db, "--out", str(outs["registry"]))[0] == 0
    code, _, err = run(
        capsys,
        "notice",
        "--db",
        db,
        "--out",
        str(tmp_path / "n.pdf"),
        "--reprint",
        "1",
        "--xlsx",
        str(outs["notice"]),
    )
    assert code == 0, err
    for path in outs.values():
        assert "王五" in cells(path), path


# -- each intake path --------------------------------------------------------------------
def test_household_service_cleans_every_text_field_and_bounds_lengths(registry):
    h = household(
        f"红旗{ESC}村",
        ("张\u200b三", "户主", make_id("19800101", 1)),
        address="一组\u202e12号",
        notes=f"第一行\r\n第二行{NUL}",
    )
    h.members[0].occupation = f"务农{ESC}"
    saved = registry.save(h, today=dt.date(2026, 11, 23))
    row = registry.store.one("SELECT village, address, notes, head_name FROM households")
    assert dict(row) == {
        "village": "红旗村",
        "address": "一组12号",
        "notes": "第一行\n第二行",
        "head_name": "张三",
    }
    assert registry.store.scalar("SELECT occupation FROM members") == "务农"
    long = registry.get(saved.id)
    long.address = "住" * 40000
    long.members[0].name = "名" * 31
    with pytest.raises(ValidationError) as exc:
        registry.save(long, today=dt.date(2026, 11, 23))
    messages = {p.message for p in exc.value.problems}
    assert {"住址过长（最多200字）", "姓名过长（最多30字）"} <= messages


def test_services_refuse_40k_strings_and_strip_junk(store, registry):
    big = "字" * 40000
    with pytest.raises(FieldError, match="单位名称过长"):
        init_site(store, "341623101", big)
    with pytest.raises(FieldError, match="类别名称过长"):
        add_local_category(store, "county_aid", big)
    cat = add_local_category(store, "county_aid", f"县困难{ESC}补贴")
    assert cat["name"] == "县困难补贴"
    with pytest.raises(FieldError, match="显示名称过长"):
        add_operator(store, "wangfang", "secret-pass-1", "admin", display_name=big)
    op = add_operator(store, f"wangfang{NUL}", "secret-pass-1", "admin", display_name=f"王芳{ESC}")
    assert (op.name, op.display_name) == ("wangfang", "王芳")
    store.operator = "wangfang"
    h = registry.save(
        household("乙村", ("王五", "户主", make_id("19500101", 5))), today=dt.date(2026, 11, 23)
    )
    e = enr.create(store, h.id, "tekun", member_id=h.members[0].id, applied_on=dt.date(2026, 11, 1))
    with pytest.raises(FieldError, match="原因过长"):
        enr.reject(store, e.id, big)
    enr.start_investigation(store, e.id, reason=f"入户{ESC}")
    enr.reject(store, e.id, f"不符合条件{ESC}\u200f")
    assert (
        store.scalar("SELECT reason FROM enrolment_events WHERE action = 'reject'") == "不符合条件"
    )
    with pytest.raises(ValidationError, match="亲属姓名过长"):
        declare(store, "李主任", "staff", "", big, make_id("19700101", 7), "spouse")
    r = declare(
        store,
        f"李{ESC}主任",
        "staff",
        "",
        "王五",
        make_id("19500101", 5),
        "spouse",
        note=f"备注{NUL}",
    )
    assert (r.declarant_name, r.note) == ("李主任", "备注")
    with pytest.raises(MzError, match="注销原因过长"):
        registry.delete(h.id, big)
    assert not has_forbidden(all_text(store))


def test_notice_and_objection_text(store, registry, notice_today):
    h = registry.save(
        household("乙村", ("王五", "户主", make_id("19500101", 5))), today=dt.date(2026, 11, 23)
    )
    eid = ready(store, h.id)
    with pytest.raises(FieldError, match="监督电话过长"):
        create_notice(store, NoticeSpec(start=dt.date(2026, 12, 1), hotline="1" * 40000))
    nid = create_notice(
        store,
        NoticeSpec(
            start=dt.date(2026, 12, 1), hotline=f"0558{ESC}8123456", issuer="青山镇\u202e人民政府"
        ),
    )
    row = store.one("SELECT hotline, issuer FROM notices WHERE id = ?", (nid,))
    assert dict(row) == {"hotline": "05588123456", "issuer": "青山镇人民政府"}
    with pytest.raises(FieldError, match="异议内容过长"):
        add_objection(store, nid, eid, "村民", "异" * 40000, raised_on=dt.date(2026, 12, 2))
    add_objection(store, nid, eid, f"村民{ESC}", "有车\u200b辆", raised_on=dt.date(2026, 12, 2))
    assert dict(store.one("SELECT raised_by, content FROM objections")) == {
        "raised_by": "村民",
        "content": "有车辆",
    }


def test_form_answers_text_and_textarea():
    today = dt.date(2026, 11, 23)
    text = Field(key="k", label="情况", type="text")
    area = Field(key="a", label="说明", type="textarea")
    assert _clean_simple(text, f"良好{ESC}\n", None, today) == "良好"
    assert _clean_simple(area, f"第一行\r\n第二行{NUL}", None, today) == "第一行\n第二行"
    with pytest.raises(FieldError, match="内容过长"):
        _clean_simple(area, "字" * 40000, None, today)


def test_visit_text_and_photo_caption(store, registry, tmp_path):
    from PIL import Image

    from mzdesk.models.forms import library
    from mzdesk.models.visits import Visit, Visits, household_members, load_photo
    from tests.visits.conftest import answers_all_match

    today = dt.date(2026, 11, 23)
    hid = registry.save(household("乙村", ("王五", "户主", make_id("19500101", 5))), today).id
    answers = answers_all_match(library().latest("home_visit"), household_members(store, hid))
    Image.new("RGB", (40, 30), "white").save(tmp_path / "p.jpg")
    photo = load_photo(tmp_path / "p.jpg", caption=f"厨房{ESC}")
    big = Visit(hid, today, ["王调查", "赵核查"], dict(answers), conclusion="结" * 40000)
    with pytest.raises(ValidationError, match="调查结论过长"):
        Visits(store).save(big, today)
    v = Visits(store).save(
        Visit(
            hid,
            today,
            [f"王{ESC}调查", "赵\u200b核查"],
            dict(answers),
            conclusion=f"情况属实\r\n无异常{NUL}",
            photos=[photo],
        ),
        today,
    )
    row = store.one("SELECT investigators, conclusion FROM visits WHERE id = ?", (v.id,))
    assert row["conclusion"] == "情况属实\n无异常"
    assert not has_forbidden(row["investigators"])
    assert store.scalar("SELECT caption FROM visit_photos") == "厨房"


def test_cli_refuses_40k_strings_in_one_line_and_changes_nothing(
    store, registry, capsys, notice_today
):
    """Issue 18, item 7's 40k strings: every command that stores free text."""
    h = registry.save(
        household("乙村", ("王五", "户主", make_id("19500101", 5))), today=dt.date(2026, 11, 23)
    )
    eid = ready(store, h.id)
    other = ready(
        store,
        registry.save(
            household("丙村", ("赵六", "户主", make_id("19510101", 6))), today=dt.date(2026, 11, 23)
        ).id,
    )
    nid = create_notice(
        store, NoticeSpec(start=dt.date(2026, 12, 1), hotline="0558-8123456"), enrolment_ids=[eid]
    )
    db = store.path
    store.close()
    big = "字" * 40000
    before = dump_hash(db)
    d = ["--db", db]
    for args in (
        ["init", *d, "--site-code", "341623101", "--site-name", big],
        ["enrol", "category-add", *d, "county_aid", "--name", big],
        ["enrol", "category-add", *d, "county_aid", "--name", "县补贴", "--class", big],
        [
            "operators",
            "add",
            *d,
            "wang",
            "--role",
            "admin",
            "--display-name",
            big,
            "--password",
            "secret-pass-1",
        ],
        [
            "enrol",
            "apply",
            *d,
            "--household",
            str(h.id),
            "--category",
            "temporary",
            "--reason",
            big,
        ],
        ["enrol", "apply", *d, "--household", str(h.id), "--category", "temporary", "--class", big],
        ["enrol", "reject", *d, str(other), "--reason", big],
        ["enrol", "stop", *d, str(eid), "--reason", big],
        ["enrol", "object", *d, str(nid), str(eid), "--by", "村民", "--content", big],
        ["enrol", "object", *d, str(nid), str(eid), "--by", big, "--content", "有车"],
        [
            "notice",
            *d,
            "--out",
            str(Path(db).with_name("n.pdf")),
            "--start",
            "2026-12-01",
            "--hotline",
            big,
        ],
        [
            "notice",
            *d,
            "--out",
            str(Path(db).with_name("n.pdf")),
            "--start",
            "2026-12-01",
            "--hotline",
            "0558-8123456",
            "--issuer",
            big,
        ],
        [
            "relatives",
            "add",
            *d,
            "--declarant",
            big,
            "--role",
            "staff",
            "--name",
            "王五",
            "--id-number",
            make_id("19500101", 5),
            "--relation",
            "spouse",
        ],
        [
            "relatives",
            "add",
            *d,
            "--declarant",
            "李主任",
            "--role",
            "staff",
            "--name",
            "王五",
            "--id-number",
            make_id("19500101", 5),
            "--relation",
            "spouse",
            "--note",
            big,
        ],
    ):
        code, out, err = run(capsys, *args)
        assert code != 0, args
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "过长（最多" in lines[0] and "Traceback" not in err, (args, err)
        assert big[:100] not in err
        assert dump_hash(db) == before, args


def test_init_refuses_a_40k_site_name_before_creating_any_file(tmp_path, capsys):
    db = tmp_path / "new.sqlite"
    code, _, err = run(
        capsys, "init", "--db", str(db), "--site-code", "341623101", "--site-name", "镇" * 40000
    )
    assert code != 0 and "单位名称过长（最多60字）" in err
    assert not db.exists()


# -- sync ----------------------------------------------------------------------------------
@pytest.fixture
def pair(tmp_path):
    from tests.sync.sites import township_county

    t, c = township_county(tmp_path, 2, seed=3)
    c.import_(t.export(c))
    yield t, c
    t.store.close()
    c.store.close()


def _dirty_member(t) -> str:
    from tests.sync.sites import edit

    member = t.store.scalar("SELECT uid FROM members ORDER BY id LIMIT 1")
    edit(t.store, "members", member, name=f"王{ESC}五")  # written behind mzdesk's back
    return member


def test_this_version_never_sends_a_forbidden_character(pair):
    """The sender refuses before the batch takes its number: fixed, the next export goes."""
    t, c = pair
    member = _dirty_member(t)
    batches = t.store.scalar("SELECT count(*) FROM sync_batches")
    with pytest.raises(MzError) as exc:
        t.export(c)
    assert exc.value.code == "dirty_text" and "mzdesk check" in exc.value.message
    assert "王" not in exc.value.message
    assert t.store.scalar("SELECT count(*) FROM sync_batches") == batches
    from tests.sync.sites import edit

    edit(t.store, "members", member, name="王五")
    c.import_(t.export(c))
    assert c.store.scalar("SELECT name FROM members WHERE uid = ?", (member,)) == "王五"


@pytest.mark.parametrize("staged", [False, True], ids=["in_process", "worker"])
def test_a_batch_line_with_a_forbidden_character_is_refused_whole(pair, monkeypatch, staged):
    """From a sender at this version (a bug or a forged file): refused, nothing applied,
    whether the records are read in process or by the worker (large batches)."""
    from mzdesk.sync import staging
    from mzdesk.sync.batch import BatchRefused
    from tests.sync.sites import content

    monkeypatch.setattr(staging, "STAGE_MIN", 0 if staged else 10**9)
    t, c = pair
    _dirty_member(t)
    monkeypatch.setattr("mzdesk.sync.export.check_outgoing", lambda *a: None)
    batch = t.export(c)
    before = content(c.store)
    with pytest.raises(BatchRefused) as exc:
        c.import_(batch)
    assert exc.value.code == "dirty_text"
    assert "records/members.jsonl" in exc.value.message and "U+001B" in exc.value.message
    assert "王" not in exc.value.message  # names the column, never the text
    assert content(c.store) == before


@pytest.mark.parametrize("staged", [False, True], ids=["in_process", "worker"])
def test_an_older_senders_text_is_taken_as_sent_and_still_exports(
    pair, monkeypatch, tmp_path, staged
):
    """A site not yet upgraded: refusing its batch would stop its sync for good (a refused
    sequence number is never sent again differently).  Taken as sent; ``check`` flags it,
    the xlsx writers cope, and the sender's own upgrade (migration 14) cleans it."""
    from mzdesk.models.migrations import TEXT_RULE_VERSION
    from mzdesk.roster.exporter import export_registry
    from mzdesk.sync import staging

    monkeypatch.setattr(staging, "STAGE_MIN", 0 if staged else 10**9)
    t, c = pair
    member = _dirty_member(t)
    with monkeypatch.context() as m:
        m.setattr("mzdesk.sync.export.check_outgoing", lambda *a: None)
        m.setattr(Store, "schema_version", property(lambda s: TEXT_RULE_VERSION - 1))
        batch = t.export(c)
    c.import_(batch)
    assert c.store.scalar("SELECT name FROM members WHERE uid = ?", (member,)) == f"王{ESC}五"
    assert "dirty_text" in {f.code for f in text_findings(c.store)}
    out = tmp_path / "county.xlsx"
    export_registry(c.store, out)
    assert "王五" in cells(out)


# -- migration 14 and check ----------------------------------------------------------------
def test_upgrade_cleans_stored_text_audited_as_the_program(tmp_path):
    path = tmp_path / "v13.sqlite"
    shutil.copy(FIXTURES / "schema_v13.sqlite", path)
    with sqlite3.connect(path) as raw:
        raw.execute(
            "UPDATE members SET name = ?, name_tail = ? WHERE id = 1",
            (f"张{ESC}三丰", f"{ESC}三丰"),
        )
        raw.execute(
            "UPDATE households SET address = ?, notes = ? WHERE id = 2",
            ("新华村\u200b三组", "第一行\n第二行"),
        )
        raw.execute("UPDATE site SET name = ?", ("镇" * 100,))  # too long: left for check
    store = Store.open(path, operator="upgrader")
    try:
        m = store.one("SELECT name, name_tail, updated_by FROM members WHERE id = 1")
        assert (m["name"], m["name_tail"], m["updated_by"]) == ("张三丰", "三丰", "mzdesk 升级")
        h = store.one("SELECT address, notes, updated_by FROM households WHERE id = 2")
        assert dict(h) == {
            "address": "新华村三组",
            "notes": "第一行\n第二行",
            "updated_by": "mzdesk 升级",
        }
        assert store.scalar("SELECT updated_by FROM households WHERE id = 1") == "clerk"
        entry = store.one(
            "SELECT operator, old, new FROM audit_log WHERE tbl = 'members' "
            "AND field = 'name' ORDER BY seq DESC LIMIT 1"
        )
        assert dict(entry) == {"operator": "mzdesk 升级", "old": f"张{ESC}三丰", "new": "张三丰"}
        assert store.scalar("SELECT name FROM site") == "镇" * 100  # nothing is cut
        findings = text_findings(store)
        assert [(f.code, f.message) for f in findings] == [
            ("text_too_long", "文本超过长度上限（site 第1行 name）")
        ]
    finally:
        store.close()


def test_check_reports_text_written_behind_mzdesk_back_without_printing_it(store, registry):
    h = registry.save(
        household("乙村", ("王五", "户主", make_id("19500101", 5))), today=dt.date(2026, 11, 23)
    )
    assert text_findings(store) == []
    store.conn.execute("UPDATE members SET name = ?", ("王\u200d五",))
    store.conn.execute("UPDATE households SET address = ?", ("址" * 40000,))
    store.conn.commit()
    _, findings = run_checks(store, dt.date(2026, 11, 23))
    text = [
        (f.code, f.message, f.household_id)
        for f in findings
        if f.code.startswith(("dirty", "text"))
    ]
    assert text == [
        ("text_too_long", f"文本超过长度上限（households 第{h.id}行 address）", h.id),
        ("dirty_text", f"文本含控制字符或不可见字符（members 第{h.members[0].id}行 name）", h.id),
    ]
    assert all("王" not in f.message for f in findings if f.code == "dirty_text")
