"""Whether an archive file has changed: its state, compared by readers that keep results between requests
(``webui.table_search``'s match sets).

The state is the file's identity (device, inode: a copy put in its place, a restore, is another file) and
``PRAGMA data_version`` read on a read-only connection this module keeps to the file, which changes whenever
another connection, in any process, has committed to it since the last read. Read it before reading what
is to be kept: a commit in between then makes the kept result stale, never wrongly fresh.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict

import sqlite_utils

from storage.db import open_reader

WATCHED = 16  # files watched at once (a server has one archive; a test session opens many)
_watchers: OrderedDict[str, tuple[threading.Lock, sqlite3.Connection, tuple[int, int]]] = OrderedDict()
_lock = threading.Lock()


def main_file(db: sqlite_utils.Database) -> str | None:
    """The file of the connection's main database (None in memory: nothing to watch)."""
    for _seq, name, file in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return str(file) or None
    return None


def file_state(path: str) -> tuple[int, int, int]:
    """(device, inode, data version) of the archive file ``path``: equal states mean that nothing was committed
    to the same file in between. Raises ``OSError`` when the path is gone, ``sqlite3.Error`` when unreadable."""
    stat = os.stat(path)
    identity = (stat.st_dev, stat.st_ino)
    with _lock:
        watcher = _watchers.get(path)
        if watcher is None or watcher[2] != identity:  # a replaced connection closes when no thread uses it
            watcher = _watchers[path] = (threading.Lock(), open_reader(path), identity)
            while len(_watchers) > WATCHED:
                _watchers.popitem(last=False)
        _watchers.move_to_end(path)
        lock, conn, _ = watcher
    with lock:
        return (*identity, int(conn.execute("PRAGMA data_version").fetchone()[0]))
