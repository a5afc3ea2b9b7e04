"""Files that hold conversations are the user's alone: directories 0700, files 0600, whatever
the umask (a umask of 022 would make them readable by every local user)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) if needed; a directory this creates is 0700.

    A directory that already exists is left as it is, unless it is one of ours (`tighten`)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for created in missing:
        created.chmod(DIR_MODE)
    return path


def tighten(path: Path) -> None:
    """Make an existing file 0600 (a directory 0700); a missing one is ignored."""
    with contextlib.suppress(FileNotFoundError):
        path.chmod(DIR_MODE if path.is_dir() else FILE_MODE)


def private_file(path: Path) -> Path:
    """Create `path` empty if it is missing, readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    os.close(fd)
    tighten(path)
    return path
