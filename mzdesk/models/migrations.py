"""Numbered schema migrations.  Never edit a released step; add a new one.

``MIGRATIONS[n - 1]`` upgrades a database from version n-1 to n.  Tests open a
fixture database committed at every earlier version (tests/fixtures/).

A step carries its own SQL and never calls live code that may change (another module's
``create_schema``, today's rule for a value): what it needs from elsewhere is copied, as it
was at that version, into the step or into :mod:`mzdesk.models.migrations_sql`.
``tests/models/test_migrations_frozen.py`` compares every step with the schema it made
when released.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable

from . import migrations_sql
from .migrations_cases import assistance_cases
from .migrations_county import county_scale_indexes
from .migrations_province import origin_site_names
from .migrations_upward import upward_roles_and_origins

_STAMP = """
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL"""


def _reverse(text: str | None) -> str | None:
    return None if text is None else text[::-1]


def register_functions(conn: sqlite3.Connection) -> None:
    """SQL functions the schema and its migrations use."""
    conn.create_function("mz_reverse", 1, _reverse, deterministic=True)


def _v1_base(conn: sqlite3.Connection) -> None:
    for sql in f"""
    CREATE TABLE site (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        code TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('township', 'field', 'county')),{_STAMP}
    );
    CREATE TABLE households (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        village TEXT NOT NULL,
        village_group TEXT NOT NULL DEFAULT '',
        area_type TEXT NOT NULL DEFAULT 'rural' CHECK (area_type IN ('urban', 'rural')),
        address TEXT NOT NULL DEFAULT '',
        phone TEXT NOT NULL DEFAULT '',
        bank_name TEXT NOT NULL DEFAULT '',
        bank_account TEXT NOT NULL DEFAULT '',
        housing_tenure TEXT NOT NULL DEFAULT '',
        housing_structure TEXT NOT NULL DEFAULT '',
        housing_area_m2 INTEGER,
        dangerous_house INTEGER NOT NULL DEFAULT 0,
        vehicles TEXT NOT NULL DEFAULT '',
        commercial_property TEXT NOT NULL DEFAULT '',
        savings_fen INTEGER NOT NULL DEFAULT 0,
        causes TEXT NOT NULL DEFAULT '',
        notes TEXT NOT NULL DEFAULT '',
        head_name TEXT NOT NULL DEFAULT '',
        head_py TEXT NOT NULL DEFAULT '',
        head_id_number TEXT NOT NULL DEFAULT '',
        member_count INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
        status_reason TEXT NOT NULL DEFAULT '',{_STAMP}
    );
    CREATE TABLE members (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        household_id INTEGER NOT NULL REFERENCES households(id),
        seq INTEGER NOT NULL DEFAULT 0,
        name TEXT NOT NULL,
        id_number TEXT,
        id_raw TEXT NOT NULL DEFAULT '',
        id_pending INTEGER NOT NULL DEFAULT 0,
        gender TEXT,
        birth_date TEXT,
        relation TEXT NOT NULL,
        in_assistance INTEGER NOT NULL DEFAULT 1,
        in_register INTEGER NOT NULL DEFAULT 1,
        health TEXT NOT NULL DEFAULT '健康',
        disability_cert TEXT NOT NULL DEFAULT '',
        disability_category INTEGER,
        disability_level INTEGER,
        labour_capacity TEXT NOT NULL DEFAULT '',
        occupation TEXT NOT NULL DEFAULT '',
        income_wage_fen INTEGER NOT NULL DEFAULT 0,
        income_farm_fen INTEGER NOT NULL DEFAULT 0,
        income_business_fen INTEGER NOT NULL DEFAULT 0,
        income_property_fen INTEGER NOT NULL DEFAULT 0,
        income_pension_fen INTEGER NOT NULL DEFAULT 0,
        income_transfer_fen INTEGER NOT NULL DEFAULT 0,
        income_support_fen INTEGER NOT NULL DEFAULT 0,
        special TEXT NOT NULL DEFAULT '',
        deceased_on TEXT,
        name_tail TEXT NOT NULL DEFAULT '',
        py_initials TEXT NOT NULL DEFAULT '',
        py_full TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
        status_reason TEXT NOT NULL DEFAULT '',{_STAMP}
    );
    CREATE UNIQUE INDEX members_active_id ON members(id_number)
        WHERE status = 'active' AND id_number IS NOT NULL;
    CREATE INDEX members_household ON members(household_id);
    CREATE INDEX members_name ON members(name);
    CREATE INDEX members_name_tail ON members(name_tail);
    CREATE INDEX members_py_initials ON members(py_initials);
    CREATE INDEX members_py_full ON members(py_full);
    CREATE INDEX households_village ON households(village, village_group);
    CREATE INDEX households_head_py ON households(head_py);
    CREATE INDEX households_phone ON households(phone);
    """.split(";"):
        if sql.strip():
            conn.execute(sql)


def _v2_suffix_search_and_enrolments(conn: sqlite3.Connection) -> None:
    """Suffix search on ID and phone (clerks type the last digits) and enrolments.

    Enrolments here carry what the household list filters on (category, state);
    the full lifecycle builds on this table.
    """
    for sql in f"""
    ALTER TABLE members ADD COLUMN id_rev TEXT;
    UPDATE members SET id_rev = mz_reverse(id_number);
    CREATE INDEX members_id_rev ON members(id_rev);
    ALTER TABLE households ADD COLUMN phone_rev TEXT NOT NULL DEFAULT '';
    UPDATE households SET phone_rev = mz_reverse(phone);
    CREATE INDEX households_phone_rev ON households(phone_rev);
    CREATE TABLE enrolments (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        household_id INTEGER NOT NULL REFERENCES households(id),
        member_id INTEGER REFERENCES members(id),
        category TEXT NOT NULL,
        class TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        covered INTEGER NOT NULL DEFAULT 0,
        monthly_fen INTEGER NOT NULL DEFAULT 0,
        applied_on TEXT,
        start_on TEXT,
        end_on TEXT,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),{_STAMP}
    );
    CREATE INDEX enrolments_household ON enrolments(household_id);
    CREATE INDEX enrolments_category_state ON enrolments(category, state, household_id);
    CREATE INDEX enrolments_member ON enrolments(member_id);
    """.split(";"):
        if sql.strip():
            conn.execute(sql)


def _visits_booklets_tasks_spot_checks(conn: sqlite3.Connection) -> None:
    """Home visits (入户调查/核查) with photos, care booklets (关爱簿), follow-up
    tasks and spot checks.  Every row has a uid and who/when stamps so it can
    travel in sync batches; filled forms keep their template id and version,
    and ``form_templates`` keeps a copy of every template version ever used.
    """
    for sql in f"""
    CREATE TABLE form_templates (
        template_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        PRIMARY KEY (template_id, version)
    );
    CREATE TABLE care_booklets (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        household_id INTEGER NOT NULL REFERENCES households(id),
        template_id TEXT NOT NULL,
        template_version INTEGER NOT NULL,
        answers TEXT NOT NULL DEFAULT '{{}}',
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),{_STAMP}
    );
    CREATE UNIQUE INDEX care_booklets_household ON care_booklets(household_id)
        WHERE status = 'active';
    CREATE TABLE visits (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        household_id INTEGER NOT NULL REFERENCES households(id),
        visit_date TEXT NOT NULL,
        kind TEXT NOT NULL,
        investigators TEXT NOT NULL,
        template_id TEXT NOT NULL,
        template_version INTEGER NOT NULL,
        answers TEXT NOT NULL DEFAULT '{{}}',
        conclusion TEXT NOT NULL DEFAULT '',
        representative TEXT NOT NULL DEFAULT '',
        acknowledged INTEGER NOT NULL DEFAULT 0,
        ack_note TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),{_STAMP}
    );
    CREATE INDEX visits_household ON visits(household_id, visit_date);
    CREATE INDEX visits_date ON visits(visit_date);
    CREATE TABLE visit_photos (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        visit_id INTEGER NOT NULL REFERENCES visits(id),
        seq INTEGER NOT NULL DEFAULT 0,
        file_name TEXT NOT NULL,
        caption TEXT NOT NULL DEFAULT '',
        sha256 TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        image BLOB NOT NULL,
        thumbnail BLOB NOT NULL,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),{_STAMP}
    );
    CREATE INDEX visit_photos_visit ON visit_photos(visit_id);
    CREATE TABLE followup_tasks (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        household_id INTEGER NOT NULL REFERENCES households(id),
        visit_id INTEGER REFERENCES visits(id),
        item_key TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),
        closed_at TEXT,
        closed_by TEXT,
        close_note TEXT NOT NULL DEFAULT '',{_STAMP}
    );
    CREATE INDEX followup_tasks_household ON followup_tasks(household_id, state);
    CREATE INDEX followup_tasks_state ON followup_tasks(state);
    CREATE TABLE spot_checks (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        title TEXT NOT NULL,
        village TEXT NOT NULL DEFAULT '',
        category TEXT NOT NULL DEFAULT '',
        stratify TEXT NOT NULL DEFAULT '',
        percent INTEGER NOT NULL,
        seed INTEGER NOT NULL,
        population INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),{_STAMP}
    );
    CREATE TABLE spot_check_items (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        spot_check_id INTEGER NOT NULL REFERENCES spot_checks(id),
        household_id INTEGER NOT NULL REFERENCES households(id),
        seq INTEGER NOT NULL,
        visit_id INTEGER REFERENCES visits(id),
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),{_STAMP}
    );
    CREATE INDEX spot_check_items_check ON spot_check_items(spot_check_id, seq);
    CREATE INDEX spot_check_items_household ON spot_check_items(household_id, state);
    """.split(";"):
        if sql.strip():
            conn.execute(sql)


def _household_list_indexes(conn: sqlite3.Connection) -> None:
    """Covering indexes for the household list: every sort key and the village list
    answer from an index on (status, key) instead of scanning the wide table."""
    for sql in (
        "CREATE INDEX households_status_id ON households(status)",
        "CREATE INDEX households_status_village ON households(status, village, village_group)",
        "CREATE INDEX households_status_head ON households(status, head_py)",
        "CREATE INDEX households_status_members ON households(status, member_count)",
        "CREATE INDEX households_status_updated ON households(status, updated_at)",
        "CREATE INDEX households_status_phone ON households(status, phone)",
    ):
        conn.execute(sql)


def _enrolment_lifecycle_and_notices(conn: sqlite3.Connection) -> None:
    """Enrolment lifecycle (申请 → 调查 → 评议 → 公示 → 待审核 → 在保/不予确认 → 停发):
    every transition as an event row; public notices (公示) with a frozen copy of
    each row printed, so a re-print reproduces the notice; objections (异议);
    township-local categories as JSON rows beside the shipped list.
    """
    for sql in f"""
    ALTER TABLE enrolments ADD COLUMN review_due TEXT;
    ALTER TABLE enrolments ADD COLUMN investigated_on TEXT;
    ALTER TABLE enrolments ADD COLUMN notice_pending TEXT NOT NULL DEFAULT '';
    ALTER TABLE enrolments ADD COLUMN stop_reason TEXT NOT NULL DEFAULT '';
    CREATE INDEX enrolments_state ON enrolments(state, category);
    CREATE TABLE enrolment_events (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        enrolment_id INTEGER NOT NULL REFERENCES enrolments(id),
        action TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '{{}}',
        monthly_fen INTEGER,
        at TEXT NOT NULL,
        by TEXT NOT NULL
    );
    CREATE INDEX enrolment_events_enrolment ON enrolment_events(enrolment_id, id);
    CREATE TABLE notices (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        township TEXT NOT NULL,
        start_on TEXT NOT NULL,
        end_on TEXT NOT NULL,
        hotline TEXT NOT NULL,
        address TEXT NOT NULL DEFAULT '',
        issuer TEXT NOT NULL,
        issued_on TEXT NOT NULL,
        show_id INTEGER NOT NULL DEFAULT 0,
        page_size TEXT NOT NULL DEFAULT 'A4',
        landscape INTEGER NOT NULL DEFAULT 0,{_STAMP}
    );
    CREATE INDEX notices_period ON notices(end_on);
    CREATE TABLE notice_items (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        notice_id INTEGER NOT NULL REFERENCES notices(id),
        enrolment_id INTEGER NOT NULL REFERENCES enrolments(id),
        seq INTEGER NOT NULL,
        village TEXT NOT NULL,
        village_group TEXT NOT NULL DEFAULT '',
        name TEXT NOT NULL,
        id_masked TEXT NOT NULL DEFAULT '',
        covered INTEGER NOT NULL,
        category TEXT NOT NULL,
        category_label TEXT NOT NULL,
        monthly_fen INTEGER NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('new', 'change', 'stop'))
    );
    CREATE INDEX notice_items_notice ON notice_items(notice_id, seq);
    CREATE INDEX notice_items_enrolment ON notice_items(enrolment_id);
    CREATE TABLE objections (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        notice_id INTEGER NOT NULL REFERENCES notices(id),
        enrolment_id INTEGER NOT NULL REFERENCES enrolments(id),
        raised_by TEXT NOT NULL,
        raised_on TEXT NOT NULL,
        content TEXT NOT NULL,
        follow_up TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),{_STAMP}
    );
    CREATE INDEX objections_enrolment ON objections(enrolment_id, state);
    CREATE TABLE local_categories (
        code TEXT PRIMARY KEY,
        body TEXT NOT NULL,{_STAMP}
    );
    """.split(";"):
        if sql.strip():
            conn.execute(sql)


def _operators_and_audit_trail(conn: sqlite3.Connection) -> None:
    """Operator accounts with roles, and the hash-chained audit trail.

    The audit triggers as version 6 generated them (``migrations_sql``); from then on
    ``audit.refresh_triggers`` keeps them current whenever a store opens.
    """
    migrations_sql.v6_operators_and_audit(conn)


def _roster_import_batches(conn: sqlite3.Connection) -> None:
    """Roster imports (花名册导入) as undoable units: one batch row per import, one
    ``import_rows`` row per record it created or updated (with the row as it was
    before, so undo restores it), and the column mapping remembered per layout.
    """
    for sql in f"""
    CREATE TABLE import_batches (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        file_name TEXT NOT NULL,
        file_sha256 TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '{{}}',
        state TEXT NOT NULL DEFAULT 'applied' CHECK (state IN ('applied', 'undone')),
        undone_at TEXT,
        undone_by TEXT,{_STAMP}
    );
    CREATE TABLE import_rows (
        id INTEGER PRIMARY KEY,
        batch_id INTEGER NOT NULL REFERENCES import_batches(id),
        table_name TEXT NOT NULL,
        row_id INTEGER NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('created', 'updated')),
        before TEXT
    );
    CREATE INDEX import_rows_batch ON import_rows(batch_id);
    CREATE TABLE roster_layouts (
        signature TEXT PRIMARY KEY,
        headers TEXT NOT NULL,
        mapping TEXT NOT NULL,{_STAMP}
    );
    """.split(";"):
        if sql.strip():
            conn.execute(sql)


def _sync_change_log_and_trust(conn: sqlite3.Connection) -> None:
    """Batch sync: change log with its triggers, trust list of sites, per-peer bases,
    batch history and conflicts (see mzdesk/sync/changelog.py)."""
    migrations_sql.v7_sync_change_log(conn)


def _id_birth_date_index(conn: sqlite3.Connection) -> None:
    """Search by birth date (the middle of an ID: ``19800101``, ``198001``) from an
    index on the ID from its 7th character, instead of scanning every member."""
    conn.execute("CREATE INDEX members_id_from_birth ON members(substr(id_number, 7))")


def _covering_name_search_indexes(conn: sqlite3.Connection) -> None:
    """One- and two-character names and short pinyin initials match thousands of
    members: covering indexes answer them without reading each member row
    (measured at 100k households: 8.4 ms -> 1.5 ms for "张")."""
    for sql in (
        "DROP INDEX IF EXISTS members_name",
        "DROP INDEX IF EXISTS members_py_initials",
        "CREATE INDEX members_name_cover ON members(name, status, household_id)",
        "CREATE INDEX members_py_initials_cover ON members(py_initials, status, household_id)",
    ):
        conn.execute(sql)


def _declared_relatives(conn: sqlite3.Connection) -> None:
    """Declared relatives (近亲属备案) of assistance staff and village cadres; their
    enrolments are flagged for the county (mzdesk/models/relatives.py)."""
    for sql in f"""
    CREATE TABLE declared_relatives (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        rev INTEGER NOT NULL DEFAULT 1,
        declarant_name TEXT NOT NULL,
        declarant_role TEXT NOT NULL,
        declarant_village TEXT NOT NULL DEFAULT '',
        relative_name TEXT NOT NULL,
        id_number TEXT NOT NULL,
        relation TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        declared_on TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),{_STAMP}
    );
    CREATE INDEX declared_relatives_id ON declared_relatives(id_number, status);
    """.split(";"):
        if sql.strip():
            conn.execute(sql)
    # the change log covers the new table from the start
    migrations_sql.change_log_triggers(conn, "declared_relatives")


def _sync_bookkeeping_without_rowid(conn: sqlite3.Connection) -> None:
    """``sync_pending`` and ``sync_base`` as WITHOUT ROWID tables keyed by what they are
    looked up by: one B-tree per table instead of a table plus its index(es).  A full
    snapshot writes one ``sync_pending`` row per record (446k at 100k households)."""
    for sql in """
    CREATE TABLE sync_pending_v12 (
        peer TEXT NOT NULL,
        tbl TEXT NOT NULL,
        uid TEXT NOT NULL,
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (peer, tbl, uid, seq)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO sync_pending_v12 (peer, tbl, uid, seq, hash)
        SELECT peer, tbl, uid, seq, hash FROM sync_pending ORDER BY id;
    DROP TABLE sync_pending;
    ALTER TABLE sync_pending_v12 RENAME TO sync_pending;
    CREATE TABLE sync_base_v12 (
        peer TEXT NOT NULL,
        tbl TEXT NOT NULL,
        uid TEXT NOT NULL,
        hash TEXT,
        batch_id INTEGER,
        force INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (peer, tbl, uid)
    ) WITHOUT ROWID;
    INSERT INTO sync_base_v12 (peer, tbl, uid, hash, batch_id, force)
        SELECT peer, tbl, uid, hash, batch_id, force FROM sync_base;
    DROP TABLE sync_base;
    ALTER TABLE sync_base_v12 RENAME TO sync_base
    """.split(";"):
        if sql.strip():
            conn.execute(sql)


def _phones_as_digits(conn: sqlite3.Connection) -> None:
    """Phone numbers as digits only (``ids.normalise_phone``), the form intake now stores:
    rows written before kept what the clerk typed ("0557-1234567", "139 0000 0000"), which a
    search for the digits did not find and a comparison took for another number.  Each
    change is stamped, audited and change-logged as the program's (``mzdesk 升级``), so
    the other sites receive it like any edit."""
    cols = {r[1] for r in conn.execute("PRAGMA table_info(households)")}
    now = conn.execute("SELECT strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime')").fetchone()[0]
    bump = ", rev = rev + 1" if "rev" in cols else ""
    for hid, phone in conn.execute(
        "SELECT id, phone FROM households WHERE phone GLOB '*[^0-9]*'"
    ).fetchall():
        new = migrations_sql.v13_normalise_phone(phone)
        if new != phone:
            conn.execute(
                f"UPDATE households SET phone = ?, phone_rev = ?, updated_at = ?, "
                f"updated_by = 'mzdesk 升级'{bump} WHERE id = ?",
                (new, new[::-1], now, hid),
            )


# -- 14: stored text cleaned (frozen copy of the rule of models/text.py at version 14) --------
_V14_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    "\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
    "\ud800-\udfff\ufeff\ufff9-\ufffb\ufffe\uffff]"
)
# the user-text columns of version 13, by table (operators.name is a login: check reports it)
_V14_COLUMNS = {
    "site": ("name",),
    "households": (
        "village",
        "village_group",
        "address",
        "bank_name",
        "housing_structure",
        "vehicles",
        "commercial_property",
        "notes",
        "status_reason",
        "head_name",
    ),
    "members": ("name", "id_raw", "occupation", "status_reason"),
    "enrolments": ("class", "stop_reason"),
    "enrolment_events": ("reason", "detail"),
    "notices": ("title", "township", "hotline", "address", "issuer"),
    "notice_items": ("village", "village_group", "name", "category_label"),
    "objections": ("raised_by", "content", "follow_up", "outcome"),
    "local_categories": ("body",),
    "operators": ("display_name", "locked_reason"),
    "declared_relatives": ("declarant_name", "declarant_village", "relative_name", "note"),
    "visits": ("investigators", "conclusion", "representative", "ack_note", "answers"),
    "care_booklets": ("answers",),
    "followup_tasks": ("title", "detail", "close_note"),
    "visit_photos": ("caption",),
    "spot_checks": ("title",),
}


def _clean_stored_text(conn: sqlite3.Connection) -> None:
    """Control, zero-width and bidi characters out of stored text (``_x001B_`` imported from
    a spreadsheet stopped every xlsx export).  Only those characters are removed: nothing is
    shortened, an over-long value stays for ``check`` to report.  Rows with a stamp are
    stamped, audited and change-logged as the program's (``mzdesk 升级``), as in version 13,
    so the other sites receive the cleaned text.  Member names also renew their search keys
    (the pinyin columns hold only letters and are left as they are)."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    now = conn.execute("SELECT strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime')").fetchone()[0]
    for table, wanted in _V14_COLUMNS.items():
        if table not in tables:
            continue
        cols = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        text_cols = [c for c in wanted if c in cols]
        key = "id" if "id" in cols else "rowid"
        extra = ", updated_at = ?, updated_by = 'mzdesk 升级'" if "updated_by" in cols else ""
        extra += ", rev = rev + 1" if "rev" in cols else ""
        rows = conn.execute(f"SELECT {key}, {', '.join(text_cols)} FROM {table}").fetchall()
        for row in rows:
            if not any(isinstance(v, str) and _V14_FORBIDDEN.search(v) for v in row[1:]):
                continue
            new = {
                c: _V14_FORBIDDEN.sub("", v)
                for c, v in zip(text_cols, row[1:], strict=True)
                if isinstance(v, str) and _V14_FORBIDDEN.search(v)
            }
            if table == "members" and "name" in new:
                new["name_tail"] = new["name"][1:]
            sets = ", ".join(f"{c} = ?" for c in new)
            args = (*new.values(), *((now,) if "updated_by" in cols else ()), row[0])
            conn.execute(f"UPDATE {table} SET {sets}{extra} WHERE {key} = ?", args)


from .migrations_late import (  # noqa: E402  steps 15 and later
    audit_findings_checkpoints_and_trigger_record,
    categories_and_support,
    enrolment_components,
    key_history_and_held_batches,
    payment_runs,
    reviews_rounds_and_survival,
    standards_and_recoveries,
)


def household_list_county_indexes(conn: sqlite3.Connection) -> None:
    """The household list at a county's size (330,000 households, keyset paging in
    models/paging.py): under 全部状态 a page walks an index per sort key instead of
    sorting every household (members, last change; the other keys have theirs since
    step 1), and a category filter reads the live enrolments from covering indexes,
    per category or all of them (its count, "no category"), instead of every
    enrolment row.  Search: the full pinyin, the given name, ID prefixes and suffixes
    answer from covering indexes like the name and initials since step 10 (a 1,000-hit
    ID prefix read 1,000 member rows: p95 24 -> 12 ms over a million persons)."""
    for sql in (
        "CREATE INDEX households_member_count ON households(member_count)",
        "CREATE INDEX households_updated_at ON households(updated_at)",
        "CREATE INDEX enrolments_live ON enrolments(category, state, status, household_id)",
        "CREATE INDEX enrolments_live_any ON enrolments(state, status, household_id)",
        "DROP INDEX IF EXISTS members_py_full",
        "DROP INDEX IF EXISTS members_name_tail",
        "DROP INDEX IF EXISTS members_id_rev",
        "CREATE INDEX members_py_full_cover ON members(py_full, status, household_id)",
        "CREATE INDEX members_name_tail_cover ON members(name_tail, status, household_id)",
        "CREATE INDEX members_id_rev_cover ON members(id_rev, status, household_id)",
        "CREATE INDEX members_id_cover ON members(id_number, status, household_id)",
    ):
        conn.execute(sql)


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _v1_base,
    _v2_suffix_search_and_enrolments,
    _visits_booklets_tasks_spot_checks,
    _household_list_indexes,
    _enrolment_lifecycle_and_notices,
    _operators_and_audit_trail,
    _sync_change_log_and_trust,
    _roster_import_batches,
    _id_birth_date_index,
    _covering_name_search_indexes,
    _declared_relatives,
    _sync_bookkeeping_without_rowid,
    _phones_as_digits,
    _clean_stored_text,
    standards_and_recoveries,
    key_history_and_held_batches,
    audit_findings_checkpoints_and_trigger_record,
    enrolment_components,
    categories_and_support,
    reviews_rounds_and_survival,
    payment_runs,
    assistance_cases,
    upward_roles_and_origins,
    household_list_county_indexes,
    county_scale_indexes,
    origin_site_names,
]

# the first version whose every write path applies the text rule (models/text.py): a sync
# batch from a site at this version or later never carries a forbidden character
TEXT_RULE_VERSION = MIGRATIONS.index(_clean_stored_text) + 1
