"""Every enrolment transition, and every refusal, with the history each leaves."""

from __future__ import annotations

import datetime as dt

import pytest

from mzdesk.models import enrolment as enr
from mzdesk.models import notice as nt
from mzdesk.models import notice_rules
from mzdesk.models.categories import add_local_category, categories
from mzdesk.models.errors import MzError
from mzdesk.models.household import Member
from mzdesk.models.work_queues import queue
from tests.enrolment.conftest import publicised, ready
from tests.helpers import make_id
from tests.reviews.conftest import county_sets

DEC1 = dt.date(2026, 12, 1)
AFTER = dt.date(2026, 12, 8)  # the day after a 7-day notice starting 12-01


def test_full_path_records_who_when_why(store, family):
    e, nid = publicised(store, family.id)
    assert e.state == "publicised"
    e = enr.submit(store, e.id, today=AFTER, reason="报县民政局")
    assert e.state == "submitted"
    e = enr.confirm(store, e.id, today=dt.date(2026, 12, 15))
    assert (e.state, e.start_on, e.review_due) == ("active", "2027-01-01", "2027-07-01")
    hist = enr.history(store, e.id)
    assert [h["action"] for h in hist] == [
        "apply",
        "investigate",
        "record_investigation",
        "deliberate",
        "publicise",
        "submit",
        "confirm",
    ]
    assert all(h["by"] == "tester" and h["at"] for h in hist)
    assert hist[5]["reason"] == "报县民政局"
    assert hist[2]["detail"]["investigators"] == ["刘干事", "陈干事"]
    assert hist[4]["detail"]["notice_id"] == nid


def test_category_without_deliberation_goes_straight_to_notice(store, family):
    old = family.members[0]
    e = ready(store, family.id, category="elderly", member_id=old.id, fen=5000, cls="80-89岁")
    assert e.state == "investigating" and notice_rules.ready_for_notice(store, e) is None
    with pytest.raises(enr.TransitionRefused, match="不需要民主评议"):
        enr.deliberate(store, e.id, 5, "同意")


def test_dibao_needs_deliberation_before_notice(store, family):
    """With the county's 民主评议 setting on (tests/reviews/ tries off and 视情)."""
    county_sets(store, "on")
    e = enr.create(store, family.id, "rural_dibao", cls="一类", monthly_fen=90000)
    enr.start_investigation(store, e.id)
    with pytest.raises(enr.TransitionRefused, match="先登记入户调查"):
        enr.deliberate(store, e.id, 10, "同意")
    enr.record_investigation(store, e.id, ["甲", "乙"], "通过")
    assert notice_rules.ready_for_notice(store, enr.get(store, e.id)) == "尚未进行民主评议"
    with pytest.raises(MzError, match="尚未进行民主评议"):
        nt.create_notice(store, nt.NoticeSpec(DEC1, hotline="1"), enrolment_ids=[e.id])


def test_investigation_needs_two_investigators_and_verification(store, family):
    e = enr.start_investigation(store, enr.create(store, family.id, "rural_dibao").id)
    with pytest.raises(enr.TransitionRefused, match="至少需要两名"):
        enr.record_investigation(store, e.id, ["刘干事", " 刘干事 "], "通过")
    with pytest.raises(enr.TransitionRefused, match="核对结果"):
        enr.record_investigation(store, e.id, ["刘干事", "陈干事"], " ")
    assert enr.get(store, e.id).investigated_on is None


@pytest.mark.parametrize(
    "action, call",
    [
        ("investigate", lambda s, e: enr.start_investigation(s, e)),
        ("record", lambda s, e: enr.record_investigation(s, e, ["a", "b"], "ok")),
        ("submit", lambda s, e: enr.submit(s, e, today=AFTER)),
        ("confirm", lambda s, e: enr.confirm(s, e, today=AFTER)),
        ("review", lambda s, e: enr.review(s, e, "keep", today=AFTER)),
        ("review_stop", lambda s, e: enr.review(s, e, "stop", today=AFTER, reason="x")),
        ("stop", lambda s, e: enr.stop(s, e, "收入增加", today=AFTER)),
    ],
)
def test_illegal_transitions_say_why_and_change_nothing(store, family, action, call):
    e = enr.create(store, family.id, "rural_dibao")
    if action == "investigate":
        enr.start_investigation(store, e.id)  # now investigating: a second start is illegal
    rev = enr.get(store, e.id).rev
    with pytest.raises(enr.TransitionRefused, match="当前为“(申请|调查)”") as exc:
        call(store, e.id)
    assert exc.value.code == "illegal_transition"
    after = enr.get(store, e.id)
    assert after.rev == rev and len(enr.history(store, e.id)) == (
        2 if action == "investigate" else 1
    )


def test_reject_needs_reason_and_is_final(store, family):
    e = ready(store, family.id)
    with pytest.raises(enr.TransitionRefused, match="必须填写原因"):
        enr.reject(store, e.id, "  ")
    e = enr.reject(store, e.id, "家庭收入超过标准", today=DEC1)
    assert e.state == "rejected" and enr.history(store, e.id)[-1]["reason"] == "家庭收入超过标准"
    with pytest.raises(enr.TransitionRefused, match="当前为“不予确认”"):
        enr.start_investigation(store, e.id)
    # a rejected enrolment is history, not live: the household may apply again
    assert enr.create(store, family.id, "rural_dibao").state == "applied"


def test_county_rejects_submitted(store, family):
    e, _ = publicised(store, family.id)
    enr.submit(store, e.id, today=AFTER)
    e = enr.reject(store, e.id, "核查发现有商品房", today=AFTER)
    assert e.state == "rejected" and e.end_on == AFTER.isoformat()


def test_submit_refused_during_notice_period(store, family):
    e, _ = publicised(store, family.id)
    for day in (DEC1, dt.date(2026, 12, 7)):
        with pytest.raises(
            enr.TransitionRefused, match="公示期2026-12-01至2026-12-07尚未结束"
        ) as exc:
            enr.submit(store, e.id, today=day)
        assert exc.value.code == "notice_not_ended"
    assert enr.get(store, e.id).state == "publicised"


def test_open_objection_blocks_submit_and_confirm_until_closed(store, family, clock):
    clock(dt.date(2026, 12, 9))
    e, nid = publicised(store, family.id)
    oid = nt.add_objection(store, nid, e.id, "村民赵某", "该户有车", raised_on=dt.date(2026, 12, 3))
    with pytest.raises(enr.TransitionRefused, match="1条异议尚未处理完毕") as exc:
        enr.submit(store, e.id, today=AFTER)
    assert exc.value.code == "open_objection"
    nt.close_objection(store, oid, "入户核实：车辆为亲戚所有", "异议不成立")
    enr.submit(store, e.id, today=AFTER)
    nt.add_objection(store, nid, e.id, "村民钱某", "重复反映", raised_on=dt.date(2026, 12, 9))
    with pytest.raises(enr.TransitionRefused, match="异议尚未处理完毕"):
        enr.confirm(store, e.id, today=AFTER)
    rows = nt.objections(store, enrolment_id=e.id)
    assert [(r["raised_by"], r["state"]) for r in rows] == [
        ("村民赵某", "closed"),
        ("村民钱某", "open"),
    ]
    assert rows[0]["outcome"] == "异议不成立"


def test_objection_rules(store, family, single):
    e, nid = publicised(store, family.id)
    other = ready(store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理")
    with pytest.raises(MzError, match="不在公示"):
        nt.add_objection(store, nid, other.id, "甲", "乙", raised_on=DEC1)
    with pytest.raises(MzError, match="早于公示开始"):
        nt.add_objection(store, nid, e.id, "甲", "乙", raised_on=dt.date(2026, 11, 30))
    with pytest.raises(MzError, match="异议人"):
        nt.add_objection(store, nid, e.id, " ", "乙", raised_on=DEC1)
    oid = nt.add_objection(store, nid, e.id, "甲", "乙", raised_on=DEC1)
    with pytest.raises(MzError, match="核实情况"):
        nt.close_objection(store, oid, "", "成立")
    nt.close_objection(store, oid, "核实", "成立")
    with pytest.raises(MzError, match="已处理完毕"):
        nt.close_objection(store, oid, "核实", "成立")


def test_confirm_refused_before_notice_ends_even_if_submitted_early(store, family):
    """A submitted row whose notice was re-dated (or forged by sync) is still checked."""
    e, nid = publicised(store, family.id)
    enr.submit(store, e.id, today=AFTER)
    store.conn.execute("UPDATE notices SET end_on = '2026-12-20' WHERE id = ?", (nid,))
    with pytest.raises(enr.TransitionRefused, match="尚未结束"):
        enr.confirm(store, e.id, today=AFTER)


def test_no_dibao_for_a_person_in_tekun(store, single):
    old = single.members[0]
    t = ready(store, single.id, category="tekun", member_id=old.id, cls="半自理", fen=72000)
    with pytest.raises(enr.TransitionRefused, match="不能同时享受“农村低保”") as exc:
        enr.create(store, single.id, "rural_dibao")
    assert exc.value.code == "excluded_category"
    enr.reject(store, t.id, "不符合条件")
    assert enr.create(store, single.id, "rural_dibao").state == "applied"
    with pytest.raises(enr.TransitionRefused, match="不能同时享受“特困人员供养”"):
        enr.create(store, single.id, "tekun", member_id=old.id)


def test_no_two_live_enrolments_in_one_category_per_person(store, family):
    old = family.members[0]
    enr.create(store, family.id, "elderly", member_id=old.id, cls="80-89岁")
    with pytest.raises(enr.TransitionRefused, match="同一人同一类别") as exc:
        enr.create(store, family.id, "elderly", member_id=old.id, cls="80-89岁")
    assert exc.value.code == "duplicate_enrolment"
    # another person of the same household may have their own
    enr.create(store, family.id, "elderly", member_id=family.members[1].id)
    enr.create(store, family.id, "rural_dibao")
    with pytest.raises(enr.TransitionRefused, match="同一人同一类别"):
        enr.create(store, family.id, "rural_dibao")


def test_confirm_rechecks_exclusions_against_active(store, single):
    old = single.members[0]
    e, _ = publicised(store, single.id, category="tekun", member_id=old.id, cls="全自理")
    enr.submit(store, e.id, today=AFTER)
    # a 低保 made active behind the rules' back (e.g. arrived by an old import)
    store.conn.execute(
        "INSERT INTO enrolments (uid, household_id, category, state, covered, created_at, "
        "updated_at, created_by, updated_by) VALUES ('x', ?, 'rural_dibao', 'active', 1, '', '', '', '')",
        (single.id,),
    )
    with pytest.raises(enr.TransitionRefused, match="不能同时享受"):
        enr.confirm(store, e.id, today=AFTER)
    assert enr.get(store, e.id).state == "submitted"


def test_create_refusals(store, family, single):
    with pytest.raises(MzError, match="未知的救助类别"):
        enr.create(store, family.id, "nope")
    with pytest.raises(enr.TransitionRefused, match="按人保障"):
        enr.create(store, family.id, "tekun")
    with pytest.raises(enr.TransitionRefused, match="不属于该家庭"):
        enr.create(store, family.id, "elderly", member_id=single.members[0].id)
    with pytest.raises(enr.TransitionRefused, match="档次应为"):
        enr.create(store, family.id, "rural_dibao", cls="四类")
    with pytest.raises(enr.TransitionRefused, match="不能为负数"):
        enr.create(store, family.id, "rural_dibao", monthly_fen=-1)
    with pytest.raises(enr.TransitionRefused, match="至少为1人"):
        enr.create(store, family.id, "rural_dibao", covered=0)
    assert store.scalar("SELECT count(*) FROM enrolments") == 0


def test_assistance_amounts_in_fen_are_capped_however_they_come(store, family, single, clock):
    """Fen passed directly (not parsed from yuan) meet the same 100,000 元 cap."""
    clock(dt.date(2027, 6, 20))
    from mzdesk.models.money import MAX_ASSISTANCE_FEN

    too_much = MAX_ASSISTANCE_FEN + 1
    with pytest.raises(MzError, match="超过上限") as exc:
        enr.create(store, family.id, "rural_dibao", monthly_fen=9_999_999_999_900)
    assert exc.value.code == "amount_too_large"
    assert store.scalar("SELECT count(*) FROM enrolments") == 0
    e = enr.create(store, family.id, "rural_dibao", monthly_fen=MAX_ASSISTANCE_FEN)  # the cap: ok
    with pytest.raises(MzError, match="超过上限"):
        enr.amend(store, e.id, monthly_fen=too_much)
    assert enr.amend(store, e.id, monthly_fen=76000).monthly_fen == 76000
    e = active(store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理")
    with pytest.raises(MzError, match="超过上限") as exc:
        enr.review(store, e.id, "change", today=dt.date(2027, 6, 20), monthly_fen=too_much)
    assert exc.value.code == "amount_too_large"
    after = enr.get(store, e.id)
    assert (after.monthly_fen, after.notice_pending, after.rev) == (76000, "", e.rev)


def test_deceased_member_cannot_apply(store, registry, family):
    h = registry.get(family.id)
    h.members[0].deceased_on = dt.date(2026, 10, 1)
    registry.save(h, today=dt.date(2026, 11, 23))
    with pytest.raises(enr.TransitionRefused, match="死亡"):
        enr.create(store, family.id, "elderly", member_id=h.members[0].id)


def test_covered_defaults_to_assistance_members(store, registry, family):
    assert enr.create(store, family.id, "rural_dibao").covered == 3
    h = registry.get(family.id)
    h.members.append(
        Member(name="张外出", relation="子", id_number=make_id("19800505", 7), in_assistance=False)
    )
    registry.save(h, today=dt.date(2026, 11, 23))
    assert enr.create(store, family.id, "temporary").covered == 3


def test_amend_before_notice_only(store, family):
    e = ready(store, family.id)
    e = enr.amend(store, e.id, cls="一类", monthly_fen=95000, reason="调查核定")
    assert (e.cls, e.monthly_fen) == ("一类", 95000)
    nt.create_notice(store, nt.NoticeSpec(DEC1, hotline="1"), enrolment_ids=[e.id])
    with pytest.raises(enr.TransitionRefused, match="请走复核流程"):
        enr.amend(store, e.id, monthly_fen=1)


def active(store, household_id, **kw):
    e, _ = publicised(store, household_id, **kw)
    enr.submit(store, e.id, today=AFTER)
    return enr.confirm(store, e.id, today=dt.date(2026, 12, 15))


def test_review_keep_sets_next_due(store, family, clock):
    clock(dt.date(2027, 6, 20))
    e = active(store, family.id)
    e = enr.review(store, e.id, "keep", today=dt.date(2027, 6, 20), reason="情况稳定")
    assert (e.state, e.review_due, e.notice_pending) == ("active", "2027-12-20", "")


def test_review_change_goes_on_next_notice(store, family, clock):
    clock(dt.date(2027, 6, 20))
    e = active(store, family.id)
    with pytest.raises(enr.TransitionRefused, match="请填写新的金额"):
        enr.review(store, e.id, "change", today=dt.date(2027, 6, 20))
    e = enr.review(
        store, e.id, "change", today=dt.date(2027, 6, 20), monthly_fen=50000, reason="务工收入增加"
    )
    assert (e.monthly_fen, e.notice_pending) == (50000, "change")
    assert enr.history(store, e.id)[-1]["detail"]["old_fen"] == 76000
    spec = nt.NoticeSpec(dt.date(2027, 7, 1), hotline="1")
    nid = nt.create_notice(store, spec, today=dt.date(2027, 6, 20))
    n = nt.get_notice(store, nid)
    assert [(i.action, i.monthly_fen) for i in n.items] == [("change", 50000)]
    assert "变更公示" in n.title
    assert enr.get(store, e.id).notice_pending == ""


def test_review_stop_and_stop(store, family, single, clock):
    clock(dt.date(2027, 3, 5))
    e = active(store, family.id)
    with pytest.raises(enr.TransitionRefused, match="必须填写原因"):
        enr.review(store, e.id, "stop", today=dt.date(2027, 3, 5))
    e = enr.review(store, e.id, "stop", today=dt.date(2027, 3, 5), reason="收入超标")
    assert (e.state, e.end_on, e.notice_pending) == ("stopped", "2027-03-31", "stop")
    with pytest.raises(enr.TransitionRefused, match="复核结果应为"):
        enr.review(store, e.id, "raise")
    t = active(store, single.id, category="tekun", member_id=single.members[0].id, cls="全自理")
    with pytest.raises(enr.TransitionRefused, match="必须填写原因"):
        enr.stop(store, t.id, "")
    t = enr.stop(store, t.id, "死亡", today=dt.date(2027, 2, 10))
    assert (t.state, t.end_on, t.stop_reason) == ("stopped", "2027-02-28", "死亡")
    with pytest.raises(enr.TransitionRefused, match="当前为“停发”"):
        enr.stop(store, t.id, "again")


def test_notice_rules(store, family):
    ready(store, family.id)
    with pytest.raises(MzError, match="不得少于7天"):
        nt.create_notice(store, nt.NoticeSpec(DEC1, hotline="1", days=6))
    with pytest.raises(MzError, match="监督电话"):
        nt.create_notice(store, nt.NoticeSpec(DEC1, hotline=" "))
    with pytest.raises(MzError, match="没有待公示"):
        nt.create_notice(store, nt.NoticeSpec(DEC1, hotline="1"), village="不存在村")
    assert store.scalar("SELECT count(*) FROM notices") == 0


def test_review_due_queue(store, family):
    e = active(store, family.id)
    assert queue(store, "review_due", today=dt.date(2027, 5, 1)) == []
    rows = queue(store, "review_due", today=dt.date(2027, 6, 15))
    assert [r["id"] for r in rows] == [e.id]
    assert [r["id"] for r in queue(store, "active")] == [e.id]


def test_local_category(store, family):
    cat = add_local_category(
        store, "county_winter", "冬季取暖补贴", unit="household", payment="one_off", review_months=0
    )
    assert cat["local"] and categories(store)["county_winter"]["name"] == "冬季取暖补贴"
    e = enr.create(store, family.id, "county_winter", monthly_fen=30000)
    assert enr.describe(store, e) == "冬季取暖补贴"
    with pytest.raises(MzError, match="与国家类别重复"):
        add_local_category(store, "tekun", "x")
    with pytest.raises(MzError, match="字母"):
        add_local_category(store, "冬季", "x")


def test_deliberation_needs_attendance_and_result(store, family):
    e = enr.create(store, family.id, "rural_dibao")
    enr.start_investigation(store, e.id)
    enr.record_investigation(store, e.id, ["甲", "乙"], "通过")
    for attendance, result in ((0, "同意"), (5, " ")):
        with pytest.raises(enr.TransitionRefused, match="参会人数和评议结果"):
            enr.deliberate(store, e.id, attendance, result)
    assert enr.get(store, e.id).state == "investigating"


def test_confirm_refused_without_any_notice(store, family):
    """A row pushed to 待审核 without a notice (e.g. an old import) cannot be confirmed."""
    e = enr.create(store, family.id, "rural_dibao")
    store.conn.execute("UPDATE enrolments SET state = 'submitted' WHERE id = ?", (e.id,))
    with pytest.raises(enr.TransitionRefused, match="没有公示记录") as exc:
        enr.confirm(store, e.id, today=AFTER)
    assert exc.value.code == "not_publicised"


def test_household_being_paid_cannot_be_deleted_until_stopped(store, registry, family):
    from mzdesk.roster.monthly import paid_enrolments

    e, _ = publicised(store, family.id)
    enr.confirm(store, enr.submit(store, e.id, today=AFTER).id, today=AFTER)
    with pytest.raises(MzError, match=r"农村低保 二类（编号\d+，在保）.*先.*停发") as info:
        registry.delete(family.id, "迁出本乡")
    assert info.value.code == "enrolment_running"
    assert registry.get(family.id).status == "active"
    assert [p["id"] for p in paid_enrolments(store, dt.date(2027, 1, 1))] == [e.id]

    enr.stop(store, e.id, "迁出本乡", today=dt.date(2026, 12, 20))
    registry.delete(family.id, "迁出本乡")  # paid to the end of December, then gone
    assert registry.get(family.id, as_deleted=True).status == "deleted"
    assert paid_enrolments(store, dt.date(2027, 1, 1)) == []
    # the stop is still publicised: the village learns why the payment ended
    from mzdesk.models import notice

    rows = notice.candidates(store)
    assert [(r["id"], r["action"]) for r in rows] == [(e.id, "stop")]
    nid = notice.create_notice(store, notice.NoticeSpec(dt.date(2026, 12, 21), hotline="1"))
    assert [(i.action, i.enrolment_id) for i in notice.get_notice(store, nid).items] == [
        ("stop", e.id)
    ]
    assert notice.candidates(store) == []


def test_household_on_a_notice_or_at_the_county_cannot_be_deleted(store, registry, family):
    e, _ = publicised(store, family.id)
    with pytest.raises(MzError, match="公示"):
        registry.delete(family.id, "迁出")
    enr.submit(store, e.id, today=AFTER)
    with pytest.raises(MzError, match="待审核"):
        registry.delete(family.id, "迁出")
    enr.reject(store, e.id, "收入超标", today=AFTER)
    registry.delete(family.id, "迁出")


def test_household_with_only_an_application_can_be_deleted(store, registry, family):
    enr.create(store, family.id, "rural_dibao", cls="二类", monthly_fen=76000)
    registry.delete(family.id, "申请人撤回后迁出")
    assert registry.get(family.id, as_deleted=True).status == "deleted"


def test_a_member_being_paid_cannot_be_removed_until_stopped(store, registry, family):
    """A person's own enrolment (高龄津贴 for the head) would go on paying someone no longer
    in the household, with an empty ID on the 补贴清册: removing them is refused until it
    ends, as 注销 is; other members can still be removed."""
    from mzdesk.roster.monthly import paid_enrolments

    head = family.members[0]
    e, _ = publicised(
        store, family.id, category="elderly", member_id=head.id, fen=10000, cls="80-89岁"
    )
    enr.confirm(store, enr.submit(store, e.id, today=AFTER).id, today=AFTER)
    h = registry.get(family.id)
    h.members = [m for m in h.members if m.id != head.id]
    h.members[0].relation = "户主"
    with pytest.raises(MzError, match=r"高龄津贴.*（编号\d+，在保）.*停发") as info:
        registry.save(h, today=AFTER)
    assert info.value.code == "enrolment_running"
    assert [m.name for m in registry.get(family.id).members][0] == head.name  # unchanged
    h = registry.get(family.id)
    h.members = [m for m in h.members if m.name != "张小宝"]  # no enrolment of their own
    registry.save(h, today=AFTER)
    assert len(registry.get(family.id).members) == 2
    enr.stop(store, e.id, "迁出本乡", today=dt.date(2026, 12, 20))
    h = registry.get(family.id)
    h.members = [m for m in h.members if m.id != head.id]
    h.members[0].relation = "户主"
    registry.save(h, today=dt.date(2026, 12, 20))
    assert paid_enrolments(store, dt.date(2027, 1, 1)) == []
