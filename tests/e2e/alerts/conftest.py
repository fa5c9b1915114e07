"""The fixtures of ``tests/alerts/conftest.py`` for the end-to-end tests of the same area."""

from tests.alerts.conftest import *  # noqa: F403
