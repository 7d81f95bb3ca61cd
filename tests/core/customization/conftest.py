"""A real S3 API (moto's server mode) and LocalBedrock for customization tests."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.testing import LocalBedrock

CREDENTIALS = {"aws_access_key_id": "AKIDMOTO", "aws_secret_access_key": "not-a-secret"}
REGION = "us-east-1"
BUCKET = "tuning-bucket"
ROLE = "arn:aws:iam::123456789012:role/BedrockCustomization"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto in server mode on a free port: S3 and the bedrock operations moto implements."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_settings(moto_endpoint: str) -> ClientSettings:
    # moto keeps state for the whole session: every test starts from an empty account.
    urllib.request.urlopen(
        urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"), timeout=10
    ).close()
    return ClientSettings(
        region_name=REGION, endpoint_url=moto_endpoint, max_retries=0, **CREDENTIALS
    )


@pytest.fixture
def s3(moto_settings: ClientSettings, moto_endpoint: str) -> Iterator[Any]:
    """A boto3 S3 client on moto with a fresh bucket (emptied and removed afterwards)."""
    client = boto3.client("s3", region_name=REGION, endpoint_url=moto_endpoint, **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def local() -> Iterator[LocalBedrock]:
    with LocalBedrock() as server:
        yield server


@pytest.fixture
def local_settings(local: LocalBedrock) -> ClientSettings:
    return ClientSettings(
        region_name=REGION, endpoint_url=local.endpoint_url, max_retries=0, **CREDENTIALS
    )
