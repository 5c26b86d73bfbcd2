"""Batches upward (county → city/province): where each forwarded record came from.

A county forwards what it accepted to its city or province in its own signed batches
(``mzdesk sync export --to <city/province code>``), in the existing format with two
optional additions that older readers ignore:

* ``records/_origins.jsonl`` (named in the manifest's ``files``, so signed, but not in
  ``counts``): one line per (origin, via) pair, ``{"uid": "<origin>@<via>", "op": "upsert",
  "meta": {}, "row": {"origin": …, "via": …, "tables": {table: [uid, …]}}}``: the township
  that made each household and record of no household in the batch (``origin``) and the
  county that forwarded it (``via``).  A household's records (members, enrolments, events
  …) follow their household.  Records the county made itself have the county as both.
  Optionally ``"names": {code: name}`` for the origin and via (乡镇、县 names): the
  receiver keeps them in ``origin_sites`` for its reports (its trust list holds only its
  counties).
* ``forwarded.audit_checkpoints`` in the manifest: the townships' signed audit checkpoints
  the county received (:mod:`mzdesk.sync.checkpoints`), each with the ``sign_key`` the
  county verified it with and the ``via`` it came through.

The receiver (a city or province: ``site.REGION_ROLES``) checks before anything is applied
that every origin, via and forwarded checkpoint lies inside the sender's region (its
统计用区划代码 is their prefix): a county cannot forward another county's townships, nor
a city another city's counties.  Otherwise the whole batch is refused
(``foreign_origin``) and the database is untouched.  It keeps the origins in
``record_origins`` (local bookkeeping, not synced), and the sender scope
(:mod:`mzdesk.sync.sender_scope`, mode ``region``) refuses a change to a record whose
stored origin lies outside the sender's region.  The same record arriving by two paths
(a county's batch and its city's) is one uid: merged, never duplicated.
"""

from __future__ import annotations

import orjson

from ..models.errors import FieldError
from ..models.origins import site_names
from ..models.site import REGION_ROLES, Site
from ..models.store import Store, now_iso
from ..models.text import field_text
from . import changelog
from .batch import Batch, BatchRefused, parse_lines, read_member, sha256, split_lines, tampered
from .changelog import TableCodec
from .checkpoints import Checkpoint
from .local import chunks, household_column
from .scope import RANK

ORIGINS = "_origins"  # the records file's stem: records/_origins.jsonl
ORIGINS_FILE = f"records/{ORIGINS}.jsonl"
FOREIGN = "foreign_origin"
MAX_FORWARDED = 2000  # forwarded checkpoints in one manifest: ≈ 500 bytes each
PER_SITE = 30  # the newest checkpoints of each forwarded site


def is_upward(own: Site, peer_role: str) -> bool:
    """Whether a batch from ``own`` to a site of ``peer_role`` forwards upward."""
    return peer_role in REGION_ROLES and RANK.get(peer_role, 0) > RANK.get(own.role, 0)


def receives_upward(own: Site, sender_role: str) -> bool:
    """Whether ``own`` takes ``sender_role``'s batches as forwarded from below."""
    return own.role in REGION_ROLES and RANK.get(sender_role, 0) < RANK.get(own.role, 0)


def root_tables(store: Store) -> list[str]:
    """The synced tables whose records carry an origin: households, and the tables of
    records that belong to no household (notices, spot checks, standards …)."""
    out = []
    for t in changelog.synced_tables(store.conn):
        if t == "households" or household_column(store, TableCodec.load(store.conn, t)) is None:
            out.append(t)
    return out


def _in_region(code: str, prefix: str) -> bool:
    return isinstance(code, str) and code.isdigit() and code.startswith(prefix)


# -- the sender (a county, or a city forwarding to its province) ---------------------------
def origin_lines(store: Store, own: Site, sent: dict[str, list[str]]) -> list[bytes]:
    """The lines of ``records/_origins.jsonl`` for the records ``sent`` (table -> uids):
    each record's origin and via, from what this site was told (``record_origins``: it got
    them forwarded), else the township that sent it here (``sync_base``), else this site."""
    townships = [
        r[0]
        for r in store.conn.execute(
            "SELECT code FROM sync_sites WHERE role IN ('township', 'field') ORDER BY code"
        )
    ]
    groups: dict[tuple[str, str], dict[str, list[str]]] = {}
    for t, uids in sent.items():
        if not uids:
            continue
        told: dict[str, tuple[str, str]] = {}
        for chunk in chunks(uids):
            told.update(
                (u, (o, v))
                for u, o, v in store.conn.execute(
                    "SELECT record_uid, origin, via FROM record_origins WHERE tbl = ? "
                    f"AND record_uid IN ({', '.join('?' * len(chunk))})",
                    (t, *chunk),
                )
            )
        sender_of: dict[str, str] = {}
        for code in townships:  # one index range per township: the county has 20-40
            for (u,) in store.conn.execute(
                "SELECT uid FROM sync_base WHERE peer = ? AND tbl = ?", (code, t)
            ):
                sender_of.setdefault(u, code)
        for u in uids:
            key = told.get(u) or ((sender_of[u], own.code) if u in sender_of else None)
            groups.setdefault(key or (own.code, own.code), {}).setdefault(t, []).append(u)
    lines = []
    known = site_names(store)
    for (origin, via), tables in sorted(groups.items()):
        names = {c: known[c] for c in (origin, via) if c in known}
        line = {
            "uid": f"{origin}@{via}",
            "op": "upsert",
            "meta": {},
            "row": {"origin": origin, "via": via, "tables": tables, "names": names},
        }
        lines.append(orjson.dumps(line) + b"\n")
    return lines


def forwarded_checkpoints(store: Store, own: Site, to: str, full: bool) -> list[dict]:
    """The audit checkpoints this site received from below (its townships', or what its
    counties forwarded) since its previous batch to ``to`` (all of them for a full batch),
    the newest :data:`PER_SITE` of each site, each with the key it was verified with.
    Only sites of its own region (its code their prefix): never a checkpoint its city or
    province sent down."""
    since = None
    if not full:
        since = store.scalar(
            "SELECT max(created_at) FROM sync_batches WHERE direction = 'out' AND peer = ?",
            (to,),
        )
    rows = store.conn.execute(
        "SELECT site, n, seq, hash, prev_seq, prev_hash, at, reason, fingerprint, signature, "
        "sign_key, batch_sha256 FROM audit_checkpoints WHERE received_at IS NOT NULL "
        "AND site != ? AND substr(site, 1, ?) = ? AND (? IS NULL OR received_at >= ?) "
        "ORDER BY site, n DESC",
        (own.code, len(own.code), own.code, since, since),
    ).fetchall()
    vias = _vias(store, own)
    out: list[dict] = []
    taken: dict[str, int] = {}
    for r in rows:
        site = r[0]
        if taken.get(site, 0) >= PER_SITE or len(out) >= MAX_FORWARDED:
            continue
        taken[site] = taken.get(site, 0) + 1
        cp = Checkpoint(*r[:10]).as_json()
        out.append({**cp, "sign_key": r[10], "via": vias.get(site, own.code)})
    out.sort(key=lambda d: (d["site"], d["n"]))
    return out


def _vias(store: Store, own: Site) -> dict[str, str]:
    """Site -> the county it came through, for the sites this one was told of."""
    return {
        o: v
        for o, v in store.conn.execute(
            "SELECT DISTINCT origin, via FROM record_origins WHERE origin != via"
        )
        if v != own.code
    }


# -- the receiver (a city or province) -----------------------------------------------------
def _origin_groups(batch: Batch) -> list[dict]:
    """The batch's origin lines as rows (``[]`` without the file): parsed with the records
    reader, or read from the zip a worker process reads the records of."""
    files = batch.manifest.get("files") or {}
    if ORIGINS_FILE not in files:
        return []
    if batch.plain is None:
        recs = batch.records.get(ORIGINS, [])
    else:
        import io
        import zipfile

        data = read_member(zipfile.ZipFile(io.BytesIO(batch.plain)), ORIGINS_FILE)
        if sha256(data) != files[ORIGINS_FILE]["sha256"]:
            raise tampered(ORIGINS_FILE)
        recs = parse_lines(ORIGINS_FILE, split_lines(data))
    return [r.row for r in recs if r.row is not None]


def _refuse_foreign(sender: str, what: str) -> BatchRefused:
    return BatchRefused(
        f"站点 {sender} 的批次含有不属于其辖区的{what}，整批拒绝导入，本站未做任何更改", FOREIGN
    )


def _checked_names(row: dict, origin: str, via: str) -> dict[str, str]:
    """The optional names of a group's origin and via (absent from older counties)."""
    names = row.get("names") or {}
    if not isinstance(names, dict) or not all(
        k in (origin, via) and isinstance(v, str) for k, v in names.items()
    ):
        raise BatchRefused(f"不是有效的同步批次（{ORIGINS_FILE} 格式不符）", "not_a_batch")
    try:
        out = {k: field_text(v, "site_name", "站点名称", "name") for k, v in names.items()}
    except FieldError as exc:
        raise BatchRefused(f"不是有效的同步批次（{exc}）", "not_a_batch") from None
    return {k: v for k, v in out.items() if v}


def _checked_groups(batch: Batch, roots: set[str]) -> list[tuple[str, str, dict, dict]]:
    sender = batch.sender
    out = []
    for row in _origin_groups(batch):
        origin, via, tables = row.get("origin"), row.get("via"), row.get("tables")
        if not (
            isinstance(origin, str)
            and isinstance(via, str)
            and isinstance(tables, dict)
            and all(
                t in roots and isinstance(u, list) and all(isinstance(x, str) for x in u)
                for t, u in tables.items()
            )
        ):
            raise BatchRefused(f"不是有效的同步批次（{ORIGINS_FILE} 格式不符）", "not_a_batch")
        if not (_in_region(origin, sender) and _in_region(via, sender)):
            raise _refuse_foreign(sender, f"记录（来源 {origin}，经 {via}）")
        out.append((origin, via, tables, _checked_names(row, origin, via)))
    return out


def _checked_checkpoints(batch: Batch) -> list[tuple[Checkpoint, str]]:
    value = (batch.manifest.get("forwarded") or {}).get("audit_checkpoints")
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 5 * MAX_FORWARDED:
        raise BatchRefused("不是有效的同步批次（forwarded 格式不符）", "not_a_batch")
    out = []
    for d in value:
        try:
            cp = Checkpoint.from_json(d)
        except ValueError as exc:
            raise BatchRefused(f"不是有效的同步批次（{exc}）", "not_a_batch") from None
        key = d.get("sign_key")
        if not isinstance(key, str) or len(key) > 512:
            raise BatchRefused("不是有效的同步批次（转发的审计锚点缺少公钥）", "not_a_batch")
        if not _in_region(cp.site, batch.sender) or cp.site == batch.sender:
            raise _refuse_foreign(batch.sender, f"审计锚点（站点 {cp.site}）")
        out.append((cp, key))
    return out


def receive(store: Store, own: Site, sender_role: str, batch: Batch) -> int:
    """Before the records are applied (in the import's transaction): check and keep the
    origins and forwarded checkpoints a batch from below carries.  Raises
    :class:`BatchRefused` (``foreign_origin``) when any lies outside the sender's region.
    Returns how many forwarded checkpoints were new here."""
    if not receives_upward(own, sender_role):
        return 0
    if not _in_region(batch.sender, own.code) or batch.sender == own.code:
        raise BatchRefused(
            f"站点 {batch.sender} 不在本站（{own.code}）辖区内，整批拒绝导入，本站未做任何更改",
            FOREIGN,
        )
    if RANK.get(sender_role, 0) < RANK["county"]:
        raise BatchRefused(
            f"本站只接收县级或市级站点转发的批次，站点 {batch.sender} 的批次整批拒绝导入，"
            "本站未做任何更改",
            "sender_role_forbidden",
        )
    groups = _checked_groups(batch, set(root_tables(store)))
    cps = _checked_checkpoints(batch)
    conn, prefix = store.conn, batch.sender
    names: dict[str, str] = {}
    for origin, via, tables, named in groups:
        names.update(named)
        for t, uids in tables.items():
            for chunk in chunks(uids):
                # a record another region holds keeps its origin (the sender scope then
                # refuses the change); one of the sender's region takes what it says now
                conn.executemany(
                    "INSERT INTO record_origins (tbl, record_uid, origin, via) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (tbl, record_uid) DO UPDATE SET "
                    "origin = excluded.origin, via = excluded.via "
                    "WHERE substr(record_origins.origin, 1, ?) = ?",
                    [(t, u, origin, via, len(prefix), prefix) for u in chunk],
                )
    for code, name in sorted(names.items()):  # the sender's region only (checked above)
        conn.execute(
            "INSERT INTO origin_sites (code, name) VALUES (?, ?) "
            "ON CONFLICT (code) DO UPDATE SET name = excluded.name",
            (code, name),
        )
    new = 0
    for cp, key in cps:
        new += conn.execute(
            "INSERT INTO audit_checkpoints (site, n, seq, hash, prev_seq, prev_hash, at, reason, "
            "fingerprint, signature, sign_key, received_at, batch_sha256) VALUES (?, ?, ?, ?, "
            "?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site, n, signature) DO NOTHING",
            (*cp.as_json().values(), key, now_iso(), batch.sha256),
        ).rowcount
    return new


def settle(store: Store, own: Site, sender_role: str, sender: str, batch_id: int) -> None:
    """After the records are applied: a household or record of no household this batch
    brought that named no origin is the sender's own."""
    if not receives_upward(own, sender_role):
        return
    for t in root_tables(store):
        store.conn.execute(
            "INSERT INTO record_origins (tbl, record_uid, origin, via) SELECT tbl, uid, ?, ? "
            "FROM sync_base WHERE peer = ? AND tbl = ? AND batch_id = ? "
            "ON CONFLICT (tbl, record_uid) DO NOTHING",
            (sender, sender, sender, t, batch_id),
        )


def origins(store: Store, table: str, uids: list[str]) -> dict[str, tuple[str, str]]:
    """uid -> (origin, via) of records of ``table`` here (a household's records: their
    household's)."""
    codec = TableCodec.load(store.conn, table)
    hh = household_column(store, codec)
    if table == "households" or hh is None:
        sql = (
            "SELECT o.record_uid, o.origin, o.via FROM record_origins o WHERE o.tbl = ? "
            "AND o.record_uid IN"
        )
        args: tuple = (table,)
    else:
        col, parent = hh
        join = f"JOIN households h ON h.id = t.{col}"
        if parent is not None:
            join = f"JOIN {parent} p ON p.id = t.{col} JOIN households h ON h.id = p.household_id"
        sql = (
            f"SELECT t.uid, o.origin, o.via FROM {table} t {join} JOIN record_origins o "
            "ON o.tbl = 'households' AND o.record_uid = h.uid WHERE t.uid IN"
        )
        args = ()
    out: dict[str, tuple[str, str]] = {}
    for chunk in chunks(uids):
        for u, o, v in store.conn.execute(
            f"{sql} ({', '.join('?' * len(chunk))})", (*args, *chunk)
        ):
            out[u] = (o, v)
    return out
