"""Parts and states travel in sync batches; a batch from an older sender (no parts) still
imports and its amounts are paid as ``base``."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from mzdesk.models import enrolment as enr
from mzdesk.models.components import in_force, set_components
from mzdesk.models.enrolment_states import back_pay_lines, resume, suspend, suspended_in
from mzdesk.models.registry import Registry
from mzdesk.models.site import init_site
from mzdesk.models.stats import registry_stats
from mzdesk.models.store import Store
from mzdesk.sync.keys import PublicKey, key_file, load_keys, trust
from tests.helpers import household, make_id
from tests.sync.sites import link, make_site

GOLDEN = Path(__file__).resolve().parents[1] / "sync" / "golden"


def test_parts_and_suspension_reach_the_county(tmp_path, clock):
    clock(dt.date(2027, 6, 20))
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    link(t, c)
    h = Registry(t.store).save(household("红旗村", ("张三丰", "户主", make_id("19500101", 1))))
    e = enr.create(t.store, h.id, "rural_dibao", monthly_fen=76000)
    t.store.conn.execute("UPDATE enrolments SET state = 'active', start_on = '2027-01-01'")
    set_components(t.store, e.id, {"base": 76000, "classified": 9000}, "2027-03", "重病")
    suspend(t.store, e.id, "2027-04", "人员外出未核实")
    resume(t.store, e.id, "2027-06", "已核实")
    c.import_(t.export(c))
    ce = c.store.scalar("SELECT id FROM enrolments WHERE uid = ?", (enr.get(t.store, e.id).uid,))
    for month in ("2027-02", "2027-03", None):
        assert in_force(c.store, ce, month) == in_force(t.store, e.id, month)
    assert suspended_in(c.store)[ce] == [("2027-04", "2027-05")]
    (line,) = back_pay_lines(c.store, "2027-06")
    assert (line["monthly_fen"], line["months"]) == (170000, ["2027-04", "2027-05"])
    assert line["components_fen"] == {"base": 152000, "classified": 18000}
    assert (
        registry_stats(c.store)["active_enrolments"] == registry_stats(t.store)["active_enrolments"]
    )
    for s in (t, c):
        s.store.close()


def test_an_older_senders_batch_imports_with_its_amounts_as_base(tmp_path):
    version = GOLDEN / "v1"
    store = Store.open(tmp_path / "county.sqlite", operator="golden")
    init_site(store, "341623", "县民政局", "county")
    kf = key_file(store)
    kf.parent.mkdir(parents=True)
    shutil.copy(version / "county-site-key.json", kf)
    public = (version / "township-public.json").read_text(encoding="utf-8")
    trust(store, PublicKey.from_json(public))
    keys = load_keys(store)
    from mzdesk.sync.apply import import_batch

    for path in sorted(version.glob("batch-*.age"), key=lambda p: int(p.stem.split("-")[1])):
        import_batch(store, keys, path.read_bytes(), path.name)
    rows = store.conn.execute(
        "SELECT id, monthly_fen FROM enrolments WHERE status = 'active'"
    ).fetchall()
    assert rows, "the golden batches carry enrolments"
    assert store.scalar("SELECT count(*) FROM enrolment_components") == 0
    for eid, fen in rows:
        parts = in_force(store, eid)
        assert parts["base"] == fen and sum(parts.values()) == fen
    stats = registry_stats(store)["active_enrolments"]
    for entry in stats.values():
        assert entry["components_fen"]["base"] == entry["monthly_fen"]
    json.dumps(stats)  # plain data
    store.close()
