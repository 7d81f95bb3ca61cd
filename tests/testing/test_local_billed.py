"""LocalBedrock's request log says what each answer billed, read from the bytes it sent."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from bedrock_kit.testing import LocalBedrock, Reply, flows
from bedrock_kit.testing.billing import BilledUsage
from bedrock_kit.testing.rerank import cohere_rerank_reply
from bedrock_kit.testing.scripts import (
    build_usage,
    converse_reply,
    converse_stream_events,
    invoke_agent_events,
)

MESSAGES = [{"role": "user", "content": [{"text": "hi"}]}]


def _chunk_assessment(units: int) -> dict[str, Any]:
    return {"invocationMetrics": {"usage": {"contentPolicyUnits": units, "topicPolicyUnits": 1}}}


@pytest.fixture
def server():
    with LocalBedrock() as local:
        yield local


def _runtime(server: LocalBedrock, service: str = "bedrock-runtime") -> Any:
    return boto3.client(service, **server.client_kwargs())


def _billed(server: LocalBedrock) -> BilledUsage:
    (request,) = server.requests
    assert request.billed is not None
    return request.billed


def test_converse_bills_its_usage_and_every_guardrail_assessment(server: LocalBedrock) -> None:
    trace = {
        "guardrail": {
            "inputAssessment": {"gr1": _chunk_assessment(2)},
            "outputAssessments": {"gr1": [_chunk_assessment(1), _chunk_assessment(1)]},
        }
    }
    usage = build_usage(30, 9, cache_read=5, cache_write=7)
    server.script("Converse", Reply.json(converse_reply("ok", usage=usage, trace=trace)))
    _runtime(server).converse(modelId="m1", messages=MESSAGES)
    billed = _billed(server)
    assert (billed.model_id, billed.input_tokens, billed.output_tokens) == ("m1", 30, 9)
    assert (billed.cache_read_input_tokens, billed.cache_write_input_tokens) == (5, 7)
    assert billed.guardrail_units == {"gr1": {"contentPolicyUnits": 4, "topicPolicyUnits": 3}}
    assert billed.guardrail_total("gr1") == 7 and billed.guardrail_total("other") == 0


def test_a_stream_bills_the_chunk_assessments_of_its_metadata(server: LocalBedrock) -> None:
    chunks = [_chunk_assessment(1) for _ in range(5)]
    trace = {"guardrail": {"outputAssessments": {"gr1": chunks}}}
    events = converse_stream_events("x" * 80, usage=build_usage(10, 20), trace=trace)
    server.script("ConverseStream", Reply.events(events))
    response = _runtime(server).converse_stream(modelId="m1", messages=MESSAGES)
    list(response["stream"])
    billed = _billed(server)
    assert (billed.input_tokens, billed.output_tokens) == (10, 20)
    assert billed.guardrail_units == {"gr1": {"contentPolicyUnits": 5, "topicPolicyUnits": 5}}


def test_a_truncated_stream_bills_only_the_frames_that_went_out(server: LocalBedrock) -> None:
    events = converse_stream_events("hello", usage=build_usage(10, 20))
    server.script("ConverseStream", Reply.events(events, truncate_after=len(events) - 1))
    response = _runtime(server).converse_stream(modelId="m1", messages=MESSAGES)
    with pytest.raises(Exception):  # noqa: B017 - the cut is botocore's to report
        list(response["stream"])
    billed = _billed(server)
    assert (billed.input_tokens, billed.output_tokens) == (0, 0)  # metadata never sent


def test_an_error_answer_bills_nothing(server: LocalBedrock) -> None:
    server.script("Converse", Reply.error(429, "ThrottlingException", "slow"))
    client = boto3.client(
        "bedrock-runtime",
        config=boto3.session.Config(retries={"total_max_attempts": 1}),
        **server.client_kwargs(),
    )
    with pytest.raises(Exception):  # noqa: B017
        client.converse(modelId="m1", messages=MESSAGES)
    billed = _billed(server)
    assert billed.status == 429 and not billed.usage_reported and billed.input_tokens == 0


def test_apply_guardrail_bills_its_usage_under_the_path_guardrail(server: LocalBedrock) -> None:
    usage = {"contentPolicyUnits": 3, "wordPolicyUnits": 0, "sensitiveInformationPolicyUnits": 2}
    server.script("ApplyGuardrail", Reply.json({"action": "NONE", "outputs": [], "usage": usage}))
    _runtime(server).apply_guardrail(
        guardrailIdentifier="gr9",
        guardrailVersion="1",
        source="INPUT",
        content=[{"text": {"text": "x"}}],
    )
    wanted = {"gr9": {"contentPolicyUnits": 3, "sensitiveInformationPolicyUnits": 2}}
    assert _billed(server).guardrail_units == wanted


def test_embeddings_bill_the_input_token_header(server: LocalBedrock) -> None:
    _runtime(server).invoke_model(
        modelId="amazon.titan-embed-text-v2:0", body=json.dumps({"inputText": "a b c d e f g"})
    )
    request = server.requests[0]
    assert request.billed is not None
    # The default answer's header is what the client reads as billed input tokens.
    response_tokens = request.billed.embedding_input_tokens
    assert response_tokens > 0 and request.billed.input_tokens == 0


def test_rerank_bills_one_search_unit_per_100_documents_per_query(server: LocalBedrock) -> None:
    arn = "arn:aws:bedrock:us-east-1::foundation-model/amazon.rerank-v1:0"
    sources = [
        {"type": "INLINE", "inlineDocumentSource": {"type": "TEXT", "textDocument": {"text": t}}}
        for t in ["doc"] * 150
    ]
    _runtime(server, "bedrock-agent-runtime").rerank(
        queries=[{"type": "TEXT", "textQuery": {"text": "q"}}],
        sources=sources,
        rerankingConfiguration={
            "type": "BEDROCK_RERANKING_MODEL",
            "bedrockRerankingConfiguration": {"modelConfiguration": {"modelArn": arn}},
        },
    )
    billed = _billed(server)
    assert (billed.model_id, billed.search_units) == (arn, 2)


def test_cohere_rerank_bills_its_meta_search_units(server: LocalBedrock) -> None:
    body = cohere_rerank_reply("q", ["a"] * 250)
    server.script("InvokeModel", Reply.json(body))
    _runtime(server).invoke_model(
        modelId="cohere.rerank-v3-5:0",
        body=json.dumps({"query": "q", "documents": ["a"] * 250, "api_version": 2}),
    )
    assert _billed(server).search_units == 3


def test_agents_bill_their_trace_tokens_per_foundation_model(server: LocalBedrock) -> None:
    def trace(step: dict[str, Any]) -> dict[str, Any]:
        return {"trace": {"agentId": "A", "trace": {"orchestrationTrace": step}}}

    events = [
        trace({"modelInvocationInput": {"foundationModel": "fm1", "text": "{}"}}),
        trace({"modelInvocationOutput": {"metadata": {"usage": {"inputTokens": 7}}}}),
        trace({"modelInvocationOutput": {"metadata": {"usage": {"outputTokens": 4}}}}),
        *invoke_agent_events("done"),
    ]
    server.script("InvokeAgent", Reply.events(events))
    response = _runtime(server, "bedrock-agent-runtime").invoke_agent(
        agentId="A", agentAliasId="AL", sessionId="s-1", inputText="go"
    )
    list(response["completion"])
    assert _billed(server).agent_tokens == {"fm1": (7, 4)}


def test_retrieve_and_generate_says_it_reports_no_usage(server: LocalBedrock) -> None:
    _runtime(server, "bedrock-agent-runtime").retrieve_and_generate(
        input={"text": "q"},
        retrieveAndGenerateConfiguration={
            "type": "KNOWLEDGE_BASE",
            "knowledgeBaseConfiguration": {"knowledgeBaseId": "KB1", "modelArn": "m2"},
        },
    )
    billed = _billed(server)
    assert billed.model_id == "m2" and not billed.usage_reported


def test_invoke_model_bills_the_guardrail_units_of_its_bedrock_trace(server: LocalBedrock) -> None:
    unit = {"invocationMetrics": {"usage": {"wordPolicyUnits": 1}}}
    body = {
        "outputText": "ok",
        "inputTextTokenCount": 3,
        "amazon-bedrock-trace": {"guardrail": {"input": {"g": unit}, "outputs": [{"g": unit}]}},
    }
    server.script(
        "InvokeModel", Reply.json(body, headers={"X-Amzn-Bedrock-Input-Token-Count": "5"})
    )
    _runtime(server).invoke_model(modelId="amazon.titan-text-express-v1", body=b"{}")
    billed = _billed(server)
    assert billed.guardrail_units == {"g": {"wordPolicyUnits": 2}}
    assert billed.input_tokens == 5  # the header wins over the body's count


def test_a_flow_bills_the_node_executions_its_traces_show(server: LocalBedrock) -> None:
    traces = [
        flows.node_output_trace("FlowInput", {"document": "q"}),  # an input node: output only
        flows.node_input_trace("Prompt", {"x": "q"}),
        flows.node_output_trace("Prompt", {"y": "a"}),
        flows.node_input_trace("Prompt", {"x": "q2"}),  # ran twice (a loop)
        flows.node_output_trace("Prompt", {"y": "b"}),
        flows.node_input_trace("FlowOutput", {"document": "b"}),  # an output node: input only
    ]
    server.script("InvokeFlow", flows.flow_reply(flows.flow_events("b", traces=traces)))
    response = _runtime(server, "bedrock-agent-runtime").invoke_flow(
        flowIdentifier="FLOW123456",
        flowAliasIdentifier="ALIAS12345",
        inputs=[
            {"nodeName": "FlowInput", "nodeOutputName": "document", "content": {"document": "q"}}
        ],
        enableTrace=True,
    )
    list(response["responseStream"])
    assert _billed(server).node_transitions == 4
