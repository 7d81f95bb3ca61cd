"""A real S3 API over HTTP for batch tests: moto's server mode (``moto[server]``).

``s3_url`` is one ThreadedMotoServer per test session on a free port; ``bucket`` is a fresh
bucket in it per test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def s3_url() -> Iterator[str]:
    """Endpoint URL of moto's S3 server (skipped when moto[server] is not installed)."""
    server_module = pytest.importorskip(
        "moto.moto_server.threaded_moto_server", reason="batch tests need moto[server]"
    )
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_client(s3_url: str):
    """A boto3 S3 client on moto's server."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def bucket(s3_client) -> str:
    """A new, empty bucket."""
    name = f"batch-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name
