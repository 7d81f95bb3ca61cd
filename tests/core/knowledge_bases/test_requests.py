"""Pure tests of Knowledge Base filters, requests, pagination and parsing on literal dicts."""

from __future__ import annotations

import pytest

from bedrock_kit.core.chat.types import GuardrailConfig, InferenceConfig
from bedrock_kit.core.knowledge_bases.runtime import (
    ExternalSource,
    F,
    GenerationCall,
    GenerationOptions,
    GenerationStreamReducer,
    GenerationTextDelta,
    RetrievalOptions,
    RetrievePager,
    build_retrieve_and_generate_request,
    build_retrieve_request,
    coerce_filter,
    model_arn_for,
    parse_citation,
    parse_generation_response,
    parse_location,
    parse_retrieval_result,
)
from bedrock_kit.errors import ConfigurationError

# -- filters


def test_every_comparison_builds_its_wire_operator() -> None:
    cases = {
        "equals": F.eq("year", 2024),
        "notEquals": F.ne("lang", "fr"),
        "greaterThan": F.gt("pages", 3),
        "greaterThanOrEquals": F.gte("pages", 3.5),
        "lessThan": F.lt("pages", 10),
        "lessThanOrEquals": F.lte("pages", 10),
        "in": F.in_("tag", ("faq", "howto")),
        "notIn": F.not_in("tag", ["draft"]),
        "startsWith": F.starts_with("path", "docs/"),
        "listContains": F.list_contains("tags", "faq"),
        "stringContains": F.string_contains("title", "bedrock"),
    }
    for op, built in cases.items():
        assert list(built.wire) == [op]
        assert set(built.wire[op]) == {"key", "value"}
    assert F.in_("tag", ("faq", "howto")).wire == {"in": {"key": "tag", "value": ["faq", "howto"]}}


def test_and_or_combine_and_flatten() -> None:
    f = F.eq("year", 2024) & F.in_("tag", ["a", "b"]) & F.gt("n", 1)
    assert list(f.wire) == ["andAll"]
    assert [list(m) for m in f.wire["andAll"]] == [["equals"], ["in"], ["greaterThan"]]
    g = (F.eq("a", 1) | F.eq("b", 2)) & F.eq("c", 3)
    assert g.wire == {
        "andAll": [
            {"orAll": [{"equals": {"key": "a", "value": 1}}, {"equals": {"key": "b", "value": 2}}]},
            {"equals": {"key": "c", "value": 3}},
        ]
    }
    # A single member is just that filter: Bedrock rejects andAll with fewer than two.
    assert F.and_all(F.eq("a", 1)).wire == {"equals": {"key": "a", "value": 1}}
    with pytest.raises(ConfigurationError):
        F.or_all()


@pytest.mark.parametrize(
    "build",
    [
        lambda: F.gt("n", "3"),
        lambda: F.gt("n", True),
        lambda: F.in_("tag", "faq"),
        lambda: F.in_("tag", []),
        lambda: F.starts_with("p", 3),
        lambda: F.eq("", 1),
        lambda: F.eq("k", {"x": 1}),
    ],
)
def test_bad_filter_values_raise_configuration_error(build) -> None:
    with pytest.raises(ConfigurationError):
        build()


def test_raw_filter_dicts_are_checked_and_accepted() -> None:
    raw = {"andAll": [{"equals": {"key": "a", "value": 1}}, {"in": {"key": "t", "value": ["x"]}}]}
    assert coerce_filter(raw).wire == raw
    assert (F.eq("b", 2) & {"equals": {"key": "a", "value": 1}}).wire["andAll"][1] == {
        "equals": {"key": "a", "value": 1}
    }
    for bad in (
        {"equals": {"key": "a"}},
        {"bogus": {"key": "a", "value": 1}},
        {"andAll": [{"equals": {"key": "a", "value": 1}}]},
        {"equals": {"key": "a", "value": 1}, "notEquals": {"key": "a", "value": 2}},
    ):
        with pytest.raises(ConfigurationError, match="filter"):
            coerce_filter(bad)


# -- Retrieve requests


def test_retrieve_request_places_everything_where_botocore_expects() -> None:
    options = RetrievalOptions(
        number_of_results=7,
        search_type="HYBRID",
        filter=F.eq("year", 2024),
        implicit_filter_configuration={"metadataAttributes": [], "modelArn": "m"},
        reranking_configuration={"type": "BEDROCK_RERANKING_MODEL"},
    )
    request = build_retrieve_request(
        "KB12345678",
        "what?",
        options,
        guardrail=GuardrailConfig("gr1", "DRAFT"),
        next_token="tok",
    )
    assert request == {
        "knowledgeBaseId": "KB12345678",
        "retrievalQuery": {"text": "what?"},
        "retrievalConfiguration": {
            "vectorSearchConfiguration": {
                "numberOfResults": 7,
                "overrideSearchType": "HYBRID",
                "filter": {"equals": {"key": "year", "value": 2024}},
                "implicitFilterConfiguration": {"metadataAttributes": [], "modelArn": "m"},
                "rerankingConfiguration": {"type": "BEDROCK_RERANKING_MODEL"},
            }
        },
        "guardrailConfiguration": {"guardrailId": "gr1", "guardrailVersion": "DRAFT"},
        "nextToken": "tok",
    }


def test_retrieve_request_minimal_and_raw_config_merge() -> None:
    assert build_retrieve_request("KB12345678", "q") == {
        "knowledgeBaseId": "KB12345678",
        "retrievalQuery": {"text": "q"},
    }
    raw = {"vectorSearchConfiguration": {"numberOfResults": 4}}
    merged = build_retrieve_request("KB", "q", RetrievalOptions(search_type="SEMANTIC", raw=raw))
    assert merged["retrievalConfiguration"] == {
        "vectorSearchConfiguration": {"numberOfResults": 4, "overrideSearchType": "SEMANTIC"}
    }
    assert raw == {"vectorSearchConfiguration": {"numberOfResults": 4}}  # not mutated
    with pytest.raises(ConfigurationError, match="number_of_results"):
        build_retrieve_request("KB", "q", RetrievalOptions(number_of_results=5, raw=raw))


@pytest.mark.parametrize(
    "kwargs",
    [{"number_of_results": 0}, {"number_of_results": 101}, {"search_type": "FUZZY"}],
)
def test_bad_retrieval_options(kwargs) -> None:
    with pytest.raises(ConfigurationError):
        RetrievalOptions(**kwargs)


def test_bad_retrieve_arguments_name_the_argument() -> None:
    with pytest.raises(ConfigurationError, match="knowledge_base_id"):
        build_retrieve_request("", "q")
    with pytest.raises(ConfigurationError, match="query"):
        build_retrieve_request("KB", 3)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="max_results"):
        RetrievePager({}, max_results=0)


# -- pagination


def _page(scores: list[float], token: str | None) -> dict:
    page: dict = {
        "retrievalResults": [
            {"content": {"text": f"t{s}"}, "score": s, "location": {"type": "S3"}} for s in scores
        ],
        "ResponseMetadata": {"RequestId": f"r{scores[0] if scores else 'x'}"},
    }
    if token:
        page["nextToken"] = token
    return page


def test_pager_follows_next_token_at_top_level_and_cuts_at_max_results() -> None:
    pager = RetrievePager({"knowledgeBaseId": "KB", "retrievalQuery": {"text": "q"}}, max_results=5)
    first = pager.next_request()
    assert first is not None and "nextToken" not in first
    pager.add_page(_page([0.9, 0.8], "t1"))
    second = pager.next_request()
    assert second is not None and second["nextToken"] == "t1"
    assert "nextToken" not in second["retrievalQuery"]
    pager.add_page(_page([0.7, 0.6], "t2"))
    assert pager.next_request() == {**first, "nextToken": "t2"}
    pager.add_page(_page([0.5, 0.4], "t3"))
    assert pager.next_request() is None
    result = pager.result()
    assert [r.score for r in result.results] == [0.9, 0.8, 0.7, 0.6, 0.5]
    assert result.pages == 3
    assert result.next_token == "t3"
    assert result.request_ids == ("r0.9", "r0.7", "r0.5")


def test_pager_single_page_without_max_results_and_min_score() -> None:
    pager = RetrievePager({"knowledgeBaseId": "KB"}, min_score=0.5)
    pager.add_page(_page([0.9, 0.5, 0.2], "more"))
    assert pager.next_request() is None
    result = pager.result()
    assert [r.score for r in result.results] == [0.9, 0.5]
    assert result.dropped_below_min_score == 1
    assert result.next_token == "more"


def test_pager_stops_on_repeated_token_or_empty_page() -> None:
    pager = RetrievePager({"knowledgeBaseId": "KB"}, max_results=50)
    pager.add_page(_page([0.9], "same"))
    pager.add_page(_page([0.8], "same"))
    assert pager.next_request() is None
    empty = RetrievePager({"knowledgeBaseId": "KB"}, max_results=50)
    empty.add_page(_page([], "tok"))
    assert empty.next_request() is None


def test_pager_keeps_intervened_guardrail_action() -> None:
    pager = RetrievePager({"knowledgeBaseId": "KB"}, max_results=10)
    pager.add_page({**_page([0.9], "a"), "guardrailAction": "INTERVENED"})
    pager.add_page({**_page([0.8], None), "guardrailAction": "NONE"})
    assert pager.result().guardrail_intervened


# -- parsing


LOCATIONS = [
    ({"type": "S3", "s3Location": {"uri": "s3://b/k.pdf"}}, "s3://b/k.pdf"),
    ({"type": "WEB", "webLocation": {"url": "https://w"}}, "https://w"),
    ({"type": "CONFLUENCE", "confluenceLocation": {"url": "https://c"}}, "https://c"),
    ({"type": "SALESFORCE", "salesforceLocation": {"url": "https://sf"}}, "https://sf"),
    ({"type": "SHAREPOINT", "sharePointLocation": {"url": "https://sp"}}, "https://sp"),
    ({"type": "CUSTOM", "customDocumentLocation": {"id": "doc-1"}}, "doc-1"),
    ({"type": "KENDRA", "kendraDocumentLocation": {"uri": "https://k"}}, "https://k"),
    ({"type": "SQL", "sqlLocation": {"query": "SELECT 1"}}, "SELECT 1"),
    ({"type": "ONEDRIVE", "oneDriveLocation": {"url": "https://od"}}, "https://od"),
    ({"type": "GOOGLEDRIVE", "googleDriveLocation": {"url": "https://gd"}}, "https://gd"),
    ({"type": "FUTURE", "futureThingLocation": {"address": "f://x"}}, "f://x"),
]


@pytest.mark.parametrize(("wire", "uri"), LOCATIONS)
def test_every_location_type_has_one_source_uri(wire, uri) -> None:
    location = parse_location(wire)
    assert location is not None
    assert location.type == wire["type"]
    assert location.source_uri == uri
    assert location.raw == wire
    assert parse_retrieval_result({"content": {"text": "x"}, "location": wire}).source_uri == uri


def test_source_uri_falls_back_to_metadata() -> None:
    result = parse_retrieval_result(
        {"content": {"text": "x"}, "metadata": {"x-amz-bedrock-kb-source-uri": "s3://m"}}
    )
    assert result.location is None
    assert result.source_uri == "s3://m"


def test_row_image_and_media_content() -> None:
    row = parse_retrieval_result(
        {
            "content": {
                "type": "ROW",
                "row": [
                    {"columnName": "id", "columnValue": "7", "type": "LONG"},
                    {"columnName": "name", "columnValue": "Ada", "type": "STRING"},
                ],
            },
            "location": {"type": "SQL", "sqlLocation": {"query": "SELECT *"}},
            "score": 0.5,
            "documentId": "d1",
        }
    )
    assert row.text == ""
    assert [(c.name, c.value, c.type) for c in row.row] == [
        ("id", "7", "LONG"),
        ("name", "Ada", "STRING"),
    ]
    assert row.page_text == '{"id": "7", "name": "Ada"}'
    assert row.document_id == "d1"
    image = parse_retrieval_result(
        {"content": {"type": "IMAGE", "byteContent": "data:image/png;base64,AAA"}}
    )
    assert image.byte_content == "data:image/png;base64,AAA"
    audio = parse_retrieval_result(
        {"content": {"type": "AUDIO", "audio": {"s3Uri": "s3://a", "transcription": "hi"}}}
    )
    assert audio.audio is not None and audio.audio.s3_uri == "s3://a"
    assert audio.page_text == "hi"


def test_citation_span_maps_into_the_answer_inclusive_end() -> None:
    answer = "Alpha beta. Gamma delta."
    response = {
        "output": {"text": answer},
        "sessionId": "sess-1",
        "citations": [
            {
                "generatedResponsePart": {
                    "textResponsePart": {"text": "Alpha beta.", "span": {"start": 0, "end": 10}}
                },
                "retrievedReferences": [
                    {
                        "content": {"text": "alpha source"},
                        "location": {"type": "WEB", "webLocation": {"url": "https://a"}},
                        "metadata": {"k": "v"},
                    }
                ],
            },
            {
                "generatedResponsePart": {
                    "textResponsePart": {"text": "Gamma delta.", "span": {"start": 12, "end": 23}}
                },
                "retrievedReferences": [],
            },
        ],
        "guardrailAction": "NONE",
        "ResponseMetadata": {"RequestId": "req-9"},
    }
    result = parse_generation_response(response)
    assert result.text == answer
    assert result.session_id == "sess-1"
    assert result.request_id == "req-9"
    assert not result.guardrail_intervened
    first, second = result.citations
    assert first.span is not None and first.span.slice_of(answer) == first.text
    assert second.span is not None and second.span.slice_of(answer) == second.text
    assert first.references[0].source_uri == "https://a"
    assert first.references[0].metadata == {"k": "v"}
    assert result.references == first.references


def test_stream_citation_event_new_and_old_layout() -> None:
    part = {"textResponsePart": {"text": "x", "span": {"start": 0, "end": 0}}}
    refs = [{"content": {"text": "r"}}]
    new = parse_citation({"citation": {"generatedResponsePart": part, "retrievedReferences": refs}})
    old = parse_citation({"generatedResponsePart": part, "retrievedReferences": refs})
    assert new == old
    assert new.references[0].text == "r"


def test_stream_reducer_assembles_text_citations_guardrail() -> None:
    reducer = GenerationStreamReducer("s1", "rid")
    deltas = []
    for event in (
        {"output": {"text": "Hel"}},
        {"output": {"text": "lo."}},
        {"citation": {"citation": {"generatedResponsePart": {}, "retrievedReferences": []}}},
        {"guardrail": {"action": "NONE"}},
        {"somethingNew": {"x": 1}},
    ):
        deltas.extend(reducer.handle(event))
    assert [d.text for d in deltas if isinstance(d, GenerationTextDelta)] == ["Hel", "lo."]
    done = reducer.finish().result
    assert done.text == "Hello."
    assert len(done.citations) == 1
    assert done.guardrail_action == "NONE"
    assert done.session_id == "s1"
    assert reducer.unknown_events == [{"somethingNew": {"x": 1}}]


# -- RetrieveAndGenerate requests


def test_model_arn_for() -> None:
    fm = "anthropic.claude-3-haiku-20240307-v1:0"
    assert model_arn_for(fm, "eu-west-1") == f"arn:aws:bedrock:eu-west-1::foundation-model/{fm}"
    assert model_arn_for(fm, "cn-north-1").startswith("arn:aws-cn:bedrock:cn-north-1::")
    east = "arn:aws:bedrock:us-east-1::foundation-model/m"
    assert model_arn_for(east, "us-east-1") == east
    assert model_arn_for("us.anthropic.claude", "us-east-1") == "us.anthropic.claude"
    assert model_arn_for(fm, None) == fm


def test_knowledge_base_generation_request() -> None:
    request = build_retrieve_and_generate_request(
        "What is X?",
        model="amazon.nova-lite-v1:0",
        region="us-east-1",
        knowledge_base_id="KB12345678",
        retrieval=RetrievalOptions(number_of_results=3, filter=F.eq("a", 1)),
        generation=GenerationOptions(
            prompt_template="Use $search_results$",
            orchestration_prompt_template="Rewrite $query$",
            inference=InferenceConfig(max_tokens=200, temperature=0.1, stop_sequences=("END",)),
            guardrail=GuardrailConfig("gr1", "1"),
            generation_configuration={"performanceConfig": {"latency": "optimized"}},
            orchestration_configuration={"queryTransformationConfiguration": {"type": "QD"}},
            session_kms_key_arn="arn:aws:kms:k",
        ),
        session_id="sess-1",
    )
    kb = request["retrieveAndGenerateConfiguration"]["knowledgeBaseConfiguration"]
    assert request["retrieveAndGenerateConfiguration"]["type"] == "KNOWLEDGE_BASE"
    assert request["input"] == {"text": "What is X?"}
    assert request["sessionId"] == "sess-1"
    assert request["sessionConfiguration"] == {"kmsKeyArn": "arn:aws:kms:k"}
    assert kb["modelArn"] == "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"
    assert kb["retrievalConfiguration"] == {
        "vectorSearchConfiguration": {
            "numberOfResults": 3,
            "filter": {"equals": {"key": "a", "value": 1}},
        }
    }
    assert kb["generationConfiguration"] == {
        "performanceConfig": {"latency": "optimized"},
        "promptTemplate": {"textPromptTemplate": "Use $search_results$"},
        "inferenceConfig": {
            "textInferenceConfig": {"maxTokens": 200, "temperature": 0.1, "stopSequences": ["END"]}
        },
        "guardrailConfiguration": {"guardrailId": "gr1", "guardrailVersion": "1"},
    }
    assert kb["orchestrationConfiguration"] == {
        "queryTransformationConfiguration": {"type": "QD"},
        "promptTemplate": {"textPromptTemplate": "Rewrite $query$"},
    }


def test_external_sources_request() -> None:
    # botocore's ExternalSources list takes one source per request.
    def sources_of(source: ExternalSource) -> list[dict]:
        request = build_retrieve_and_generate_request(
            "q", model="arn:aws:bedrock:us-east-1::foundation-model/m", sources=[source]
        )
        config = request["retrieveAndGenerateConfiguration"]
        assert config["type"] == "EXTERNAL_SOURCES"
        return config["externalSourcesConfiguration"]["sources"]

    assert sources_of(ExternalSource(s3_uri="s3://bkt/doc.pdf")) == [
        {"sourceType": "S3", "s3Location": {"uri": "s3://bkt/doc.pdf"}},
    ]
    assert sources_of(
        ExternalSource(data=b"hello", content_type="text/plain", identifier="h.txt")
    ) == [
        {
            "sourceType": "BYTE_CONTENT",
            "byteContent": {"contentType": "text/plain", "data": b"hello", "identifier": "h.txt"},
        },
    ]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one of knowledge_base_id or sources"),
        ({"knowledge_base_id": "KB", "sources": []}, "exactly one"),
        ({"sources": []}, "sources"),
        (
            {"sources": [ExternalSource(s3_uri="s3://bkt/x")], "retrieval": RetrievalOptions()},
            "retr",
        ),
        ({"knowledge_base_id": "KB", "session_id": "bad id!"}, "session_id"),
        ({"knowledge_base_id": "KB", "model": ""}, "model"),
        (
            {
                "knowledge_base_id": "KB",
                "generation": GenerationOptions(
                    prompt_template="a", generation_configuration={"promptTemplate": {"x": 1}}
                ),
            },
            "prompt_template",
        ),
    ],
)
def test_bad_generation_arguments(kwargs, match) -> None:
    kwargs = {"model": "m", **kwargs}
    with pytest.raises(ConfigurationError, match=match):
        GenerationCall("q", **kwargs)


def test_external_source_needs_one_location() -> None:
    with pytest.raises(ConfigurationError):
        ExternalSource()
    with pytest.raises(ConfigurationError):
        ExternalSource(data=b"x")
