"""Hostile servers against the rerank and the newer embedding parsers, both frameworks.

HTML, JSON of the wrong shape, a body cut half way: each must end in a typed bedrock-kit
error naming the model, sync and async; and each has a control with the documented shape.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.documents import Document
from llama_index.core.schema import NodeWithScore, TextNode

from bedrock_kit.errors import BedrockKitError, MalformedResponseError
from bedrock_kit.langchain import BedrockKitEmbeddings
from bedrock_kit.langchain import BedrockRerank as LCRerank
from bedrock_kit.llama_index import BedrockKitEmbedding
from bedrock_kit.llama_index import BedrockRerank as LIRerank
from tests.support.hostile import DUMMY_KEYS, HostileServer, Script, json_reply

RERANK = "amazon.rerank-v1:0"
COHERE_RERANK = "cohere.rerank-v3-5:0"
EMBED = "cohere.embed-v4:0"
DOCS = [Document(page_content="tides"), Document(page_content="cakes")]

HOSTILE = {
    "html": Script(headers={"content-type": "text/html"}, body=b"<html>login</html>"),
    "no results": json_reply({"items": []}),
    "index out of range": json_reply({"results": [{"index": 5, "relevanceScore": 0.5}]}),
    "string score": json_reply({"results": [{"index": 0, "relevanceScore": "0.5"}]}),
    "cohere keys on the Rerank API": json_reply({"results": [{"index": 0, "relevance_score": 1}]}),
}


@pytest.fixture
def server() -> Any:
    with HostileServer() as hostile:
        yield hostile


def lc(server: HostileServer, **kwargs: Any) -> LCRerank:
    return LCRerank(model=RERANK, endpoint_url=server.url, max_retries=0, **DUMMY_KEYS, **kwargs)


@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_rerank_api_answers_that_are_not_the_shape_are_typed(server, name: str) -> None:
    server.always(HOSTILE[name])
    with pytest.raises(MalformedResponseError) as info:
        lc(server).compress_documents(DOCS, "tides")
    assert info.value.model_id == RERANK
    nodes = [NodeWithScore(node=TextNode(text="tides"), score=1.0)]
    postprocessor = LIRerank(model=RERANK, endpoint_url=server.url, max_retries=0, **DUMMY_KEYS)
    try:
        with pytest.raises(MalformedResponseError):
            await postprocessor.apostprocess_nodes(nodes, query_str="tides")
    finally:
        await postprocessor.aclose()


def test_rerank_control_and_a_cut_connection(server) -> None:
    server.push(json_reply({"results": [{"index": 1, "relevanceScore": 0.7}]}))
    (best,) = lc(server).compress_documents(DOCS, "cakes")
    assert best.page_content == "cakes" and best.metadata["relevance_score"] == 0.7
    body = b'{"results": [{"index": 0, "relevanceScore": 0.9}]}'
    server.push(Script(headers={"content-type": "application/json"}, body=body, cut_after=10))
    with pytest.raises(BedrockKitError):
        lc(server).compress_documents(DOCS, "tides")


@pytest.mark.parametrize(
    "body",
    [b"<html/>", b'{"results": "none"}', b'{"results": [{"index": 0, "relevanceScore": 1}]}'],
)
def test_invoke_rerank_answers_that_are_not_coheres_shape(server, body: bytes) -> None:
    server.always(Script(headers={"content-type": "application/json"}, body=body))
    compressor = LCRerank(
        model=COHERE_RERANK, api="invoke", endpoint_url=server.url, max_retries=0, **DUMMY_KEYS
    )
    with pytest.raises(MalformedResponseError) as info:
        compressor.compress_documents(DOCS, "tides")
    assert info.value.model_id == COHERE_RERANK


@pytest.mark.parametrize(
    "payload",
    [
        {"embeddings": {"float": [[0.1]]}},  # int8 was asked for
        {"embeddings": {"int8": [[300]]}},  # out of int8 range
        {"embeddings": {"int8": [[1], [2]]}},  # two vectors for one input
    ],
)
async def test_typed_embeddings_of_the_wrong_shape(server, payload: dict[str, Any]) -> None:
    server.always(json_reply(payload))
    embeddings = BedrockKitEmbeddings(
        model=EMBED, embedding_types=["int8"], endpoint_url=server.url, max_retries=0, **DUMMY_KEYS
    )
    with pytest.raises(MalformedResponseError):
        embeddings.embed_query("tides")
    embed = BedrockKitEmbedding(
        model=EMBED, embedding_types=["int8"], endpoint_url=server.url, max_retries=0, **DUMMY_KEYS
    )
    try:
        with pytest.raises(MalformedResponseError):
            await embed.aget_query_embedding("tides")
    finally:
        await embed.aclose()


def test_typed_embeddings_control(server) -> None:
    server.always(json_reply({"embeddings": {"int8": [[1, -2]]}}))
    embeddings = BedrockKitEmbeddings(
        model=EMBED, embedding_types=["int8"], endpoint_url=server.url, max_retries=0, **DUMMY_KEYS
    )
    assert embeddings.embed_query("tides") == [1, -2]
