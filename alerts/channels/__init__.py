"""Delivery channels: ``CHANNELS[name](outgoing, config) -> str``.

A channel sends one ``Outgoing`` (a rendered ``alerts.render.Message`` for one target, with its delivery
id) and returns a short description of the success ("250 accepted", "HTTP 204"), or raises
``DeliveryError``. ``permanent=True`` means retrying cannot help (the target or watcher is no longer
configured): the dispatcher gives up at once instead of backing off. ``timed_out=True`` means the server
did not answer within the channel's timeout: the dispatcher tries nothing more on that server in the same
pass. Channels never put secrets into their errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from alerts.render import Message
from alerts.watchers import AlertsConfig, Watcher


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, timed_out: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.timed_out = timed_out


@dataclass(frozen=True)
class Outgoing:
    message: Message
    delivery_id: str  # = the outbox idempotency key (a digest: its batch key)
    watcher: Watcher
    channel: str
    target: str


Channel = Callable[[Outgoing, AlertsConfig], str]


def _email(out: Outgoing, config: AlertsConfig) -> str:
    from alerts.channels.email import send

    return send(out, config)


def _webhook(out: Outgoing, config: AlertsConfig) -> str:
    from alerts.channels.webhook import send

    return send(out, config)


def _apprise(out: Outgoing, config: AlertsConfig) -> str:
    from alerts.channels.chat import send

    return send(out, config)


CHANNELS: dict[str, Channel] = {"email": _email, "webhook": _webhook, "apprise": _apprise}

__all__ = ["CHANNELS", "Channel", "DeliveryError", "Outgoing"]
