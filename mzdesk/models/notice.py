"""Public notices (公示) as records: which enrolments, the period, objections (异议).

Creating a notice freezes every printed row in ``notice_items`` (village,
name, covered persons, category, amount, remark, masked ID when asked), so
printing the notice again — next week or next year — reproduces it exactly,
whatever happened to the households since.

>>> from mzdesk.models.household import Household, Member
>>> from mzdesk.models.registry import Registry
>>> from mzdesk.models.site import init_site
>>> store = Store.open(":memory:", operator="clerk")
>>> init_site(store, "341623101", "青山镇")
Site(code='341623101', name='青山镇', role='township')
>>> h = Registry(store).save(Household(village="红旗村", members=[
...     Member(name="王小明", relation="户主", id_number="34162319900101009X")]))
>>> e = enr.create(store, h.id, "rural_dibao", cls="二类", monthly_fen=76000)
>>> e = enr.start_investigation(store, e.id)
>>> e = enr.record_investigation(store, e.id, ["王调查", "赵核查"], "收入低于低保标准")
>>> e = enr.deliberate(store, e.id, attendance=9, result="同意")
>>> spec = NoticeSpec(start=dt.date.today(), hotline="0558-1234567")
>>> nid = create_notice(store, spec)            # every enrolment awaiting notice
>>> n = get_notice(store, nid)
>>> n.end_on - n.start_on                       # 7 days, both counted
datetime.timedelta(days=6)
>>> enr.get(store, e.id).state
'publicised'
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import dates
from . import enrolment as enr
from .auth import require
from .categories import categories, category_code, lifecycle_settings
from .enrolment_bulk import publicise_listed
from .errors import MzError, NotFound
from .files import replacing
from .ids import mask_id
from .notice_rules import ready_for_notice
from .site import require_site
from .store import Store, new_uid, now_iso
from .text import field_text
from .work_queues import queue

ACTION_LABELS = {"new": "新增", "change": "变更", "stop": "停发"}
PAGE_SIZES = ("A4", "A3")
# The period: at least lifecycle.notice_min_days (7, the national rule), at most 60 days: a
# notice exists so that objections come in before the county decides; two months on the
# board is already longer than any provincial practice, and more is a typing mistake
# (--days 100000 ended in 2300) that would hold the enrolments in 公示 for ever.
NOTICE_MAX_DAYS = 60
# A notice may start before today only when it records a paper notice already posted
# (backdate_reason says when and where), and at most this many days back: otherwise a
# start 10 days ago plus an immediate submit skips the 7 days on the board.
NOTICE_MAX_BACKDATE_DAYS = dates.NOTICE_MAX_BACKDATE_DAYS


@dataclass
class NoticeSpec:
    """What the clerk chooses when making a notice."""

    start: dt.date
    hotline: str = ""
    days: int = 7
    address: str = ""
    issuer: str = ""
    issued_on: dt.date | None = None
    show_id: bool = False
    page_size: str = "A4"
    landscape: bool = False
    title: str = ""
    backdate_reason: str = ""  # required when ``start`` is before today (补录纸质公示)


@dataclass
class NoticeItem:
    seq: int
    village: str
    village_group: str
    name: str
    id_masked: str
    covered: int
    category: str
    category_label: str
    monthly_fen: int
    action: str
    enrolment_id: int = 0

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]


@dataclass
class Notice:
    id: int
    uid: str
    title: str
    township: str
    start_on: dt.date
    end_on: dt.date
    hotline: str
    address: str
    issuer: str
    issued_on: dt.date
    show_id: bool
    page_size: str
    landscape: bool
    items: list[NoticeItem] = field(default_factory=list)

    @property
    def days(self) -> int:
        return (self.end_on - self.start_on).days + 1

    def villages(self) -> list[tuple[str, list[NoticeItem]]]:
        """Items grouped by village, in notice order (one section per village)."""
        out: dict[str, list[NoticeItem]] = {}
        for it in self.items:
            out.setdefault(it.village, []).append(it)
        return list(out.items())


def period_end(start: dt.date, days: int) -> dt.date:
    """Last day of a notice of ``days`` days starting on ``start`` (both days count)."""
    return start + dt.timedelta(days=days - 1)


_NUMERALS = {c: i for i, c in enumerate("零一二三四五六七八九十")}


def group_key(group: str) -> tuple[int, str]:
    """Village groups in their natural order: 二组 before 十组, 3组 before 12组.

    >>> sorted(["十一组", "二组", "10组", "三组"], key=group_key)
    ['二组', '三组', '10组', '十一组']
    """
    digits = "".join(ch for ch in group if ch.isdigit() and ch.isascii())
    if digits:
        return int(digits), group
    total, cur = 0, 0
    for ch in group:
        n = _NUMERALS.get(ch)
        if n is None:
            break
        if n == 10:
            total += (cur or 1) * 10
            cur = 0
        else:
            cur = n
    value = total + cur
    return (value if value else 10_000), group


def _today() -> dt.date:
    return dates.current_day()


def is_backdated(start: dt.date, today: dt.date | None = None) -> bool:
    """A start before today: only a paper notice already posted, with a reason (补录)."""
    return start < (today or _today())


def check_period(spec: NoticeSpec, today: dt.date | None = None) -> None:
    """The period rules, for the notice builder to show before publishing.

    ``days`` from ``notice_min_days`` (7) to :data:`NOTICE_MAX_DAYS`; ``start`` today or
    up to ``dates.NOTICE_MAX_AHEAD_DAYS`` later, or up to :data:`NOTICE_MAX_BACKDATE_DAYS`
    earlier with a ``backdate_reason``.
    """
    today = today or _today()
    min_days = int(lifecycle_settings()["notice_min_days"])
    if spec.days < min_days:
        raise MzError(f"公示期不得少于{min_days}天（现为{spec.days}天）", "notice_too_short")
    if spec.days > NOTICE_MAX_DAYS:
        raise MzError(f"公示期不得超过{NOTICE_MAX_DAYS}天（现为{spec.days}天）", "notice_too_long")
    if is_backdated(spec.start, today):
        if (today - spec.start).days > NOTICE_MAX_BACKDATE_DAYS:
            raise MzError(
                f"公示开始日期{spec.start}早于今天{NOTICE_MAX_BACKDATE_DAYS}天以上，不能补录",
                "notice_backdated_too_far",
            )
        if not spec.backdate_reason.strip():
            raise MzError(
                f"公示开始日期{spec.start}早于今天（{today}）：只有补录已张贴的纸质公示"
                "才能这样做，请填写补录说明（张贴日期和地点）",
                "notice_backdated",
            )
    else:  # a start in 2099 would hold its enrolments in 公示 for decades
        dates.check_date("notice_start", spec.start, today=today, field="start")
    if spec.issued_on is not None:
        dates.check_date("notice_issued", spec.issued_on, today=today, field="issued_on")


def clean_spec(spec: NoticeSpec) -> NoticeSpec:
    """``spec`` with its free text through the text rule (models/text.py)."""
    texts: dict[str, Any] = {
        name: field_text(getattr(spec, name), kind, label, name)
        for name, kind, label in (
            ("title", "title", "公示标题"),
            ("hotline", "title", "监督电话"),
            ("address", "address", "受理地址"),
            ("issuer", "title", "落款单位"),
            ("backdate_reason", "reason", "补录说明"),
        )
    }
    return replace(spec, **texts)


def township_name(store: Store) -> str:
    name = require_site(store).name
    for suffix in ("民政办", "民政所", "人民政府"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def defaults(store: Store) -> dict:
    """Hotline, address and issuer of the last notice (or sensible ones for a first)."""
    last = store.one("SELECT hotline, address, issuer FROM notices ORDER BY id DESC LIMIT 1")
    town = township_name(store)
    return last or {"hotline": "", "address": f"{town}民政办", "issuer": f"{town}人民政府"}


def candidates(
    store: Store,
    village: str | None = None,
    category: str | None = None,
    enrolment_ids: list[int] | None = None,
) -> list[dict]:
    """Enrolments awaiting notice (new, changed or stopped), optionally narrowed."""
    rows = queue(store, "notice")
    if village:
        rows = [r for r in rows if r["village"] == village]
    if category:
        rows = [r for r in rows if r["category"] == category]
    if enrolment_ids is not None:
        wanted = set(enrolment_ids)
        rows = [r for r in rows if r["id"] in wanted]
    for r in rows:
        r["action"] = r["notice_pending"] or "new"
    return rows


def _title(town: str, start: dt.date, cats: set[str], actions: set[str], store: Store) -> str:
    names = categories(store)
    what = names[next(iter(cats))]["name"] if len(cats) == 1 else "社会救助"
    kind = "拟保障对象公示" if "new" in actions else "保障对象变更公示"
    return f"{town}{start.year}年{start.month}月{what}{kind}"


def create_notice(
    store: Store,
    spec: NoticeSpec,
    enrolment_ids: list[int] | None = None,
    village: str | None = None,
    category: str | None = None,
    write: Callable[[int], object] | None = None,
    today: dt.date | None = None,
) -> int:
    """Publicise: freeze the rows, move new enrolments to 公示, clear pending changes.

    With neither ids nor filters: every enrolment awaiting notice.  One transaction.
    ``write(notice_id)`` runs inside it, after everything is recorded: when it raises
    (a full disk), nothing is recorded.  See :func:`publish_notice`.
    """
    require(store, "notice.publish")
    spec = clean_spec(spec)
    check_period(spec, today)
    if category is not None:
        category = category_code(store, category)
    hotline = (spec.hotline or "").strip()
    if not hotline:
        raise MzError("请填写监督电话", "hotline_required")
    if spec.page_size not in PAGE_SIZES:
        raise MzError(f"纸张应为 {'/'.join(PAGE_SIZES)}", "bad_page_size")
    with store.transaction():
        rows = candidates(store, village, category, enrolment_ids)
        if enrolment_ids is not None:
            missing = set(enrolment_ids) - {r["id"] for r in rows}
            for eid in sorted(missing):
                why = ready_for_notice(store, enr.get(store, eid)) or "不在待公示列表中"
                raise MzError(f"保障记录{eid}不能公示：{why}", "not_ready_for_notice")
        if not rows:
            raise MzError("没有待公示的保障记录", "nothing_to_publicise")
        # a notice cannot go up before the home visits it reports on (the latest one)
        visits = [(r["investigated_on"], r["id"]) for r in rows if r["action"] == "new"]
        last, eid = max((v for v in visits if v[0]), default=(None, 0))
        visit = (f"保障记录{eid}的入户调查日期", last)
        day = today or _today()
        dates.check_date("notice_start", spec.start, today=day, field="start", not_before=[visit])
        town = township_name(store)
        d = defaults(store)
        end = period_end(spec.start, spec.days)
        title = spec.title.strip() or _title(
            town, spec.start, {r["category"] for r in rows}, {r["action"] for r in rows}, store
        )
        issued = spec.issued_on or spec.start
        stamp = store.stamp(new=True)
        nid = store.conn.execute(
            "INSERT INTO notices (uid, title, township, start_on, end_on, hotline, address, "
            "issuer, issued_on, show_id, page_size, landscape, created_at, updated_at, "
            "created_by, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new_uid(),
                title,
                town,
                spec.start.isoformat(),
                end.isoformat(),
                hotline,
                (spec.address or d["address"]).strip(),
                (spec.issuer or d["issuer"]).strip(),
                issued.isoformat(),
                int(spec.show_id),
                spec.page_size,
                int(spec.landscape),
                stamp["created_at"],
                stamp["updated_at"],
                stamp["created_by"],
                stamp["updated_by"],
            ),
        ).lastrowid
        assert nid is not None  # an INSERT's rowid
        rows.sort(
            key=lambda r: (
                r["village"],
                group_key(r["village_group"]),
                r["action"] != "new",
                r["name"],
                r["id"],
            )
        )
        cats = categories(store)
        ids = _id_numbers(store, [r["id"] for r in rows]) if spec.show_id else {}
        from .components import notice_parts  # the county's switch: parts beside the total

        items = []
        for seq, r in enumerate(rows, 1):
            short = cats.get(r["category"], {}).get("short", r["category"])
            items.append(
                (
                    new_uid(),
                    nid,
                    r["id"],
                    seq,
                    r["village"],
                    r["village_group"],
                    r["name"],
                    mask_id(ids.get(r["id"])),
                    r["covered"],
                    r["category"],
                    f"{short} {r['cls']}".strip() + notice_parts(store, r["id"]),
                    r["monthly_fen"],
                    r["action"],
                )
            )
        store.conn.executemany(
            "INSERT INTO notice_items (uid, notice_id, enrolment_id, seq, village, village_group, "
            "name, id_masked, covered, category, category_label, monthly_fen, action) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            items,
        )
        # one statement each for the whole notice: rows come from the notice queue, so
        # every "new" row is in 调查/评议 and may move to 公示 (the same rule as _move)
        info = {"notice_id": nid, "start_on": spec.start.isoformat(), "end_on": end.isoformat()}
        if is_backdated(spec.start, today):
            info["backdate_reason"] = spec.backdate_reason.strip()  # on record with the event
        detail = json.dumps(info, ensure_ascii=False, sort_keys=True)
        publicise_listed(store, rows, detail)  # the enrolment service's set-based write
        if write is not None:
            write(nid)
        return nid


Writer = Callable[[Store, int, "str | Path"], object]


def publish_notice(
    store: Store,
    spec: NoticeSpec,
    outputs: list[tuple[str | Path, Writer]],
    enrolment_ids: list[int] | None = None,
    village: str | None = None,
    category: str | None = None,
) -> int:
    """Create the notice and write its files, all or nothing.

    ``outputs``: ``(path, writer)`` pairs, ``writer(store, notice_id, part_path)`` (e.g. the
    PDF's ``write_pdf``).  Each file is written to ``<path>.part`` inside the notice's
    transaction and named only after the commit: a failed write records no notice and
    leaves the enrolments awaiting notice; a failed commit leaves no file.
    """
    require(store, "notice.publish")
    with contextlib.ExitStack() as stack:
        parts = [(out, stack.enter_context(replacing(out)), writer) for out, writer in outputs]

        def write(nid: int) -> None:
            for out, part, writer in parts:
                try:
                    writer(store, nid, part)
                except OSError as exc:  # name the file the clerk asked for, not its .part
                    if exc.filename is None or str(exc.filename).startswith(str(part)):
                        raise OSError(exc.errno, exc.strerror or str(exc), str(out)) from exc
                    raise

        return create_notice(store, spec, enrolment_ids, village, category, write=write)


def _id_numbers(store: Store, enrolment_ids: list[int]) -> dict[int, str]:
    """The ID of the person a row names (the member, or the head for household rows)."""
    out = {}
    for eid, number in store.conn.execute(
        "SELECT e.id, coalesce(m.id_number, h.head_id_number) FROM enrolments e "
        "JOIN households h ON h.id = e.household_id LEFT JOIN members m ON m.id = e.member_id "
        f"WHERE e.id IN ({', '.join('?' * len(enrolment_ids))})",
        enrolment_ids,
    ):
        out[eid] = number or ""
    return out


def get_notice(store: Store, notice_id: int) -> Notice:
    r = store.one("SELECT * FROM notices WHERE id = ?", (notice_id,))
    if r is None:
        raise NotFound(f"没有编号为 {notice_id} 的公示")
    items = [
        NoticeItem(*row)
        for row in store.conn.execute(
            "SELECT seq, village, village_group, name, id_masked, covered, category, "
            "category_label, monthly_fen, action, enrolment_id FROM notice_items "
            "WHERE notice_id = ? ORDER BY seq",
            (notice_id,),
        )
    ]
    return Notice(
        r["id"],
        r["uid"],
        r["title"],
        r["township"],
        dt.date.fromisoformat(r["start_on"]),
        dt.date.fromisoformat(r["end_on"]),
        r["hotline"],
        r["address"],
        r["issuer"],
        dt.date.fromisoformat(r["issued_on"]),
        bool(r["show_id"]),
        r["page_size"],
        bool(r["landscape"]),
        items,
    )


def list_notices(store: Store) -> list[dict]:
    return list(
        store.db.query(
            "SELECT n.id, n.title, n.start_on, n.end_on, count(i.id) AS rows, "
            "(SELECT count(*) FROM objections o WHERE o.notice_id = n.id AND o.state = 'open') "
            "AS open_objections FROM notices n LEFT JOIN notice_items i ON i.notice_id = n.id "
            "GROUP BY n.id ORDER BY n.id DESC"
        )
    )


# -- objections (异议) -------------------------------------------------------------
def add_objection(
    store: Store,
    notice_id: int,
    enrolment_id: int,
    raised_by: str,
    content: str,
    raised_on: dt.date | None = None,
) -> int:
    """Record an objection to one row of a notice; it blocks submission until closed."""
    require(store, "enrolment.edit")
    raised_on = dates.check_date("objection_on", raised_on or dates.current_day())
    raised_by = field_text(raised_by, "title", "异议人", "raised_by")
    content = field_text(content, "reason", "异议内容", "content")
    if not raised_by or not content:
        raise MzError("请填写异议人和异议内容", "objection_incomplete")
    with store.transaction():
        n = get_notice(store, notice_id)
        if not any(it.enrolment_id == enrolment_id for it in n.items):
            raise MzError(f"保障记录{enrolment_id}不在公示{notice_id}上", "not_on_notice")
        if raised_on < n.start_on:
            raise MzError(f"异议日期{raised_on}早于公示开始日期{n.start_on}", "objection_date")
        stamp = store.stamp(new=True)
        oid = store.conn.execute(
            "INSERT INTO objections (uid, notice_id, enrolment_id, raised_by, raised_on, content, "
            "created_at, updated_at, created_by, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new_uid(),
                notice_id,
                enrolment_id,
                raised_by.strip(),
                raised_on.isoformat(),
                content.strip(),
                stamp["created_at"],
                stamp["updated_at"],
                stamp["created_by"],
                stamp["updated_by"],
            ),
        ).lastrowid
        assert oid is not None  # an INSERT's rowid
        return oid


def close_objection(store: Store, objection_id: int, follow_up: str, outcome: str) -> None:
    """The follow-up (调查核实) and outcome (异议成立/不成立 ...) close an objection."""
    require(store, "enrolment.edit")
    follow_up = field_text(follow_up, "reason", "核实情况", "follow_up")
    outcome = field_text(outcome, "reason", "处理结果", "outcome")
    if not follow_up or not outcome:
        raise MzError("请填写核实情况和处理结果", "objection_incomplete")
    with store.transaction():
        row = store.one("SELECT state FROM objections WHERE id = ?", (objection_id,))
        if row is None:
            raise NotFound(f"没有编号为 {objection_id} 的异议")
        if row["state"] == "closed":
            raise MzError("该异议已处理完毕", "objection_closed")
        store.conn.execute(
            "UPDATE objections SET follow_up = ?, outcome = ?, state = 'closed', updated_at = ?, "
            "updated_by = ? WHERE id = ?",
            (follow_up.strip(), outcome.strip(), now_iso(), store.operator, objection_id),
        )


def objections(
    store: Store, notice_id: int | None = None, enrolment_id: int | None = None
) -> list[dict]:
    where, params = ["1 = 1"], []
    if notice_id is not None:
        where.append("notice_id = ?")
        params.append(notice_id)
    if enrolment_id is not None:
        where.append("enrolment_id = ?")
        params.append(enrolment_id)
    return list(
        store.db.query(
            "SELECT id, notice_id, enrolment_id, raised_by, raised_on, content, follow_up, outcome, "
            f"state, created_by FROM objections WHERE {' AND '.join(where)} ORDER BY id",
            params,
        )
    )


class _Preview(Exception):
    """Raised inside :func:`preview_notice` to roll its transaction back."""


def preview_notice(
    store: Store,
    spec: NoticeSpec,
    enrolment_ids: list[int] | None = None,
    village: str | None = None,
    category: str | None = None,
) -> Notice:
    """The notice :func:`create_notice` would make, without recording anything.

    Runs the real thing in a transaction and rolls it back, so the preview can
    never differ from what is then published.
    """
    if store._depth:
        raise MzError("预览公示不能在其他事务中进行", "preview_in_transaction")
    made: list[Notice] = []
    try:
        with store.transaction():
            nid = create_notice(store, spec, enrolment_ids, village, category)
            made.append(get_notice(store, nid))
            raise _Preview
    except _Preview:
        pass
    return made[0]
