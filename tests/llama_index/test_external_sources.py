"""BedrockRetrieveAndGenerateQueryEngine over EXTERNAL_SOURCES: cassettes via LocalBedrock."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from llama_index.core.base.response.schema import AsyncStreamingResponse, StreamingResponse

from bedrock_kit.core.knowledge_bases.sources import ExternalSource
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index.knowledge_bases import BedrockRetrieveAndGenerateQueryEngine
from tests.support.scenarios import external_sources as ext

GENERATION = {
    "prompt_template": "Answer from $search_results$: $query$",
    "max_tokens": 200,
    "temperature": 0.1,
    "guardrail_config": {"guardrailId": "gr-123", "guardrailVersion": "1"},
    "performance_latency": "optimized",
    "additional_model_request_fields": {"top_k": 50},
}


def engine(bedrock: Any, **kwargs: Any) -> BedrockRetrieveAndGenerateQueryEngine:
    return BedrockRetrieveAndGenerateQueryEngine(
        model=ext.MODEL, endpoint_url=bedrock.endpoint_url, region_name=bedrock.region, **kwargs
    )


def sent(cassette: Any) -> dict[str, Any]:
    return json.loads(cassette.requests[0].body)


def check_nodes(nodes: list[Any]) -> None:
    (node,) = nodes
    assert node.node.get_content() == ext.PASSAGE
    assert node.node.metadata["source_uri"] == ext.S3_DOC
    assert node.node.metadata["cited_text"] == ext.ANSWER
    assert node.node.metadata["span"] == [0, len(ext.ANSWER) - 1]


@pytest.mark.vcr
def test_s3_document_with_its_own_generation_configuration(bedrock, vcr) -> None:
    bedrock.script("RetrieveAndGenerate", ext.answer_reply())
    response = engine(bedrock, sources=ext.S3_DOC, **GENERATION).query("How often?")
    assert str(response) == ext.ANSWER
    assert response.metadata["session_id"] == ext.SESSION
    (citation,) = response.metadata["citations"]
    assert citation.references[0].source_uri == ext.S3_DOC
    check_nodes(response.source_nodes)
    assert sent(vcr)["retrieveAndGenerateConfiguration"] == ext.s3_configuration(
        ext.GENERATION_WIRE
    )


@pytest.mark.vcr
async def test_byte_content_async(bedrock, vcr) -> None:
    bedrock.script("RetrieveAndGenerate", ext.answer_reply())
    source = ExternalSource(data=ext.BYTES, content_type="text/plain", identifier="keys.txt")
    query_engine = engine(bedrock, sources=source)
    try:
        response = await query_engine.aquery("How often?")
    finally:
        await query_engine.aclose()
    assert str(response) == ext.ANSWER
    check_nodes(response.source_nodes)
    wire = sent(vcr)["retrieveAndGenerateConfiguration"]["externalSourcesConfiguration"]
    content = wire["sources"][0]["byteContent"]
    assert base64.b64decode(content["data"]) == ext.BYTES
    assert content["identifier"] == "keys.txt"


@pytest.mark.vcr
def test_stream(bedrock, vcr) -> None:
    bedrock.script("RetrieveAndGenerateStream", ext.stream_reply())
    response = engine(bedrock, sources={"s3_uri": ext.S3_DOC}, streaming=True).query("How often?")
    assert isinstance(response, StreamingResponse)
    assert list(response.response_gen) == ["Rotate k", "eys ever", "y month."]
    check_nodes(response.source_nodes)
    assert response.metadata["session_id"] == ext.SESSION
    assert response.metadata["guardrail_action"] == "NONE"
    assert sent(vcr)["retrieveAndGenerateConfiguration"] == ext.s3_configuration()


@pytest.mark.vcr
async def test_astream(bedrock, vcr) -> None:
    bedrock.script("RetrieveAndGenerateStream", ext.stream_reply())
    query_engine = engine(bedrock, sources=[ext.S3_DOC], streaming=True, **GENERATION)
    try:
        response = await query_engine.aquery("How often?")
        assert isinstance(response, AsyncStreamingResponse)
        texts = [text async for text in response.response_gen]
    finally:
        await query_engine.aclose()
    assert "".join(texts) == ext.ANSWER
    check_nodes(response.source_nodes)
    assert sent(vcr)["retrieveAndGenerateConfiguration"] == ext.s3_configuration(
        ext.GENERATION_WIRE
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of knowledge_base_id or sources"),
        ({"sources": "s3://x/"}, "s3://bucket/key"),
        ({"sources": [ext.S3_DOC, ext.S3_DOC]}, "takes 1 per request"),
        ({"sources": ext.S3_DOC, "search_type": "HYBRID"}, "search_type apply to knowledge"),
        ({"sources": 42}, "must be an ExternalSource"),
        ({"sources": ext.S3_DOC, "additional_model_request_fields": 3}, "dict"),
    ],
)
def test_bad_sources_fail_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        BedrockRetrieveAndGenerateQueryEngine(model=ext.MODEL, region_name="us-east-1", **kwargs)
