"""Command line: headless work on a mzdesk database.  No Qt on these paths.

Every command takes ``--db PATH``; exit 0 on success, non-zero with a one-line
message on failure (never a traceback).  ``mzdesk`` with no command opens the GUI.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys

import click

from . import __version__
from .models.errors import MzError, ValidationError
from .paths import default_db_path

DB_HELP = "数据库文件 / database file (default: $MZDESK_DB or the user data directory)"


def _db_from_root(ctx: click.Context, _param, value: str | None) -> str | None:
    """A command's ``--db``, else the one given before the command (``mzdesk --db F init``):
    never silently the default database when the user named a file."""
    if value is None and ctx.find_root() is not ctx:
        value = ctx.find_root().params.get("db_path")
    return value


def db_option(f):
    return click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
                        callback=_db_from_root, help=DB_HELP)(f)  # fmt: skip


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
COMMAND_MODES = {
    "init": WRITE,
    "demo": WRITE,
    "households find": READ,
    "households show": READ,
    "check": READ,
    "stats": READ,
    "booklet": READ,
    "checklist": READ,
    "sample": lambda p: READ if p.get("dry_run") else WRITE,  # records the spot check
    "notice": WRITE,  # records the notice; --reprint counts the print
    "enrol list": READ,
    "enrol history": READ,
    **{
        f"enrol {c}": WRITE
        for c in (
            "apply",
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
}


def command_name(ctx: click.Context) -> str:
    """``households find`` for the context of ``mzdesk households find``."""
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name)
        ctx = ctx.parent
    return " ".join(reversed(names))


def command_mode(ctx: click.Context) -> str:
    """READ or WRITE for the running command (see :data:`COMMAND_MODES`)."""
    name = command_name(ctx)
    if name not in COMMAND_MODES:
        raise KeyError(f"command {name!r} is not in cli.COMMAND_MODES: say whether it writes")
    mode = COMMAND_MODES[name]
    return mode(ctx.params) if callable(mode) else mode


def open_store(db_path: str | None, create: bool = False, key=_ASK, readonly: bool | None = None):
    """Open and log in; ``key``: the database passphrase (default: :func:`cipher_cli.db_key`,
    ``$MZDESK_DB_KEY`` or a prompt), ``None`` for a plain file whatever the environment.

    ``readonly``: default from the running command's entry in :data:`COMMAND_MODES`
    (read-write outside a command)."""
    from .cipher_cli import db_key
    from .models.auth import LoginFailed, cli_login, require_login
    from .models.store import Store

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


def _count_failed_login(path, key) -> None:
    """Repeat a failed read-only login read-write, which records the failure (and locks
    the account after too many); its own :class:`LoginFailed` says how many tries are left."""
    from .models.auth import cli_login
    from .models.errors import StoreError
    from .models.store import Store

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


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="mzdesk")
@db_option
@click.pass_context
def cli(ctx: click.Context, db_path: str | None) -> None:
    """mzdesk 民政桌面: township social-assistance records, offline.

    Run without a command to open the window; the commands below work headless.
    """
    if ctx.invoked_subcommand is None:
        from .app import run_gui

        sys.exit(run_gui(db_path))


@cli.command()
@db_option
@click.option(
    "--site-code", required=True, help="统计用区划代码: 6 (county), 9 (township) or 12 digits"
)
@click.option("--site-name", required=True, help="单位名称, e.g. 青山镇民政办")
@click.option("--role", type=click.Choice(["township", "field", "county"]), default="township",
              show_default=True, help="what this installation is")  # fmt: skip
def init(db_path, site_code, site_name, role):
    """Create a database and set its site identity (初始化站点)."""
    from .models.site import init_site, validate_site

    validate_site(site_code.strip(), site_name.strip(), role)  # bad input: no file is created
    store = open_store(db_path, create=True)
    site = init_site(store, site_code, site_name, role)
    click.echo(f"已初始化 {site.code} {site.name} ({site.role}): {store.path}")


@cli.command()
@db_option
@click.option("--households", "count", type=click.IntRange(1, 1_000_000), required=True,
              help="how many households to add")  # fmt: skip
@click.option("--seed", type=SEED, default=1, show_default=True, help="same seed, same township")
@click.option(
    "--site-code",
    default=None,
    help="a new database's site code (default: demo township 341623101)",
)
@click.option(
    "--site-name", default=None, help="a new database's site name (default: 青山镇民政办)"
)
def demo(db_path, count, seed, site_code, site_name):
    """Add a synthetic demo township (演示数据) to the database.

    On a missing file: create the database with a demo site first (one command to try mzdesk).
    """
    from pathlib import Path

    from .models.demo import ensure_demo_site, generate_demo, validate_demo_site

    validate_demo_site(site_code, site_name)  # bad input: no file is created
    new = not Path(db_path or default_db_path()).exists()
    store = open_store(db_path, create=new)
    if new or site_code or site_name:  # an existing file without a site still says no_site
        ensure_demo_site(store, site_code, site_name)
    ids = generate_demo(store, count, seed=seed)
    click.echo(f"已添加 {len(ids)} 户演示家庭: {store.path}")


@cli.group()
def households():
    """Find and inspect households (家庭)."""


@households.command("find")
@click.argument("text")
@db_option
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
def households_find(text, db_path, as_json, limit):
    """Find households by name, pinyin (zsf / zhangsanfeng), ID fragment or phone."""
    from .models.query import find_households

    rows = find_households(open_store(db_path), text, limit=limit)
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r['id']:>7}  {r['head_name']:<6}  {r['village']}{r['group']}  {r['members']}人"
        )
    click.echo(f"共 {len(rows)} 户")


@households.command("show")
@click.argument("household_id", type=RECORD_ID)
@db_option
def households_show(household_id, db_path):
    """Print one household and its members as JSON (ID numbers masked)."""
    from .models.ids import mask_id
    from .models.registry import Registry

    h = Registry(open_store(db_path)).get(household_id)
    emit_json({
        "id": h.id, "village": h.village, "group": h.village_group, "status": h.status,
        "members": [{"name": m.name, "relation": m.relation, "id_number": mask_id(m.id_number),
                     "id_pending": m.id_pending, "gender": m.gender,
                     "birth_date": m.birth_date.isoformat() if m.birth_date else None}
                    for m in h.members],
    })  # fmt: skip


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="print a JSON object")
def check(db_path, as_json):
    """Integrity check plus every domain-rule violation; exit 1 if any."""
    from .models.checks import run_checks

    integrity, findings = run_checks(open_store(db_path))
    if as_json:
        emit_json({"integrity": integrity or ["ok"], "findings": [f.as_dict() for f in findings]})
    else:
        click.echo("数据库完整性: " + ("正常" if not integrity else "; ".join(integrity)))
        for f in findings:
            who = f" {f.member}" if f.member else ""
            click.echo(f"[{f.code}] 家庭{f.household_id}{who}: {f.message}")
        click.echo(f"发现 {len(findings)} 处问题")
    if integrity or findings:
        sys.exit(1)


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="print a JSON object")
@click.option("--month", default=None, help="YYYY-MM: monthly statistics per category and village")
@click.option("--out", type=OutFile(".xlsx", ".pdf"), default=None,
              help="with --month: write the statistics to F.xlsx or F.pdf")  # fmt: skip
def stats(db_path, as_json, month, out):
    """Counts of active households and members (统计); with --month, the month's figures."""
    if month:
        from .roster.roster_cli import monthly_stats_command

        return monthly_stats_command(db_path, month, as_json, out)
    if out:
        raise click.UsageError("--out needs --month")
    from .models.stats import registry_stats

    data = registry_stats(open_store(db_path))
    if as_json:
        emit_json(data)
        return
    click.echo(f"家庭 {data['households']} 户，成员 {data['members']} 人，"
               f"村(社区) {data['villages']} 个，身份证待核实 {data['members_id_pending']} 人")  # fmt: skip


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _fail(exc: MzError) -> None:
    """One line for a domain error (every problem of a ValidationError), exit status 1."""
    if isinstance(exc, ValidationError):
        message = "; ".join(p.message for p in exc.problems) or exc.message
    else:
        message = exc.message
    click.echo(f"错误 [{exc.code}]: {_one_line(message)}", err=True)
    sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every failure into one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="mzdesk", standalone_mode=False)
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
        from .models.store import store_error

        clear = store_error(exc, "")  # busy, I/O error, a full disk: words a clerk can act on
        if clear is not None:
            _fail(clear)
        click.echo(f"数据库错误 / database error: {_one_line(exc)}", err=True)
        sys.exit(1)
    except OSError as exc:
        from .models.files import describe

        click.echo(f"文件错误 / file error: {_one_line(describe(exc))}", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, no traceback
        click.echo(f"内部错误 / internal error: {type(exc).__name__}: {_one_line(exc)}", err=True)
        sys.exit(1)


# --- Command groups that live in their own modules (one line each) ---------------
from .reports.visits_cli import booklet, checklist, sample  # noqa: E402

for _cmd in (booklet, checklist, sample):
    cli.add_command(_cmd)
from .reports.notice_cli import enrol, notice  # noqa: E402

cli.add_command(notice)
cli.add_command(enrol)
from .admin_cli import COMMANDS as _ADMIN_COMMANDS  # noqa: E402

for _cmd in _ADMIN_COMMANDS:
    cli.add_command(_cmd)
from .sync.sync_cli import keys, sync  # noqa: E402

cli.add_command(keys)
cli.add_command(sync)
from .roster.roster_cli import roster  # noqa: E402

cli.add_command(roster)
from .relatives_cli import relatives  # noqa: E402

cli.add_command(relatives)
from .cipher_cli import COMMANDS as _CIPHER_COMMANDS  # noqa: E402

for _cmd in _CIPHER_COMMANDS:
    cli.add_command(_cmd)
