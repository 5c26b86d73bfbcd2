"""Visits: two-investigator rule, follow-up tasks, photos, transactions."""

from __future__ import annotations

import pytest
from PIL import Image

from mzdesk.models.errors import MzError, ValidationError
from mzdesk.models.visits import Visit, Visits, close_task, list_tasks, load_photo


def make_visit(hid, day, answers, **kw):
    kw.setdefault("investigators", ["王调查", "赵核查"])
    kw.setdefault("conclusion", "情况属实")
    return Visit(household_id=hid, visit_date=day, answers=dict(answers), **kw)


def test_visit_saved_with_template_version(store, village, full_answers, today):
    v = Visits(store).save(make_visit(village[0], today, full_answers), today)
    back = Visits(store).get(v.id)
    assert (back.template_id, back.template_version) == ("home_visit", 1)
    assert back.answers["housing"] == "符合"
    assert back.investigators == ["王调查", "赵核查"]
    assert list_tasks(store, village[0]) == []


@pytest.mark.parametrize("people", [[], ["王调查"], ["王调查", " 王 调查 "], ["王调查", ""]])
def test_fewer_than_two_investigators_refused(store, village, full_answers, today, people):
    with pytest.raises(ValidationError) as exc:
        Visits(store).save(make_visit(village[0], today, full_answers, investigators=people), today)
    assert any(p.code == "too_few_investigators" for p in exc.value.problems)
    assert store.scalar("SELECT count(*) FROM visits") == 0


def test_mismatch_opens_one_task_per_item_and_tasks_close(store, village, full_answers, today):
    answers = dict(full_answers, housing="不符合", vehicles="不符合")
    with pytest.raises(ValidationError) as exc:  # the note is required once 不符合
        Visits(store).save(make_visit(village[0], today, answers), today)
    assert {p.field for p in exc.value.problems} == {"housing_note", "vehicles_note"}
    answers.update(housing_note="新建二层楼房", vehicles_note="有小汽车一辆")
    visits = Visits(store)
    v = visits.save(make_visit(village[0], today, answers), today)
    tasks = list_tasks(store, village[0])
    assert [(t["item_key"], t["kind"]) for t in tasks] == [
        ("housing", "update_household"),
        ("vehicles", "start_review"),
    ]
    assert "新建二层楼房" in tasks[0]["detail"]
    visits.save(v, today)  # saving again does not duplicate the tasks
    assert len(list_tasks(store, village[0])) == 2
    with pytest.raises(MzError):
        close_task(store, tasks[0]["id"], "  ")
    close_task(store, tasks[0]["id"], "已更新住房信息")
    assert [t["item_key"] for t in list_tasks(store, village[0])] == ["vehicles"]
    done = list_tasks(store, village[0], state="done")
    assert done[0]["closed_by"] == "tester" and done[0]["close_note"] == "已更新住房信息"


def test_hidden_note_dropped_and_future_date_refused(store, village, full_answers, today):
    import datetime as dt

    v = make_visit(village[0], today, dict(full_answers, housing_note="不该保存"))
    Visits(store).save(v, today)
    assert "housing_note" not in Visits(store).get(v.id).answers
    with pytest.raises(ValidationError):
        Visits(store).save(
            make_visit(village[0], today + dt.timedelta(days=1), full_answers), today
        )


def test_unknown_member_refused(store, village, full_answers, today):
    with pytest.raises(ValidationError, match="不是本户成员"):
        Visits(store).save(
            make_visit(village[0], today, dict(full_answers, members_present=["nope"])), today
        )


def test_photos_resized_thumbnailed_and_kept(store, village, full_answers, today, tmp_path):
    p = tmp_path / "house.png"
    Image.new("RGB", (4000, 3000), (200, 80, 40)).save(p)
    photo = load_photo(p, "房屋外观")
    assert max(photo.width, photo.height) == 1600
    v = Visits(store).save(make_visit(village[0], today, full_answers, photos=[photo]), today)
    back = Visits(store).get(v.id)
    assert back.photos[0].caption == "房屋外观"
    assert Image.open(__import__("io").BytesIO(back.photos[0].thumbnail)).size[0] <= 200
    back.photos = []
    Visits(store).save(back, today)
    assert Visits(store).get(v.id).photos == []
    assert store.scalar("SELECT count(*) FROM visit_photos WHERE status = 'deleted'") == 1


def test_bad_and_oversized_photos_refused(tmp_path, monkeypatch):
    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(MzError, match="不是有效的图片"):
        load_photo(bad)
    import mzdesk.models.visits as visits

    monkeypatch.setattr(visits, "MAX_PHOTO_BYTES", 5)
    with pytest.raises(MzError) as exc:
        load_photo(bad)
    assert exc.value.code == "photo_too_large"


def test_stamps_and_uids_on_every_row(store, village, full_answers, today):
    Visits(store).save(
        make_visit(
            village[0], today, dict(full_answers, income="不符合", income_note="有务工收入")
        ),
        today,
    )
    for table in ("visits", "followup_tasks"):
        row = store.one(f"SELECT * FROM {table}")
        assert len(row["uid"]) == 32 and row["created_by"] == "tester" and row["updated_at"]


def _failing(store, table: str):
    """From now on, writing a row into ``table`` fails as a full disk would."""
    store.conn.execute(
        f"CREATE TEMP TRIGGER fail_{table} BEFORE INSERT ON {table} "
        "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )
    return lambda: store.conn.execute(f"DROP TRIGGER fail_{table}")


def test_a_save_that_failed_halfway_can_simply_be_saved_again(
    store, village, full_answers, today, tmp_path
):
    """A step after the visit's own row fails (the task, a photo): nothing is kept, and the
    same visit, saved again once the disk has room, is saved, not refused as changed."""
    import sqlite3

    p = tmp_path / "house.png"
    Image.new("RGB", (400, 300), (200, 80, 40)).save(p)
    answers = dict(full_answers, housing="不符合", housing_note="新建二层楼房")
    v = make_visit(village[0], today, answers, photos=[load_photo(p)])
    fixed = _failing(store, "followup_tasks")
    with pytest.raises(sqlite3.Error):
        Visits(store).save(v, today)
    assert (v.id, v.uid, v.rev, v.photos[0].id) == (None, None, 0, None)
    assert store.scalar("SELECT count(*) FROM visits") == 0
    fixed()
    Visits(store).save(v, today)
    assert (v.rev, len(Visits(store).get(v.id).photos), len(list_tasks(store, v.household_id))) == (
        1,
        1,
        1,
    )

    # an edit of a saved visit: its revision stays the committed one
    v.photos.append(load_photo(p, "第二张"))
    fixed = _failing(store, "visit_photos")
    with pytest.raises(sqlite3.Error):
        Visits(store).save(v, today)
    assert (v.rev, v.photos[1].id) == (1, None)
    fixed()
    Visits(store).save(v, today)
    assert v.rev == 2 and [x.caption for x in Visits(store).get(v.id).photos] == ["", "第二张"]


def test_resaving_a_visit_after_a_present_member_left(
    store, registry, village, full_answers, today
):
    h = registry.get(village[0])
    everyone = [m.uid for m in h.members]
    v = Visits(store).save(
        make_visit(h.id, today, dict(full_answers, members_present=everyone)), today
    )
    h.members = h.members[:1]
    registry.save(h, today)
    again = Visits(store).get(v.id)
    again.conclusion = "建议复核"
    Visits(store).save(again, today)  # was refused: 在场家庭成员: 不是本户成员
    assert Visits(store).get(v.id).answers["members_present"] == everyone
    with pytest.raises(ValidationError):  # a new visit cannot name someone who left
        Visits(store).save(
            make_visit(h.id, today, dict(full_answers, members_present=everyone)), today
        )
