"""The fixtures of ``tests/webui/conftest.py`` for the end-to-end tests of the same area."""

from tests.webui.conftest import *  # noqa: F403
