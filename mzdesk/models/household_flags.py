"""The household flag 防止返贫监测对象 / 脱贫人口 (``households.poverty_flag``).

The codes and labels are the ``poverty_flag`` list of ``resources/vocab.json``; the flag is
a household field, validated by ``household.validate_household`` and written by
:class:`~mzdesk.models.registry.Registry` like any other.

>>> flag_code("防止返贫监测对象"), flag_code("lifted"), flag_code("无")
('monitored', 'lifted', '')
"""

from __future__ import annotations

from .errors import MzError
from .registry import Registry
from .store import Store
from .vocab import vocab

NONE_WORDS = ("", "无", "none", "否")


def flags() -> dict[str, str]:
    """code → label (monitored → 防止返贫监测对象, lifted → 脱贫人口)."""
    return dict(vocab()["poverty_flag"])


def flag_label(code: str) -> str:
    return flags().get(code, "")


def flag_code(text: str) -> str:
    """A flag as typed (code or label; 无 or empty for none) → its code."""
    t = "".join(str(text or "").split())
    if t in NONE_WORDS:
        return ""
    for code, label in flags().items():
        if t in (code, label):
            return code
    valid = "、".join(flags().values())
    raise MzError(f"返贫监测标识应为{valid}或“无”，而不是“{t}”", "bad_poverty_flag")


def set_poverty_flag(store: Store, household_id: int, flag: str) -> str:
    """Set or clear the flag through :meth:`Registry.save` (one writer of households)."""
    from .auth import require

    require(store, "household.edit")
    reg = Registry(store)
    h = reg.get(household_id)
    h.poverty_flag = flag_code(flag)
    return reg.save(h).poverty_flag
