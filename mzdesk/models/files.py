"""Files mzdesk hands to people (PDF, xlsx, batches, backups' siblings): all or nothing.

Every output goes through ``<name>.part`` and an atomic rename: a failure halfway (a full
USB stick, a cancel, a crash) leaves the previous file of that name as it was and no
partial file behind, so a clerk never prints or sends a truncated one.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

_REASONS = {
    errno.ENOENT: "文件夹不存在",
    errno.ENOTDIR: "文件夹不存在",
    errno.EACCES: "没有写入权限",
    errno.EPERM: "没有写入权限",
    errno.EROFS: "磁盘是只读的",
    errno.ENOSPC: "磁盘空间不足",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.EBUSY: "文件正被其他程序占用",
    errno.ENAMETOOLONG: "文件名或路径太长",
    errno.EINVAL: "文件名或路径无效（可能含有不允许的字符）",
    errno.EIO: "读写磁盘出错（U盘可能已拔出或损坏）",
    errno.EFBIG: "文件太大，磁盘不支持",
    errno.EMFILE: "打开的文件太多",
    errno.ENFILE: "打开的文件太多",
    errno.ETXTBSY: "文件正被其他程序占用",
    errno.EEXIST: "文件已存在",
}
if hasattr(errno, "EDQUOT"):  # not on every platform
    _REASONS[errno.EDQUOT] = "磁盘空间配额已用完"


def os_reason(exc: OSError) -> str:
    """Why a file operation failed, for the clerk: ``磁盘空间不足`` rather than
    ``[Errno 28] No space left on device`` (the window and the CLI both say it).
    An error not in the list still gets Chinese words, with its system name."""
    reason = _REASONS.get(exc.errno or 0)
    if reason:
        return reason
    name = errno.errorcode.get(exc.errno or 0)
    return f"文件操作失败（系统错误 {name}）" if name else "文件操作失败"


def describe(exc: OSError) -> str:
    """One line for the CLI: the file, why in Chinese, and the system's words last for
    whoever supports the office (``/mnt/u/x.pdf：文件夹不存在（No such file or directory）``).
    The file is the one the clerk named (:func:`replacing` sees to that), never ``.part``."""
    where = " → ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    detail = f"（{exc.strerror}）" if exc.strerror else ""
    return f"{where}：{os_reason(exc)}{detail}" if where else f"{os_reason(exc)}{detail}"


def part_path(out: str | Path) -> Path:
    """Where :func:`replacing` writes ``out`` until it is complete."""
    out = Path(out)
    return out.with_name(out.name + ".part")


def synced(path: Path) -> None:
    """Flush ``path`` to the disk (a batch must survive a power cut once it is named)."""
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


@contextlib.contextmanager
def replacing(out: str | Path, fsync: bool = False) -> Iterator[Path]:
    """Yield the path to write ``out`` to; when the block ends without error it becomes
    ``out`` (fsynced first with ``fsync``), on any error it is removed and ``out`` is left
    as it was.  An ``OSError`` about the temporary file, or about no file (a writer that
    does not say which), names ``out``: the clerk asked for that one and never saw the other.
    """
    out = Path(out)
    part = part_path(out)
    try:
        yield part
        if fsync:
            synced(part)
        os.replace(part, out)
    except OSError as exc:
        _remove(part)
        if exc.filename not in (None, str(part)) or exc.filename2 is not None:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(out)) from exc
    except BaseException:
        _remove(part)
        raise


def _remove(part: Path) -> None:
    # on a read-only disk even removing a file that was never made fails (EROFS): the
    # error that says what went wrong is the one being raised, not this one
    with contextlib.suppress(OSError):
        part.unlink()


def write_bytes(out: str | Path, data: bytes, fsync: bool = True) -> Path:
    """``data`` as the file ``out``, all or nothing (see :func:`replacing`)."""
    with replacing(out, fsync=fsync) as part:
        part.write_bytes(data)
    return Path(out)
