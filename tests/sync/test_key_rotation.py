"""Keys with history (issue 20, item 5): rotating a site's keys keeps what was encrypted to
the old ones readable, the peers learn the new key from a batch the old key vouches for,
a forged announcement is refused, and revoking one's own superior takes an admin and a
confirmation."""

from __future__ import annotations

import gc
import io
import json
import zipfile

import pyrage
import pytest

from mzdesk.cli import main
from mzdesk.models import auth
from mzdesk.models.errors import MzError
from mzdesk.sync import batch as batch_mod
from mzdesk.sync.batch import BatchRefused
from mzdesk.sync.history import held_batches
from mzdesk.sync.key_history import ROTATION_FORMAT, history, key_at, rotate_keys
from mzdesk.sync.keys import b64, get_trusted, init_keys, load_keys, revoke, trust

from .sites import edit, fingerprint, make_site, township_county


@pytest.fixture
def pair(tmp_path):
    t, c = township_county(tmp_path, 4, seed=7)
    yield t, c
    t.store.close()
    c.store.close()


def _uids(store, n: int = 2) -> list[str]:
    return [r[0] for r in store.conn.execute(f"SELECT uid FROM households ORDER BY id LIMIT {n}")]


def _manifest(data: bytes, keys) -> dict:
    return json.loads(
        zipfile.ZipFile(io.BytesIO(batch_mod.decrypt(data, keys))).read("manifest.json")
    )


def test_after_rotation_a_batch_that_needs_a_merge_still_applies(pair):
    """The county rotates; the township, not knowing yet, edits a household the county also
    edited.  The county reads the batch (encrypted to its old key) and the merge base (the
    first batch, stored encrypted to its old key): before, DecryptError for ever."""
    t, c = pair
    c.import_(t.export(c, full=True))
    old_recipient = c.keys.public.age_recipient
    c.keys = init_keys(c.store, force=True)  # `keys init --force` rotates
    assert c.keys.public.age_recipient != old_recipient and len(c.keys.previous) == 1
    h = _uids(t.store, 1)[0]
    edit(t.store, "households", h, phone="13900000001")
    edit(c.store, "households", h, address="县里核实的新地址")
    r = c.import_(t.export(c))
    assert (r.tables["households"].merged, r.tables["households"].conflicts) == (1, 0)
    row = c.store.one("SELECT phone, address FROM households WHERE uid = ?", (h,))
    assert (row["phone"], row["address"]) == ("13900000001", "县里核实的新地址")


def test_a_held_batch_is_read_after_rotation(pair):
    t, c = pair
    c.import_(t.export(c))
    second = t.export(c)  # arrives late
    third = t.export(c)
    with pytest.raises(BatchRefused) as e:
        c.import_(third)
    assert e.value.code == "gap" and held_batches(c.store) == [f"{t.code}-000003.age"]
    c.keys = rotate_keys(c.store)
    r = c.import_(second)
    assert r.also_applied == [3] and held_batches(c.store) == []


def test_peer_accepts_the_new_key_from_a_batch_the_old_key_vouches_for(pair):
    t, c = pair
    c.import_(t.export(c))
    old = c.keys.public
    c.keys = rotate_keys(c.store)
    new = c.keys.public
    path = c.export(t)
    cert = _manifest(path.read_bytes(), t.keys)["key_rotations"]
    assert [(x["format"], x["from"], x["fingerprint"]) for x in cert] == [
        (ROTATION_FORMAT, old.fingerprint, new.fingerprint)
    ]
    r = t.import_(path)
    assert r.rekeyed == new.fingerprint and "已更换密钥" in r.text()
    assert get_trusted(t.store, c.code).key == new
    # the history: the old key valid until the rotation, replaced by the new one
    hist = history(t.store, c.code)
    assert [(h["fingerprint"], h["ended_by"], h["replaced_by"]) for h in hist] == [
        (new.fingerprint, "", None),
        (old.fingerprint, "rotation", new.fingerprint),
    ]
    assert key_at(t.store, c.code, fingerprint=old.fingerprint) == old
    t.store.conn.execute(  # the test runs within a second: give the old key its own past
        "UPDATE sync_key_history SET valid_from = '2026-01-01 08:00:00' WHERE fingerprint = ?",
        (old.fingerprint,),
    )
    assert key_at(t.store, c.code, at="2026-06-01 08:00:00") == old
    assert key_at(t.store, c.code, at="2025-06-01 08:00:00") is None
    assert key_at(t.store, c.code) == new
    # from now on the township encrypts to the new key only: the old identity alone fails
    data = t.export(c).read_bytes()
    assert pyrage.decrypt(data, [c.keys.identity])
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(data, c.keys.previous)
    # and a second rotation chains: the township follows old -> mid -> newest
    c.keys = rotate_keys(c.store)
    c.keys = rotate_keys(c.store)
    before = get_trusted(t.store, c.code).key
    assert before == new
    r = t.import_(c.export(t))
    assert r.rekeyed == c.keys.public.fingerprint
    assert get_trusted(t.store, c.code).key == c.keys.public


def _evil_cert(evil, victim_fp: str, at: str = "2026-12-05 10:00:00") -> dict:
    """A rotation certificate "from" the victim's key, signed by the attacker's."""
    cert = {
        "format": ROTATION_FORMAT,
        "site": evil.code,
        "from": victim_fp,
        "age_recipient": evil.keys.public.age_recipient,
        "sign_key": evil.keys.public.sign_key,
        "fingerprint": evil.keys.public.fingerprint,
        "rotated_at": at,
    }
    body = json.dumps(cert, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    cert["signature"] = b64(evil.keys.sign(body))
    return cert


def test_a_forged_key_announcement_is_refused(pair, tmp_path):
    """Someone with the county's code, its public key file and the township's public key
    builds a validly signed batch (the project's own writer, their own key) announcing
    their key as the county's new one: refused, the trust list unchanged."""
    t, c = pair
    evil = make_site(tmp_path / "evil", c.code, "县民政局", "county")
    trust(evil.store, t.keys.public)
    evil.keys.rotations = [_evil_cert(evil, c.keys.public.fingerprint)]
    forged = evil.export(t)
    before = fingerprint(t.store)
    with pytest.raises(BatchRefused) as e:
        t.import_(forged)
    assert e.value.code == "bad_signature"
    assert fingerprint(t.store) == before and get_trusted(t.store, c.code).key == c.keys.public
    # a genuine certificate with the new key swapped for the attacker's: refused too
    real = rotate_keys(c.store)
    cert = dict(real.rotations[-1])
    for k in ("age_recipient", "sign_key", "fingerprint"):
        cert[k] = evil.keys.rotations[0][k]
    evil.keys.rotations = [cert]
    with pytest.raises(BatchRefused) as e:
        t.import_(evil.export(t))
    assert e.value.code == "bad_signature"
    assert fingerprint(t.store) == before
    # a rotation of a revoked key is no way back in
    c.keys = real
    revoke(t.store, c.code, confirmed=True)
    with pytest.raises(BatchRefused) as e:
        t.import_(c.export(t))
    assert e.value.code == "revoked_key"


def test_rotating_a_passphrase_key_needs_the_passphrase_and_keeps_it(pair, monkeypatch):
    t, c = pair
    monkeypatch.delenv("MZDESK_KEY_PASSPHRASE", raising=False)
    c.keys = init_keys(c.store, "山高水长", force=True)  # the plain key, rotated and sealed
    with pytest.raises(MzError) as e:
        rotate_keys(c.store)
    assert e.value.code == "passphrase"
    with pytest.raises(MzError) as e:
        rotate_keys(c.store, "wrong")
    assert e.value.code == "bad_passphrase"
    k = rotate_keys(c.store, "山高水长")
    kept = load_keys(c.store, "山高水长").identities  # all three kept, sealed
    assert list(map(str, kept)) == list(map(str, k.identities))
    assert len(k.previous) == 2
    # --discard-old (a lost passphrase): fresh keys, nothing kept
    fresh = init_keys(c.store, force=True, discard_old=True)
    assert fresh.previous == [] and fresh.rotations == []


@pytest.fixture
def accounts(pair, monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2**10)
    t, c = pair
    auth.add_operator(t.store, "wang", "wang-pass-1", "admin")
    t.store.operator = "wang"
    auth.add_operator(t.store, "li", "li-pass-01", "field")
    return t, c


def test_a_field_account_cannot_revoke_the_county_and_an_admin_must_confirm(accounts):
    t, c = accounts
    auth.login(t.store, "li", "li-pass-01")
    with pytest.raises(auth.PermissionDenied) as e:
        revoke(t.store, c.code, confirmed=True)
    assert e.value.code == "permission_denied" and "管理员" in e.value.message
    auth.login(t.store, "wang", "wang-pass-1")
    with pytest.raises(MzError) as e:
        revoke(t.store, c.code)
    assert e.value.code == "confirm_needed" and "上级" in e.value.message
    assert not get_trusted(t.store, c.code).revoked
    revoke(t.store, c.code, confirmed=True)
    assert get_trusted(t.store, c.code).revoked
    assert history(t.store, c.code)[0]["ended_by"] == "revoked"


def _run(capsys, *args) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main([*args])
        raise SystemExit(0)
    gc.collect()
    out = capsys.readouterr()
    return exc.value.code or 0, out.out + out.err


def test_cli_rotate_and_revoke_the_superior(accounts, capsys, monkeypatch):
    t, c = accounts
    db = t.store.path
    monkeypatch.delenv("MZDESK_KEY_PASSPHRASE", raising=False)
    monkeypatch.setenv("MZDESK_OPERATOR", "wang")
    monkeypatch.setenv("MZDESK_PASSWORD", "wang-pass-1")
    code, out = _run(capsys, "keys", "init", "--db", db)
    assert code == 1 and "keys rotate" in out
    code, out = _run(capsys, "keys", "rotate", "--db", db)
    assert code == 0 and "已更换本站密钥" in out and "旧密钥已加密保留" in out
    code, out = _run(capsys, "keys", "init", "--force", "--db", db)
    assert code == 0 and "已更换本站密钥" in out
    code, out = _run(capsys, "keys", "show", "--db", db)
    assert code == 0 and out.count("曾用密钥") == 2 and t.keys.public.fingerprint in out
    assert len(load_keys(t.store).previous) == 2
    code, out = _run(capsys, "keys", "revoke", c.code, "--db", db)  # no terminal: not confirmed
    assert code == 1 and "confirm_needed" in out and len(out.strip().splitlines()) == 1
    assert not get_trusted(t.store, c.code).revoked
    monkeypatch.setenv("MZDESK_OPERATOR", "li")
    monkeypatch.setenv("MZDESK_PASSWORD", "li-pass-01")
    code, out = _run(capsys, "keys", "revoke", c.code, "--yes", "--db", db)
    assert code == 1 and not get_trusted(t.store, c.code).revoked
    monkeypatch.setenv("MZDESK_OPERATOR", "wang")
    monkeypatch.setenv("MZDESK_PASSWORD", "wang-pass-1")
    code, out = _run(capsys, "keys", "revoke", c.code, "--yes", "--db", db)
    assert code == 0 and get_trusted(t.store, c.code).revoked
