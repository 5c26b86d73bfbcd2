"""``mzdesk keys ...``: this site's keys (站点密钥) and the trust list.

The private-key passphrase, when the keys have one, comes from ``--passphrase`` or
$MZDESK_KEY_PASSPHRASE, or is not needed where the logged-in operator
(MZDESK_OPERATOR/MZDESK_PASSWORD) has used it once.
"""

from __future__ import annotations

from pathlib import Path

import click

from .common import OutFile, db_option, emit_json, open_store, passphrase_option


@click.group()
def keys() -> None:
    """站点密钥与信任列表 / site keys and the trust list."""


@keys.command("init")
@db_option
@passphrase_option
@click.option(
    "--force",
    is_flag=True,
    help="已有密钥时更换（同 keys rotate：旧密钥保留，新公钥随批次发给对方）/ rotate existing keys",
)
@click.option(
    "--discard-old",
    is_flag=True,
    help="与 --force 同用：丢弃旧密钥重新生成（仅限口令遗失；已存批次将无法读取，对方须重新信任）"
    " / with --force: start afresh without the old keys",
)
def keys_init(db_path, passphrase, force, discard_old):
    """Make this site's encryption (age X25519) and signing (Ed25519) key pairs.

    With --force existing keys are rotated (see `keys rotate`)."""
    from ..sync.keys import init_keys, key_file

    if discard_old and not force:
        raise click.UsageError("--discard-old 须与 --force 同用")
    store = open_store(db_path)
    k = init_keys(store, passphrase, force=force, discard_old=discard_old)
    verb = "已更换本站密钥" if k.previous else "已生成本站密钥"
    click.echo(f"{verb} {k.site.code} {k.site.name}: {key_file(store)}")
    click.echo(f"指纹 / fingerprint: {k.public.fingerprint}")
    if k.previous:
        click.echo(_ROTATED)


_ROTATED = (
    "旧密钥已加密保留（仍可读取已存和暂存的批次）；新公钥随下一批次发给各对方站点，"
    "由旧密钥签名确认，对方导入后自动更新信任列表"
)


@keys.command("rotate")
@db_option
@passphrase_option
def keys_rotate(db_path, passphrase):
    """Rotate this site's keys: new key pairs, the old ones kept to read stored batches.

    The peers learn the new public key from the next batches, vouched for by the old key."""
    from ..sync.key_history import rotate_keys
    from ..sync.keys import key_file

    store = open_store(db_path)
    k = rotate_keys(store, passphrase)
    click.echo(f"已更换本站密钥 {k.site.code} {k.site.name}: {key_file(store)}")
    click.echo(f"指纹 / fingerprint: {k.public.fingerprint}")
    click.echo(_ROTATED)


@keys.command("show")
@db_option
@passphrase_option
@click.option("--json", "as_json", is_flag=True, help="JSON output")
def keys_show(db_path, passphrase, as_json):
    """Show this site's public key, fingerprint and the trust list."""
    from ..sync.keys import trusted_sites

    store = open_store(db_path)
    k = _own_public(store, passphrase)
    sites = trusted_sites(store)
    if as_json:
        emit_json(
            {
                "site": {
                    "code": k.code,
                    "name": k.name,
                    "role": k.role,
                    "age_recipient": k.age_recipient,
                    "fingerprint": k.fingerprint,
                },
                "trusted": [
                    {
                        "code": s.key.code,
                        "name": s.key.name,
                        "role": s.key.role,
                        "fingerprint": s.key.fingerprint,
                        "since": s.since,
                        "revoked_at": s.revoked_at,
                        "villages": s.villages,
                    }
                    for s in sites
                ],
            }
        )
        return
    click.echo(f"本站 {k.code} {k.name} ({k.role})")
    click.echo(f"  age: {k.age_recipient}")
    click.echo(f"  指纹 / fingerprint: {k.fingerprint}")
    for old in _retired(store):
        click.echo(f"  曾用密钥 {old['fingerprint']}（{old['created_at']} 至 {old['retired_at']}）")
    click.echo(f"信任列表 / trusted sites: {len(sites)}")
    for s in sites:
        state = f"已吊销 {s.revoked_at}" if s.revoked else f"自 {s.since}"
        vill = f"  村: {'、'.join(s.villages)}" if s.villages else ""
        click.echo(f"  {s.key.code} {s.key.name} ({s.key.role}) {s.key.fingerprint} {state}{vill}")


@keys.command("export-public")
@db_option
@passphrase_option
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="公钥文件 / output file"
)
@click.option(
    "--qr",
    "qr_png",
    default=None,
    type=OutFile(".png"),
    help="另存公钥二维码图片（PNG）/ also write the key as a QR code PNG",
)
def keys_export_public(db_path, passphrase, out, qr_png):
    """Write this site's public key file, to give to the other sites."""
    from ..models.files import replacing, write_bytes

    pub = _own_public(open_store(db_path), passphrase)
    write_bytes(out, pub.to_json().encode("utf-8"))  # a full disk keeps the old file whole
    click.echo(f"已写出公钥 {out}  指纹 {pub.fingerprint}（请对方电话核对）")
    if qr_png:
        from ..sync.keys import qr_code

        with replacing(qr_png) as part:
            qr_code(pub).save(str(part), kind="png", scale=6, border=4)
        click.echo(f"已写出公钥二维码 {qr_png}")


def _retired(store) -> list[dict]:
    """The keys this site rotated away from (the key file's clear part), newest first."""
    from ..sync.keys import has_keys, read_key_body

    return list(read_key_body(store).get("history", [])) if has_keys(store) else []


def _own_public(store, passphrase):
    """The public key; unlocks the private one only for key files that do not keep it in clear."""
    from ..sync.keys import load_keys, own_public

    return own_public(store) or load_keys(store, passphrase).public


@keys.command("trust")
@db_option
@click.argument("public_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--villages", default=None, help="入户终端负责的村，逗号分隔 / villages for a field laptop"
)
def keys_trust(db_path, public_file, villages):
    """Add another site's public key file to the trust list (check the fingerprint first)."""
    from ..sync.keys import PublicKey, trust

    pk = PublicKey.read_file(public_file)  # a binary or huge file: one clear line
    vs = [v.strip() for v in villages.split(",") if v.strip()] if villages else None
    trust(open_store(db_path), pk, vs)
    click.echo(f"已信任 {pk.code} {pk.name} ({pk.role})  指纹 {pk.fingerprint}")


@keys.command("revoke")
@db_option
@click.argument("site")
@click.option(
    "--yes", is_flag=True, help="吊销本站的上级站点时确认 / confirm revoking this site's superior"
)
def keys_revoke(db_path, site, yes):
    """Revoke a site's keys: its batches are refused from now on.

    Revoking this site's own superior (the county for a township) needs an admin and a
    confirmation (--yes, or the prompt on a terminal)."""
    from ..sync.keys import get_trusted, is_superior, revoke

    store = open_store(db_path)
    if not yes and is_superior(store, site) and _interactive():
        s = get_trusted(store, site)
        name = s.key.name if s else ""
        yes = click.confirm(
            f"站点 {site} {name} 是本站的上级，吊销后本站将无法再与其同步。确定吊销？",
            default=False,
        )
    revoke(store, site, confirmed=yes)
    click.echo(f"已吊销站点 {site} 的密钥")


def _interactive() -> bool:
    import sys

    return sys.stdin.isatty()


@keys.command("export-identity")
@db_option
@passphrase_option
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="身份文件 / output file"
)
def keys_export_identity(db_path, passphrase, out):
    """Write the age identity (secret!) for recovery: `age -d -i FILE batch.age` reads it."""
    from ..sync.keys import export_site_identity

    export_site_identity(open_store(db_path), passphrase, Path(out))
    click.echo(f"已写出本站解密身份 {out}（权限0600，请妥善保管）")


COMMANDS = (keys,)
