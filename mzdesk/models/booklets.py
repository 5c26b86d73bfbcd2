"""Care booklets (关爱簿): one per household, filled from a form template.

The typed parts (causes, needs, help measures, helper ...) are the answers of
the ``care_booklet`` template; the parts the records already know (household,
members, policies received from the enrolments, visit history) are read when
the booklet is shown or printed, so they are never stale.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from .auth import require
from .errors import ValidationError
from .forms import FormLibrary, Template, library, remember_template, template_for, validate_answers
from .registry import StaleRecord
from .store import Store, new_uid, unchanged_on_failure
from .visits import household_members

BOOKLET_TEMPLATE = "care_booklet"


@dataclass
class Booklet:
    household_id: int
    answers: dict = field(default_factory=dict)
    template_id: str = BOOKLET_TEMPLATE
    template_version: int | None = None
    id: int | None = None
    uid: str | None = None
    rev: int = 0
    updated_at: str = ""
    updated_by: str = ""


class Booklets:
    def __init__(self, store: Store, forms: FormLibrary | None = None):
        self.store = store
        self.forms = forms or library()

    def template(self, b: Booklet) -> Template:
        if b.template_version is None:
            return self.forms.latest(b.template_id)
        return template_for(self.store, b.template_id, b.template_version, self.forms)

    def get(self, household_id: int) -> Booklet:
        """The household's booklet, or a new empty one (not yet saved)."""
        r = self.store.one(
            "SELECT * FROM care_booklets WHERE household_id = ? AND status = 'active'",
            (household_id,),
        )
        if r is None:
            return Booklet(household_id)
        return Booklet(
            r["household_id"],
            json.loads(r["answers"]),
            r["template_id"],
            r["template_version"],
            r["id"],
            r["uid"],
            r["rev"],
            r["updated_at"],
            r["updated_by"],
        )

    def save(self, b: Booklet, today: dt.date | None = None) -> Booklet:
        require(self.store, "visit.edit")
        s = self.store
        with unchanged_on_failure(b), s.transaction():
            t = self.template(b)
            clean, problems = validate_answers(
                t, b.answers, household_members(s, b.household_id), today
            )
            if problems:
                raise ValidationError(problems)
            remember_template(s, t)
            b.answers = clean
            data = json.dumps(clean, ensure_ascii=False, sort_keys=True)
            if b.id is None:
                row: dict[str, Any] = {
                    "uid": b.uid or new_uid(),
                    "household_id": b.household_id,
                    "template_id": t.id,
                    "template_version": t.version,
                    "answers": data,
                    **s.stamp(new=True),
                }
                b.id = s.conn.execute(
                    f"INSERT INTO care_booklets ({', '.join(row)}) "
                    f"VALUES ({', '.join('?' * len(row))})",
                    tuple(row.values()),
                ).lastrowid
                b.uid, b.rev = row["uid"], 1
            else:
                stamp = s.stamp(new=False)
                cur = s.conn.execute(
                    "UPDATE care_booklets SET answers = ?, template_version = ?, rev = rev + 1, "
                    "updated_at = ?, updated_by = ? WHERE id = ? AND rev = ?",
                    (data, t.version, stamp["updated_at"], stamp["updated_by"], b.id, b.rev),
                )
                if cur.rowcount != 1:
                    raise StaleRecord("关爱簿已被修改，请关闭后重新打开")
                b.rev += 1
            b.template_version = t.version
        return b
