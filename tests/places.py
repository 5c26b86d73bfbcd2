"""Real places where files cannot be written: a read-only folder, a full disk.

Not simulated: a read-only bind mount or an immutable folder (``chattr +i``) refuses
root too, so the tests run the same as root in CI and as a developer.  Like
:func:`tests.helpers.require_tool`, a machine that can make neither fails the test
under CI and skips it elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _run(*cmd: str) -> bool:
    if not shutil.which(cmd[0]):
        return False
    return subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0


def _writable(folder: Path) -> bool:
    try:
        fd, name = tempfile.mkstemp(dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


def _unmount(folder: Path) -> None:
    # lazily if a file is still open there (a failing test's connection): never left mounted
    if not _run("umount", str(folder)):
        _run("umount", "-l", str(folder))


def _cannot(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@contextlib.contextmanager
def read_only_folder(folder: Path) -> Iterator[str]:
    """``folder`` (with what is in it) read-only for the duration, for root too.

    Yields how: ``"mount"`` (a read-only bind mount: as a write-protected USB stick or a
    CD, the files in it cannot be written either), ``"chattr"`` (an immutable folder:
    nothing can be created in it) or ``"chmod"`` (not root: no write permission).
    """
    folder = Path(folder).resolve()
    if _run("mount", "--bind", str(folder), str(folder)):
        try:
            if _run("mount", "-o", "remount,bind,ro", str(folder)) and not _writable(folder):
                yield "mount"
                return
        finally:
            _unmount(folder)
    if _run("chattr", "+i", str(folder)):
        try:
            if not _writable(folder):
                yield "chattr"
                return
        finally:
            _run("chattr", "-i", str(folder))
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            yield "chmod"
            return
        finally:
            folder.chmod(mode)
    _cannot("cannot make a read-only folder here (needs mount or chattr as root)")


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "2m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``folder``, filled up: every write runs out of space."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if not _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)):
        _cannot("cannot mount a small tmpfs here (needs root)")
    try:
        with open(folder / "filler", "wb", buffering=0) as fh, contextlib.suppress(OSError):
            while fh.write(b"\0" * 4096):
                pass
        yield folder
    finally:
        _unmount(folder)
