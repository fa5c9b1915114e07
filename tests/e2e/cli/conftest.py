"""The fixtures of ``tests/cli/conftest.py`` for the end-to-end tests of the same area."""

from tests.cli.conftest import *  # noqa: F403
