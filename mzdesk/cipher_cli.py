"""``mzdesk encrypt`` / ``mzdesk decrypt``: SQLCipher at-rest protection (docs/at-rest.md).

The passphrase comes from ``$MZDESK_DB_KEY`` or a hidden prompt.  Every other
command opens an encrypted database with ``$MZDESK_DB_KEY`` too (``cli.open_store``
calls :func:`db_key`).  No Qt here.
"""

from __future__ import annotations

import os
import sys

import click

from .cli import db_option
from .paths import default_db_path


def db_key(path) -> str | None:
    """The passphrase for ``path``: ``$MZDESK_DB_KEY``, else a hidden prompt when the
    file is encrypted and a terminal is attached, else None."""
    from .models.cipher import ENV_KEY, is_encrypted_file

    key = os.environ.get(ENV_KEY) or None
    if key is None and is_encrypted_file(path) and sys.stdin.isatty():
        key = click.prompt("数据库密码 / database passphrase", hide_input=True)
    return key


def _key(confirm: bool) -> str:
    from .models.cipher import ENV_KEY

    key = os.environ.get(ENV_KEY)
    if key:
        return key
    return click.prompt("数据库密码 / database passphrase", hide_input=True,
                        confirmation_prompt=confirm)  # fmt: skip


@click.command()
@db_option
def encrypt(db_path):
    """Encrypt the database with a passphrase (SQLCipher; $MZDESK_DB_KEY or prompt).

    Close the window first: the file is rewritten in place.
    """
    from .models import cipher

    path = db_path or str(default_db_path())
    if cipher.is_encrypted_file(path):
        raise click.ClickException(f"数据库已经加密: {path}")
    key = _key(confirm=True)
    cipher.encrypt_file(path, key)
    click.echo(f"已加密: {path}（以后打开需要密码；命令行请设置 {cipher.ENV_KEY}）")


@click.command()
@db_option
def decrypt(db_path):
    """Decrypt an encrypted database back to plain SQLite ($MZDESK_DB_KEY or prompt)."""
    from .models import cipher

    path = db_path or str(default_db_path())
    if not cipher.is_encrypted_file(path):
        raise click.ClickException(f"数据库未加密: {path}")
    cipher.decrypt_file(path, _key(confirm=False))
    click.echo(f"已解密: {path}")


COMMANDS = (encrypt, decrypt)
