"""One GenAI span per bedrock-kit call, whichever client sends it, never two.

The default (lean) client and an injected boto3 or aiobotocore client each give exactly one
``bedrock_kit`` CLIENT span per call, streaming included; when OpenTelemetry's botocore
instrumentation is active, an injected boto3 client's calls are left to it (its span, not
a second one of ours), while the lean client, which botocore's instrumentation cannot see,
keeps its own. Read back with the SDK's in-memory exporter; real HTTP to LocalBedrock.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from langchain_core.messages import HumanMessage
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from bedrock_kit.core.transport import telemetry
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import converse_reply, converse_stream_events

MODEL = "amazon.nova-micro-v1:0"
KEYS = {
    "region_name": "us-east-1",
    "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}
_EXPORTER = InMemorySpanExporter()


def _provider() -> TracerProvider:
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
def spans(server: LocalBedrock) -> Iterator[InMemorySpanExporter]:
    server.clear()
    gc.collect()  # streams an earlier test dropped end their spans now, not inside this test
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def _scoped(exporter: InMemorySpanExporter, scope: str) -> list[Any]:
    return [s for s in exporter.get_finished_spans() if s.instrumentation_scope.name == scope]


def _ours(exporter: InMemorySpanExporter) -> list[Any]:
    return _scoped(exporter, "bedrock_kit")


def _botocore_spans(exporter: InMemorySpanExporter) -> list[Any]:
    return [
        s
        for s in exporter.get_finished_spans()
        if "botocore" in s.instrumentation_scope.name and s.kind is SpanKind.CLIENT
    ]


def _llm(server: LocalBedrock, **kwargs: Any) -> ChatBedrockKit:
    return ChatBedrockKit(
        model=MODEL,
        endpoint_url=server.endpoint_url,
        max_retries=0,
        **{
            **KEYS,
            **kwargs,
        },
    )


def _boto3(server: LocalBedrock) -> Any:
    return boto3.client("bedrock-runtime", endpoint_url=server.endpoint_url, **KEYS)


def _assert_chat_span(span: Any, reply: dict[str, Any]) -> None:
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    assert span.attributes["gen_ai.provider.name"] == "aws.bedrock"
    assert span.attributes["gen_ai.request.model"] == MODEL
    assert span.attributes["gen_ai.usage.input_tokens"] == reply["usage"]["inputTokens"]
    assert span.attributes["gen_ai.usage.output_tokens"] == reply["usage"]["outputTokens"]
    assert span.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)


@pytest.mark.parametrize("client", ["lean", "boto3"])
def test_one_span_per_invoke_whichever_sync_client(server, spans, client) -> None:
    reply = converse_reply("hello")
    server.script("Converse", Reply.json(reply), Reply.json(reply))
    llm = _llm(server, client=_boto3(server)) if client == "boto3" else _llm(server)
    assert llm.invoke([HumanMessage("hi")]).content == "hello"
    (span,) = _ours(spans)
    _assert_chat_span(span, reply)
    llm.invoke([HumanMessage("again")])
    assert len(_ours(spans)) == 2


def test_one_span_per_ainvoke_on_an_injected_aiobotocore_client(server, spans) -> None:
    from aiobotocore.session import AioSession

    reply = converse_reply("hello")
    server.script("Converse", Reply.json(reply))

    async def call() -> str:
        async with AioSession().create_client(
            "bedrock-runtime", endpoint_url=server.endpoint_url, **KEYS
        ) as aio:
            llm = _llm(server, async_client=aio)
            return str((await llm.ainvoke([HumanMessage("hi")])).content)

    assert asyncio.run(call()) == "hello"
    (span,) = _ours(spans)
    _assert_chat_span(span, reply)


@pytest.mark.parametrize("client", ["lean", "boto3"])
def test_a_stream_span_ends_with_the_stream(server, spans, client) -> None:
    events = converse_stream_events("a streamed answer", chunk_chars=4)
    server.script("ConverseStream", Reply.events(events))
    llm = _llm(server, client=_boto3(server)) if client == "boto3" else _llm(server)
    chunks = llm.stream([HumanMessage("hi")])
    first = next(chunks)
    assert _ours(spans) == []  # open while the stream is read
    text = str(first.content) + "".join(str(c.content) for c in chunks)
    assert text == "a streamed answer"
    (span,) = _ours(spans)
    usage = next(e["metadata"]["usage"] for e in events if "metadata" in e)
    assert span.attributes["gen_ai.usage.output_tokens"] == usage["outputTokens"]
    assert span.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)


def test_an_error_from_an_injected_client_is_an_error_span(server, spans) -> None:
    server.script("Converse", Reply.error(400, "ValidationException", "bad input"))
    llm = _llm(server, client=_boto3(server))
    with pytest.raises(Exception, match="bad input"):
        llm.invoke([HumanMessage("hi")])
    (span,) = _ours(spans)
    assert span.attributes["error.type"] == "ValidationException"
    assert span.status.status_code is StatusCode.ERROR


@pytest.fixture
def botocore_instrumentation() -> Iterator[None]:
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    instrumentor = BotocoreInstrumentor()
    instrumentor.instrument(tracer_provider=_provider())
    try:
        yield
    finally:
        instrumentor.uninstrument()


def test_no_second_span_when_botocore_instrumentation_traces_the_client(
    server, spans, botocore_instrumentation
) -> None:
    injected = _boto3(server)
    assert telemetry.instrumented(injected)
    server.script("Converse", Reply.json(converse_reply("hello")))
    assert _llm(server, client=injected).invoke([HumanMessage("hi")]).content == "hello"
    assert _ours(spans) == []  # left to the instrumentation
    assert len(_botocore_spans(spans)) == 1


def test_the_lean_client_keeps_its_span_under_botocore_instrumentation(
    server, spans, botocore_instrumentation
) -> None:
    reply = converse_reply("hello")
    server.script("Converse", Reply.json(reply))
    llm = _llm(server)
    assert llm.invoke([HumanMessage("hi")]).content == "hello"
    assert not telemetry.instrumented(llm.runtime.pool.client)
    (span,) = _ours(spans)  # botocore's instrumentation cannot see the lean client
    _assert_chat_span(span, reply)
    assert _botocore_spans(spans) == []


def test_uninstrumented_again_our_span_comes_back(server, spans) -> None:
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    injected = _boto3(server)
    llm = _llm(server, client=injected)
    instrumentor = BotocoreInstrumentor()
    instrumentor.instrument(tracer_provider=_provider())
    instrumentor.uninstrument()
    assert not telemetry.instrumented(injected)
    server.script("Converse", Reply.json(converse_reply("hello")))
    llm.invoke([HumanMessage("hi")])
    assert len(_ours(spans)) == 1
