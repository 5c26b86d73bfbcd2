"""Spot checks (抽查): a reproducible random sample of households to re-visit.

The sample is drawn from active households (optionally one village, and/or
households with an active enrolment in one category), stratified by village
or by category so that every stratum gets its share (rounded up: a small
village still gets one household).  The same seed on the same population
gives the same sample, on any site: households are ordered by their stable
uid before drawing.  A saved spot check is tracked to completion: a visit of
kind ``spot_check`` marks the household's pending item done.

>>> import math; math.ceil(23 * 10 / 100)
3
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field

from .auth import require
from .categories import categories, category_code
from .errors import MzError, NotFound
from .site import get_site, whole_area
from .store import Store, new_uid

STRATA = ("village", "category", "")


@dataclass
class Sample:
    percent: int
    seed: int
    village: str
    category: str
    stratify: str
    population: int
    households: list[dict] = field(default_factory=list)  # id, uid, head_name, village, stratum
    id: int | None = None
    area: str = "全镇"  # the whole site's scope: 全县 on the county's database (site.whole_area)
    category_name: str = ""

    @property
    def title(self) -> str:
        scope = self.village or self.area
        if self.category:
            scope += self.category_name or self.category
        return f"{scope}抽查 {self.percent}%（种子{self.seed}）"


def _population(store: Store, village: str, category: str) -> list[dict]:
    where, params = ["h.status = 'active'"], []
    if village:
        where.append("h.village = ?")
        params.append(village)
    if category:
        where.append(
            "EXISTS (SELECT 1 FROM enrolments e WHERE e.household_id = h.id AND e.category = ? "
            "AND e.state = 'active' AND e.status = 'active')"
        )
        params.append(category)
    rows = list(
        store.db.query(
            "SELECT h.id, h.uid, h.head_name, h.village, h.village_group, "
            "(SELECT min(e.category) FROM enrolments e WHERE e.household_id = h.id "
            " AND e.state = 'active' AND e.status = 'active') AS first_category "
            f"FROM households h WHERE {' AND '.join(where)} ORDER BY h.uid",
            params,
        )
    )
    for r in rows:
        r["category"] = category or r.pop("first_category") or ""
        r.pop("first_category", None)
    return rows


def draw_sample(
    store: Store,
    percent: int = 10,
    seed: int = 0,
    village: str = "",
    category: str = "",
    stratify: str = "village",
) -> Sample:
    """Draw (without saving) ``percent`` % of the households, per stratum."""
    if not 1 <= int(percent) <= 100:
        raise MzError("抽查比例应在1-100之间", "bad_percent")
    if stratify not in STRATA:
        raise MzError(f"分层方式无效: {stratify!r}（village / category）", "bad_stratify")
    if category:  # a code or a name, the township's own categories too
        category = category_code(store, category)
    pop = _population(store, village, category)
    if not pop:
        raise MzError("没有符合条件的在册家庭可供抽查", "empty_population")
    rng = random.Random(f"mzdesk-spot-check:{seed}")
    strata: dict[str, list[dict]] = defaultdict(list)
    for r in pop:
        strata[r[stratify] if stratify else ""].append(r)
    chosen: list[dict] = []
    for key in sorted(strata):
        group = strata[key]
        n = min(len(group), math.ceil(len(group) * percent / 100))
        for r in sorted(
            rng.sample(group, n), key=lambda r: (r["village"], r["village_group"], r["id"])
        ):
            chosen.append({**r, "stratum": key})
    name = categories(store)[category]["name"] if category else ""
    return Sample(
        int(percent),
        int(seed),
        village,
        category,
        stratify,
        len(pop),
        chosen,
        area=whole_area(get_site(store)),
        category_name=name,
    )


def save_sample(store: Store, sample: Sample) -> Sample:
    """Record a drawn sample as a spot check to track (one transaction)."""
    require(store, "spotcheck.edit")
    with store.transaction():
        row = {
            "uid": new_uid(),
            "title": sample.title,
            "village": sample.village,
            "category": sample.category,
            "stratify": sample.stratify,
            "percent": sample.percent,
            "seed": sample.seed,
            "population": sample.population,
            **store.stamp(new=True),
        }
        sample.id = store.conn.execute(
            f"INSERT INTO spot_checks ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        ).lastrowid
        stamp = store.stamp(new=True)
        store.conn.executemany(
            "INSERT INTO spot_check_items (uid, spot_check_id, household_id, seq, created_at, "
            "updated_at, created_by, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    new_uid(),
                    sample.id,
                    h["id"],
                    i,
                    stamp["created_at"],
                    stamp["updated_at"],
                    stamp["created_by"],
                    stamp["updated_by"],
                )
                for i, h in enumerate(sample.households)
            ],
        )
    return sample


def spot_check_progress(store: Store, spot_check_id: int) -> dict:
    """A spot check with its items and how many are done."""
    head = store.one("SELECT * FROM spot_checks WHERE id = ?", (spot_check_id,))
    if head is None:
        raise NotFound(f"没有编号为{spot_check_id}的抽查", "not_found")
    items = list(
        store.db.query(
            "SELECT i.seq, i.household_id, i.state, i.visit_id, h.head_name, h.village, h.village_group "
            "FROM spot_check_items i JOIN households h ON h.id = i.household_id "
            "WHERE i.spot_check_id = ? ORDER BY i.seq",
            (spot_check_id,),
        )
    )
    done = sum(1 for i in items if i["state"] == "done")
    return {**head, "items": items, "done": done, "total": len(items)}


def pending_spot_checks(store: Store) -> list[dict]:
    """Households still to re-visit in open spot checks (for the field view)."""
    return list(
        store.db.query(
            "SELECT i.household_id, s.id AS spot_check_id, s.title, h.head_name, h.village, "
            "h.village_group FROM spot_check_items i JOIN spot_checks s ON s.id = i.spot_check_id "
            "JOIN households h ON h.id = i.household_id WHERE i.state = 'pending' "
            "ORDER BY h.village, h.village_group, h.id"
        )
    )


def list_spot_checks(store: Store) -> list[dict]:
    """Saved spot checks, newest first, with how many households are done."""
    return list(
        store.db.query(
            "SELECT s.id, s.title, s.percent, s.seed, s.population, s.created_at, "
            "count(i.id) AS total, coalesce(sum(i.state = 'done'), 0) AS done "
            "FROM spot_checks s LEFT JOIN spot_check_items i ON i.spot_check_id = s.id "
            "GROUP BY s.id ORDER BY s.id DESC"
        )
    )
