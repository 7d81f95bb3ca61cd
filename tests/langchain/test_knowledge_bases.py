"""LangChain Knowledge Base adapters against LocalBedrock (real boto3 / aiobotocore)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial, reduce
from operator import add

import boto3
import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda
from langchain_tests.integration_tests import RetrieversIntegrationTests

from bedrock_kit.core.knowledge_bases.filters import F
from bedrock_kit.errors import ConfigurationError, ResourceNotFoundError
from bedrock_kit.langchain.knowledge_bases import (
    BedrockKnowledgeBaseRetriever,
    BedrockRetrieveAndGenerate,
    KnowledgeBaseRetriever,
    RetrieveAndGenerate,
)
from bedrock_kit.testing import LocalBedrock, Reply
from tests.support.scenarios import client_args
from tests.support.scenarios.knowledge_bases import (
    CONFLUENCE,
    KB,
    SESSION_HEADER,
    citation,
    rag_answer,
    rag_stream,
    retrieval_page,
)

MODEL = "amazon.nova-lite-v1:0"
page = partial(retrieval_page, source=CONFLUENCE)
CITED = citation("Rotate keys monthly.", "Keys are rotated every month.", "S3", "s3://kb/keys.md")


def test_documents_carry_score_source_uri_location_and_kb_metadata(server) -> None:
    server.script("Retrieve", Reply.json(page(2)))
    retriever = BedrockKnowledgeBaseRetriever(knowledge_base_id=KB, **client_args(server))
    docs = retriever.invoke("how do I rotate keys?")
    assert [d.page_content for d in docs] == ["chunk 0", "chunk 1"]
    meta = docs[0].metadata
    assert meta["score"] == 0.9
    assert meta["source_uri"] == "https://c/0"
    assert meta["location_type"] == "CONFLUENCE"
    assert meta["location"] == {"type": "CONFLUENCE", "confluenceLocation": {"url": "https://c/0"}}
    assert meta["source_metadata"]["team"] == "ops"
    (request,) = server.requests_for("Retrieve")
    # The default configuration sends the bare minimum and works.
    assert request.body == {"retrievalQuery": {"text": "how do I rotate keys?"}}


def test_pagination_filter_and_min_score_through_the_retriever(server) -> None:
    server.script("Retrieve", Reply.json(page(3, 0, "t1")))
    server.script("Retrieve", Reply.json(page(3, 3, "t2")))
    server.script("Retrieve", Reply.json(page(3, 6, "t3")))
    retriever = BedrockKnowledgeBaseRetriever(
        knowledge_base_id=KB,
        filter=F.eq("team", "ops") | F.starts_with("path", "runbooks/"),
        max_results=7,
        min_score_confidence=0.25,
        **client_args(server),
    )
    docs = retriever.invoke("q")
    # scores 0.9 .. 0.1; 0.2 and 0.1 are dropped, so 7 kept of 9 needs all 3 pages
    assert [d.metadata["score"] for d in docs] == [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]
    bodies = [r.body for r in server.requests_for("Retrieve")]
    assert [b.get("nextToken") for b in bodies] == [None, "t1", "t2"]
    assert bodies[0]["retrievalConfiguration"]["vectorSearchConfiguration"]["filter"] == {
        "orAll": [
            {"equals": {"key": "team", "value": "ops"}},
            {"startsWith": {"key": "path", "value": "runbooks/"}},
        ]
    }


async def test_native_async_in_an_lcel_chain(server) -> None:
    server.script("Retrieve", Reply.json(page(2)))
    server.script("Retrieve", Reply.json(page(1)))
    retriever = BedrockKnowledgeBaseRetriever(knowledge_base_id=KB, **client_args(server))
    chain = retriever | RunnableLambda(lambda docs: " | ".join(d.page_content for d in docs))
    try:
        assert await chain.ainvoke("q") == "chunk 0 | chunk 1"
        assert chain.invoke("q") == "chunk 0"
    finally:
        await retriever.runtime.pool.aclose()
    assert retriever.runtime.pool.created == 2  # one sync, one async client, both real


def test_per_call_overrides_and_unknown_kwargs(server) -> None:
    server.script("Retrieve", Reply.json(page(3)))
    retriever = BedrockKnowledgeBaseRetriever(knowledge_base_id=KB, **client_args(server))
    assert len(retriever.invoke("q", number_of_results=3)) == 3
    vector = server.requests_for("Retrieve")[0].body["retrievalConfiguration"]
    assert vector == {"vectorSearchConfiguration": {"numberOfResults": 3}}
    with pytest.raises(ConfigurationError, match="top_k"):
        retriever.invoke("q", top_k=3)


def test_errors_and_wrong_client() -> None:
    with pytest.raises(ConfigurationError, match="bedrock-agent-runtime"):
        BedrockKnowledgeBaseRetriever(
            knowledge_base_id=KB, client=boto3.client("bedrock-runtime", region_name="us-east-1")
        )
    with pytest.raises(ConfigurationError, match="filter"):
        BedrockKnowledgeBaseRetriever(knowledge_base_id=KB, filter={"near": 1})


def test_unknown_kb_is_a_typed_error(server) -> None:
    server.script("Retrieve", Reply.error(404, "ResourceNotFoundException", "no such KB"))
    retriever = BedrockKnowledgeBaseRetriever(knowledge_base_id="KBMISSING1", **client_args(server))
    with pytest.raises(ResourceNotFoundError):
        retriever.invoke("q")


def test_issue_names_are_the_same_classes() -> None:
    assert KnowledgeBaseRetriever is BedrockKnowledgeBaseRetriever
    assert RetrieveAndGenerate is BedrockRetrieveAndGenerate


# -- RetrieveAndGenerate runnable


def rag(server: LocalBedrock, **kwargs) -> BedrockRetrieveAndGenerate:
    return BedrockRetrieveAndGenerate(
        knowledge_base_id=KB, model=MODEL, **client_args(server), **kwargs
    )


def test_invoke_returns_answer_citations_and_session(server) -> None:
    server.script(
        "RetrieveAndGenerate",
        Reply.json(rag_answer("Rotate keys monthly.", "s-9", CITED)),
    )
    server.script(
        "RetrieveAndGenerate",
        Reply.json(rag_answer("On the 1st.", "s-9")),
    )
    chain = rag(
        server,
        max_tokens=300,
        temperature=0.2,
        guardrail_config={"guardrailId": "gr1", "guardrailVersion": "2"},
    )
    out = chain.invoke("How often should keys rotate?")
    assert out["answer"] == "Rotate keys monthly."
    assert out["session_id"] == "s-9"
    (doc,) = out["citations"]
    assert isinstance(doc, Document)
    assert doc.page_content == "Keys are rotated every month."
    assert doc.metadata["source_uri"] == "s3://kb/keys.md"
    assert doc.metadata["cited_text"] == "Rotate keys monthly."
    assert doc.metadata["span"] == (0, 19)
    follow = chain.invoke({"input": "Which day?", "session_id": out["session_id"]})
    assert follow["answer"] == "On the 1st."
    first, second = (r.body for r in server.requests_for("RetrieveAndGenerate"))
    assert "sessionId" not in first and second["sessionId"] == "s-9"
    generation = first["retrieveAndGenerateConfiguration"]["knowledgeBaseConfiguration"][
        "generationConfiguration"
    ]
    assert generation == {
        "inferenceConfig": {"textInferenceConfig": {"maxTokens": 300, "temperature": 0.2}},
        "guardrailConfiguration": {"guardrailId": "gr1", "guardrailVersion": "2"},
    }


STREAM = rag_stream(["Rotate keys ", "monthly."], CITED, guardrail_action="NONE")


def check_chunks(chunks: list) -> None:
    assert next(c for c in chunks if "answer" in c) == {"answer": "Rotate keys "}
    keys = [next(iter(c)) for c in chunks]
    assert keys.index("answer") < keys.index("citations") < keys.index("session_id")
    total = reduce(add, chunks)
    assert total["answer"] == "Rotate keys monthly."
    assert total["session_id"] == "s-st"
    assert total["guardrail_action"] == "NONE"
    assert total["citations"][0].metadata["source_uri"] == "s3://kb/keys.md"


def test_stream_text_then_citations(server) -> None:
    server.script(
        "RetrieveAndGenerateStream", Reply.events(STREAM, headers={SESSION_HEADER: "s-st"})
    )
    check_chunks(list(rag(server).stream("How often?")))


async def test_astream_text_then_citations(server) -> None:
    server.script(
        "RetrieveAndGenerateStream", Reply.events(STREAM, headers={SESSION_HEADER: "s-st"})
    )
    chain = rag(server)
    try:
        chunks = [c async for c in chain.astream({"question": "How often?"})]
        server.script(
            "RetrieveAndGenerate",
            Reply.json(rag_answer("A.", "s-a")),
        )
        assert (await chain.ainvoke("again"))["answer"] == "A."
    finally:
        await chain.runtime.pool.aclose()
    check_chunks(chunks)


def test_bad_input_and_arguments(server) -> None:
    chain = rag(server)
    with pytest.raises(ConfigurationError, match="input"):
        chain.invoke({"text": "no known key"})
    with pytest.raises(ConfigurationError, match="session_id"):
        rag(server, session_id="has space")
    assert server.requests == []


# -- langchain-tests standard retriever suite, served by LocalBedrock


class TestStandardRetriever(RetrieversIntegrationTests):
    # Results LocalBedrock returns per call, in order, as a real KB answers numberOfResults.
    _PLAN = {"test_k_constructor_param": [3, 1], "test_invoke_with_k_kwarg": [1, 3]}

    @pytest.fixture(autouse=True)
    def _local_bedrock(self, request) -> Iterator[None]:
        with LocalBedrock() as running:
            self._endpoint = running.endpoint_url
            plan = self._PLAN.get(request.node.name, [4])
            for n in plan:
                running.script("Retrieve", Reply.json(page(n)))
            yield
            sent = [
                r.body.get("retrievalConfiguration", {})
                .get("vectorSearchConfiguration", {})
                .get("numberOfResults")
                for r in running.requests_for("Retrieve")
            ]
            if request.node.name in self._PLAN:
                assert sent == plan  # the retriever asked Bedrock for exactly k results

    @property
    def retriever_constructor(self) -> type[BedrockKnowledgeBaseRetriever]:
        return BedrockKnowledgeBaseRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"knowledge_base_id": KB, "region_name": "us-east-1", "endpoint_url": self._endpoint}

    @property
    def retriever_query_example(self) -> str:
        return "How do I rotate keys?"

    @property
    def num_results_arg_name(self) -> str:
        return "number_of_results"
