"""Signed JSON webhooks (schema in ``docs/webhook.md``).

POST ``application/json`` (UTF-8) with headers ``X-Yibao-Event`` (event kind, ``digest`` or ``test``),
``X-Yibao-Delivery`` (the idempotency key: the same on every retry), ``X-Yibao-Timestamp`` (Unix seconds
of this attempt) and ``X-Yibao-Signature: sha256=<hex>``, the HMAC-SHA256 of ``f"{timestamp}.{body}"``
under the watcher's secret (the environment variable ``webhook.secret_env``). Only a 2xx answer counts as
delivered. Redirects are not followed, except 307/308 to the same scheme, host and port (which keep
the method and body); anything else is a failed attempt.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import time
from urllib.parse import urljoin, urlsplit

import httpx

from alerts.channels import DeliveryError, Outgoing
from alerts.watchers import AlertsConfig

USER_AGENT = "YibaoWatch-Webhook/1"
MAX_SAME_HOST_REDIRECTS = 3


def body_bytes(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of f"{timestamp}.{body}">``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@functools.cache
def _client(timeout: float) -> httpx.Client:
    """One pooled client per process (thread-safe; building one costs ~40 ms of TLS setup)."""
    return httpx.Client(timeout=timeout, follow_redirects=False)


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def send(out: Outgoing, config: AlertsConfig) -> str:
    hook = out.watcher.webhook
    if hook is None:
        raise DeliveryError(f"watcher {out.watcher.name} no longer has a webhook", permanent=True)
    secret = os.environ.get(hook.secret_env)
    if not secret:
        raise DeliveryError(f"webhook secret: environment variable {hook.secret_env} is not set")
    body = body_bytes(out.message.payload)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Yibao-Event": out.message.kind,
        "X-Yibao-Delivery": out.delivery_id,
        "X-Yibao-Timestamp": timestamp,
        "X-Yibao-Signature": sign(secret, timestamp, body),
    }
    url = out.target
    client = _client(config.settings.timeout)
    try:
        for _ in range(MAX_SAME_HOST_REDIRECTS + 1):
            response = client.post(url, content=body, headers=headers)
            status = response.status_code
            if 200 <= status < 300:
                return f"HTTP {status}"
            location = response.headers.get("location")
            if status in (307, 308) and location:
                target = urljoin(url, location)
                if _origin(target) == _origin(url):
                    url = target
                    continue
                raise DeliveryError(f"HTTP {status}: redirect to another host refused")
            raise DeliveryError(f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else ""))
        raise DeliveryError("too many redirects")
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
