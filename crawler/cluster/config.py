"""``[cluster] redis_url`` (``crawler.config_schema.ClusterSpec``) and the Redis connection every role makes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.registry import Config

if TYPE_CHECKING:
    import redis


def redis_url(config: Config) -> str | None:
    """The config's ``[cluster] redis_url`` (validated with the file), or None: everything runs in one place."""
    section = config.raw.get("cluster")
    if not isinstance(section, dict):
        return None
    url = section.get("redis_url")
    return str(url) if url else None


def connect(url: str) -> redis.Redis:
    """A client (bytes in and out); the first command raises ``redis.ConnectionError`` when nothing answers. Redis
    is imported here, not with the module: a scheduler reads ``redis_url`` without it."""
    import redis

    client: redis.Redis = redis.Redis.from_url(url, socket_connect_timeout=10, socket_timeout=60,
                                                    health_check_interval=30)  # fmt: skip
    return client
