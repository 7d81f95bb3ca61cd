"""LlamaIndex Knowledge Base adapters against LocalBedrock (real boto3 / aiobotocore)."""

from __future__ import annotations

from functools import partial

import boto3
import pytest
from llama_index.core.base.response.schema import AsyncStreamingResponse, StreamingResponse
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import MetadataMode, NodeWithScore

from bedrock_kit.core.knowledge_bases.filters import F
from bedrock_kit.errors import ConfigurationError, ThrottlingError
from bedrock_kit.llama_index.knowledge_bases import (
    BedrockKnowledgeBaseRetriever,
    BedrockRetrieveAndGenerateQueryEngine,
)
from bedrock_kit.testing import LocalBedrock, Reply
from tests.support.scenarios import client_args
from tests.support.scenarios.knowledge_bases import (
    KB,
    SESSION_HEADER,
    SHAREPOINT,
    citation,
    rag_answer,
    rag_stream,
    retrieval_page,
)

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
page = partial(retrieval_page, source=SHAREPOINT)
CITED = citation("Leave is 25 days.", "Employees get 25 days of leave.", "WEB", "https://hr/leave")


def test_default_configuration_retrieves_nodes(server) -> None:
    server.script("Retrieve", Reply.json(page(2)))
    retriever = BedrockKnowledgeBaseRetriever(KB, **client_args(server))
    nodes = retriever.retrieve("leave policy")
    assert all(isinstance(n, NodeWithScore) for n in nodes)
    assert [n.score for n in nodes] == [0.9, 0.8]
    assert nodes[0].node.get_content() == "chunk 0"
    meta = nodes[0].node.metadata
    assert meta["source_uri"] == "https://sp/0"
    assert meta["location_type"] == "SHAREPOINT"
    assert meta["source_metadata"]["dept"] == "hr"
    # The LLM sees the source, not the raw wire objects.
    llm_text = nodes[0].node.get_content(metadata_mode=MetadataMode.LLM)
    assert "https://sp/0" in llm_text and "sharePointLocation" not in llm_text
    (request,) = server.requests_for("Retrieve")
    assert request.body == {"retrievalQuery": {"text": "leave policy"}}


async def test_async_pagination_filter_and_min_score(server) -> None:
    server.script("Retrieve", Reply.json(page(2, 0, "t1")))
    server.script("Retrieve", Reply.json(page(2, 2, "t2")))
    server.script("Retrieve", Reply.json(page(2, 4, "t3")))
    retriever = BedrockKnowledgeBaseRetriever(
        KB,
        filter=F.list_contains("tags", "policy") & F.lte("year", 2025),
        search_type="SEMANTIC",
        max_results=3,
        min_score=0.65,
        **client_args(server),
    )
    try:
        nodes = await retriever.aretrieve("leave")
    finally:
        await retriever.runtime.pool.aclose()
    # page 1: 0.9, 0.8; page 2: 0.7 kept, 0.6 below min_score; three reached, stop.
    assert [n.score for n in nodes] == [0.9, 0.8, 0.7]
    bodies = [r.body for r in server.requests_for("Retrieve")]
    assert [b.get("nextToken") for b in bodies] == [None, "t1"]
    vector = bodies[0]["retrievalConfiguration"]["vectorSearchConfiguration"]
    assert vector["overrideSearchType"] == "SEMANTIC"
    assert vector["filter"]["andAll"][0] == {"listContains": {"key": "tags", "value": "policy"}}
    assert server.pending("Retrieve") == 1  # the third page was never needed


def test_retriever_in_a_retriever_query_engine(server) -> None:
    server.script("Retrieve", Reply.json(page(2)))
    retriever = BedrockKnowledgeBaseRetriever(KB, **client_args(server))
    engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM())
    response = engine.query("leave policy")
    assert [n.node.get_content() for n in response.source_nodes] == ["chunk 0", "chunk 1"]
    # MockLLM echoes its prompt: the retrieved text reached the LLM.
    assert "chunk 0" in str(response)


def test_wrong_client_and_bad_arguments() -> None:
    with pytest.raises(ConfigurationError, match="bedrock-agent-runtime"):
        BedrockKnowledgeBaseRetriever(
            KB, client=boto3.client("bedrock-runtime", region_name="us-east-1")
        )
    with pytest.raises(ConfigurationError, match="number_of_results"):
        BedrockKnowledgeBaseRetriever(KB, number_of_results=500)
    with pytest.raises(ConfigurationError, match="session_id"):
        BedrockRetrieveAndGenerateQueryEngine(knowledge_base_id=KB, model=MODEL, session_id="a b")


# -- RetrieveAndGenerate query engine


def engine(server: LocalBedrock, **kwargs) -> BedrockRetrieveAndGenerateQueryEngine:
    return BedrockRetrieveAndGenerateQueryEngine(
        knowledge_base_id=KB, model=MODEL, **client_args(server), **kwargs
    )


def test_query_engine_source_nodes_from_citations_and_session(server) -> None:
    server.script(
        "RetrieveAndGenerate",
        Reply.json(rag_answer("Leave is 25 days.", "s-1", CITED)),
    )
    server.script(
        "RetrieveAndGenerate",
        Reply.json(rag_answer("Yes.", "s-1")),
    )
    qe = engine(server, continue_session=True, prompt_template="Answer from $search_results$")
    response = qe.query("How much leave?")
    assert str(response) == "Leave is 25 days."
    (node,) = response.source_nodes
    assert node.node.get_content() == "Employees get 25 days of leave."
    assert node.node.metadata["source_uri"] == "https://hr/leave"
    assert node.node.metadata["cited_text"] == "Leave is 25 days."
    assert response.metadata["session_id"] == "s-1"
    assert response.metadata["citations"][0].span.slice_of(str(response)) == "Leave is 25 days."
    assert qe.query("Can I carry it over?").response == "Yes."
    first, second = (r.body for r in server.requests_for("RetrieveAndGenerate"))
    assert "sessionId" not in first and second["sessionId"] == "s-1"


STREAM = rag_stream(["Leave is ", "25 days."], CITED, guardrail_action="INTERVENED")


def test_query_engine_streaming(server) -> None:
    server.script(
        "RetrieveAndGenerateStream", Reply.events(STREAM, headers={SESSION_HEADER: "s-2"})
    )
    response = engine(server, streaming=True).query("How much leave?")
    assert isinstance(response, StreamingResponse)
    assert list(response.response_gen) == ["Leave is ", "25 days."]
    assert response.source_nodes[0].node.metadata["source_uri"] == "https://hr/leave"
    assert response.metadata["session_id"] == "s-2"
    assert response.metadata["guardrail_action"] == "INTERVENED"


async def test_query_engine_async_and_async_streaming(server) -> None:
    server.script(
        "RetrieveAndGenerate",
        Reply.json(rag_answer("Async.", "s-3", CITED)),
    )
    server.script(
        "RetrieveAndGenerateStream", Reply.events(STREAM, headers={SESSION_HEADER: "s-4"})
    )
    plain = engine(server)
    streaming = engine(server, streaming=True)
    try:
        response = await plain.aquery("q")
        assert response.response == "Async." and len(response.source_nodes) == 1
        stream = await streaming.aquery("q")
        assert isinstance(stream, AsyncStreamingResponse)
        full = await stream.get_response()
    finally:
        await plain.runtime.pool.aclose()
        await streaming.runtime.pool.aclose()
    assert full.response == "Leave is 25 days."
    assert full.metadata["session_id"] == "s-4"
    assert full.source_nodes[0].node.metadata["cited_text"] == "Leave is 25 days."


def test_query_engine_errors_are_typed(server) -> None:
    server.script("RetrieveAndGenerate", Reply.error(429, "ThrottlingException", "slow"))
    with pytest.raises(ThrottlingError):
        engine(server).query("q")
