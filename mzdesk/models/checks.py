"""Domain-rule checks over the whole database (``mzdesk check``).

Each finding names the household (and member) and the rule, never a full ID
number: the output may be pasted into a report or a log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass

from . import clocks, dates, recovery
from . import enrolment_rules as rules
from .categories import categories
from .consistency import consistency_findings
from .enrolment import LIVE_STATES
from .notice import NOTICE_MAX_DAYS
from .store import Store
from .text import LIMITS, STORED, has_forbidden, stored_problem


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    household_id: int | None = None
    member: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


_RULES: list[tuple[str, str, str]] = [
    (
        "no_head",
        "家庭没有户主或户主多于一人",
        """SELECT h.id, NULL FROM households h WHERE h.status = 'active' AND
           (SELECT count(*) FROM members m WHERE m.household_id = h.id AND m.status = 'active'
            AND m.relation = '户主') != 1 ORDER BY h.id""",
    ),
    (
        "head_under_16",
        "户主未满16岁",
        """SELECT m.household_id, m.name FROM members m JOIN households h ON h.id = m.household_id
           WHERE h.status = 'active' AND m.status = 'active' AND m.relation = '户主'
           AND m.birth_date > date(:today, '-16 years') ORDER BY m.household_id""",
    ),
    (
        "id_pending",
        "身份证号待核实",
        """SELECT m.household_id, m.name FROM members m JOIN households h ON h.id = m.household_id
           WHERE h.status = 'active' AND m.status = 'active' AND m.id_pending = 1
           ORDER BY m.household_id, m.seq""",
    ),
    (
        "id_in_two_households",
        "同一身份证号在两个家庭中登记",
        """SELECT m.household_id, m.name FROM members m WHERE m.status = 'active'
           AND m.id_number IN (SELECT id_number FROM members WHERE status = 'active'
               AND id_number IS NOT NULL GROUP BY id_number HAVING count(DISTINCT household_id) > 1)
           ORDER BY m.household_id""",
    ),
    (
        "deceased_still_paid",
        "成员已死亡但仍在保",
        """SELECT e.household_id, m.name FROM enrolments e JOIN members m ON m.id = e.member_id
           WHERE e.state = 'active' AND e.status = 'active' AND m.deceased_on IS NOT NULL
           ORDER BY e.household_id""",
    ),
    (
        "care_subsidy_level",
        "重度残疾人护理补贴对象残疾等级不符（应为一、二级；智力、精神残疾可为三级）",
        """SELECT e.household_id, m.name FROM enrolments e JOIN members m ON m.id = e.member_id
           WHERE e.category = 'disability_care' AND e.status = 'active'
           AND e.state NOT IN ('rejected', 'stopped')
           AND (m.disability_level IS NULL OR m.disability_level > 3 OR (m.disability_level = 3
                AND m.disability_category NOT IN (5, 6)))
           ORDER BY e.household_id""",
    ),
    (
        "disabled_without_cert",
        "健康状况为残疾但无残疾人证",
        """SELECT m.household_id, m.name FROM members m JOIN households h ON h.id = m.household_id
           WHERE h.status = 'active' AND m.status = 'active' AND m.health = '残疾'
           AND m.disability_cert = '' ORDER BY m.household_id""",
    ),
    # -- enrolment lifecycle alerts (mzdesk/models/enrolment.py) --
    (
        "review_overdue",
        "在保对象复核已到期未复核",
        """SELECT e.household_id, m.name FROM enrolments e LEFT JOIN members m ON m.id = e.member_id
           WHERE e.status = 'active' AND e.state = 'active' AND e.review_due < :today
           ORDER BY e.review_due, e.household_id""",
    ),
    (
        "child_turning_18",
        "儿童保障对象60天内年满18周岁",
        """SELECT e.household_id, m.name FROM enrolments e JOIN members m ON m.id = e.member_id
           WHERE e.status = 'active' AND e.state = 'active'
           AND e.category IN ('orphan', 'unsupported_child')
           AND date(m.birth_date, '+18 years') BETWEEN :today AND date(:today, '+60 days')
           ORDER BY e.household_id""",
    ),
    (
        "turning_80",
        "60天内年满80周岁（可申请高龄津贴）",
        """SELECT m.household_id, m.name FROM members m JOIN households h ON h.id = m.household_id
           WHERE h.status = 'active' AND m.status = 'active' AND m.deceased_on IS NULL
           AND date(m.birth_date, '+80 years') BETWEEN :today AND date(:today, '+60 days')
           AND NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.member_id = m.id
               AND e.category = 'elderly' AND e.status = 'active'
               AND e.state NOT IN ('rejected', 'stopped'))
           ORDER BY m.household_id""",
    ),
    (
        "notice_over_not_submitted",
        "公示期已满但未报送审核",
        """SELECT e.household_id, m.name FROM enrolments e LEFT JOIN members m ON m.id = e.member_id
           WHERE e.status = 'active' AND e.state = 'publicised'
           AND (SELECT max(n.end_on) FROM notices n JOIN notice_items i ON i.notice_id = n.id
                WHERE i.enrolment_id = e.id AND i.action = 'new') < :today
           ORDER BY e.household_id""",
    ),
    # -- declared relatives (mzdesk/models/relatives.py): the county visits each one --
    (
        "declared_relative",
        "近亲属备案对象的救助（县级须逐户核查）",
        """SELECT DISTINCT e.household_id, m.name FROM declared_relatives r
           JOIN members m ON m.id_number = r.id_number AND m.status = 'active'
           JOIN enrolments e ON e.member_id = m.id
               OR (e.member_id IS NULL AND e.household_id = m.household_id)
           WHERE r.status = 'active' AND e.status = 'active'
           AND e.state NOT IN ('rejected', 'stopped') ORDER BY e.household_id""",
    ),
]


# -- stored dates out of bounds (mzdesk/models/dates.py) --------------------------------------
_FLOOR, _BORN = dates.RECORDS_FLOOR, dates.BIRTH_FLOOR
_PAID = dates.DECISION_AHEAD_DAYS + 31  # payment starts/ends the month after a decision
# "table.column", label, floor, how many days after today it may lie
_DATE_COLUMNS: list[tuple[str, str, dt.date, int]] = [
    ("enrolments.applied_on", "申请日期", _FLOOR, 0),
    ("enrolments.investigated_on", "入户调查日期", _FLOOR, 0),
    ("enrolments.start_on", "开始享受日期", _FLOOR, _PAID),
    ("enrolments.end_on", "停发日期", _FLOOR, _PAID),
    ("enrolments.review_due", "下次复核日期", _FLOOR, dates.REVIEW_DUE_AHEAD_DAYS),
    ("notices.start_on", "公示开始日期", _FLOOR, dates.NOTICE_MAX_AHEAD_DAYS),
    ("notices.end_on", "公示结束日期", _FLOOR, dates.NOTICE_MAX_AHEAD_DAYS + NOTICE_MAX_DAYS),
    ("notices.issued_on", "公示落款日期", _FLOOR, dates.NOTICE_MAX_AHEAD_DAYS),
    ("objections.raised_on", "异议日期", _FLOOR, 0),
    ("visits.visit_date", "入户日期", _FLOOR, 0),
    ("declared_relatives.declared_on", "备案日期", _FLOOR, 0),
    ("members.birth_date", "出生日期", _BORN, 0),
    ("members.deceased_on", "死亡日期", _BORN, 0),
]
# table, label, condition (a NULL or empty date never matches)
_DATE_ORDER: list[tuple[str, str, str]] = [
    # a stop in the month of the confirmation ends the day before payment starts: allowed
    ("enrolments", "停发日期早于开始享受日期", "end_on > '' AND end_on < date(start_on, '-1 day')"),
    (
        "enrolments",
        "入户调查日期早于申请日期",
        "investigated_on > '' AND investigated_on < applied_on",
    ),
    ("members", "死亡日期早于出生日期", "deceased_on > '' AND deceased_on < birth_date"),
    ("notices", "公示结束日期早于开始日期", "end_on < start_on"),
]
_HAS_STATUS = {"enrolments", "members", "visits", "declared_relatives"}
_HOUSEHOLD = {"enrolments", "members", "visits"}


def _live(table: str) -> str:
    return " AND status = 'active'" if table in _HAS_STATUS else ""


def date_findings(store: Store, today: dt.date) -> list[Finding]:
    """Stored dates a user could not enter today: before the domain's floor, far in the
    future (a notice until 2099, a review in 2100), not a date at all, or out of order
    (a stop before the start).  The message names the table and row, not the person."""
    out: list[Finding] = []
    for where, label, floor, ahead in _DATE_COLUMNS:
        table, col = where.split(".")
        hh = "household_id" if table in _HOUSEHOLD else "NULL"
        latest = (today + dt.timedelta(days=ahead)).isoformat()
        sql = (
            f"SELECT id, {hh}, date({col}) IS NOT {col}, {col} < :floor FROM {table} "
            f"WHERE {col} > ''{_live(table)} AND ({col} < :floor OR {col} > :latest "
            f"OR date({col}) IS NOT {col}) ORDER BY id"
        )
        args = {"floor": floor.isoformat(), "latest": latest}
        for rid, hid, unreadable, early in store.conn.execute(sql, args):
            if unreadable:
                code, why = "date_unreadable", f"{label}不是有效日期（应为 YYYY-MM-DD）"
            elif early:
                code, why = "date_before_floor", f"{label}早于{floor}"
            elif ahead == 0:
                code, why = "date_far_future", f"{label}晚于今天{today}"
            else:
                code, why = "date_far_future", f"{label}晚于{latest}（今天起{ahead}天以后）"
            out.append(Finding(code, f"{why}（{table} 第{rid}条）", hid))
    for table, label, cond in _DATE_ORDER:
        hh = "household_id" if table in _HOUSEHOLD else "NULL"
        sql = f"SELECT id, {hh} FROM {table} WHERE {cond}{_live(table)} ORDER BY id"
        for rid, hid in store.conn.execute(sql):
            out.append(Finding("date_out_of_order", f"{label}（{table} 第{rid}条）", hid))
    return out


# Checks written as functions (store, today) -> findings, run after the SQL rules above.
def run_checks(store: Store, today: dt.date | None = None) -> tuple[list[str], list[Finding]]:
    """(integrity problems, rule findings); both empty means all is well."""
    today = today or dates.current_day()
    integrity = store.integrity_check()
    findings = []
    for code, message, sql in _RULES:
        for hid, member in store.conn.execute(sql, {"today": today.isoformat()}):
            findings.append(Finding(code, message, hid, member))
    for check in _FUNCTIONS:
        findings += check(store, today)
    return integrity, findings


_TEXT_MESSAGES = {
    "dirty_text": "文本含控制字符或不可见字符",
    "text_too_long": "文本超过长度上限",
}


def text_findings(store: Store, _today: dt.date | None = None) -> list[Finding]:
    """Stored text the text rule (models/text.py) would not let in: a forbidden character
    (written behind mzdesk's back, or by an old version the upgrade could not reach) or a
    value over its field's length (never shortened by the upgrade).  Each finding names the
    table, row and column, never the text: ``（members 第12行 name）``."""
    out: list[Finding] = []
    tables = {
        r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    for table, columns in STORED.items():
        if table not in tables:
            continue
        present = {r[1] for r in store.conn.execute(f"PRAGMA table_info({table})")}
        cols = [c for c in columns if c in present]
        hh = {
            "households": "id",
            "members": "household_id",
            "enrolments": "household_id",
            "visits": "household_id",
            "followup_tasks": "household_id",
        }.get(table)
        key = "rowid" if table == "operators" else "id"
        # one string and one length test per row in SQL, one scan of it here; the columns
        # one by one only for a row that fails (measured: 1.06 s -> 0.2 s at 20k households)
        joined = " || ".join(f"coalesce({c}, '')" for c in cols)
        over = " OR ".join(f"coalesce(length({c}), 0) > {LIMITS[columns[c]][0]}" for c in cols)
        sql = f"SELECT {key}, {hh or 'NULL'}, {joined}, {over} FROM {table}"
        for rid, hid, text, too_long in store.conn.execute(sql).fetchall():
            if not too_long and not has_forbidden(text):
                continue
            row = store.conn.execute(
                f"SELECT {', '.join(cols)} FROM {table} WHERE {key} = ?", (rid,)
            ).fetchone()
            for col, value in zip(cols, row, strict=True):
                code = stored_problem(value, columns[col])
                if code:
                    where = f"（{table} 第{rid}行 {col}）"
                    out.append(Finding(code, _TEXT_MESSAGES[code] + where, hid))
    return out


def overpayment_findings(store: Store, today: dt.date) -> list[Finding]:
    """Money paid after a death or a stop not yet recovered (models/recovery.py)."""
    return [
        Finding("overpaid_unrecovered", message, hid, name)
        for hid, name, message in recovery.unrecovered(store, today)
    ]


def deadline_findings(store: Store, today: dt.date) -> list[Finding]:
    """Applications past a working-day limit (models/clocks.py): a decision, the county's
    confirmation, the written notice of a refusal.  Code ``<clock>_overdue``."""
    return [
        Finding(
            f"{item['clock']}_overdue",
            f"{item['category_name']}{clocks.describe_item(item)}"
            f"（enrolments 第{item['enrolment_id']}条）",
            item["household_id"],
            item["name"],
        )
        for item in clocks.due_items(store, today, only="overdue")
    ]


# -- the rules between enrolments (mzdesk/models/enrolment_rules.py) ------------------------
_DIBAO = {"urban_dibao", "rural_dibao"}
_RULE_FINDINGS = {
    "tekun_with_dibao": "特困供养人员同时享受低保",
    "two_active_enrolments": "同一人同一类别有两条在保记录",
    "excluded_category": "同一人（户）同时有互斥类别的有效记录",
    "duplicate_enrolment": "同一人（户）同一类别有两条有效记录",
}


def _rule_code(code: str, a: rules.Row, b: rules.Row) -> str:
    """The finding's code: both 在保, the names ``check`` always gave those two cases;
    otherwise (a record still in its lifecycle, a local category) the rule's own code."""
    if a.state == b.state == "active":
        if code == rules.DUPLICATE:
            return "two_active_enrolments"
        if {a.category, b.category} & {"tekun"} and {a.category, b.category} & _DIBAO:
            return "tekun_with_dibao"
    return code


def enrolment_rule_findings(store: Store, _today: dt.date | None = None) -> list[Finding]:
    """Every pair of live enrolments that the rules between records forbid (特困 vs 低保
    and other excluded categories, two live records of one person or household in one
    category), whatever wrote them: an older version, a file edited with sqlite3.  The
    set form of the rule the enrolment service applies on every write."""
    cats = categories(store)
    out = []
    for a, b, code in rules.violations(rules.stored_rows(store, None, LIVE_STATES), cats):
        kind = _rule_code(code, a, b)
        why = rules.message(code, b.category, a, cats)
        where = f"（enrolments 第{a.key}条与第{b.key}条）"
        out.append(
            Finding(kind, f"{_RULE_FINDINGS[kind]}：{why}{where}", a.household_id, b.name or a.name)
        )
    return out


# the checks that are functions rather than one SQL rule, run in this order by run_checks
_FUNCTIONS: list[Callable[[Store, dt.date], list[Finding]]] = [
    enrolment_rule_findings,
    date_findings,
    text_findings,
    overpayment_findings,
    consistency_findings,  # models/consistency.py: records that contradict each other
    deadline_findings,  # models/clocks.py: working-day limits passed
]
