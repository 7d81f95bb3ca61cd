"""What LocalBedrock answers in the one-ledger pipeline tests (core, LangChain, LlamaIndex).

ApplyGuardrail bills ``ceil(characters / 1000)`` text units per configured policy (content
and topic for ``gr-in``, content for ``gr-out``); the agent reports its model tokens in a
trace; ConverseStream's in-request guardrail reports one assessment per streamed chunk.
"""

from __future__ import annotations

import math
from typing import Any

from bedrock_kit.testing import LocalBedrock, ReceivedRequest, Reply
from bedrock_kit.testing.builders import retrieve_reply
from bedrock_kit.testing.scripts import build_usage, converse_stream_events

HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA = "us.amazon.nova-micro-v1:0"
TITAN = "amazon.titan-embed-text-v2:0"
AMAZON_RERANK = "amazon.rerank-v1:0"
COHERE_RERANK = "cohere.rerank-v3-5:0"
KB = "KB12345678"
RAG_CAP = 800
AGENT_CAP = 2000
STREAM_MAX_TOKENS = 60
STREAM_CHUNKS = 7  # assessments the in-request guardrail reports, one per chunk
ANSWER = "The meeting is in Oslo on Tuesday at noon, room 4B. " * 6
DOCS = [f"document {i} about Oslo meetings" for i in range(130)]
CAPS = {"RetrieveAndGenerate": RAG_CAP}


def _apply_guardrail(request: ReceivedRequest) -> Reply:
    """Bill what Bedrock bills: ceil(characters / 1000) per configured policy."""
    texts = [c["text"]["text"] for c in request.body["content"] if "text" in c]
    units = math.ceil(sum(map(len, texts)) / 1000)
    policies = ["contentPolicyUnits"]
    if request.path_params["guardrailIdentifier"] == "gr-in":
        policies.append("topicPolicyUnits")
    usage = {name: units for name in policies}
    return Reply.json({"action": "NONE", "outputs": [], "assessments": [], "usage": usage})


def _agent_reply(request: ReceivedRequest) -> Reply:
    def trace(step: dict[str, Any]) -> dict[str, Any]:
        return {"trace": {"agentId": "AG1", "trace": {"orchestrationTrace": step}}}

    usage = {"inputTokens": 420, "outputTokens": 55}
    return Reply.events(
        [
            trace({"modelInvocationInput": {"foundationModel": HAIKU, "text": "{}"}}),
            trace({"modelInvocationOutput": {"metadata": {"usage": usage}}}),
            {"chunk": {"bytes": b"Booked."}},
        ]
    )


def _stream_reply(request: ReceivedRequest) -> Reply:
    chunk = {"invocationMetrics": {"usage": {"contentPolicyUnits": 1, "topicPolicyUnits": 1}}}
    trace = {
        "guardrail": {
            "inputAssessment": {"gr-out": chunk},
            "outputAssessments": {"gr-out": [chunk] * STREAM_CHUNKS},
        }
    }
    usage = build_usage(35, STREAM_MAX_TOKENS - 10)
    return Reply.events(converse_stream_events(ANSWER, usage=usage, trace=trace))


def script(server: LocalBedrock) -> None:
    """Answer the pipeline's guardrail, agent and stream calls as the tests expect."""
    server.set_default("ApplyGuardrail", _apply_guardrail)
    server.set_default("InvokeAgent", _agent_reply)
    server.set_default("ConverseStream", _stream_reply)
    passages = ("The meeting is in Oslo.", "Room 4B, Tuesday at noon.", "Bring the slides.")
    server.set_default("Retrieve", Reply.json(retrieve_reply(*passages)))
