"""Tamper evidence for the audit trail (操作留痕防篡改): what the hash chain alone cannot see.

The chain (``models/audit.py``) has no secret: anyone with the file can write entries,
drop a trigger or recompute every hash.  This module holds what mzdesk checks beyond it,
each with a machine code (see docs/reliability.md, "Audit chain"):

* ``audit_unsealed`` — entries written outside mzdesk (a raw ``sqlite3`` edit fires the
  triggers, whose entries nobody seals).  Pending entries are sealed only by the action
  that wrote them (``Store.before_commit``).  One found when a transaction begins (at
  open, at a login, before any write) was not written by mzdesk: it is recorded as a
  finding (``audit_findings``, itself audited) in that same transaction and only then
  sealed, so that it can never pass silently.
* ``audit_trigger_missing`` / ``audit_trigger_altered`` — ``audit_trigger_record`` keeps
  every ``audit_*`` trigger as mzdesk last installed it.  At open a trigger that differs
  from that record was dropped or rewritten by hand: recorded, then restored.  One that
  differs only from what this version generates (a new column, a newer mzdesk) is
  replaced silently: that is an upgrade.
* ``audit_account_mismatch`` — an account row (role, password hash, lock) that disagrees
  with what the chain says it became (the chain keeps a fingerprint of the password hash:
  the last 16 hex digits of the salted scrypt digest, worthless without the salt).  Checked
  at open and by ``audit verify``.
* the chain itself (``audit_edited``, ``audit_deleted``) and the signed checkpoints (in
  ``mzdesk/sync/checkpoints.py``: the key lives in ``sync``).

Findings are permanent: ``audit verify`` and ``check`` report them for good.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from . import audit

# the tables this module adds (migration "audit findings, checkpoints and trigger record")
FINDINGS = "audit_findings"
TRIGGER_RECORD = "audit_trigger_record"

MESSAGES = {
    "audit_unsealed": "审计记录不是由本程序写入（数据库文件被直接改动过）",
    "audit_trigger_missing": "审计触发器被删除（删除期间的改动没有留痕）",
    "audit_trigger_altered": "审计触发器被改动（改动期间的留痕不可信）",
    "audit_account_mismatch": "操作员账号与审计记录不符（角色、密码或锁定状态被直接改动）",
    "audit_edited": "审计记录被改动",
    "audit_deleted": "审计记录被删除",
}


@dataclass
class Problem:
    """One kind of tampering found; ``code`` is the machine code."""

    code: str
    message: str
    seq: int | None = None
    recorded_at: str | None = None  # a finding recorded earlier (at open, at a login)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def has_guard_tables(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (FINDINGS,)
        ).fetchone()
        is not None
    )


def record(conn: sqlite3.Connection, code: str, detail: str, operator: str, first=None, last=None):
    """Write a finding (inside a transaction); its own audit entry chains it (the trigger
    is made first on a file just upgraded: the finding is read back from the chain)."""
    insert = f"audit_{FINDINGS}_insert"
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (insert,)).fetchone():
        conn.execute(audit.trigger_sql(conn, FINDINGS)[insert])
    conn.execute(
        f"INSERT INTO {FINDINGS} (at, code, first_seq, last_seq, detail, updated_by) "
        "VALUES (strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime'), ?, ?, ?, ?, ?)",
        (code, first, last, detail, operator or ""),
    )


# -- entries written outside mzdesk --------------------------------------------------------
def unsealed_detail(conn: sqlite3.Connection) -> tuple[int, int, str] | None:
    """(first seq, last seq, words) of the unsealed entries, or None."""
    first = conn.execute("SELECT min(seq) FROM audit_log WHERE hash IS NULL").fetchone()[0]
    if first is None:
        return None
    n, last = conn.execute("SELECT count(*), max(seq) FROM audit_log WHERE hash IS NULL").fetchone()
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT tbl FROM audit_log WHERE hash IS NULL ORDER BY tbl LIMIT 10"
        )
    ]
    what = f"第{first}条" + (f"至第{last}条共{n}条" if n > 1 else "")
    return first, last, f"审计记录{what}不是由本程序写入（{'、'.join(tables)}）"


def check_pending(store) -> None:
    """``Store.after_begin``: entries still unsealed now were committed by someone else."""
    conn = store.conn
    if not audit.has_audit(conn):
        return
    found = unsealed_detail(conn)
    if found is None:
        return
    first, last, words = found
    detail = f"{words}；由 {store.operator or '本程序'} 的下一次操作（打开、登录或写入）发现，记录后封存入链"
    if has_guard_tables(conn):
        record(conn, "audit_unsealed", detail, store.operator, first, last)
    else:  # upgrading from before the findings table: written once it exists (attach)
        store.audit_pending_findings = [
            *getattr(store, "audit_pending_findings", []),
            ("audit_unsealed", detail, first, last),
        ]


# -- the triggers ---------------------------------------------------------------------------
def _live(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(
        conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'audit_*'"
        )
    )


def _expected(conn: sqlite3.Connection) -> dict[str, str]:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    out: dict[str, str] = {}
    for table in audit.AUDITED_TABLES:
        if table in tables:
            out.update(audit.trigger_sql(conn, table))
    return out


def trigger_problems(conn: sqlite3.Connection) -> list[Problem]:
    """Each ``audit_*`` trigger that differs from what mzdesk last installed."""
    if not has_guard_tables(conn):
        return []
    recorded = dict(conn.execute(f"SELECT name, sql FROM {TRIGGER_RECORD}"))
    live = _live(conn)
    out = []
    for name in sorted(recorded):
        if live.get(name) == recorded[name]:
            continue
        code = "audit_trigger_missing" if name not in live else "audit_trigger_altered"
        out.append(Problem(code, f"{MESSAGES[code]}：{name}"))
    return out


def install_triggers(conn: sqlite3.Connection) -> bool:
    """Make the live triggers what this version generates (guards as recorded), and record
    them; True when anything changed."""
    has_record = has_guard_tables(conn)
    recorded = dict(conn.execute(f"SELECT name, sql FROM {TRIGGER_RECORD}")) if has_record else {}
    want = {**recorded, **_expected(conn)}
    live = _live(conn)
    changed = False
    for name, sql in want.items():
        if live.get(name) != sql:
            conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            conn.execute(sql)
            changed = True
    if has_record and (changed or recorded != want):
        conn.execute(f"DELETE FROM {TRIGGER_RECORD}")
        conn.executemany(f"INSERT INTO {TRIGGER_RECORD} (name, sql) VALUES (?, ?)", want.items())
        changed = True
    return changed


def triggers_need_work(conn: sqlite3.Connection) -> bool:
    """The live triggers (or their record) are not what :func:`install_triggers` makes."""
    expected = _expected(conn)
    live = _live(conn)
    if not has_guard_tables(conn):
        return any(live.get(name) != sql for name, sql in expected.items())
    recorded = dict(conn.execute(f"SELECT name, sql FROM {TRIGGER_RECORD}"))
    want = {**recorded, **expected}
    return recorded != want or any(live.get(name) != sql for name, sql in want.items())


# -- accounts ---------------------------------------------------------------------------------
ACCOUNT_FIELDS = ("name", "role", "pw_hash", "locked")


def password_print(pw_hash: str | None) -> str | None:
    """What the chain keeps of a password hash (see :func:`audit.trigger_sql`)."""
    return None if pw_hash is None else "***" + pw_hash[-16:]


def _chain_accounts(conn: sqlite3.Connection) -> dict[int, dict | None]:
    """record id -> the account's fields as the chain says they became (None: deleted)."""
    state: dict[int, dict | None] = {}
    for rid, action, field, new in conn.execute(
        "SELECT record_id, action, field, new FROM audit_log WHERE tbl = 'operators' ORDER BY seq"
    ):
        if action == "insert":
            try:
                snap = json.loads(new) if new and new.startswith("{") else {}
            except ValueError:
                snap = {}
            state[rid] = {k: None if v is None else str(v) for k, v in snap.items()}
            state[rid].setdefault("locked", "0")  # type: ignore[union-attr]
        elif action == "delete":
            state[rid] = None
        else:
            row = state.setdefault(rid, {})
            if row is not None:
                row[field] = new
    return state


def account_problems(conn: sqlite3.Connection) -> list[Problem]:
    """Accounts whose role, password hash or lock differs from the chain's account of them."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "operators" not in tables or "audit_log" not in tables:
        return []
    chain = _chain_accounts(conn)
    out = []
    for rid, name, role, pw, locked in conn.execute(
        "SELECT id, name, role, pw_hash, locked FROM operators ORDER BY id"
    ):
        known = chain.get(rid)
        live = {"name": name, "role": role, "pw_hash": password_print(pw), "locked": str(locked)}
        if known is None:
            why = "审计记录中没有此账号" if rid not in chain else "审计记录中此账号已删除"
            out.append(
                Problem(
                    "audit_account_mismatch",
                    f"{MESSAGES['audit_account_mismatch']}：{name}（{why}）",
                )
            )
            continue
        bad = []
        for f in ACCOUNT_FIELDS:
            was = known.get(f)
            if f == "pw_hash" and (was is None or was == "***"):
                continue  # logged before the chain kept a fingerprint: nothing to compare
            if f == "locked" and was is None:
                was = "0"
            if was != live[f]:
                bad.append(
                    {"name": "账号名", "role": "角色", "pw_hash": "密码", "locked": "锁定状态"}[f]
                )
        if bad:
            out.append(
                Problem(
                    "audit_account_mismatch",
                    f"{MESSAGES['audit_account_mismatch']}：{name}（{'、'.join(bad)}）",
                )
            )
    return out


def _baseline_passwords(conn: sqlite3.Connection, operator: str) -> None:
    """Accounts whose password fingerprint the chain lacks (logged before it kept one) get
    an entry with it, so a hash copied later is seen."""
    chain = _chain_accounts(conn)
    for rid, pw in conn.execute("SELECT id, pw_hash FROM operators").fetchall():
        known = chain.get(rid)
        if known is None or known.get("pw_hash") not in (None, "***"):
            continue
        conn.execute(
            "INSERT INTO audit_log (at, operator, tbl, record_id, action, field, old, new) "
            "VALUES (strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime'), ?, 'operators', ?, "
            "'update', 'pw_hash', ?, ?)",
            (operator, rid, known.get("pw_hash"), password_print(pw)),
        )


# -- at open ----------------------------------------------------------------------------------
def on_open(store) -> None:
    """Check the triggers and the accounts; record what is wrong, then repair the triggers
    (one transaction, only when something needs writing)."""
    conn = store.conn
    if not audit.has_audit(conn):
        return
    pending = getattr(store, "audit_pending_findings", [])
    triggers = trigger_problems(conn)
    accounts = account_problems(conn) if has_guard_tables(conn) else []
    accounts = [p for p in accounts if not _already(conn, p)]  # recorded once, not per open
    needs = (
        pending
        or triggers
        or accounts
        or triggers_need_work(conn)
        or conn.execute("SELECT 1 FROM audit_log WHERE hash IS NULL LIMIT 1").fetchone()
        or (has_guard_tables(conn) and _lacks_baseline(conn))
    )
    if not needs:
        return
    who = "mzdesk 核查"
    with store.transaction():  # after_begin records entries written outside mzdesk
        if has_guard_tables(conn):
            for code, detail, first, last in pending:
                record(conn, code, detail, who, first, last)
            store.audit_pending_findings = []
            for p in triggers:
                record(conn, p.code, p.message + "；打开数据库时发现，已恢复", who)
            for p in accounts:
                record(conn, p.code, p.message + "；打开数据库时发现", who)
        install_triggers(conn)
        if has_guard_tables(conn):
            _baseline_passwords(conn, who)


def _lacks_baseline(conn: sqlite3.Connection) -> bool:
    chain = _chain_accounts(conn)
    return any(
        known is not None and known.get("pw_hash") in (None, "***")
        for rid, known in chain.items()
        if conn.execute("SELECT 1 FROM operators WHERE id = ?", (rid,)).fetchone()
    )


def _already(conn: sqlite3.Connection, p: Problem) -> bool:
    return any(r.code == p.code and r.message.startswith(p.message) for r in recorded(conn))


# -- the report ------------------------------------------------------------------------------
def recorded(conn: sqlite3.Connection) -> list[Problem]:
    """The findings as the chain holds them (each finding's own audit entry): a finding row
    deleted behind mzdesk's back is still reported, and its entry cannot be edited
    without breaking the chain."""
    out = []
    for at, new in conn.execute(
        "SELECT at, new FROM audit_log WHERE tbl = ? AND action = 'insert' ORDER BY seq",
        (FINDINGS,),
    ):
        try:
            d = json.loads(new)
        except (TypeError, ValueError):
            d = {}
        if not isinstance(d, dict):
            d = {}
        out.append(
            Problem(
                str(d.get("code") or "audit_edited"),
                str(d.get("detail") or "审计发现记录不可读"),
                d.get("first_seq") if isinstance(d.get("first_seq"), int) else None,
                str(d.get("at") or at),
            )
        )
    return out


def problems(conn: sqlite3.Connection) -> tuple[audit.VerifyResult, list[Problem]]:
    """The chain recomputed, and every kind of tampering found now or recorded earlier."""
    result = audit.verify(conn)
    out = recorded(conn)
    if not result.ok:
        code = (
            "audit_unsealed"
            if result.unsealed
            else ("audit_deleted" if "删除" in result.problem else "audit_edited")
        )
        out.append(Problem(code, result.problem, result.broken_seq))
    out += trigger_problems(conn)
    seen = {(p.code, p.message.split("；")[0]) for p in out}
    out += [p for p in account_problems(conn) if (p.code, p.message) not in seen]
    return result, out
