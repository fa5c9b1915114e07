"""Signed JSON webhooks (schema in ``docs/webhook.md``).

POST ``application/json`` (UTF-8) with headers ``X-Yibao-Event`` (event kind, ``digest`` or ``test``),
``X-Yibao-Delivery`` (the idempotency key: the same on every retry), ``X-Yibao-Timestamp`` (Unix seconds
of this attempt) and ``X-Yibao-Signature: sha256=<hex>``, the HMAC-SHA256 of ``f"{timestamp}.{body}"``
under the watcher's secret (the environment variable ``webhook.secret_env``). Alongside, the same request
carries the `Standard Webhooks <https://www.standardwebhooks.com/>`_ headers, so receivers can verify with
an existing library: ``webhook-id`` (= the delivery id), ``webhook-timestamp`` (= ``X-Yibao-Timestamp``)
and ``webhook-signature: v1,<base64 HMAC-SHA256 of f"{id}.{timestamp}.{body}">``, keyed with the base64
decoding of the secret after ``whsec_`` when the secret has that prefix, else with the secret's UTF-8 bytes.
Only a 2xx answer counts as delivered. Redirects are not followed, except 307/308 to the same scheme, host
and port (which keep the method and body); anything else is a failed attempt.

``check_target_url(url, allow_loopback=...)`` says what is wrong with a webhook (or ``base_url``) target:
credentials in the URL, a link-local or cloud metadata address, this machine (unless allowed). The config
loader calls it; ``send`` calls it again (loopback allowed, as the loader decided) before every POST.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import ipaddress
import json
import os
import re
import socket
import time
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from alerts.channels import DeliveryError, Outgoing
from alerts.watchers import AlertsConfig

if TYPE_CHECKING:
    import httpx

USER_AGENT = "YibaoWatch-Webhook/1"
MAX_SAME_HOST_REDIRECTS = 3
STANDARD_SECRET_PREFIX = "whsec_"

# Cloud instance metadata services: reachable from a server, and handing out its credentials
METADATA_HOSTS = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
    "metadata.tencentyun.com",
})  # fmt: skip
METADATA_ADDRESSES = frozenset({
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud ECS
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
})  # fmt: skip
_INET_ATON = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.IGNORECASE)


def body_bytes(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of f"{timestamp}.{body}">``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def standard_key(secret: str) -> bytes:
    """The Standard Webhooks signing key: ``whsec_<base64>`` is decoded, any other secret is its UTF-8
    bytes (a receiver then gives its library those bytes, or ``whsec_`` + their base64). Raises
    ``ValueError`` for a ``whsec_`` secret that is not base64."""
    if not secret.startswith(STANDARD_SECRET_PREFIX):
        return secret.encode("utf-8")
    text = secret[len(STANDARD_SECRET_PREFIX):]
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise ValueError("a secret starting with whsec_ must continue in base64") from None
    if not key:
        raise ValueError("the secret is empty after whsec_")
    return key


def standard_sign(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """``webhook-signature``: ``v1,<base64 HMAC-SHA256 of f"{msg_id}.{timestamp}.{body}">``."""
    signed = msg_id.encode("utf-8") + b"." + timestamp.encode("ascii") + b"." + body
    mac = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def _literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host name spells out literally, in any form a resolver takes as one (``169.254.169.254``,
    ``[fe80::1%eth0]``, ``::ffff:169.254.169.254``, ``2852039166``, ``0xa9.0xfe.43518``); None for a name."""
    text = host.rstrip(".").split("%", 1)[0]
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(text)
    except ValueError:
        if not _INET_ATON.fullmatch(text):
            return None
        try:
            ip = ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def check_target_url(url: object, *, allow_loopback: bool) -> str | None:
    """What is wrong with ``url`` as a place to POST alerts to (or as the archive's ``base_url``), as text
    that reads after "field 'webhook.url' "; None when it is fine. Refused: anything but an absolute
    http(s) URL; credentials in it (``user:pass@``: use ``secret_env``); a link-local address
    (169.254.0.0/16, fe80::/10) or a cloud metadata service, by name or by a literal address in any
    spelling; this machine (127.0.0.0/8, ::1, 0.0.0.0, ``localhost``) unless ``allow_loopback``.
    Names are not resolved: a name that resolves to such an address is not caught here."""
    if not isinstance(url, str):
        return f"must be an absolute http(s) URL, got {url!r}"
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http(s) URL"
    if "@" in parts.netloc:
        return "must not carry credentials (user:pass@ in the URL): sign with secret_env instead"
    host = parts.hostname.rstrip(".").lower()
    if host in METADATA_HOSTS:
        return f"must not point at a cloud metadata service ({host})"
    ip = _literal_ip(host)
    if ip is not None and (ip.is_link_local or ip in METADATA_ADDRESSES):
        return f"must not point at a link-local or cloud metadata address ({ip})"
    local = (ip is not None and (ip.is_loopback or ip.is_unspecified)) or host == "localhost" or host.endswith(
        ".localhost"
    )
    if local and not allow_loopback:
        return f"points at this machine ({host}): loopback targets must be allowed explicitly ([alerts] allow_loopback = true)"
    return None


@functools.cache
def _client(timeout: float) -> httpx.Client:
    """One pooled client per process (thread-safe; building one costs ~40 ms of TLS setup). httpx is imported
    here, not at the top: every crawl loads this module to check its watchers' targets, and httpx (which brings
    rich and pygments for its own command line) cost each crawl process about 70 ms of start-up."""
    import httpx

    return httpx.Client(timeout=timeout, follow_redirects=False)


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def send(out: Outgoing, config: AlertsConfig) -> str:
    hook = out.watcher.webhook
    if hook is None:
        raise DeliveryError(f"watcher {out.watcher.name} no longer has a webhook", permanent=True)
    problem = check_target_url(out.target, allow_loopback=True)  # loopback: as the config allowed it
    if problem is not None:
        raise DeliveryError(f"webhook target refused: it {problem}", permanent=True)
    secret = os.environ.get(hook.secret_env)
    if not secret:
        raise DeliveryError(f"webhook secret: environment variable {hook.secret_env} is not set")
    body = body_bytes(out.message.payload)
    timestamp = str(int(time.time()))
    try:
        standard = standard_sign(secret, out.delivery_id, timestamp, body)
    except ValueError as exc:
        raise DeliveryError(f"webhook secret {hook.secret_env}: {exc}") from None
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Yibao-Event": out.message.kind,
        "X-Yibao-Delivery": out.delivery_id,
        "X-Yibao-Timestamp": timestamp,
        "X-Yibao-Signature": sign(secret, timestamp, body),
        "webhook-id": out.delivery_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": standard,
    }
    import httpx

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
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"{type(exc).__name__}: no answer within {config.settings.timeout:g} s ({exc})",
                            timed_out=True) from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
