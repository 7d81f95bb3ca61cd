"""BedrockRerank (LlamaIndex node postprocessor): cassettes recorded through LocalBedrock."""

from __future__ import annotations

import json
from typing import Any

import pytest
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from bedrock_kit.errors import ConfigurationError, ThrottlingError
from bedrock_kit.llama_index.rerank import BedrockRerank
from bedrock_kit.testing import Reply
from tests.support.scenarios import rerank as sc


def nodes() -> list[NodeWithScore]:
    return [
        NodeWithScore(node=TextNode(text=t, metadata={"source": f"doc-{i}"}), score=0.5 - i / 10)
        for i, t in enumerate(sc.TEXTS)
    ]


def reranker(bedrock: Any, **kwargs: Any) -> BedrockRerank:
    return BedrockRerank(endpoint_url=bedrock.endpoint_url, region_name=bedrock.region, **kwargs)


def check(out: list[NodeWithScore], keep: int) -> None:
    order = sc.BEST_FIRST[:keep]
    assert [n.node.metadata["original_index"] for n in out] == order
    assert [n.score for n in out] == [sc.SCORES[i] for i in order]
    assert [n.node.metadata["retrieval_score"] for n in out] == [0.5 - i / 10 for i in order]
    assert [n.node.get_content() for n in out] == [sc.TEXTS[i] for i in order]
    # Bookkeeping stays out of what the LLM sees.
    assert "original_index" not in out[0].node.get_content(metadata_mode="llm")
    assert "doc-1" in out[0].node.get_content(metadata_mode="llm")


@pytest.mark.vcr
def test_rerank_api_sync(bedrock, vcr) -> None:
    bedrock.script("Rerank", sc.rerank_api_reply(top_n=2))
    postprocessor = reranker(bedrock, model=sc.AMAZON, top_n=2)
    assert isinstance(postprocessor, BaseNodePostprocessor)
    check(postprocessor.postprocess_nodes(nodes(), query_str=sc.QUERY), 2)
    body = json.loads(vcr.requests[0].body)
    texts = [s["inlineDocumentSource"]["textDocument"]["text"] for s in body["sources"]]
    assert texts == sc.TEXTS  # node text only, no metadata
    assert body["rerankingConfiguration"]["bedrockRerankingConfiguration"]["numberOfResults"] == 2


@pytest.mark.vcr
async def test_rerank_api_async(bedrock) -> None:
    bedrock.script("Rerank", sc.rerank_api_reply(top_n=None))
    postprocessor = reranker(bedrock, model=sc.COHERE, top_n=None)
    try:
        out = await postprocessor.apostprocess_nodes(nodes(), QueryBundle(sc.QUERY))
    finally:
        await postprocessor.aclose()
    check(out, 4)


@pytest.mark.vcr
def test_invoke_form_sync(bedrock, vcr) -> None:
    bedrock.script("InvokeModel", sc.invoke_reply(top_n=3))
    out = reranker(bedrock, model=sc.COHERE, api="invoke").postprocess_nodes(
        nodes(), query_str=sc.QUERY
    )
    check(out, 3)
    assert json.loads(vcr.requests[0].body)["api_version"] == 2


@pytest.mark.vcr
async def test_invoke_form_async(bedrock) -> None:
    bedrock.script("InvokeModel", sc.invoke_reply(top_n=3))
    postprocessor = reranker(bedrock, model=sc.COHERE, api="invoke")
    try:
        check(await postprocessor.apostprocess_nodes(nodes(), query_str=sc.QUERY), 3)
    finally:
        await postprocessor.aclose()


def test_query_is_required_and_errors_are_typed(server) -> None:
    postprocessor = BedrockRerank(
        model=sc.AMAZON, endpoint_url=server.endpoint_url, region_name="us-east-1", max_retries=0
    )
    with pytest.raises(ConfigurationError, match="needs the query"):
        postprocessor.postprocess_nodes(nodes())
    assert postprocessor.postprocess_nodes([], query_str=sc.QUERY) == []
    server.script("Rerank", Reply.error(429, "ThrottlingException", "slow down"))
    with pytest.raises(ThrottlingError):
        postprocessor.postprocess_nodes(nodes(), query_str=sc.QUERY)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "amazon.rerank-v2"}, "not a supported reranker"),
        ({"model": sc.AMAZON, "api": "invoke"}, "Rerank API only"),
        ({"model": sc.AMAZON, "top_n": 1001}, "top_n"),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        BedrockRerank(region_name="us-east-1", **kwargs)
