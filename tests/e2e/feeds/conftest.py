"""The fixtures of ``tests/feeds/conftest.py`` for the end-to-end tests of the same area."""

from tests.feeds.conftest import *  # noqa: F403
