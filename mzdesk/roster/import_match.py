"""Matching a roster against the registry (花名册与已登记家庭的比对).

After every sheet is read: IDs repeated in the file, IDs already active in
another household, and for each household of the file the registered one it is
(a re-import: by the head's valid ID, else by name and village with evidence),
or a blocking ``probable_duplicate`` when it may be one but cannot be told.
Reads the database, writes nothing.
"""

from __future__ import annotations

from collections.abc import Hashable

from ..models.enrolment import categories
from ..models.enrolment_import import live_enrolment, refused_imports
from ..models.enrolment_rules import Row
from ..models.household import HEAD, Household, Member
from ..models.ids import ids_may_match, normalise_id
from ..models.registry import Registry
from ..models.store import Store
from .import_plan import (
    HOUSEHOLD_TEXT,
    FileHousehold,
    Problem,
    RosterPlan,
    id_column,
    layout_problem,
)
from .reader import check_workbook, formula_cells


def new_members(db: Household, h: Household) -> list[Member]:
    """Members of ``h`` not yet in ``db``.  Where either side's ID is 待核实 the ID cannot
    tell, so a member of the same name in this household is the same person."""
    known_ids = {m.id_number for m in db.members if not m.id_pending}
    pending_names = {m.name for m in db.members if m.id_pending}
    all_names = {m.name for m in db.members}
    return [m for m in h.members if not _known(m, known_ids, pending_names, all_names)]


def _known(m: Member, known_ids: set, pending_names: set, all_names: set) -> bool:
    if m.id_pending:
        return m.name in all_names
    return m.id_number in known_ids or m.name in pending_names


def changed_fields(db: Household, h: Household) -> dict:
    """The household cells the file fills in and the registry holds otherwise."""
    return {
        n: getattr(h, n)
        for n in HOUSEHOLD_TEXT
        if getattr(h, n) and getattr(h, n) != getattr(db, n)
    }


def enrolment_changed(existing: dict | None, fh: FileHousehold) -> bool:
    """No live enrolment, or one whose 档次/保障人口/月保障金 differ from the file's."""
    return existing is None or (
        existing["class"],
        existing["covered"],
        existing["monthly_fen"],
    ) != (
        fh.cls,
        fh.covered_count(),
        fh.monthly_fen,
    )


def compare(store: Store, fh: FileHousehold, household_id: int) -> str:
    """'unchanged' or 'update' for ``fh``, which is registered household ``household_id``."""
    db = Registry(store).get(household_id)
    h = fh.household
    if changed_fields(db, h) or new_members(db, h):
        return "update"
    if fh.category and fh.monthly_fen is not None:
        if enrolment_changed(live_enrolment(store, household_id, fh.category), fh):
            return "update"
    return "unchanged"


def formula_cells_without_value(plan: RosterPlan) -> None:
    """A required cell that reads as empty but holds a formula: the file was written by a
    program and never opened and saved in Excel, so no result was stored with the formula."""
    blanks = [p for p in plan.problems if p.code == "missing_required" and p.column_letter]
    for sheet in {p.sheet for p in blanks}:
        path, own = plan.sheet_source.get(sheet, (plan.path, sheet))
        if check_workbook(path) != "xlsx":
            continue
        cells = {(p.row, p.column_letter) for p in blanks if p.sheet == sheet}
        formulas = formula_cells(path, own, cells)
        for p in blanks:
            if p.sheet == sheet and (p.row, p.column_letter) in formulas:
                _formula_problem(p, formulas[(p.row, p.column_letter)])


def _formula_problem(p: Problem, formula: str) -> None:
    p.code, p.value = "formula_no_value", formula
    p.message = (
        f"{p.column}是公式（{p.value}），但文件里没有保存计算结果；"
        "请用Excel/WPS打开该文件、保存后再导入"
    )


def check_across(store: Store, plan: RosterPlan) -> None:
    """Duplicates within the file, IDs already in other households, re-import matching."""
    _Matcher(store, plan).run()


class _Matcher:
    def __init__(self, store: Store, plan: RosterPlan):
        self.store, self.plan = store, plan
        self.layouts = {lay.sheet: lay for lay in plan.layouts}

    def flag(self, fh: FileHousehold, i: int, code: str, message: str) -> None:
        """Member ``i``'s ID cannot be trusted: flagged, and kept as 待核实."""
        lay = self.layouts[fh.sheet]
        m = fh.household.members[i]
        p = layout_problem(
            lay, fh.sheet, fh.member_rows[i], id_column(lay), m.id_number, code, message
        )
        p.severity = "flag"
        self.plan.problems.append(p)
        m.id_pending = True
        m.gender = m.birth_date = None

    def problem(self, fh: FileHousehold, column: str, value: str, code: str, message: str) -> None:
        lay = self.layouts[fh.sheet]
        self.plan.problems.append(
            layout_problem(lay, fh.sheet, fh.member_rows[0], column, value, code, message)
        )

    def run(self) -> None:
        seen = self.duplicates_in_file()
        owners = Registry(self.store).id_owners(list(seen), exclude_household=None)
        heads = self.registered_heads()
        elsewhere = HeadsById(self.store)
        for fh in self.plan.households:
            head = fh.household.head
            if head is None:
                continue
            self.match(fh, head, heads, elsewhere)
            self.flag_owned_elsewhere(fh, owners)
            if fh.match_id is not None:
                fh.action = compare(self.store, fh, fh.match_id)
        self.enrolment_rules()
        self.plan.problems.sort(key=lambda p: (p.sheet, p.row, p.column_letter))

    def enrolment_rules(self) -> None:
        """A row whose enrolment the lifecycle's rules refuse beside the household's live
        ones or an earlier row's (特困 vs 低保, two in one category): an error on its
        category, asked of the enrolment service as the import will write it."""
        person = {c for c, cat in categories(self.store).items() if cat.get("unit") == "person"}
        wanted: list[Row] = []
        for i, fh in enumerate(self.plan.households):
            if not fh.category or fh.monthly_fen is None or fh.action == "unchanged":
                continue
            head = fh.household.head
            member = head.id if head is not None and fh.category in person else None
            if fh.match_id is None:  # a new household: nothing stored, a key of its own
                wanted.append(Row(i, -1 - i, member, fh.category))
                continue
            live = live_enrolment(self.store, fh.match_id, fh.category)
            if live is not None and not enrolment_changed(live, fh):
                continue  # not written: the import leaves that record as it is
            wanted.append(
                Row(i, fh.match_id, member, fh.category, replaces=live["id"] if live else None)
            )
        by_key: dict[Hashable, FileHousehold] = dict(enumerate(self.plan.households))
        for key, (code, why) in refused_imports(self.store, wanted).items():
            fh = by_key[key]
            self.problem(fh, "category", fh.category or "", code, why)

    def duplicates_in_file(self) -> dict[str, tuple[FileHousehold, int]]:
        """The first line of each valid ID; a later line with it is flagged."""
        seen: dict[str, tuple[FileHousehold, int]] = {}
        for fh in self.plan.households:
            for i, m in enumerate(fh.household.members):
                if m.id_pending or not m.id_number:
                    continue
                if m.id_number in seen:
                    first, j = seen[m.id_number]
                    self.flag(
                        fh,
                        i,
                        "id_duplicate_in_file",
                        f"身份证号与{first.sheet}第{first.member_rows[j] + 1}行重复，已标记待核实",
                    )
                else:
                    seen[m.id_number] = (fh, i)
        return seen

    def registered_heads(self) -> dict[str, tuple]:
        """A head's valid ID in the file -> (household, name, village) of its active head."""
        heads: dict[str, tuple] = {}
        file_heads = [fh.household.head for fh in self.plan.households]
        numbers = [h.id_number for h in file_heads if h and not h.id_pending]
        for chunk in range(0, len(numbers), 500):
            part = numbers[chunk : chunk + 500]
            for number, *found in self.store.conn.execute(
                "SELECT m.id_number, m.household_id, m.name, h.village FROM members m "
                "JOIN households h ON h.id = m.household_id WHERE m.status = 'active' "
                "AND h.status = 'active' "
                f"AND m.relation = ? AND m.id_number IN ({', '.join('?' * len(part))})",
                (HEAD, *part),
            ):
                heads[number] = tuple(found)
        return heads

    def match(
        self, fh: FileHousehold, head: Member, heads: dict[str, tuple], elsewhere: HeadsById
    ) -> None:
        settled = False
        if not head.id_pending and head.id_number in heads:
            # the ID is the person: that household, under whatever name (never a second one)
            settled = self.by_id(fh, head, *heads[head.id_number])
        if fh.match_id is None and not settled:
            before = len(self.plan.problems)
            fh.match_id = self.by_name(fh, head)
            if fh.match_id is None and len(self.plan.problems) == before:
                self.may_be_registered(fh, head, elsewhere)

    def flag_owned_elsewhere(self, fh: FileHousehold, owners: dict) -> None:
        for i, m in enumerate(fh.household.members):
            if not m.id_pending and m.id_number in owners:
                hid, other_head, village = owners[m.id_number]
                if hid != fh.match_id:
                    self.flag(
                        fh,
                        i,
                        "id_exists_in_other_household",
                        f"身份证号已在其他家庭登记（编号{hid}，户主{other_head}，{village}），已标记待核实",
                    )

    def by_name(self, fh: FileHousehold, head: Member) -> int | None:
        """The existing household whose head has this name in this village, when the head's
        ID cannot settle it (待核实 in the file or in the database), or ``None`` for a new one.

        Recognised as the same household when the IDs may be the same person's
        (:func:`mzdesk.models.ids.ids_may_match`) or the bank accounts are the same.  A
        same-name head in the same village without such evidence is a blocking
        ``probable_duplicate``: a second household would be paid twice.
        """
        rows = self.store.conn.execute(
            "SELECT h.id, h.bank_account, COALESCE(m.id_number, m.id_raw), m.id_pending "
            "FROM households h JOIN members m ON m.household_id = h.id "
            "WHERE h.status = 'active' AND m.status = 'active' AND m.relation = ? AND m.name = ? "
            "AND h.village = ? ORDER BY h.id",
            (HEAD, head.name, fh.household.village),
        ).fetchall()
        if not head.id_pending:  # a valid ID in the file: only a 待核实 head can be the same one
            rows = [r for r in rows if r[3]]
        if not rows:
            return None
        same = _the_same(rows, head.id_number, fh.household.bank_account)
        if same is not None:
            return same
        found = "、".join(f"编号{r[0]}" for r in rows)
        self.problem(
            fh,
            id_column(self.layouts[fh.sheet]),
            head.id_number,
            "probable_duplicate",
            f"户主{head.name}（{fh.household.village}）可能与已登记的家庭（{found}）是同一户，"
            "但身份证号待核实（文件中或库中），无法确认；为免重复发放未导入。请按证件改正身份证号"
            "（设为文本格式）或核对银行账号后再导入",
        )
        return None

    def by_id(self, fh: FileHousehold, head: Member, hid: int, name: str, village: str) -> bool:
        """The head's valid ID is the head's of household ``hid``: that household.

        Under another name (a typo, a variant character) in the same village it is still
        that household: imported into it, the name left as registered, and flagged
        ``head_name_differs`` to confirm.  Another name in another village may as well be a
        number copied from the wrong line: a blocking ``probable_duplicate`` (never a second
        household for that number, never a silent move).  True once settled either way.
        """
        if name == head.name:
            fh.match_id = hid
            return True
        lay = self.layouts[fh.sheet]
        if village == fh.household.village:
            fh.match_id = hid
            self.problem(
                fh,
                "head_name" if "head_name" in lay.columns else "name",
                head.name,
                "head_name_differs",
                f"户主身份证号与已登记的家庭（编号{hid}，户主{name}）相同，"
                f"但姓名写作“{head.name}”：已按身份证号计入该户（不新建家庭），姓名未改，"
                "请核对证件；如需更正，请在家庭信息中修改",
            )
            return True
        self.problem(
            fh,
            id_column(lay),
            head.id_number,
            "probable_duplicate",
            f"户主{head.name}（{fh.household.village}）的身份证号已是另一户户主的"
            f"（编号{hid}，户主{name}，{village}），姓名和村(社区)都不同：可能是同一人，"
            "也可能抄错了身份证号，无法确认；为免重复发放未导入。请按证件核对后再导入",
        )
        return True

    def may_be_registered(self, fh: FileHousehold, head: Member, heads: HeadsById) -> None:
        """A head who may already be registered under another name or in another village (the
        IDs may match, one of them 待核实): a blocking ``probable_duplicate``, since a second
        household for the same person would be paid twice."""
        found = heads.find(head.id_number, head.id_pending)
        if not found:
            return
        which = "、".join(f"编号{hid}，户主{name}，{village}" for hid, name, village, _ in found)
        self.problem(
            fh,
            id_column(self.layouts[fh.sheet]),
            head.id_number,
            "probable_duplicate",
            f"户主{head.name}（{fh.household.village}）的身份证号与已登记的家庭（{which}）"
            "户主的身份证号可能是同一人的（其中一方待核实），但姓名或村(社区)不同，无法确认；"
            "为免重复发放未导入。请按证件核对身份证号和姓名（身份证号设为文本格式）后再导入",
        )


def _the_same(rows: list, number: str, account: str) -> int | None:
    """The one household of ``rows`` (same-name heads) with this head's ID, else the one whose
    ID may be the same person's or whose bank account is the same; ``None`` if not one."""
    exact = [r[0] for r in rows if normalise_id(r[2] or "") == number]
    if len(exact) == 1:
        return exact[0]
    same = [r[0] for r in rows if ids_may_match(number, r[2]) or (account and account == r[1])]
    return same[0] if len(same) == 1 else None


# an ID's characters after the region code in four blocks (birth year, month-day, ...):
# two numbers at most two characters apart agree on at least one pair of these blocks
_BLOCKS = ((6, 10), (10, 14), (14, 16), (16, 18))
_PAIRS = [(a, b) for i, a in enumerate(_BLOCKS) for b in _BLOCKS[i + 1 :]]


def _pair_keys(number: str) -> list[tuple]:
    return [(a, b, number[a[0] : a[1]] + number[b[0] : b[1]]) for a, b in _PAIRS]


class HeadsById:
    """Active heads whose ID may be the same person's as a given one, where a 待核实 number
    on one side keeps the IDs from settling it (:func:`ids_may_match`).

    The database's 待核实 heads (few) are read once and found by :data:`_PAIRS` (exact for
    up to two wrong characters).  Its valid heads are found through the ID indexes: same
    region and birth year (an Excel number's lost digits, a wrong digit after the year) or
    the same number after the region code (a wrong region digit).
    """

    def __init__(self, store: Store):
        self.store = store
        self._pending: dict[tuple, list[tuple]] | None = None

    def _pending_heads(self) -> dict[tuple, list[tuple]]:
        if self._pending is None:
            self._pending = {}
            for hid, name, village, raw in self.store.conn.execute(
                "SELECT h.id, m.name, h.village, m.id_raw FROM members m JOIN households h "
                "ON h.id = m.household_id WHERE m.status = 'active' AND h.status = 'active' "
                "AND m.relation = ? AND m.id_pending = 1 AND m.id_raw != ''",
                (HEAD,),
            ):
                number = normalise_id(raw)
                if len(number) == 18:
                    for key in _pair_keys(number):
                        self._pending.setdefault(key, []).append((hid, name, village, number))
        return self._pending

    def find(self, number: str, pending: bool) -> list[tuple]:
        """(household, head name, village, ID) of heads whose ID may match ``number``."""
        number = normalise_id(number)
        if len(number) != 18:
            return []
        index = self._pending_heads()
        rows = {r for key in _pair_keys(number) for r in index.get(key, [])}
        if pending:  # a 待核实 number in the file: valid heads in the database too
            rows |= set(
                self.store.conn.execute(
                    "SELECT h.id, m.name, h.village, m.id_number FROM members m JOIN households h "
                    "ON h.id = m.household_id WHERE m.status = 'active' AND h.status = 'active' "
                    "AND m.relation = ? AND m.id_number GLOB ? UNION "
                    "SELECT h.id, m.name, h.village, m.id_number FROM members m JOIN households h "
                    "ON h.id = m.household_id WHERE m.status = 'active' AND h.status = 'active' "
                    "AND m.relation = ? AND substr(m.id_number, 7) = ?",
                    (HEAD, number[:10] + "*", HEAD, number[6:]),
                ).fetchall()
            )
        return sorted(r for r in rows if ids_may_match(number, r[3]))
