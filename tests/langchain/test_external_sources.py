"""BedrockRetrieveAndGenerate over EXTERNAL_SOURCES: cassettes recorded through LocalBedrock."""

from __future__ import annotations

import json
from functools import reduce
from operator import add
from typing import Any

import pytest

from bedrock_kit.core.knowledge_bases.sources import ExternalSource
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain.knowledge_bases import BedrockRetrieveAndGenerate
from tests.support.scenarios import external_sources as ext

GENERATION = {
    "prompt_template": "Answer from $search_results$: $query$",
    "max_tokens": 200,
    "temperature": 0.1,
    "guardrail_config": {"guardrailId": "gr-123", "guardrailVersion": "1"},
    "performance_latency": "optimized",
    "additional_model_request_fields": {"top_k": 50},
}


def rag(bedrock: Any, **kwargs: Any) -> BedrockRetrieveAndGenerate:
    return BedrockRetrieveAndGenerate(
        model=ext.MODEL, endpoint_url=bedrock.endpoint_url, region_name=bedrock.region, **kwargs
    )


def sent(cassette: Any, index: int = 0) -> dict[str, Any]:
    return json.loads(cassette.requests[index].body)


def check_answer(out: dict[str, Any]) -> None:
    assert out["answer"] == ext.ANSWER
    assert out["session_id"] == ext.SESSION
    (doc,) = out["citations"]
    assert doc.page_content == ext.PASSAGE
    assert doc.metadata["source_uri"] == ext.S3_DOC
    assert doc.metadata["location_type"] == "S3"
    assert doc.metadata["cited_text"] == ext.ANSWER
    assert doc.metadata["span"] == (0, len(ext.ANSWER) - 1)


@pytest.mark.vcr
def test_s3_document_with_its_own_generation_configuration(bedrock, vcr) -> None:
    bedrock.script("RetrieveAndGenerate", ext.answer_reply())
    check_answer(rag(bedrock, sources=ext.S3_DOC, **GENERATION).invoke("How often?"))
    body = sent(vcr)
    assert body["input"] == {"text": "How often?"}
    assert body["retrieveAndGenerateConfiguration"] == ext.s3_configuration(ext.GENERATION_WIRE)


@pytest.mark.vcr
async def test_byte_content_async(bedrock, vcr) -> None:
    bedrock.script("RetrieveAndGenerate", ext.answer_reply())
    source = ExternalSource(data=ext.BYTES, content_type="text/plain", identifier="keys.txt")
    runnable = rag(bedrock, sources=[source])
    try:
        check_answer(await runnable.ainvoke({"input": "How often?"}))
    finally:
        await runnable.aclose()
    wire = sent(vcr)["retrieveAndGenerateConfiguration"]["externalSourcesConfiguration"]
    (byte_source,) = wire["sources"]
    assert byte_source["sourceType"] == "BYTE_CONTENT"
    content = byte_source["byteContent"]
    assert (content["contentType"], content["identifier"]) == ("text/plain", "keys.txt")
    import base64

    assert base64.b64decode(content["data"]) == ext.BYTES  # botocore sends blobs base64


@pytest.mark.vcr
def test_stream_from_a_dict_source(bedrock, vcr) -> None:
    bedrock.script("RetrieveAndGenerateStream", ext.stream_reply())
    chunks = list(rag(bedrock, sources={"s3_uri": ext.S3_DOC}).stream("How often?"))
    assert [c["answer"] for c in chunks if "answer" in c] == ["Rotate k", "eys ever", "y month."]
    total = reduce(add, chunks)
    check_answer(total)
    assert total["guardrail_action"] == "NONE"
    assert sent(vcr)["retrieveAndGenerateConfiguration"] == ext.s3_configuration()


@pytest.mark.vcr
async def test_astream(bedrock, vcr) -> None:
    bedrock.script("RetrieveAndGenerateStream", ext.stream_reply())
    runnable = rag(bedrock, sources=ext.S3_DOC, **GENERATION)
    try:
        chunks = [chunk async for chunk in runnable.astream("How often?")]
    finally:
        await runnable.aclose()
    check_answer(reduce(add, chunks))
    assert sent(vcr)["retrieveAndGenerateConfiguration"] == ext.s3_configuration(
        ext.GENERATION_WIRE
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of knowledge_base_id or sources"),
        ({"knowledge_base_id": "KB12345678", "sources": ext.S3_DOC}, "exactly one of"),
        ({"sources": "https://example.com/doc.pdf"}, "s3://bucket/key"),
        ({"sources": [ext.S3_DOC, ext.S3_DOC]}, "takes 1 per request"),
        ({"sources": []}, "sources is empty"),
        ({"sources": {"s3_uri": ext.S3_DOC, "bucket": "x"}}, r"unknown source keys \['bucket'\]"),
        ({"sources": {"data": b"x", "identifier": "a"}}, "needs content_type"),
        ({"sources": {"data": b"x", "content_type": "text/plain"}}, "needs identifier"),
        ({"sources": {"data": b"", "content_type": "text/plain", "identifier": "a"}}, "non-empty"),
        ({"sources": ext.S3_DOC, "number_of_results": 3}, "number_of_results apply to knowledge"),
        ({"sources": ext.S3_DOC, "orchestration_prompt_template": "x"}, "orchestration applies"),
        ({"sources": ext.S3_DOC, "performance_latency": "fast"}, "performance_latency"),
        ({"sources": ext.S3_DOC, "temperature": 3}, "temperature"),
    ],
)
def test_bad_sources_fail_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        BedrockRetrieveAndGenerate(model=ext.MODEL, region_name="us-east-1", **kwargs)


def test_too_large_byte_content_is_refused_before_any_request() -> None:
    big = ExternalSource
    with pytest.raises(ConfigurationError, match="at most 10485760"):
        big(data=b"x" * (10_485_760 + 1), content_type="text/plain", identifier="big.txt")
