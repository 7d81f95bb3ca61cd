"""Fixtures for LocalBedrock tests: a running server and real boto3/aiobotocore clients."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from bedrock_kit.testing import LocalBedrock

FAKE_CREDENTIALS = {
    "aws_access_key_id": "AKIDLOCALBEDROCK",
    "aws_secret_access_key": "not-a-secret",
}
NO_RETRIES = {"total_max_attempts": 1}


def client_config(retries: dict[str, Any] | None = None, **kwargs: Any) -> Config:
    return Config(retries=retries or NO_RETRIES, **kwargs)


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """One boto3 session for the run: loading service models once keeps client creation fast."""
    return boto3.session.Session()


@pytest.fixture
def make_client(
    server: LocalBedrock, boto_session: boto3.session.Session
) -> Iterator[Callable[..., Any]]:
    """boto3 client factory for the running server (no retries unless asked)."""
    made: list[Any] = []

    def make(
        service: str = "bedrock-runtime", retries: dict[str, Any] | None = None, **config: Any
    ) -> Any:
        client = boto_session.client(
            service,
            region_name="us-east-1",
            endpoint_url=server.endpoint_url,
            config=client_config(retries, **config),
            **FAKE_CREDENTIALS,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Any:
    return make_client()


@functools.cache
def _aio_session() -> Any:
    # One session for the run: it caches the loaded service models (clients stay per test).
    from aiobotocore.session import AioSession

    return AioSession()


def aio_client_context(
    endpoint_url: str,
    service: str = "bedrock-runtime",
    retries: dict[str, Any] | None = None,
    **config: Any,
) -> Any:
    """An aiobotocore client context manager for ``endpoint_url`` (no retries unless asked)."""
    config.setdefault("max_pool_connections", 64)
    return _aio_session().create_client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        config=client_config(retries, **config),
        **FAKE_CREDENTIALS,
    )


@pytest.fixture
def make_aio_client(server: LocalBedrock) -> Callable[..., Any]:
    """Factory of aiobotocore client context managers for the running server."""

    def make(service: str = "bedrock-runtime", **kwargs: Any) -> Any:
        return aio_client_context(server.endpoint_url, service, **kwargs)

    return make


@pytest.fixture
async def aio_client(server: LocalBedrock) -> AsyncIterator[Any]:
    async with aio_client_context(server.endpoint_url) as created:
        yield created
