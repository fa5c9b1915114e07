"""The fixtures of ``tests/query/conftest.py`` for the end-to-end tests of the same area."""

from tests.query.conftest import *  # noqa: F403
