"""OpenTelemetry GenAI spans from the lean transport, read back with the SDK's memory exporter.

One CLIENT span per call, retries included; request, usage (cache tokens too), finish
reasons, guardrail, knowledge base and error attributes; streaming spans end when the stream
ends, fails or is abandoned; content only with the convention's opt-in variable; and no
OpenTelemetry import at all until a call is made.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from bedrock_kit.core.transport import telemetry
from bedrock_kit.core.transport.lean import lean_client_from_botocore
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import (
    converse_reply,
    converse_stream_events,
    invoke_agent_events,
)

MODEL = "amazon.nova-micro-v1:0"
CONVERSE = {
    "modelId": MODEL,
    "messages": [{"role": "user", "content": [{"text": "secret question"}]}],
    "system": [{"text": "be brief"}],
    "inferenceConfig": {"maxTokens": 50, "temperature": 0.2, "topP": 0.9},
}
_EXPORTER = InMemorySpanExporter()


def _provider() -> Any:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    return provider


_provider().add_span_processor(SimpleSpanProcessor(_EXPORTER))


@pytest.fixture(scope="module")
def server() -> Iterator[LocalBedrock]:
    with LocalBedrock() as running:
        yield running


@pytest.fixture(autouse=True)
def spans(server: LocalBedrock, monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    monkeypatch.delenv(telemetry.CONTENT_ENV, raising=False)
    server.clear()
    gc.collect()  # streams an earlier test dropped end their spans now, not inside this test
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def _clients(server: LocalBedrock, service: str = "bedrock-runtime") -> tuple[Any, Any]:
    from botocore.config import Config

    client = boto3.session.Session(region_name="us-east-1").client(
        service,
        endpoint_url=server.endpoint_url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
    )
    return lean_client_from_botocore(client), lean_client_from_botocore(client, asynchronous=True)


def _ours(exporter: InMemorySpanExporter) -> list[Any]:
    return [
        s for s in exporter.get_finished_spans() if s.instrumentation_scope.name == "bedrock_kit"
    ]


def _arun(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_converse_emits_one_client_span(server, spans, mode) -> None:
    reply = converse_reply("hello")
    reply["usage"].update({"cacheReadInputTokens": 7, "cacheWriteInputTokens": 3})
    server.script("Converse", Reply.error(429, "ThrottlingException", "slow"), Reply.json(reply))
    lean, alean = _clients(server)
    if mode == "sync":
        lean.converse(**CONVERSE)
    else:

        async def call() -> None:
            async with alean:
                await alean.converse(**CONVERSE)

        _arun(call())
    (span,) = _ours(spans)  # one span for the call, its retry included
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    attributes = dict(span.attributes)
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "aws.bedrock"
    assert attributes["gen_ai.request.model"] == MODEL
    assert attributes["gen_ai.request.max_tokens"] == 50
    assert attributes["gen_ai.request.temperature"] == 0.2
    assert attributes["gen_ai.usage.input_tokens"] == reply["usage"]["inputTokens"]
    assert attributes["gen_ai.usage.output_tokens"] == reply["usage"]["outputTokens"]
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 7
    assert attributes["gen_ai.usage.cache_creation.input_tokens"] == 3
    assert attributes["gen_ai.response.finish_reasons"] == ("end_turn",)
    assert attributes["server.address"] == "127.0.0.1"
    assert "gen_ai.input.messages" not in attributes  # content is opt-in
    assert span.status.status_code is not StatusCode.ERROR


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_error_sets_error_type_and_status(server, spans, mode) -> None:
    server.script("Converse", Reply.error(400, "ValidationException", "bad input"))
    lean, alean = _clients(server)
    with pytest.raises(Exception, match="bad input"):
        if mode == "sync":
            lean.converse(**CONVERSE)
        else:
            _arun(alean.converse(**CONVERSE))
    (span,) = _ours(spans)
    assert span.attributes["error.type"] == "ValidationException"
    assert span.status.status_code is StatusCode.ERROR


def test_invalid_input_is_an_error_span(server, spans) -> None:
    lean, _ = _clients(server)
    with pytest.raises(Exception, match="Parameter validation failed"):
        lean.converse(modelId=MODEL, messages="not a list")
    (span,) = _ours(spans)
    assert span.attributes["error.type"] == "ParamValidationError"
    assert server.requests == []


EVENTS = converse_stream_events("a streamed answer", chunk_chars=4)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_stream_span_ends_with_the_stream(server, spans, mode) -> None:
    server.script("ConverseStream", Reply.events(EVENTS))
    lean, alean = _clients(server)
    if mode == "sync":
        response = lean.converse_stream(**CONVERSE)
        assert _ours(spans) == []  # open while the stream is read
        events = list(response["stream"])
    else:

        async def call() -> list[Any]:
            response = await alean.converse_stream(**CONVERSE)
            assert _ours(spans) == []
            return [event async for event in response["stream"]]

        events = _arun(call())
    metadata = next(e["metadata"] for e in events if "metadata" in e)
    (span,) = _ours(spans)
    assert span.attributes["gen_ai.usage.output_tokens"] == metadata["usage"]["outputTokens"]
    assert span.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)


def test_abandoned_stream_ends_its_span(server, spans) -> None:
    server.script("ConverseStream", Reply.events(EVENTS, delay_between=0.01))
    lean, _ = _clients(server)
    stream = lean.converse_stream(**CONVERSE)["stream"]
    first = next(iter(stream))
    assert "messageStart" in first
    stream.close()
    (span,) = _ours(spans)
    assert span.end_time is not None and "error.type" not in span.attributes


def test_in_stream_exception_marks_the_span(server, spans) -> None:
    server.script(
        "ConverseStream", Reply.events(EVENTS, exception_at=(2, "throttlingException", "slow"))
    )
    lean, _ = _clients(server)
    with pytest.raises(Exception, match="slow"):
        list(lean.converse_stream(**CONVERSE)["stream"])
    (span,) = _ours(spans)
    assert span.attributes["error.type"] == "throttlingException"
    assert span.status.status_code is StatusCode.ERROR


def test_content_only_with_the_opt_in_variable(server, spans, monkeypatch) -> None:
    monkeypatch.setenv(telemetry.CONTENT_ENV, "true")
    server.script("Converse", Reply.json(converse_reply("the answer")))
    lean, _ = _clients(server)
    lean.converse(**CONVERSE)
    (span,) = _ours(spans)
    messages = json.loads(span.attributes["gen_ai.input.messages"])
    assert messages == [{"role": "user", "parts": [{"type": "text", "content": "secret question"}]}]
    assert json.loads(span.attributes["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "be brief"}
    ]
    output = json.loads(span.attributes["gen_ai.output.messages"])
    assert output[0]["parts"][0]["content"] == "the answer"
    assert output[0]["finish_reason"] == "end_turn"


def test_invoke_model_tokens_from_headers(server, spans) -> None:
    headers = {
        "X-Amzn-Bedrock-Input-Token-Count": "11",
        "X-Amzn-Bedrock-Output-Token-Count": "4",
    }
    server.script("InvokeModel", Reply.json({"content": []}, headers=headers))
    lean, _ = _clients(server)
    lean.invoke_model(modelId="anthropic.claude-3-haiku-20240307-v1:0", body=b"{}")["body"].read()
    (span,) = _ours(spans)
    assert span.attributes["gen_ai.usage.input_tokens"] == 11
    assert span.attributes["gen_ai.usage.output_tokens"] == 4


def test_apply_guardrail_records_id_and_action(server, spans) -> None:
    reply = {"action": "GUARDRAIL_INTERVENED", "outputs": [{"text": "blocked"}], "assessments": []}
    server.script("ApplyGuardrail", Reply.json(reply))
    lean, _ = _clients(server)
    lean.apply_guardrail(
        guardrailIdentifier="gr123",
        guardrailVersion="1",
        source="INPUT",
        content=[{"text": {"text": "hello"}}],
    )
    (span,) = _ours(spans)
    assert span.attributes["gen_ai.operation.name"] == "apply_guardrail"
    assert span.attributes["aws.bedrock.guardrail.id"] == "gr123"
    assert span.attributes["aws.bedrock.guardrail.action"] == "GUARDRAIL_INTERVENED"


def test_retrieve_records_the_knowledge_base(server, spans) -> None:
    server.script("Retrieve", Reply.json({"retrievalResults": []}))
    lean, _ = _clients(server, "bedrock-agent-runtime")
    lean.retrieve(knowledgeBaseId="KB12345678", retrievalQuery={"text": "q"})
    (span,) = _ours(spans)
    assert span.name == "retrieval KB12345678"
    assert span.attributes["aws.bedrock.knowledge_base.id"] == "KB12345678"


def test_invoke_agent_span_ends_with_the_completion(server, spans) -> None:
    server.script("InvokeAgent", Reply.events(invoke_agent_events("done", chunk_chars=2)))
    lean, _ = _clients(server, "bedrock-agent-runtime")
    response = lean.invoke_agent(
        agentId="AGENT12345", agentAliasId="ALIAS12345", sessionId="s-1", inputText="hi"
    )
    assert _ours(spans) == []
    assert b"".join(e["chunk"]["bytes"] for e in response["completion"]) == b"done"
    (span,) = _ours(spans)
    assert span.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert span.attributes["gen_ai.agent.id"] == "AGENT12345"
    assert span.attributes["gen_ai.conversation.id"] == "s-1"


def test_opentelemetry_is_not_imported_until_a_call() -> None:
    code = (
        "import sys, bedrock_kit, bedrock_kit.core.transport.lean\n"
        "print('opentelemetry' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_calls_work_without_opentelemetry() -> None:
    code = (
        "import sys\n"
        "sys.modules['opentelemetry'] = None  # as if it were not installed\n"
        "from bedrock_kit.core.transport import telemetry\n"
        "print(telemetry.start(None, 'Converse', {'modelId': 'm'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"
