"""Pytest fixtures shared by every test folder (registered as a plugin by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bedrock_kit.testing import LocalBedrock
from tests.support.hostile import HostileServer


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    """A fresh :class:`HostileServer` per test."""
    with HostileServer() as server:
        yield server


@pytest.fixture
def server() -> Iterator[LocalBedrock]:
    """A fresh :class:`LocalBedrock` per test (a test folder may override it)."""
    with LocalBedrock() as running:
        yield running


@pytest.fixture(scope="module")
def _module_bedrock() -> Iterator[LocalBedrock]:
    with LocalBedrock() as running:
        yield running


@pytest.fixture
def module_server(_module_bedrock: LocalBedrock) -> Iterator[LocalBedrock]:
    """One :class:`LocalBedrock` per test module, cleared before each test.

    For matrices of hundreds of cases. After the test, every scripted reply must have been
    requested: a reply left over means the case did not run the way it was written.
    """
    _module_bedrock.clear()
    yield _module_bedrock
    assert _module_bedrock.pending() == 0, "a scripted reply was never requested"
