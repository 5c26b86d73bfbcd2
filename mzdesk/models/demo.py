"""A synthetic demo township (演示数据): realistic shapes, no real people.

Deterministic for a seed: the same seed on the same database state gives the
same households, members, ID numbers and enrolments.  IDs carry the site's
region code and valid check characters; none collides with a number already
in the database.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from ..resources import load_json
from .auth import require
from .cases_demo import dress_demo_cases
from .clocks_demo import dress_demo_clocks
from .household import Household, Member
from .ids import check_char
from .payment_runs_demo import demo_runs
from .progress import Cancel, Progress
from .registry import Registry
from .reviews_demo import add_demo_elderly, dress_demo_reviews
from .site import Site, get_site, init_site, require_site, validate_site
from .store import Store
from .support_demo import demo_flag, dress_demo_support, extra_enrolments

# the demo township (青山镇): the window's first start offers it (app.py), and
# ``mzdesk demo`` on a missing file creates it
DEMO_SITE = ("341623101", "青山镇民政办")
SIZES = (1, 2, 3, 4, 5, 6)
SIZE_WEIGHTS = (20, 25, 25, 18, 8, 4)
DEMO_REFERENCE_DAY = dt.date(2026, 1, 1)  # ages are drawn against a fixed day: reproducible


class DemoGenerator:
    def __init__(self, region: str, seed: int, n_villages: int, taken: set[str]):
        self.rng = random.Random(seed)
        self.region = region
        data = load_json("demo.json")
        self.surnames = data["surnames"]
        # a few surnames are very common: weight them like real rolls
        self.surname_weights = [max(1, 30 - i // 3) for i in range(len(self.surnames))]
        self.male, self.female = data["male_chars"], data["female_chars"]
        self.villages = data["villages"][:n_villages]
        self.groups = data["groups"]
        self.taken = taken

    def uid(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    def id_number(self, born: dt.date, gender: str) -> str:
        r = self.rng
        while True:
            seq = r.randrange(0, 500) * 2 + (1 if gender == "M" else 0)
            body = f"{self.region}{born:%Y%m%d}{seq:03d}"
            number = body + check_char(body)
            if number not in self.taken:
                self.taken.add(number)
                return number

    def name(self, surname: str, gender: str) -> str:
        chars = self.male if gender == "M" else self.female
        given = self.rng.choice(chars)
        if self.rng.random() < 0.7:
            given += self.rng.choice(chars)
        return surname + given

    def birth(self, age: int) -> dt.date:
        return DEMO_REFERENCE_DAY - dt.timedelta(days=age * 365 + self.rng.randrange(0, 365))

    def person(self, surname: str, gender: str, age: int, relation: str) -> Member:
        r = self.rng
        born = self.birth(max(0, age))
        m = Member(name=self.name(surname, gender), relation=relation)
        m.id_number = self.id_number(born, gender)
        health = r.choices(["健康", "慢性病", "大病", "残疾"], (80, 10, 4, 6))[0]
        m.health = health
        if health == "残疾":
            m.disability_cert = m.id_number + str(r.randint(1, 7)) + str(r.randint(1, 4))
        if age < 6:
            m.occupation, m.labour_capacity = "学龄前", "完全丧失"
        elif age < 18:
            m.occupation, m.labour_capacity = "在校生", "完全丧失"
        elif age >= 70 or health in ("大病", "残疾"):
            m.occupation = "无业"
            m.labour_capacity = r.choice(["部分丧失", "完全丧失"])
        else:
            m.occupation = r.choice(["务农", "务工", "灵活就业", "务农"])
            m.labour_capacity = "有"
            m.income = {"wage" if m.occupation != "务农" else "farm": r.randrange(300, 2500) * 100}
        if age >= 60 and r.random() < 0.5:
            m.income["pension"] = r.randrange(120, 300) * 100
        if age < 16 and r.random() < 0.08:
            m.special.append("left_behind_child")
        if age >= 65 and r.random() < 0.1:
            m.special.append("left_behind_elderly")
        return m

    def household(self) -> Household:
        r = self.rng
        size = r.choices(SIZES, SIZE_WEIGHTS)[0]
        surname = r.choices(self.surnames, self.surname_weights)[0]
        head_gender = "M" if r.random() < 0.8 else "F"
        head_age = r.randint(18 if size == 1 else 24, 92)
        members = [self.person(surname, head_gender, head_age, "户主")]
        if size >= 2:
            spouse_gender = "F" if head_gender == "M" else "M"
            if head_age < 80 or r.random() < 0.5:
                spouse_surname = r.choices(self.surnames, self.surname_weights)[0]
                members.append(
                    self.person(spouse_surname, spouse_gender, head_age + r.randint(-4, 4), "配偶")
                )
        while len(members) < size:
            if head_age >= 62 and r.random() < 0.5:
                members.append(self.person(surname, r.choice("MF"), r.randint(3, 17), "孙子女"))
            elif head_age >= 38:
                g = r.choice("MF")
                members.append(
                    self.person(
                        surname, g, r.randint(0, min(head_age - 20, 30)), "子" if g == "M" else "女"
                    )
                )
            elif head_age <= 45:
                members.append(
                    self.person(surname, r.choice("MF"), head_age + r.randint(22, 30), "父母")
                )
            else:
                members.append(
                    self.person(surname, r.choice("MF"), head_age + r.randint(-8, 8), "兄弟姐妹")
                )
        village = r.choice(self.villages)
        h = Household(
            village=village,
            village_group=r.choice(self.groups[: 4 + len(village) % 6]),
            area_type="urban" if village.endswith("社区") else "rural",
            members=members,
            phone=f"1{r.choice('3578')}{r.randrange(0, 10**9):09d}",
            bank_name=r.choice(["农村信用社", "邮储银行", "农业银行"]),
            bank_account=f"622{r.randrange(0, 10**16):016d}",
            housing_tenure=r.choices(["own", "rented", "none"], (85, 10, 5))[0],
            housing_structure=r.choice(["砖混", "砖木", "土木"]),
            dangerous_house=r.random() < 0.04,
        )
        if r.random() < 0.3:
            h.causes = sorted(
                set(
                    r.choices(
                        ["illness", "disability", "schooling", "no_labour", "no_skill", "disaster"],
                        k=r.randint(1, 2),
                    )
                )
            )
        h.uid = self.uid()
        for m in members:
            m.uid = self.uid()
        h.poverty_flag = demo_flag(h.uid)  # its own generator: the rest stays as it was
        return h

    def enrolments(self, h: Household) -> list[dict]:
        """A plausible share of households receive assistance."""
        r = self.rng
        out = []
        head = h.members[0]
        age = head.age_on(DEMO_REFERENCE_DAY) or 0
        if len(h.members) == 1 and age >= 60 and r.random() < 0.3:
            level = r.choice(["全自理", "半自理", "全护理"])
            out.append(
                dict(
                    category="tekun",
                    cls=level,
                    member=head,
                    covered=1,
                    monthly_fen=r.choice([68000, 72000, 95000]),
                )
            )
        elif r.random() < 0.09:
            cat = "urban_dibao" if h.area_type == "urban" else "rural_dibao"
            covered = len(h.members) if r.random() < 0.7 else max(1, len(h.members) - 1)
            out.append(
                dict(
                    category=cat,
                    cls=r.choice(["一类", "二类", "三类"]),
                    member=None,
                    covered=covered,
                    monthly_fen=covered * r.choice([32000, 38000, 45000]),
                )
            )
        for m in h.members:
            m_age = m.age_on(DEMO_REFERENCE_DAY) or 0
            if m_age >= 80:
                out.append(
                    dict(
                        category="elderly",
                        cls="80-89岁" if m_age < 90 else "90-99岁",
                        member=m,
                        covered=1,
                        monthly_fen=5000 if m_age < 90 else 10000,
                    )
                )
            if m.disability_level in (1, 2):
                out.append(
                    dict(category="disability_care", cls="", member=m, covered=1, monthly_fen=9000)
                )
        state_pool = ["active"] * 17 + ["applied", "investigating", "stopped"]
        for e in out:
            e["state"] = r.choice(state_pool)
            e["uid"] = self.uid()
        return out + extra_enrolments(h, out, DEMO_REFERENCE_DAY)  # 低保边缘, 单人保 ...


def generate_demo(
    store: Store,
    households: int,
    seed: int = 1,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> list[int]:
    """Add ``households`` synthetic households (and their enrolments) to the site."""
    if households < 1:
        require_site(store)
        return []
    made, planned = plan_demo(store, households, seed)
    return insert_demo(store, made, planned, progress, cancel)


def plan_demo(
    store: Store, households: int, seed: int = 1
) -> tuple[list[Household], list[list[dict]]]:
    """Generate (in memory, nothing written) the households and enrolments to add."""
    site = require_site(store)
    existing = store.scalar("SELECT count(*) FROM households") or 0
    taken = {
        r[0]
        for r in store.conn.execute("SELECT id_number FROM members WHERE id_number IS NOT NULL")
    }
    n_villages = max(3, min(60, households // 300 + 3))
    gen = DemoGenerator(site.region_code, seed * 1_000_003 + existing, n_villages, taken)
    made = [gen.household() for _ in range(households)]
    planned = [gen.enrolments(h) for h in made]
    return made, planned


def insert_demo(
    store: Store,
    made: list[Household],
    planned: list[list[dict]],
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> list[int]:
    """Write what :func:`plan_demo` generated, in one transaction."""
    require(store, "household.import")
    registry = Registry(store)
    with store.checkpoint_after(), store.transaction():
        ids = registry.bulk_create(
            made, progress, cancel, today=max(dt.date.today(), DEMO_REFERENCE_DAY)
        )
        rows = []
        stamp = store.stamp(new=True)
        for h, enrols in zip(made, planned, strict=True):
            for e in enrols:
                rows.append(
                    (
                        e["uid"],
                        h.id,
                        e["member"].id if e["member"] else None,
                        e["category"],
                        e["cls"],
                        e["state"],
                        e["covered"],
                        e["monthly_fen"],
                        "2025-06-01",
                        "2025-07-01" if e["state"] in ("active", "stopped") else None,
                        "2025-12-31" if e["state"] == "stopped" else None,
                        stamp["created_at"],
                        stamp["updated_at"],
                        stamp["created_by"],
                        stamp["updated_by"],
                    )
                )
        from .enrolment_demo import insert_demo_enrolments  # the enrolment service writes

        insert_demo_enrolments(store, rows)
        add_demo_elderly(store)  # 高龄津贴 for the survival checks (reviews_demo)
        from .enrolment_demo import dress_demo_parts_and_states  # parts, every state

        dress_demo_parts_and_states(store)
        dress_demo_support(store)  # 特困 供养方式, 机构 or 照料人
        dress_demo_reviews(store)  # 复核周期, 年度全面核查 half done, 生存认证 missing
        demo_runs(store)  # a paid 春节一次性生活补贴 (models/payment_runs_demo.py)
        dress_demo_cases(store)  # 临时救助/医疗救助 cases, some 小额先行 待补材料
        dress_demo_clocks(store, ids)  # 延期 and a 告知书 given (models/clocks_demo.py)
    return ids


def validate_demo_site(code: str | None, name: str | None) -> tuple[str, str]:
    """The site a demo is generated for (``--site-code``/``--site-name``; the demo township
    by default), checked before any file is created."""
    code = (code or DEMO_SITE[0]).strip()
    name = (name or (DEMO_SITE[1] if code == DEMO_SITE[0] else "演示乡镇民政办")).strip()
    validate_site(code, name, "township")
    return code, name


def ensure_demo_site(store: Store, code: str | None = None, name: str | None = None) -> Site:
    """The database's site; a database without one (just created by ``mzdesk demo``) gets
    the demo site.  A site given explicitly must be the database's own (``site_exists``)."""
    site = get_site(store)
    if site is not None and code is None and name is None:
        return site
    if site is not None and code is None:
        code = site.code
    code, name = validate_demo_site(code, name)
    if site is not None and site.code == code and name == site.name:
        return site
    return init_site(store, code, name, "township")
