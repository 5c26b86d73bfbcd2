"""Where one import's memory goes, phase by phase (issue 25, item 1).

    python bench/import_memory.py COUNTY.sqlite BATCH.age

Imports ``BATCH`` into ``COUNTY`` (changed: use a copy, e.g. one made by
``bench/bench_county.py --keep``) in this process, as ``mzdesk sync import`` does, while
a thread samples every 20 ms the process's RSS, the batch worker's RSS and SQLite's own
heap (``sqlite3_memory_used``), each attributed to the table being applied (moved from
the worker's chunks, or merged).  Prints the peak of each per phase.  Linux only
(``/proc``); SQLite must be the shared ``libsqlite3.so.0`` Python's module uses.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mzdesk.cli.common import open_store  # noqa: E402
from mzdesk.sync import applier  # noqa: E402
from mzdesk.sync.apply import import_batch  # noqa: E402
from mzdesk.sync.batch import read_batch_file  # noqa: E402
from mzdesk.sync.keys import load_keys  # noqa: E402


def rss_mb(pid: str = "self") -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for row in f:
                if row.startswith("VmRSS"):
                    return int(row.split()[1]) // 1024
    except OSError:  # the process ended meanwhile
        return 0
    return 0


def children_mb() -> int:
    """The largest RSS among this process's children (the batch worker)."""
    me, out = os.getpid(), 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[-1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == me:
            out = max(out, rss_mb(p))
    return out


class Sampler:
    def __init__(self) -> None:
        lib = ctypes.CDLL("libsqlite3.so.0")
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        self.heap = lib.sqlite3_memory_used
        self.phase = "start"
        self.peaks: dict[str, list[int]] = {}
        self.stop = False

    def run(self) -> None:
        while not self.stop:
            v = self.peaks.setdefault(self.phase, [0, 0, 0])
            v[0] = max(v[0], rss_mb())
            v[1] = max(v[1], children_mb())
            v[2] = max(v[2], self.heap() // 2**20)
            time.sleep(0.02)

    def watch(self, cls, name: str, label) -> None:
        """Name the phase while ``cls.name`` runs; "…'" once it returned."""
        real = getattr(cls, name)
        sampler = self

        def wrapped(*a, **k):
            before = sampler.phase
            sampler.phase = label(a)
            try:
                return real(*a, **k)
            finally:
                sampler.phase = before + "'"

        setattr(cls, name, wrapped)


def main() -> int:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    db, batch = Path(sys.argv[1]), Path(sys.argv[2])
    s = Sampler()
    s.watch(applier.Applier, "staged", lambda a: f"moved {a[1]}")
    s.watch(applier.Applier, "table", lambda a: f"merge {a[1]} ({len(a[2])} records)")
    s.watch(applier.Applier, "_start", lambda a: f"merge {a[1]}: what is here")
    s.watch(applier.Applier, "_write", lambda a: f"merge {a[1].t}: writes")
    threading.Thread(target=s.run, daemon=True).start()
    t0 = time.perf_counter()
    s.phase = "open"
    store = open_store(db)
    data = read_batch_file(str(batch))
    s.phase = "import"
    report = import_batch(store, load_keys(store, None), data, batch.name)
    s.phase = "after the commit"
    time.sleep(0.1)
    s.stop = True
    print(f"{time.perf_counter() - t0:.1f} s; {report.text().splitlines()[0]}")
    print(f"{'phase':50s} {'RSS':>8s} {'worker':>8s} {'SQLite heap':>12s}")
    for phase, (rss, worker, heap) in s.peaks.items():
        print(f"{phase:50s} {rss:5d} MB {worker:5d} MB {heap:9d} MB")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(f"peak RSS (ru_maxrss): this process {own} MB, the worker {kids} MB")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
