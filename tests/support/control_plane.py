"""Fixtures for ingestion and agent deployment tests: LocalBedrock with its stateful control
plane, and a real S3 API (moto's server mode) for S3 data sources.

Registered as a plugin by the root conftest; names start with ``plane`` so they clash with no
other fixture.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.testing import LocalBedrock, LocalControlPlane

CREDENTIALS = {"aws_access_key_id": "AKIDLOCAL", "aws_secret_access_key": "not-a-secret"}
REGION = "us-east-1"


@pytest.fixture(scope="session")
def plane_moto_url() -> Iterator[str]:
    """moto's S3 server on a free port, one per session."""
    threaded = pytest.importorskip("moto.moto_server.threaded_moto_server")
    server = threaded.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def plane_s3(plane_moto_url: str) -> Any:
    """A boto3 S3 client on moto."""
    return boto3.client("s3", endpoint_url=plane_moto_url, region_name=REGION, **CREDENTIALS)


@pytest.fixture
def plane_bucket(plane_s3: Any) -> str:
    """A fresh bucket."""
    name = f"kb-{uuid.uuid4().hex[:12]}"
    plane_s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def plane_server() -> Iterator[LocalBedrock]:
    """A LocalBedrock for this test."""
    with LocalBedrock() as server:
        yield server


@pytest.fixture
def plane(plane_server: LocalBedrock, plane_s3: Any) -> LocalControlPlane:
    """The stateful bedrock-agent control plane on ``local``, reading S3 from moto."""
    return LocalControlPlane(plane_server, s3_client=plane_s3)


@pytest.fixture
def plane_args(plane_server: LocalBedrock, plane_moto_url: str) -> dict[str, Any]:
    """Client arguments for bedrock-kit control-plane objects: bedrock-agent on LocalBedrock,
    S3 on moto."""
    settings = ClientSettings(
        region_name=REGION, endpoint_url=plane_server.endpoint_url, max_retries=1, **CREDENTIALS
    )
    s3_settings = ClientSettings(
        region_name=REGION, endpoint_url=plane_moto_url, max_retries=1, **CREDENTIALS
    )
    return {"settings": settings, "s3_settings": s3_settings}
