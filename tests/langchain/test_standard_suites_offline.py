"""langchain-tests' embeddings, retriever and tool suites, offline against LocalBedrock.

Embeddings are answered by the ScriptedModel (a unit vector per text); Retrieve and
InvokeAgent by the small reply functions below, which read the request like the service
does (``numberOfResults``, the query text, the agent's input text).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_tests.integration_tests import (
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
    ToolsIntegrationTests,
)

from bedrock_kit.langchain import (
    BedrockAgentRunnable,
    BedrockAgentTool,
    BedrockKitEmbeddings,
    BedrockKnowledgeBaseRetriever,
)
from bedrock_kit.testing import LocalBedrock, ReceivedRequest, Reply, ScriptedModel
from bedrock_kit.testing.scripts import invoke_agent_events

_SERVER: LocalBedrock | None = None
_DEFAULT_RESULTS = 5  # Bedrock's default numberOfResults


def _retrieve(request: ReceivedRequest) -> Reply:
    body = request.body
    wanted = (
        (body.get("retrievalConfiguration") or {})
        .get("vectorSearchConfiguration", {})
        .get("numberOfResults", _DEFAULT_RESULTS)
    )
    query = body["retrievalQuery"]["text"]
    results = [
        {
            "content": {"text": f"Passage {i} about {query}", "type": "TEXT"},
            "location": {"type": "S3", "s3Location": {"uri": f"s3://docs/{i}.txt"}},
            "score": round(1 - i / 100, 2),
            "metadata": {"x-amz-bedrock-kb-source-uri": f"s3://docs/{i}.txt"},
        }
        for i in range(wanted)
    ]
    return Reply.json({"retrievalResults": results})


def _invoke_agent(request: ReceivedRequest) -> Reply:
    return Reply.events(invoke_agent_events(f"The agent did: {request.body['inputText']}"))


@pytest.fixture(scope="module", autouse=True)
def local_bedrock() -> Iterator[LocalBedrock]:
    global _SERVER  # noqa: PLW0603 - the suites read their parameters from properties
    with pytest.MonkeyPatch.context() as patch, LocalBedrock() as server:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        ScriptedModel().install(server)
        server.set_default("Retrieve", _retrieve)
        server.set_default("InvokeAgent", _invoke_agent)
        _SERVER = server
        yield server
        _SERVER = None


def _client() -> dict[str, Any]:
    assert _SERVER is not None
    return {"endpoint_url": _SERVER.endpoint_url, "region_name": "us-east-1", "max_retries": 0}


class TestEmbeddingsOffline(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[BedrockKitEmbeddings]:
        return BedrockKitEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": "amazon.titan-embed-text-v2:0", "dimensions": 256, **_client()}


class TestCohereEmbeddingsOffline(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[BedrockKitEmbeddings]:
        return BedrockKitEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": "cohere.embed-v4:0", **_client()}


class TestKnowledgeBaseRetrieverOffline(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[BedrockKnowledgeBaseRetriever]:
        return BedrockKnowledgeBaseRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"knowledge_base_id": "KB12345678", **_client()}

    @property
    def retriever_query_example(self) -> str:
        return "How do tides work?"

    @property
    def num_results_arg_name(self) -> str:
        return "number_of_results"


class TestAgentToolOffline(ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[BedrockAgentTool]:
        return BedrockAgentTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        agent = BedrockAgentRunnable(
            agent_id="AGENT12345", agent_alias_id="ALIAS12345", **_client()
        )
        return {"agent": agent}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"query": "Book a table for two"}


def test_the_agent_tool_reaches_the_agent(local_bedrock):
    tool = BedrockAgentTool(**TestAgentToolOffline().tool_constructor_params)
    assert tool.invoke({"query": "ping"}) == "The agent did: ping"
    assert local_bedrock.requests_for("InvokeAgent")[-1].body["inputText"] == "ping"


def test_scripted_embeddings_are_deterministic_unit_vectors(local_bedrock):
    model = BedrockKitEmbeddings(model="amazon.titan-embed-text-v2:0", **_client())
    first, again, other = model.embed_documents(["tide", "tide", "moon"])
    assert first == again != other and len(first) == 1024
    assert abs(sum(v * v for v in first) - 1) < 1e-4
