"""Delivery guarantees against a real SMTP server and a real HTTP receiver: retries with backoff, dead
letters and ops alerts, requeueing, a dispatcher killed between send and mark, digests, escaping,
``alerts test``."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.dispatch import backoff_delay, dispatch_due
from alerts.routing import make_router
from alerts.watchers import AlertSettings, load_alerts
from storage.archive import record
from storage.db import open_db
from storage.events import Event
from storage.outbox import list_deliveries, requeue, status_counts
from storage.runs import start_run
from tests.alerts.conftest import (
    HOOK_SECRET,
    HookReceiver,
    Received,
    SmtpSink,
    alerts_toml,
    free_port,
    wait_for,
)
from tests.e2e.warm import yibao
from tests.storage.factories import LATER, NOW, policy, reply

T0 = datetime(2025, 8, 19, 2, 0, tzinfo=UTC)  # LATER


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def make_config(tmp_path: Path, smtp: SmtpSink, watchers: str, **kw: Any) -> Path:
    text = f'[archive]\npath = "{tmp_path / "archive.db"}"\n' + alerts_toml(smtp.port, **kw) + watchers
    path = tmp_path / "yibao.toml"
    path.write_text(text, encoding="utf-8")
    return path


def raw_config(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def seed(config: Path, records: list[Any] | None = None) -> tuple[Any, list[Event]]:
    """An archive with a few events, routed by the config's watchers."""
    router = make_router(load_alerts(raw_config(config)))
    db = open_db(config.parent / "archive.db")
    run = start_run(db, "fujian_ningde", now=NOW)
    events = [record(db, rec, run_id=run, now=NOW, on_event=router) for rec in records or [policy(), reply()]]
    return db, [e for e in events if e is not None]


def hook(receiver: HookReceiver, path: str = "/hook") -> str:
    return f'webhook = {{ url = "{receiver.url(path)}", secret_env = "YIBAO_HOOK_SECRET" }}'


def signed(req: Received, secret: str = HOOK_SECRET) -> bool:
    timestamp = req.headers["X-Yibao-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + req.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(req.headers["X-Yibao-Signature"], f"sha256={expected}")


def cli(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m cli.alerts --config CONFIG ARGS``, forked warm (tests/e2e/warm.py)."""
    return yibao("--config", str(config), *args, module="cli.alerts", timeout=timeout, env=os.environ.copy())


def drain(db: Any, config: dict[str, Any], start: float = 0, until: float = 120) -> float:
    """Dispatch once per simulated second until nothing is pending or failed; returns the time it took."""
    t = start
    while t <= until:
        dispatch_due(db, config, now=at(t))
        counts = status_counts(db)
        if counts["pending"] + counts["failed"] + counts["sending"] == 0:
            return t
        t += 1
    raise AssertionError(f"still undelivered at t={t}: {status_counts(db)}")


def test_backoff_is_exponential_with_jitter() -> None:
    settings = AlertSettings(backoff_base=60, backoff_max=3600, backoff_jitter=0)
    assert [backoff_delay(n, settings) for n in (1, 2, 3, 7, 8, 20)] == [60, 120, 240, 3600, 3600, 3600]
    jittered = [backoff_delay(3, AlertSettings(backoff_base=60, backoff_jitter=0.25)) for _ in range(200)]
    assert 180 <= min(jittered) < max(jittered) <= 300


def test_receiver_down_for_a_while_then_everything_arrives_once(tmp_path, smtp, receiver, hook_secret) -> None:
    config = make_config(tmp_path, smtp, f'[[watchers]]\nname = "hook"\n{hook(receiver)}\n')
    db, events = seed(config, [policy(), reply(), policy("https://ybj.example.gov.cn/zcwj/t2.html", index_no="i2",
                                                         doc_no="宁医保〔2025〕117号", title="第二个通知")])
    raw = raw_config(config)
    receiver.fail_next(7)
    report = dispatch_due(db, raw, now=at(0))
    assert (report.sent, report.retrying, report.dead) == (0, 3, 0)
    rows = list_deliveries(db)
    assert {r.next_attempt_at for r in rows} == {at(1)}  # backoff_base 1 s, no jitter
    assert {r.last_error for r in rows} == {"HTTP 500"}
    dispatch_due(db, raw, now=at(1))
    assert {r.next_attempt_at for r in list_deliveries(db)} == {at(3)}  # then 2 s
    drain(db, raw, start=2)
    assert status_counts(db)["dead"] == 0
    delivered = receiver.delivered()
    assert len(delivered) == 3
    assert sorted(r.headers["X-Yibao-Delivery"] for r in delivered) == sorted(r.idempotency_key for r in rows)
    assert sorted(r.json["event"]["id"] for r in delivered) == [e.id for e in events]
    assert all(signed(r) for r in receiver.requests)
    # retries carry the delivery id of the first try
    first_ids = {r.headers["X-Yibao-Delivery"] for r in receiver.requests[:3]}
    assert first_ids == {r.headers["X-Yibao-Delivery"] for r in delivered}


def test_smtp_down_then_up_delivers_everything_once(tmp_path, smtp) -> None:
    config = make_config(tmp_path, smtp, '[[watchers]]\nname = "mail"\nemail = ["王五 <wangwu@example.org>"]\n')
    db, _events = seed(config)
    raw = raw_config(config)
    smtp.stop()
    report = dispatch_due(db, raw, now=at(0))
    assert report.retrying == 2
    assert all("Connection" in r.last_error or "refused" in r.last_error for r in list_deliveries(db))
    smtp.start()
    smtp.fail_next(1)  # and a temporary 451 once it is back
    drain(db, raw, start=1)
    assert status_counts(db) == {"pending": 0, "sending": 0, "sent": 2, "failed": 0, "dead": 0}
    assert smtp.refused == 1
    ids = [m["Message-ID"] for m in smtp.messages]
    assert len(ids) == len(set(ids)) == 2
    assert {m["X-Yibao-Event"] for m in smtp.messages} == {"new"}


def test_failing_channel_goes_dead_raises_ops_alert_and_can_be_requeued(tmp_path, smtp, receiver, hook_secret) -> None:
    watchers = (
        f'[[watchers]]\nname = "mixed"\nemail = ["a@example.org"]\n{hook(receiver, "/broken")}\n'
        f'[[watchers]]\nname = "healthy"\n{hook(receiver, "/ok")}\n'
        f'[[watchers]]\nname = "ops"\nops = true\n{hook(receiver, "/ops")}\n'
    )
    config = make_config(tmp_path, smtp, watchers, max_attempts=3)
    db, _events = seed(config)
    raw = raw_config(config)
    receiver.always_fail.add("/broken")
    report = dispatch_due(db, raw, now=at(0))
    # the broken webhook does not hold up the mail of the same watcher nor the other watcher
    assert len(smtp.to("a@example.org")) == 2
    assert len(receiver.delivered("/ok")) == 2
    assert report.retrying == 2
    drain(db, raw, start=1)
    dead = list_deliveries(db, status="dead")
    assert [(r.watcher, r.channel, r.attempts) for r in dead] == [("mixed", "webhook", 3)] * 2
    assert len([r for r in receiver.requests if r.path == "/broken"]) == 6
    ops = receiver.delivered("/ops")
    assert len(ops) == 2
    assert {r.headers["X-Yibao-Event"] for r in ops} == {"delivery_dead"}
    payload = ops[0].json
    assert payload["event"]["kind"] == "delivery_dead"
    assert payload["document"] is None
    assert "mixed" in payload["event"]["summary"]
    assert "HTTP 500" in payload["event"]["summary"]
    assert db.execute("SELECT COUNT(*) FROM events WHERE kind = 'delivery_dead'").fetchone()[0] == 2

    listed = cli(config, "deliveries", "--dead")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("mixed") == 2
    assert "HTTP 500" in listed.stdout
    receiver.always_fail.clear()
    retried = cli(config, "deliveries", "retry", "--all-dead")
    assert retried.returncode == 0, retried.stderr
    assert "requeued 2" in retried.stdout
    done = cli(config, "dispatch", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sent"] == 2
    assert len(receiver.delivered("/broken")) == 2
    counts = status_counts(db)
    assert counts["dead"] == 0
    assert counts["sent"] == counts_total(db)
    assert requeue(db, all_dead=True) == 0


def counts_total(db: Any) -> int:
    return db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]


def test_dispatcher_killed_between_send_and_mark(tmp_path, smtp, receiver, hook_secret) -> None:
    watchers = f'[[watchers]]\nname = "both"\nemail = ["a@example.org"]\n{hook(receiver)}\n'
    config = make_config(tmp_path, smtp, watchers, lease=60)
    db, _events = seed(config, [policy(), reply(), policy("https://ybj.example.gov.cn/zcwj/t3.html",
                                                         index_no="i3", doc_no="宁医保〔2025〕118号")])
    receiver.hold.set()  # both receivers take the message, then do not answer
    smtp.hold.set()
    proc = subprocess.Popen([sys.executable, "-m", "cli.alerts", "--config", str(config), "dispatch"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    try:
        wait_for(lambda: len(receiver.requests) == 1 and len(smtp.raw) == 1, timeout=30)
        time.sleep(0.5)  # a server that has not answered yet in this pass gets one message at a time
        assert len(receiver.requests) == len(smtp.raw) == 1
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    receiver.hold.clear()
    smtp.hold.clear()
    assert {r.status for r in list_deliveries(db)} == {"sending"}  # the whole batch was claimed
    (first_hook,) = (r.headers["X-Yibao-Delivery"] for r in receiver.requests)
    (first_mail,) = (m["Message-ID"] for m in smtp.messages)

    early = cli(config, "dispatch", "--json")  # the lease still runs: nothing is taken over yet
    assert json.loads(early.stdout)["claimed"] == 0
    later = (datetime.now(UTC) + timedelta(seconds=120)).isoformat()
    again = cli(config, "dispatch", "--json", "--now", later)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["sent"] == 6
    assert status_counts(db)["sent"] == 6
    assert {r.attempts for r in list_deliveries(db)} == {2}
    hooks = Counter(r.headers["X-Yibao-Delivery"] for r in receiver.requests)
    assert hooks.pop(first_hook) == 2  # the message in flight was sent again, with the same delivery id ...
    mails = Counter(m["Message-ID"] for m in smtp.messages)
    assert mails.pop(first_mail) == 2  # ... and the same Message-ID
    assert list(hooks.values()) == list(mails.values()) == [1, 1]  # nothing lost, nothing else sent twice
    assert all(signed(r) for r in receiver.requests)


def test_digest_is_one_message_at_cron_time(tmp_path, smtp, receiver, hook_secret) -> None:
    watchers = (f'[[watchers]]\nname = "daily"\nmode = "digest"\ndigest_cron = "0 8 * * *"\n'
                f'email = ["a@example.org"]\n{hook(receiver)}\n')
    config = make_config(tmp_path, smtp, watchers)
    db, events = seed(config)
    raw = raw_config(config)
    assert dispatch_due(db, raw, now="2025-08-18T03:00:00Z").claimed == 0
    assert dispatch_due(db, raw, now="2025-08-18T23:59:59Z").claimed == 0  # 07:59:59 in Shanghai
    receiver.fail_next(1)
    report = dispatch_due(db, raw, now="2025-08-19T00:00:00Z")
    assert report.claimed == 4
    assert report.messages == 2  # one per channel target, not one per event
    dispatch_due(db, raw, now="2025-08-19T00:00:01Z")
    assert status_counts(db)["sent"] == 4
    hooks = receiver.requests
    assert len(hooks) == 2
    assert hooks[0].headers["X-Yibao-Delivery"] == hooks[1].headers["X-Yibao-Delivery"]  # the retry
    body = hooks[1].json
    assert body["type"] == "digest"
    assert hooks[1].headers["X-Yibao-Event"] == "digest"
    assert [item["event"]["id"] for item in body["items"]] == [e.id for e in events]
    (mail,) = smtp.messages
    assert "2 条动态" in mail["Subject"]
    batch = {r.batch_key for r in list_deliveries(db, watcher="daily", event_id=None) if r.channel == "email"}
    assert mail["Message-ID"] == f"<{batch.pop()}@example.org>"


def test_script_in_a_title_is_escaped_in_html_mail(tmp_path, smtp) -> None:
    config = make_config(tmp_path, smtp, '[[watchers]]\nname = "mail"\nemail = ["张三 <zhangsan@example.org>"]\n')
    title = "关于<script>alert('x')</script>的通知"
    evil = policy(title=title)
    edited = policy(title=title, body_text=evil.body_text.replace("2025年度", "2026年度"))
    db, _events = seed(config, [evil])
    record(db, edited, run_id=1, now=LATER, on_event=make_router(load_alerts(raw_config(config))))
    dispatch_due(db, raw_config(config), now=at(0))
    messages = smtp.to("zhangsan@example.org")
    assert sorted(m["X-Yibao-Event"] for m in messages) == ["edited", "new"]
    for message in messages:
        assert message["Subject"].startswith("【")
        assert "<script>" in message["Subject"]  # a subject is text, not markup
        assert str(message["To"]) == "张三 <zhangsan@example.org>"
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert "<script" not in html.lower()
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
        assert "<script>alert('x')</script>" in text
        assert "https://ybj.example.gov.cn/zcwj/t1.html" in html  # the source page ...
        assert "https://archive.example.org/documents/1?version=" in html  # ... and the archive record
        assert "https://archive.example.org/documents/1?version=" in text
    raw_subject = smtp.raw[0][2].split(b"\r\n\r\n")[0]
    assert raw_subject.isascii()  # headers RFC 2047-encoded: no SMTPUTF8 needed


def test_alerts_test_reports_each_channel(tmp_path, smtp, receiver, hook_secret) -> None:
    closed = free_port()
    watchers = (f'[[watchers]]\nname = "team"\nemail = ["a@example.org"]\n{hook(receiver)}\n'
                f'apprise = ["json://127.0.0.1:{receiver.port}/chat/TOKEN123", "json://127.0.0.1:{closed}/x/TOKEN456"]\n')
    config = make_config(tmp_path, smtp, watchers)
    done = cli(config, "alerts", "test", "team")
    assert done.returncode == 1, done.stderr  # one channel failed
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("email")
    assert ": ok" in lines[0]
    assert lines[1].startswith("webhook")
    assert "ok — HTTP 204" in lines[1]
    assert lines[2].startswith("apprise")
    assert ": ok" in lines[2]
    assert lines[3].startswith("apprise")
    assert "FAILED" in lines[3]
    assert "TOKEN" not in done.stdout  # apprise URLs carry tokens: never printed
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["X-Yibao-Event"] == "test"
    (test_hook,) = receiver.delivered("/hook")
    assert signed(test_hook)
    assert test_hook.json["type"] == "test"
    (chat,) = receiver.delivered("/chat/TOKEN123")
    assert "测试消息" in chat.json["title"]
    unknown = cli(config, "alerts", "test", "nobody")
    assert unknown.returncode == 2
    assert "unknown watcher 'nobody'" in unknown.stderr


def test_webhook_redirects_stay_on_the_host(tmp_path, smtp, receiver, hook_secret) -> None:
    other = HookReceiver()
    try:
        receiver.redirects["/moved"] = "/hook"  # same host: followed (307 keeps the POST)
        receiver.redirects["/away"] = other.url("/hook")  # another port: refused
        watchers = f'[[watchers]]\nname = "a"\n{hook(receiver, "/moved")}\n[[watchers]]\nname = "b"\n{hook(receiver, "/away")}\n'
        config = make_config(tmp_path, smtp, watchers)
        db, _ = seed(config, [policy()])
        dispatch_due(db, raw_config(config), now=at(0))
        by_watcher = {r.watcher: r for r in list_deliveries(db)}
        assert by_watcher["a"].status == "sent"
        assert by_watcher["b"].status == "failed"
        assert "another host" in by_watcher["b"].last_error
        assert other.requests == []
    finally:
        other.close()


def test_starttls_and_auth_from_the_environment(tmp_path, monkeypatch) -> None:
    ssl_context, ca_file = _self_signed(tmp_path)
    from aiosmtpd.smtp import AuthResult

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        login, password = (v.decode() if isinstance(v, bytes) else v for v in (auth_data.login, auth_data.password))
        return AuthResult(success=(login, password) == ("watch", "pa55-word"), handled=False)

    sink = SmtpSink(free_port(), tls_context=ssl_context, authenticator=authenticator).start()
    try:
        text = alerts_toml(sink.port).replace('security = "none"', 'security = "starttls"\n'
                                              f'ca_file = "{ca_file}"\nusername_env = "YIBAO_SMTP_USER"\n'
                                              'password_env = "YIBAO_SMTP_PASSWORD"')
        path = tmp_path / "yibao.toml"
        path.write_text(text + '[[watchers]]\nname = "mail"\nemail = ["a@example.org"]\n', encoding="utf-8")
        monkeypatch.setenv("YIBAO_SMTP_USER", "watch")
        monkeypatch.setenv("YIBAO_SMTP_PASSWORD", "wrong-password")
        db, _ = seed(path, [policy()])
        dispatch_due(db, raw_config(path), now=at(0))
        (row,) = list_deliveries(db)
        assert row.status == "failed"
        assert "auth refused: 535" in row.last_error
        assert "wrong-password" not in row.last_error
        monkeypatch.setenv("YIBAO_SMTP_PASSWORD", "pa55-word")
        dispatch_due(db, raw_config(path), now=at(5))
        assert list_deliveries(db)[0].status == "sent"
        assert len(sink.messages) == 1
    finally:
        sink.stop()


def _self_signed(tmp_path: Path) -> tuple[Any, Path]:
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


@pytest.mark.parametrize("channel", ["webhook", "apprise"])
def test_removed_target_goes_dead_at_once(tmp_path, smtp, receiver, hook_secret, channel) -> None:
    target = hook(receiver) if channel == "webhook" else f'apprise = ["json://127.0.0.1:{receiver.port}/chat"]'
    config = make_config(tmp_path, smtp, f'[[watchers]]\nname = "w"\n{target}\n[[watchers]]\nname = "ops"\n'
                                         f'ops = true\n{hook(receiver, "/ops")}\n')
    db, _ = seed(config, [policy()])
    raw = raw_config(config)
    raw["watchers"][0] = {"name": "w", "email": ["a@example.org"]}  # the channel was removed meanwhile
    dispatch_due(db, raw, now=at(0))
    (row,) = list_deliveries(db, watcher="w")
    assert row.status == "dead"
    assert row.attempts == 1
    assert "no longer configured" in row.last_error
    assert len(receiver.delivered("/ops")) == 1


def test_documented_receiver_verifies_real_deliveries(tmp_path, smtp, receiver, hook_secret) -> None:
    """The receiver example of docs/webhook.md accepts a real delivery and rejects tampering."""
    doc = (Path(__file__).parents[3] / "docs" / "webhook.md").read_text(encoding="utf-8")
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {"__name__": "webhook_doc_example"}
    exec(compile(code, "docs/webhook.md", "exec"), namespace)
    verify = namespace["verify_signature"]
    config = make_config(tmp_path, smtp, f'[[watchers]]\nname = "hook"\n{hook(receiver)}\n')
    db, _ = seed(config, [policy()])
    dispatch_due(db, raw_config(config), now=at(0))
    (req,) = receiver.delivered()
    secret = HOOK_SECRET.encode()
    assert verify(secret, req.headers, req.body)
    assert not verify(b"another secret", req.headers, req.body)
    assert not verify(secret, req.headers, req.body.replace(b"policy", b"notice"))
    assert not verify(secret, req.headers, req.body, now=int(req.headers["X-Yibao-Timestamp"]) + 3600)
