"""Rerank request building and response parsing, on literal dicts (shapes: botocore's model)."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest

from bedrock_kit.core.rerank.wire import (
    RerankOptions,
    RerankPager,
    billed_queries,
    build_invoke_request,
    build_rerank_request,
    parse_invoke_response,
)
from bedrock_kit.errors import ConfigurationError, MalformedResponseError

AMAZON = "amazon.rerank-v1:0"
COHERE = "cohere.rerank-v3-5:0"
DOCS = ["cake recipes", "tide times for today", {"title": "tides", "body": "twice a day"}]


def test_rerank_request_matches_the_service_model() -> None:
    request = build_rerank_request(
        RerankOptions(COHERE, top_n=2, additional_model_request_fields={"max_tokens_per_doc": 9}),
        "tide times",
        DOCS,
        region="eu-west-1",
    )
    assert request == {
        "queries": [{"type": "TEXT", "textQuery": {"text": "tide times"}}],
        "sources": [
            {
                "type": "INLINE",
                "inlineDocumentSource": {"type": "TEXT", "textDocument": {"text": d}},
            }
            for d in DOCS[:2]
        ]
        + [
            {
                "type": "INLINE",
                "inlineDocumentSource": {"type": "JSON", "jsonDocument": DOCS[2]},
            }
        ],
        "rerankingConfiguration": {
            "type": "BEDROCK_RERANKING_MODEL",
            "bedrockRerankingConfiguration": {
                "modelConfiguration": {
                    "modelArn": f"arn:aws:bedrock:eu-west-1::foundation-model/{COHERE}",
                    "additionalModelRequestFields": {"max_tokens_per_doc": 9},
                },
                "numberOfResults": 2,
            },
        },
    }
    # botocore's own validator accepts it (client-side param validation of the real model).
    from botocore.validate import ParamValidator

    shape = (
        botocore.session.get_session()
        .get_service_model("bedrock-agent-runtime")
        .operation_model("Rerank")
        .input_shape
    )
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


def test_top_n_larger_than_the_documents_is_capped_and_arns_pass_through() -> None:
    arn = f"arn:aws-cn:bedrock:cn-north-1::foundation-model/{AMAZON}"
    request = build_rerank_request(RerankOptions(arn, top_n=50), "q", ["a"], region="cn-north-1")
    config = request["rerankingConfiguration"]["bedrockRerankingConfiguration"]
    assert config == {"modelConfiguration": {"modelArn": arn}, "numberOfResults": 1}


def test_invoke_body_is_coheres() -> None:
    request = build_invoke_request(RerankOptions(COHERE, top_n=2, api="invoke"), "q", DOCS)
    assert request["modelId"] == COHERE
    assert json.loads(request["body"]) == {
        "query": "q",
        "documents": DOCS,
        "api_version": 2,
        "top_n": 2,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model_id": "cohere.rerank-v3"}, "not a supported reranker model"),
        ({"model_id": AMAZON, "api": "invoke"}, "Rerank API only"),
        ({"model_id": COHERE, "api": "converse"}, "api must be"),
        ({"model_id": COHERE, "top_n": 0}, r"top_n must be an int in 1\.\.1000"),
        ({"model_id": COHERE, "top_n": True}, "top_n"),
        ({"model_id": COHERE, "additional_model_request_fields": 3}, "must be a dict"),
        (
            {"model_id": COHERE, "api": "invoke", "additional_model_request_fields": {"top_n": 1}},
            r"may not set \['top_n'\]",
        ),
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        RerankOptions(**kwargs)


@pytest.mark.parametrize(
    ("query", "documents", "message"),
    [
        ("", ["a"], "query is empty"),
        (3, ["a"], "query must be a string"),
        ("q" * 32_001, ["a"], "at most 32000"),
        ("q", [], "documents is empty"),
        ("q", "abc", "must be a list"),
        ("q", ["a", " "], r"documents\[1\] is empty"),
        ("q", ["a", 7], r"documents\[1\] must be a string or a dict"),
        ("q", [{}], r"documents\[0\] is an empty object"),
        ("q", [{"x": {1, 2}}], "not JSON-serializable"),
        ("q", ["a"] * 1001, "at most 1000"),
        ("q", ["\ud800"], "surrogate"),
    ],
)
def test_bad_queries_and_documents_are_refused(query: Any, documents: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build_rerank_request(RerankOptions(COHERE), query, documents, region="us-east-1")


def test_a_bare_id_without_region_cannot_become_an_arn() -> None:
    with pytest.raises(ConfigurationError, match="give region_name"):
        build_rerank_request(RerankOptions(AMAZON), "q", ["a"], region=None)


def test_pager_follows_tokens_and_orders_best_first() -> None:
    pager = RerankPager(RerankOptions(AMAZON), DOCS)
    first = {"results": [{"index": 0, "relevanceScore": 0.1}], "nextToken": "t1"}
    assert pager.add_page({**first, "ResponseMetadata": {"RequestId": "r1"}}) is True
    second = {"results": [{"index": 2, "relevanceScore": 0.7}, {"index": 1, "relevanceScore": 0.9}]}
    assert pager.add_page(second) is False
    result = pager.result()
    assert [(r.index, r.score) for r in result.results] == [(1, 0.9), (2, 0.7), (0, 0.1)]
    assert result.results[2].document == "cake recipes"
    assert result.request_ids == ("r1",)
    assert result.queries == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "results"),
        ({"results": [{"index": 3, "relevanceScore": 0.1}]}, "3 documents were sent"),
        ({"results": [{"index": 0}]}, "relevanceScore"),
        ({"results": [{"index": -1, "relevanceScore": 0.1}]}, "index"),
        (
            {"results": [{"index": 0, "relevanceScore": 0.1}, {"index": 0, "relevanceScore": 0.2}]},
            "index repeats",
        ),
        ({"results": [{"index": 0, "relevanceScore": "high"}]}, "relevanceScore"),
    ],
)
def test_malformed_rerank_pages_are_typed_errors(body: dict[str, Any], message: str) -> None:
    pager = RerankPager(RerankOptions(AMAZON), DOCS)
    with pytest.raises(MalformedResponseError, match=message) as info:
        pager.add_page(body)
    assert info.value.model_id == AMAZON


def test_a_repeated_token_and_too_many_results_are_malformed() -> None:
    pager = RerankPager(RerankOptions(AMAZON), DOCS)
    pager.add_page({"results": [{"index": 0, "relevanceScore": 0.1}], "nextToken": "t"})
    with pytest.raises(MalformedResponseError, match="repeats"):
        pager.add_page({"results": [{"index": 1, "relevanceScore": 0.1}], "nextToken": "t"})
    capped = RerankPager(RerankOptions(AMAZON, top_n=1), DOCS)
    with pytest.raises(MalformedResponseError, match="2 results for top_n=1"):
        capped.add_page(
            {"results": [{"index": 0, "relevanceScore": 0.1}, {"index": 1, "relevanceScore": 0.2}]}
        )


def test_invoke_response_parsing() -> None:
    options = RerankOptions(COHERE, api="invoke")
    raw = json.dumps(
        {
            "id": "abc",
            "results": [{"index": 1, "relevance_score": 0.8}, {"index": 0, "relevance_score": 0.2}],
        }
    ).encode()
    result = parse_invoke_response(options, DOCS, {"ResponseMetadata": {"RequestId": "r"}}, raw)
    assert [r.index for r in result.results] == [1, 0]
    assert (result.response_id, result.request_ids) == ("abc", ("r",))
    with pytest.raises(MalformedResponseError, match="JSON"):
        parse_invoke_response(options, DOCS, {}, b"<html>")
    with pytest.raises(MalformedResponseError, match="relevance_score"):
        parse_invoke_response(options, DOCS, {}, b'{"results": [{"index": 0}]}')


@pytest.mark.parametrize(("documents", "queries"), [(1, 1), (100, 1), (101, 2), (1000, 10)])
def test_billed_queries_are_one_per_hundred_documents(documents: int, queries: int) -> None:
    assert billed_queries(documents) == queries
