"""``mzdesk sync ...``: encrypted, signed batches (同步批次) between sites.

The private-key passphrase, when the keys have one, comes from ``--passphrase`` or
$MZDESK_KEY_PASSPHRASE, or is not needed where the logged-in operator
(MZDESK_OPERATOR/MZDESK_PASSWORD) has used it once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .common import RECORD_ID, OutFile, db_option, emit_json, open_store, passphrase_option


@click.group()
def sync() -> None:
    """加密签名的同步批次 / encrypted, signed batch files between sites."""


@sync.command("export")
@db_option
@passphrase_option
@click.option("--to", "to", required=True, help="目的站点代码 / destination site code")
@click.option("--out", required=True, type=OutFile(".age"), help="批次文件 / batch file (F.age)")
@click.option("--full", is_flag=True, help="完整快照 / full snapshot instead of changes")
@click.option("--resend", type=RECORD_ID, default=None, help="重发第N批 / write batch N again")
def sync_export(db_path, passphrase, to, out, full, resend):
    """Write the next batch for site TO (changes since the last batch, or --full).

    \b
    At a county, TO may be its city (4-digit code) or province (2-digit): the batch
    forwards what the county accepted, each record with its origin township, and the
    townships' audit checkpoints (docs/scale-upward.md)."""
    from ..sync.export import export_batch
    from ..sync.export import resend as do_resend
    from ..sync.keys import load_keys

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
@passphrase_option
@click.argument("batch_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="JSON report")
def sync_import(db_path, passphrase, batch_file, as_json):
    """Verify and apply a batch file; report new/updated/unchanged/conflicts per table."""
    from ..sync.apply import import_batch
    from ..sync.batch import read_batch_file
    from ..sync.keys import load_keys

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
    from ..sync.scope import reassign

    click.echo(reassign(open_store(db_path), site, list(villages)))


@sync.command("conflicts")
@db_option
@click.option("--json", "as_json", is_flag=True, help="JSON output")
def sync_conflicts(db_path, as_json):
    """Open conflicts, each with both versions side by side (ID numbers masked).

    Decide one with ``mzdesk sync resolve ID``; the sync page shows the same list."""
    from ..sync.conflicts import conflict_sides, conflict_title, open_conflicts

    store = open_store(db_path)
    found = [
        {
            "id": c["id"],
            "peer": c["peer"],
            "batch_seq": c["batch_seq"],
            "kind": c["kind"],
            "table": c["tbl"],
            "uid": c["uid"],
            "title": conflict_title(c),
            "note": c["note"],
            "fields": c["fields"],
            "sides": [
                {"field": k, "local": lo, "remote": re, "conflict": x}
                for k, lo, re, x in conflict_sides(c)
            ],
        }
        for c in open_conflicts(store)
    ]
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
    from ..sync.conflicts import resolve_conflict

    if bool(keep) == bool(fields):
        raise click.UsageError("请给出 --keep 或 --field 之一 / give --keep or --field")
    picked: dict[str, str] = {}
    for f in fields:
        name, _, side = f.partition("=")
        if side not in ("local", "remote") or not name:
            raise click.UsageError(f"--field 应为 字段=local 或 字段=remote: {f}")
        picked[name] = side
    resolve_conflict(open_store(db_path), conflict_id, keep or picked)
    click.echo(f"冲突 #{conflict_id} 已处理，结果随下一批发给对方")


@sync.command("status")
@db_option
@click.option("--json", "as_json", is_flag=True, help="JSON output")
def sync_status(db_path, as_json):
    """Batches in and out, pending acknowledgements, held batches, open conflicts, and the
    changes refused as beyond their sender's scope or role (超出发送方权限)."""
    from ..sync.conflicts import open_conflicts
    from ..sync.history import held_batches, history, pending_acks
    from ..sync.report import refusals, refused_lines

    store = open_store(db_path)
    data: dict[str, Any] = {
        "history": history(store),
        "pending_acks": pending_acks(store),
        "held": held_batches(store),
        "conflicts": len(open_conflicts(store)),
        "refused": refusals(store),
    }
    if as_json:
        emit_json(data)
        return
    for b in data["history"]:
        arrow = "→" if b["direction"] == "out" else "←"
        ack = "" if b["direction"] == "in" else (" 已确认" if b["acked_at"] else " 待确认")
        click.echo(f"{b['processed_at']} {arrow} {b['peer']} 第{b['seq']}批{ack} {b['counts']}")
    for line in refused_lines(data["refused"]):
        click.echo(line)
    click.echo(
        f"待确认 {len(data['pending_acks'])}，暂存 {len(data['held'])}，未解决冲突 {data['conflicts']}"
    )


COMMANDS = (sync,)
