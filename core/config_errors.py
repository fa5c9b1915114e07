"""The one exception of a bad config file, importable by every layer that reads the config."""

from __future__ import annotations


class ConfigError(ValueError):
    """A registry or config problem, in one line naming the file, the entry and the field."""
