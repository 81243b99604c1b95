"""Crash-safe file writes, used for device state, keys and the server's secrets; throwaway
directories.

A **throwaway** directory (:func:`throwaway`) is one whose contents are deleted when the run that
made it ends: a test's world, a headless scenario's. Nothing in it has to survive a crash of the
machine, which would end that run anyway, so :func:`atomic_write` skips its two fsyncs there
(the file is still replaced atomically, never torn), and so does the vendor store's set-up; the
store's commits of contacts stay durable, as everywhere
(``docs/decisions/throwaway-worlds-skip-fsync.md``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

#: bytes :func:`atomic_write_chunks` gathers before each write
WRITE_BUFFER = 64 * 1024

_throwaway: dict[str, int] = {}  # absolute path with a trailing separator: how many hold it
_throwaway_lock = threading.Lock()


@contextmanager
def throwaway(root: Path) -> Iterator[Path]:
    """Within the block, everything under ``root`` is throwaway (see above)."""
    key = os.path.join(os.path.abspath(root), "")
    with _throwaway_lock:
        _throwaway[key] = _throwaway.get(key, 0) + 1
    try:
        yield root
    finally:
        with _throwaway_lock:
            if _throwaway[key] == 1:
                del _throwaway[key]
            else:
                _throwaway[key] -= 1


def is_throwaway(path: Path) -> bool:
    """Whether ``path`` lies in a directory that :func:`throwaway` holds now."""
    if not _throwaway:
        return False
    absolute = os.path.abspath(path)
    return any(absolute.startswith(root) for root in list(_throwaway))


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so that a crash at any point leaves the old or the new file.

    Temp file in the same directory, fsync, rename over the target, fsync the directory (so the
    rename itself is durable). The file is created with ``mode`` from its first byte.
    ``durable=False`` skips both fsyncs: still never torn, but a crash may keep the old file;
    so does a path in a throwaway directory.
    """
    atomic_write_chunks(path, (data,), mode=mode, durable=durable)


def atomic_write_chunks(
    path: Path, chunks: Iterable[bytes], *, mode: int = 0o600, durable: bool = True
) -> None:
    """:func:`atomic_write` of the bytes ``chunks`` yields, written as they come through a
    buffer of :data:`WRITE_BUFFER` bytes: a large file is never whole in memory. If ``chunks``
    raises, ``path`` is untouched and the temp file removed."""
    durable = durable and not is_throwaway(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb", buffering=WRITE_BUFFER) as file:  # closes ``fd``
            os.fchmod(fd, mode)  # an old temp file may have had wider permissions
            for chunk in chunks:
                file.write(chunk)
            file.flush()
            if durable:
                os.fsync(fd)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    if not durable:
        return
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
