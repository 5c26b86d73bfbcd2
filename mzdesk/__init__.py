"""mzdesk 民政桌面: offline records for township civil-affairs offices."""

import time as _time

__version__ = "0.1.0"

STARTED = _time.perf_counter()  # process start, as near as Python sees it (startup benchmark)
