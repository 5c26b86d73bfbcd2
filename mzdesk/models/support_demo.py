"""Demo data for the categories and attributes of issue 21 (``mzdesk demo``).

Each choice draws from its own generator seeded by a record's uid, never from the demo's
main one, so the households and enrolments generated before stay exactly as they were:

* :func:`demo_flag`: some households are 防止返贫监测对象 or 脱贫人口;
* :func:`extra_enrolments`: 低保边缘 and 刚性支出困难 households, 单人保 for a seriously
  ill or severely disabled member, 困境儿童 for some children, each respecting the
  categories' exclusions;
* :func:`dress_demo_support`: every 特困 enrolment gets its 供养方式, with a 供养机构
  (集中) or a 照料人 with a valid ID number and a care agreement (分散).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from ..resources import load_json
from .household import Household
from .ids import check_char
from .store import Store

INSTITUTIONS = ("青山镇敬老院", "县社会福利中心", "青山镇中心敬老院")
_PAID_OR_EXCLUDING = {"urban_dibao", "rural_dibao", "tekun"}


def demo_flag(uid: str) -> str:
    r = random.Random(f"flag:{uid}")
    x = r.random()
    return "monitored" if x < 0.04 else "lifted" if x < 0.12 else ""


def _uid(r: random.Random) -> str:
    return uuid.UUID(int=r.getrandbits(128), version=4).hex


def _state(r: random.Random) -> str:
    return r.choice(["active"] * 17 + ["applied", "investigating", "stopped"])


def extra_enrolments(h: Household, planned: list[dict], today: dt.date) -> list[dict]:
    """The new categories for one demo household, given what it already has planned."""
    r = random.Random(f"cats:{h.uid}")
    have = {e["category"] for e in planned}
    out: list[dict] = []
    if not have & _PAID_OR_EXCLUDING:
        x = r.random()
        if x < 0.03:
            out.append(dict(category="dibao_edge", cls="", member=None, monthly_fen=0))
        elif x < 0.045:
            out.append(dict(category="rigid_expense", cls="", member=None, monthly_fen=0))
        elif x < 0.08:
            ill = [m for m in h.members if m.health == "大病" or m.disability_level in (1, 2)]
            if ill:
                cat = "urban_dibao" if h.area_type == "urban" else "rural_dibao"
                out.append(
                    dict(
                        category=cat,
                        cls=r.choice(["一类", "二类"]),
                        member=r.choice(ill),
                        monthly_fen=r.choice([45000, 52000]),
                    )
                )
    for m in h.members:
        age = m.age_on(today) or 99
        if age < 16 and ("illness" in h.causes or "disability" in h.causes) and r.random() < 0.5:
            out.append(dict(category="child_in_difficulty", cls="", member=m, monthly_fen=60000))
    for e in out:
        e["covered"] = 1 if e["member"] is not None else len(h.members)
        e["state"] = _state(r)
        e["uid"] = _uid(r)
    return out


def _carer_id(r: random.Random, region: str) -> str:
    born = dt.date(1960, 1, 1) + dt.timedelta(days=r.randrange(0, 25 * 365))
    body = f"{region}{born:%Y%m%d}{r.randrange(600, 1000):03d}"
    return body + check_char(body)


def dress_demo_support(store: Store) -> int:
    """The 供养方式 of demo 特困 enrolments that have none; returns how many were dressed."""
    rows = store.conn.execute(
        "SELECT id, uid FROM enrolments WHERE category = 'tekun' AND support_mode = '' ORDER BY id"
    ).fetchall()
    site = store.scalar("SELECT code FROM site WHERE id = 1") or "341623"
    data = load_json("demo.json")
    updates: list[tuple] = []
    for eid, uid in rows:
        r = random.Random(f"support:{uid}")
        if r.random() < 0.3:
            updates.append(("concentrated", r.choice(INSTITUTIONS), "", "", "", None, None, eid))
            continue
        surname = r.choice(data["surnames"][:40])
        name = surname + r.choice(data["female_chars"]) + r.choice(data["female_chars"])
        start = dt.date(2025, r.randint(1, 12), 1)
        end = dt.date(start.year + 1, start.month, 1) - dt.timedelta(days=1)
        phone = f"1{r.choice('3578')}{r.randrange(0, 10**9):09d}"
        updates.append(
            (
                "dispersed",
                "",
                name,
                _carer_id(r, site[:6]),
                phone,
                start.isoformat(),
                end.isoformat(),
                eid,
            )
        )
    store.conn.executemany(
        "UPDATE enrolments SET support_mode = ?, institution = ?, carer_name = ?, "
        "carer_id_number = ?, carer_phone = ?, care_from = ?, care_to = ? WHERE id = ?",
        updates,
    )
    return len(updates)
