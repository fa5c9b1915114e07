"""``yibao demo`` (``make demo``): the whole loop on its embedded default, in about a minute.

Starts the replica portals, a local mail sink (aiosmtpd) and a local webhook receiver on
127.0.0.1, runs the scheduler's one-shot mode over all five portals into a fresh archive, lets the
bureaus publish, edit, change validity and withdraw, runs the next scheduled crawls (a withdrawal
needs two consecutive gone checks) and prints the events and the alerts that were delivered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.app import App, CommandError, command

if TYPE_CHECKING:
    from replicas.server import ReplicaServer

HOOK_SECRET = "demo-secret"


class WebhookReceiver:
    """A real HTTP receiver that checks each delivery's HMAC signature."""

    def __init__(self) -> None:
        self.deliveries: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                stamp = self.headers.get("X-Yibao-Timestamp", "")
                expected = hmac.new(HOOK_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
                valid = hmac.compare_digest(self.headers.get("X-Yibao-Signature", ""), f"sha256={expected}")
                receiver.deliveries.append({"event": self.headers.get("X-Yibao-Event"), "valid": valid,
                                            "payload": json.loads(body or b"{}")})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


class MailSink:
    """A real SMTP server (aiosmtpd) keeping what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        with socket.socket() as probe:  # a free port (aiosmtpd's start-up check cannot use port 0)
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


def _config(directory: Path, server: ReplicaServer, mail: MailSink, hook: WebhookReceiver) -> Path:
    """The replica registry (``replicas/portals.toml`` at this run's ports, ``use_shipped = false``: the real
    bureaus of the shipped registry stay out), politeness off, then the archive, the mail relay and a watcher."""
    fast = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 4}
    lines = [
        server.registry_toml(settings=fast),
        f'[archive]\npath = "{directory / "archive.db"}"\n',
        f'[smtp]\nhost = "127.0.0.1"\nport = {mail.port}\nsecurity = "none"\n'
        'sender = "Yibao Watch <watch@example.org>"\n',
        '[alerts]\nallow_loopback = true  # the demo\'s webhook receiver runs on this machine\n',
        '[[watchers]]\nname = "policy-desk"\nevents = ["new", "edited", "validity_changed", "withdrawn"]\n'
        'kinds = ["policy", "suggestion_reply", "proposal_reply", "report", "interpretation", "notice"]\n'
        'email = ["政策组 <desk@example.org>"]\n'
        f'webhook = {{ url = "{hook.url}", secret_env = "YIBAO_DEMO_HOOK_SECRET" }}\n',
    ]
    path = directory / "yibao.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _run_once(config: Path, portals: list[str], label: str) -> None:
    print(f"\n$ yibao run --once …   # {label}", flush=True)
    env = {**os.environ, "YIBAO_DEMO_HOOK_SECRET": HOOK_SECRET}
    archive = config.parent / "archive.db"  # also named here: a $YIBAO_DB of the user's would win over the config
    cmd = [sys.executable, "-m", "cli.main", "--config", str(config), "--db", str(archive), "run", "--once", *portals]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    print(done.stdout.rstrip())


def _subject(message: Any) -> str:
    return str(make_header(decode_header(message["Subject"] or "")))


def _query_examples(archive: Path) -> None:
    """Two questions put to the archive, as a user would (``yibao search``)."""
    from cli.main import main as yibao

    for args in (["部分采纳", "--kind", "suggestion_reply", "--limit", "2"], ["门诊", "--sort", "newest", "--limit", "2"]):
        print(f"\n$ yibao search {' '.join(args)}", flush=True)
        yibao(["search", "--db", str(archive), "--color", "never", *args])
    sys.stdout.flush()


def run(docs: int = 200, keep: str | None = None) -> int:
    """The demo itself (the replicas and the archive modules are imported here, not for every ``yibao``)."""
    from replicas.server import ReplicaServer
    from replicas.world import ReplicaWorld
    from storage import list_events, open_db

    world = ReplicaWorld(docs=docs)
    mail, hook = MailSink(), WebhookReceiver()
    try:
        with ReplicaServer(world) as server, tempfile.TemporaryDirectory() as tmp:
            directory = Path(keep) if keep else Path(tmp)
            directory.mkdir(parents=True, exist_ok=True)
            print("Replica portals, mail sink and webhook receiver (127.0.0.1 only):")
            for pid, url in server.urls.items():
                print(f"  {pid:22s} {world.site(pid).bureau.name:10s} {url}")
            print(f"  {'smtp':22s} {'':10s} 127.0.0.1:{mail.port}\n  {'webhook':22s} {'':10s} {hook.url}")
            config = _config(directory, server, mail, hook)
            portals = list(server.urls)
            _run_once(config, portals, "first crawl: every document is new (a baseline: one summary per watcher and channel)")
            first_mail, first_hooks = len(mail.messages), len(hook.deliveries)
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
            _run_once(config, portals, "next scheduled crawl")
            _run_once(config, portals, "and the one after (a withdrawal needs two gone checks)")
            db = open_db(directory / "archive.db")
            events = [e for e in list_events(db) if e.kind != "new"] + list_events(db, kind="new")[-1:]
            print(f"\nEvents recorded after the first crawl ({len(list_events(db, kind='new')) - 1} new on it):")
            for event in events:
                print(f"  [{event.kind:16s}] {event.portal_id:20s} {event.summary[:70]}")
            db.close()
            print(f"\nAlerts delivered: first crawl {first_mail} e-mails / {first_hooks} webhooks; since then:")
            for message in mail.messages[first_mail:]:
                print(f"  e-mail  to {make_header(decode_header(message['To']))}: {_subject(message)[:70]}")
            for delivery in hook.deliveries[first_hooks:]:
                title = (delivery["payload"].get("document") or {}).get("title", "")
                signature = "signature ok" if delivery["valid"] else "BAD SIGNATURE"
                print(f"  webhook {delivery['event'] or '':16s} {signature}: {title[:60]}")
            _query_examples(directory / "archive.db")
            print(f"\nArchive: {directory / 'archive.db'}" + ("" if keep else " (temporary; --keep DIR keeps it)"))
            if keep:
                print(f"Browse it: yibao serve --db {directory / 'archive.db'}  (http://127.0.0.1:8001/)")
    finally:
        mail.close()
        hook.close()
    return 0


@command("demo", no_json="the demo is a story told in text",
         help="the whole loop on the replica portals, printed (make demo)")  # fmt: skip
@click.option("--docs", type=int, default=200, show_default=True, help="documents per replica portal")
@click.option("--keep", metavar="DIR", help="keep the archive and config in DIR")
def demo(app: App, docs: int, keep: str | None) -> int:
    if app.options.config or app.options.db:
        raise CommandError("the demo writes its own config and archive: use --keep DIR to keep them")
    return run(docs=docs, keep=keep)
