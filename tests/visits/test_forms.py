"""Form templates: structure checks, answer validation, template upgrades."""

from __future__ import annotations

import json
import shutil

import pytest

from mzdesk.models.booklets import Booklet, Booklets
from mzdesk.models.errors import ValidationError
from mzdesk.models.forms import (
    FormLibrary,
    TemplateError,
    library,
    parse_template,
    validate_answers,
)
from mzdesk.models.visits import Visit, Visits, household_members
from mzdesk.resources import resource_path


def test_shipped_templates_parse():
    lib = library()
    for tid in ("home_visit", "care_booklet"):
        t = lib.latest(tid)
        assert t.version >= 1 and list(t.fields())


@pytest.mark.parametrize(
    "body, message",
    [
        ({"version": 1, "sections": []}, "id"),
        (
            {
                "id": "x",
                "version": 1,
                "sections": [
                    {
                        "key": "s",
                        "title": "S",
                        "fields": [{"key": "a", "type": "colour", "label": "A"}],
                    }
                ],
            },
            "类型",
        ),
        (
            {
                "id": "x",
                "version": 1,
                "sections": [
                    {
                        "key": "s",
                        "title": "S",
                        "fields": [{"key": "a", "type": "single", "label": "A"}],
                    }
                ],
            },
            "选项",
        ),
        (
            {
                "id": "x",
                "version": 1,
                "sections": [
                    {
                        "key": "s",
                        "title": "S",
                        "fields": [
                            {
                                "key": "a",
                                "type": "text",
                                "label": "A",
                                "show_if": {"field": "b", "in": ["x"]},
                            }
                        ],
                    }
                ],
            },
            "不存在",
        ),
    ],
)
def test_bad_templates_refused(body, message):
    with pytest.raises(TemplateError, match=message):
        parse_template(body)


def test_answer_types(today):
    t = library().latest("care_booklet")
    clean, problems = validate_answers(
        t,
        {
            "household_type": "农村低保户",
            "difficulty_summary": " 户主长期患病 ",
            "causes": ["其他", "因病"],
            "causes_detail": "子女上学",
            "measures": [{"date": "2026-03-01", "measure": "送米面油", "result": ""}],
            "helper_name": "陈干部",
            "helper_phone": "0558-1234567",
        },
        today=today,
    )
    assert problems == []
    assert clean["causes"] == ["因病", "其他"]  # template order
    assert clean["measures"] == [{"date": "2026-03-01", "measure": "送米面油"}]
    _, problems = validate_answers(
        t,
        {
            "household_type": "富裕户",
            "causes": ["其他"],
            "helper_phone": "abc",
            "measures": [{"date": "2026-13-01", "measure": "x"}],
            "nonsense": 1,
        },
        today=today,
    )
    codes = {(p.field, p.code) for p in problems}
    assert ("household_type", "bad_answer") in codes
    assert ("causes_detail", "missing_required") in codes
    assert ("helper_phone", "bad_answer") in codes
    assert ("measures", "bad_answer") in codes
    assert ("nonsense", "unknown_field") in codes
    assert ("helper_name", "missing_required") in codes


def test_money_and_number_answers(today):
    t = library().latest("home_visit")
    clean, problems = validate_answers(
        t, {"monthly_income": "1,234.5", "housing_area": "85.5", "land_mu": -1}, today=today
    )
    assert clean["monthly_income"] == 123450 and clean["housing_area"] == 85.5
    assert any(p.field == "land_mu" for p in problems)


def _library_with_v2(tmp_path) -> FormLibrary:
    """A copy of the shipped forms plus a home_visit v2 that drops an item,
    renames another and adds a new one."""
    folder = tmp_path / "forms"
    shutil.copytree(resource_path("forms"), folder)
    body = json.loads((folder / "home_visit.v1.json").read_text(encoding="utf-8"))
    body["version"] = 2
    items = body["sections"][1]["fields"]
    items[:] = [f for f in items if not f["key"].startswith("valuables")]
    for f in items:
        if f["key"] == "housing":
            f["label"] = "住房及宅基地情况"
    items.append({"key": "bank_card", "type": "check", "label": "一卡通账户核对", "required": True})
    (folder / "home_visit.v2.json").write_text(json.dumps(body, ensure_ascii=False), "utf-8")
    return FormLibrary(folder)


def test_template_upgrade_keeps_old_records(store, village, full_answers, today, tmp_path):
    from mzdesk.reports.checklist_pdf import write_checklists

    old = Visits(store).save(
        Visit(village[0], today, ["王调查", "赵核查"], dict(full_answers), conclusion="情况属实"),
        today,
    )
    lib2 = _library_with_v2(tmp_path)
    # the shipped v1 file disappears too: the database copy still serves the old record
    (lib2.folder / "home_visit.v1.json").unlink()
    visits = Visits(store, lib2)
    back = visits.get(old.id)
    t_old = visits.template(back)
    assert (t_old.version, back.answers["valuables"]) == (1, "符合")
    assert t_old.field("housing").label == "住房情况"
    visits.save(back, today)  # re-saving keeps it under v1 and still validates
    assert visits.get(old.id).template_version == 1
    # a new visit is filled with v2; v1 answers do not fit it
    new = Visit(village[1], today, ["王调查", "赵核查"], dict(full_answers), conclusion="情况属实")
    with pytest.raises(ValidationError) as exc:
        visits.save(new, today)
    assert {p.field for p in exc.value.problems} >= {"valuables", "bank_card"}
    new.answers = {k: v for k, v in full_answers.items() if not k.startswith("valuables")}
    new.answers["bank_card"] = "符合"
    new.answers["members_present"] = list(household_members(store, village[1]))[:1]
    assert visits.save(new, today).template_version == 2
    # both print, each under its own version
    out = tmp_path / "both.pdf"
    write_checklists(store, [old.household_id, new.household_id], out, visits=visits)
    import subprocess

    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "大件家电及贵重物品" in text and "一卡通账户核对" in text
    assert "住房及宅基地情况" in text and "住房情况" in text


def test_booklet_save_and_reload(store, village, today):
    b = Booklet(
        village[0],
        {
            "household_type": "农村低保户",
            "difficulty_summary": "长期患病",
            "causes": ["因病"],
            "helper_name": "陈干部",
            "helper_phone": "13900000000",
        },
    )
    Booklets(store).save(b, today)
    back = Booklets(store).get(village[0])
    assert (back.template_version, back.answers["causes"]) == (1, ["因病"])
    with pytest.raises(ValidationError):
        back.answers["helper_phone"] = "12"
        Booklets(store).save(back, today)
    assert Booklets(store).get(village[0]).answers["helper_phone"] == "13900000000"


def test_date_answers_typed_the_usual_ways(today):
    from mzdesk.models.forms import validate_answers

    t = library().latest("care_booklet")
    rows = [{"date": d, "measure": "送米面油"} for d in ("2026/3/1", "2026.3.2", "2026年3月3日")]
    clean, problems = validate_answers(t, {"measures": rows}, {}, today)
    assert [r["date"] for r in clean["measures"]] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    _, problems = validate_answers(t, {"measures": [{"date": "3月1日", "measure": "x"}]}, {}, today)
    [bad] = [p for p in problems if p.field == "measures"]
    assert "年-月-日" in bad.message and "3月1日" in bad.message
