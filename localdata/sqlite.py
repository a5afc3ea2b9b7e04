"""An SQLite file opened checked, and transactions on it.

`open_checked` gives a connection in WAL mode to a file that passed SQLite's own check, or
says why not: a file that is not SQLite at all is refused (it may be someone's other file,
named by mistake), a damaged one is renamed aside with its WAL files and a new one started,
and write-ahead-log frames SQLite could not use (a crash mid-write) are counted. Each of
these is a line in `Opened.problems`, for the caller to show.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from localdata.private import private_dir, private_file, tighten

COMPANIONS = ("", "-wal", "-shm")
"""The database file and the files SQLite keeps beside it in WAL mode."""
HEADER = b"SQLite format 3\x00"


class NotSQLite(Exception):
    """The file exists and is something else: refused, never set aside or overwritten."""


class Damaged(Exception):
    """The file fails SQLite's integrity check, or SQLite cannot read it."""


@dataclass
class Opened:
    db: sqlite3.Connection
    problems: list[str] = field(default_factory=list)
    """What was wrong with the file, each a sentence (empty: nothing)."""


def open_checked(
    path: Path,
    setup: Callable[[sqlite3.Connection], None],
    what: str,
    *,
    refuse_foreign: bool,
) -> Opened:
    """Open `path` (created private if missing) and run `setup` on it (the schema, its
    upgrades); `what` names the file in the problems ("history database"). An error that
    `setup` raises other than SQLite's is the caller's and passes through.

    `refuse_foreign`: a file that is not SQLite at all is refused (`NotSQLite`) rather than set
    aside as damaged: right where the user names the path (the mock's --db), not where the
    file is the program's own (the client's history in its data dir)."""
    private_dir(path.parent)
    if refuse_foreign and not looks_like_sqlite(path):
        raise NotSQLite(f"{path} is not an SQLite database")
    frames = wal_frames(path)
    problems = []
    try:
        db, used = _connect(path, setup)
    except Damaged as damage:
        aside = set_aside(path)
        problems.append(
            f"The {what} {path} was damaged ({damage}); it was kept as {aside.name} and a new "
            f"{what} was started."
        )
        db, used = _connect(path, setup)
    if frames and 0 <= used < frames:
        problems.append(
            f"{frames - used} of {frames} frames of the write-ahead log were damaged or "
            f"unfinished and were left out of the {what} {path.name}: the last writes before a "
            "crash may be missing."
        )
    return Opened(db, problems)


def _connect(
    path: Path, setup: Callable[[sqlite3.Connection], None]
) -> tuple[sqlite3.Connection, int]:
    """The checked connection, and how many WAL frames SQLite took (measured before anything
    here writes to the log)."""
    private_file(path)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        problems = [row[0] for row in db.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise Damaged("; ".join(problems[:3]))
        used = int(db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
        setup(db)
    except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed", …
        db.close()
        raise Damaged(str(exc)) from exc
    except BaseException:
        db.close()
        raise
    for suffix in COMPANIONS:
        tighten(path.with_name(path.name + suffix))
    return db, used


def looks_like_sqlite(path: Path) -> bool:
    """Missing, empty, or starting with SQLite's header."""
    try:
        with path.open("rb") as file:
            head = file.read(16)
    except FileNotFoundError:
        return True
    return head in (b"", HEADER)


def wal_frames(path: Path) -> int:
    """How many frames of the current generation the WAL file beside `path` holds (0: none).

    A WAL is reused from its start after a checkpoint, so its tail may hold frames of an
    older generation (other salts): those are not counted. After opening, fewer usable frames
    than this means SQLite left out frames that were damaged or never committed."""
    try:
        data = path.with_name(path.name + "-wal").read_bytes()
    except OSError:
        return 0
    if len(data) < 32:
        return 0
    page_size, salts = int.from_bytes(data[8:12], "big"), data[16:24]
    if not page_size:
        return 0
    frame_size, count = page_size + 24, 0
    for offset in range(32, len(data) - frame_size + 1, frame_size):
        if data[offset + 8 : offset + 16] != salts:
            break
        count += 1
    return count


def set_aside(path: Path) -> Path:
    """Rename a damaged database (and its WAL files) out of the way, never deleting it;
    returns its new name."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in COMPANIONS:
        source = path.with_name(path.name + suffix)
        if source.exists():
            source.rename(aside.with_name(aside.name + suffix))
    return aside


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """All of the block's writes or none (the connection is in autocommit mode)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
