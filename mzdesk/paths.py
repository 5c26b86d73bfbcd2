"""Where the user's database lives unless told otherwise."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

ENV_DB = "MZDESK_DB"


def default_db_path() -> Path:
    """``$MZDESK_DB`` if set, else ``mzdesk.sqlite`` in the user data directory."""
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env)
    return Path(user_data_dir("mzdesk", appauthor=False)) / "mzdesk.sqlite"
