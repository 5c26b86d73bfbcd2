"""Site keys: protection on disk, passphrase, public-key exchange, and the standard age CLI."""

from __future__ import annotations

import io
import json
import stat
import subprocess
import zipfile

import pytest

from mzdesk.models.errors import MzError
from mzdesk.sync.keys import PublicKey, export_identity, init_keys, key_file, load_keys

from .sites import link, make_site


def test_private_keys_are_0600_and_plain_text_never_holds_them_with_a_passphrase(tmp_path):
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    path = key_file(t.store)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    k = init_keys(t.store, passphrase="山高水长", force=True)
    text = path.read_text()
    assert "AGE-SECRET-KEY" not in text and "plain" not in text
    with pytest.raises(MzError, match="口令"):
        load_keys(t.store)
    with pytest.raises(MzError, match="口令错误"):
        load_keys(t.store, "wrong")
    assert load_keys(t.store, "山高水长").public == k.public
    with pytest.raises(MzError, match="已存在"):
        init_keys(t.store)


def test_public_key_file_round_trip_and_tamper_check(tmp_path):
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    pub = t.keys.public
    assert PublicKey.from_json(pub.to_json()) == pub
    assert len(pub.fingerprint) == 19 and pub.fingerprint.count("-") == 3
    d = json.loads(pub.to_json())
    d["sign_key"] = load_keys(
        make_site(tmp_path / "x", "341623102", "绿水镇", "township").store
    ).public.sign_key
    with pytest.raises(MzError, match="指纹"):
        PublicKey.from_json(json.dumps(d))
    with pytest.raises(MzError, match="不是有效的站点公钥"):
        PublicKey.from_json("{}")


def test_batch_decrypts_with_the_age_cli(tmp_path):
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    link(t, c)
    from mzdesk.models.demo import generate_demo

    generate_demo(t.store, 3, seed=5)
    batch = t.export(c)
    for site in (c, t):  # the destination, and the sender's own recovery copy
        ident = export_identity(site.keys, tmp_path / f"{site.code}.txt")
        assert stat.S_IMODE(ident.stat().st_mode) == 0o600
        out = subprocess.run(
            ["age", "-d", "-i", str(ident), str(batch)], capture_output=True, check=True
        )
        z = zipfile.ZipFile(io.BytesIO(out.stdout))
        manifest = json.loads(z.read("manifest.json"))
        assert manifest["recipient"]["code"] == c.code and manifest["sequence"] == 1
        lines = z.read("records/households.jsonl").decode().splitlines()
        assert len(lines) == manifest["counts"]["households"] == 3
        assert json.loads(lines[0])["op"] == "upsert"


def _zbar(png) -> str:
    from tests.helpers import require_tool

    # QR codes only: with every symbology on, zbar now and then also "finds" a 1-D barcode
    # in the modules and appends its digits (seen once in 400 random keys)
    out = subprocess.run(
        [
            require_tool("zbarimg"),
            "--quiet",
            "--raw",
            "-Sdisable",
            "-Sqrcode.enable",
            "-Sqrcode.binary",
            str(png),
        ],
        capture_output=True,
        check=True,
    )
    return out.stdout.decode("utf-8").rstrip("\n")


def test_public_key_qr_code_reads_back_as_the_public_key_file(tmp_path):
    """The QR code holds the public key file: a scanner gets what `keys trust` reads."""
    from mzdesk.sync.keys import qr_code

    t = make_site(tmp_path, "341623101", "青山镇", "township")
    png = tmp_path / "pub.png"
    qr_code(t.keys.public).save(str(png), kind="png", scale=4, border=4)
    assert PublicKey.from_json(_zbar(png)) == t.keys.public


def test_fingerprint_shows_without_the_passphrase_and_a_swapped_public_half_is_refused(tmp_path):
    from mzdesk.sync.keys import own_public

    t = make_site(tmp_path, "341623101", "青山镇", "township")
    k = init_keys(t.store, passphrase="山高水长", force=True)
    assert own_public(t.store) == k.public  # no passphrase asked
    path = key_file(t.store)
    body = json.loads(path.read_text())
    other = make_site(tmp_path / "x", "341623102", "绿水镇", "township").keys.public
    body["public"]["age_recipient"] = other.age_recipient  # batches would go to another key
    path.write_text(json.dumps(body))
    with pytest.raises(MzError, match="公钥与私钥不符"):
        load_keys(t.store, "山高水长")


@pytest.fixture
def guarded(tmp_path, monkeypatch):
    """A township whose keys have a passphrase, with two accounts (fast scrypt for logins)."""
    from mzdesk.models import auth

    monkeypatch.setattr(auth, "SCRYPT_N", 2**10)
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    t.keys = init_keys(t.store, passphrase="山高水长", force=True)
    auth.add_operator(t.store, "wang", "wang-pass-1", "admin")
    t.store.operator = "wang"
    auth.add_operator(t.store, "li", "li-pass-01", "clerk")
    return t


def _seals(store) -> set[str]:
    return set(json.loads(key_file(store).read_text())["logins"])


def test_an_operators_login_unlocks_the_keys_after_one_use_of_the_passphrase(guarded):
    from mzdesk.models import auth

    t = guarded
    auth.login(t.store, "li", "li-pass-01")
    with pytest.raises(MzError, match="口令保护"):
        load_keys(t.store)  # li has not unlocked them yet
    assert load_keys(t.store, "山高水长").public == t.keys.public
    assert load_keys(t.store).public == t.keys.public  # li's login does it now
    assert _seals(t.store) == {"li"}
    text = key_file(t.store).read_text()
    assert "li-pass-01" not in text and t.keys.identity.__str__() not in text  # sealed, not kept
    auth.login(t.store, "wang", "wang-pass-1")  # another account: its own passphrase once
    with pytest.raises(MzError, match="口令保护"):
        load_keys(t.store)
    t.store.login_password = None  # setup mode, or the CLI without MZDESK_PASSWORD
    t.store.operator = "li"
    with pytest.raises(MzError, match="口令保护"):
        load_keys(t.store)


def test_a_password_change_or_a_lock_drops_the_logins_seal(guarded):
    """The old password of an account (leaked, the reason to change it) no longer opens
    the site keys: its seal leaves the key file at once, not at the next unlock."""
    from mzdesk.models import auth

    t = guarded
    for name, pw in (("li", "li-pass-01"), ("wang", "wang-pass-1")):
        auth.login(t.store, name, pw)
        load_keys(t.store, "山高水长")
    assert _seals(t.store) == {"li", "wang"}
    auth.set_password(t.store, "li", "li-pass-02")  # wang (admin) resets li's password
    assert _seals(t.store) == {"wang"}
    auth.login(t.store, "li", "li-pass-02")
    with pytest.raises(MzError, match="口令保护"):
        load_keys(t.store)
    auth.login(t.store, "wang", "wang-pass-1")
    auth.add_operator(t.store, "zhao", "zhao-pass-1", "admin")
    auth.login(t.store, "zhao", "zhao-pass-1")
    auth.set_locked(t.store, "wang", True)
    assert _seals(t.store) == set()


def test_a_tampered_login_seal_is_refused_like_a_wrong_passphrase(guarded):
    from mzdesk.models import auth

    t = guarded
    auth.login(t.store, "li", "li-pass-01")
    load_keys(t.store, "山高水长")
    body = json.loads(key_file(t.store).read_text())
    seal = body["logins"]["li"]["sealed"]
    seal["ciphertext"] = seal["ciphertext"][:-6] + (
        "AAAAAA" if seal["ciphertext"][-6:] != "AAAAAA" else "BBBBBB"
    )
    key_file(t.store).write_text(json.dumps(body))
    with pytest.raises(MzError, match="口令保护"):  # falls back to asking for the passphrase
        load_keys(t.store)
    assert load_keys(t.store, "山高水长").public == t.keys.public  # and seals it afresh
    assert load_keys(t.store).public == t.keys.public
