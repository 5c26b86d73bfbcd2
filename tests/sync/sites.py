"""Sites for sync tests: real database files with site, keys and trust, in a few lines.

In a test (``tmp_path`` is pytest's)::

    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    link(t, c)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from mzdesk.models.site import init_site
from mzdesk.models.store import Store
from mzdesk.sync import changelog
from mzdesk.sync.apply import import_batch
from mzdesk.sync.export import export_batch
from mzdesk.sync.keys import SiteKeys, init_keys, trust
from mzdesk.sync.report import ImportReport


@dataclass
class S:
    store: Store
    keys: SiteKeys
    dir: Path

    @property
    def code(self) -> str:
        return self.keys.site.code

    def export(self, to: S, full: bool = False, name: str | None = None) -> Path:
        n = (
            name
            or f"{self.code}-to-{to.code}-{self.store.scalar('SELECT count(*) FROM sync_batches')}.age"
        )
        out = self.dir / n
        export_batch(self.store, self.keys, to.code, out, full=full)
        return out

    def import_(self, path: Path) -> ImportReport:
        return import_batch(self.store, self.keys, Path(path).read_bytes(), Path(path).name)


def make_site(tmp: Path, code: str, name: str, role: str) -> S:
    d = tmp / code
    d.mkdir(parents=True, exist_ok=True)
    store = Store.open(d / "mz.sqlite", operator=f"clerk-{code}")
    init_site(store, code, name, role)
    return S(store, init_keys(store), d)


def link(a: S, b: S, villages: list[str] | None = None) -> None:
    """Trust both ways; ``villages`` are assigned when ``b`` is a field laptop."""
    trust(a.store, b.keys.public, villages)
    trust(b.store, a.keys.public)


def township_county(tmp: Path, households: int, seed: int) -> tuple[S, S]:
    """青山镇 with ``households`` demo households and 县民政局, trusting each other."""
    from mzdesk.models.demo import generate_demo

    t = make_site(tmp, "341623101", "青山镇", "township")
    c = make_site(tmp, "341623", "县民政局", "county")
    generate_demo(t.store, households, seed=seed)
    link(t, c)
    return t, c


def content(store: Store, villages: list[str] | None = None) -> dict[str, dict[str, str]]:
    """Every synced record's content (no stamps), by table and uid; optionally only some villages."""
    from mzdesk.sync.changelog import TableCodec
    from mzdesk.sync.local import Maps, household_column

    maps = Maps(store)
    scope = None
    if villages is not None:
        marks = ",".join("?" * len(villages))
        scope = {
            r[0]
            for r in store.conn.execute(
                f"SELECT id FROM households WHERE village IN ({marks})", villages
            )
        }
    out = {}
    for t in changelog.synced_tables(store.conn):
        codec = TableCodec.load(store.conn, t)
        hh = household_column(store, codec)
        parent = (
            dict(store.conn.execute(f"SELECT id, household_id FROM {hh[1]}"))
            if hh and hh[1]
            else None
        )
        rows = {}
        cur = store.conn.execute(f"SELECT * FROM {t}")
        names = [d[0] for d in cur.description]
        for r in cur:
            row = dict(zip(names, r, strict=True))
            if scope is not None and hh is not None:
                hid = row[hh[0]]
                if parent is not None:
                    hid = parent.get(hid)
                if hid not in scope:
                    continue
            uid, _, body = codec.encode(row, maps.uid_maps(codec))
            rows[uid] = body
        out[t] = rows
    return out


def fingerprint(store: Store) -> str:
    """Hash of every row of every table: equal before and after means nothing changed.
    A batch held after a gap (``sync_held``) is left out: holding it is not a change."""
    h = hashlib.sha256()
    for line in store.conn.iterdump():
        if not line.startswith('INSERT INTO "sync_held"'):
            h.update(line.encode())
    return h.hexdigest()


def edit(store: Store, table: str, uid: str, **fields) -> None:
    """Change fields of one record the way a service does: one transaction, stamped."""
    stamp = store.stamp(new=False)
    fields.update(updated_at=stamp["updated_at"], updated_by=stamp["updated_by"])
    sets = ", ".join(f"{k} = ?" for k in fields)
    with store.transaction():
        cur = store.conn.execute(
            f"UPDATE {table} SET {sets} WHERE uid = ?", (*fields.values(), uid)
        )
        assert cur.rowcount == 1
