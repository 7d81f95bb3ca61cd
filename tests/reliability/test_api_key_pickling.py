"""A model built with a Bedrock API key never signs with other credentials after unpickling."""

from __future__ import annotations

import pickle

import pytest

from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing import LocalBedrock


def test_unpickled_model_with_api_key_refuses_its_first_call(server: LocalBedrock) -> None:
    llm = ChatBedrockKit(
        model="amazon.nova-micro-v1:0",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        api_key="bedrock-api-key-for-tests-0000000000",
    )
    blob = pickle.dumps(llm)
    assert b"bedrock-api-key-for-tests" not in blob
    copy = pickle.loads(blob)
    with pytest.raises(ConfigurationError, match=r"pass the keys again|credentials"):
        copy.invoke("hi")
    assert server.requests == []
