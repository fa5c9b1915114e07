"""Archive upkeep that the scheduler runs beside the crawls: ``complete_search_summary``.

Migration m011 fills the search's token presence summary (``storage.token_presence``) of an archive of up to
20,000 documents while opening it; a larger archive is marked incomplete instead, so that opening it does not
hold the write lock for minutes, and filtered searches do without the summary until it is complete. The daemon
completes it soon after its start, ``yibao run --once`` after its crawls and alerts: 5,000 documents per write
transaction (crawls write between them), about 3,000 documents per second, once per archive.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from storage import open_db, token_presence

log = logging.getLogger("yibao.maintenance")


def complete_search_summary(db_path: Path, stop: threading.Event | None = None) -> int:
    """Fill the archive's token presence summary when it is incomplete; returns how many documents were
    read (0: it was complete). ``stop``, once set, ends the work between two transactions (a stopping
    daemon), the summary still incomplete: the next start does it again."""
    db = open_db(db_path)
    try:
        if token_presence.complete(db):
            return 0
        log.info("completing the search summary of %s (once, after an upgrade)", db_path)
        done = token_presence.fill(db, stop=stop.is_set if stop is not None else None)
        if token_presence.complete(db):
            log.info("search summary complete: %d documents read", done)
        else:
            log.info("search summary left incomplete (stopping): %d documents read, done again next time", done)
        return done
    finally:
        db.close()
