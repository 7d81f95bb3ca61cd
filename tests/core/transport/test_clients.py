"""ClientSettings and ClientPool: one place builds clients; they are reused."""

from __future__ import annotations

import pickle

import boto3
import pytest

from bedrock_kit.core.transport.clients import ClientPool, ClientSettings
from bedrock_kit.errors import ConfigurationError

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_settings_build_the_botocore_config():
    config = ClientSettings(
        max_retries=2, retry_mode="adaptive", timeout=12, connect_timeout=3
    ).botocore_config()
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 3}
    assert (config.read_timeout, config.connect_timeout) == (12, 3)


def test_secrets_never_appear_in_repr_or_str():
    settings = ClientSettings(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key=SECRET, aws_session_token="tok"
    )
    assert SECRET not in repr(settings) and "tok" not in repr(settings)
    assert SECRET not in str(settings)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"retry_mode": "fast"}, "retry_mode"),
        ({"max_retries": -1}, "max_retries"),
        ({"timeout": 0}, "timeout"),
        ({"aws_access_key_id": "AKID"}, "together"),
    ],
)
def test_bad_settings_name_the_argument(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        ClientSettings(**kwargs)


def test_pool_builds_one_sync_client_and_reuses_it():
    pool = ClientPool(
        ClientSettings(region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b"),
        "bedrock-runtime",
    )
    assert pool.client is pool.client
    assert pool.created == 1
    assert pool.region == "eu-west-1"
    assert pool.client.meta.service_model.service_name == "bedrock-runtime"


def test_pool_rejects_a_client_of_another_service():
    s3 = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    with pytest.raises(ConfigurationError, match="client must be a 'bedrock-runtime' client"):
        ClientPool(ClientSettings(), "bedrock-runtime", client=s3)


async def test_pool_builds_one_async_client_per_loop_and_closes_it():
    pool = ClientPool(
        ClientSettings(region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"),
        "bedrock-runtime",
    )
    first = await pool.async_client()
    assert await pool.async_client() is first
    assert pool.created == 1
    await pool.aclose()


def test_settings_pickle_without_losing_fields():
    settings = ClientSettings(region_name="us-west-2", endpoint_url="http://127.0.0.1:1")
    assert pickle.loads(pickle.dumps(settings)) == settings
