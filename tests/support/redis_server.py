"""Fixtures over a throwaway ``redis-server`` (Debian's package) for shared-budget tests.

``redis_url`` starts one server per test session (:class:`bedrock_kit.testing.redis_server.
RedisServer`) and skips with a reason when the binary is absent; ``redis_budget`` gives each
test a fresh budget name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from bedrock_kit.testing.redis_server import REDIS_SERVER, RedisServer


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a redis-server started for this test session (skipped when not installed)."""
    if REDIS_SERVER is None:
        pytest.skip(
            "redis-server is not installed (Debian: apt-get install -y redis-server); "
            "shared-budget tests need a real Redis"
        )
    with RedisServer(REDIS_SERVER) as server:
        yield server.url


@pytest.fixture
def redis_budget() -> str:
    """A budget name no other test uses."""
    return f"test-{uuid.uuid4().hex[:12]}"
