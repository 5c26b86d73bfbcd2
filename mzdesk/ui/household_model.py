"""The household list: a table model that fetches the list as the view scrolls.

The rows are loaded :data:`FETCH` at a time by keyset paging
(:mod:`mzdesk.models.paging`: the next rows after the last one loaded, in the
sort's order), through Qt's ``canFetchMore``/``fetchMore``: a county of 330,000
households costs one page until the clerk scrolls, never the whole list's ids.
The columns of the rows the view actually paints are fetched in pages of
:data:`PAGE` through ``query.household_rows`` and kept in a small LRU cache.
The count in the status bar is the plan's (:attr:`HouseholdListModel.total`).
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from ..models.categories import categories
from ..models.ids import mask_id
from ..models.paging import ListPlan, list_plan, next_page, rank_of
from ..models.query import ListFilter, household_rows, matched_members
from ..models.store import Store
from ..models.vocab import label

PAGE = 100
MAX_PAGES = 50
FETCH = 500  # rows loaded per fetchMore: a few screens

# (header, row key, sort key)
COLUMNS: list[tuple[str, str, str | None]] = [
    ("编号", "id", "id"),
    ("户主", "head_name", "head"),
    ("户主身份证号", "head_id_number", None),
    ("村(社区)", "village", "village"),
    ("组", "village_group", None),
    ("城乡", "area_type", None),
    ("人口", "member_count", "members"),
    ("保障类别", "categories", None),
    ("联系电话", "phone", "phone"),
    ("状态", "status", None),
    ("更新时间", "updated_at", "updated"),
]

STATUS_LABELS = {"active": "在册", "deleted": "已注销"}


def display_value(key: str, row: dict, category_names: dict[str, str] | None = None) -> str:
    """A cell as shown; ``category_names``: code -> name of the database's categories
    (local ones too; categories.categories)."""
    value = row.get(key)
    if value is None:
        return ""
    if key == "head_id_number":
        return mask_id(value)
    if key == "area_type":
        return label("area_type", value)
    if key == "categories":
        names = category_names or {}
        return "、".join(names.get(c, c) for c in value.split(",") if c)
    if key == "status":
        return STATUS_LABELS.get(value, value)
    if key == "updated_at":
        return str(value)[:16].replace("T", " ")
    return str(value)


class HouseholdListModel(QAbstractTableModel):
    def __init__(self, store: Store, parent=None):
        super().__init__(parent)
        self.store = store
        self.filter = ListFilter()
        self.ids: list[int] = []  # the rows loaded so far, in display order
        self.plan: ListPlan | None = None
        self._after: tuple | None = None  # the last loaded row's sort key
        self._done = True
        self._pages: OrderedDict[int, dict[int, dict]] = OrderedDict()
        self.category_names: dict[str, str] = {}

    @property
    def total(self) -> int:
        """How many households the filter leaves (loaded or not)."""
        return self.plan.total if self.plan is not None else 0

    # --- loading -----------------------------------------------------------------
    def reload(self, f: ListFilter | None = None) -> None:
        """Re-plan the list (filters, search text, sort), load its first rows, reset."""
        if f is not None:
            self.filter = f
        self.beginResetModel()
        self.plan = list_plan(self.store, self.filter)
        self.ids, self._after, self._done = [], None, False
        self._load(FETCH)
        self._pages.clear()
        self.category_names = {c: cat["name"] for c, cat in categories(self.store).items()}
        self.endResetModel()

    def _load(self, n: int) -> list[int]:
        """Append the next ``n`` rows of the plan to :attr:`ids` (no signal)."""
        assert self.plan is not None
        page = next_page(self.store, self.plan, self._after, n)
        self.ids += page.ids
        self._after, self._done = page.after, page.done
        return page.ids

    def canFetchMore(self, parent: QModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._done

    def fetchMore(self, parent: QModelIndex = QModelIndex()) -> None:  # noqa: B008
        self._fetch(FETCH)

    def _fetch(self, n: int) -> None:
        if self._done or n <= 0:
            return
        assert self.plan is not None
        page = next_page(self.store, self.plan, self._after, n)
        if page.ids:
            first = len(self.ids)
            self.beginInsertRows(QModelIndex(), first, first + len(page.ids) - 1)
            self.ids += page.ids
            self._after, self._done = page.after, page.done
            self.endInsertRows()
        else:
            self._done = True

    def refresh_rows(self) -> None:
        """Drop cached pages (after an edit) and repaint, keeping the id order."""
        self._pages.clear()
        if self.ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.ids) - 1, len(COLUMNS) - 1))

    def _row(self, r: int) -> dict | None:
        page_no = r // PAGE
        page = self._pages.get(page_no)
        if page is None:
            page_ids = self.ids[page_no * PAGE : (page_no + 1) * PAGE]
            page = household_rows(self.store, page_ids)
            for hid, name in matched_members(self.store, page_ids, self.filter.text).items():
                if hid in page:  # the row says which member the search found
                    page[hid]["head_name"] = f"{page[hid]['head_name']}（匹配：{name}）"
            self._pages[page_no] = page
            if len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page.get(self.ids[r])

    def household_id(self, r: int) -> int | None:
        return self.ids[r] if 0 <= r < len(self.ids) else None

    def row_of(self, household_id: int) -> int | None:
        """The household's row, loading the list down to it if needed; None when the
        filter leaves it out."""
        try:
            return self.ids.index(household_id)
        except ValueError:
            pass
        if self.plan is None:
            return None
        rank = rank_of(self.store, self.plan, household_id)
        if rank is None:
            return None
        self._fetch(rank + 1 - len(self.ids))
        if rank < len(self.ids) and self.ids[rank] == household_id:
            return rank
        return None  # the list changed under us (another window's edit)

    # --- Qt model interface ------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            row = self._row(index.row())
            if row is None:  # deleted since the ids were loaded
                return ""
            return display_value(COLUMNS[index.column()][1], row, self.category_names)
        if role == Qt.ItemDataRole.TextAlignmentRole and COLUMNS[index.column()][1] in (
            "id",
            "member_count",
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return self.ids[index.row()]
        return None

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][0]
        return None

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Sort by the column's key; the rows the view holds (selection, current row)
        follow their households to their new rows."""
        key = COLUMNS[column][2]
        if key is None:
            return
        self.filter.sort = key
        self.filter.descending = order == Qt.SortOrder.DescendingOrder
        if self.plan is None:  # not loaded yet: the first reload() sorts
            return
        new = list_plan(self.store, self.filter)
        held = {self.household_id(p.row()) for p in self.persistentIndexList()} - {None}
        ranks = [rank_of(self.store, new, hid) for hid in held]
        # as many rows as now, or down to a held household's new row: the row count
        # cannot change inside a layout change, so the old order loads them first
        self._fetch(max([len(self.ids), *(r + 1 for r in ranks if r is not None)]) - len(self.ids))
        self.layoutAboutToBeChanged.emit()
        # after the signal: the selection model has made its own persistent indexes
        held_at = [(p, self.household_id(p.row())) for p in self.persistentIndexList()]
        count = len(self.ids)
        self.plan = new
        self.ids, self._after, self._done = [], None, False
        if count:
            self._load(count)
        self._pages.clear()
        rows = {hid: r for r, hid in enumerate(self.ids)}
        for p, hid in held_at:
            r = rows.get(hid) if hid is not None else None
            self.changePersistentIndex(
                p, self.index(r, p.column()) if r is not None else QModelIndex()
            )
        self.layoutChanged.emit()

    @staticmethod
    def sortable(column: int) -> bool:
        return COLUMNS[column][2] is not None
