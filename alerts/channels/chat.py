"""Chat apps through apprise URLs: DingTalk (with signing), WeCom bots, Feishu/Lark, Slack, Telegram, ...

The message is the same render as the e-mail's text part (``Message.chat_text()``), titled with the
subject. The outbox target is a redacted form of the URL (``dingtalk://…#<hash>``): the URL itself, which
carries the service's token, is looked up in the watcher's current config at send time and never stored
nor put into an error (``env:NAME`` entries are read from the environment then).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from alerts.channels import DeliveryError, Outgoing
from alerts.watchers import AlertsConfig, import_apprise


def _secrets(url: str) -> list[str]:
    """Pieces of an apprise URL that may be secret (tokens live in the user, host and path parts)."""
    rest = url.split("://", 1)[-1]
    pieces = {rest, unquote(rest)}
    for piece in re.split(r"[/@:?&=#]", rest):
        if len(piece) >= 4:
            pieces.update({piece, unquote(piece)})
    return sorted(pieces, key=len, reverse=True)


def redact(text: str, url: str) -> str:
    for piece in _secrets(url):
        text = text.replace(piece, "…")
    return text


def send(out: Outgoing, config: AlertsConfig) -> str:
    url = out.watcher.apprise_url(out.target)
    if url is None:
        if out.target.startswith("env:"):
            raise DeliveryError(f"apprise: environment variable {out.target[4:]} is not set")
        raise DeliveryError(f"apprise target {out.target} is no longer configured", permanent=True)
    notifier = import_apprise().Apprise()
    if not notifier.add(url):
        raise DeliveryError(f"apprise cannot use {out.target}", permanent=not out.target.startswith("env:"))
    result = notifier.notify(
        body=out.message.chat_text(), title=out.message.subject, timeout=config.settings.timeout
    )
    if result:
        return f"apprise {result.status.name.lower()}"
    problems = [f"{entry.level}: {entry.message}" for entry in result.logs() if entry.level in ("WARNING", "ERROR")]
    detail = "; ".join(problems[-3:]) or result.status.name.lower()
    raise DeliveryError(redact(f"apprise {result.status.name.lower()}: {detail}", url)[:500])
