"""抽查名单 as an xlsx workbook: the drawn households, the parameters to redraw them.

>>> from mzdesk.models.spotcheck import Sample
>>> rows = sample_rows(Sample(10, 7, "", "", "village", 20, [
...     {"id": 3, "head_name": "张三", "village": "红旗村", "village_group": "一组",
...      "stratum": "红旗村"}]))
>>> rows[0][:3]
[1, 3, '张三']
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from ..models.auth import require
from ..models.errors import MzError
from ..models.spotcheck import Sample
from ..models.store import Store
from .xlsx_writer import SheetWriter, save_workbook

HEADERS = ["序号", "家庭编号", "户主姓名", "村(社区)", "组", "分层", "入户核查情况"]


def sample_rows(sample: Sample, done: dict[int, str] | None = None) -> list[list]:
    """One row per drawn household; ``done``: household id -> state text (saved checks)."""
    done = done or {}
    return [
        [
            i,
            h["id"],
            h["head_name"],
            h["village"],
            h["village_group"],
            h.get("stratum", ""),
            done.get(h["id"], ""),
        ]
        for i, h in enumerate(sample.households, start=1)
    ]


def write_sample_xlsx(
    store: Store, sample: Sample, out: str | Path, done: dict[int, str] | None = None
) -> Path:
    """The sample's list with its title (scope, share and seed) as the heading."""
    require(store, "forms.print")
    if not sample.households:
        raise MzError("抽查名单为空", "nothing_to_print")
    wb = Workbook(write_only=True)
    heading = f"{sample.title}  抽取{len(sample.households)}户 / 共{sample.population}户" + (
        f"  抽查编号{sample.id}" if sample.id else ""
    )
    sheet = SheetWriter(wb, "抽查名单", HEADERS, heading=heading, widths={2: 12, 3: 14, 6: 16})
    for row in sample_rows(sample, done):
        sheet.row(row)
    save_workbook(wb, out)
    return Path(out)


def spot_check_sample(store: Store, spot_check_id: int) -> tuple[Sample, dict[int, str]]:
    """A recorded spot check as a :class:`Sample` and its households' progress."""
    from ..models.categories import categories
    from ..models.site import get_site, whole_area
    from ..models.spotcheck import spot_check_progress

    p = spot_check_progress(store, spot_check_id)
    households = [
        {
            "id": i["household_id"],
            "head_name": i["head_name"],
            "village": i["village"],
            "village_group": i["village_group"],
            "stratum": "",
        }
        for i in p["items"]
    ]
    sample = Sample(
        p["percent"],
        p["seed"],
        p["village"],
        p["category"],
        p["stratify"],
        p["population"],
        households,
        id=p["id"],
        area=whole_area(get_site(store)),
        category_name=categories(store).get(p["category"], {}).get("name", "")
        if p["category"]
        else "",
    )
    done = {i["household_id"]: "已核查" if i["state"] == "done" else "待核查" for i in p["items"]}
    return sample, done
