"""``mzdesk encrypt`` / ``mzdesk decrypt``: SQLCipher at-rest protection (docs/at-rest.md).

The passphrase comes from ``$MZDESK_DB_KEY`` or a hidden prompt.  Every other
command opens an encrypted database with ``$MZDESK_DB_KEY`` too (``open_store``
in cli/common.py calls ``db_key``).  No Qt here.
"""

from __future__ import annotations

import os

import click

from ..paths import default_db_path
from .common import db_option, open_store, prompt_secret


def _key(confirm: bool) -> str:
    from ..models.cipher import ENV_KEY

    key = os.environ.get(ENV_KEY)
    if key:
        return key
    return prompt_secret("数据库密码 / database passphrase", ENV_KEY, confirm=confirm)


def _may_convert(path: str, key: str | None, doing: str) -> None:
    """Once accounts exist only an admin may set or remove the passphrase (the login
    from ``$MZDESK_OPERATOR``/``$MZDESK_PASSWORD``, as every command); and no other
    program may have the file open, since it is replaced."""
    from ..models.auth import require

    store = open_store(path, key=key)
    try:
        require(store, "database.encrypt")
        store.require_alone(doing)
    finally:
        store.close()


def _convert_backups(path: str, source_key: str | None, dest_key: str | None) -> None:
    from ..models.backup import backup_dir_of, convert_backups

    done, failed = convert_backups(path, source_key, dest_key)
    what = "加密" if dest_key else "解密"
    if done:
        click.echo(f"自动备份 {len(done)} 个已一并{what}: {backup_dir_of(path)}")
    if failed:
        for backup, why in failed:
            click.echo(f"未能{what}的备份: {backup}: {why}", err=True)
        state = "仍是未加密的，请确认后删除" if dest_key else "仍是加密的"
        raise click.ClickException(f"{len(failed)} 个自动备份未能{what}（{state}）")


@click.command()
@db_option
def encrypt(db_path):
    """Encrypt the database with a passphrase (SQLCipher; $MZDESK_DB_KEY or prompt), and
    its automatic backups in backups/ beside it (admin, once accounts exist).

    Refused while the window or another command has the database open.
    """
    from ..models import cipher

    path = db_path or str(default_db_path())
    if cipher.is_encrypted_file(path):
        raise click.ClickException(f"数据库已经加密: {path}")
    _may_convert(path, None, "加密")
    key = _key(confirm=True)
    cipher.encrypt_file(path, key)
    click.echo(f"已加密: {path}（以后打开需要密码；命令行请设置 {cipher.ENV_KEY}）")
    _convert_backups(path, None, key)


@click.command()
@db_option
def decrypt(db_path):
    """Decrypt an encrypted database, and its automatic backups, back to plain SQLite
    ($MZDESK_DB_KEY or prompt; admin, once accounts exist)."""
    from ..models import cipher

    path = db_path or str(default_db_path())
    if not cipher.is_encrypted_file(path):
        raise click.ClickException(f"数据库未加密: {path}")
    key = _key(confirm=False)
    _may_convert(path, key, "解密")
    cipher.decrypt_file(path, key)
    click.echo(f"已解密: {path}")
    _convert_backups(path, key, None)


COMMANDS = (encrypt, decrypt)
