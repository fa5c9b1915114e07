"""E-mail over SMTP: multipart text + HTML, one message per event (or per digest).

``[smtp] security``: ``none`` (plain), ``starttls`` (upgrade, certificate verified) or ``ssl`` (implicit TLS).
Credentials come only from the environment variables named by ``username_env`` / ``password_env``;
they are never logged nor put into an error. Headers are encoded for servers without SMTPUTF8
(RFC 2047 for Chinese subjects and display names), bodies are quoted-printable or base64 UTF-8.
``Message-ID`` is ``<delivery id@sender domain>``: a resent message (after a crash between sending and
marking) carries the same id, so mail clients and list software can drop the duplicate.
"""

from __future__ import annotations

import functools
import os
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses

from alerts.channels import DeliveryError, Outgoing
from alerts.watchers import AlertsConfig, SmtpSettings

POLICY = SMTP.clone(cte_type="7bit", utf8=False)  # encodings that any SMTP server accepts


def _address(text: str) -> str:
    return getaddresses([text])[0][1]


def build_message(out: Outgoing, smtp: SmtpSettings, *, now: datetime | None = None) -> EmailMessage:
    sender = _address(smtp.sender)
    domain = sender.rsplit("@", 1)[-1] or "localhost"
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = out.message.subject
    msg["From"] = smtp.sender
    msg["To"] = out.target
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = f"<{out.delivery_id}@{domain}>"
    msg["X-Yibao-Delivery"] = out.delivery_id
    msg["X-Yibao-Event"] = out.message.kind
    msg["X-Yibao-Watcher"] = out.watcher.name
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(out.message.text, charset="utf-8")
    msg.add_alternative(out.message.html, subtype="html", charset="utf-8")
    return msg


@functools.cache
def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Certificates verified (against ``ca_file`` if given); built once per process (~40 ms each)."""
    return ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()


def _credentials(smtp: SmtpSettings) -> tuple[str, str] | None:
    if smtp.username_env is None or smtp.password_env is None:
        return None
    values = []
    for name in (smtp.username_env, smtp.password_env):
        value = os.environ.get(name)
        if not value:
            raise DeliveryError(f"SMTP auth: environment variable {name} is not set")
        values.append(value)
    return values[0], values[1]


def send(out: Outgoing, config: AlertsConfig) -> str:
    smtp = config.smtp
    if smtp is None:
        raise DeliveryError("no [smtp] section is configured", permanent=True)
    msg = build_message(out, smtp)
    credentials = _credentials(smtp)
    try:
        if smtp.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout, context=_tls_context(smtp.ca_file)
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            client.ehlo()
            if smtp.security == "starttls":
                client.starttls(context=_tls_context(smtp.ca_file))
                client.ehlo()
            if credentials is not None:
                client.login(*credentials)
            refused = client.send_message(msg, from_addr=_address(smtp.sender), to_addrs=[_address(out.target)])
    except smtplib.SMTPAuthenticationError as exc:  # the server's words only, never the credentials
        raise DeliveryError(f"SMTP auth refused: {exc.smtp_code}") from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP {exc.smtp_code}: {_reply(exc.smtp_error)}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = ", ".join(f"{code} {_reply(text)}" for code, text in exc.recipients.values())
        raise DeliveryError(f"SMTP recipient refused: {codes}") from None
    except (smtplib.SMTPException, OSError) as exc:
        # smtplib turns a read that timed out into SMTPServerDisconnected: the timeout is its context
        if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
            raise DeliveryError(f"SMTP {smtp.host}:{smtp.port}: no answer within {smtp.timeout:g} s",
                                timed_out=True) from None
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port}: {type(exc).__name__}: {exc}") from None
    if refused:
        raise DeliveryError(f"SMTP recipient refused: {refused}")
    return f"accepted by {smtp.host}:{smtp.port}"


def _reply(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(text.split())[:200]
