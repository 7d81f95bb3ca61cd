"""BedrockKitEmbeddings against LocalBedrock (real boto3 / aiobotocore over HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import boto3
import pytest
from langchain_core.embeddings import Embeddings
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain.embeddings import BedrockKitEmbeddings
from bedrock_kit.testing import LocalBedrock
from tests.support.scenarios import client_args
from tests.support.scenarios.embeddings import COHERE, TITAN, cohere_reply, titan_reply


def make(server: LocalBedrock, model: str, **kwargs: Any) -> BedrockKitEmbeddings:
    return BedrockKitEmbeddings(model=model, **client_args(server), **kwargs)


def test_is_a_langchain_embeddings_with_hidden_secrets() -> None:
    embeddings = BedrockKitEmbeddings(
        model=TITAN, aws_access_key_id="AKIDX", aws_secret_access_key="very-secret"
    )
    assert isinstance(embeddings, Embeddings)
    assert "very-secret" not in repr(embeddings)


def test_cohere_documents_and_queries_use_their_input_types(server: LocalBedrock) -> None:
    server.script("InvokeModel", cohere_reply(96, 100), cohere_reply(4, 5), cohere_reply(1, 2))
    usage: list[tuple[str, int]] = []
    embeddings = make(server, COHERE, truncate="END", on_usage=lambda m, n: usage.append((m, n)))
    docs = embeddings.embed_documents([f"doc {i}" for i in range(100)])
    assert len(docs) == 100 and docs[96] == [0.0]
    assert embeddings.embed_query("what?") == [0.0]
    sent = [r.body for r in server.requests_for("InvokeModel")]
    assert [len(b["texts"]) for b in sent] == [96, 4, 1]
    assert [b["input_type"] for b in sent] == ["search_document"] * 2 + ["search_query"]
    assert {b["truncate"] for b in sent} == {"END"}
    assert usage == [(COHERE, 100), (COHERE, 5), (COHERE, 2)]


def test_titan_sync_one_call_per_text(server: LocalBedrock) -> None:
    server.script("InvokeModel", titan_reply([1.0], 2), titan_reply([2.0], 3))
    embeddings = make(server, TITAN, dimensions=512, normalize=True)
    assert embeddings.embed_documents(["a", "b"]) == [[1.0], [2.0]]
    sent = [r.body for r in server.requests_for("InvokeModel")]
    assert sent == [
        {"inputText": "a", "dimensions": 512, "normalize": True},
        {"inputText": "b", "dimensions": 512, "normalize": True},
    ]


async def test_native_async_for_both_models(server: LocalBedrock) -> None:
    server.script("InvokeModel", titan_reply([7.0], 1), cohere_reply(2, 4), cohere_reply(1, 1))
    titan = make(server, TITAN)
    cohere = make(server, COHERE)
    try:
        assert await titan.aembed_query("q") == [7.0]
        assert await cohere.aembed_documents(["a", "b"]) == [[0.0], [1.0]]
        assert await cohere.aembed_query("q") == [0.0]
    finally:
        await titan.aclose()
        await cohere.aclose()
    sent = [r.body for r in server.requests_for("InvokeModel")]
    assert sent[0] == {"inputText": "q"}  # Titan has no input type
    assert [b["input_type"] for b in sent[1:]] == ["search_document", "search_query"]
    # Each object built one async client, through the shared pool.
    assert titan.runtime.pool.created == cohere.runtime.pool.created == 1


def test_bad_arguments_fail_at_construction_naming_them() -> None:
    with pytest.raises(ConfigurationError, match=r"supported: .*cohere\.embed-english-v3"):
        BedrockKitEmbeddings(model="amazon.titan-embed-g1-text-02")
    with pytest.raises(ConfigurationError, match="dimensions"):
        BedrockKitEmbeddings(model=TITAN, dimensions=100)
    with pytest.raises(ConfigurationError, match="input_type"):
        BedrockKitEmbeddings(model=COHERE, input_type="query")
    with pytest.raises(ConfigurationError, match="bedrock-runtime"):
        BedrockKitEmbeddings(
            model=TITAN, client=boto3.client("bedrock-agent", region_name="us-east-1")
        )


def test_empty_text_is_refused_before_any_request(server: LocalBedrock) -> None:
    with pytest.raises(ConfigurationError, match=r"texts\[1\]"):
        make(server, TITAN).embed_documents(["ok", ""])
    assert server.requests == []
    assert make(server, COHERE).embed_documents([]) == []
    assert server.requests == []


class TestBedrockKitEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[BedrockKitEmbeddings]:
        return BedrockKitEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": TITAN, "region_name": "us-east-1"}


class TestBedrockKitEmbeddingsStandard(EmbeddingsIntegrationTests):
    """LangChain's standard suite, over LocalBedrock instead of AWS."""

    @property
    def embeddings_class(self) -> type[BedrockKitEmbeddings]:
        return BedrockKitEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": TITAN, "dimensions": 256}

    @pytest.fixture
    async def model(self, server: LocalBedrock) -> AsyncIterator[BedrockKitEmbeddings]:
        # Every suite test makes at most three calls; vectors of one size, as Titan's are.
        server.script("InvokeModel", *(titan_reply([0.1 * i, 0.2, 0.3], 2) for i in range(3)))
        embeddings = make(server, **self.embedding_model_params)
        yield embeddings
        await embeddings.aclose()
