"""Review (issue 25, batches upward) from inside the office: a township's batch replayed
through its county, and a read-only account at the county exporting upward, are refused
and change nothing (the database's dump hash before and after)."""

from __future__ import annotations

import pyrage
import pytest

from mzdesk.models import auth
from mzdesk.models.demo import generate_demo
from mzdesk.sync.batch import BatchRefused, decrypt
from tests.sync.sites import fingerprint, link, make_site


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2**10)
    real = auth.hash_password
    monkeypatch.setattr(auth, "hash_password", lambda pw, n=2**10: real(pw, n))


def _chain(tmp):
    p = make_site(tmp, "34", "省民政厅", "province")
    c = make_site(tmp, "341623", "县民政局", "county")
    t = make_site(tmp, "341623101", "青山镇", "township")
    generate_demo(t.store, 3, seed=11)
    link(t, c)
    link(c, p)
    return p, c, t


def test_a_townships_batch_replayed_through_the_county_is_refused(tmp_path):
    p, c, t = _chain(tmp_path)
    path = t.export(c, full=True)
    c.import_(path)  # the county took it
    data = path.read_bytes()
    # the county can read the township's batch: it re-encrypts it for the province
    plain = decrypt(data, c.keys)
    to_p = pyrage.x25519.Recipient.from_str(p.keys.public.age_recipient)
    forged = tmp_path / "replayed.age"
    forged.write_bytes(pyrage.encrypt(plain, [to_p]))
    before = fingerprint(p.store)
    with pytest.raises(BatchRefused) as e:
        p.import_(forged)
    assert e.value.code == "wrong_recipient"
    assert fingerprint(p.store) == before


def test_a_read_only_account_at_the_county_cannot_export_upward(tmp_path):
    p, c, t = _chain(tmp_path)
    c.import_(t.export(c, full=True))
    auth.add_operator(c.store, "admin", "admin-pass-1", "admin")
    auth.add_operator(c.store, "ro", "readonly-pass-1", "readonly")
    auth.login(c.store, "ro", "readonly-pass-1")
    before = fingerprint(c.store)
    for full in (False, True):
        with pytest.raises(auth.PermissionDenied):
            c.export(p, full=full, name=f"ro-{full}.age")
        assert not (c.dir / f"ro-{full}.age").exists()
    assert fingerprint(c.store) == before
