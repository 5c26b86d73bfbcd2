"""Home visits (入户调查/核查), their photos and the follow-up tasks they raise.

A visit is one household, one date, **at least two investigators** (refused
otherwise), the checklist answers (template id + version kept with the row),
photos, the conclusion and the household representative's acknowledgement.
Each checklist item answered 不符合 opens a follow-up task on the household
(e.g. update the members, start a review); tasks are listed and closed.

Photos are kept **in the database** (``visit_photos.image`` / ``thumbnail``),
not in a folder beside it: the database is the one file that is backed up,
copied to a field laptop and sent in sync batches, so the evidence can never
be separated from its visit (no dangling paths, no half-copied folders).  Size
stays bounded: the input file may be at most :data:`MAX_PHOTO_BYTES`, and it is
re-encoded to a JPEG of at most :data:`MAX_PHOTO_SIDE` pixels (typically
150-400 KB) plus a :data:`THUMB_SIDE` pixel thumbnail (a few KB) that lists
show without decoding the photo.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import dates
from .auth import allowed, require
from .errors import FieldError, MzError, NotFound, ValidationError
from .forms import (
    DATE_HINT,
    FormLibrary,
    Template,
    library,
    mismatches,
    parse_day,
    remember_template,
    template_for,
    validate_answers,
)
from .store import Store, new_uid, unchanged_on_failure
from .text import clean as clean_text
from .text import collect, field_text

VISIT_KINDS = {"investigation": "入户调查", "verification": "入户核查", "spot_check": "抽查复核"}
CONCLUSIONS = ("情况属实", "情况有变化，需变更", "建议复核", "建议停发")
TASK_KINDS = {
    "update_members": "更新家庭成员",
    "update_household": "更新家庭信息",
    "start_review": "启动复核",
    "other": "其他",
}
CHECKLIST_TEMPLATE = "home_visit"
MIN_INVESTIGATORS = 2
MAX_PHOTO_BYTES = 15 * 1024 * 1024
MAX_PHOTO_SIDE = 1600
THUMB_SIDE = 200
MAX_PHOTOS = 20


@dataclass
class Photo:
    """A photo attached to a visit: re-encoded JPEG plus thumbnail."""

    file_name: str
    image: bytes
    thumbnail: bytes
    width: int
    height: int
    sha256: str
    caption: str = ""
    id: int | None = None
    uid: str | None = None


@dataclass
class Visit:
    household_id: int
    visit_date: dt.date  # a str as typed is accepted by Visits.validate
    investigators: list[str]
    answers: dict = field(default_factory=dict)
    conclusion: str = ""
    representative: str = ""
    acknowledged: bool = False
    ack_note: str = ""
    kind: str = "verification"
    template_id: str = CHECKLIST_TEMPLATE
    template_version: int | None = None  # None: the latest shipped version when first saved
    photos: list[Photo] = field(default_factory=list)
    id: int | None = None
    uid: str | None = None
    rev: int = 0
    created_by: str = ""
    updated_at: str = ""


def load_photo(path: str | Path, caption: str = "") -> Photo:
    """Read an image file, check its size, re-encode it and make a thumbnail."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    size = path.stat().st_size
    if size > MAX_PHOTO_BYTES:
        raise MzError(
            f"照片 {path.name} 太大（{size / 1048576:.1f} MB），上限 {MAX_PHOTO_BYTES // 1048576} MB",
            "photo_too_large",
        )
    raw = path.read_bytes()
    try:
        with Image.open(io.BytesIO(raw)) as src:
            im = ImageOps.exif_transpose(src).convert("RGB")
            im.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
            out = io.BytesIO()
            im.save(out, "JPEG", quality=85, optimize=True)
            width, height = im.size
            im.thumbnail((THUMB_SIDE, THUMB_SIDE))
            thumb = io.BytesIO()
            im.save(thumb, "JPEG", quality=75)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise MzError(f"无法读取照片 {path.name}: 不是有效的图片文件", "bad_photo") from exc
    return Photo(
        path.name,
        out.getvalue(),
        thumb.getvalue(),
        width,
        height,
        hashlib.sha256(raw).hexdigest(),
        caption,
    )


def household_members(store: Store, household_id: int) -> dict[str, str]:
    """uid -> name of the household's active members (for member pickers)."""
    from .query import household_members as members

    return {m["uid"]: m["name"] for m in members(store, household_id)}


LEFT_MARK = "（已移出）"


def visit_members(store: Store, household_id: int, visit_id: int | None = None) -> dict[str, str]:
    """uid -> name of the members a visit may name: the household's members today and,
    for a saved visit, the ones it already names who have since left the household
    (marked 已移出).  Who was present at a past visit stays as it was recorded: re-saving
    the visit after someone left must neither drop them nor be refused for them."""
    members = household_members(store, household_id)
    if visit_id is None:
        return members
    row = store.one(
        "SELECT answers FROM visits WHERE id = ? AND household_id = ?", (visit_id, household_id)
    )
    if row is None:
        return members
    named = set(_uids_in(json.loads(row["answers"])))
    for uid, name in store.conn.execute(
        "SELECT uid, name FROM members WHERE household_id = ? AND status != 'active' "
        "ORDER BY seq, id",
        (household_id,),
    ):
        if uid in named and uid not in members:
            members[uid] = name + LEFT_MARK
    return members


def _uids_in(value) -> list[str]:
    """Every string in an answers structure (member answers are uids; tables nest them)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [u for v in value.values() for u in _uids_in(v)]
    if isinstance(value, list):
        return [u for v in value for u in _uids_in(v)]
    return []


def _normalise_people(names: list[str]) -> list[str]:
    out = []
    for n in names:
        n = "".join(clean_text(n).split())
        if n and n not in out:
            out.append(n)
    return out


class Visits:
    """Use cases on visits and follow-up tasks."""

    def __init__(self, store: Store, forms: FormLibrary | None = None):
        self.store = store
        self.forms = forms or library()

    def action(self, v: Visit) -> str:
        """The permission saving ``v`` needs: a spot-check visit (抽查复核), new or already
        one, is the county's too (``spotcheck.edit``); any other visit is township work."""
        if v.kind == "spot_check":
            stored = None
            if v.id is not None:
                stored = self.store.scalar("SELECT kind FROM visits WHERE id = ?", (v.id,))
            if stored in (None, "spot_check"):
                return "spotcheck.edit"
        return "visit.edit"

    def kinds(self) -> dict[str, str]:
        """The visit kinds the acting operator may record (the dialog offers only these)."""
        return {
            k: n
            for k, n in VISIT_KINDS.items()
            if allowed(self.store, self.action(Visit(0, dt.date.today(), [], kind=k)))
        }

    def template(self, visit: Visit) -> Template:
        if visit.template_version is None:
            return self.forms.latest(visit.template_id)
        return template_for(self.store, visit.template_id, visit.template_version, self.forms)

    def validate(self, v: Visit, today: dt.date | None = None) -> tuple[Template, list[FieldError]]:
        today = today or dt.date.today()
        problems: list[FieldError] = []
        h = self.store.one("SELECT status FROM households WHERE id = ?", (v.household_id,))
        if h is None or h["status"] != "active":
            raise NotFound(f"没有编号为{v.household_id}的在册家庭", "not_found")
        v.investigators = _normalise_people(v.investigators)
        if len(v.investigators) < MIN_INVESTIGATORS:
            problems.append(
                FieldError(
                    "investigators",
                    "too_few_investigators",
                    f"入户调查须至少两名调查人员（现有{len(v.investigators)}名）",
                )
            )
        bad_day = ""
        if isinstance(v.visit_date, str):  # as typed in the dialog
            text = v.visit_date.strip()
            try:
                v.visit_date = parse_day(text) if text else None
            except ValueError:
                v.visit_date, bad_day = None, text
        if bad_day:
            problems.append(
                FieldError("visit_date", "bad_date", f"入户日期{DATE_HINT}（现填“{bad_day}”）")
            )
        elif not isinstance(v.visit_date, dt.date):
            problems.append(FieldError("visit_date", "bad_date", "请填写入户日期"))
        else:  # not in the future, not before the records floor (dates.RULES)
            try:
                dates.check_date("visit_date", v.visit_date, today=today)
            except ValidationError as exc:
                problems += exc.problems
        if v.kind not in VISIT_KINDS:
            problems.append(FieldError("kind", "bad_kind", f"入户类型无效: {v.kind!r}"))
        v.conclusion = collect(problems, v.conclusion, "note", "调查结论", "conclusion")
        v.ack_note = collect(problems, v.ack_note, "note", "户代表意见", "ack_note")
        if not v.conclusion:
            problems.append(FieldError("conclusion", "missing_required", "调查结论必填"))
        v.representative = "".join(
            collect(
                problems, v.representative, "person_name", "户代表姓名", "representative"
            ).split()
        )
        if v.acknowledged and not v.representative:
            problems.append(
                FieldError("representative", "missing_required", "户代表已确认，请填写户代表姓名")
            )
        for photo in v.photos:  # the text rule (models/text.py) for what the clerk typed
            photo.caption = collect(problems, photo.caption, "title", "照片说明", "photos")
            photo.file_name = clean_text(photo.file_name)
        if len(v.photos) > MAX_PHOTOS:
            problems.append(
                FieldError("photos", "too_many_photos", f"每次入户最多{MAX_PHOTOS}张照片")
            )
        t = self.template(v)
        clean, answer_problems = validate_answers(
            t, v.answers, visit_members(self.store, v.household_id, v.id), today
        )
        v.answers = clean
        return t, problems + answer_problems

    def save(self, v: Visit, today: dt.date | None = None) -> Visit:
        """Create or update a visit in one transaction; opens a task per 不符合 item
        (once per item), marks a pending spot check of this household done."""
        require(self.store, self.action(v))
        s = self.store
        with unchanged_on_failure(v, *v.photos), s.transaction():
            t, problems = self.validate(v, today)
            if problems:
                raise ValidationError(problems)
            remember_template(s, t)
            row: dict[str, Any] = {
                "household_id": v.household_id,
                "visit_date": v.visit_date.isoformat(),
                "kind": v.kind,
                "investigators": json.dumps(v.investigators, ensure_ascii=False),
                "template_id": t.id,
                "template_version": t.version,
                "answers": json.dumps(v.answers, ensure_ascii=False, sort_keys=True),
                "conclusion": v.conclusion,
                "representative": v.representative,
                "acknowledged": int(bool(v.acknowledged)),
                "ack_note": v.ack_note.strip(),
            }
            if v.id is None:
                row.update(uid=v.uid or new_uid(), rev=1, **s.stamp(new=True))
                cols = ", ".join(row)
                v.id = s.conn.execute(
                    f"INSERT INTO visits ({cols}) VALUES ({', '.join('?' * len(row))})",
                    tuple(row.values()),
                ).lastrowid
                v.uid, v.rev = row["uid"], 1
            else:
                row.update(s.stamp(new=False))
                sets = ", ".join(f"{k} = ?" for k in row)
                cur = s.conn.execute(
                    f"UPDATE visits SET {sets}, rev = rev + 1 WHERE id = ? AND rev = ? "
                    "AND status = 'active'",
                    (*row.values(), v.id, v.rev),
                )
                if cur.rowcount != 1:
                    from .registry import StaleRecord

                    raise StaleRecord("该入户记录已被修改，请关闭后重新打开")
                v.rev += 1
            v.template_version = t.version
            self._save_photos(v)
            self._open_tasks(v, t)
            if v.kind == "spot_check":
                s.conn.execute(
                    "UPDATE spot_check_items SET state = 'done', visit_id = ?, updated_at = ?, "
                    "updated_by = ? WHERE household_id = ? AND state = 'pending'",
                    (v.id, *s.stamp(new=False).values(), v.household_id),
                )
                _close_finished_spot_checks(s)
        return v

    def _save_photos(self, v: Visit) -> None:
        s = self.store
        kept = {p.id for p in v.photos if p.id is not None}
        stamp = s.stamp(new=False)
        for (pid,) in s.conn.execute(
            "SELECT id FROM visit_photos WHERE visit_id = ? AND status = 'active'", (v.id,)
        ).fetchall():
            if pid not in kept:
                s.conn.execute(
                    "UPDATE visit_photos SET status = 'deleted', updated_at = ?, updated_by = ? "
                    "WHERE id = ?",
                    (stamp["updated_at"], stamp["updated_by"], pid),
                )
        for seq, p in enumerate(v.photos):
            if p.id is not None:
                s.conn.execute(
                    "UPDATE visit_photos SET seq = ?, caption = ? WHERE id = ?",
                    (seq, p.caption, p.id),
                )
                continue
            row: dict[str, Any] = {
                "uid": p.uid or new_uid(),
                "visit_id": v.id,
                "seq": seq,
                "file_name": p.file_name,
                "caption": p.caption,
                "sha256": p.sha256,
                "width": p.width,
                "height": p.height,
                "image": p.image,
                "thumbnail": p.thumbnail,
                **s.stamp(new=True),
            }
            p.id = s.conn.execute(
                f"INSERT INTO visit_photos ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            ).lastrowid
            p.uid = row["uid"]

    def _open_tasks(self, v: Visit, t: Template) -> None:
        s = self.store
        have = {
            r[0]
            for r in s.conn.execute(
                "SELECT item_key FROM followup_tasks WHERE visit_id = ?", (v.id,)
            )
        }
        for f in mismatches(t, v.answers):
            if f.key in have:
                continue
            follow = f.followup or {}
            note = v.answers.get(f"{f.key}_note", "")
            row = {
                "uid": new_uid(),
                "household_id": v.household_id,
                "visit_id": v.id,
                "item_key": f.key,
                "kind": follow.get("kind", "other"),
                "title": follow.get("title") or f"核实：{f.label}",
                "detail": f"{v.visit_date.isoformat()} 入户发现“{f.label}”不符合"
                + (f"：{note}" if note else ""),
                **s.stamp(new=True),
            }
            s.conn.execute(
                f"INSERT INTO followup_tasks ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )

    # -- reading --------------------------------------------------------
    def get(self, visit_id: int, with_photos: bool = True) -> Visit:
        r = self.store.one("SELECT * FROM visits WHERE id = ? AND status = 'active'", (visit_id,))
        if r is None:
            raise NotFound(f"没有编号为{visit_id}的入户记录", "not_found")
        v = _visit_from_row(r)
        if with_photos:
            v.photos = [
                Photo(
                    p["file_name"],
                    p["image"],
                    p["thumbnail"],
                    p["width"],
                    p["height"],
                    p["sha256"],
                    p["caption"],
                    p["id"],
                    p["uid"],
                )
                for p in self.store.db.query(
                    "SELECT * FROM visit_photos WHERE visit_id = ? AND status = 'active' "
                    "ORDER BY seq, id",
                    (visit_id,),
                )
            ]
        return v

    def for_household(self, household_id: int) -> list[Visit]:
        """Visits of one household, newest first (photos not loaded)."""
        return [
            _visit_from_row(r)
            for r in self.store.db.query(
                "SELECT * FROM visits WHERE household_id = ? AND status = 'active' "
                "ORDER BY visit_date DESC, id DESC",
                (household_id,),
            )
        ]

    def on_day(self, day: dt.date) -> list[dict]:
        """Visits recorded for one day (the field staff's 今日入户 view)."""
        return list(
            self.store.db.query(
                "SELECT v.id, v.household_id, v.kind, v.investigators, v.conclusion, v.acknowledged, "
                "h.head_name, h.village, h.village_group FROM visits v "
                "JOIN households h ON h.id = v.household_id "
                "WHERE v.visit_date = ? AND v.status = 'active' ORDER BY v.id",
                (day.isoformat(),),
            )
        )


def _visit_from_row(r: dict) -> Visit:
    return Visit(
        household_id=r["household_id"],
        visit_date=dt.date.fromisoformat(r["visit_date"]),
        investigators=json.loads(r["investigators"]),
        answers=json.loads(r["answers"]),
        conclusion=r["conclusion"],
        representative=r["representative"],
        acknowledged=bool(r["acknowledged"]),
        ack_note=r["ack_note"],
        kind=r["kind"],
        template_id=r["template_id"],
        template_version=r["template_version"],
        id=r["id"],
        uid=r["uid"],
        rev=r["rev"],
        created_by=r["created_by"],
        updated_at=r["updated_at"],
    )


# -- follow-up tasks -------------------------------------------------------
def list_tasks(
    store: Store, household_id: int | None = None, state: str | None = "open"
) -> list[dict]:
    """Follow-up tasks (整改/跟进事项), oldest first; ``state`` None for all."""
    where: list[str] = ["1 = 1"]
    params: list[object] = []
    if household_id is not None:
        where.append("t.household_id = ?")
        params.append(household_id)
    if state:
        where.append("t.state = ?")
        params.append(state)
    return list(
        store.db.query(
            "SELECT t.*, h.head_name, h.village FROM followup_tasks t "
            "JOIN households h ON h.id = t.household_id "
            f"WHERE {' AND '.join(where)} ORDER BY t.state DESC, t.created_at, t.id",
            params,
        )
    )


def close_task(store: Store, task_id: int, note: str) -> None:
    """Close a task with a note on what was done."""
    require(store, "visit.edit")
    note = field_text(note, "note", "处理情况", "note")
    if not note:
        raise MzError("请填写处理情况", "missing_note")
    with store.transaction():
        stamp = store.stamp(new=False)
        cur = store.conn.execute(
            "UPDATE followup_tasks SET state = 'done', close_note = ?, closed_at = ?, closed_by = ?, "
            "rev = rev + 1, updated_at = ?, updated_by = ? WHERE id = ? AND state = 'open'",
            (
                note,
                stamp["updated_at"],
                stamp["updated_by"],
                stamp["updated_at"],
                stamp["updated_by"],
                task_id,
            ),
        )
        if cur.rowcount != 1:
            raise NotFound(f"没有编号为{task_id}的未完成事项", "not_found")


def _close_finished_spot_checks(store: Store) -> None:
    stamp = store.stamp(new=False)
    store.conn.execute(
        "UPDATE spot_checks SET state = 'done', rev = rev + 1, updated_at = ?, updated_by = ? "
        "WHERE state = 'open' AND NOT EXISTS (SELECT 1 FROM spot_check_items i "
        "WHERE i.spot_check_id = spot_checks.id AND i.state = 'pending')",
        (stamp["updated_at"], stamp["updated_by"]),
    )
