"""CLI for care booklets, home-visit checklists and spot checks.

mzdesk booklet   --db P (--household ID | --village V) --out F.pdf
mzdesk checklist --db P (--household ID | --village V) [--blank] --out F.pdf
mzdesk sample    --db P [--village V] [--category C] --percent 10 --seed S [--json]
"""

from __future__ import annotations

import click

from .common import RECORD_ID, SEED, OutFile, db_option, emit_json, open_store

OUT = click.option("--out", "out", type=OutFile(".pdf"), required=True, help="PDF file to write")
HOUSEHOLD = click.option(
    "--household", "household_id", type=RECORD_ID, default=None, help="household number (家庭编号)"
)
VILLAGE = click.option("--village", default=None, help="every active household of this village")


def _targets(store, household_id, village) -> list[int]:
    from ..models.errors import MzError
    from ..reports.booklet_pdf import village_household_ids

    if (household_id is None) == (village is None):
        raise MzError("请指定 --household 或 --village 其中之一", "bad_arguments")
    if household_id is not None:
        from ..models.registry import Registry

        h = Registry(store).get(household_id)
        if h.status != "active":
            raise MzError(f"家庭{household_id}已注销", "not_active")
        return [household_id]
    return village_household_ids(store, village)


def _progress(label: str):
    def report(done: int, total: int) -> None:
        if done == total or done % 50 == 0:
            click.echo(f"{label} {done}/{total}", err=True)

    return report


@click.command()
@db_option
@HOUSEHOLD
@VILLAGE
@OUT
def booklet(db_path, household_id, village, out):
    """Print care booklets (关爱簿): one household or a whole village into one PDF."""
    from ..reports.booklet_pdf import write_booklets

    store = open_store(db_path)
    ids = _targets(store, household_id, village)
    pages = write_booklets(store, ids, out, progress=_progress("关爱簿") if village else None)
    click.echo(f"已生成 {out}: {len(ids)} 户，{pages} 页")


@click.command()
@db_option
@HOUSEHOLD
@VILLAGE
@click.option(
    "--blank",
    is_flag=True,
    help="blank sheets to fill by hand (registered data pre-printed); default: "
    "filled from each household's latest visit",
)
@OUT
def checklist(db_path, household_id, village, blank, out):
    """Print home-visit checklists (入户调查/核查表), blank or filled."""
    from ..models.errors import MzError
    from ..models.visits import Visits
    from ..reports.checklist_pdf import CheckEntry, write_checklists

    store = open_store(db_path)
    ids = _targets(store, household_id, village)
    visits = Visits(store)
    entries = []
    for hid in ids:
        latest = None if blank else visits.for_household(hid)
        entries.append(CheckEntry(hid, latest[0].id if latest else None))
    if not blank and all(e.blank for e in entries):
        raise MzError("没有入户记录可打印；要打印空白表请加 --blank", "no_visits")
    pages = write_checklists(
        store, entries, out, visits=visits, progress=_progress("核查表") if village else None
    )
    filled = sum(1 for e in entries if not e.blank)
    click.echo(
        f"已生成 {out}: {len(entries)} 户（已填 {filled}，空白 {len(entries) - filled}），{pages} 页"
    )


@click.command()
@db_option
@click.option("--village", default="", help="only this village (default: the whole township)")
@click.option(
    "--category", default="", help="only households with an active enrolment, e.g. rural_dibao"
)
@click.option("--percent", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--seed", type=SEED, required=True, help="same seed, same sample (write it down)")
@click.option(
    "--by",
    "stratify",
    type=click.Choice(["village", "category", "none"]),
    default="village",
    show_default=True,
    help="draw the share in each village / category",
)
@click.option("--dry-run", is_flag=True, help="only show the sample; do not record a spot check")
@click.option("--json", "as_json", is_flag=True, help="print a JSON object")
def sample(db_path, village, category, percent, seed, stratify, dry_run, as_json):
    """Draw a random sample of households to re-visit (抽查) and record it for tracking."""
    from ..models.spotcheck import draw_sample, save_sample

    store = open_store(db_path)
    s = draw_sample(store, percent, seed, village, category, "" if stratify == "none" else stratify)
    if not dry_run:
        save_sample(store, s)
    rows = [
        {
            "household_id": h["id"],
            "head_name": h["head_name"],
            "village": h["village"],
            "group": h["village_group"],
            "stratum": h["stratum"],
        }
        for h in s.households
    ]
    if as_json:
        emit_json(
            {
                "spot_check_id": s.id,
                "title": s.title,
                "percent": s.percent,
                "seed": s.seed,
                "population": s.population,
                "households": rows,
            }
        )
        return
    click.echo(s.title + (f"  抽查编号 {s.id}" if s.id else "  （未记录）"))
    for i, r in enumerate(rows, start=1):
        click.echo(
            f"{i:>4}. {r['household_id']:>7}  {r['head_name']:<6}  {r['village']}{r['group']}"
        )
    click.echo(f"共抽取 {len(rows)} 户 / {s.population} 户")


COMMANDS = (booklet, checklist, sample)
