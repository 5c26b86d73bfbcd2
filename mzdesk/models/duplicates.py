"""Cross-site double receipt (重复享受): ID numbers paid at two or more origin sites.

A county (later a city or province) receives the records of many sites.  The same person
may be registered and paid in two of them: moved without being 注销 where they lived, or
enrolled twice on purpose.  This report lists every ID number with an enrolment paid now
(:data:`mzdesk.models.enrolment_states.PAID_NOW_SQL`, the one rule) at two or more
*origin sites*: the township a household came from (:mod:`mzdesk.models.origins`: at a
city or province the origin its forwarding county named, else the sender it was received
from, or this site for its own), so a province's report spans its counties' townships and
names both the origin township and the county that forwarded each claim (``via``).

An ID is held by one active member only at a receiver (``members_active_id``): the second
site's member arrives, is set aside by the import as a ``duplicate_id`` conflict
(可能重复享受, :mod:`mzdesk.sync.applier`) and its person-level enrolments as orphans.  So a
site's claim on an ID is either

* **here**: an active member holding the ID, covered by an enrolment paid now (a
  person-level one of theirs, or a household-level one of their household while they are
  in assistance and alive), or
* **set aside**: an open ``duplicate_id`` conflict holding the member as its sender sent
  it, paid by a set-aside enrolment of theirs or by a household-level enrolment of their
  household (which was applied);

and a person moved from one site to another (注销 there: the ID freed, the enrolment
stopped) is no duplicate.  ``category`` keeps the claims in that category only.

Measured at a county of 30 townships and 1M persons: ``docs/scale.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from .auth import require
from .categories import categories, category_code
from .enrolment_states import PAID_NOW_SQL, paid_now_params
from .ids import mask_id
from .origins import household_origins, own_site, site_names
from .store import Store

CHUNK = 500  # bound parameters per IN (…)


@dataclass
class Claim:
    """One origin site's hold on an ID: the person there and the categories paid."""

    site: str
    site_name: str
    name: str
    village: str
    head_name: str
    household_uid: str
    categories: list[str] = field(default_factory=list)
    set_aside: bool = False  # received, not applied: an open sync conflict
    conflict_id: int | None = None
    via: str = ""  # the site that forwarded it here (a county, at a city or province)
    via_name: str = ""

    def as_dict(self, names: dict[str, str]) -> dict:
        return {
            "site": self.site,
            "site_name": self.site_name,
            "name": self.name,
            "village": self.village,
            "head_name": self.head_name,
            "categories": self.categories,
            "category_names": [names.get(c, c) for c in self.categories],
            "set_aside": self.set_aside,
            "conflict_id": self.conflict_id,
            "via": self.via,
            "via_name": self.via_name,
        }


@dataclass
class Duplicate:
    """An ID number paid at two or more origin sites."""

    id_number: str
    claims: list[Claim]

    @property
    def name(self) -> str:
        return self.claims[0].name

    @property
    def sites(self) -> list[str]:
        return sorted({c.site for c in self.claims})

    def as_dict(self, names: dict[str, str], full_ids: bool = False) -> dict:
        out = {
            "id_masked": mask_id(self.id_number),
            "name": self.name,
            "sites": self.sites,
            "claims": [c.as_dict(names) for c in self.claims],
        }
        if full_ids:
            out["id_number"] = self.id_number
        return out


def category_names(store: Store) -> dict[str, str]:
    return {code: c.get("name", code) for code, c in categories(store).items()}


def duplicate_report(store: Store, category: str | None = None) -> list[Duplicate]:
    """IDs paid now at two or more origin sites (in ``category`` only, when given: its code
    or its name), by ID."""
    require(store, "records.view")
    if category is not None:
        category = category_code(store, category)  # a code or a name (农村低保)
    aside = _set_aside_claims(store)
    ids = {idn for idn, _ in aside}
    ids |= {
        r[0]
        for r in store.conn.execute(  # two active holders here: the unique index forbids it
            "SELECT id_number FROM members WHERE status = 'active' AND id_number IS NOT NULL "
            "GROUP BY id_number HAVING count(*) > 1"
        )
    }
    claims = [*aside, *_claims_here(store, sorted(ids))]
    origins = household_origins(store, {c.household_uid for _, c in claims})
    sites = site_names(store)
    by_id: dict[str, dict[tuple[str, bool, str], Claim]] = {}
    for idn, c in claims:
        if category is not None:
            c.categories = [x for x in c.categories if x == category]
        if not c.categories:
            continue
        c.site, c.via = origins.get(c.household_uid, (c.site, c.site))
        c.site_name = sites.get(c.site, c.site)
        c.via_name = sites.get(c.via, c.via)
        key = (c.household_uid, c.set_aside, c.site)
        have = by_id.setdefault(idn, {}).get(key)
        if have is None:
            by_id[idn][key] = c
        else:
            have.categories = sorted(set(have.categories) | set(c.categories))
    out = []
    for idn, held in sorted(by_id.items()):
        cs = sorted(held.values(), key=lambda c: (c.set_aside, c.site, c.household_uid))
        if len({c.site for c in cs}) >= 2:
            out.append(Duplicate(idn, cs))
    return out


def _set_aside_claims(store: Store) -> list[tuple[str, Claim]]:
    """Members set aside as ``duplicate_id`` (open) with what pays them: their set-aside
    enrolments, and the household-level enrolments of their household here."""
    members = []
    for cid, peer, uid, remote in store.conn.execute(
        "SELECT id, peer, uid, remote FROM sync_conflicts WHERE tbl = 'members' "
        "AND kind = 'duplicate_id' AND state = 'open' ORDER BY id"
    ):
        row = (json.loads(remote).get("row") or {}) if remote else {}
        if row.get("id_number") and row.get("status", "active") == "active":
            members.append((cid, peer, uid, row))
    if not members:
        return []
    uids = [m[2] for m in members]
    paid = _set_aside_enrolments(store, uids)
    hh = _household_paid(store, {str(m[3].get("household_uid")) for m in members})
    out = []
    for cid, peer, uid, row in members:
        cats = set(paid.get(uid, ()))
        h = hh.get(str(row.get("household_uid")))
        if h and row.get("in_assistance", 1) and not row.get("deceased_on"):
            cats |= set(h[2])
        village, head = (h[0], h[1]) if h else ("", "")
        claim = Claim(
            peer,
            peer,
            str(row.get("name") or ""),
            village,
            head,
            str(row.get("household_uid")),
            sorted(cats),
            set_aside=True,
            conflict_id=cid,
        )
        out.append((str(row["id_number"]), claim))
    return out


def _set_aside_enrolments(store: Store, member_uids: list[str]) -> dict[str, list[str]]:
    """member uid -> categories of the set-aside (open conflict) enrolments of theirs that
    are paid now by the one rule (read from the record as sent; a 渐退期 whose last month
    is in its set-aside events does not count)."""
    out: dict[str, list[str]] = {}
    for chunk in _chunks(member_uids):
        names = ", ".join(f":u{i}" for i in range(len(chunk)))
        params = {**paid_now_params(), **{f"u{i}": u for i, u in enumerate(chunk)}}
        for muid, cat in store.conn.execute(
            "SELECT e.member_uid, e.category FROM (SELECT CAST(NULL AS INTEGER) AS id, "
            "json_extract(remote, '$.row.member_uid') AS member_uid, "
            "json_extract(remote, '$.row.category') AS category, "
            "json_extract(remote, '$.row.state') AS state, "
            "coalesce(json_extract(remote, '$.row.status'), 'active') AS status "
            "FROM sync_conflicts WHERE tbl = 'enrolments' AND state = 'open') e "
            f"WHERE e.member_uid IN ({names}) AND e.status = 'active' AND {PAID_NOW_SQL}",
            params,
        ):
            out.setdefault(muid, []).append(cat)
    return out


def _household_paid(store: Store, uids: Iterable[str]) -> dict[str, tuple[str, str, list[str]]]:
    """household uid -> (village, head, categories of its household-level enrolments paid now)."""
    out: dict[str, tuple[str, str, list[str]]] = {}
    for chunk in _chunks(sorted(uids)):
        names = ", ".join(f":u{i}" for i in range(len(chunk)))
        params = {**paid_now_params(), **{f"u{i}": u for i, u in enumerate(chunk)}}
        for uid, village, head, cat in store.conn.execute(
            "SELECT h.uid, h.village, h.head_name, e.category FROM households h "
            "LEFT JOIN enrolments e ON e.household_id = h.id AND e.member_id IS NULL "
            f"AND e.status = 'active' AND {PAID_NOW_SQL} "
            f"WHERE h.uid IN ({names}) AND +h.status = 'active'",  # by uid, not by status
            params,
        ):
            cats = out.setdefault(uid, (village, head, []))[2]
            if cat:
                cats.append(cat)
    return out


def _claims_here(store: Store, ids: list[str]) -> list[tuple[str, Claim]]:
    """The active members here holding ``ids``, with the categories paid to them now."""
    out = []
    own = own_site(store)
    for chunk in _chunks(ids):
        names = ", ".join(f":i{i}" for i in range(len(chunk)))
        params = {**paid_now_params(), **{f"i{i}": v for i, v in enumerate(chunk)}}
        rows = store.conn.execute(
            "SELECT m.id_number, m.name, h.uid, h.village, h.head_name, "
            "group_concat(DISTINCT e.category) FROM members m "  # driven from the IDs: with
            # many of them SQLite would rather walk every active household (0.9 s at 1M)
            "CROSS JOIN households h ON h.id = m.household_id AND h.status = 'active' "
            "LEFT JOIN enrolments e ON e.household_id = h.id AND e.status = 'active' "
            f"AND {PAID_NOW_SQL} AND (e.member_id = m.id OR (e.member_id IS NULL "
            "AND m.in_assistance = 1 AND m.deceased_on IS NULL)) "
            f"WHERE m.status = 'active' AND m.id_number IN ({names}) "
            "GROUP BY m.id, h.id ORDER BY m.id",
            params,
        ).fetchall()
        for idn, name, huid, village, head, cats in rows:
            claim = Claim(
                own, own, name, village, head, huid, sorted(set((cats or "").split(",")) - {""})
            )
            out.append((idn, claim))
    return out


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]
