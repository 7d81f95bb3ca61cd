"""BedrockKitEmbedding (LlamaIndex) against LocalBedrock (real boto3 / aiobotocore over HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index.embeddings import BedrockKitEmbedding
from bedrock_kit.testing import LocalBedrock, Reply
from tests.support.scenarios import client_args
from tests.support.scenarios.embeddings import COHERE_MULTILINGUAL as COHERE
from tests.support.scenarios.embeddings import TITAN, cohere_reply, titan_reply


def make(server: LocalBedrock, model: str, **kwargs: Any) -> BedrockKitEmbedding:
    return BedrockKitEmbedding(model=model, **client_args(server), **kwargs)


def test_is_a_llama_index_embedding_named_after_the_model() -> None:
    embedding = BedrockKitEmbedding(
        model=COHERE, aws_secret_access_key="s3cr3t", aws_access_key_id="A"
    )
    assert isinstance(embedding, BaseEmbedding)
    assert embedding.model_name == COHERE
    assert embedding.embed_batch_size == 96
    assert "s3cr3t" not in repr(embedding)


def test_cohere_batch_of_100_goes_in_96_plus_4(server: LocalBedrock) -> None:
    server.script("InvokeModel", cohere_reply(96, 50), cohere_reply(4, 3), cohere_reply(1, 1))
    usage: list[int] = []
    embedding = make(server, COHERE, on_usage=lambda _, n: usage.append(n))
    vectors = embedding.get_text_embedding_batch([f"t{i}" for i in range(100)])
    assert len(vectors) == 100 and vectors[99] == [3.0]
    assert embedding.get_query_embedding("q?") == [0.0]
    sent = [r.body for r in server.requests_for("InvokeModel")]
    assert [len(b["texts"]) for b in sent] == [96, 4, 1]
    assert [b["input_type"] for b in sent] == ["search_document"] * 2 + ["search_query"]
    assert usage == [50, 3, 1]


def test_titan_sync(server: LocalBedrock) -> None:
    server.script("InvokeModel", titan_reply([0.5, 0.5], 2))
    embedding = make(server, TITAN, dimensions=256, normalize=False)
    assert embedding.get_text_embedding("hello") == [0.5, 0.5]
    (request,) = server.requests_for("InvokeModel")
    assert request.body == {"inputText": "hello", "dimensions": 256, "normalize": False}


async def test_native_async_for_both_models(server: LocalBedrock) -> None:
    server.script("InvokeModel", titan_reply([1.0], 1), cohere_reply(3, 9), cohere_reply(1, 1))
    titan = make(server, TITAN)
    cohere = make(server, COHERE)
    try:
        assert await titan.aget_query_embedding("q") == [1.0]
        assert await cohere.aget_text_embedding_batch(["a", "b", "c"]) == [[0.0], [1.0], [2.0]]
        assert await cohere.aget_query_embedding("q") == [0.0]
    finally:
        await titan.aclose()
        await cohere.aclose()
    sent = [r.body for r in server.requests_for("InvokeModel")]
    assert sent[0] == {"inputText": "q"}
    assert [b["input_type"] for b in sent[1:]] == ["search_document", "search_query"]
    assert titan.runtime.pool.created == cohere.runtime.pool.created == 1


def test_bad_arguments_fail_at_construction_naming_them() -> None:
    with pytest.raises(ConfigurationError, match="supported"):
        BedrockKitEmbedding(model="amazon.nova-lite-v1:0")
    with pytest.raises(ConfigurationError, match="truncate"):
        BedrockKitEmbedding(model=TITAN, truncate="END")
    with pytest.raises(ConfigurationError, match="max_concurrency"):
        BedrockKitEmbedding(model=TITAN, max_concurrency=0)


def test_vector_index_retrieves_with_document_and_query_input_types(server: LocalBedrock) -> None:
    from llama_index.core import Document, VectorStoreIndex

    docs = Reply.json({"embeddings": [[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]]})
    query = Reply.json({"embeddings": [[0.0, 1.0]]})
    server.script("InvokeModel", docs, query)
    embedding = make(server, COHERE)
    index = VectorStoreIndex.from_documents(
        [Document(text=t) for t in ("tides", "moons", "both")], embed_model=embedding
    )
    (best,) = index.as_retriever(similarity_top_k=1).retrieve("what orbits?")
    assert best.node.get_content() == "moons"
    sent = [r.body for r in server.requests_for("InvokeModel")]
    assert [b["input_type"] for b in sent] == ["search_document", "search_query"]
    assert sent[1]["texts"] == ["what orbits?"]
