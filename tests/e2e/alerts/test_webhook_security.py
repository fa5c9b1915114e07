"""Webhooks: the Standard Webhooks headers (verified here by an independent implementation of the spec and by
the ``standardwebhooks`` library), and ``check_target_url``: credentials, link-local and cloud metadata
addresses in any spelling, and this machine unless allowed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from alerts.channels.webhook import check_target_url
from alerts.dispatch import dispatch_due
from alerts.routing import make_router
from alerts.watchers import AlertsConfig, AlertSettings, Watcher, Webhook, load_alerts
from storage.archive import record
from storage.db import open_db
from storage.outbox import list_deliveries
from storage.runs import start_run
from tests.alerts.conftest import HOOK_SECRET, HookReceiver, Received
from tests.e2e.alerts.test_delivery import signed
from tests.storage.factories import NOW, policy

# --- check_target_url -------------------------------------------------------------------------------

FINE = None
CASES = [
    # (url, allow_loopback, a piece of the problem text, or None when the URL is fine)
    ("https://hooks.example.org/yibao", False, FINE),
    ("http://hooks.example.org:8080/x?a=1", False, FINE),
    ("https://10.1.2.3/hook", False, FINE),  # an internal relay on a private network is a normal target
    ("http://169.254.169.254/latest/meta-data/", False, "link-local"),
    ("http://169.254.169.254/latest/meta-data/", True, "link-local"),  # allowing loopback allows no more
    ("http://169.254.0.1:8080/hook", False, "link-local"),
    ("http://169.254.169.254./", False, "link-local"),  # a trailing dot
    ("http://[fe80::1]/hook", False, "link-local"),
    ("http://[fe80::1%25eth0]:8080/hook", False, "link-local"),  # with a zone id
    ("http://[febf:ffff::1]/", False, "link-local"),  # the top of fe80::/10
    ("http://[::ffff:169.254.169.254]/", False, "link-local"),  # IPv4-mapped
    ("http://2852039166/", False, "link-local"),  # 169.254.169.254 as one decimal number
    ("http://0xa9fea9fe/", False, "link-local"),  # ... in hex
    ("http://0251.0376.0251.0376/", False, "link-local"),  # ... in octal
    ("http://169.254.43518/", False, "link-local"),  # ... as a.b.c
    ("http://metadata.google.internal/computeMetadata/v1/", False, "metadata"),
    ("http://METADATA.tencentyun.com/latest/meta-data/", False, "metadata"),
    ("http://100.100.100.200/latest/meta-data/", False, "metadata"),  # Alibaba Cloud
    ("http://[fd00:ec2::254]/latest/meta-data/", True, "metadata"),  # AWS over IPv6
    ("http://127.0.0.1:9000/hook", False, "this machine"),
    ("http://127.0.0.1:9000/hook", True, FINE),
    ("http://127.1/hook", False, "this machine"),
    ("http://localhost/hook", False, "this machine"),
    ("http://localhost/hook", True, FINE),
    ("http://api.localhost/hook", False, "this machine"),
    ("http://[::1]:8000/", False, "this machine"),
    ("http://0.0.0.0:8080/", False, "this machine"),
    ("https://user:pa55@hooks.example.org/yibao", False, "credentials"),
    ("https://user:pa55@127.0.0.1/yibao", True, "credentials"),
    ("https://token@hooks.example.org/yibao", False, "credentials"),
    ("ftp://hooks.example.org/x", False, "http(s)"),
    ("hooks.example.org/yibao", False, "http(s)"),
    ("https:///path-only", False, "http(s)"),
    ("", False, "http(s)"),
    (5, False, "http(s)"),
    ("http://[::1/", True, "not a valid URL"),
    ("http://hooks.example.org:99999/", False, "not a valid URL"),
]


@pytest.mark.parametrize(("url", "allow_loopback", "problem"), CASES)
def test_check_target_url(url: Any, allow_loopback: bool, problem: str | None) -> None:
    found = check_target_url(url, allow_loopback=allow_loopback)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found
        assert "pa55" not in found  # never repeats a password


# --- Standard Webhooks --------------------------------------------------------------------------------


def spec_verify(key: bytes, headers: dict[str, str], body: bytes, *, tolerance: float = 300) -> bool:
    """The Standard Webhooks verification, written from the spec: HMAC-SHA256 over
    ``{webhook-id}.{webhook-timestamp}.{body}``, base64, in a space-separated list of ``v1,<sig>``."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, signatures = lower["webhook-id"], lower["webhook-timestamp"], lower["webhook-signature"]
    if abs(time.time() - int(stamp)) > tolerance:
        return False
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    for item in signatures.split(" "):
        version, _, signature = item.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


WHSEC_KEY = bytes(range(7, 39))  # 32 bytes
WHSEC = "whsec_" + base64.b64encode(WHSEC_KEY).decode()


def deliver(tmp_path: Path, receiver: HookReceiver, *, fail_first: bool = False) -> list[Received]:
    """One event to a webhook watcher, dispatched for real; the requests the receiver got."""
    text = (f'[alerts]\nallow_loopback = true\nbackoff_base = 1\nbackoff_jitter = 0\n[[watchers]]\nname = "hook"\n'
            f'webhook = {{ url = "{receiver.url()}", secret_env = "YIBAO_HOOK_SECRET" }}\n')
    raw = tomllib.loads(text)
    db = open_db(tmp_path / "archive.db")
    run = start_run(db, "fujian_ningde", now=NOW)
    record(db, policy(), run_id=run, now=NOW, on_event=make_router(load_alerts(raw)))
    if fail_first:
        receiver.fail_next(1)
        dispatch_due(db, raw)
        time.sleep(1.1)  # the retry is due after 1 s, and gets a new timestamp
    dispatch_due(db, raw)
    return receiver.requests


def test_standard_webhooks_headers_with_a_plain_secret(tmp_path, receiver, hook_secret) -> None:
    first, retry = deliver(tmp_path, receiver, fail_first=True)
    for req in (first, retry):
        headers = req.headers
        assert headers["webhook-id"] == headers["X-Yibao-Delivery"] == req.json["delivery_id"]
        assert headers["webhook-timestamp"] == headers["X-Yibao-Timestamp"]
        assert headers["webhook-signature"].startswith("v1,")
        # a secret without the whsec_ prefix: the key is its UTF-8 bytes
        assert spec_verify(HOOK_SECRET.encode("utf-8"), headers, req.body)
        assert signed(req)  # our own signature is still there
        assert not spec_verify(HOOK_SECRET.encode("utf-8"), headers, req.body.replace(b"policy", b"notice"))
        assert not spec_verify(b"another key", headers, req.body)
        assert not spec_verify(HOOK_SECRET.encode("utf-8"), {**headers, "webhook-id": "x" * 64}, req.body)
    assert first.headers["webhook-id"] == retry.headers["webhook-id"]  # stable across retries ...
    assert first.headers["webhook-timestamp"] != retry.headers["webhook-timestamp"]  # ... timestamp per attempt


def test_standard_webhooks_headers_with_a_whsec_secret(tmp_path, receiver, monkeypatch) -> None:
    monkeypatch.setenv("YIBAO_HOOK_SECRET", WHSEC)
    (req,) = deliver(tmp_path, receiver)
    assert spec_verify(WHSEC_KEY, req.headers, req.body)  # keyed with the base64-decoded secret
    assert not spec_verify(WHSEC.encode(), req.headers, req.body)
    assert signed(req, WHSEC)  # X-Yibao-Signature keeps using the secret as written


def test_the_standardwebhooks_library_verifies_our_deliveries(tmp_path, receiver, monkeypatch) -> None:
    standardwebhooks = pytest.importorskip("standardwebhooks")
    monkeypatch.setenv("YIBAO_HOOK_SECRET", WHSEC)
    (req,) = deliver(tmp_path, receiver)
    assert standardwebhooks.Webhook(WHSEC).verify(req.body, req.headers) == req.json
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(WHSEC).verify(req.body.replace(b"policy", b"notice"), req.headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook("whsec_" + base64.b64encode(b"k" * 32).decode()).verify(req.body, req.headers)


def test_the_standardwebhooks_library_with_a_plain_secret(tmp_path, receiver, hook_secret) -> None:
    standardwebhooks = pytest.importorskip("standardwebhooks")
    (req,) = deliver(tmp_path, receiver)
    # docs/webhook.md: give the library the secret's UTF-8 bytes (or whsec_ + their base64)
    assert standardwebhooks.Webhook(HOOK_SECRET.encode("utf-8")).verify(req.body, req.headers) == req.json
    as_whsec = "whsec_" + base64.b64encode(HOOK_SECRET.encode("utf-8")).decode()
    assert standardwebhooks.Webhook(as_whsec).verify(req.body, req.headers) == req.json


def test_a_target_with_credentials_is_refused_at_send_time(tmp_path, receiver, hook_secret) -> None:
    """Defence in depth behind the config check: nothing is sent to a URL carrying ``user:pass@``."""
    url = f"http://watch:pa55@127.0.0.1:{receiver.port}/hook"
    config = AlertsConfig((Watcher(name="creds", webhook=Webhook(url, "YIBAO_HOOK_SECRET")),), None,
                          AlertSettings(backoff_jitter=0))
    db = open_db(tmp_path / "archive.db")
    run = start_run(db, "fujian_ningde", now=NOW)
    record(db, policy(), run_id=run, now=NOW, on_event=make_router(config))
    dispatch_due(db, config)
    (row,) = list_deliveries(db)
    assert row.status == "dead"
    assert "credentials" in (row.last_error or "")
    assert "pa55" not in (row.last_error or "")
    assert receiver.requests == []


def documented_standard_example() -> Any:
    """``verify_standard`` from the library example of docs/webhook.md."""
    pytest.importorskip("standardwebhooks")
    doc = (Path(__file__).parents[3] / "docs" / "webhook.md").read_text(encoding="utf-8")
    code = doc.split("## Verifying with a Standard Webhooks library", 1)[1].split("```python\n", 1)[1]
    namespace: dict[str, Any] = {"__name__": "webhook_doc_standard_example"}
    exec(compile(code.split("```", 1)[0], "docs/webhook.md", "exec"), namespace)
    return namespace["verify_standard"]


def test_documented_standard_webhooks_example_verifies_real_deliveries(tmp_path, receiver, hook_secret) -> None:
    verify = documented_standard_example()
    (req,) = deliver(tmp_path, receiver)
    assert verify(HOOK_SECRET, req.headers, req.body) == req.json
    assert verify("another secret", req.headers, req.body) is None
    assert verify(HOOK_SECRET, req.headers, req.body.replace(b"policy", b"notice")) is None


def test_documented_standard_webhooks_example_with_a_whsec_secret(tmp_path, receiver, monkeypatch) -> None:
    verify = documented_standard_example()
    monkeypatch.setenv("YIBAO_HOOK_SECRET", WHSEC)
    (req,) = deliver(tmp_path, receiver)
    assert verify(WHSEC, req.headers, req.body) == req.json
    assert verify("whsec_" + base64.b64encode(b"k" * 32).decode(), req.headers, req.body) is None
