"""``mzdesk duplicates``: the cross-site duplicate report (重复享受) at a county or above.

ID numbers are printed masked; ``--full-ids`` (needs data.export) adds them in full to the
JSON and the workbook.  No Qt here.
"""

from __future__ import annotations

import click

from .common import OutFile, db_option, emit_json, open_store


@click.command("duplicates")
@db_option
@click.option("--json", "as_json", is_flag=True, help="print a JSON object")
@click.option(
    "--category",
    default=None,
    help="only enrolments of this category (code or name, e.g. elderly or 高龄津贴)",
)
@click.option("--out", type=OutFile(".xlsx"), default=None, help="also write the report to F.xlsx")
@click.option(
    "--full-ids",
    "full_ids",
    is_flag=True,
    help="full ID numbers in the JSON and the workbook (needs data.export)",
)
def duplicates(db_path, as_json, category, out, full_ids):
    """IDs paid now at two or more origin sites (重复享受), e.g. two townships at a county.

    \b
    A site's claim is a member here or one the import set aside as a duplicate_id
    conflict (可能重复享受), covered by an enrolment paid now (在保, 渐退期).  People moved
    between sites (注销 in one) are not listed.
    --json: {"count", "category", "duplicates": [{"id_masked", "name", "sites",
    "claims": [{"site", "site_name", "name", "village", "head_name", "categories",
    "category_names", "set_aside", "conflict_id", "via", "via_name"}]}]}; with --full-ids
    each also "id_number".  "site" is the origin township; "via" the site that forwarded
    it here (the county, at a city or province; this site at a county).
    """
    from ..models.auth import require
    from ..models.duplicates import category_names, duplicate_report
    from ..models.origins import own_site

    store = open_store(db_path)
    if full_ids:
        require(store, "data.export")
    report = duplicate_report(store, category)
    names = category_names(store)
    if out:
        from ..reports.duplicates_xlsx import write_duplicates_xlsx

        write_duplicates_xlsx(store, report, names, out, full_ids)
    if as_json:
        emit_json(
            {
                "count": len(report),
                "category": category,
                "duplicates": [d.as_dict(names, full_ids) for d in report],
            }
        )
        return
    own = own_site(store)
    for d in report:
        shown = d.id_number if full_ids else d.as_dict(names)["id_masked"]
        where = "；".join(
            f"{c.site_name}（{c.site}）{c.village} {'、'.join(names.get(x, x) for x in c.categories)}"
            + (f"，经{c.via_name}（{c.via}）转报" if c.via not in ("", c.site, own) else "")
            + ("，导入时暂未采用" if c.set_aside else "")
            for c in d.claims
        )
        click.echo(f"{shown} {d.name}：{where}")
    click.echo(f"共 {len(report)} 人可能重复享受")
    if out:
        click.echo(f"已写入 {out}")


COMMANDS = (duplicates,)
