"""Signed checkpoints of the audit chain (审计链签名锚点): what a recomputed chain cannot match.

The audit chain (``models/audit.py``) has no secret, so someone with the file can edit an
entry and recompute every hash after it.  A checkpoint is the chain head (entry ``seq`` and
its ``hash``) signed with the site's Ed25519 key, the key that signs its batches:

* **When.**  At each batch export (in the export's transaction, so the batch carries it)
  and once a day, at the first write of the day when the key opens without a prompt (a
  plain key file, or one sealed for the logged-in operator): :func:`daily`, registered at
  start by ``mzdesk.hooks``.  Nothing new since the last checkpoint: none is made.
* **What is signed** (:meth:`Checkpoint.text`): the site, the checkpoint's number ``n``
  (1, 2, … per site), the head, the previous checkpoint's ``seq`` and the hash the chain
  has *now* at that ``seq``, the time and the reason.  So each checkpoint also attests that
  the chain still holds the previous one: a chain recomputed after checkpoint k makes
  checkpoint k+1 name another hash for k's entry, a fork any holder of k sees.
* **Travel.**  A batch carries the sender's checkpoints made since its previous batch to
  that recipient (manifest field ``audit_checkpoints``, optional: older batches have none;
  inside the signed manifest).  The receiver verifies each with the sender's key (the
  trusted key, or one it verified an earlier checkpoint of that sender with: keys rotate)
  and stores it in ``audit_checkpoints`` with the key.
* **Checks** (:func:`report`): per site, every signature; no fork (one ``n`` or one ``seq``
  never with two hashes, the previous-checkpoint attestations included); monotonic heads
  (a later checkpoint never names an earlier entry); numbers without a gap.  For this
  site's own checkpoints also: the chain still has each signed hash at its ``seq``.
  The county holds no township audit log (its entries carry personal data of another
  site), so it cannot recompute the chain between checkpoints: it checks that the heads
  the township signed form one history.  A township that recomputes its chain must either
  sign a fork (seen at the county) or delete its own checkpoints and start again at 1 (a
  second checkpoint 1: a fork).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..models import audit
from ..models.errors import MzError
from ..models.store import Store
from .keys import KeyError_, PublicKey, SiteKeys, b64, get_trusted, has_keys, load_keys, unb64

SIGNED = "mzdesk-audit-checkpoint/1"
MAX_CARRIED = 100  # checkpoints in one batch: about 400 bytes each in the signed manifest
FIELDS = ("site", "n", "seq", "hash", "prev_seq", "prev_hash", "at", "reason")

MESSAGES = {
    "checkpoint_bad_signature": "审计锚点签名无效",
    "checkpoint_fork": "审计链分叉：同一位置出现两个不同的哈希（审计链被重算过）",
    "checkpoint_rollback": "审计锚点倒退：后签的锚点指向更早的审计记录",
    "checkpoint_gap": "审计锚点编号不连续（本站的锚点被删除过）",
    "checkpoint_mismatch": "本站审计链与已签名的锚点不符（审计链被改动或重算过）",
}


@dataclass
class Checkpoint:
    site: str
    n: int
    seq: int
    hash: str
    prev_seq: int | None
    prev_hash: str | None
    at: str
    reason: str
    fingerprint: str
    signature: str  # base64 Ed25519 over :meth:`text`

    def text(self) -> bytes:
        parts = [SIGNED, self.site, str(self.n), str(self.seq), self.hash]
        parts += ["" if self.prev_seq is None else str(self.prev_seq), self.prev_hash or ""]
        return "\n".join([*parts, self.at, self.reason]).encode("utf-8")

    def as_json(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, d) -> Checkpoint:
        """A checkpoint from a batch manifest; ValueError when malformed."""
        if not isinstance(d, dict):
            raise ValueError("audit checkpoint is not an object")
        ints = ("n", "seq")
        texts = ("site", "hash", "at", "reason", "fingerprint", "signature")
        if not all(isinstance(d.get(k), int) and not isinstance(d.get(k), bool) for k in ints):
            raise ValueError("audit checkpoint numbers are malformed")
        if not all(isinstance(d.get(k), str) and len(d[k]) < 512 for k in texts):
            raise ValueError("audit checkpoint fields are malformed")
        prev_seq, prev_hash = d.get("prev_seq"), d.get("prev_hash")
        if prev_seq is not None and (not isinstance(prev_seq, int) or isinstance(prev_seq, bool)):
            raise ValueError("audit checkpoint prev_seq is malformed")
        if prev_hash is not None and not (isinstance(prev_hash, str) and len(prev_hash) < 512):
            raise ValueError("audit checkpoint prev_hash is malformed")
        return cls(
            d["site"],
            d["n"],
            d["seq"],
            d["hash"],
            prev_seq,
            prev_hash,
            d["at"],
            d["reason"],
            d["fingerprint"],
            d["signature"],
        )


def check_manifest_field(value) -> None:
    """``audit_checkpoints`` of a manifest is well formed (ValueError otherwise)."""
    if value is None:
        return
    if not isinstance(value, list) or len(value) > 10 * MAX_CARRIED:
        raise ValueError("manifest field audit_checkpoints is malformed")
    for d in value:
        Checkpoint.from_json(d)


def _has_table(store: Store) -> bool:
    return (
        store.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_checkpoints'"
        ).fetchone()
        is not None
    )


def _own_code(store: Store) -> str | None:
    return store.scalar("SELECT code FROM site WHERE id = 1")


def _now() -> str:
    return dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")


_COLS = ", ".join(FIELDS) + ", fingerprint, signature"


def _row(r) -> Checkpoint:
    return Checkpoint(*r[:10])


# -- signing (this site) -------------------------------------------------------------------------
def sign_head(store: Store, keys: SiteKeys, reason: str) -> Checkpoint | None:
    """Sign the chain head as this site's next checkpoint (inside a transaction); None when
    the head has not moved since the last one."""
    conn = store.conn
    audit.seal(conn)
    head = conn.execute(
        "SELECT seq, hash FROM audit_log WHERE hash IS NOT NULL ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    seq, digest = head if head else (0, audit.GENESIS)
    site = keys.site.code
    last = conn.execute(
        "SELECT n, seq FROM audit_checkpoints WHERE site = ? AND received_at IS NULL "
        "ORDER BY n DESC LIMIT 1",
        (site,),
    ).fetchone()
    if last is not None and last[1] == seq:
        return None
    prev_seq = last[1] if last else None
    prev_hash = None
    if prev_seq is not None:
        now_there = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (prev_seq,)).fetchone()
        prev_hash = now_there[0] if now_there and now_there[0] else ""
    cp = Checkpoint(
        site,
        (last[0] if last else 0) + 1,
        seq,
        digest,
        prev_seq,
        prev_hash,
        _now(),
        reason,
        keys.public.fingerprint,
        "",
    )
    cp.signature = b64(keys.sign(cp.text()))
    conn.execute(
        f"INSERT INTO audit_checkpoints ({_COLS}, sign_key) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*cp.as_json().values(), keys.public.sign_key),
    )
    return cp


def for_batch(store: Store, keys: SiteKeys, to: str) -> list[dict]:
    """Sign the head (reason ``export``) and list this site's checkpoints made since the
    previous batch to ``to`` (the newest always), for the manifest.  In the export's
    transaction."""
    if not _has_table(store):
        return []
    sign_head(store, keys, "export")
    since = store.scalar(
        "SELECT max(created_at) FROM sync_batches WHERE direction = 'out' AND peer = ?", (to,)
    )
    rows = store.conn.execute(
        f"SELECT {_COLS} FROM audit_checkpoints WHERE site = ? AND received_at IS NULL "
        "AND (? IS NULL OR at >= ? OR n = (SELECT max(n) FROM audit_checkpoints "
        "WHERE site = ? AND received_at IS NULL)) ORDER BY n DESC LIMIT ?",
        (keys.site.code, since, since, keys.site.code, MAX_CARRIED),
    ).fetchall()
    return [_row(r).as_json() for r in reversed(rows)]


def daily(store: Store) -> None:
    """``audit.after_seal``: the day's first write signs the head, when the key opens
    without a prompt (else the next export signs it)."""
    today = dt.date.today().isoformat()
    if store.checkpoint_day == today or store.path == ":memory:":
        return
    if not _has_table(store):
        return  # an older file, being upgraded: the migration's own commit
    site = _own_code(store)
    store.checkpoint_day = today  # one try a day per open store
    if site is None or not has_keys(store):
        return
    last = store.scalar(
        "SELECT max(at) FROM audit_checkpoints WHERE site = ? AND received_at IS NULL", (site,)
    )
    if last is not None and last[:10] == today:
        return
    try:
        keys = load_keys(store)
    except KeyError_:
        return  # a passphrase is needed: the next export signs (it has the key)
    sign_head(store, keys, "daily")


# -- receiving (a peer's) --------------------------------------------------------------------------
def _known_keys(store: Store, site: str) -> dict[str, str]:
    """fingerprint -> sign key: the site's trusted key and those earlier checkpoints of it were
    verified with (a key that rotated still verifies what it signed)."""
    keys = {
        fp: k
        for fp, k in store.conn.execute(
            "SELECT DISTINCT fingerprint, sign_key FROM audit_checkpoints WHERE site = ? "
            "AND sign_key != ''",
            (site,),
        )
    }
    # keys the site rotated away from (sync/key_history.py) still verify what they signed;
    # a revoked key verifies nothing more
    for fp, k in store.conn.execute(
        "SELECT fingerprint, sign_key FROM sync_key_history WHERE site = ? "
        "AND ended_by != 'revoked'",
        (site,),
    ):
        keys.setdefault(fp, k)
    trusted = get_trusted(store, site)
    if trusted is not None:
        keys[trusted.key.fingerprint] = trusted.key.sign_key
    return keys


def _verifies(cp: Checkpoint, sign_key: str) -> bool:
    if not sign_key:
        return False
    key = PublicKey(cp.site, "", "", "", sign_key)
    try:
        return key.verify(unb64(cp.signature), cp.text())
    except (ValueError, TypeError):
        return False


def receive(store: Store, sender: str, value, batch_sha256: str) -> int:
    """Store the checkpoints a batch from ``sender`` carries (inside the import's
    transaction); returns how many were new.  One not signed by ``sender`` is refused."""
    if not value or not _has_table(store):
        return 0
    known = _known_keys(store, sender)
    new = 0
    for d in value:
        cp = Checkpoint.from_json(d)
        if cp.site != sender:
            raise MzError(
                f"批次中的审计锚点属于站点 {cp.site}，不是发送方 {sender}", "checkpoint_foreign"
            )
        sign_key = known.get(cp.fingerprint, "")
        cur = store.conn.execute(
            f"INSERT OR IGNORE INTO audit_checkpoints ({_COLS}, sign_key, received_at, "
            "batch_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*cp.as_json().values(), sign_key, _now(), batch_sha256),
        )
        new += cur.rowcount
    return new


# -- checking ----------------------------------------------------------------------------------------
@dataclass
class SiteReport:
    """The checkpoints held of one site (this one or a sender) and what is wrong with them."""

    site: str
    own: bool
    count: int = 0
    last_n: int | None = None
    last_seq: int | None = None
    last_at: str | None = None
    problems: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {**self.__dict__, "ok": self.ok}

    def add(self, code: str, detail: str) -> None:
        self.problems.append({"code": code, "message": f"{MESSAGES[code]}：{detail}"})

    def summary(self) -> str:
        who = "本站" if self.own else f"站点 {self.site}"
        if not self.count:
            return f"{who}：没有审计锚点"
        state = "全部核验通过" if self.ok else f"{len(self.problems)} 处问题"
        return (
            f"{who}：审计锚点 {self.count} 个，最新第 {self.last_n} 个（审计记录第 {self.last_seq} 条，"
            f"{self.last_at}），{state}"
        )


def _check_site(site: str, rows: list[tuple[Checkpoint, str]], rep: SiteReport) -> None:
    by_n: dict[int, Checkpoint] = {}
    at_seq: dict[int, tuple[str, int]] = {}  # seq -> (hash, the checkpoint n that said so)
    for cp, sign_key in rows:
        if not _verifies(cp, sign_key):
            rep.add("checkpoint_bad_signature", f"第 {cp.n} 个（审计记录第 {cp.seq} 条）")
            continue
        other = by_n.get(cp.n)
        if other is not None and (other.seq, other.hash) != (cp.seq, cp.hash):
            rep.add("checkpoint_fork", f"第 {cp.n} 个锚点有两个不同版本")
        by_n.setdefault(cp.n, cp)
        claims = [(cp.seq, cp.hash)]
        if cp.prev_seq is not None:
            claims.append((cp.prev_seq, cp.prev_hash or ""))
        for seq, digest in claims:
            was = at_seq.get(seq)
            if was is not None and was[0] != digest:
                rep.add(
                    "checkpoint_fork",
                    f"审计记录第 {seq} 条：第 {was[1]} 个与第 {cp.n} 个锚点的哈希不同",
                )
            at_seq.setdefault(seq, (digest, cp.n))
    ordered = sorted(by_n.values(), key=lambda c: c.n)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.seq < a.seq:
            rep.add(
                "checkpoint_rollback",
                f"第 {b.n} 个指向第 {b.seq} 条，早于第 {a.n} 个的第 {a.seq} 条",
            )
        if b.n == a.n + 1 and b.prev_seq is not None and b.prev_seq != a.seq:
            rep.add("checkpoint_fork", f"第 {b.n} 个所述的上一个锚点与第 {a.n} 个不符")
    if rep.own and ordered and [c.n for c in ordered] != list(range(1, ordered[-1].n + 1)):
        rep.add("checkpoint_gap", f"应有 1–{ordered[-1].n}，现有 {len(ordered)} 个")
    if ordered:
        rep.count, rep.last_n = len(ordered), ordered[-1].n
        rep.last_seq, rep.last_at = ordered[-1].seq, ordered[-1].at


def _check_own_chain(store: Store, rows: list[tuple[Checkpoint, str]], rep: SiteReport) -> None:
    """This site's chain still has every hash it signed."""
    for cp, _key in rows:
        if cp.seq == 0:
            continue
        now = store.conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (cp.seq,)).fetchone()
        if now is None:
            rep.add("checkpoint_mismatch", f"第 {cp.n} 个锚点签的审计记录第 {cp.seq} 条已不存在")
        elif now[0] != cp.hash:
            rep.add("checkpoint_mismatch", f"审计记录第 {cp.seq} 条的哈希与第 {cp.n} 个锚点不符")


def report(store: Store) -> list[SiteReport]:
    """Per site (this one first, then each sender), its checkpoints checked."""
    if not _has_table(store):
        return []
    own = _own_code(store)
    sites = [r[0] for r in store.conn.execute("SELECT DISTINCT site FROM audit_checkpoints")]
    if own in sites:
        sites.remove(own)
    out = []
    for site in ([own] if own else []) + sorted(sites):
        rows = [
            (_row(r), r[10])
            for r in store.conn.execute(
                f"SELECT {_COLS}, sign_key FROM audit_checkpoints WHERE site = ? "
                + ("AND received_at IS NULL " if site == own else "")
                + "ORDER BY n, id",
                (site,),
            )
        ]
        rep = SiteReport(site, own=site == own)
        _check_site(site, rows, rep)
        if site == own:
            _check_own_chain(store, rows, rep)
        out.append(rep)
    return out
