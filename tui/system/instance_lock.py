"""One app per data dir: two `builderos chat` writing the same history and the same tabs would
each send the other's pending messages and overwrite its drafts. The lock is an advisory
`flock` on `data_dir/chat.lock`, held for the life of the process (the kernel lets it go when
the process ends, however it ends: a kill -9 leaves no stale lock)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from localdata.private import private_dir, private_file


class AlreadyRunning(Exception):
    """Another app holds the data dir; the text says which process and what to do."""


def hold(data_dir: Path) -> IO[str]:
    """Take the data dir for this process (AlreadyRunning if another has it); keep the
    returned file open for as long as the app runs."""
    private_dir(data_dir)
    path = data_dir / "chat.lock"
    handle = private_file(path).open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise AlreadyRunning(
            f"another builderos chat (pid {holder}) is using {data_dir}: switch to it, or quit "
            "it first (or give this one its own --data-dir)"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
