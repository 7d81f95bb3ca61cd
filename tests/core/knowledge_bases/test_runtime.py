"""Knowledge Bases runtime against LocalBedrock with real boto3 and aiobotocore clients."""

from __future__ import annotations

import base64

import boto3
import pytest

from bedrock_kit.core.chat.types import GuardrailConfig
from bedrock_kit.core.knowledge_bases.runtime import (
    ExternalSource,
    F,
    GenerationCitationDelta,
    GenerationCompletedDelta,
    GenerationGuardrailDelta,
    GenerationOptions,
    GenerationTextDelta,
    KnowledgeBaseRuntime,
    RetrievalOptions,
)
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import (
    AccessDeniedError,
    BedrockValidationError,
    ConfigurationError,
    IncompleteStreamError,
    ResourceNotFoundError,
    ThrottlingError,
)
from bedrock_kit.testing import LocalBedrock, Reply

KB = "KB12345678"
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
SESSION_HEADER = "x-amzn-bedrock-knowledge-base-session-id"


def page(n: int, start: int, token: str | None) -> dict:
    body: dict = {
        "retrievalResults": [
            {
                "content": {"text": f"chunk {i}", "type": "TEXT"},
                "location": {"type": "S3", "s3Location": {"uri": f"s3://docs/{i}.md"}},
                "metadata": {"x-amz-bedrock-kb-source-uri": f"s3://docs/{i}.md", "n": i},
                "score": round(1 - i / 10, 2),
            }
            for i in range(start, start + n)
        ]
    }
    if token:
        body["nextToken"] = token
    return body


def citation(text: str, start: int, end: int, uri: str) -> dict:
    return {
        "generatedResponsePart": {
            "textResponsePart": {"text": text, "span": {"start": start, "end": end}}
        },
        "retrievedReferences": [
            {
                "content": {"text": f"source for {text}", "type": "TEXT"},
                "location": {"type": "WEB", "webLocation": {"url": uri}},
                "metadata": {"x-amz-bedrock-kb-source-uri": uri},
            }
        ],
    }


@pytest.fixture
def runtime(server: LocalBedrock) -> KnowledgeBaseRuntime:
    settings = ClientSettings(
        region_name="us-east-1", endpoint_url=server.endpoint_url, max_retries=0
    )
    return KnowledgeBaseRuntime(settings)


def script_three_pages(server: LocalBedrock) -> None:
    server.script("Retrieve", Reply.json(page(2, 0, "tok-1")))
    server.script("Retrieve", Reply.json(page(2, 2, "tok-2")))
    server.script("Retrieve", Reply.json(page(2, 4, "tok-3")))


def check_three_pages(server: LocalBedrock, result) -> None:
    assert [r.text for r in result.results] == [f"chunk {i}" for i in range(5)]
    assert result.pages == 3
    assert result.next_token == "tok-3"
    bodies = [r.body for r in server.requests_for("Retrieve")]
    assert len(bodies) == 3
    # nextToken is a top-level body member (where botocore's model puts it), never nested.
    assert "nextToken" not in bodies[0]
    assert [b.get("nextToken") for b in bodies[1:]] == ["tok-1", "tok-2"]
    for body in bodies:
        assert body["retrievalConfiguration"] == {
            "vectorSearchConfiguration": {"numberOfResults": 5}
        }
        assert "nextToken" not in body["retrievalConfiguration"]["vectorSearchConfiguration"]
    assert {r.path for r in server.requests_for("Retrieve")} == {f"/knowledgebases/{KB}/retrieve"}
    assert len({r.source_uri for r in result.results}) == 5  # no duplicates


def test_pagination_three_pages_cut_at_max_results(server, runtime) -> None:
    script_three_pages(server)
    result = runtime.retrieve(KB, "what?", max_results=5)
    check_three_pages(server, result)
    assert server.pending() == 0


async def test_pagination_three_pages_async(server, runtime) -> None:
    script_three_pages(server)
    try:
        result = await runtime.aretrieve(KB, "what?", max_results=5)
    finally:
        await runtime.pool.aclose()
    check_three_pages(server, result)


def test_filters_search_type_guardrail_and_min_score_sent(server, runtime) -> None:
    server.script("Retrieve", Reply.json({**page(4, 3, None), "guardrailAction": "NONE"}))
    options = RetrievalOptions(
        number_of_results=4,
        search_type="HYBRID",
        filter=F.eq("year", 2024) & F.in_("tag", ["faq", "howto"]),
        reranking_configuration={
            "type": "BEDROCK_RERANKING_MODEL",
            "bedrockRerankingConfiguration": {
                "modelConfiguration": {
                    "modelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.rerank-v1:0"
                }
            },
        },
    )
    result = runtime.retrieve(
        KB, "q", options, guardrail=GuardrailConfig("gr1", "DRAFT"), min_score=0.6
    )
    # scores 0.7, 0.6, 0.5, 0.4: two kept, two dropped
    assert [r.score for r in result.results] == [0.7, 0.6]
    assert result.dropped_below_min_score == 2
    assert result.guardrail_action == "NONE"
    assert result.results[0].metadata["n"] == 3
    (request,) = server.requests_for("Retrieve")
    vector = request.body["retrievalConfiguration"]["vectorSearchConfiguration"]
    assert vector["overrideSearchType"] == "HYBRID"
    assert vector["numberOfResults"] == 4
    assert vector["filter"] == {
        "andAll": [
            {"equals": {"key": "year", "value": 2024}},
            {"in": {"key": "tag", "value": ["faq", "howto"]}},
        ]
    }
    assert vector["rerankingConfiguration"]["type"] == "BEDROCK_RERANKING_MODEL"
    assert request.body["guardrailConfiguration"] == {
        "guardrailId": "gr1",
        "guardrailVersion": "DRAFT",
    }


def answer(text: str, session: str, citations: list) -> dict:
    return {"output": {"text": text}, "sessionId": session, "citations": citations}


def test_retrieve_and_generate_session_continuity(server, runtime) -> None:
    server.script(
        "RetrieveAndGenerate",
        Reply.json(
            answer("Tides are tidal.", "sess-1", [citation("Tides are tidal.", 0, 15, "https://t")])
        ),
    )
    server.script("RetrieveAndGenerate", Reply.json(answer("Twice a day.", "sess-1", [])))
    first = runtime.retrieve_and_generate(
        "What are tides?",
        model=MODEL,
        knowledge_base_id=KB,
        generation=GenerationOptions(prompt_template="Use $search_results$"),
    )
    assert first.text == "Tides are tidal."
    assert first.session_id == "sess-1"
    (cited,) = first.citations
    assert cited.span is not None and cited.span.slice_of(first.text) == cited.text
    assert cited.references[0].source_uri == "https://t"
    assert first.request_id
    second = runtime.retrieve_and_generate(
        "How often?", model=MODEL, knowledge_base_id=KB, session_id=first.session_id
    )
    assert second.text == "Twice a day."
    one, two = (r.body for r in server.requests_for("RetrieveAndGenerate"))
    assert "sessionId" not in one
    assert two["sessionId"] == "sess-1"
    kb = one["retrieveAndGenerateConfiguration"]["knowledgeBaseConfiguration"]
    assert kb["modelArn"] == f"arn:aws:bedrock:us-east-1::foundation-model/{MODEL}"
    assert kb["generationConfiguration"] == {
        "promptTemplate": {"textPromptTemplate": "Use $search_results$"}
    }


async def test_retrieve_and_generate_async(server, runtime) -> None:
    server.script("RetrieveAndGenerate", Reply.json(answer("Async.", "s-a", [])))
    try:
        result = await runtime.aretrieve_and_generate("q", model=MODEL, knowledge_base_id=KB)
    finally:
        await runtime.pool.aclose()
    assert (result.text, result.session_id) == ("Async.", "s-a")


STREAM = [
    {"output": {"text": "Tides "}},
    {"output": {"text": "rise."}},
    {"citation": {"citation": citation("Tides rise.", 0, 10, "https://moon")}},
    {"guardrail": {"action": "NONE"}},
]


def check_stream(deltas: list) -> None:
    texts = [d.text for d in deltas if isinstance(d, GenerationTextDelta)]
    assert texts == ["Tides ", "rise."]
    cites = [d.citation for d in deltas if isinstance(d, GenerationCitationDelta)]
    assert cites[0].references[0].source_uri == "https://moon"
    assert [d.action for d in deltas if isinstance(d, GenerationGuardrailDelta)] == ["NONE"]
    done = deltas[-1]
    assert isinstance(done, GenerationCompletedDelta)
    assert done.result.text == "Tides rise."
    assert done.result.session_id == "stream-sess"
    assert done.result.citations[0].span.slice_of(done.result.text) == "Tides rise."
    # Text arrives before its citation.
    kinds = [type(d).__name__ for d in deltas]
    assert kinds.index("GenerationTextDelta") < kinds.index("GenerationCitationDelta")


def test_retrieve_and_generate_stream_sync(server, runtime) -> None:
    server.script(
        "RetrieveAndGenerateStream", Reply.events(STREAM, headers={SESSION_HEADER: "stream-sess"})
    )
    check_stream(list(runtime.stream_retrieve_and_generate("q", model=MODEL, knowledge_base_id=KB)))


async def test_retrieve_and_generate_stream_async(server, runtime) -> None:
    server.script(
        "RetrieveAndGenerateStream", Reply.events(STREAM, headers={SESSION_HEADER: "stream-sess"})
    )
    try:
        deltas = [
            d
            async for d in runtime.astream_retrieve_and_generate(
                "q", model=MODEL, knowledge_base_id=KB
            )
        ]
    finally:
        await runtime.pool.aclose()
    check_stream(deltas)


def test_in_stream_exception_is_typed(server, runtime) -> None:
    server.script(
        "RetrieveAndGenerateStream",
        Reply.events(
            STREAM,
            headers={SESSION_HEADER: "s"},
            exception_at=(1, "throttlingException", "slow down"),
        ),
    )
    seen = []
    with pytest.raises(ThrottlingError):
        for delta in runtime.stream_retrieve_and_generate("q", model=MODEL, knowledge_base_id=KB):
            seen.append(delta)
    assert [d.text for d in seen] == ["Tides "]


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (404, "ResourceNotFoundException", ResourceNotFoundError),
        (403, "AccessDeniedException", AccessDeniedError),
        (429, "ThrottlingException", ThrottlingError),
        (400, "ValidationException", BedrockValidationError),
    ],
)
def test_errors_are_typed(server, runtime, status, code, error) -> None:
    server.script("Retrieve", Reply.error(status, code, "nope"))
    with pytest.raises(error) as caught:
        runtime.retrieve("KBUNKNOWN1", "q")
    assert caught.value.model_id == "KBUNKNOWN1"
    assert caught.value.status_code == status


async def test_errors_are_typed_async(server, runtime) -> None:
    server.script("RetrieveAndGenerate", Reply.error(404, "ResourceNotFoundException", "no kb"))
    try:
        with pytest.raises(ResourceNotFoundError):
            await runtime.aretrieve_and_generate("q", model=MODEL, knowledge_base_id=KB)
    finally:
        await runtime.pool.aclose()


def test_wrong_service_client_fails_at_construction() -> None:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    with pytest.raises(ConfigurationError, match="bedrock-agent-runtime"):
        KnowledgeBaseRuntime(ClientSettings(), client=client)


def test_bad_arguments_fail_before_any_request(server, runtime) -> None:
    with pytest.raises(ConfigurationError, match="max_results"):
        runtime.retrieve(KB, "q", max_results=0)
    with pytest.raises(ConfigurationError, match="session_id"):
        runtime.retrieve_and_generate("q", model=MODEL, knowledge_base_id=KB, session_id="x y")
    assert server.requests == []


def test_external_sources_over_the_wire(server, runtime) -> None:
    server.script("RetrieveAndGenerate", Reply.json(answer("From the doc.", "s-x", [])))
    result = runtime.retrieve_and_generate(
        "Summarise",
        model=f"arn:aws:bedrock:us-east-1::foundation-model/{MODEL}",
        sources=[ExternalSource(data=b"tide table", content_type="text/plain", identifier="t.txt")],
        generation=GenerationOptions(guardrail={"guardrailId": "g", "guardrailVersion": "1"}),
    )
    assert result.text == "From the doc."
    (request,) = server.requests_for("RetrieveAndGenerate")
    config = request.body["retrieveAndGenerateConfiguration"]
    assert config["type"] == "EXTERNAL_SOURCES"
    external = config["externalSourcesConfiguration"]
    # botocore sends blobs base64-encoded in JSON.
    assert external["sources"][0]["byteContent"]["data"] == base64.b64encode(b"tide table").decode()
    assert external["generationConfiguration"] == {
        "guardrailConfiguration": {"guardrailId": "g", "guardrailVersion": "1"}
    }


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_truncated_stream_is_incomplete_with_partial_text(server, runtime, mode) -> None:
    server.script(
        "RetrieveAndGenerateStream",
        Reply.events(STREAM, headers={SESSION_HEADER: "s"}, truncate_after=1),
    )
    with pytest.raises(IncompleteStreamError) as caught:
        if mode == "sync":
            list(runtime.stream_retrieve_and_generate("q", model=MODEL, knowledge_base_id=KB))
        else:
            try:
                async for _ in runtime.astream_retrieve_and_generate(
                    "q", model=MODEL, knowledge_base_id=KB
                ):
                    pass
            finally:
                await runtime.pool.aclose()
    assert caught.value.partial_text == "Tides "
    assert caught.value.model_id == KB
