"""HTTP layer of the replicas: one aiohttp server per portal plus a loopback-only admin server.

What is the same for every family lives here: robots.txt variants, request counting, fault modes,
conditional GET (ETag / Last-Modified → 304), encodings and gzip. ``ReplicaServer`` runs them all
on 127.0.0.1 in a background thread (ports ephemeral unless a base port is given).
"""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import threading
from email.utils import parsedate_to_datetime
from typing import Any

from aiohttp import web

from .hostile import set_hostile
from .registry import load_entries, registry_toml
from .sites.base import Page, Req, http_date
from .world import ReplicaWorld

HOST = "127.0.0.1"
CHALLENGE = (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"Cache-Control\" content=\"no-cache\">"
    "<script type=\"text/javascript\">$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=74521;$_ts.cd=\"qEqrrrAlqGWcEcAoqGq\";"
    "</script><script type=\"text/javascript\" charset=\"utf-8\" src=\"/4QbVtADbnLVIc/c.FxJzG50F.dfe1675.js\" r=\"m\">"
    "</script></head><body></body></html>"
)


def robots_page(mode: str, disallow: tuple[str, ...]) -> Page:
    if mode == "missing":
        return Page(404, "<html><body><h1>404 Not Found</h1></body></html>")
    if mode == "forbidden":
        return Page(403, "<html><body><h1>403 Forbidden</h1></body></html>")
    rules = "".join(f"Disallow: {p}\n" for p in disallow) if mode == "disallow" else "Disallow:\n"
    return Page(200, f"User-agent: *\n{rules}", content_type="text/plain")


def not_modified(request: web.Request, page: Page, etags: bool, dates: bool) -> bool:
    if etags and page.etag and request.headers.get("If-None-Match"):
        return page.etag in [t.strip() for t in request.headers["If-None-Match"].split(",")]
    since = request.headers.get("If-Modified-Since")
    if dates and page.last_modified and since:
        try:
            return parsedate_to_datetime(http_date(page.last_modified)) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


class PortalHandler:
    """The aiohttp handler of one replica portal."""

    def __init__(self, world: ReplicaWorld, portal_id: str) -> None:
        self.world = world
        self.portal_id = portal_id

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        response = await self.respond(request)
        self.world.count(self.portal_id, request.method, request.path, request.query_string, response.status)
        return response

    async def respond(self, request: web.Request) -> web.StreamResponse:
        state = self.world.portals[self.portal_id]
        site, faults = state.site, state.faults
        if request.path == "/robots.txt" and not (faults.challenge or faults.ban_after):
            return await self.send(request, robots_page(state.robots, site.robots_disallow))
        if request.path.startswith(faults.path_prefix) and faults.active():
            early = await self.fault_response(request)
            if early is not None:
                return early
        form: dict[str, str] = {}
        if request.method == "POST":
            form = {k: str(v) for k, v in (await request.post()).items()}
        req = Req(request.method, request.path, dict(request.query), form, {"host": request.host})
        with self.world.lock:
            page = site.dispatch(req)
            etags, dates = site.etag_support, site.last_modified_support
        if page.status == 200 and not_modified(request, page, etags, dates):
            return web.Response(status=304, headers=self.validators(page, etags, dates))
        return await self.send(request, page)

    async def fault_response(self, request: web.Request) -> web.StreamResponse | None:
        state = self.world.portals[self.portal_id]
        faults = state.faults
        if self.world.rate_limited(self.portal_id):
            return web.Response(status=403, text="<html><body>访问过于频繁，请稍后再试。</body></html>",
                                content_type="text/html")
        if faults.challenge:
            return web.Response(status=412, text=CHALLENGE, content_type="text/html")
        with self.world.lock:
            burst = faults.error_burst > 0
            if burst:
                faults.error_burst -= 1
        if burst:
            return web.Response(status=faults.error_status, text="<html><body>Service Unavailable</body></html>",
                                content_type="text/html")
        if faults.slow:
            await asyncio.sleep(faults.slow)
        if faults.redirect_loop:
            return web.Response(status=302, headers={"Location": str(request.rel_url)})
        return None

    def validators(self, page: Page, etags: bool, dates: bool) -> dict[str, str]:
        headers = {}
        if etags and page.etag:
            headers["ETag"] = page.etag
        if dates and page.last_modified:
            headers["Last-Modified"] = http_date(page.last_modified)
        return headers

    def encode(self, page: Page) -> tuple[bytes, str]:
        state = self.world.portals[self.portal_id]
        site, faults = state.site, state.faults
        if page.data is not None:
            return page.data, page.content_type
        text = page.text or ""
        is_html = page.content_type == "text/html" and page.status == 200
        if is_html and faults.huge:
            text = text.replace("</body>", "<div class=\"pad\">" + "<span>填充</span>" * (faults.huge // 19) + "</div></body>")
        if is_html and faults.malformed:
            text = text[: int(len(text) * 0.7)] + "<div class=\"broken\"><p>未闭合<table><tr><td>"
        encoding = page.encode_as or (site.encoding if page.content_type == "text/html" else "utf-8")
        body = text.encode(encoding, errors="xmlcharrefreplace")
        charset = faults.wrong_charset or (encoding if site.charset_in_header or page.content_type != "text/html" else None)
        content_type = f"{page.content_type}; charset={charset}" if charset else page.content_type
        return body, content_type

    async def send(self, request: web.Request, page: Page) -> web.StreamResponse:
        state = self.world.portals[self.portal_id]
        faults = state.faults
        body, content_type = self.encode(page)
        headers = {"Content-Type": content_type, "Server": "nginx", **page.headers}
        if page.status == 200:
            headers.update(self.validators(page, state.site.etag_support, state.site.last_modified_support))
        wants_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
        if (wants_gzip or faults.force_gzip) and len(body) > 256 and "Content-Encoding" not in headers:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
        if faults.truncate and request.path.startswith(faults.path_prefix) and request.method != "HEAD":
            return await self.truncated(request, page.status, headers, body)
        return web.Response(status=page.status, body=body, headers=headers)

    @staticmethod
    async def truncated(request: web.Request, status: int, headers: dict[str, str], body: bytes) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        if request.transport is not None:
            request.transport.close()
        return response


# -- admin ---------------------------------------------------------------------------------------


def _loopback_only(request: web.Request) -> None:
    remote = request.remote or ""
    try:
        if ipaddress.ip_address(remote).is_loopback:
            return
    except ValueError:
        pass
    raise web.HTTPForbidden(text="admin endpoint is loopback-only")


def admin_app(world: ReplicaWorld, urls: dict[str, str]) -> web.Application:
    """JSON admin API: stats, ground truth, mutations, faults, robots."""
    routes = web.RouteTableDef()

    async def body(request: web.Request) -> dict[str, Any]:
        return await request.json() if request.can_read_body else {}

    def doc_json(doc_id: int) -> dict[str, Any]:
        truth = world.truth(doc_id)
        portal = world.doc(doc_id).portal_id
        truth["urls"] = {k: urls[portal] + v for k, v in world.urls(doc_id).items()}
        return truth

    @routes.get("/portals")
    async def portals(request: web.Request) -> web.Response:
        return web.json_response({pid: {"url": urls[pid], "family": world.site(pid).family,
                                        "name": world.site(pid).bureau.name} for pid in world.portals})

    @routes.get("/stats")
    async def stats(request: web.Request) -> web.Response:
        data = world.stats(request.query.get("portal"))
        if request.query.get("log") != "1":
            for item in data.values():
                item.pop("log")
        return web.json_response(data)

    @routes.post("/stats/reset")
    async def reset(request: web.Request) -> web.Response:
        world.reset_stats()
        return web.json_response({"ok": True})

    @routes.get("/portals/{pid}/docs")
    async def docs(request: web.Request) -> web.Response:
        return web.json_response([doc_json(d.doc_id) for d in world.docs(request.match_info["pid"])])

    @routes.get("/docs/{doc_id}")
    async def doc(request: web.Request) -> web.Response:
        return web.json_response(doc_json(int(request.match_info["doc_id"])))

    @routes.post("/portals/{pid}/publish")
    async def publish(request: web.Request) -> web.Response:
        data = await body(request)
        if request.match_info["pid"] not in world.portals:
            raise web.HTTPNotFound(text=f"unknown portal; known: {sorted(world.portals)}")
        try:
            new = world.publish(request.match_info["pid"], data.get("column"), kind=data.get("kind"))
        except (KeyError, StopIteration, ValueError) as exc:
            raise web.HTTPBadRequest(text=f"cannot publish: {exc!r}") from exc
        return web.json_response(doc_json(new.doc_id))

    actions = {
        "edit": lambda i, d: world.edit(i, d.get("paragraph"), d.get("text")),
        "metadata": lambda i, d: world.set_metadata(i, **d),
        "withdraw": lambda i, d: world.withdraw(i, d.get("mode")),
        "restore": lambda i, d: world.restore(i),
        "repost": lambda i, d: world.repost(i, d.get("portal"), d.get("column")),
        "add-attachment": lambda i, d: world.add_attachment(i),
        "replace-attachment": lambda i, d: world.replace_attachment(i, d.get("index", 0)),
    }

    @routes.post("/docs/{doc_id}/{action}")
    async def act(request: web.Request) -> web.Response:
        action = actions.get(request.match_info["action"])
        if action is None:
            raise web.HTTPNotFound(text=f"unknown action; known: {sorted(actions)}")
        try:
            result = action(int(request.match_info["doc_id"]), await body(request))
        except (ValueError, KeyError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc
        return web.json_response(doc_json(result.doc_id))

    @routes.post("/portals/{pid}/faults")
    async def faults(request: web.Request) -> web.Response:
        try:
            state = world.set_faults(request.match_info["pid"], **(await body(request)))
        except (ValueError, TypeError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc
        return web.json_response(state.__dict__)

    @routes.delete("/portals/{pid}/faults")
    async def clear(request: web.Request) -> web.Response:
        world.clear_faults(request.match_info["pid"])
        return web.json_response({"ok": True})

    @routes.post("/portals/{pid}/hostile")
    async def hostile(request: web.Request) -> web.Response:
        """``{"kinds": [...], "moved_to": "http://host:port"}``: hostile detail pages (``replicas.hostile``)."""
        data = await body(request)
        try:
            set_hostile(world, request.match_info["pid"], tuple(data.get("kinds") or ()), data.get("moved_to"))
        except (ValueError, KeyError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc
        return web.json_response({"ok": True})

    @routes.post("/portals/{pid}/robots")
    async def robots(request: web.Request) -> web.Response:
        try:
            world.set_robots(request.match_info["pid"], (await body(request))["mode"])
        except (ValueError, KeyError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc
        return web.json_response({"ok": True})

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        _loopback_only(request)
        return await handler(request)

    app = web.Application(middlewares=[guard])
    app.add_routes(routes)
    return app


class ReplicaServer:
    """Runs every portal of ``world`` plus the admin API on 127.0.0.1 in a background thread.

    ``base_port=0`` picks free ports; otherwise the admin listens on ``base_port`` and the portals
    on the following ports in the order of ``replicas/portals.toml`` (``python -m replicas serve``:
    8120, then 8121..8125). ``registry_toml()`` is the config of the running portals.
    """

    def __init__(self, world: ReplicaWorld, base_port: int = 0) -> None:
        self.world = world
        self.base_port = base_port
        self.urls: dict[str, str] = {}
        self.admin_url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self._ready = threading.Event()
        self._error: BaseException | None = None

    async def _start_app(self, app: web.Application, port: int) -> int:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, HOST, port, reuse_address=True)
        await site.start()
        self._runners.append(runner)
        return runner.addresses[0][1]

    def portal_order(self) -> list[str]:
        """The world's portals in registry order (``replicas/portals.toml``), any others after them."""
        listed = [pid for pid in load_entries() if pid in self.world.portals]
        return listed + [pid for pid in self.world.portals if pid not in listed]

    def registry_toml(self, *portal_ids: str, **fields: Any) -> str:
        """``use_shipped = false`` and the complete ``[[portals]]`` entries of ``replicas/portals.toml`` at
        this server's URLs: every portal or ``portal_ids``, with ``fields`` added to each (e.g. ``settings``).
        It starts with a top-level key: put it first in a config file."""
        return registry_toml(self.urls, portal_ids, **fields)

    async def start_async(self) -> None:
        for index, portal_id in enumerate(self.portal_order(), start=1):
            app = web.Application(client_max_size=2 * 1024 * 1024)
            # the bound coroutine method: aiohttp deprecates (warns on) non-coroutine callables
            app.router.add_route("*", "/{tail:.*}", PortalHandler(self.world, portal_id).__call__)
            port = await self._start_app(app, self.base_port + index if self.base_port else 0)
            self.urls[portal_id] = f"http://{HOST}:{port}"
        port = await self._start_app(admin_app(self.world, self.urls), self.base_port)
        self.admin_url = f"http://{HOST}:{port}"

    async def stop_async(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self.start_async())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            loop.run_until_complete(self.stop_async())
            loop.close()
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self.stop_async())
        loop.close()

    def start(self) -> ReplicaServer:
        self._thread = threading.Thread(target=self._run, name="replicas", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise RuntimeError(f"replica servers failed to start: {self._error}") from self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
            self._loop = None

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
