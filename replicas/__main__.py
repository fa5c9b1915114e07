"""``python -m replicas serve [--port 8120] [--docs N]`` and ``python -m replicas demo``.

``serve`` listens on the documented ports: the admin API on 8120 and the portals on 8121..8125 in the
order of ``replicas/portals.toml`` (a config for them as they are: ``yibao --config replicas/portals.toml``).
``--port 0`` picks free ports instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
import urllib.request

from .registry import ADMIN_PORT, REGISTRY_PATH
from .server import ReplicaServer
from .world import ReplicaWorld


def _print_urls(server: ReplicaServer) -> None:
    for portal_id, url in server.urls.items():
        site = server.world.site(portal_id)
        print(f"{portal_id:22s} {site.bureau.name:10s} [{site.family:7s}] {url}{site.column_path(site.bureau.columns[0].key)}")
    print(f"{'admin':22s} {'':10s} [{'json':7s}] {server.admin_url}/portals")


def _start(server: ReplicaServer, port: int) -> bool:
    """Start ``server``; a port already in use is one line on stderr (False), not a traceback."""
    try:
        server.start()
    except RuntimeError as exc:
        ports = f"127.0.0.1:{port}..{port + len(server.world.portals)}" if port else "free ports"
        print(f"python -m replicas: cannot listen on {ports}: {exc.__cause__ or exc}"
              + ("; is `make replicas` already running? --port 0 picks free ports" if port else ""), file=sys.stderr)
        return False
    return True


def serve(args: argparse.Namespace) -> int:
    world = ReplicaWorld(docs=args.docs, seed=args.seed)
    server = ReplicaServer(world, base_port=args.port)
    if not _start(server, args.port):
        return 2
    _print_urls(server)
    if args.port == ADMIN_PORT:
        print(f"\nconfig for these portals: yibao --config {REGISTRY_PATH.relative_to(REGISTRY_PATH.parents[1])} …")
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()
    return 0


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def demo(args: argparse.Namespace) -> int:
    """Start the replicas, show each portal answering, publish/edit/withdraw, show request counts."""
    world = ReplicaWorld(docs=args.docs, seed=args.seed)
    with ReplicaServer(world, base_port=args.port) as server:
        print("Replica portals (127.0.0.1 only):")
        _print_urls(server)
        print()
        for portal_id, url in server.urls.items():
            site = world.site(portal_id)
            status, body = _get(url + site.column_path(site.bureau.columns[0].key))
            print(f"  {portal_id:22s} list page {status}, {len(body):6d} bytes, {len(world.docs(portal_id)):4d} documents")
        doc = world.publish("fujian_xiamen")
        print(f"\npublished  {doc.doc_id}: {doc.title}\n           {server.urls['fujian_xiamen']}{world.urls(doc.doc_id)['main']}")
        world.edit(doc.doc_id)
        print(f"edited     {doc.doc_id}: version {doc.version}")
        world.withdraw(doc.doc_id)
        print(f"withdrawn  {doc.doc_id}: now answers {doc.withdraw_mode}")
        print("\nrequests served:", json.dumps({k: v["total"] for k, v in world.stats().items()}))
        if args.serve:
            print("\nserving until Ctrl-C")
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m replicas", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func in (("serve", serve), ("demo", demo)):
        p = sub.add_parser(name)
        p.add_argument("--port", type=int, default=ADMIN_PORT if name == "serve" else 0,
                       help="admin port; the portals use the next ports (0: free ports)")
        p.add_argument("--docs", type=int, default=200, help="generated documents besides the five seeds")
        p.add_argument("--seed", type=int, default=2025, help="corpus seed")
        p.set_defaults(func=func)
        if name == "demo":
            p.add_argument("--serve", action="store_true", help="keep serving after the tour")
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
