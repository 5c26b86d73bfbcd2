"""Admin commands: operators, audit trail, backup/restore, self-test.  No Qt here.

Logging in from the CLI: once the database has operator accounts, set
``MZDESK_OPERATOR`` and ``MZDESK_PASSWORD`` in the environment (every command
opened through ``open_store`` in cli/common.py logs in with them); before the first
account exists (setup mode) nothing is needed.
"""

from __future__ import annotations

import sys

import click

from .common import RECORD_ID, db_option, emit_json, open_store, prompt_secret


def _password(prompt: str, given: str | None) -> str:
    if given:
        return given
    return prompt_secret(prompt, "MZDESK_NEW_PASSWORD", confirm=True)


# -- operators ----------------------------------------------------------------------
@click.group()
def operators():
    """Operator accounts (操作员) and roles: admin clerk field county_reviewer readonly."""


@operators.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["admin", "clerk", "field", "county_reviewer", "readonly"]),
    required=True,
    help="what the operator may do",
)
@click.option("--display-name", default="", help="姓名, e.g. 王芳")
@click.option(
    "--password",
    envvar="MZDESK_NEW_PASSWORD",
    default=None,
    help="the new password (default: prompt; or $MZDESK_NEW_PASSWORD)",
)
@db_option
def operators_add(name, role, display_name, password, db_path):
    """Add an account (the first one must be an admin and ends setup mode)."""
    from ..models.auth import add_operator

    store = open_store(db_path)
    op = add_operator(store, name, _password("密码", password), role, display_name)
    click.echo(f"已添加操作员 {op.name}（{op.role_label}）")


@operators.command("list")
@db_option
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
def operators_list(db_path, as_json):
    """List accounts with role, lock state and last login."""
    from ..models.auth import list_operators, require

    store = open_store(db_path)
    require(store, "operators.manage")
    ops = list_operators(store)
    if as_json:
        emit_json(
            [
                {
                    "name": o.name,
                    "display_name": o.display_name,
                    "role": o.role,
                    "locked": o.locked,
                    "last_login_at": o.last_login_at,
                }
                for o in ops
            ]
        )
        return
    for o in ops:
        state = "已锁定" if o.locked else "正常"
        click.echo(
            f"{o.name:<12} {o.display_name:<8} {o.role_label:<6} {state}  {o.last_login_at or '-'}"
        )
    click.echo(f"共 {len(ops)} 个账号")


@operators.command("passwd")
@click.argument("name")
@click.option(
    "--password",
    envvar="MZDESK_NEW_PASSWORD",
    default=None,
    help="the new password (default: prompt; or $MZDESK_NEW_PASSWORD)",
)
@db_option
def operators_passwd(name, password, db_path):
    """Reset an operator's password (admin)."""
    from ..models.auth import set_password

    store = open_store(db_path)
    set_password(store, name, _password("新密码", password))
    click.echo(f"已重置 {name} 的密码")


@operators.command("lock")
@click.argument("name")
@click.option("--reason", default="管理员锁定", show_default=True)
@db_option
def operators_lock(name, reason, db_path):
    """Lock an account (admin)."""
    from ..models.auth import set_locked

    set_locked(open_store(db_path), name, True, reason)
    click.echo(f"已锁定 {name}")


@operators.command("unlock")
@click.argument("name")
@db_option
def operators_unlock(name, db_path):
    """Unlock an account and clear its failure count (admin)."""
    from ..models.auth import set_locked

    set_locked(open_store(db_path), name, False)
    click.echo(f"已解锁 {name}")


# -- audit -----------------------------------------------------------------------------
@click.group()
def audit():
    """The audit trail (操作留痕): verify the hash chain, show changes."""


@audit.command("verify")
@db_option
@click.option("--json", "as_json", is_flag=True, help="print a JSON object")
def audit_verify(db_path, as_json):
    """Recompute the hash chain, check the triggers, the accounts and the signed checkpoints
    (this site's and each sender's); exit 1 naming each kind of tampering with its code."""
    from ..models.audit_guard import problems
    from ..sync.checkpoints import report

    store = open_store(db_path)
    result, found = problems(store.conn)
    sites = report(store)
    failed = [p.as_dict() for p in found] + [
        {**p, "site": r.site} for r in sites for p in r.problems
    ]
    if as_json:
        emit_json(
            {
                "ok": not failed,
                "checked": result.checked,
                "head": result.head,
                "problems": failed,
                "checkpoints": [r.as_dict() for r in sites],
            }
        )
    else:
        if not failed:
            click.echo(result.message())
        for r in sites:
            click.echo(r.summary())
        for p in failed:
            where = f"（站点 {p['site']}）" if p.get("site") else ""
            when = f"（记录于 {p['recorded_at']}）" if p.get("recorded_at") else ""
            click.echo(f"审计校验失败 [{p['code']}]{where}：{p['message']}{when}", err=True)
    if failed:
        sys.exit(1)


@audit.command("show")
@db_option
@click.option("--household", "household_id", type=RECORD_ID, default=None, help="家庭编号")
@click.option("--operator", default=None, help="操作员账号")
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
def audit_show(db_path, household_id, operator, limit, as_json):
    """Latest changes first (ID numbers masked), per household and/or operator."""
    from ..models.audit import history
    from ..models.auth import require

    store = open_store(db_path)
    require(store, "audit.view")
    changes = history(store.conn, household_id=household_id, operator=operator, limit=limit)
    if as_json:
        emit_json([c.as_dict() for c in changes])
        return
    for c in changes:
        what = f"{c.field}: {c.old} → {c.new}" if c.action == "update" else (c.new or c.old or "")
        click.echo(f"#{c.seq} {c.at} {c.operator or '-'} {c.table}#{c.record_id} {c.action} {what}")
    click.echo(f"共 {len(changes)} 条")


@audit.command("seal")
@db_option
def audit_seal(db_path):
    """Accept entries written outside mzdesk (e.g. a repair) into the chain (admin)."""
    from ..models.audit import seal
    from ..models.auth import require

    store = open_store(db_path)
    with store.transaction():
        require(store, "operators.manage")
        n = seal(store.conn)
    click.echo(f"已封存 {n} 条")


# -- backup / restore --------------------------------------------------------------------
@click.command()
@db_option
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=True),
    required=True,
    help="backup file, or a folder (a timestamped name is used)",
)
def backup(db_path, out):
    """Write a verified backup (online backup API, integrity_check) to a file or folder."""
    from pathlib import Path

    from ..models.backup import backup_to

    store = open_store(db_path)
    try:
        dest = Path(out)
        if dest.is_dir():
            import datetime as dt

            code = store.scalar("SELECT code FROM site WHERE id = 1") or "0"
            dest = dest / f"mzdesk-{code}-{dt.datetime.now():%Y%m%d-%H%M%S}-manual.sqlite"
        info = backup_to(store, dest)
    finally:
        store.close()
    click.echo(f"已备份到 {info.path}（{info.households} 户，{info.size // 1024} KB，校验通过）")


@click.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@db_option
@click.option(
    "--force",
    is_flag=True,
    help="restore even a backup of another site, or one without operator accounts",
)
def restore(source, db_path, force):
    """Replace the database by a backup (the current one is saved first as pre-restore)."""
    from ..models.backup import restore as do_restore

    store = open_store(db_path)
    try:
        info = do_restore(store, source, force=force)
    finally:
        store.close()  # a refused restore leaves no connection that would count as a user
    click.echo(f"已从 {source} 恢复：{info.site_code} {info.site_name or ''}，{info.households} 户")


@click.command()
@click.option("--keep", is_flag=True, help="keep the temporary folder and print its path")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="also check this database: opens, integrity_check, audit chain",
)
def selftest(keep, db_path):
    """Check this installation: database, PDF with the CJK font, xlsx, age encryption.

    Works in a temporary folder; with ``--db`` also checks an existing database.
    """
    from ..selftest import run_selftest

    results = run_selftest(keep=keep, db_path=db_path)
    for r in results:
        click.echo(f"[{r.status}] {r.name}: {r.detail}")
    failed = [r for r in results if r.status != "ok"]
    click.echo("自检通过" if not failed else f"自检失败: {len(failed)} 项")
    if failed:
        sys.exit(1)


COMMANDS = (operators, audit, backup, restore, selftest)
