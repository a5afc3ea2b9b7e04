"""The mock's files hold conversations and uploads: directories 0700, files 0600, whatever the
umask. (The client keeps its own copy of these few lines: the mock shares no code with it.)"""

from __future__ import annotations

import contextlib
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` and missing parents; what this creates is 0700."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for created in missing:
        created.chmod(DIR_MODE)
    return path


def tighten(path: Path) -> None:
    """Make an existing file 0600; a missing one is ignored."""
    with contextlib.suppress(FileNotFoundError):
        path.chmod(FILE_MODE)
