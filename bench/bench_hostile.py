"""Hostile inputs: peak memory, time and message of each refusal (issue 18, item 3).

    python bench/bench_hostile.py [--against /path/to/other/checkout]

Every input is a real file given to the real CLI (``mzdesk roster import`` or ``mzdesk sync
import``) in a child process, waited for with ``os.wait4``: its own ``ru_maxrss``.  A bare
child (the interpreter importing the CLI, python-calamine and pyrage) is measured in the same
run as the baseline.  ``--against`` runs every input on another checkout's code too (e.g. the
code before the limits), each child capped at 4 GB of address space so that a regression
dies instead of swapping the machine.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyrage  # noqa: E402

from tests.measure import PEAK_LIMIT_MB, Measured, mzdesk, run_measured  # noqa: E402
from tests.roster import hostile_books as hb  # noqa: E402

GIB = 1 << 30


def xlsx_inputs(d: Path) -> list[tuple[str, Path]]:
    wide = [*hb.header_rows(), hb.data_row(3), f'<row r="60000">{hb.cell("GR60000", "x")}</row>']
    return [
        ("xlsx: a cell at XFD1048576", hb.far_cell(d / "far.xlsx")),
        ("xlsx: merged K2:XFD1048576", hb.merged_to_the_end(d / "merged.xlsx")),
        ("xlsx: a cell at GR60000 (12 M-cell grid)", hb.write_xlsx(d / "wide.xlsx", wide)),
        ("xlsx: 1,000,000 rows of empty strings", hb.empty_rows(d / "rows.xlsx")),
        ("xlsx: 1,000,000 rows without cells", hb.empty_rows(d / "bare.xlsx", cells=False)),
        ("xlsx: header only", hb.header_only(d / "head.xlsx")),
        ("xlsx: zip bomb, sheet of 600 MB", hb.zip_bomb(d / "bomb.xlsx")),
        ("xlsx: zip bomb declaring 1,000 bytes", hb.lying_bomb(d / "liar.xlsx")),
        ("xlsx: NaN amount cell", hb.nan_amount(d / "nan.xlsx")),
        ("ods: 5,000 × 16,384 repeated cells", hb.ods_bomb(d / "bomb.ods")),
    ]


def batch_inputs(d: Path):
    """A county database with keys, and batch files made against it."""
    from mzdesk.sync import batch as batch_mod
    from tests.sync.sites import township_county
    from tests.sync.test_hostile_batch import lie_about_sizes, padded_manifest

    t, c = township_county(d / "sites", 3, seed=4)
    to_c = [pyrage.x25519.Recipient.from_str(c.keys.public.age_recipient)]
    bomb = padded_manifest(t.code, c.code, GIB)
    out = [
        ("batch: 1 GiB manifest, to the public key", pyrage.encrypt(bomb, to_c)),
        (
            "batch: the same, headers saying 1,000 bytes",
            pyrage.encrypt(lie_about_sizes(bomb, "manifest.json"), to_c),
        ),
    ]
    real = batch_mod.BatchWriter.finish
    for label, fields in (
        ('signed "sequence": "1"', {"sequence": "1"}),
        ("signed format_version true", {"format_version": True}),
    ):

        def forged(self, manifest, keys, recipient, fields=fields):
            version = batch_mod.FORMAT_VERSION
            batch_mod.FORMAT_VERSION = fields.get("format_version", version)
            try:
                rest = {k: v for k, v in fields.items() if k != "format_version"}
                return real(self, dict(manifest, **rest), keys, recipient)
            finally:
                batch_mod.FORMAT_VERSION = version

        batch_mod.BatchWriter.finish = forged
        try:
            out.append((f"batch: {label}", t.export(c, name=f"{len(out)}.age").read_bytes()))
        finally:
            batch_mod.BatchWriter.finish = real
    db = Path(c.store.path)
    t.store.close()
    c.store.close()
    files = []
    for i, (label, data) in enumerate(out):
        path = d / f"batch{i}.age"
        path.write_bytes(data)
        files.append((label, path))
    return db, files


def line(label: str, r: Measured) -> str:
    msg = (r.err.strip().splitlines() or [" / ".join(r.out.split("\n")).strip(" /")])[-1][:110]
    flag = "" if r.peak_mb <= PEAK_LIMIT_MB else "  ** over the limit **"
    return f"  {label:<44} rc {r.code:>4}  {r.peak_mb:7.0f} MB  {r.seconds:6.2f} s  {msg}{flag}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--against", type=Path, default=None, help="another checkout to compare")
    args = ap.parse_args()
    trees = [("this checkout", ROOT)] + ([("--against", args.against)] if args.against else [])
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        xlsx = xlsx_inputs(d)
        db, batches = batch_inputs(d)
        roster_db = d / "roster.sqlite"
        r = mzdesk(
            "init", "--db", str(roster_db), "--site-code", "341623101", "--site-name", "青山镇"
        )
        assert r.code == 0, r.err
        for name, root in trees:
            print(f"{name}: {root}")
            base = run_measured(
                [
                    sys.executable,
                    "-c",
                    "import mzdesk.cli, mzdesk.roster.importer,"
                    " mzdesk.sync.apply, python_calamine, pyrage",
                ],
                root=root,
            )
            print(line("baseline: interpreter + imports", base))
            for label, path in xlsx:
                print(
                    line(
                        label,
                        mzdesk(
                            "roster",
                            "import",
                            str(path),
                            "--db",
                            str(roster_db),
                            timeout=300,
                            root=root,
                        ),
                    )
                )
            for label, path in batches:
                print(
                    line(
                        label,
                        mzdesk(
                            "sync", "import", str(path), "--db", str(db), timeout=300, root=root
                        ),
                    )
                )
        sizes = {label: path.stat().st_size for label, path in xlsx + batches}
        print("file sizes: " + json.dumps(sizes, ensure_ascii=False))


if __name__ == "__main__":
    _ = io, zipfile  # the inputs are built with them (hostile_books)
    main()
