"""Operators (操作员), roles and the permission check every core service calls.

Roles: ``admin`` 管理员, ``clerk`` 经办人, ``field`` 入户核查员,
``county_reviewer`` 县级审核员, ``readonly`` 只读.

**Setup mode.**  A database without operator accounts is in setup mode: every
action is allowed, so a fresh install, the demo and scripts work before the
first admin exists.  Creating the first account (it must be an admin) ends
setup mode for good.

**Who is acting.**  Rights come from the store's :class:`Principal` (``store.principal``),
an object only :func:`login` creates (after :func:`authenticate`), and the setup-mode path
that creates the first admin (:func:`add_operator` on a database without accounts: the
person setting up acts as that admin, as the window's "创建并登录" does).  A principal
carries a seal (an HMAC under a key that lives only in this process), so one built by
hand, or copied with another role (``dataclasses.replace``), is not accepted.
``store.operator`` is only the name *recorded* on rows and in the audit trail: setting it
changes no right.  ``--operator`` (the 经办人, :func:`set_agent`) is recorded beside the
account, e.g. ``li（经办人：刘干事）``.

* GUI: the login dialog (``mzdesk.ui.login_dialog``) calls :func:`login`.
* CLI: ``MZDESK_OPERATOR`` and ``MZDESK_PASSWORD`` in the environment
  (:func:`cli_login`, called by ``cli.open_store``); needed only once
  accounts exist, and then by every command that opens the database, reading
  too (:func:`require_login`), as the window logs in before it shows anything.
* Background workers open their own store and act as the same principal
  (:func:`act_as`).

**The permission check.**  Services call ``require(store, ACTION)`` at the top
of each use case, before writing.  Actions (add one line to
:data:`PERMISSIONS` for a new one)::

    records.view          read records, lists, statistics, status    every role
    household.edit        create/change a household or its members   admin clerk field
    household.delete      soft-delete (注销) a household             admin clerk
    household.import      bulk import, its undo, demo                admin clerk
    enrolment.edit        apply, investigate, review, publicise      admin clerk field
    enrolment.confirm     confirm / reject (审核确认), stop           admin clerk county_reviewer
    visit.edit            home visits, booklets, follow-up tasks     admin clerk field
    spotcheck.edit        draw and record a spot check (抽查) and     admin clerk field
                          record its 抽查复核 visits (the county's     county_reviewer
                          home visits; no other visit, no booklet)
    forms.print           printed forms with people's data          admin clerk field
                          (关爱簿, 入户调查表)                          county_reviewer
    notice.publish        generate/record a public notice            admin clerk
    payment.edit          payment rosters                            admin clerk
    data.export           rosters of people's data to a file (补贴清册,  admin clerk county_reviewer
                          家庭/成员花名册: full IDs, bank accounts), and
                          a full sync snapshot (sync.export as well)
    sync.export           write a batch (a field laptop: its visits)  admin clerk field
                                                                     county_reviewer
    sync.import           apply a batch (every incoming change;      admin clerk field
                          the sender's scope limits it further)      county_reviewer
    sync.resolve          decide a sync conflict                     admin clerk county_reviewer
    sync.assign           assign villages to a field laptop          admin clerk
    keys.manage           site keys: init/rotate, trust, revoke,     admin
                          export the secret identity
    site.edit             set the site's identity (init)             admin
    audit.view            read the audit trail                       admin clerk county_reviewer
    backup.create         write a backup                             admin clerk
    backup.restore        replace the database by a backup           admin
    operators.manage      add, reset, lock, unlock accounts          admin
    database.encrypt      mzdesk encrypt / decrypt (the passphrase)  admin
    relatives.edit        declare/withdraw relatives (近亲属备案)     admin clerk

The command → permission table of the CLI is ``cli.common.COMMAND_PERMISSIONS``,
the window's actions are :data:`GUI_ACTIONS`; ``docs/roles.md`` shows both with
the roles (``tests/admin/test_roles_matrix.py`` keeps it in step).

Example::

    >>> from mzdesk.models.store import Store
    >>> store = Store.open(":memory:", operator="admin")
    >>> allowed(store, "operators.manage")    # setup mode: no accounts yet
    True
    >>> _ = add_operator(store, "admin", "管理员的密码123", "admin")   # ends setup mode
    >>> store.principal.account                 # who set up acts as the first admin
    'admin'
    >>> _ = add_operator(store, "li", "核查员的密码123", "field")
    >>> store.operator = "admin"                # a recorded name only: no rights
    >>> _ = login(store, "li", "核查员的密码123")
    >>> allowed(store, "enrolment.edit")
    True
    >>> require(store, "enrolment.confirm")
    Traceback (most recent call last):
    ...
    mzdesk.models.auth.PermissionDenied: 入户核查员 li 无权执行此操作（审核确认）
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field

from .errors import FieldError, MzError
from .text import clean, field_text

ROLES: dict[str, str] = {
    "admin": "管理员",
    "clerk": "经办人",
    "field": "入户核查员",
    "county_reviewer": "县级审核员",
    "readonly": "只读",
}

_ALL = frozenset(ROLES)
_OFFICE = frozenset({"admin", "clerk"})
_SYNCING = frozenset({"admin", "clerk", "field", "county_reviewer"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "records.view": _ALL,
    "household.edit": frozenset({"admin", "clerk", "field"}),
    "household.delete": _OFFICE,
    "household.import": _OFFICE,
    "enrolment.edit": frozenset({"admin", "clerk", "field"}),
    "enrolment.confirm": frozenset({"admin", "clerk", "county_reviewer"}),
    "visit.edit": frozenset({"admin", "clerk", "field"}),
    "spotcheck.edit": _SYNCING,
    "forms.print": _SYNCING,
    "notice.publish": _OFFICE,
    "payment.edit": _OFFICE,
    "data.export": frozenset({"admin", "clerk", "county_reviewer"}),
    "sync.export": _SYNCING,
    "sync.import": _SYNCING,
    "sync.resolve": frozenset({"admin", "clerk", "county_reviewer"}),
    "sync.assign": _OFFICE,
    "keys.manage": frozenset({"admin"}),
    "site.edit": frozenset({"admin"}),
    "audit.view": frozenset({"admin", "clerk", "county_reviewer"}),
    "backup.create": _OFFICE,
    "backup.restore": frozenset({"admin"}),
    "operators.manage": frozenset({"admin"}),
    "database.encrypt": frozenset({"admin"}),
    "relatives.edit": _OFFICE,
}

MAX_FAILURES = 5  # consecutive wrong passwords before the account locks
MIN_PASSWORD = 8
# scrypt: 2**15 x 8 x 128 bytes = 32 MB and ~0.1 s per check on an office PC
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1

ENV_OPERATOR = "MZDESK_OPERATOR"
ENV_PASSWORD = "MZDESK_PASSWORD"


class PermissionDenied(MzError):
    code = "permission_denied"


class LoginFailed(MzError):
    code = "login_failed"
    # True: a wrong password on a read-only store, not yet counted (see authenticate)
    unrecorded = False


@dataclass(frozen=True)
class Operator:
    name: str
    display_name: str
    role: str
    locked: bool
    failed_count: int
    last_login_at: str | None

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


# the key that seals principals: it lives in this process only, so a principal cannot be
# written by hand (or copied with another role) by code that did not log in
_PRINCIPAL_KEY = secrets.token_bytes(32)


def _principal_seal(account: str, role: str, display_name: str) -> bytes:
    text = "\x1f".join((account, role, display_name)).encode("utf-8")
    return hmac.new(_PRINCIPAL_KEY, text, hashlib.sha256).digest()


@dataclass(frozen=True)
class Principal:
    """Who is acting (the logged-in account), fixed at login: only :func:`login` (and the
    setup-mode path of :func:`add_operator`) creates one.  ``display_name`` is the 姓名
    the window shows."""

    account: str
    role: str
    display_name: str
    seal: bytes = field(default=b"", repr=False, compare=False)

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    def genuine(self) -> bool:
        """True for a principal this process issued, unchanged since."""
        want = _principal_seal(self.account, self.role, self.display_name)
        return hmac.compare_digest(self.seal, want)


def _issue(store, op: Operator) -> Principal:
    """Make ``op`` the store's acting identity (after a password check or the setup path)."""
    seal = _principal_seal(op.name, op.role, op.display_name)
    principal = Principal(op.name, op.role, op.display_name, seal)
    store.principal = principal
    store.operator = op.name  # the name recorded on rows, until a 经办人 is set
    return principal


def principal_of(store) -> Principal | None:
    """The store's genuine principal, or None (no login, or a forged object)."""
    p = getattr(store, "principal", None)
    if isinstance(p, Principal) and p.genuine():
        return p
    return None


def act_as(store, principal: Principal | None, recorded: str | None = None) -> None:
    """Let a second store of this process (a worker thread's) act as the same principal.
    Only a genuine principal is taken; ``recorded``: the name written on rows."""
    if principal is not None and not principal.genuine():
        raise PermissionDenied("登录身份无效，请重新登录", "not_logged_in")
    store.principal = principal
    if recorded is not None:
        store.operator = recorded


def set_agent(store, name: str) -> str:
    """Record ``name`` as the 经办人 (``--operator``): a free name written beside the
    account on rows and in the audit trail.  It changes no right.  Returns the recorded name.

    In setup mode (no accounts) the 经办人 alone is recorded."""
    agent = field_text(name, "operator_name", "经办人", "operator")  # stored text: the text rule
    p = principal_of(store)
    if not agent:
        return store.operator
    if p is None:
        store.operator = agent
    elif agent in (p.account, p.display_name):
        store.operator = p.account
    else:
        store.operator = f"{p.account}（经办人：{agent}）"
    return store.operator


def display_name(store) -> str:
    """What the window shows for who is acting: the 姓名, else the account, else the
    recorded name (setup mode)."""
    p = principal_of(store)
    if p is None:
        return store.operator
    return p.display_name or p.account


# -- passwords ------------------------------------------------------------------
def hash_password(password: str, n: int = SCRYPT_N) -> str:
    """``scrypt$N$r$p$salt$hash`` (hex); memory-hard, salted."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=256 * 1024 * 1024,
        dklen=32,
    )
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(
        password.encode("utf-8"),
        salt=bytes.fromhex(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        maxmem=256 * 1024 * 1024,
        dklen=len(digest) // 2,
    )
    return hmac.compare_digest(got.hex(), digest)


def _validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise FieldError("password", "weak_password", f"密码至少{MIN_PASSWORD}位")
    if password.isdigit() and len(set(password)) <= 2:
        raise FieldError("password", "weak_password", "密码过于简单")


# -- accounts ---------------------------------------------------------------------
def _row_to_operator(r: dict) -> Operator:
    return Operator(
        r["name"],
        r["display_name"],
        r["role"],
        bool(r["locked"]),
        r["failed_count"],
        r["last_login_at"],
    )


def setup_mode(store) -> bool:
    """True while the database has no operator accounts (everything allowed)."""
    return not store.scalar("SELECT 1 FROM operators LIMIT 1")


def get_operator(store, name: str) -> Operator | None:
    r = store.one("SELECT * FROM operators WHERE name = ?", (name,))
    return _row_to_operator(r) if r else None


def _existing_operator(store, name: str) -> Operator:
    """:func:`get_operator` for an account this transaction has just read or written."""
    op = get_operator(store, name)
    assert op is not None, name
    return op


def list_operators(store) -> list[Operator]:
    """Every account (the window's 操作员 page shows them to any login; the CLI's
    ``operators list`` is for admins)."""
    require(store, "records.view")
    return [_row_to_operator(r) for r in store.db.query("SELECT * FROM operators ORDER BY name")]


def add_operator(store, name: str, password: str, role: str, display_name: str = "") -> Operator:
    """Create an account.  The first account must be an admin (it ends setup mode)."""
    name = clean(name)  # models/text.py: no invisible characters in an account name
    display_name = field_text(display_name, "operator_name", "显示名称", "display_name")
    if not name or len(name) > 32 or any(c.isspace() for c in name):
        raise FieldError(
            "name", "bad_operator_name", "账号名不能为空、不能含空格，且不超过32个字符"
        )
    if role not in ROLES:
        raise FieldError("role", "bad_role", f"角色应为 {', '.join(ROLES)} 之一: {role!r}")
    _validate_password(password)
    pw = hash_password(password)
    with store.transaction():
        first = setup_mode(store)
        if first:
            if role != "admin":
                raise MzError("第一个账号必须是管理员(admin)", "first_must_be_admin")
        else:
            require(store, "operators.manage")
        if get_operator(store, name):
            raise FieldError("name", "operator_exists", f"账号已存在: {name}")
        row = {
            "name": name,
            "display_name": display_name.strip() or name,
            "role": role,
            "pw_hash": pw,
            "locked": 0,
            "failed_count": 0,
            **store.stamp(new=True),
        }
        store.conn.execute(
            f"INSERT INTO operators ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )
    op = _existing_operator(store, name)
    if first:  # the setup-mode path: whoever sets up acts as the first admin ("创建并登录")
        _issue(store, op)
        store.login_password = password
    return op


def _must_exist(store, name: str) -> Operator:
    op = get_operator(store, name)
    if op is None:
        raise MzError(f"没有账号: {name}", "no_operator")
    return op


def _admins_left(store, excluding: str) -> int:
    return store.scalar(
        "SELECT count(*) FROM operators WHERE role = 'admin' AND locked = 0 AND name != ?",
        (excluding,),
    )


def set_password(store, name: str, new_password: str, old_password: str | None = None) -> None:
    """An admin resets anyone's password; an operator changes their own with the old one."""
    _validate_password(new_password)
    pw = hash_password(new_password)
    with store.transaction():
        op = _must_exist(store, name)
        me = principal_of(store)
        own = me is not None and me.account == name
        if not (own and old_password is not None):
            require(store, "operators.manage")
        else:
            stored = store.scalar("SELECT pw_hash FROM operators WHERE name = ?", (name,))
            if not check_password(old_password, stored):
                raise LoginFailed("原密码不正确")
        store.conn.execute(
            "UPDATE operators SET pw_hash = ?, failed_count = 0, updated_at = ?, updated_by = ? "
            "WHERE name = ?",
            (pw, *store.stamp(new=False).values(), op.name),
        )
    me = principal_of(store)
    if me is not None and me.account == name:
        store.login_password = new_password
    _credentials_changed(store)


def set_locked(store, name: str, locked: bool, reason: str = "") -> None:
    """Lock or unlock an account (admin).  The last unlocked admin cannot be locked."""
    reason = field_text(reason, "reason", "锁定原因", "reason")  # models/text.py
    with store.transaction():
        require(store, "operators.manage")
        op = _must_exist(store, name)
        if locked and op.role == "admin" and not _admins_left(store, name):
            raise MzError("不能锁定最后一个可用的管理员账号", "last_admin")
        store.conn.execute(
            "UPDATE operators SET locked = ?, locked_reason = ?, failed_count = 0, updated_at = ?, "
            "updated_by = ? WHERE name = ?",
            (int(locked), reason if locked else "", *store.stamp(new=False).values(), name),
        )
    _credentials_changed(store)


# -- logging in ---------------------------------------------------------------------
def authenticate(store, name: str, password: str) -> Operator:
    """Check a password; count failures and lock after :data:`MAX_FAILURES` in a row.

    The failure counter is committed even though the login fails.

    On a read-only store (``Store.open(readonly=True)``) the password is checked and
    nothing is written: no last login, no counter.  A wrong password there raises
    :class:`LoginFailed` with ``unrecorded`` set: a read-only connection cannot count it,
    and opening a second, writing connection beside it would be unsafe (closing it drops
    the process's SQLite locks).  The caller that knows it holds no other connection (the
    CLI's ``open_store``) closes the read-only store and repeats the login read-write, so
    that the failure counts and the lock-out holds for read-only commands too.
    """
    r = store.one("SELECT * FROM operators WHERE name = ?", (name.strip(),))
    if r is None:
        raise LoginFailed("账号或密码不正确")
    if r["locked"]:
        raise LoginFailed("账号已锁定，请联系管理员解锁", "account_locked")
    if getattr(store, "readonly", False):
        if not check_password(password, r["pw_hash"]):
            failed = LoginFailed("账号或密码不正确")
            failed.unrecorded = True
            raise failed
        return _existing_operator(store, r["name"])
    ts = dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")
    if not check_password(password, r["pw_hash"]):
        failures = r["failed_count"] + 1
        locked = failures >= MAX_FAILURES
        with store.transaction():
            # the counter is bookkeeping: no stamp change, so it is not an audited edit
            store.conn.execute(
                "UPDATE operators SET failed_count = ?, locked = ?, locked_reason = ? WHERE name = ?",
                (
                    failures,
                    int(locked),
                    "连续输错密码" if locked else r["locked_reason"],
                    r["name"],
                ),
            )
        if locked:
            raise LoginFailed(
                f"连续{MAX_FAILURES}次密码错误，账号已锁定，请联系管理员", "account_locked"
            )
        raise LoginFailed(f"账号或密码不正确（还可尝试{MAX_FAILURES - failures}次）")
    with store.transaction():
        store.conn.execute(
            "UPDATE operators SET failed_count = 0, last_login_at = ? WHERE name = ?",
            (ts, r["name"]),
        )
    return _existing_operator(store, r["name"])


def login(store, name: str, password: str) -> Operator:
    """Authenticate and make this operator the store's acting identity.  The password stays
    in memory with the store for the session (``Store.login_password``): it unlocks the
    site keys where they were sealed for this login (mzdesk.sync.keys)."""
    op = authenticate(store, name, password)
    _issue(store, op)
    store.login_password = password
    return op


# called with the store after an account's password or lock changed (committed): the site
# keys sealed under that login are dropped (registered at start: mzdesk.hooks)
credentials_changed: list = []


def _credentials_changed(store) -> None:
    for hook in credentials_changed:
        hook(store)


def cli_login(store) -> None:
    """CLI: log in from ``MZDESK_OPERATOR``/``MZDESK_PASSWORD`` once accounts exist.

    In setup mode nothing is needed.  With accounts and no variables the store
    keeps the OS user name, which is no account: every guarded action is then
    refused with a message that says how to log in.
    """
    if setup_mode(store):
        return
    name = os.environ.get(ENV_OPERATOR)
    if not name:
        store.principal = None
        return
    login(store, name, os.environ.get(ENV_PASSWORD, ""))


# -- the check ------------------------------------------------------------------------
def role_of(store) -> str | None:
    """The acting principal's role; ``None`` without a (genuine) login, or when its account
    is gone, locked or has another role since the login (log in again)."""
    p = principal_of(store)
    if p is None:
        return None
    row = store.one("SELECT role, locked FROM operators WHERE name = ?", (p.account,))
    if row is None or row["locked"] or row["role"] != p.role:
        return None
    return p.role


# what no account may do at a city or province site (site.REGION_ROLES): it receives what
# its counties forward and reads it; the records are made and decided below
RECEIVER_READS_ONLY = frozenset(
    {
        "household.edit",
        "household.delete",
        "household.import",
        "enrolment.edit",
        "enrolment.confirm",
        "visit.edit",
        "spotcheck.edit",
        "notice.publish",
        "payment.edit",
        "sync.assign",
        "relatives.edit",
    }
)
_RECEIVER_SITES = ("city", "province")


def receiver_site(store) -> bool:
    """Whether this database is a city's or province's (a receiver of forwarded batches)."""
    return store.scalar("SELECT role FROM site WHERE id = 1") in _RECEIVER_SITES


def allowed(store, action: str) -> bool:
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}; add it to auth.PERMISSIONS")
    if action in RECEIVER_READS_ONLY and receiver_site(store):
        return False
    if setup_mode(store):
        return True
    return role_of(store) in PERMISSIONS[action]


def _not_logged_in() -> PermissionDenied:
    return PermissionDenied(
        f"请先登录（图形界面登录，或设置环境变量 {ENV_OPERATOR} 和 {ENV_PASSWORD}）",
        "not_logged_in",
    )


def _refusal(store) -> PermissionDenied | None:
    """Why the acting principal has no role now (None: it has one)."""
    p = principal_of(store)
    if p is None:
        return _not_logged_in()
    op = get_operator(store, p.account)
    if op is None:
        return _not_logged_in()
    if op.locked:
        return PermissionDenied(f"账号 {op.name} 已锁定", "account_locked")
    if op.role != p.role:
        return PermissionDenied(f"账号 {op.name} 的角色已变更，请重新登录", "not_logged_in")
    return None


def require_login(store) -> None:
    """Raise :class:`PermissionDenied` unless someone is logged in (or no accounts exist yet):
    reading people's records needs an account too, whatever its role."""
    if setup_mode(store):
        return
    refusal = _refusal(store)
    if refusal is not None:
        raise refusal


def require(store, action: str) -> None:
    """Raise :class:`PermissionDenied` unless the acting principal may do ``action``."""
    if allowed(store, action):
        return
    if action in RECEIVER_READS_ONLY and receiver_site(store):
        raise PermissionDenied(
            f"市、省级站点只接收各县转发的数据，不能{ACTION_LABELS.get(action, action)}"
            "（记录由乡镇办理、县级审核）",
            "receiver_read_only",
        )
    refusal = _refusal(store)
    if refusal is not None:
        raise refusal
    p = principal_of(store)
    assert p is not None
    raise PermissionDenied(
        f"{p.role_label} {p.account} 无权执行此操作（{ACTION_LABELS.get(action, action)}）"
    )


ACTION_LABELS: dict[str, str] = {
    "records.view": "查看档案",
    "household.edit": "修改家庭信息",
    "household.delete": "注销家庭",
    "household.import": "批量导入",
    "enrolment.edit": "办理救助申请",
    "enrolment.confirm": "审核确认",
    "visit.edit": "入户调查",
    "spotcheck.edit": "抽查及抽查复核入户",
    "notice.publish": "公示",
    "payment.edit": "发放名册",
    "data.export": "导出含个人信息的名册",
    "sync.export": "导出同步包",
    "sync.import": "导入同步包",
    "audit.view": "查看操作记录",
    "backup.create": "备份",
    "backup.restore": "恢复备份",
    "operators.manage": "管理操作员",
    "database.encrypt": "加密或解密数据库",
    "relatives.edit": "近亲属备案",
    "forms.print": "打印含个人信息的表册",
    "sync.resolve": "处理同步冲突",
    "sync.assign": "分配入户终端负责的村",
    "keys.manage": "管理站点密钥",
    "site.edit": "设置站点信息",
}


# The window's actions and what each needs: the page calls the service, which checks (no
# check lives only in a widget).  docs/roles.md shows this table with the roles.
GUI_ACTIONS: dict[str, tuple[str, ...]] = {
    "家庭档案：查看、查找": ("records.view",),
    "家庭档案：新建、修改家庭及成员": ("household.edit",),
    "家庭档案：注销家庭": ("household.delete",),
    "救助办理：申请、调查、评议、复核、变更": ("enrolment.edit",),
    "县级审核：确认、不予确认、停发": ("enrolment.confirm",),
    "入户调查、关爱簿、跟进任务": ("visit.edit",),
    "抽查": ("spotcheck.edit",),
    "打印关爱簿、入户调查表": ("forms.print",),
    "公示": ("notice.publish",),
    "补贴发放清册、花名册导出": ("data.export",),
    "花名册导入、撤销导入": ("household.import",),
    "统计": ("records.view",),
    "同步：导出批次": ("sync.export",),
    "同步：导出完整快照": ("sync.export", "data.export"),
    "同步：导入批次": ("sync.import",),
    "同步：处理冲突": ("sync.resolve",),
    "同步：分配入户终端负责的村": ("sync.assign",),
    "站点密钥：生成、信任、吊销": ("keys.manage",),
    "操作记录": ("audit.view",),
    "备份": ("backup.create",),
    "恢复备份": ("backup.restore",),
    "操作员：添加、重置密码、锁定": ("operators.manage",),
    "近亲属备案": ("relatives.edit",),
}


def create_schema(conn) -> None:
    conn.execute("""
    CREATE TABLE operators (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL CHECK (role IN ('admin', 'clerk', 'field', 'county_reviewer', 'readonly')),
        pw_hash TEXT NOT NULL,
        locked INTEGER NOT NULL DEFAULT 0,
        locked_reason TEXT NOT NULL DEFAULT '',
        failed_count INTEGER NOT NULL DEFAULT 0,
        last_login_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        updated_by TEXT NOT NULL
    )""")
