"""What every command module of the CLI shares: options, parameter types, opening the
database, JSON output, and turning any failure into one line and an exit status.

Every command takes ``--db PATH``; exit 0 on success, non-zero with a one-line
message on failure (never a traceback).  Command modules import this module and
services only, never each other.  No Qt here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import sys
from collections.abc import Callable
from typing import Any

import click

from ..models.errors import MzError, ValidationError
from ..paths import default_db_path

DB_HELP = (
    "数据库文件，或PostgreSQL接收端的 postgresql://USER@HOST:PORT/DB / database file, or a "
    "postgresql:// URL (default: $MZDESK_DB or the user data directory)"
)


def _db_from_root(ctx: click.Context, _param, value: str | None) -> str | None:
    """A command's ``--db``, else the one given before the command (``mzdesk --db F init``):
    never silently the default database when the user named a file."""
    if value is None and ctx.find_root() is not ctx:
        value = ctx.find_root().params.get("db_path")
    _file_only(ctx, value if value is not None else os.environ.get("MZDESK_DB"))
    return value


# commands about the database *file*: a PostgreSQL site is backed up with pg_dump and
# protected by the server; refused before they connect or ask for a passphrase
FILE_ONLY_COMMANDS = frozenset({"backup", "restore", "encrypt", "decrypt"})


def _file_only(ctx: click.Context, db: str | None) -> None:
    from ..models.pg_url import is_url, safe_url

    name = command_name(ctx)
    if is_url(db) and name in FILE_ONLY_COMMANDS:
        from ..models.store import StoreError

        raise StoreError(
            f"PostgreSQL接收端不支持 mzdesk {name}（备份请用 pg_dump 或 pg_basebackup，"
            f"数据保护由数据库服务器负责）：{safe_url(str(db))}",
            "pg_unsupported",
        )


def db_option(f):
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        default=None,
        callback=_db_from_root,
        help=DB_HELP,
    )(f)


SQLITE_INT_MAX = 2**63 - 1  # the largest INTEGER SQLite stores (and binds)
_INT_TEXT = re.compile(r"[+-]?[0-9]{1,30}")


def _shown(value) -> str:
    """A user's value in a one-line message: control characters escaped, long ones cut."""
    text = repr(str(value))[1:-1]
    return text if len(text) <= 40 else text[:40] + "…"


class BoundedInt(click.ParamType):
    """An integer in ``[low, high]`` (never outside SQLite's INTEGER), said in Chinese when not.

    A record id of 2^70 is refused here ("编号超出范围") instead of reaching SQLite as an
    OverflowError; ``nan``, ``1e3`` or ``１２`` are "应为整数"."""

    def __init__(self, name: str, what: str, low: int, high: int = SQLITE_INT_MAX):
        self.name, self.what, self.low, self.high = name, what, low, high

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
            number = int(value.strip())
        else:
            self.fail(f"{self.what}应为整数：{_shown(value)}", param, ctx)
        if not self.low <= number <= self.high:
            self.fail(
                f"{self.what}超出范围（{self.low}至{self.high}）：{_shown(number)}", param, ctx
            )
        return number

    def __repr__(self) -> str:
        return f"BoundedInt({self.name!r}, {self.low}, {self.high})"


RECORD_ID = BoundedInt("id", "编号", 1)  # every household, enrolment, notice ... number
SEED = BoundedInt("seed", "随机种子", 0)
COUNT = BoundedInt("integer", "数目", 0)
PEOPLE = BoundedInt("integer", "人数", 1, 100_000)  # 保障人口, 参会人数
MONTHS = BoundedInt("months", "月数", 0, 120)  # a review period: 0 none, at most ten years


class OutFile(click.Path):
    """A file the command writes, whose name must say what it holds (``stats --out x.txt``
    would otherwise get xlsx bytes): one of ``suffixes``, case-insensitive."""

    def __init__(self, *suffixes: str):
        super().__init__(dir_okay=False)
        self.suffixes = tuple(s.lower() for s in suffixes)

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        if not str(path).lower().endswith(self.suffixes):
            want = " 或 ".join(self.suffixes)
            self.fail(f"输出文件名应以 {want} 结尾：{_shown(path)}", param, ctx)
        return path


def prompt_secret(label: str, env: str, confirm: bool = False) -> str:
    """A password or passphrase typed at a terminal.  Without one (a script, a pipe) there is
    nobody to ask: a one-line error naming the environment variable, not a prompt that
    reads the pipe and a getpass warning on stderr."""
    if not sys.stdin.isatty():
        raise MzError(f"需要{label}：请在终端中运行，或设置环境变量 {env}", "secret_needed")
    return click.prompt(label, hide_input=True, confirmation_prompt=confirm)


_ASK = object()

# How each command opens the database: "read" (read-only: never created, upgraded or
# written, not even a login's bookkeeping) or "write" (an older file is backed up, then
# upgraded); a callable decides from the command's parameters.  Every command is listed
# (tests/cli/test_foreign_files.py walks the click tree), so a new one cannot be forgotten.
READ, WRITE = "read", "write"
COMMAND_MODES: dict[str, str | Callable[[dict[str, Any]], str]] = {
    "init": WRITE,
    "demo": WRITE,
    "households find": READ,
    "households show": READ,
    "check": READ,
    "stats": READ,
    "duplicates": READ,
    "booklet": READ,
    "checklist": READ,
    "sample": lambda p: READ if p.get("dry_run") else WRITE,  # records the spot check
    "notice": WRITE,  # records the notice; --reprint counts the print
    "enrol list": READ,
    "enrol history": READ,
    "enrol parts": READ,
    "enrol support": lambda p: READ if p.get("mode") is None else WRITE,
    "households flag": WRITE,
    **{
        f"enrol {c}": WRITE
        for c in (
            "apply",
            "amend",
            "investigate",
            "submit",
            "confirm",
            "reject",
            "stop",
            "survey",
            "deliberate",
            "review",
            "object",
            "resolve",
            "category-add",
            "not-accept",
            "suspend",
            "resume",
            "phase-out",
            "phase-out-end",
            "head-change",
            "change-amount",
        )
    },
    "operators add": WRITE,
    "operators list": READ,
    "operators passwd": WRITE,
    "operators lock": WRITE,
    "operators unlock": WRITE,
    "audit verify": READ,
    "audit show": READ,
    "audit seal": WRITE,
    "backup": READ,  # the online backup API reads; the copy is another file
    "restore": WRITE,
    "selftest": READ,
    "keys init": WRITE,
    "keys rotate": WRITE,
    "keys show": READ,
    "keys export-public": READ,
    "keys trust": WRITE,
    "keys revoke": WRITE,
    "keys export-identity": READ,
    "sync export": WRITE,
    "sync import": WRITE,
    "sync assign": WRITE,
    "sync conflicts": READ,
    "sync resolve": WRITE,
    "sync status": READ,
    "roster import": WRITE,
    "roster undo": WRITE,
    "roster batches": READ,
    "roster export": READ,
    "roster registry": READ,
    "relatives add": WRITE,
    "relatives withdraw": WRITE,
    "relatives list": READ,
    "relatives flagged": READ,
    "encrypt": WRITE,
    "decrypt": WRITE,
    "standards list": READ,
    "standards set": WRITE,
    "uprate": lambda p: WRITE if p.get("mode") == "confirm" else READ,  # --preview only reads
    "income show": READ,
    "income adopt": WRITE,
    "recovery scan": lambda p: WRITE if p.get("record") else READ,  # --record writes
    "recovery list": READ,
    "recovery set": WRITE,
    # issue 22: the office's calendar (cli/reviews.py)
    "review deliberation": lambda p: READ if p.get("mode") is None else WRITE,
    "review flag": WRITE,
    "review plan": WRITE,
    "review round-open": WRITE,
    "review round-status": READ,
    "review round-close": WRITE,
    "review survival-queue": READ,
    "review survival-record": WRITE,
    "review survival-stop": lambda p: READ if p.get("enrolment_id") is None else WRITE,
    "run create": WRITE,
    "run list": READ,
    "run show": READ,
    "run confirm": WRITE,
    "run paid": WRITE,
    "run void": WRITE,
    "run roster": READ,
    # issue 22: 临时救助 and 医疗救助 cases
    "case add": WRITE,
    "case list": READ,
    "case decide": WRITE,
    "case pay": WRITE,
    "case document": WRITE,
    # issue 22: notices to households and deadline clocks (cli/letters.py)
    "letter": WRITE,  # records the letter given (a refusal's notice stops its clock)
    "deadlines list": READ,
    "deadlines extend": WRITE,
}


# What each command needs (models/auth.py PERMISSIONS): one permission, several (all are
# needed), a callable deciding from the command's parameters, or None for a command that
# reads no one's records (selftest).  The services check the same permissions themselves;
# the CLI checks them up front too, once logged in, before reading any file.  docs/roles.md
# is generated from this table (tests/admin/test_roles_matrix.py runs every command as
# every role against it).
Needs = str | tuple[str, ...] | None
COMMAND_PERMISSIONS: dict[str, Needs | Callable[[dict[str, Any]], Needs]] = {
    "init": "site.edit",
    "demo": "household.import",
    "households find": "records.view",
    "households show": "records.view",
    "check": "records.view",
    "stats": "records.view",  # counts per category and village: no one's details
    # 重复享受: masked IDs; full IDs or a workbook of people are a roster (data.export)
    "duplicates": lambda p: (
        ("records.view", "data.export") if p.get("full_ids") or p.get("out") else "records.view"
    ),
    "booklet": "forms.print",
    "checklist": "forms.print",
    "sample": "spotcheck.edit",
    "notice": "notice.publish",
    "enrol list": "records.view",
    "enrol history": "records.view",
    **{
        f"enrol {c}": "enrolment.edit"
        for c in (
            "apply",
            "amend",
            "investigate",
            "submit",
            "survey",
            "deliberate",
            "review",
            "object",
            "resolve",
            "category-add",
        )
    },
    **{f"enrol {c}": "enrolment.confirm" for c in ("confirm", "reject", "stop")},
    "operators add": "operators.manage",
    "operators list": "operators.manage",
    "operators passwd": "operators.manage",
    "operators lock": "operators.manage",
    "operators unlock": "operators.manage",
    "audit verify": "audit.view",
    "audit show": "audit.view",
    "audit seal": "operators.manage",
    "backup": "backup.create",
    "restore": "backup.restore",
    "selftest": None,
    "keys init": "keys.manage",
    "keys rotate": "keys.manage",
    "keys show": "records.view",
    "keys export-public": "records.view",
    "keys trust": "keys.manage",
    "keys revoke": "keys.manage",
    "keys export-identity": "keys.manage",
    "sync export": lambda p: ("sync.export", "data.export") if p.get("full") else "sync.export",
    "sync import": "sync.import",
    "sync assign": "sync.assign",
    "sync conflicts": "records.view",
    "sync resolve": "sync.resolve",
    "sync status": "records.view",
    "roster import": "household.import",
    "roster undo": "household.import",
    "roster batches": "records.view",
    "roster export": "data.export",
    "roster registry": "data.export",
    "relatives add": "relatives.edit",
    "relatives withdraw": "relatives.edit",
    "relatives list": "records.view",
    "relatives flagged": "records.view",
    "encrypt": "database.encrypt",
    "decrypt": "database.encrypt",
    # issue 21: states, amounts in parts, categories, standards and income
    "enrol not-accept": "enrolment.edit",
    **{
        f"enrol {c}": "enrolment.confirm"
        for c in ("suspend", "resume", "phase-out", "phase-out-end")
    },
    "enrol change-amount": "enrolment.edit",
    "enrol head-change": "household.edit",
    "enrol parts": "records.view",
    "enrol support": lambda p: "records.view" if p.get("mode") is None else "enrolment.edit",
    "households flag": "household.edit",
    "standards list": "records.view",
    "standards set": "enrolment.confirm",  # a standard is a county decision
    "uprate": lambda p: (
        ("enrolment.confirm", "enrolment.edit") if p.get("mode") == "confirm" else "records.view"
    ),
    "income show": "records.view",
    "income adopt": "enrolment.edit",
    "recovery scan": lambda p: "enrolment.confirm" if p.get("record") else "records.view",
    "recovery list": "records.view",
    "recovery set": "enrolment.confirm",
    "review deliberation": lambda p: (
        "records.view" if p.get("mode") is None else "enrolment.confirm"
    ),  # a county decision, like a standard
    "review flag": "enrolment.edit",
    "review plan": "enrolment.edit",
    "review round-open": "enrolment.edit",
    "review round-status": "records.view",
    "review round-close": "enrolment.edit",
    "review survival-queue": "records.view",
    "review survival-record": "enrolment.edit",
    "review survival-stop": lambda p: (
        "records.view" if p.get("enrolment_id") is None else "enrolment.confirm"
    ),
    "run create": "payment.edit",
    "run list": "records.view",
    "run show": "records.view",
    "run confirm": "payment.edit",
    "run paid": "payment.edit",
    "run void": "payment.edit",
    "run roster": "data.export",  # the 清册: full IDs and accounts
    # issue 22: 临时救助 and 医疗救助 cases
    "case add": "enrolment.edit",
    "case list": "records.view",
    "case decide": "enrolment.confirm",
    "case pay": "payment.edit",
    "case document": "enrolment.edit",
    "letter": "forms.print",
    "deadlines list": "records.view",
    "deadlines extend": "enrolment.confirm",  # 延期 is the office's decision
}


def needed_permissions(name: str, params: dict[str, Any]) -> tuple[str, ...]:
    """The permissions command ``name`` needs with these parameters (see
    :data:`COMMAND_PERMISSIONS`)."""
    if name not in COMMAND_PERMISSIONS:
        raise KeyError(f"command {name!r} is not in COMMAND_PERMISSIONS: say what it needs")
    need = COMMAND_PERMISSIONS[name]
    if callable(need):
        need = need(params)
    if need is None:
        return ()
    return (need,) if isinstance(need, str) else need


def command_name(ctx: click.Context) -> str:
    """``households find`` for the context of ``mzdesk households find``."""
    names: list[str] = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def command_mode(ctx: click.Context) -> str:
    """READ or WRITE for the running command (see :data:`COMMAND_MODES`)."""
    name = command_name(ctx)
    if name not in COMMAND_MODES:
        raise KeyError(f"command {name!r} is not in COMMAND_MODES: say whether it writes")
    mode = COMMAND_MODES[name]
    return mode(ctx.params) if callable(mode) else mode


def db_key(path) -> str | None:
    """The passphrase for ``path``: ``$MZDESK_DB_KEY``, else a hidden prompt when the
    file is encrypted and a terminal is attached, else None."""
    from ..models.cipher import ENV_KEY, is_encrypted_file

    key = os.environ.get(ENV_KEY) or None
    if key is None and is_encrypted_file(path) and sys.stdin.isatty():
        key = click.prompt("数据库密码 / database passphrase", hide_input=True)
    return key


def open_store(db_path: str | None, create: bool = False, key=_ASK, readonly: bool | None = None):
    """Open and log in; ``key``: the database passphrase (default: :func:`db_key`,
    ``$MZDESK_DB_KEY`` or a prompt), ``None`` for a plain file whatever the environment.

    ``readonly``: default from the running command's entry in :data:`COMMAND_MODES`
    (read-write outside a command)."""
    from ..models.auth import LoginFailed, cli_login, require_login
    from ..models.store import Store

    path = db_path or default_db_path()
    if readonly is None:
        ctx = click.get_current_context(silent=True)
        readonly = ctx is not None and command_mode(ctx) == READ
    if key is _ASK:
        key = db_key(path)  # $MZDESK_DB_KEY: encrypted db
    store = Store.open(path, create=create, key=key, readonly=readonly)
    try:
        # $MZDESK_OPERATOR/$MZDESK_PASSWORD once accounts exist (models/auth.py); then every
        # command needs them, reading too, as the window asks before it shows anything
        cli_login(store)
        require_login(store)
        _require_command(store)
    except LoginFailed as exc:
        store.close()
        if not exc.unrecorded:
            raise
        # a wrong password on a read-only open is counted like any other: this process holds
        # no other connection to the file, so a short read-write login is safe here
        _count_failed_login(path, key)
        raise
    except BaseException:
        store.close()
        raise
    return store


def _require_command(store) -> None:
    """The running command's permissions (:data:`COMMAND_PERMISSIONS`), checked for the
    logged-in principal before the command reads or writes anything."""
    from ..models.auth import require

    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.parent is None:
        return
    for permission in needed_permissions(command_name(ctx), ctx.params):
        require(store, permission)


def _count_failed_login(path, key) -> None:
    """Repeat a failed read-only login read-write, which records the failure (and locks
    the account after too many); its own :class:`LoginFailed` says how many tries are left."""
    from ..models.auth import cli_login
    from ..models.errors import StoreError
    from ..models.store import Store

    try:
        store = Store.open(path, create=False, key=key)
    except StoreError as exc:
        if exc.code == "read_only_location":
            return  # a write-protected stick: the read-only login's own message stands
        raise
    try:
        cli_login(store)
    finally:
        store.close()


def emit_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))


# -- options and values several command modules share ---------------------------------
class Day(click.DateTime):
    """A date as staff type it, read by the one date parser (:func:`models.dates.parse_day`:
    2026-03-01, 2026/3/1, 2026.3.1, 2026年3月1日), so the CLI accepts what the forms do."""

    def __init__(self) -> None:
        super().__init__(formats=["%Y-%m-%d"])

    def convert(self, value, param, ctx):
        if isinstance(value, dt.datetime):
            return value
        from ..models.dates import parse_day

        try:
            return dt.datetime.combine(parse_day(value), dt.time())
        except (ValueError, OverflowError):
            self.fail(
                f"日期应为 2026-03-01 或 2026年3月1日 这样的格式：{_shown(value)}", param, ctx
            )


DATE = Day()


def day(value) -> dt.date | None:
    """A :data:`DATE` option's value as a date (None stays None)."""
    return value.date() if value else None


def operator_option(f):
    return click.option(
        "--operator",
        default=None,
        help="经办人: recorded beside the logged-in account (e.g. li（经办人：刘干事）); "
        "changes no right; default: the login name",
    )(f)


def open_store_as(db_path, operator=None):
    """:func:`open_store`, with ``--operator`` recorded as the 经办人 beside the logged-in
    account (``auth.set_agent``): a name on the records, never the identity whose rights
    apply."""
    store = open_store(db_path)
    if operator:
        from ..models.auth import set_agent

        try:  # the 经办人 is stored text like any other: the text rule applies
            set_agent(store, operator)
        except BaseException:
            store.close()
            raise
    return store


PASS_HELP = (
    "私钥口令 / passphrase for the private keys (or $MZDESK_KEY_PASSPHRASE; not needed "
    "once the logged-in operator has used it: their login unlocks the keys)"
)


def passphrase_option(f):
    return click.option(
        "--passphrase",
        default=None,
        envvar="MZDESK_KEY_PASSPHRASE",
        show_envvar=True,
        help=PASS_HELP,
    )(f)


def parse_month(value: str):
    """``YYYY-MM`` as the roster's month, or a usage error naming the value."""
    from ..roster.monthly import parse_month as parse

    try:
        return parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


# -- failures: one line and an exit status --------------------------------------------
def _one_line(exc: BaseException | str) -> str:
    return " ".join(str(exc).split())


def _fail(exc: MzError) -> None:
    """One line for a domain error (every problem of a ValidationError), exit status 1."""
    if isinstance(exc, ValidationError):
        message = "; ".join(p.message for p in exc.problems) or exc.message
    else:
        message = exc.message
    click.echo(f"错误 [{exc.code}]: {_one_line(message)}", err=True)
    sys.exit(1)


def run(group: click.Group, argv: list[str] | None = None) -> None:
    """Run ``group`` and turn every failure into one line and an exit code."""
    try:
        group.main(args=argv, prog_name="mzdesk", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        # one line, like every other failure; point to the command's --help
        ctx = getattr(exc, "ctx", None)
        hint = f" ({ctx.command_path} --help)" if ctx else ""
        click.echo(f"错误 / error: {_one_line(exc.format_message())}{hint}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("已中止 / aborted", err=True)
        sys.exit(130)
    except MzError as exc:
        _fail(exc)
    except sqlite3.Error as exc:
        from ..models.store import store_error

        clear = store_error(exc, "")  # busy, I/O error, a full disk: words a clerk can act on
        if clear is not None:
            _fail(clear)
        click.echo(f"数据库错误 / database error: {_one_line(exc)}", err=True)
        sys.exit(1)
    except OSError as exc:
        from ..models.files import describe

        click.echo(f"文件错误 / file error: {_one_line(describe(exc))}", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, no traceback
        click.echo(f"内部错误 / internal error: {type(exc).__name__}: {_one_line(exc)}", err=True)
        sys.exit(1)
