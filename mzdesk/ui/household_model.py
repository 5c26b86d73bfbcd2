"""The household list: a table model that holds ids only and fetches rows a page at a time.

100,000 households are 100,000 ints in memory; the columns of the rows the
view actually paints are fetched in pages of :data:`PAGE` through
``query.household_rows`` and kept in a small LRU cache.  Sorting and filtering
re-run one indexed query for the ids (``query.list_household_ids``).
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from ..models.categories import categories
from ..models.ids import mask_id
from ..models.query import ListFilter, household_rows, list_household_ids, matched_members
from ..models.store import Store
from ..models.vocab import label

PAGE = 100
MAX_PAGES = 50

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
        self.ids: list[int] = []
        self._pages: OrderedDict[int, dict[int, dict]] = OrderedDict()
        self.category_names: dict[str, str] = {}

    # --- loading -----------------------------------------------------------------
    def reload(self, f: ListFilter | None = None) -> None:
        """Re-run the id query (filters, search text, sort) and reset the view."""
        if f is not None:
            self.filter = f
        self.beginResetModel()
        self.ids = list_household_ids(self.store, self.filter)
        self._pages.clear()
        self.category_names = {c: cat["name"] for c, cat in categories(self.store).items()}
        self.endResetModel()

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
        try:
            return self.ids.index(household_id)
        except ValueError:
            return None

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
        key = COLUMNS[column][2]
        if key is None:
            return
        self.filter.sort = key
        self.filter.descending = order == Qt.SortOrder.DescendingOrder
        self.layoutAboutToBeChanged.emit()
        self.ids = list_household_ids(self.store, self.filter)
        self._pages.clear()
        self.layoutChanged.emit()

    @staticmethod
    def sortable(column: int) -> bool:
        return COLUMNS[column][2] is not None
