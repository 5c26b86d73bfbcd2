"""CLI for public notices (公示).

mzdesk notice --db P --out F.pdf [--village V] [--category C] [--start YYYY-MM-DD]
              [--days 7] [--backdate-reason TEXT] [--hotline TEL] [--issuer TEXT] [--address TEXT]
              [--paper A4|A4L|A3] [--show-id] [--xlsx F.xlsx] [--reprint N]
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from .common import (
    COUNT,
    DATE,
    RECORD_ID,
    OutFile,
    day,
    db_option,
    open_store_as,
    operator_option,
)

PAPERS = {"A4": ("A4", False), "A4L": ("A4", True), "A3": ("A3", True)}


@click.command()
@db_option
@click.option("--out", type=OutFile(".pdf"), required=True, help="PDF file to write")
@click.option("--village", default=None, help="only enrolments of this village (村/社区)")
@click.option("--category", default=None, help="only this category code, e.g. rural_dibao")
@click.option("--start", type=DATE, default=None, help="first day of the period (default: today)")
@click.option(
    "--days", type=COUNT, default=7, show_default=True, help="length of the period, 7 to 60 days"
)
@click.option(
    "--backdate-reason",
    default="",
    help="a --start before today records a paper notice already posted: say when and "
    "where (at most 30 days back)",
)
@click.option("--hotline", default=None, help="监督电话 (default: the last notice's)")
@click.option("--issuer", default=None, help="发布单位 (default: <township>人民政府)")
@click.option("--address", default=None, help="受理地址 (default: <township>民政办)")
@click.option(
    "--paper",
    type=click.Choice(list(PAPERS)),
    default="A4",
    show_default=True,
    help="A4 portrait, A4 landscape (A4L) or A3 landscape",
)
@click.option("--show-id", is_flag=True, help="add a masked ID column (341623********123X)")
@click.option("--xlsx", type=OutFile(".xlsx"), default=None, help="also write .xlsx")
@click.option(
    "--reprint",
    type=RECORD_ID,
    default=None,
    help="print notice N again exactly as posted (no new notice)",
)
@operator_option
def notice(
    db_path,
    out,
    village,
    category,
    start,
    days,
    backdate_reason,
    hotline,
    issuer,
    address,
    paper,
    show_id,
    xlsx,
    reprint,
    operator,
):
    """Make a public notice (公示) PDF of enrolments awaiting notice, one section per village.

    With no --village/--category: every enrolment awaiting notice.  The notice is
    recorded (which enrolments, the period) and its new enrolments move to 公示.
    """
    from ..models import notice as nt
    from ..models.errors import MzError
    from ..reports.notice_pdf import write_pdf
    from ..reports.notice_xlsx import write_xlsx

    store = open_store_as(db_path, operator)
    pages: list[int] = []
    outputs: list[tuple[str | Path, nt.Writer]] = [
        (out, lambda s, nid, part: pages.append(write_pdf(s, nid, part)))
    ]
    if xlsx:
        outputs.append((xlsx, write_xlsx))
    if reprint is not None:
        nid = reprint
        for path, writer in outputs:
            writer(store, nid, path)
    else:
        d = nt.defaults(store)
        size, land = PAPERS[paper]
        spec = nt.NoticeSpec(
            start=day(start) or dt.date.today(),
            days=days,
            hotline=hotline if hotline is not None else d["hotline"],
            issuer=issuer or "",
            address=address or "",
            show_id=show_id,
            page_size=size,
            landscape=land,
            backdate_reason=backdate_reason,
        )
        # the files are written inside the notice's transaction: a full disk records nothing
        try:
            nid = nt.publish_notice(store, spec, outputs, village=village, category=category)
        except MzError as exc:
            last = store.scalar("SELECT max(id) FROM notices")
            if exc.code == "nothing_to_publicise" and last:
                raise MzError(
                    f"{exc}（已发布的公示可用 --reprint 编号 重新打印，最近一期为{last}）", exc.code
                ) from None
            raise
    n = nt.get_notice(store, nid)
    click.echo(
        f"公示{nid}「{n.title}」{len(n.items)}条，{pages[0]}页，"
        f"公示期{n.start_on}至{n.end_on}: {out}" + (f", {xlsx}" if xlsx else "")
    )


COMMANDS = (notice,)
