"""``yibao demo`` (``make demo``): the product's loop on its embedded default, in about a minute.

Starts the replica portals on 127.0.0.1, crawls all five into a fresh archive, then lets the
bureaus publish, edit, change validity and withdraw, crawls again (twice: a withdrawal needs two
consecutive gone checks) and prints the events the archive recorded.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from replicas.server import ReplicaServer
from replicas.world import ReplicaWorld
from storage import list_events, open_db


def _config(directory: Path, server: ReplicaServer) -> Path:
    lines = [f'[archive]\npath = "{directory / "archive.db"}"\n']
    lines += [f'[[portals]]\nid = "{pid}"\nbase_url = "{url}"\n' for pid, url in server.urls.items()]
    path = directory / "yibao.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _crawl(config: Path, label: str) -> None:
    print(f"\n$ yibao crawl   # {label}", flush=True)
    cmd = [sys.executable, "-m", "crawler.cli", "--config", str(config), "crawl", "--fast"]
    subprocess.run(cmd, check=False)


def run(docs: int = 200, keep: str | None = None) -> int:
    world = ReplicaWorld(docs=docs)
    with ReplicaServer(world) as server, tempfile.TemporaryDirectory() as tmp:
        directory = Path(keep) if keep else Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        print("Replica portals (127.0.0.1 only):")
        for pid, url in server.urls.items():
            print(f"  {pid:22s} {world.site(pid).bureau.name:10s} {url}")
        config = _config(directory, server)
        _crawl(config, "first crawl: every document is new")
        published = world.publish("fujian_xiamen")
        edited = world.docs("guangdong_zhongshan")[3]
        world.edit(edited.doc_id)
        expired = next(d for d in world.docs("fujian_ningde") if d.validity == "有效")
        world.set_metadata(expired.doc_id, validity="失效")
        withdrawn = world.docs("nhsa")[2]
        world.withdraw(withdrawn.doc_id)
        print("\nMeanwhile on the portals:")
        print(f"  厦门 published  {published.title}")
        print(f"  中山 edited     {edited.display_title}")
        print(f"  宁德 有效→失效  {expired.title}")
        print(f"  国家 withdrew   {withdrawn.title}")
        _crawl(config, "next scheduled crawl")
        _crawl(config, "and the one after (a withdrawal needs two gone checks)")
        db = open_db(directory / "archive.db")
        events = [e for e in list_events(db) if e.kind != "new"]
        new_count = len(list_events(db, kind="new"))
        print(f"\nEvents recorded: {new_count} new documents on the first crawl, then:")
        for event in events + list_events(db, kind="new")[new_count - 1 :]:
            print(f"  [{event.kind:16s}] {event.portal_id:20s} {event.summary[:80]}")
        db.close()
        print(f"\nArchive: {directory / 'archive.db'}" + ("" if keep else " (temporary; --keep DIR keeps it)"))
    return 0
