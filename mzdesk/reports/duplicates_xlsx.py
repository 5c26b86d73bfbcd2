"""The cross-site duplicate report (重复享受) as an xlsx workbook: one row per site's claim.

ID numbers are masked unless the caller asks for them in full (``full_ids``), which
needs ``data.export`` as every roster of people's data does.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from ..models.auth import require
from ..models.duplicates import Duplicate
from ..models.ids import mask_id
from ..models.store import Store
from .xlsx_writer import SheetWriter, save_workbook

HEADERS = [
    "序号",
    "身份证号",
    "姓名",
    "来源站点代码",
    "来源站点",
    "转报站点",
    "村(社区)",
    "户主",
    "享受类别",
    "状态",
]


def write_duplicates_xlsx(
    store: Store,
    report: list[Duplicate],
    names: dict[str, str],
    out: str | Path,
    full_ids: bool = False,
    heading: str = "重复享受核查表",
) -> Path:
    """One row per claim, the claims of one ID under one number (序号)."""
    require(store, "data.export")
    wb = Workbook(write_only=True)
    sheet = SheetWriter(
        wb,
        "重复享受",
        HEADERS,
        text_cols=(1, 3),
        heading=heading,
        widths={1: 22, 4: 12, 5: 12, 8: 24},
    )
    for i, d in enumerate(report, start=1):
        shown = d.id_number if full_ids else mask_id(d.id_number)
        for c in d.claims:
            sheet.row(
                [
                    i,
                    shown,
                    c.name,
                    c.site,
                    c.site_name,
                    c.via_name if c.via and c.via != c.site else "",
                    c.village,
                    c.head_name,
                    "、".join(names.get(x, x) for x in c.categories),
                    "导入时暂未采用（同步冲突）" if c.set_aside else "本站在册",
                ]
            )
    save_workbook(wb, out)
    return Path(out)
