"""近亲属备案: declarations, flagged enrolments, check finding, audit, sync, CLI, permission."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mzdesk.models import auth, enrolment, relatives
from mzdesk.models.auth import PermissionDenied
from mzdesk.models.checks import run_checks
from mzdesk.models.errors import ValidationError
from mzdesk.models.registry import Registry
from tests.helpers import household, make_id

SON = make_id("19900101", 11)
WIFE = make_id("19820303", 22)


@pytest.fixture
def families(store):
    reg = Registry(store)
    a = reg.save(
        household("红旗村", ("张三", "户主", make_id("19600101", 1)), ("张小军", "子", SON))
    )
    b = reg.save(household("新华村", ("李四", "户主", make_id("19650101", 3))))
    dibao = enrolment.create(store, a.id, "rural_dibao")
    tekun = enrolment.create(store, b.id, "tekun", member_id=b.members[0].id)
    return a, b, dibao, tekun


def declare_son(store):
    # full-width digits and a lower-case x style input are normalised by ids.parse_id
    raw = SON.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return relatives.declare(store, "王主任", "cadre", "红旗村", "张小军", f" {raw} ", "child")


def test_declared_relative_flags_the_household_enrolment_and_only_it(store, families):
    a, b, dibao, tekun = families
    assert relatives.flagged_enrolments(store) == []
    r = declare_son(store)
    assert r.id_masked == SON[:6] + "********" + SON[-4:]
    assert store.scalar("SELECT id_number FROM declared_relatives") == SON  # stored normalised
    flagged = relatives.flagged_enrolments(store)
    assert [(f.enrolment_id, f.member_name, f.relative_id_masked) for f in flagged] == [
        (dibao.id, "张小军", r.id_masked)
    ]
    assert SON not in json.dumps([f.as_dict() for f in flagged], ensure_ascii=False)
    # the check reports it, naming the household, never the full ID
    _, findings = run_checks(store)
    found = [f for f in findings if f.code == "declared_relative"]
    assert [(f.household_id, f.member) for f in found] == [(a.id, "张小军")]
    # a stopped enrolment is history: no longer flagged; a withdrawn declaration neither
    relatives.withdraw(store, r.id)
    assert relatives.flagged_enrolments(store) == [] and relatives.list_relatives(store) == []


def test_member_enrolment_matches_on_its_own_member(store, families):
    _, b, _, tekun = families
    relatives.declare(store, "刘会计", "staff", "", "李四", b.members[0].id_number, "sibling")
    assert [f.enrolment_id for f in relatives.flagged_enrolments(store)] == [tekun.id]


def test_bad_declaration_reports_every_field_and_writes_nothing(store):
    with pytest.raises(ValidationError) as exc:
        bad = SON[:-1] + ("1" if SON[-1] != "1" else "2")
        relatives.declare(store, " ", "mayor", "", "", bad, "cousin")
    fields = {p.field for p in exc.value.problems}
    assert fields == {"declarant_name", "declarant_role", "relative_name", "relation", "id_number"}
    with pytest.raises(ValidationError):  # a cadre must name the village
        relatives.declare(store, "王主任", "cadre", "", "张小军", SON, "child")
    declare_son(store)
    with pytest.raises(ValidationError, match="已备案过"):
        declare_son(store)
    assert store.scalar("SELECT count(*) FROM declared_relatives") == 1


def test_audited_and_permission_checked(accounts):
    store = accounts
    auth.login(store, "clerk", "clerk-pass-1")
    r = relatives.declare(store, "王主任", "staff", "", "张小军", SON, "child")
    entry = store.one(
        "SELECT operator, action, new FROM audit_log WHERE tbl = 'declared_relatives'"
    )
    assert entry["operator"] == "clerk" and entry["action"] == "insert"
    for name in ("field", "viewer", "county"):
        auth.login(store, name, f"{name}-pass-1")
        with pytest.raises(PermissionDenied):
            relatives.declare(store, "王主任", "staff", "", "某某", WIFE, "spouse")
        with pytest.raises(PermissionDenied):
            relatives.withdraw(store, r.id)
    assert store.scalar("SELECT count(*) FROM declared_relatives WHERE status = 'active'") == 1


def test_declarations_travel_to_the_county(tmp_path):
    from tests.sync.sites import link, make_site

    town = make_site(tmp_path, "341623101", "青山镇", "township")
    county = make_site(tmp_path, "341623", "县民政局", "county")
    link(town, county)
    h = Registry(town.store).save(
        household("红旗村", ("张三", "户主", make_id("19600101", 1)), ("张小军", "子", SON))
    )
    enrolment.create(town.store, h.id, "rural_dibao")
    declare_son(town.store)
    county.import_(town.export(county))
    assert relatives.list_relatives(county.store)[0].relative_name == "张小军"
    assert [f.member_name for f in relatives.flagged_enrolments(county.store)] == ["张小军"]


def test_cli_add_list_flagged_masks_ids(tmp_path, families, store):
    from mzdesk.cli import cli

    db = ["--db", store.path]
    run = CliRunner().invoke
    res = run(
        cli,
        [
            "relatives",
            "add",
            "--declarant",
            "王主任",
            "--role",
            "cadre",
            "--village",
            "红旗村",
            "--name",
            "张小军",
            "--id-number",
            SON.lower(),
            "--relation",
            "child",
            *db,
        ],
    )
    assert res.exit_code == 0, res.output
    assert "已备案" in res.output and SON not in res.output
    res = run(cli, ["relatives", "list", "--json", *db])
    assert json.loads(res.output)[0]["id_masked"] == SON[:6] + "********" + SON[-4:]
    res = run(cli, ["relatives", "flagged", *db])
    assert res.exit_code == 0 and "张小军" in res.output and SON not in res.output
    assert "共 1 条" in res.output
    res = run(cli, ["relatives", "flagged", "--json", *db])
    assert [f["category"] for f in json.loads(res.output)] == ["rural_dibao"]
    res = run(
        cli,
        [
            "relatives",
            "add",
            "--declarant",
            "王主任",
            "--role",
            "staff",
            "--name",
            "某",
            "--id-number",
            "123",
            "--relation",
            "child",
            *db,
        ],
    )
    assert res.exit_code != 0
