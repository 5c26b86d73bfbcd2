"""Demo data for the categories and attributes of issue 21 (``mzdesk demo``).

Each choice draws from its own generator seeded by a record's uid, never from the demo's
main one, so the households and enrolments generated before stay exactly as they were:

* :func:`demo_flag`: some households are 防止返贫监测对象 or 脱贫人口;
* :func:`extra_enrolments`: 特困 for some old people living alone, 低保边缘 and 刚性支出困难
  households, 单人保 for a seriously ill or severely disabled member, 困境儿童 for some
  children, each respecting the categories' exclusions (ages and disability levels read
  from the ID and certificate numbers: the plan runs before validation derives them);
* :func:`dress_demo_support`: every 特困 enrolment gets its 供养方式, with a 供养机构
  (集中) or a 照料人 with a valid ID number and a care agreement (分散).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from ..resources import load_json
from .household import Household, Member
from .ids import check_char, parse_id
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


def _age(m: Member, today: dt.date) -> int:
    """Age from the ID number (the plan runs before validation derives the birth date)."""
    born = m.birth_date or parse_id(m.id_number, today).birth_date
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _severe(m: Member) -> bool:
    """Seriously ill, or disabled at level 1-2 (the level is the certificate's last digit)."""
    return m.health == "大病" or (len(m.disability_cert) == 20 and m.disability_cert[-1] in "12")


def extra_enrolments(h: Household, planned: list[dict], today: dt.date) -> list[dict]:
    """The new categories for one demo household, given what it already has planned."""
    r = random.Random(f"cats:{h.uid}")
    have = {e["category"] for e in planned}
    out: list[dict] = []
    if not have & _PAID_OR_EXCLUDING:
        x = r.random()
        head = h.members[0]
        if len(h.members) == 1 and _age(head, today) >= 60 and x < 0.3:
            level = r.choice(["具备生活自理能力", "部分丧失生活自理能力", "完全丧失生活自理能力"])
            cls = {"具": "全自理", "部": "半自理", "完": "全护理"}[level[0]]
            fen = r.choice([68000, 72000, 95000])
            out.append(dict(category="tekun", cls=cls, member=head, monthly_fen=fen))
        elif x < 0.03:
            out.append(dict(category="dibao_edge", cls="", member=None, monthly_fen=0))
        elif x < 0.045:
            out.append(dict(category="rigid_expense", cls="", member=None, monthly_fen=0))
        elif x < 0.08:
            ill = [m for m in h.members if _severe(m)]
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
        if _age(m, today) < 16 and {"illness", "disability"} & set(h.causes) and r.random() < 0.5:
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
    from .support import write_demo_support  # the enrolment service writes

    write_demo_support(store, updates)
    return len(updates)
