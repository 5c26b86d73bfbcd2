"""``mzdesk households find|show|flag``: look households (家庭) up; set the 返贫监测 flag."""

from __future__ import annotations

import click

from .common import RECORD_ID, db_option, emit_json, open_store, open_store_as, operator_option


@click.group()
def households():
    """Find and inspect households (家庭)."""


@households.command("find")
@click.argument("text")
@db_option
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
def households_find(text, db_path, as_json, limit):
    """Find households by name, pinyin (zsf / zhangsanfeng), ID fragment or phone."""
    from ..models.query import find_households

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
    from ..models.ids import mask_id
    from ..models.registry import Registry

    h = Registry(open_store(db_path)).get(household_id)
    emit_json(
        {
            "id": h.id,
            "village": h.village,
            "group": h.village_group,
            "status": h.status,
            "poverty_flag": h.poverty_flag,
            "members": [
                {
                    "name": m.name,
                    "relation": m.relation,
                    "id_number": mask_id(m.id_number),
                    "id_pending": m.id_pending,
                    "gender": m.gender,
                    "birth_date": m.birth_date.isoformat() if m.birth_date else None,
                }
                for m in h.members
            ],
        }
    )


@households.command("flag")
@click.argument("household_id", type=RECORD_ID)
@db_option
@click.option(
    "--set",
    "flag",
    required=True,
    help="防止返贫监测对象 (monitored), 脱贫人口 (lifted), or 无 to clear",
)
@operator_option
def households_flag(household_id, db_path, flag, operator):
    """Set or clear the household flag 防止返贫监测对象 / 脱贫人口."""
    from ..models.household_flags import flag_label, set_poverty_flag

    code = set_poverty_flag(open_store_as(db_path, operator), household_id, flag)
    click.echo(f"家庭{household_id}：{flag_label(code) or '无返贫监测标识'}")


COMMANDS = (households,)
