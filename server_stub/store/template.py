"""A new database file is a copy of this process's empty database, not built statement by statement.

The empty database at the schema's version (``schema.MIGRATIONS`` run from nothing, in memory) is
made once per process and kept as bytes; a store whose file does not exist yet gets those bytes
written as its file, and finds its schema at the current version when it opens it. A world of a
test or a scenario made its store with forty statements (the migrations' tables, indexes and
their steps) in a transaction of its own; now it writes one file
(``docs/decisions/new-stores-from-a-template.md``).

The file is written beside the target and linked into place, so that a database another process
made meanwhile is never replaced, and a crash leaves no half-written database: either none (the
next open makes it) or the whole empty one. Outside a throwaway directory both the file and the
directory are synced first, as ``atomic_write`` does.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from pathlib import Path

from phone_sim.protocol.files import is_throwaway
from server_stub.store.schema import MIGRATIONS, SCHEMA_VERSION

#: the permissions SQLite gives a database it creates (less the process's umask)
FILE_MODE = 0o644

_lock = threading.Lock()
_empty: bytes | None = None


def empty_database() -> bytes:
    """The empty database at ``SCHEMA_VERSION``: every migration run from nothing, as a new file's
    would be (made the first time it is asked for, then kept)."""
    global _empty
    with _lock:
        if _empty is None:
            db = sqlite3.connect(":memory:", isolation_level=None)
            try:
                # As Store._migrate runs them: foreign keys on, one transaction.
                db.execute("PRAGMA foreign_keys = ON")
                db.execute("BEGIN IMMEDIATE")
                for step in range(1, SCHEMA_VERSION + 1):
                    MIGRATIONS[step](db)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                db.execute("COMMIT")
                _empty = db.serialize()
            finally:
                db.close()
        return _empty


def create(path: Path) -> bool:
    """Write the empty database as ``path`` if no file is there; True if this call made it.

    False when ``path`` exists (or another process made it meanwhile), or when the file cannot be
    written or linked here: the store then opens the path as before, and SQLite says what is
    wrong.
    """
    try:
        if path.exists():
            return False
    except OSError:
        return False
    data = empty_database()
    durable = not is_throwaway(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.new")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        # A link, not a rename: it fails where a file is, so a database is never replaced.
        os.link(tmp, path)
        if durable:
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except OSError:
        # SQLite opens (or fails to open) the path as it always did, and says why.
        return False
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return True
