"""Keys with history (密钥轮换与历史): rotating this site's keys, and the keys every site
has had, with when each was valid.

**Rotation** (``keys rotate``, and ``keys init --force``).  New key pairs replace the
current ones; the old private keys stay in the key file, sealed like the new ones
(:attr:`SiteKeys.previous`), because what was encrypted to them must stay readable: the
stored batches the merge reads its bases from, the batches held after a gap, and batches
the peers send before they learn the new key.

**How the peers learn the new key.**  The old key signs a *rotation certificate*: the
site, the old key's fingerprint, the new public key and the time.  The certificates (one
per rotation, oldest first) travel in every batch's signed manifest (``key_rotations``,
see docs/batch-format.md).  A peer that trusts the old key and receives a batch signed by
a key it does not know follows the certificates from the key it trusts: each must be
signed by the key before it.  When the chain ends at the batch's signing key, the batch is
accepted and, once applied, the new key replaces the old one in its trust list, and the
change is recorded here.  A new key vouched for by nothing the peer trusts, or by a key
it revoked, is refused (``bad_signature``): a stolen *public* key file, or a forged
certificate, changes nothing.

**History** (table ``sync_key_history``): for this site and for each peer, every key with
``valid_from``/``valid_until``, the key that replaced it and how it ended (``rotation``,
``trust`` when a clerk trusted another key file by hand, ``revoked``).  :func:`key_at`
answers "which key did site X sign with at time T" (or "which key has this fingerprint"),
what verifying an old signature needs.

>>> from mzdesk.sync.keys import SiteKeys, new_key_pair
>>> from mzdesk.models.site import Site
>>> old, _, _ = new_key_pair(); new, _, _ = new_key_pair()
>>> site = Site("341623101", "青山镇", "township")
>>> old, new = SiteKeys(site, old.identity, old.signer), SiteKeys(site, new.identity, new.signer)
>>> cert = rotation_certificate(old, new.public, "2026-12-05 10:00:00")
>>> rotated_key(cert, old.public) == new.public
True
>>> follow_rotations(old.public, new.public.fingerprint, [cert]) == (new.public, [cert])
True
>>> stranger, _, _ = new_key_pair()
>>> rotated_key(cert, SiteKeys(site, stranger.identity, stranger.signer).public) is None
True
"""

from __future__ import annotations

import json
import os

import pyrage
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..models.site import require_site
from ..models.store import Store, now_iso
from .keys import (
    PASSPHRASE_ENV,
    KeyError_,
    PublicKey,
    SiteKeys,
    b64,
    get_trusted,
    key_file,
    keys_of,
    new_key_pair,
    read_key_body,
    unb64,
    unlock_secret,
    write_key_file,
)

ROTATION_FORMAT = "mzdesk-key-rotation/1"
_CERT_FIELDS = ("format", "site", "from", "age_recipient", "sign_key", "fingerprint", "rotated_at")
MAX_ROTATIONS = 64  # certificates a batch may carry (a site rotates a few times in its life)


def _cert_bytes(cert: dict) -> bytes:
    """What the old key signs: the certificate's fields as canonical JSON."""
    body = {k: cert[k] for k in _CERT_FIELDS}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def rotation_certificate(old: SiteKeys, new: PublicKey, at: str) -> dict:
    """The certificate by which ``old`` vouches for ``new`` (same site)."""
    cert = {
        "format": ROTATION_FORMAT,
        "site": old.site.code,
        "from": old.public.fingerprint,
        "age_recipient": new.age_recipient,
        "sign_key": new.sign_key,
        "fingerprint": new.fingerprint,
        "rotated_at": at,
    }
    cert["signature"] = b64(old.sign(_cert_bytes(cert)))
    return cert


def rotated_key(cert: object, old: PublicKey) -> PublicKey | None:
    """The key ``cert`` names, when it is a certificate of ``old``'s site, from ``old``, signed
    by ``old``; None for anything else (malformed, another site, a forged signature)."""
    try:
        if not isinstance(cert, dict) or cert.get("format") != ROTATION_FORMAT:
            return None
        if cert.get("site") != old.code or cert.get("from") != old.fingerprint:
            return None
        new = PublicKey(old.code, old.name, old.role, cert["age_recipient"], cert["sign_key"])
        if not isinstance(new.age_recipient, str) or not isinstance(new.sign_key, str):
            return None
        if new.fingerprint != cert.get("fingerprint"):
            return None
        pyrage.x25519.Recipient.from_str(new.age_recipient)
        Ed25519PublicKey.from_public_bytes(unb64(new.sign_key))
        if not old.verify(unb64(cert["signature"]), _cert_bytes(cert)):
            return None
    except (KeyError, TypeError, ValueError, AttributeError, pyrage.RecipientError):
        return None
    return new


def follow_rotations(
    trusted: PublicKey, fingerprint: str, certs: object
) -> tuple[PublicKey, list[dict]] | None:
    """From the key a peer trusts to the key with ``fingerprint``, through ``certs`` (each
    signed by the key before it): the key reached and the certificates used, or None when no
    chain of valid certificates leads there."""
    if not isinstance(certs, list) or len(certs) > MAX_ROTATIONS:
        return None
    key, used = trusted, []
    left = [c for c in certs if isinstance(c, dict)]
    while key.fingerprint != fingerprint:
        step = next(
            (
                (c, k)
                for c in left
                if c.get("from") == key.fingerprint and (k := rotated_key(c, key)) is not None
            ),
            None,
        )
        if step is None:
            return None
        left.remove(step[0])  # each certificate once: no loop
        key = step[1]
        used.append(step[0])
    return key, used


# -- this site's rotation ---------------------------------------------------------


def rotate_keys(store: Store, passphrase: str | None = None) -> SiteKeys:
    """Replace this site's keys by new ones, keeping the old ones (``keys rotate``).

    The current keys must unlock (``passphrase``, $MZDESK_KEY_PASSPHRASE, the operator's
    login seal or the encrypted database's passphrase).  The new key file is sealed with the
    passphrase given, or else as the old one was protected: a key file sealed with a
    passphrase of its own needs that passphrase typed again (the login seal opens it but
    does not reveal it).  Login seals of other operators are dropped (they hold the old
    secret); each operator unlocks once with the passphrase again."""
    from ..models.auth import require

    require(store, "keys.manage")
    site = require_site(store)
    body = read_key_body(store)
    given = passphrase or store_env_passphrase()
    if "sealed" in body and not given and body.get("sealed_with") != "database":
        raise KeyError_(
            f"更换本站密钥需要输入私钥口令（新密钥用同一口令保护；或设置 {PASSPHRASE_ENV}）",
            "passphrase",
        )
    old_secret = unlock_secret(store, body, passphrase)
    old = keys_of(site, old_secret, body, key_file(store))
    fresh, secret, public = new_key_pair()
    new = SiteKeys(site, fresh.identity, fresh.signer)
    at = now_iso()
    cert = rotation_certificate(old, new.public, at)
    secret["previous"] = [
        {k: old_secret[k] for k in ("age_identity", "ed25519")},
        *old_secret.get("previous", []),
    ]
    retired = {
        "age_recipient": old.public.age_recipient,
        "sign_key": old.public.sign_key,
        "fingerprint": old.public.fingerprint,
        "created_at": body.get("created_at", ""),
        "retired_at": at,
    }
    rotations: list[dict] = [*body.get("rotations", []), cert]
    extra = {
        "created_at": at,
        "public": public,
        "history": [retired, *body.get("history", [])],
        "rotations": rotations,
    }
    with store.transaction():
        _ensure_row(store, old.public, body.get("created_at") or at)
        _end(store, site.code, old.public.fingerprint, at, new.public.fingerprint, "rotation")
        _insert(store, new.public, at)
        # the key file last: when it cannot be written, the history above rolls back
        write_key_file(store, secret, extra, given)
    new.previous = [old.identity, *old.previous]
    new.rotations = rotations
    return new


def store_env_passphrase() -> str | None:
    return os.environ.get(PASSPHRASE_ENV) or None


# -- the history table ------------------------------------------------------------


def _insert(store: Store, key: PublicKey, valid_from: str) -> None:
    store.conn.execute(
        "INSERT INTO sync_key_history (site, fingerprint, age_recipient, sign_key, valid_from) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(site, fingerprint) DO UPDATE SET "
        "valid_until = NULL, replaced_by = NULL, ended_by = ''",
        (key.code, key.fingerprint, key.age_recipient, key.sign_key, valid_from),
    )


def _ensure_row(store: Store, key: PublicKey, valid_from: str) -> None:
    """A row for ``key`` (a key from before this history was kept)."""
    store.conn.execute(
        "INSERT OR IGNORE INTO sync_key_history (site, fingerprint, age_recipient, sign_key, "
        "valid_from) VALUES (?, ?, ?, ?, ?)",
        (key.code, key.fingerprint, key.age_recipient, key.sign_key, valid_from),
    )


def _end(store: Store, site: str, fingerprint: str, at: str, by: str | None, how: str) -> None:
    store.conn.execute(
        "UPDATE sync_key_history SET valid_until = ?, replaced_by = ?, ended_by = ? "
        "WHERE site = ? AND fingerprint = ? AND valid_until IS NULL",
        (at, by, how, site, fingerprint),
    )


def record_own_key(store: Store, key: PublicKey) -> None:
    """This site's new keys (``keys init``): any earlier own key ends here, unreplaced."""
    at = now_iso()
    with store.transaction():
        for (fp,) in store.conn.execute(
            "SELECT fingerprint FROM sync_key_history WHERE site = ? AND valid_until IS NULL "
            "AND fingerprint != ?",
            (key.code, key.fingerprint),
        ).fetchall():
            _end(store, key.code, fp, at, None, "discarded")
        _insert(store, key, at)


def record_trusted_key(store: Store, key: PublicKey, old: PublicKey | None, since: str) -> None:
    """A key trusted by hand (``keys trust``): it replaces the site's earlier key, if any."""
    if old is not None and old.fingerprint != key.fingerprint:
        _ensure_row(store, old, since)
        _end(store, key.code, old.fingerprint, since, key.fingerprint, "trust")
    _insert(store, key, since)


def adopt_rotation(store: Store, new: PublicKey, certs: list[dict]) -> None:
    """A peer's rotation, vouched for by the key this site trusted (``certs``, checked by
    :func:`follow_rotations`): the trust list takes the new key, the history each step.
    Called inside the transaction that applies the batch that carried it."""
    site = get_trusted(store, new.code)
    if site is None:  # the batch was opened against this very entry
        raise KeyError_(f"信任列表中没有站点 {new.code}", "unknown_site")
    key = site.key
    _ensure_row(store, key, site.since)
    for cert in certs:
        _end(store, key.code, key.fingerprint, cert["rotated_at"], cert["fingerprint"], "rotation")
        key = PublicKey(key.code, key.name, key.role, cert["age_recipient"], cert["sign_key"])
        _insert(store, key, cert["rotated_at"])
    store.conn.execute(
        "UPDATE sync_sites SET age_recipient = ?, sign_key = ?, fingerprint = ? WHERE code = ?",
        (new.age_recipient, new.sign_key, new.fingerprint, new.code),
    )


def key_at(
    store: Store, code: str, fingerprint: str | None = None, at: str | None = None
) -> PublicKey | None:
    """The public key of site ``code`` (this site or a peer) with ``fingerprint``, or the
    one valid at time ``at`` (``YYYY-MM-DD HH:MM:SS``, as :func:`now_iso` writes), or the
    current one; None when the history knows none.  A revoked key is returned too: whether
    a signature made with it still counts is the caller's decision (``ended_by``)."""
    sql = "SELECT * FROM sync_key_history WHERE site = ?"
    args: tuple = (code,)
    if fingerprint is not None:
        sql += " AND fingerprint = ?"
        args += (fingerprint,)
    if at is not None:
        sql += " AND valid_from <= ? AND (valid_until IS NULL OR valid_until > ?)"
        args += (at, at)
    elif fingerprint is None:
        sql += " AND valid_until IS NULL"
    r = store.one(sql + " ORDER BY valid_from DESC LIMIT 1", args)
    if r is None:
        return None
    own = require_site(store)
    trusted = get_trusted(store, code)
    name, role = (own.name, own.role) if code == own.code else ("", "")
    if trusted is not None:
        name, role = trusted.key.name, trusted.key.role
    return PublicKey(code, name, role, r["age_recipient"], r["sign_key"])


def history(store: Store, code: str) -> list[dict]:
    """Every key site ``code`` has had, newest first (``keys show --json``)."""
    return [
        dict(r)
        for r in store.db.query(
            "SELECT fingerprint, valid_from, valid_until, replaced_by, ended_by "
            "FROM sync_key_history WHERE site = ? ORDER BY valid_from DESC, valid_until IS NULL DESC",
            (code,),
        )
    ]


def signing_key(
    trusted: PublicKey, signature: dict, manifest: dict
) -> tuple[PublicKey, list[dict]] | None:
    """The key a batch says it is signed with, as far as the trusted key vouches for it: the
    trusted key itself, or a newer key of the same site reached through the manifest's
    ``key_rotations``; None otherwise (then the batch is refused)."""
    fp = signature.get("fingerprint")
    if fp == trusted.fingerprint:
        return trusted, []
    if not isinstance(fp, str):
        return None
    return follow_rotations(trusted, fp, manifest.get("key_rotations"))
