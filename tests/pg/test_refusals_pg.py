"""Refusals on a PostgreSQL county: tampered batch, wrong key, replay and gap, unknown
sender — the same tests as tests/sync/test_refusals.py, with this module's ``pair``."""

from __future__ import annotations

import pytest

from mzdesk.models.demo import generate_demo
from tests.sync.sites import link, make_site
from tests.sync.test_refusals import (  # noqa: F401 - collected here with a PG county
    test_bad_signature_from_an_impostor_with_the_same_site_code,
    test_bit_flipped,
    test_replay_and_gap,
    test_revoked_key,
    test_tampered_records_or_manifest_are_bad_signatures,
    test_unknown_sender,
    test_wrong_recipient,
)

from .conftest import pg_site

pytestmark = pytest.mark.pg


@pytest.fixture
def pair(tmp_path, pg_server, pg_template):
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = pg_site(pg_server, "341623", "县民政局", "county", pg_template)
    generate_demo(t.store, 5, seed=2)
    link(t, c)
    yield t, c
    t.store.close()
    c.store.close()
