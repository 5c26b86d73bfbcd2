"""The site identity (本站): which office this database belongs to.

Codes are 统计用区划代码: 2 digits for a province, 4 for a city, 6 for a county, 9 for a
township, 12 for a village (domain.md).  A city (市民政局) or province (省民政厅) site is a
receiver: its counties forward what they accepted upward (docs/scale-upward.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import FieldError, MzError
from .store import Store
from .text import clean, field_text

ROLES = {
    "township": "乡镇",
    "field": "入户核查终端",
    "county": "县民政局",
    "city": "市民政局",
    "province": "省民政厅",
}
# the receivers above the county: they hold what their counties forward (sync/upward.py)
REGION_ROLES = ("city", "province")
# the length of a site's 统计用区划代码 by role (a township or field laptop: 9, or 12 for a
# village-level laptop)
CODE_LENGTHS = {
    "province": (2,),
    "city": (4,),
    "county": (6,),
    "township": (9, 12),
    "field": (9, 12),
}
_LEVEL = {"province": "省级", "city": "市级", "county": "县级"}


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    role: str

    @property
    def region_code(self) -> str:
        """The 6-digit county code, which is also the region part of local ID numbers."""
        return self.code[:6]


def whole_area(site: Site | None) -> str:
    """What "everywhere" is for this site, in titles: ``全县`` for the county, else the
    township's own word (``全镇``, ``全乡``, ``全街道``) as its name says it."""
    if site is not None and site.role in ("county", "city", "province"):
        return {"county": "全县", "city": "全市", "province": "全省"}[site.role]
    name = site.name if site is not None else ""
    # the rightmost word: 东乡镇民政办 is a 镇
    at = {w: name.rfind(w) for w in ("街道", "乡", "镇")}
    word = max(at, key=at.__getitem__)
    return "全" + word if at[word] >= 0 else "全镇"


def validate_site(code: str, name: str, role: str) -> None:
    if not code.strip():
        raise FieldError(
            "site_code",
            "missing_required",
            "请填写区划代码（统计用区划代码：乡镇9位，县6位，市4位，省2位）",
        )
    if not code.isdigit() or len(code) not in (2, 4, 6, 9, 12):
        raise FieldError(
            "site_code", "bad_site_code", f"区划代码应为2、4、6、9或12位数字：{code!r}"
        )
    if not name.strip():
        raise FieldError("site_name", "missing_required", "单位名称必填")
    field_text(name, "site_name", "单位名称", "site_name")  # too long: refused before any file
    if role not in ROLES:
        raise FieldError("role", "bad_role", f"角色应为 {', '.join(ROLES)} 之一: {role!r}")
    if role in _LEVEL and len(code) not in CODE_LENGTHS[role]:
        want = CODE_LENGTHS[role][0]
        raise FieldError("site_code", "bad_site_code", f"{_LEVEL[role]}站点的区划代码应为{want}位")
    if role in ("township", "field") and len(code) not in CODE_LENGTHS[role]:
        raise FieldError("site_code", "bad_site_code", "乡镇站点的区划代码应为9位（或村级12位）")


def get_site(store: Store) -> Site | None:
    r = store.one("SELECT code, name, role FROM site WHERE id = 1")
    return Site(**r) if r else None


def init_site(store: Store, code: str, name: str, role: str = "township") -> Site:
    """Set the site identity once; a database belongs to one site for life."""
    from .auth import require

    code, name = clean(code), field_text(name, "site_name", "单位名称", "site_name")
    validate_site(code, name, role)
    with store.transaction():
        existing = get_site(store)
        if existing:
            if existing == Site(code, name, role):
                return existing
            raise MzError(
                f"数据库已属于站点 {existing.code} {existing.name}，不能改为 {code}", "site_exists"
            )
        require(store, "site.edit")
        row = {"id": 1, "code": code, "name": name, "role": role, **store.stamp(new=True)}
        store.conn.execute(
            f"INSERT INTO site ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )
    return Site(code, name, role)


def require_site(store: Store) -> Site:
    site = get_site(store)
    if site is None:
        raise MzError("数据库尚未初始化站点，请先运行 mzdesk init", "no_site")
    return site
