"""Pytest fixtures shared by every test folder (import them in a conftest)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.hostile import HostileServer


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    """A fresh :class:`HostileServer` per test."""
    with HostileServer() as server:
        yield server
