"""Site-wide commands: ``init`` (初始化站点), ``demo`` (演示数据), ``check`` and ``stats``."""

from __future__ import annotations

import sys

import click

from ..models.pg_url import safe_url
from ..paths import default_db_path
from .common import SEED, OutFile, db_option, emit_json, open_store, parse_month


@click.command()
@db_option
@click.option(
    "--site-code",
    required=True,
    help="统计用区划代码: 2 (province), 4 (city), 6 (county), 9 (township) or 12 digits",
)
@click.option("--site-name", required=True, help="单位名称, e.g. 青山镇民政办")
@click.option(
    "--role",
    type=click.Choice(["township", "field", "county", "city", "province"]),
    default="township",
    show_default=True,
    help="what this installation is; city (市民政局) and province (省民政厅) receive the "
    "batches their counties forward upward",
)
def init(db_path, site_code, site_name, role):
    """Create a database and set its site identity (初始化站点).

    \b
    A city or province site is a receiver: trust each county's public key
    (mzdesk keys trust), then `mzdesk sync import` the batches the counties
    write with `mzdesk sync export --to <city/province code>`."""
    from ..models.site import init_site, validate_site

    validate_site(site_code.strip(), site_name.strip(), role)  # bad input: no file is created
    store = open_store(db_path, create=True)
    site = init_site(store, site_code, site_name, role)
    click.echo(f"已初始化 {site.code} {site.name} ({site.role}): {safe_url(store.path)}")


@click.command()
@db_option
@click.option(
    "--households",
    "count",
    type=click.IntRange(1, 1_000_000),
    required=True,
    help="how many households to add",
)
@click.option("--seed", type=SEED, default=1, show_default=True, help="same seed, same township")
@click.option(
    "--site-code",
    default=None,
    help="a new database's site code (default: demo township 341623101)",
)
@click.option(
    "--site-name", default=None, help="a new database's site name (default: 青山镇民政办)"
)
def demo(db_path, count, seed, site_code, site_name):
    """Add a synthetic demo township (演示数据) to the database.

    On a missing file: create the database with a demo site first (one command to try mzdesk).
    """
    from pathlib import Path

    from ..models.demo import ensure_demo_site, generate_demo, validate_demo_site

    validate_demo_site(site_code, site_name)  # bad input: no file is created
    new = not Path(db_path or default_db_path()).exists()
    store = open_store(db_path, create=new)
    if new or site_code or site_name:  # an existing file without a site still says no_site
        ensure_demo_site(store, site_code, site_name)
    ids = generate_demo(store, count, seed=seed)
    click.echo(f"已添加 {len(ids)} 户演示家庭: {safe_url(store.path)}")


@click.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="print a JSON object")
def check(db_path, as_json):
    """Integrity check, every domain-rule violation and the audit trail's tamper checks
    (chain, triggers, accounts, signed checkpoints); exit 1 if any."""
    from ..models.audit_guard import problems
    from ..models.checks import run_checks
    from ..sync.checkpoints import report

    store = open_store(db_path)
    integrity, findings = run_checks(store)
    audit = [p.as_dict() for p in problems(store.conn)[1]]
    audit += [{**p, "site": r.site} for r in report(store) for p in r.problems]
    if as_json:
        out: dict = {"integrity": integrity or ["ok"], "findings": [f.as_dict() for f in findings]}
        if audit:  # only when there is tampering to report: the clean answer stays as it was
            out["audit"] = audit
        emit_json(out)
    else:
        click.echo("数据库完整性: " + ("正常" if not integrity else "; ".join(integrity)))
        for f in findings:
            who = f" {f.member}" if f.member else ""
            click.echo(f"[{f.code}] 家庭{f.household_id}{who}: {f.message}")
        for p in audit:
            click.echo(f"[{p['code']}] 审计: {p['message']}")
        click.echo(f"发现 {len(findings) + len(audit)} 处问题")
    if integrity or findings or audit:
        sys.exit(1)


@click.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="print a JSON object")
@click.option("--month", default=None, help="YYYY-MM: monthly statistics per category and village")
@click.option(
    "--out",
    type=OutFile(".xlsx", ".pdf"),
    default=None,
    help="with --month: write the statistics to F.xlsx or F.pdf",
)
def stats(db_path, as_json, month, out):
    """Counts of active households and members (统计); with --month, the month's figures.

    \b
    --json: households, members, villages, members_id_pending; low_income (低收入人口:
    households and persons in 低保, 特困, 低保边缘, 刚性支出困难); active_enrolments per
    category (the enrolments paid now: 在保, and 渐退期 until its last
    month): households, persons, monthly_fen (the sum of all parts), components_fen
    ({"base": …, "classified": …, "care": …}: a key for every part the category can
    carry; 低保 base + classified, 特困 base + care), and by_class (class → persons) where the
    category has classes, by_support ({"集中": persons, "分散": persons}, and "未登记" while some have none) for 特困.
    --month --json adds runs (when the month has any): the confirmed and paid one-off runs
    (一次性发放) of that month, each name, state, households, persons, amount_fen.

    \b
    --month --json: month, rows, totals, total, and cases: 临时救助/医疗救助 paid in the
    month per type ("临时救助-急难型", "临时救助-支出型", "医疗救助", and
    "临时救助-未分型" only when such cases exist), each {"count": 人次, "amount_fen",
    "avg_fen": 人均每人次 = amount_fen // count, 0 when none}.  At a county, city or
    province also by_township: one row per origin township and category, {site, site_name,
    category, category_name, households, persons, monthly_fen, avg_fen, new, stopped,
    ytd_person_months, ytd_fen}.
    """
    if month:
        return _monthly_stats(db_path, month, as_json, out)
    if out:
        raise click.UsageError("--out needs --month")
    from ..models.stats import registry_stats

    data = registry_stats(open_store(db_path))
    if as_json:
        emit_json(data)
        return
    click.echo(
        f"家庭 {data['households']} 户，成员 {data['members']} 人，"
        f"村(社区) {data['villages']} 个，身份证待核实 {data['members_id_pending']} 人"
    )


def _monthly_stats(db_path, month, as_json, out) -> None:
    """``mzdesk stats --month``: the month's figures per category and village."""
    from ..roster.exporter import export_monthly_stats
    from ..roster.monthly import month_label, monthly_stats, summary_lines, write_pdf

    store = open_store(db_path)
    stats = monthly_stats(store, parse_month(month))
    if out:
        site = store.one("SELECT name FROM site WHERE id = 1")
        township = site["name"] if site else ""
        if str(out).lower().endswith(".pdf"):
            write_pdf(stats, out, township)
        else:
            export_monthly_stats(stats, out, township)
    if as_json:
        from ..models.payment_runs import month_runs

        runs = month_runs(store, stats["month"])
        if runs:  # only when the month has confirmed or paid one-off runs: the rest unchanged
            stats["runs"] = [
                {k: r[k] for k in ("name", "state", "households", "persons", "amount_fen")}
                for r in runs
            ]
        emit_json(stats)
        return
    for line in summary_lines(stats) or [f"{month_label(stats)}没有在保对象"]:
        click.echo(line)
    if out:
        click.echo(f"已导出 {out}")


COMMANDS = (init, demo, check, stats)
