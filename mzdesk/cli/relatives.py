"""``mzdesk relatives``: declared relatives (近亲属备案) and the enrolments they flag.

ID numbers are printed masked only (``341623********001X``).  No Qt here.
"""

from __future__ import annotations

import click

from .common import RECORD_ID, db_option, emit_json, open_store

_ROLES = ("staff", "cadre")
_RELATIONS = ("spouse", "parent", "child", "sibling", "grandparent", "grandchild", "other")


@click.group()
def relatives():
    """近亲属备案: relatives of assistance staff and village cadres; their enrolments are flagged."""


@relatives.command("add")
@click.option("--declarant", required=True, help="备案人姓名 (staff member or cadre)")
@click.option(
    "--role",
    type=click.Choice(_ROLES),
    required=True,
    help="staff 乡镇救助经办人员, cadre 村(居)委会成员",
)
@click.option("--village", default="", help="备案人所在村(居) (required for cadre)")
@click.option("--name", "relative_name", required=True, help="亲属姓名")
@click.option("--id-number", required=True, help="亲属身份证号 (18 or legacy 15 digits)")
@click.option(
    "--relation",
    type=click.Choice(_RELATIONS),
    required=True,
    help="relation of the relative to the declarant",
)
@click.option("--note", default="", help="备注")
@db_option
def relatives_add(declarant, role, village, relative_name, id_number, relation, note, db_path):
    """Declare one relative (needs relatives.edit: admin or clerk)."""
    from ..models.relatives import declare

    store = open_store(db_path)
    r = declare(store, declarant, role, village, relative_name, id_number, relation, note)
    click.echo(
        f"已备案 #{r.id}: {r.declarant_name}（{r.role_label}）的{r.relation_label} "
        f"{r.relative_name} {r.id_masked}"
    )


@relatives.command("withdraw")
@click.argument("relative_id", type=RECORD_ID)
@db_option
def relatives_withdraw(relative_id, db_path):
    """Withdraw a declaration by its number (kept in history, travels in sync)."""
    from ..models.relatives import withdraw

    store = open_store(db_path)
    withdraw(store, relative_id)
    click.echo(f"已撤销备案 #{relative_id}")


@relatives.command("list")
@db_option
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
def relatives_list(db_path, as_json):
    """List active declarations (ID numbers masked)."""
    from ..models.relatives import list_relatives

    rows = list_relatives(open_store(db_path))
    if as_json:
        emit_json([r.as_dict() for r in rows])
        return
    for r in rows:
        village = f" {r.declarant_village}" if r.declarant_village else ""
        click.echo(
            f"#{r.id:<4} {r.declarant_name}（{r.role_label}{village}） "
            f"{r.relation_label} {r.relative_name} {r.id_masked} {r.declared_on}"
        )
    click.echo(f"共 {len(rows)} 条备案")


@relatives.command("flagged")
@db_option
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
def relatives_flagged(db_path, as_json):
    """Live enrolments that cover a declared relative (the county visits each one)."""
    from ..models.relatives import flagged_enrolments

    rows = flagged_enrolments(open_store(db_path))
    if as_json:
        emit_json([f.as_dict() for f in rows])
        return
    for f in rows:
        d = f.as_dict()
        click.echo(
            f"救助#{f.enrolment_id:<5} 家庭#{f.household_id:<5} {f.village} "
            f"户主{f.head_name} {f.member_name} {f.relative_id_masked} "
            f"{d['category_label']}/{d['state_label']}  "
            f"备案人 {f.declarant_name}（{d['role_label']}，{d['relation_label']}）"
        )
    click.echo(f"共 {len(rows)} 条近亲属救助记录")


COMMANDS = (relatives,)
