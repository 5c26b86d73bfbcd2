"""The household registry (户籍台账): save, load, soft-delete, bulk-create.

Every write is one transaction and stamps who and when.  The rule that one ID
number is active in one household only is checked here (with a message that
names the other household) and backed by a partial unique index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from .auth import require
from .bulk import insert_many
from .categories import state_label
from .enrolment import describe, for_household
from .errors import FieldError, MzError, NotFound, ValidationError
from .household import Household, Member, validate_household
from .pinyin import name_keys
from .progress import Cancel, Cancelled, Progress
from .store import Store, new_uid, unchanged_on_failure
from .text import field_text
from .vocab import INCOME_SOURCES

HOUSEHOLD_FIELDS = (
    "village",
    "village_group",
    "area_type",
    "address",
    "phone",
    "bank_name",
    "bank_account",
    "housing_tenure",
    "housing_structure",
    "housing_area_m2",
    "dangerous_house",
    "vehicles",
    "commercial_property",
    "savings_fen",
    "notes",
    "poverty_flag",
)
MEMBER_FIELDS = (
    "name",
    "relation",
    "gender",
    "in_assistance",
    "in_register",
    "health",
    "disability_cert",
    "disability_category",
    "disability_level",
    "labour_capacity",
    "occupation",
)
INCOME_COLUMNS = tuple(f"income_{s}_fen" for s in INCOME_SOURCES)
# status_reason of the members deleted together with their household
DELETED_WITH_HOUSEHOLD = "家庭注销: "
# enrolments that must end before their household is 注销 (publicised, at the county, paid)
DELETE_BLOCKING_STATES = ("publicised", "submitted", "active")


class StaleRecord(MzError):
    code = "stale"


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _household_row(h: Household) -> dict:
    head = h.head
    row = {f: getattr(h, f) for f in HOUSEHOLD_FIELDS}
    row["dangerous_house"] = int(bool(h.dangerous_house))
    row["causes"] = ",".join(h.causes)
    row["phone_rev"] = h.phone[::-1]
    row["member_count"] = len(h.members)
    row["head_name"] = head.name if head else ""
    row["head_py"] = name_keys(head.name)[1] if head else ""
    row["head_id_number"] = (head.id_number or "") if head else ""
    return row


def _member_row(m: Member, seq: int) -> dict:
    row = {f: getattr(m, f) for f in MEMBER_FIELDS}
    row["in_assistance"] = int(bool(m.in_assistance))
    row["in_register"] = int(bool(m.in_register))
    if m.id_pending or not m.id_number:
        row["id_number"], row["id_raw"], row["id_rev"] = None, m.id_number or "", None
    else:
        row["id_number"], row["id_raw"], row["id_rev"] = m.id_number, "", m.id_number[::-1]
    row["id_pending"] = int(bool(m.id_pending))
    row["birth_date"] = m.birth_date.isoformat() if m.birth_date else None
    row["deceased_on"] = m.deceased_on.isoformat() if m.deceased_on else None
    row["special"] = ",".join(m.special)
    for src, col in zip(INCOME_SOURCES, INCOME_COLUMNS, strict=True):
        row[col] = int(m.income.get(src, 0))
    initials, full = name_keys(m.name)
    row.update(seq=seq, name_tail=m.name[1:], py_initials=initials, py_full=full)
    return row


def _member_from_row(r: dict) -> Member:
    income = {s: r[c] for s, c in zip(INCOME_SOURCES, INCOME_COLUMNS, strict=True) if r[c]}
    return Member(
        name=r["name"],
        relation=r["relation"],
        id_number=r["id_number"] or r["id_raw"],
        id_pending=bool(r["id_pending"]),
        gender=r["gender"],
        birth_date=_date(r["birth_date"]),
        in_assistance=bool(r["in_assistance"]),
        in_register=bool(r["in_register"]),
        health=r["health"],
        disability_cert=r["disability_cert"],
        disability_category=r["disability_category"],
        disability_level=r["disability_level"],
        labour_capacity=r["labour_capacity"],
        occupation=r["occupation"],
        income=income,
        special=[s for s in r["special"].split(",") if s],
        deceased_on=_date(r["deceased_on"]),
        id=r["id"],
        uid=r["uid"],
    )


def _insert_sql(table: str, columns: Iterable[str]) -> str:
    cols = list(columns)
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


def write_new_households(
    store: Store,
    households: list[Household],
    stamp: dict,
    batch: int = 5000,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> list[int]:
    """Insert already validated new households and their members with ``executemany``.

    The one bulk write path (``Registry.bulk_create``, roster imports): ids are
    assigned here, rows go in ``batch`` households at a time; the caller holds
    the transaction.  ``progress(done, total)`` after each batch; ``cancel()``
    checked there too (raises :class:`Cancelled`).
    """
    total = len(households)
    next_id = (store.scalar("SELECT max(id) FROM households") or 0) + 1
    next_member = (store.scalar("SELECT max(id) FROM members") or 0) + 1
    ids: list[int] = []
    h_rows: list[tuple] = []
    m_rows: list[tuple] = []
    h_cols: tuple[str, ...] = ()
    m_cols: tuple[str, ...] = ()
    for i, h in enumerate(households):
        hrow = _household_row(h)
        h.id, h.uid, h.rev = next_id, h.uid or new_uid(), 1
        hrow.update(id=h.id, uid=h.uid, rev=1, **stamp)
        h_cols = h_cols or tuple(hrow)
        h_rows.append(tuple(hrow.values()))
        for seq, m in enumerate(h.members):
            mrow = _member_row(m, seq)
            m.id, m.uid = next_member, m.uid or new_uid()
            next_member += 1
            mrow.update(id=m.id, uid=m.uid, household_id=h.id, **stamp)
            m_cols = m_cols or tuple(mrow)
            m_rows.append(tuple(mrow.values()))
        ids.append(next_id)
        next_id += 1
        if len(h_rows) >= batch or i == total - 1:
            # one statement per table: the audit/change-log triggers then cost one
            # statement journal per batch instead of one per row (bulk.insert_many)
            insert_many(store.conn, "households", h_cols, h_rows)
            insert_many(store.conn, "members", m_cols, m_rows)
            h_rows, m_rows = [], []
            if progress:
                progress(i + 1, total)
            if cancel and cancel():
                raise Cancelled()
    return ids


def add_to_household(
    store: Store,
    household_id: int,
    changes: dict,
    members: list[Member],
    first_seq: int,
    stamp: dict,
) -> dict:
    """Append already validated ``members`` (from ``seq`` ``first_seq``) to a household and
    set ``changes`` on it, one ``rev`` up: a re-imported roster.  Each member's ``id`` is
    set; returns the columns set (derived ones too).  The caller holds the transaction."""
    for k, m in enumerate(members):
        row = _member_row(m, first_seq + k)
        row.update(uid=new_uid(), household_id=household_id, **stamp)
        m.id = store.conn.execute(_insert_sql("members", row), tuple(row.values())).lastrowid
    changed = dict(changes)
    if "phone" in changed:
        changed["phone_rev"] = changed["phone"][::-1]
    changed["member_count"] = first_seq + len(members)
    sets = ", ".join(f"{k} = ?" for k in changed)
    store.conn.execute(
        f"UPDATE households SET {sets}, rev = rev + 1, updated_at = ?, updated_by = ? WHERE id = ?",
        (*changed.values(), stamp["updated_at"], stamp["updated_by"], household_id),
    )
    return changed


class Registry:
    """Use cases on households: what the GUI form, the CLI and importers call."""

    def __init__(self, store: Store):
        self.store = store

    # -- reading --------------------------------------------------------
    def get(self, household_id: int, *, as_deleted: bool = False) -> Household:
        """One household with its active members.

        A deleted (注销) household has no active members left; with
        ``as_deleted=True`` it comes with the members it had when it was
        deleted, for viewing (their ID numbers were freed and are not unique)::

            registry.get(7, as_deleted=True).members  # -> [Member(name='李四', ...)]
        """
        s = self.store
        r = s.one("SELECT * FROM households WHERE id = ?", (household_id,))
        if r is None:
            raise NotFound(f"没有编号为{household_id}的家庭", "not_found")
        if as_deleted and r["status"] == "deleted":
            where = "status = 'deleted' AND substr(status_reason, 1, ?) = ?"
            args: tuple = (len(DELETED_WITH_HOUSEHOLD), DELETED_WITH_HOUSEHOLD)
        else:
            where, args = "status = 'active'", ()
        members = [
            _member_from_row(m)
            for m in s.db.query(
                f"SELECT * FROM members WHERE household_id = ? AND {where} ORDER BY seq, id",
                (household_id, *args),
            )
        ]
        h = Household(
            members=members,
            id=r["id"],
            uid=r["uid"],
            rev=r["rev"],
            status=r["status"],
            village=r["village"],
        )
        for f in HOUSEHOLD_FIELDS:
            setattr(h, f, r[f])
        h.dangerous_house = bool(r["dangerous_house"])
        h.causes = [c for c in r["causes"].split(",") if c]
        return h

    def status_reason(self, household_id: int) -> str:
        """Why the household is not active (the 注销 reason); empty when it is."""
        r = self.store.one("SELECT status_reason FROM households WHERE id = ?", (household_id,))
        return r["status_reason"] if r else ""

    def id_owners(self, id_numbers: Iterable[str], exclude_household: int | None) -> dict:
        """Active households holding these ID numbers: number -> (id, head, village)."""
        numbers = [n for n in id_numbers if n]
        if not numbers:
            return {}
        found = {}
        for chunk in range(0, len(numbers), 500):
            part = numbers[chunk : chunk + 500]
            sql = (
                "SELECT m.id_number, h.id, h.head_name, h.village FROM members m "
                "JOIN households h ON h.id = m.household_id "
                "WHERE m.status = 'active' AND h.status = 'active' AND m.household_id IS NOT ? "
                f"AND m.id_number IN ({', '.join('?' * len(part))})"
            )
            for number, hid, head, village in self.store.conn.execute(
                sql, (exclude_household, *part)
            ):
                found[number] = (hid, head, village)
        return found

    def _check_ids_elsewhere(self, h: Household) -> list[FieldError]:
        owners = self.id_owners(
            [m.id_number for m in h.members if not m.id_pending], exclude_household=h.id
        )
        problems = []
        for i, m in enumerate(h.members):
            if not m.id_pending and m.id_number in owners:
                hid, head, village = owners[m.id_number]
                problems.append(
                    FieldError(
                        "id_number",
                        "id_exists_in_other_household",
                        f"身份证号已在其他家庭登记：编号{hid}，户主{head}，{village}",
                        row=i,
                    )
                )
        return problems

    # -- writing --------------------------------------------------------
    def validate(self, h: Household, today: dt.date | None = None) -> list[FieldError]:
        problems = validate_household(h, today)
        if not any(p.field == "id_number" for p in problems):
            problems += self._check_ids_elsewhere(h)
        return problems

    def save(self, h: Household, today: dt.date | None = None) -> Household:
        """Create or update a household with its members, in one transaction.

        Members missing from ``h.members`` that were saved before are
        soft-deleted.  Raises :class:`ValidationError` listing every problem,
        or :class:`StaleRecord` when someone saved the household meanwhile.
        """
        s = self.store
        with unchanged_on_failure(h, *h.members), s.transaction():
            require(s, "household.edit")
            problems = self.validate(h, today)
            if problems:
                raise ValidationError(problems)
            row = _household_row(h)
            if h.id is None:
                row.update(uid=h.uid or new_uid(), rev=1, **s.stamp(new=True))
                cur = s.conn.execute(_insert_sql("households", row), tuple(row.values()))
                h.id, h.uid, h.rev = cur.lastrowid, row["uid"], 1
            else:
                row.update(s.stamp(new=False))
                sets = ", ".join(f"{k} = ?" for k in row)
                cur = s.conn.execute(
                    f"UPDATE households SET {sets}, rev = rev + 1 "
                    "WHERE id = ? AND rev = ? AND status = 'active'",
                    (*row.values(), h.id, h.rev),
                )
                if cur.rowcount != 1:
                    raise StaleRecord("该家庭已被修改或删除，请关闭后重新打开再编辑")
                h.rev += 1
            self._save_members(h)
            from .enrolment_states import death_review_tasks  # it reads enrolments

            assert h.id is not None  # saved above
            death_review_tasks(s, h.id)  # a death flags household-level enrolments too
        return h

    def _save_members(self, h: Household) -> None:
        s = self.store
        assert h.id is not None  # saved before its members
        kept = {m.id for m in h.members if m.id is not None}
        existing = {
            r[0]
            for r in s.conn.execute(
                "SELECT id FROM members WHERE household_id = ? AND status = 'active'", (h.id,)
            )
        }
        if kept - existing:
            raise StaleRecord("成员记录已变化，请重新打开该家庭")
        gone = existing - kept
        if gone:
            # a person's own enrolment (高龄, a disability subsidy…) on a notice, at the county
            # or being paid would go on paying someone no longer in the household, with no ID
            # number left on the 补贴清册: the clerk ends it first, as for 注销
            running = [
                e
                for e in for_household(s, h.id)
                if e.member_id in gone and e.state in DELETE_BLOCKING_STATES
            ]
            if running:
                what = "、".join(
                    f"{describe(s, e)}（编号{e.id}，{state_label(e.state)}）" for e in running
                )
                raise MzError(
                    f"要移除的成员还有未结束的救助：{what}。"
                    "请先在“救助保障”中停发或不予确认，再移除该成员。",
                    "enrolment_running",
                )
        stamp = s.stamp(new=False)
        # free the IDs first so that moving a number between rows never trips the index
        s.conn.execute(
            "UPDATE members SET id_number = NULL, id_rev = NULL "
            "WHERE household_id = ? AND status = 'active'",
            (h.id,),
        )
        for mid in gone:
            s.conn.execute(
                "UPDATE members SET status = 'deleted', status_reason = '从家庭中移除', "
                "id_number = NULL, id_rev = NULL, updated_at = ?, updated_by = ? WHERE id = ?",
                (stamp["updated_at"], stamp["updated_by"], mid),
            )
        for seq, m in enumerate(h.members):
            row = _member_row(m, seq)
            if m.id is None:
                row.update(uid=m.uid or new_uid(), household_id=h.id, **s.stamp(new=True))
                m.id = s.conn.execute(_insert_sql("members", row), tuple(row.values())).lastrowid
                m.uid = row["uid"]
            else:
                row.update(stamp)
                sets = ", ".join(f"{k} = ?" for k in row)
                s.conn.execute(f"UPDATE members SET {sets} WHERE id = ?", (*row.values(), m.id))

    def delete_blocker(self, household_id: int) -> str | None:
        """Why the household cannot be 注销 now, or None.

        An enrolment that is on a notice, at the county or being paid would go on
        after 注销: still in the 补贴清册 and the statistics, with no household left
        to act on.  The clerk ends it first (停发 / 不予确认).
        """
        running = [
            e for e in for_household(self.store, household_id) if e.state in DELETE_BLOCKING_STATES
        ]
        if not running:
            return None
        what = "、".join(
            f"{describe(self.store, e)}（编号{e.id}，{state_label(e.state)}）" for e in running
        )
        return (
            f"家庭{household_id}还有未结束的救助：{what}。"
            "请先在该家庭的“救助保障”中停发或不予确认，再注销。"
        )

    def delete(self, household_id: int, reason: str) -> None:
        """Soft-delete (注销) a household and its members; the record stays."""
        reason = field_text(reason, "reason", "注销原因", "reason")
        if not reason:
            raise MzError("请填写注销原因", "missing_reason")
        s = self.store
        with s.transaction():
            require(s, "household.delete")
            blocker = self.delete_blocker(household_id)
            if blocker:
                raise MzError(blocker, "enrolment_running")
            stamp = s.stamp(new=False)
            cur = s.conn.execute(
                "UPDATE households SET status = 'deleted', status_reason = ?, rev = rev + 1, "
                "updated_at = ?, updated_by = ? WHERE id = ? AND status = 'active'",
                (reason, stamp["updated_at"], stamp["updated_by"], household_id),
            )
            if cur.rowcount != 1:
                raise NotFound(f"没有编号为{household_id}的在册家庭", "not_found")
            # the IDs are freed: the people may be registered in another household
            s.conn.execute(
                "UPDATE members SET status = 'deleted', status_reason = ?, id_number = NULL, "
                "id_raw = COALESCE(id_number, id_raw), id_rev = NULL, updated_at = ?, "
                "updated_by = ? WHERE household_id = ? AND status = 'active'",
                (
                    DELETED_WITH_HOUSEHOLD + reason,
                    stamp["updated_at"],
                    stamp["updated_by"],
                    household_id,
                ),
            )

    def bulk_create(
        self,
        households: list[Household],
        progress: Progress | None = None,
        cancel: Cancel | None = None,
        today: dt.date | None = None,
    ) -> list[int]:
        """Create many households in one transaction (demo, imports).

        The same rules as :meth:`save`; all or nothing.  Raises
        :class:`ValidationError` naming the household (by position) on the
        first invalid one, :class:`Cancelled` if ``cancel()`` turns true.
        """
        s = self.store
        require(s, "household.import")
        today = today or dt.date.today()
        total = len(households)
        seen: dict[str, int] = {}
        for i, h in enumerate(households):
            problems = validate_household(h, today)
            for m in h.members:
                if m.id_number and not m.id_pending:
                    if m.id_number in seen:
                        problems.append(
                            FieldError(
                                "id_number",
                                "id_duplicate_in_file",
                                f"身份证号{m.id_number[:6]}…与第{seen[m.id_number] + 1}户重复",
                            )
                        )
                    seen[m.id_number] = i
            if problems:
                for p in problems:
                    p.message = f"第{i + 1}户: {p.message}"
                raise ValidationError(problems)
            if progress and i % 2000 == 0:
                progress(i, total * 2)
            if cancel and cancel():
                raise Cancelled()
        owners = self.id_owners(seen, exclude_household=None)
        if owners:
            number, (hid, head, village) = next(iter(owners.items()))
            raise ValidationError(
                [
                    FieldError(
                        "id_number",
                        "id_exists_in_other_household",
                        f"第{seen[number] + 1}户: 身份证号已在其他家庭登记：编号{hid}，户主{head}，{village}",
                    )
                ]
            )
        stamp_new = s.stamp(new=True)
        # a 64 MB page cache while the indexes grow (measured: the raw insert of 100k
        # households takes half the time); the default comes back after
        with s.pragma("cache_size", -65536), s.transaction():
            return write_new_households(
                s,
                households,
                stamp_new,
                batch=5000,
                progress=(lambda done, _t: progress(total + done, total * 2)) if progress else None,
                cancel=cancel,
            )
