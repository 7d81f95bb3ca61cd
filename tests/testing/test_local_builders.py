"""Reply builders for Knowledge Bases, guardrails, agents and embeddings, read back through the
public classes against LocalBedrock (real HTTP): what they build is what the parsers accept."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.tools import tool

from bedrock_kit.core.guardrails.apply import GuardrailClient
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.langchain import (
    BedrockAgentRunnable,
    BedrockKitEmbeddings,
    BedrockKnowledgeBaseRetriever,
    BedrockRetrieveAndGenerate,
)
from bedrock_kit.testing import LocalBedrock, Reply, builders, tool_use
from bedrock_kit.testing.scripts import converse_reply

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"


def test_tool_use_ids_are_unique_by_default() -> None:
    first, second = tool_use("get_weather", {"city": "Oslo"}), tool_use("get_weather", {})
    assert first["toolUseId"] != second["toolUseId"]
    assert first["toolUseId"].startswith("tooluse_") and len(first["toolUseId"]) == 30
    assert tool_use("x", {}, "tu-1")["toolUseId"] == "tu-1"
    reply = converse_reply(tool_uses=[first, second])
    ids = [b["toolUse"]["toolUseId"] for b in reply["output"]["message"]["content"]]
    assert ids == [first["toolUseId"], second["toolUseId"]]


def test_made_up_ids_are_unique_by_default() -> None:
    assert (
        builders.retrieve_and_generate_reply("a")["sessionId"]
        != builders.retrieve_and_generate_reply("a")["sessionId"]
    )
    call = builders.function_call("f")
    one, two = builders.return_control_event(call), builders.return_control_event(call)
    assert one["returnControl"]["invocationId"] != two["returnControl"]["invocationId"]
    uris = {builders.retrieval_result("same")["location"]["s3Location"]["uri"] for _ in range(3)}
    assert len(uris) == 3


def test_retrieve_reply_reads_back_with_scores_metadata_and_pages(server: LocalBedrock) -> None:
    server.script(
        "Retrieve",
        Reply.json(builders.retrieve_reply("Tides rise twice a day.", next_token="p2")),
        Reply.json(
            builders.retrieve_reply(
                builders.retrieval_result(
                    "The Moon pulls the sea.",
                    uri="https://wiki/moon",
                    kind="CONFLUENCE",
                    score=0.42,
                    metadata={"team": "sea"},
                )
            )
        ),
    )
    retriever = BedrockKnowledgeBaseRetriever(
        knowledge_base_id="KB12345678", max_results=10, **server.client_kwargs()
    )
    docs = retriever.invoke("tides")
    assert [d.page_content for d in docs] == ["Tides rise twice a day.", "The Moon pulls the sea."]
    assert docs[0].metadata["score"] == 0.9
    assert docs[1].metadata["score"] == 0.42
    assert docs[1].metadata["source_metadata"]["team"] == "sea"
    assert docs[1].metadata["location"]["confluenceLocation"]["url"] == "https://wiki/moon"
    second = server.requests_for("Retrieve")[1].body
    assert second["nextToken"] == "p2"


def test_retrieve_and_generate_reply_reads_back_with_citations(server: LocalBedrock) -> None:
    answer = "Tides rise twice a day."
    cited = builders.citation(answer, "The tide rises twice daily.")
    server.script(
        "RetrieveAndGenerate",
        Reply.json(
            builders.retrieve_and_generate_reply(answer, citations=[cited], session_id="s-1")
        ),
    )
    rag = BedrockRetrieveAndGenerate(
        knowledge_base_id="KB12345678", model=MODEL, **server.client_kwargs()
    )
    out = rag.invoke("How often do tides rise?")
    assert out["answer"] == answer and out["session_id"] == "s-1"
    (document,) = out["citations"]
    assert document.page_content == "The tide rises twice daily."
    assert document.metadata["cited_text"] == answer and document.metadata["span"] == (0, 22)
    assert cited["generatedResponsePart"]["textResponsePart"]["span"] == {"start": 0, "end": 22}


@pytest.mark.parametrize(
    ("body", "action", "blocked", "anonymized", "output"),
    [
        (builders.guardrail_pass(11), "NONE", False, False, ""),
        (builders.guardrail_mask("mail {EMAIL}"), "GUARDRAIL_INTERVENED", False, True,
         "mail {EMAIL}"),
        (builders.guardrail_block(words=["bitcoin"]), "GUARDRAIL_INTERVENED", True, False,
         builders.BLOCKED_MESSAGE),
    ],
    ids=["pass", "mask", "block"],
)  # fmt: skip
def test_guardrail_replies_read_back(
    server: LocalBedrock,
    body: dict[str, Any],
    action: str,
    blocked: bool,
    anonymized: bool,
    output: str,
) -> None:
    server.script("ApplyGuardrail", Reply.json(body))
    client = GuardrailClient("gr-local", "1", settings=ClientSettings(**server.client_kwargs()))
    result = client.apply("hello there")
    assert (result.action, result.blocked, result.anonymized) == (action, blocked, anonymized)
    assert result.output_text == output
    if blocked:
        assert [w.match for a in result.assessments for w in a.words] == ["bitcoin"]
    if anonymized:
        assert [p.type for a in result.assessments for p in a.pii_entities] == ["EMAIL"]
    assert result.usage.topic_policy_units == 1


def test_guardrail_block_without_findings_names_a_topic() -> None:
    body = builders.guardrail_block()
    assert body["assessments"][0]["topicPolicy"]["topics"][0]["name"] == "Investing"


def test_agent_events_with_traces_and_parallel_return_of_control(server: LocalBedrock) -> None:
    @tool
    def get_weather(city: str) -> str:
        """Weather in a city."""
        return f"sunny in {city}"

    calls = [
        builders.function_call("get_weather", city="Oslo"),
        builders.function_call("get_weather", city="Bergen"),
    ]
    server.script(
        "InvokeAgent",
        Reply.events(
            builders.agent_events(
                traces=[builders.rationale_trace("Need the weather.")], calls=calls
            )
        ),
        Reply.events(builders.agent_events("Sunny in both.", chunk_chars=5)),
    )
    agent = BedrockAgentRunnable(
        agent_id="LOCALAGENT", agent_alias_id="TSTALIASID", tools=[get_weather],
        **server.client_kwargs(),
    )  # fmt: skip
    message = agent.invoke("Weather in Oslo and Bergen?")
    assert message.content == "Sunny in both."
    sent = server.requests_for("InvokeAgent")[1].body["sessionState"]
    results = sent["returnControlInvocationResults"]
    bodies = sorted(r["functionResult"]["responseBody"]["TEXT"]["body"] for r in results)
    assert bodies == ["sunny in Bergen", "sunny in Oslo"]
    rationale = [s for s in message.response_metadata["agent_steps"] if "Need" in str(s)]
    assert rationale, message.response_metadata["agent_steps"]


def test_function_call_parameters_are_typed_as_bedrock_sends_them() -> None:
    call = builders.function_call("f", n=3, x=0.5, ok=True, s="a")
    assert call["functionInvocationInput"]["parameters"] == [
        {"name": "n", "type": "integer", "value": "3"},
        {"name": "x", "type": "number", "value": "0.5"},
        {"name": "ok", "type": "boolean", "value": "true"},
        {"name": "s", "type": "string", "value": "a"},
    ]


def test_embedding_replies_read_back(server: LocalBedrock) -> None:
    server.script(
        "InvokeModel",
        Reply.json(builders.titan_embedding_reply("hello", dimensions=256)),
    )
    embeddings = BedrockKitEmbeddings(
        model="amazon.titan-embed-text-v2:0", dimensions=256, **server.client_kwargs()
    )
    (vector,) = embeddings.embed_documents(["hello"])
    assert vector == builders.fake_embedding("hello", 256)
    assert abs(sum(v * v for v in vector) - 1) < 1e-4
    assert builders.fake_embedding("hello", 8) != builders.fake_embedding("hullo", 8)
    cohere = builders.cohere_embedding_reply(["a", "b"], dimensions=4)
    assert [len(v) for v in cohere["embeddings"]] == [4, 4]
    assert json.loads(json.dumps(cohere)) == cohere
