"""A ``YIBAO_EVENT_ROUTER`` plugin for the tests: appends ``<kind> <document id>`` of every event to the file
named by the ``PROBE_FILE`` setting, inside the event's transaction (the archive is readable there)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def probe_router(crawler: Any) -> Any:
    path = Path(crawler.settings.get("PROBE_FILE"))

    def on_event(db: Any, event: Any) -> None:
        assert db["events"].get(event.id)["kind"] == event.kind  # written, in this transaction
        with path.open("a", encoding="utf-8") as out:
            out.write(f"{event.kind} {event.document_id}\n")

    return on_event
