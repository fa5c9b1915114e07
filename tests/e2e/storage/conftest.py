"""The fixtures of ``tests/storage/conftest.py`` for the end-to-end tests of the same area."""

from tests.storage.conftest import *  # noqa: F403
