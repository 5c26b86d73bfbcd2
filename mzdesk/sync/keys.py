"""Site keys (站点密钥) and the trust list of other sites.

Each installation has an age X25519 identity (encryption) and an Ed25519 key
(signatures).  Both private keys live in one file, ``site-key.json``, written
with mode 0600 beside the database (``<db>.sync/keys/``); with a passphrase
the secrets are sealed with AES-GCM under a scrypt-derived key (cheap enough
to unlock on every batch, unlike age's passphrase mode).  On an encrypted (SQLCipher)
database a key file without a passphrase of its own is sealed with the database's
passphrase (``sealed_with: database``), never left in clear beside it.  The key file also
keeps the keys this site rotated away from (:mod:`mzdesk.sync.key_history`).

Where operator accounts exist, the secrets are also sealed for each operator who has
once unlocked them with the passphrase while logged in (``logins`` in the key file,
under a key derived from that operator's password): from then on that operator's login
unlocks them, with no passphrase to type.  A seal counts only while the account's
password is the one it was made with and the account is not locked; a password change
or a lock drops it from the file at once (:func:`prune_logins`); an unlock with the
passphrase drops stale seals too.

The public half is exchanged as a small JSON file (``site-public.json``) whose
short fingerprint the two clerks compare by phone before trusting it; the same
file is shown as a QR code (:func:`qr_code`).  The key file keeps the public
half in clear, so fingerprint and QR code show without the passphrase.

>>> pub = PublicKey("341623", "县民政局", "county",
...                 "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
...                 "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")  # Ed25519, base64
>>> PublicKey.from_json(pub.to_json()) == pub
True
>>> pub.fingerprint                       # what the two clerks read to each other
'8DC8-9963-830D-6F2C'
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyrage
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ..models.auth import require
from ..models.errors import MzError
from ..models.site import Site, require_site
from ..models.store import Store, now_iso

PUBLIC_FORMAT = "mzdesk-site-public/1"
PRIVATE_FORMAT = "mzdesk-site-key/1"
PASSPHRASE_ENV = "MZDESK_KEY_PASSPHRASE"
_SCRYPT_N = 2**15


class KeyError_(MzError):
    code = "keys"


def sync_dir(store: Store) -> Path:
    """Where this database keeps its keys and held batches: ``<db>.sync/``."""
    if store.path == ":memory:":
        raise KeyError_("内存数据库不能保存密钥", "keys_memory")
    return Path(store.files_stem + ".sync")  # a PostgreSQL site: see models/pg.py


def key_file(store: Store) -> Path:
    return sync_dir(store) / "keys" / "site-key.json"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def fingerprint(age_recipient: str, sign_key_b64: str) -> str:
    """Short fingerprint to read out over the phone: 4 groups of 4 hex digits."""
    h = hashlib.sha256(f"{age_recipient}\n{sign_key_b64}".encode()).hexdigest()[:16].upper()
    return "-".join(h[i : i + 4] for i in range(0, 16, 4))


PUBLIC_FILE_MAX = 64 * 1024  # a public key file is about 400 bytes


@dataclass(frozen=True)
class PublicKey:
    """What another site needs to send to us and check our signatures."""

    code: str
    name: str
    role: str
    age_recipient: str
    sign_key: str  # Ed25519 public key, raw 32 bytes in base64

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.age_recipient, self.sign_key)

    def to_json(self) -> str:
        body = {"format": PUBLIC_FORMAT, **asdict(self), "fingerprint": self.fingerprint}
        return json.dumps(body, ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def read_file(cls, path: str | Path) -> PublicKey:
        """The public key in file ``path``; anything else (a binary, a huge or a non-UTF-8
        file, a folder) is a one-line ``bad_public_key``, read within a bounded size."""
        try:
            with open(path, "rb") as f:
                data = f.read(PUBLIC_FILE_MAX + 1)
        except OSError as exc:
            raise KeyError_(f"无法读取公钥文件：{exc.strerror or exc}", "bad_public_key") from None
        if len(data) > PUBLIC_FILE_MAX:
            limit = f"{PUBLIC_FILE_MAX // 1024} KB"
            raise KeyError_(f"不是有效的站点公钥文件：文件过大（不超过{limit}）", "bad_public_key")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            why = "不是有效的站点公钥文件：不是UTF-8文本（是否选错了文件？）"
            raise KeyError_(why, "bad_public_key") from None
        return cls.from_json(text)

    @classmethod
    def from_json(cls, text: str) -> PublicKey:
        try:
            d = json.loads(text)
            if d.get("format") != PUBLIC_FORMAT:
                raise ValueError("format")
            pk = cls(d["code"], d["name"], d["role"], d["age_recipient"], d["sign_key"])
            pyrage.x25519.Recipient.from_str(pk.age_recipient)
            Ed25519PublicKey.from_public_bytes(unb64(pk.sign_key))
        except (ValueError, KeyError, TypeError, AttributeError, pyrage.RecipientError) as exc:
            raise KeyError_(f"不是有效的站点公钥文件: {exc}", "bad_public_key") from None
        if d.get("fingerprint") and d["fingerprint"] != pk.fingerprint:
            raise KeyError_("公钥文件的指纹与内容不符，文件可能被改动", "bad_public_key")
        return pk

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(unb64(self.sign_key)).verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass
class SiteKeys:
    """This site's private keys, unlocked.  ``previous``: the age identities of the keys
    this site rotated away from (newest first), kept to read what was encrypted to them
    (stored merge bases, held batches, batches still on their way); ``rotations``: the
    certificates, each signed by the key before it, that take a peer from an old key to the
    current one (mzdesk.sync.key_history; they travel in every batch)."""

    site: Site
    identity: pyrage.x25519.Identity
    signer: Ed25519PrivateKey
    previous: list[pyrage.x25519.Identity] = field(default_factory=list)
    rotations: list[dict] = field(default_factory=list)

    @property
    def identities(self) -> list[pyrage.x25519.Identity]:
        """Every identity that may open a batch stored or received here, current first."""
        return [self.identity, *self.previous]

    @property
    def public(self) -> PublicKey:
        raw = self.signer.public_key().public_bytes_raw()
        return PublicKey(
            self.site.code, self.site.name, self.site.role, str(self.identity.to_public()), b64(raw)
        )

    def sign(self, data: bytes) -> bytes:
        return self.signer.sign(data)


def _derive(passphrase: str, salt: bytes, n: int = _SCRYPT_N) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(passphrase.encode())


def _seal(secret: bytes, passphrase: str, aad: bytes) -> dict:
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    sealed = AESGCM(_derive(passphrase, salt)).encrypt(nonce, secret, aad)
    return {
        "kdf": "scrypt",
        "n": _SCRYPT_N,
        "salt": b64(salt),
        "nonce": b64(nonce),
        "ciphertext": b64(sealed),
    }


def _open(s: dict, passphrase: str, aad: bytes) -> dict:
    """The secret sealed in ``s``; ValueError (or a cryptography error) when it does not open."""
    key = _derive(passphrase, unb64(s["salt"]), s["n"])
    return json.loads(AESGCM(key).decrypt(unb64(s["nonce"]), unb64(s["ciphertext"]), aad))


def _login_aad(site: str, name: str) -> bytes:
    return f"{site}\x1flogin\x1f{name}".encode()


def _login_stamps(store: Store) -> dict[str, str]:
    """operator -> a stamp of their current password, for accounts not locked.  A login's
    seal names the stamp it was made under: after a password change it no longer counts."""
    if not store.conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'operators'"
    ).fetchone():
        return {}
    return {
        name: hashlib.sha256(pw_hash.encode()).hexdigest()[:16]
        for name, pw_hash in store.conn.execute(
            "SELECT name, pw_hash FROM operators WHERE locked = 0"
        )
    }


def _current_logins(body: dict, stamps: dict[str, str]) -> dict:
    return {n: w for n, w in body.get("logins", {}).items() if stamps.get(n) == w.get("stamp")}


def prune_logins(store: Store) -> int:
    """Drop the key file's login seals whose account changed password or was locked (or is
    gone); returns how many.  Runs after every such change (``auth.credentials_changed``,
    registered at start by ``mzdesk.hooks``)."""
    try:
        path = key_file(store)
    except KeyError_:
        return 0
    if not path.exists():
        return 0
    body = json.loads(path.read_text(encoding="utf-8"))
    keep = _current_logins(body, _login_stamps(store))
    dropped = len(body.get("logins", {})) - len(keep)
    if dropped:
        body["logins"] = keep
        _write_private(path, body)
    return dropped


def _unlock_by_login(store: Store, body: dict) -> dict | None:
    """The secret, opened with the logged-in operator's password; None when there is no
    current seal for this login."""
    name, password = _login_account(store), store.login_password
    if not password:
        return None
    seal = _current_logins(body, _login_stamps(store)).get(name)
    if seal is None:
        return None
    try:
        return _open(seal["sealed"], password, _login_aad(body["site"], name))
    except Exception:  # noqa: BLE001 - a seal that does not open is as good as none
        return None


def _seal_for_login(store: Store, path: Path, body: dict, secret: dict) -> None:
    """Seal the secret for the logged-in operator too (and drop stale seals)."""
    name, password = _login_account(store), store.login_password
    stamps = _login_stamps(store)
    if not password or name not in stamps:
        return
    logins = _current_logins(body, stamps)
    if name in logins and _unlock_by_login(store, body) is None:
        del logins[name]  # damaged: seal it afresh
    if name in logins and len(logins) == len(body.get("logins", {})):
        return  # sealed for this login already, nothing stale
    if name not in logins:
        logins[name] = {
            "stamp": stamps[name],
            "sealed": _seal(json.dumps(secret).encode(), password, _login_aad(body["site"], name)),
        }
    body["logins"] = logins
    _write_private(path, body)


def _write_private(path: Path, body: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(body, fh, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_key_body(store: Store) -> dict:
    """The key file's content (public halves in clear, the secret sealed or plain)."""
    path = key_file(store)
    if not path.exists():
        raise KeyError_("本站还没有密钥，请先运行 mzdesk keys init", "no_keys")
    return json.loads(path.read_text(encoding="utf-8"))


def write_key_file(store: Store, secret: dict, extra: dict, passphrase: str | None) -> dict:
    """Write the key file with ``secret`` (this site's private keys, with the previous ones)
    and ``extra`` (its clear fields: ``created_at``, ``public``, ``history``, ``rotations``).

    The secret is sealed with ``passphrase``; without one, on an encrypted database, with
    the database's passphrase (``sealed_with: database``): a key in clear beside an
    encrypted database would give away what the passphrase protects (anyone could decrypt
    the stored and held batches).  Only a plain database without a passphrase keeps it in
    clear, as before.  Login seals are made afresh for the logged-in operator only."""
    site = require_site(store)
    path = key_file(store)
    seal_with, database = (passphrase, False) if passphrase else (store.key, bool(store.key))
    body: dict = {"format": PRIVATE_FORMAT, "site": site.code, **extra}
    if seal_with:
        body["sealed"] = _seal(json.dumps(secret).encode(), seal_with, site.code.encode())
        if database:
            body["sealed_with"] = "database"
    else:
        body["plain"] = secret
    _write_private(path, body)
    if seal_with:
        _seal_for_login(store, path, body, secret)
    return body


def _new_secret() -> tuple[pyrage.x25519.Identity, Ed25519PrivateKey, dict, dict]:
    identity = pyrage.x25519.Identity.generate()
    signer = Ed25519PrivateKey.generate()
    secret = {"age_identity": str(identity), "ed25519": b64(signer.private_bytes_raw())}
    public = {
        "age_recipient": str(identity.to_public()),
        "sign_key": b64(signer.public_key().public_bytes_raw()),
    }
    return identity, signer, secret, public


def new_key_pair() -> tuple[SiteKeys, dict, dict]:
    """Fresh key pairs for this site (to be written with :func:`write_key_file`): the keys
    (site filled in by the caller), their secret and their public halves."""
    identity, signer, secret, public = _new_secret()
    return SiteKeys(Site("", "", ""), identity, signer), secret, public


def init_keys(
    store: Store, passphrase: str | None = None, force: bool = False, discard_old: bool = False
) -> SiteKeys:
    """Make this site's key pairs (``keys init``).  Refuses to overwrite without ``force``.

    With ``force`` the keys are **rotated** (:func:`mzdesk.sync.key_history.rotate_keys`):
    the old ones are kept, sealed, to read what was encrypted to them, and the new public
    key reaches the peers in the next batches, vouched for by the old one.  Only
    ``discard_old`` (the passphrase is lost) starts again from nothing: then stored merge
    bases and held batches can no longer be read, and every peer must trust the new key
    by hand."""
    require(store, "keys.manage")
    site = require_site(store)
    path = key_file(store)
    if path.exists() and not force:
        raise KeyError_(
            f"本站密钥已存在: {path}（更换密钥请用 mzdesk keys rotate，对方站点会自动收到新公钥）",
            "keys_exist",
        )
    if path.exists() and not discard_old:
        from .key_history import rotate_keys  # it builds on this module

        return rotate_keys(store, passphrase)
    identity, signer, secret, public = _new_secret()
    # the public half in clear: the fingerprint and QR code show without the passphrase
    write_key_file(store, secret, {"created_at": now_iso(), "public": public}, passphrase)
    keys = SiteKeys(site, identity, signer)
    from .key_history import record_own_key

    record_own_key(store, keys.public)
    return keys


def has_keys(store: Store) -> bool:
    return key_file(store).exists()


def _try_open(sealed: dict, passphrase: str, aad: bytes) -> dict | None:
    """The secret sealed in ``sealed`` under ``passphrase``; None when it does not open (a
    wrong passphrase, or a damaged seal)."""
    try:
        return _open(sealed, passphrase, aad)
    except (InvalidTag, ValueError, KeyError, TypeError):
        return None


def unlock_secret(store: Store, body: dict, passphrase: str | None = None) -> dict:
    """The key file's secret: opened with ``passphrase`` (or $MZDESK_KEY_PASSPHRASE), the
    logged-in operator's seal, or the database's passphrase (an encrypted database).  A key
    file in clear beside an encrypted database (made before ``mzdesk encrypt``) is sealed
    with the database's passphrase here, at its first use."""
    path = key_file(store)
    aad = body["site"].encode()
    if "sealed" not in body:
        secret = body["plain"]
        if store.key:
            extra = {k: v for k, v in body.items() if k not in ("format", "site", "plain")}
            write_key_file(store, secret, extra, None)
        return secret
    given = passphrase or os.environ.get(PASSPHRASE_ENV)
    if given:
        secret = _try_open(body["sealed"], given, aad)
        if secret is None:
            raise KeyError_("口令错误，无法解锁本站私钥", "bad_passphrase")
        # once per login: from now on this operator's login unlocks the keys
        _seal_for_login(store, path, body, secret)
        return secret
    secret = _unlock_by_login(store, body)
    if secret is None and store.key:
        secret = _try_open(body["sealed"], store.key, aad)
    if secret is None:
        raise KeyError_(f"本站私钥有口令保护，请提供口令（或设置 {PASSPHRASE_ENV}）", "passphrase")
    return secret


def keys_of(site: Site, secret: dict, body: dict, path: Path) -> SiteKeys:
    """The unlocked keys of a key file's ``secret``; refused when its clear public half is not
    theirs (a swapped public half would send batches to someone else's key)."""
    keys = SiteKeys(
        site,
        pyrage.x25519.Identity.from_str(secret["age_identity"]),
        Ed25519PrivateKey.from_private_bytes(unb64(secret["ed25519"])),
        [pyrage.x25519.Identity.from_str(p["age_identity"]) for p in secret.get("previous", [])],
        list(body.get("rotations", [])),
    )
    pub = body.get("public")
    if pub and (pub.get("age_recipient"), pub.get("sign_key")) != (
        keys.public.age_recipient,
        keys.public.sign_key,
    ):
        raise KeyError_(f"密钥文件 {path} 中的公钥与私钥不符，文件被改动过", "keys_tampered")
    return keys


def load_keys(store: Store, passphrase: str | None = None) -> SiteKeys:
    """Unlock this site's keys; the passphrase may also come from $MZDESK_KEY_PASSPHRASE, the
    logged-in operator's seal, or (an encrypted database) the database's passphrase."""
    site = require_site(store)
    body = read_key_body(store)
    return keys_of(site, unlock_secret(store, body, passphrase), body, key_file(store))


def own_public(store: Store) -> PublicKey | None:
    """This site's public key without unlocking the private one; None when there are no keys
    (or a passphrase-protected key file from before the public half was kept in clear)."""
    site = require_site(store)
    path = key_file(store)
    if not path.exists():
        return None
    body = json.loads(path.read_text(encoding="utf-8"))
    if "public" in body:
        pub = body["public"]
        return PublicKey(site.code, site.name, site.role, pub["age_recipient"], pub["sign_key"])
    if "plain" in body:
        return load_keys(store).public
    return None


def qr_text(key: PublicKey) -> str:
    """What the QR code of a public key holds: the public key file, compact (``trust`` reads it)."""
    return json.dumps(json.loads(key.to_json()), ensure_ascii=False, separators=(",", ":"))


def qr_code(key: PublicKey):
    """A :mod:`segno` QR code of :func:`qr_text` (error correction M: survives a smudged print)."""
    import segno

    return segno.make(qr_text(key), error="m", micro=False, boost_error=False)


def qr_matrix(key: PublicKey) -> list[list[bool]]:
    """Dark modules of the QR code, row by row, without the quiet zone (for painting)."""
    return [[bool(v) for v in row] for row in qr_code(key).matrix]


def export_identity(keys: SiteKeys, out: Path) -> Path:
    """Write the age identity in the standard format (``age -d -i FILE`` reads it), mode 0600."""
    text = (
        f"# mzdesk site {keys.site.code} {keys.site.name}\n"
        f"# public key: {keys.identity.to_public()}\n{keys.identity}\n"
    )
    out = Path(out)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(out, 0o600)
    return out


def export_site_identity(store: Store, passphrase: str | None, out: Path) -> Path:
    """``keys export-identity``: the site's secret age identity to a file (admin only)."""
    require(store, "keys.manage")
    return export_identity(load_keys(store, passphrase), out)


# -- trust list -----------------------------------------------------------------


@dataclass
class TrustedSite:
    key: PublicKey
    since: str
    revoked_at: str | None
    villages: list[str]

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def trust(store: Store, key: PublicKey, villages: list[str] | None = None) -> TrustedSite:
    """Add (or re-key) a site in the trust list (``keys trust F``)."""
    require(store, "keys.manage")
    own = require_site(store)
    if key.code == own.code:
        raise KeyError_("不能把本站自己加入信任列表", "trust_self")
    with store.transaction():
        old = get_trusted(store, key.code)
        if old and old.key == key and not old.revoked:
            return old
        since = now_iso()
        store.conn.execute(
            "INSERT INTO sync_sites (code, name, role, age_recipient, sign_key, fingerprint, since, "
            "villages) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(code) DO UPDATE SET "
            "name = excluded.name, role = excluded.role, age_recipient = excluded.age_recipient, "
            "sign_key = excluded.sign_key, fingerprint = excluded.fingerprint, "
            "since = excluded.since, revoked_at = NULL",
            (
                key.code,
                key.name,
                key.role,
                key.age_recipient,
                key.sign_key,
                key.fingerprint,
                since,
                json.dumps(villages or [], ensure_ascii=False),
            ),
        )
        if villages is not None:
            set_villages(store, key.code, villages)
        from .key_history import record_trusted_key

        record_trusted_key(store, key, old.key if old else None, since)
    return get_trusted(store, key.code)  # type: ignore[return-value]  # upserted just above


def set_villages(store: Store, code: str, villages: list[str]) -> None:
    """Villages assigned to a field laptop: the township sends only these down."""
    from ..models.text import field_text

    require(store, "sync.assign")
    villages = [field_text(v, "village", "村(社区)", "villages") for v in villages]
    with store.transaction():
        if not get_trusted(store, code):
            raise KeyError_(f"信任列表中没有站点 {code}", "unknown_site")
        store.conn.execute(
            "UPDATE sync_sites SET villages = ? WHERE code = ?",
            (json.dumps(sorted(set(villages)), ensure_ascii=False), code),
        )


def is_superior(store: Store, code: str) -> bool:
    """Whether trusted site ``code`` is above this one (the county for a township, a
    township for its field laptop): revoking it cuts this site off from its superior."""
    from .scope import RANK

    site = get_trusted(store, code)
    own = require_site(store)
    return site is not None and RANK.get(site.key.role, 0) > RANK.get(own.role, 0)


def _login_account(store: Store) -> str:
    """The logged-in account whose login seal opens the keys (not the recorded 经办人)."""
    from ..models.auth import principal_of

    principal = principal_of(store)
    return principal.account if principal is not None else store.operator


def revoke(store: Store, code: str, confirmed: bool = False) -> None:
    """Revoke a site's keys: its batches are refused from now on (``keys revoke SITE``).

    Revoking this site's own superior cuts it off (no decision, no confirmation comes down
    any more): only an admin may, and only ``confirmed`` (the CLI's ``--yes`` or prompt, the
    window's question).  Raises ``auth.PermissionDenied`` for any other role."""
    from ..models import auth

    with store.transaction():
        site = get_trusted(store, code)
        if site and is_superior(store, code) and not site.revoked:
            if not auth.setup_mode(store) and auth.role_of(store) != "admin":
                who = auth.principal_of(store)
                by = f"{who.role_label} {who.account} " if who is not None else ""
                raise auth.PermissionDenied(
                    f"{by}无权吊销上级站点 {code} {site.key.name} 的密钥（只有管理员可以）",
                    "permission_denied",
                )
        require(store, "keys.manage")  # any other site: the key manager (admin)
        if not site:
            raise KeyError_(f"信任列表中没有站点 {code}", "unknown_site")
        if is_superior(store, code) and not site.revoked:
            if not confirmed:
                raise KeyError_(
                    f"站点 {code} {site.key.name} 是本站的上级：吊销后本站再也收不到它的批次"
                    "（审核结果、撤回指令），也无法向它报送。请确认后再吊销（--yes）",
                    "confirm_needed",
                )
        at = now_iso()
        store.conn.execute(
            "UPDATE sync_sites SET revoked_at = ? WHERE code = ? AND revoked_at IS NULL",
            (at, code),
        )
        store.conn.execute(
            "UPDATE sync_key_history SET valid_until = ?, ended_by = 'revoked' "
            "WHERE site = ? AND fingerprint = ? AND valid_until IS NULL",
            (at, code, site.key.fingerprint),
        )


def _trusted(r: dict) -> TrustedSite:
    key = PublicKey(r["code"], r["name"], r["role"], r["age_recipient"], r["sign_key"])
    return TrustedSite(key, r["since"], r["revoked_at"], json.loads(r["villages"] or "[]"))


def get_trusted(store: Store, code: str) -> TrustedSite | None:
    r = store.one("SELECT * FROM sync_sites WHERE code = ?", (code,))
    return _trusted(r) if r else None


def trusted_sites(store: Store) -> list[TrustedSite]:
    return [_trusted(r) for r in store.db.query("SELECT * FROM sync_sites ORDER BY code")]
