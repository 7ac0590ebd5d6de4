"""Private files under the data directory (GB/T 22239 数据保密性, 剩余信息保护).

Everything the product writes there (the SQLite database and its WAL/SHM, the key file, NiceGUI's
per-browser storage, the audit anchor file, logs) is for the service's own account only: files
0600, directories 0700. :func:`secure_process` sets the umask at start (so new files are born
private), :func:`tighten` repairs what an older release or a copy left looser, and
:func:`loose_paths` is what ``zhijiao doctor`` and the start-up check report.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from zhijiao.config import get_settings

log = logging.getLogger(__name__)

UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700


class LoosePermissions(RuntimeError):
    """Files under the data directory that others could read, and that could not be repaired."""


def _walk(root: Path):
    if not root.exists():
        return
    yield root
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            yield Path(dirpath, name)


def loose_paths(root: Path | None = None) -> list[Path]:
    """Paths under the data directory readable, writable or searchable by group or others."""
    root = Path(root or get_settings().data_dir)
    out = []
    for path in _walk(root):
        try:
            st = path.lstat()
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode):
            continue
        if st.st_mode & 0o077:
            out.append(path)
    return out


def tighten(root: Path | None = None) -> tuple[list[Path], list[Path]]:
    """chmod every looser file to 0600 and directory to 0700; returns (repaired, still loose)."""
    fixed, failed = [], []
    for path in loose_paths(root):
        try:
            os.chmod(path, DIR_MODE if path.is_dir() else FILE_MODE)
            fixed.append(path)
        except OSError:
            failed.append(path)
    return fixed, failed


def secure_process() -> list[Path]:
    """At start: private umask, the data directory 0700, and looser files repaired (with a warning).

    Outside demo mode a file that cannot be repaired (another owner) refuses the start.
    """
    os.umask(UMASK)
    settings = get_settings()
    root = Path(settings.data_dir)
    root.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    fixed, failed = tighten(root)
    if fixed:
        log.warning("数据目录中有 %d 个文件或目录的权限过宽，已改为仅本账户可读写 (0600/0700): %s",
                    len(fixed), ", ".join(str(p) for p in fixed[:10]))
    if failed:
        message = ("数据目录中下列文件的权限过宽且无法修改（请检查属主），拒绝启动: "
                   + ", ".join(str(p) for p in failed[:10]))
        if not settings.demo_mode:
            raise LoosePermissions(message)
        log.error(message)
    return fixed
