"""An extension and a letter given travel with the enrolment: the county sees the same
clocks as the township."""

from __future__ import annotations

import datetime as dt

from mzdesk.models import clocks, letters
from mzdesk.models import enrolment as enr
from mzdesk.models import enrolment_states as states
from mzdesk.models.registry import Registry
from tests.helpers import household, make_id
from tests.sync.sites import link, make_site


def test_extension_and_letter_reach_the_county(tmp_path, clock):
    clock(dt.date(2026, 11, 20))
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    link(t, c)
    h = Registry(t.store).save(household("红旗村", ("张三丰", "户主", make_id("19500101", 1))))
    a = enr.create(t.store, h.id, "rural_dibao", monthly_fen=76000, applied_on="2026-10-09")
    clocks.extend(t.store, a.id, "需核对外地房产", dt.date(2026, 11, 10))
    h2 = Registry(t.store).save(household("青山村", ("王老五", "户主", make_id("19400101", 5))))
    b = enr.create(t.store, h2.id, "rural_dibao", monthly_fen=50000, applied_on="2026-10-09")
    states.not_accept(t.store, b.id, "户籍不在本镇", dt.date(2026, 11, 16))
    letters.record_letter(t.store, b.id, "not_accept", dt.date(2026, 11, 17))
    c.import_(t.export(c))
    day = dt.date(2026, 11, 20)

    def view(store):
        return [
            (r["name"], r["clock"], r["due_on"], r["extended"])
            for r in clocks.due_items(store, day)
        ]

    assert view(c.store) == view(t.store) == [("张三丰", "decision", "2026-12-10", True)]
    for s in (t, c):
        s.store.close()
