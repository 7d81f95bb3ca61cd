"""BedrockRerank (LangChain document compressor): cassettes recorded through LocalBedrock."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.documents import BaseDocumentCompressor, Document

from bedrock_kit.errors import ConfigurationError, ThrottlingError
from bedrock_kit.langchain.rerank import BedrockRerank
from bedrock_kit.testing import Reply
from tests.support.scenarios import rerank as sc

DOCS = [Document(page_content=t, metadata={"source": f"doc-{i}"}) for i, t in enumerate(sc.TEXTS)]


def reranker(bedrock: Any, **kwargs: Any) -> BedrockRerank:
    return BedrockRerank(endpoint_url=bedrock.endpoint_url, region_name=bedrock.region, **kwargs)


def check(out: Any, keep: int) -> None:
    assert [d.metadata["original_index"] for d in out] == sc.BEST_FIRST[:keep]
    assert [d.metadata["relevance_score"] for d in out] == [sc.SCORES[i] for i in sc.BEST_FIRST][
        :keep
    ]
    assert [d.page_content for d in out] == [sc.TEXTS[i] for i in sc.BEST_FIRST][:keep]
    assert out[0].metadata["source"] == "doc-1"  # the document's own metadata is kept


@pytest.mark.vcr
def test_rerank_api_sync(bedrock, vcr) -> None:
    bedrock.script("Rerank", sc.rerank_api_reply(top_n=2))
    compressor = reranker(bedrock, model=sc.AMAZON, top_n=2)
    assert isinstance(compressor, BaseDocumentCompressor)
    check(compressor.compress_documents(DOCS, sc.QUERY), 2)
    body = json.loads(vcr.requests[0].body)
    assert [s["inlineDocumentSource"]["textDocument"]["text"] for s in body["sources"]] == sc.TEXTS
    assert body["queries"] == [{"type": "TEXT", "textQuery": {"text": sc.QUERY}}]
    config = body["rerankingConfiguration"]["bedrockRerankingConfiguration"]
    assert config["numberOfResults"] == 2
    assert config["modelConfiguration"]["modelArn"].endswith(f"foundation-model/{sc.AMAZON}")


@pytest.mark.vcr
async def test_rerank_api_async_keeps_all_when_top_n_is_none(bedrock) -> None:
    bedrock.script("Rerank", sc.rerank_api_reply(top_n=None))
    compressor = reranker(bedrock, model=sc.COHERE, top_n=None)
    try:
        check(await compressor.acompress_documents(DOCS, sc.QUERY), 4)
    finally:
        await compressor.aclose()


@pytest.mark.vcr
def test_invoke_form_sync(bedrock, vcr) -> None:
    bedrock.script("InvokeModel", sc.invoke_reply(top_n=3))
    check(reranker(bedrock, model=sc.COHERE, api="invoke").compress_documents(DOCS, sc.QUERY), 3)
    assert json.loads(vcr.requests[0].body) == {
        "query": sc.QUERY,
        "documents": sc.TEXTS,
        "api_version": 2,
        "top_n": 3,
    }


@pytest.mark.vcr
async def test_invoke_form_async(bedrock) -> None:
    bedrock.script("InvokeModel", sc.invoke_reply(top_n=3))
    compressor = reranker(bedrock, model=sc.COHERE, api="invoke")
    try:
        check(await compressor.acompress_documents(DOCS, sc.QUERY), 3)
    finally:
        await compressor.aclose()


def test_no_documents_no_request(server) -> None:
    compressor = BedrockRerank(
        model=sc.AMAZON, endpoint_url=server.endpoint_url, region_name="us-east-1"
    )
    assert compressor.compress_documents([], sc.QUERY) == []
    assert server.requests == []


def test_errors_are_typed(server) -> None:
    server.script("Rerank", Reply.error(429, "ThrottlingException", "slow down"))
    compressor = BedrockRerank(
        model=sc.AMAZON, endpoint_url=server.endpoint_url, region_name="us-east-1", max_retries=0
    )
    with pytest.raises(ThrottlingError):
        compressor.compress_documents(DOCS, sc.QUERY)
    with pytest.raises(ConfigurationError, match=r"documents\[1\] is empty"):
        compressor.compress_documents([DOCS[0], Document(page_content=" ")], sc.QUERY)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "cohere.rerank-v3"}, "not a supported reranker"),
        ({"model": sc.AMAZON, "api": "invoke"}, "Rerank API only"),
        ({"model": sc.AMAZON, "top_n": 0}, "top_n"),
        ({"model": sc.AMAZON, "topn": 3}, "topn"),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        BedrockRerank(region_name="us-east-1", **kwargs)
