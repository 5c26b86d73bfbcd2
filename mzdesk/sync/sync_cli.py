"""CLI: ``mzdesk keys …`` (site keys, trust list) and ``mzdesk sync …`` (batches).

Registered in mzdesk/cli.py.  The private-key passphrase, when the keys have
one, comes from ``--passphrase`` or $MZDESK_KEY_PASSPHRASE, or is not needed where the
logged-in operator (MZDESK_OPERATOR/MZDESK_PASSWORD) has used it once.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..cli import RECORD_ID, OutFile, db_option, emit_json, open_store

PASS_HELP = (
    "私钥口令 / passphrase for the private keys (or $MZDESK_KEY_PASSPHRASE; not needed "
    "once the logged-in operator has used it: their login unlocks the keys)"
)


def _pass_option(f):
    return click.option("--passphrase", default=None, envvar="MZDESK_KEY_PASSPHRASE",
                        show_envvar=True, help=PASS_HELP)(f)  # fmt: skip


@click.group()
def keys() -> None:
    """站点密钥与信任列表 / site keys and the trust list."""


@keys.command("init")
@db_option
@_pass_option
@click.option(
    "--force", is_flag=True, help="重新生成（其他站点须重新导入公钥）/ replace existing keys"
)
def keys_init(db_path, passphrase, force):
    """Make this site's encryption (age X25519) and signing (Ed25519) key pairs."""
    from .keys import init_keys, key_file

    store = open_store(db_path)
    k = init_keys(store, passphrase, force=force)
    click.echo(f"已生成本站密钥 {k.site.code} {k.site.name}: {key_file(store)}")
    click.echo(f"指纹 / fingerprint: {k.public.fingerprint}")


@keys.command("show")
@db_option
@_pass_option
@click.option("--json", "as_json", is_flag=True, help="JSON output")
def keys_show(db_path, passphrase, as_json):
    """Show this site's public key, fingerprint and the trust list."""
    from .keys import trusted_sites

    store = open_store(db_path)
    k = _own_public(store, passphrase)
    sites = trusted_sites(store)
    if as_json:
        emit_json({
            "site": {"code": k.code, "name": k.name, "role": k.role,
                     "age_recipient": k.age_recipient, "fingerprint": k.fingerprint},
            "trusted": [{"code": s.key.code, "name": s.key.name, "role": s.key.role,
                         "fingerprint": s.key.fingerprint, "since": s.since,
                         "revoked_at": s.revoked_at, "villages": s.villages} for s in sites],
        })  # fmt: skip
        return
    click.echo(f"本站 {k.code} {k.name} ({k.role})")
    click.echo(f"  age: {k.age_recipient}")
    click.echo(f"  指纹 / fingerprint: {k.fingerprint}")
    click.echo(f"信任列表 / trusted sites: {len(sites)}")
    for s in sites:
        state = f"已吊销 {s.revoked_at}" if s.revoked else f"自 {s.since}"
        vill = f"  村: {'、'.join(s.villages)}" if s.villages else ""
        click.echo(f"  {s.key.code} {s.key.name} ({s.key.role}) {s.key.fingerprint} {state}{vill}")


@keys.command("export-public")
@db_option
@_pass_option
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
        from .keys import qr_code

        with replacing(qr_png) as part:
            qr_code(pub).save(str(part), kind="png", scale=6, border=4)
        click.echo(f"已写出公钥二维码 {qr_png}")


def _own_public(store, passphrase):
    """The public key; unlocks the private one only for key files that do not keep it in clear."""
    from .keys import load_keys, own_public

    return own_public(store) or load_keys(store, passphrase).public


@keys.command("trust")
@db_option
@click.argument("public_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--villages", default=None, help="入户终端负责的村，逗号分隔 / villages for a field laptop"
)
def keys_trust(db_path, public_file, villages):
    """Add another site's public key file to the trust list (check the fingerprint first)."""
    from .keys import PublicKey, trust

    pk = PublicKey.read_file(public_file)  # a binary or huge file: one clear line
    vs = [v.strip() for v in villages.split(",") if v.strip()] if villages else None
    trust(open_store(db_path), pk, vs)
    click.echo(f"已信任 {pk.code} {pk.name} ({pk.role})  指纹 {pk.fingerprint}")


@keys.command("revoke")
@db_option
@click.argument("site")
def keys_revoke(db_path, site):
    """Revoke a site's keys: its batches are refused from now on."""
    from .keys import revoke

    revoke(open_store(db_path), site)
    click.echo(f"已吊销站点 {site} 的密钥")


@keys.command("export-identity")
@db_option
@_pass_option
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="身份文件 / output file"
)
def keys_export_identity(db_path, passphrase, out):
    """Write the age identity (secret!) for recovery: `age -d -i FILE batch.age` reads it."""
    from .keys import export_identity, load_keys

    export_identity(load_keys(open_store(db_path), passphrase), Path(out))
    click.echo(f"已写出本站解密身份 {out}（权限0600，请妥善保管）")


@click.group()
def sync() -> None:
    """加密签名的同步批次 / encrypted, signed batch files between sites."""


@sync.command("export")
@db_option
@_pass_option
@click.option("--to", "to", required=True, help="目的站点代码 / destination site code")
@click.option("--out", required=True, type=OutFile(".age"), help="批次文件 / batch file (F.age)")
@click.option("--full", is_flag=True, help="完整快照 / full snapshot instead of changes")
@click.option("--resend", type=RECORD_ID, default=None, help="重发第N批 / write batch N again")
def sync_export(db_path, passphrase, to, out, full, resend):
    """Write the next batch for site TO (changes since the last batch, or --full)."""
    from .exchange import export_batch
    from .exchange import resend as do_resend
    from .keys import load_keys

    store = open_store(db_path)
    if resend is not None:
        do_resend(store, to, resend, out)
        click.echo(f"已重新写出发给 {to} 的第 {resend} 批: {out}")
        return
    r = export_batch(store, load_keys(store, passphrase), to, out, full=full)
    click.echo(
        f"已写出发给 {to} 的第 {r.sequence} 批{'（完整快照）' if full else ''}: {out}  {r.summary()}"
    )


@sync.command("import")
@db_option
@_pass_option
@click.argument("batch_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="JSON report")
def sync_import(db_path, passphrase, batch_file, as_json):
    """Verify and apply a batch file; report new/updated/unchanged/conflicts per table."""
    from .batch import read_batch_file
    from .exchange import import_batch
    from .keys import load_keys

    store = open_store(db_path)
    data = read_batch_file(batch_file)
    report = import_batch(store, load_keys(store, passphrase), data, Path(batch_file).name)
    if as_json:
        emit_json(report.as_dict())
        return
    first, *rest = report.text().splitlines()
    click.echo(first)
    for line in rest:
        click.echo("  " + line)


@sync.command("assign")
@db_option
@click.argument("site")
@click.argument("villages", nargs=-1, required=True)
def sync_assign(db_path, site, villages):
    """Assign villages to a field laptop SITE: only these go down to it.

    The next batch to SITE brings the households of newly assigned villages and
    withdraws those of villages no longer assigned (a household with edits not yet
    sent up is withdrawn after they arrive here)."""
    from .scope import reassign

    click.echo(reassign(open_store(db_path), site, list(villages)))


@sync.command("conflicts")
@db_option
@click.option("--json", "as_json", is_flag=True, help="JSON output")
def sync_conflicts(db_path, as_json):
    """Open conflicts, each with both versions side by side (ID numbers masked).

    Decide one with ``mzdesk sync resolve ID``; the sync page shows the same list."""
    from .exchange import conflict_sides, conflict_title, open_conflicts

    store = open_store(db_path)
    found = [
        {"id": c["id"], "peer": c["peer"], "batch_seq": c["batch_seq"], "kind": c["kind"],
         "table": c["tbl"], "uid": c["uid"], "title": conflict_title(c), "note": c["note"],
         "fields": c["fields"],
         "sides": [{"field": k, "local": lo, "remote": re, "conflict": x}
                   for k, lo, re, x in conflict_sides(c)]}
        for c in open_conflicts(store)
    ]  # fmt: skip
    if as_json:
        emit_json(found)
        return
    if not found:
        click.echo("没有待处理的冲突")
        return
    for c in found:
        click.echo(
            f"#{c['id']} {c['title']}  来自站点 {c['peer']} 第 {c['batch_seq']} 批：{c['note']}"
        )
        click.echo(f"    {'字段':<16}{'本站':<24}对方")
        for side in c["sides"]:
            mark = "*" if side["conflict"] else " "
            click.echo(f"  {mark} {side['field']:<16}{side['local']:<24}{side['remote']}")


@sync.command("resolve")
@db_option
@click.argument("conflict_id", type=RECORD_ID)
@click.option(
    "--keep",
    type=click.Choice(["local", "remote", "dismiss"]),
    default=None,
    help="local 保留本站 / remote 采用对方 / dismiss 跟进后关闭（重复享受、缺少上级记录）",
)
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="NAME=local|remote",
    help="逐字段决定（可重复）/ decide field by field; fields not named keep ours",
)
def sync_resolve(db_path, conflict_id, keep, fields):
    """Decide an open conflict (see ``mzdesk sync conflicts``); the decision travels with the
    next batch.  Conflicts are decided at the higher site (township over field laptop,
    county over township)."""
    from .exchange import resolve_conflict

    if bool(keep) == bool(fields):
        raise click.UsageError("请给出 --keep 或 --field 之一 / give --keep or --field")
    choice: str | dict[str, str] = keep or {}
    for f in fields:
        name, _, side = f.partition("=")
        if side not in ("local", "remote") or not name:
            raise click.UsageError(f"--field 应为 字段=local 或 字段=remote: {f}")
        choice[name] = side
    resolve_conflict(open_store(db_path), conflict_id, choice)
    click.echo(f"冲突 #{conflict_id} 已处理，结果随下一批发给对方")


@sync.command("status")
@db_option
@click.option("--json", "as_json", is_flag=True, help="JSON output")
def sync_status(db_path, as_json):
    """Batches in and out, pending acknowledgements, held batches, open conflicts."""
    from .exchange import held_batches, history, open_conflicts, pending_acks

    store = open_store(db_path)
    data = {"history": history(store), "pending_acks": pending_acks(store),
            "held": held_batches(store), "conflicts": len(open_conflicts(store))}  # fmt: skip
    if as_json:
        emit_json(data)
        return
    for b in data["history"]:
        arrow = "→" if b["direction"] == "out" else "←"
        ack = "" if b["direction"] == "in" else (" 已确认" if b["acked_at"] else " 待确认")
        click.echo(f"{b['processed_at']} {arrow} {b['peer']} 第{b['seq']}批{ack} {b['counts']}")
    click.echo(
        f"待确认 {len(data['pending_acks'])}，暂存 {len(data['held'])}，未解决冲突 {data['conflicts']}"
    )
