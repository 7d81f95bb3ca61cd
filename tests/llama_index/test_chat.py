"""BedrockKitLLM end to end: real boto3/aiobotocore clients, real HTTP, one cassette a test.

Cassettes under cassettes/llama_index/test_chat/ were recorded through LocalBedrock with the
scripted replies below and in tests/support/scenarios/chat.py (``--record-mode=once``);
replay needs no server. With AWS credentials and BEDROCK_KIT_LIVE=1,
``--record-mode=rewrite`` records against real Bedrock.
"""

from __future__ import annotations

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    TextBlock,
    ToolCallBlock,
)
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool

from bedrock_kit.core.chat.types import Usage
from bedrock_kit.errors import (
    GuardrailInterventionError,
    IncompleteStreamError,
    ModelStreamError,
    ThrottlingError,
)
from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.testing import Reply
from bedrock_kit.testing.scripts import build_usage, converse_reply, converse_stream_events
from tests.support.scenarios.chat import (
    GUARDRAIL,
    MODEL,
    PNG,
    Person,
    address_masking_trace,
    cut_short_stream,
    fragmented_weather_call,
    get_weather,
    parallel_weather_calls,
    person_tool_use,
    stream_exception,
    throttled,
)

pytestmark = pytest.mark.vcr


# Shaped like a real recording (traceloop/openllmetry test_guardrail_converse): a PII filter
# anonymised the output; the input assessment only billed units.
GUARDRAIL_TRACE = address_masking_trace(
    "Italy",
    "Rome",
    output_characters=38,
    input_characters=31,
    action_reason="No action.\nGuardrail masked.",
)


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@pytest.fixture
def llm(bedrock):
    return BedrockKitLLM(
        model=MODEL, endpoint_url=bedrock.endpoint_url, region_name=bedrock.region, max_retries=0
    )


def _user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content=text)]


# ------------------------------------------------------------------ chat and stream


def test_chat_returns_text_usage_and_metadata(bedrock, llm):
    bedrock.script("Converse", Reply.json(converse_reply("Hello there", usage=build_usage(12, 3))))
    response = llm.chat(_user("Say hello"))
    assert response.message.content == "Hello there"
    assert response.raw["usage"] == {
        "prompt_tokens": 12,
        "completion_tokens": 3,
        "total_tokens": 15,
        "cache_read_input_tokens": 0,
        "cache_write_input_tokens": 0,
    }
    kwargs = response.additional_kwargs
    assert kwargs["stop_reason"] == "end_turn" and kwargs["model_id"] == MODEL
    assert kwargs["request_id"] and kwargs["latency_ms"] == 100


def test_stream_chat_chunks_carry_delta_and_message_and_the_last_carries_usage(bedrock, llm):
    text = "The tide comes in twice a day."
    bedrock.script(
        "ConverseStream",
        Reply.events(converse_stream_events(text, usage=build_usage(9, 8), chunk_chars=5)),
    )
    chunks = list(llm.stream_chat(_user("tides?")))
    assert len(chunks) >= 7
    assert "".join(c.delta or "" for c in chunks) == text
    assert [c.message.content for c in chunks[:2]] == [text[:5], text[:10]]  # accumulated
    last = chunks[-1]
    assert last.message.content == text
    assert last.raw["usage"]["prompt_tokens"] == 9 and last.raw["usage"]["completion_tokens"] == 8
    assert last.additional_kwargs["stop_reason"] == "end_turn"
    assert sum(1 for c in chunks if c.raw) == 1  # usage reported once, not per chunk


async def test_achat_is_native_async_with_one_reused_client(bedrock, llm):
    bedrock.script("Converse", Reply.json(converse_reply("one")), Reply.json(converse_reply("two")))
    first = await llm.achat(_user("a"))
    second = await llm.achat(_user("b"))
    assert (first.message.content, second.message.content) == ("one", "two")
    pool = llm.runtime.pool
    assert pool._client is None, "the async path must not build the sync boto3 client"
    assert pool.created == 1
    await llm.aclose()


async def test_astream_chat(bedrock, llm):
    bedrock.script(
        "ConverseStream",
        Reply.events(
            converse_stream_events("async stream works", usage=build_usage(4, 5), chunk_chars=4)
        ),
    )
    chunks = [chunk async for chunk in await llm.astream_chat(_user("go"))]
    assert "".join(c.delta or "" for c in chunks) == "async stream works"
    assert chunks[-1].raw["usage"]["completion_tokens"] == 5
    assert chunks[-1].additional_kwargs["stop_reason"] == "end_turn"
    await llm.aclose()


def test_complete_and_stream_complete(bedrock, llm):
    bedrock.script("Converse", Reply.json(converse_reply("Paris.", usage=build_usage(7, 2))))
    bedrock.script("ConverseStream", Reply.events(converse_stream_events("Rome.", chunk_chars=2)))
    completion = llm.complete("Capital of France?")
    assert completion.text == "Paris." and completion.raw["usage"]["prompt_tokens"] == 7
    assert completion.additional_kwargs["stop_reason"] == "end_turn"
    streamed = list(llm.stream_complete("Capital of Italy?"))
    assert "".join(c.delta or "" for c in streamed) == "Rome." and streamed[-1].text == "Rome."


async def test_acomplete_and_astream_complete(bedrock, llm):
    bedrock.script("Converse", Reply.json(converse_reply("Paris.")))
    bedrock.script("ConverseStream", Reply.events(converse_stream_events("Rome.", chunk_chars=2)))
    assert (await llm.acomplete("Capital of France?")).text == "Paris."
    streamed = [c async for c in await llm.astream_complete("Capital of Italy?")]
    assert streamed[-1].text == "Rome."
    await llm.aclose()


# ------------------------------------------------------------------ tools


def test_chat_with_tools_keeps_parallel_calls(bedrock, llm):
    bedrock.script("Converse", parallel_weather_calls())
    tools = [FunctionTool.from_defaults(fn=get_weather)]
    response = llm.chat_with_tools(tools, "weather in Oslo and Rome?", tool_required=True)
    assert response.additional_kwargs["stop_reason"] == "tool_use"
    calls = llm.get_tool_calls_from_response(response)
    assert [(c.tool_id, c.tool_name, c.tool_kwargs) for c in calls] == [
        ("a", "get_weather", {"city": "Oslo"}),
        ("b", "get_weather", {"city": "Rome", "unit": "kelvin"}),
    ]


def test_predict_and_call_runs_every_parallel_tool(bedrock, llm):
    bedrock.script(
        "Converse",
        Reply.json(
            converse_reply(
                tool_uses=[
                    {"name": "get_weather", "input": {"city": "Oslo"}, "toolUseId": "w"},
                    {"name": "add", "input": {"a": 2, "b": 3}, "toolUseId": "s"},
                ]
            )
        ),
    )
    tools = [FunctionTool.from_defaults(fn=get_weather), FunctionTool.from_defaults(fn=add)]
    out = llm.predict_and_call(tools, "weather in Oslo, and 2+3?", allow_parallel_tool_calls=True)
    assert [s.raw_output for s in out.sources] == ["18 celsius in Oslo", 5]


async def test_astream_chat_with_tools_assembles_fragmented_arguments(bedrock, llm):
    bedrock.script("ConverseStream", fragmented_weather_call())
    tools = [FunctionTool.from_defaults(fn=get_weather)]
    chunks = [c async for c in await llm.astream_chat_with_tools(tools, "weather?")]
    partial = [c for c in chunks if isinstance((c.message.blocks or [None])[-1], ToolCallBlock)]
    assert len(partial) > 3  # the arguments arrived in fragments
    # every chunk parses leniently (agents call this per chunk); the last one exactly
    for chunk in chunks:
        llm.get_tool_calls_from_response(chunk, error_on_no_tool_call=False)
    [call] = llm.get_tool_calls_from_response(chunks[-1])
    assert (call.tool_id, call.tool_kwargs) == ("x", {"city": "São Paulo", "unit": "celsius"})
    assert chunks[-1].additional_kwargs["stop_reason"] == "tool_use"
    await llm.aclose()


def test_structured_predict_with_a_pydantic_class(bedrock, llm):
    bedrock.script("Converse", person_tool_use("Ada Lovelace", 36))
    person = llm.structured_predict(
        Person, PromptTemplate("Who wrote the first {thing}?"), thing="program"
    )
    assert person == Person(name="Ada Lovelace", age=36)


async def test_as_structured_llm_async(bedrock, llm):
    bedrock.script(
        "Converse",
        Reply.json(
            converse_reply(
                tool_uses=[{"name": "Person", "input": {"name": "Grace Hopper", "age": 85}}]
            )
        ),
    )
    response = await llm.as_structured_llm(Person).achat(
        [ChatMessage(role="user", content="COBOL?")]
    )
    assert response.raw == Person(name="Grace Hopper", age=85)
    await llm.aclose()


# ------------------------------------------------------------------ token accounting


def test_token_counting_handler_records_bedrock_billed_usage(bedrock):
    handler = TokenCountingHandler()
    llm = BedrockKitLLM(
        model=MODEL,
        endpoint_url=bedrock.endpoint_url,
        region_name=bedrock.region,
        callback_manager=CallbackManager([handler]),
    )
    bedrock.script(
        "Converse",
        Reply.json(converse_reply("Hi", usage=build_usage(12, 3, cache_read=1000, cache_write=20))),
    )
    bedrock.script(
        "ConverseStream",
        Reply.events(
            converse_stream_events("Streamed hi", usage=build_usage(40, 7), chunk_chars=3)
        ),
    )
    bedrock.script("Converse", Reply.json(converse_reply("Done", usage=build_usage(21, 2))))

    llm.chat(_user("hello"))
    list(llm.stream_chat(_user("hello again")))
    llm.complete("once more")

    counts = [(e.prompt_token_count, e.completion_token_count) for e in handler.llm_token_counts]
    assert counts == [(1032, 3), (40, 7), (21, 2)]  # cache reads and writes are billed input
    assert handler.prompt_llm_token_count == 1093
    assert handler.completion_llm_token_count == 12
    assert handler.total_llm_token_count == 1105
    # what the handler would have guessed with its tokenizer: nowhere near the billed counts
    assert handler._token_counter.get_string_tokens("Hi") != 3


async def test_token_counting_handler_on_async_paths(bedrock):
    handler = TokenCountingHandler()
    llm = BedrockKitLLM(
        model=MODEL,
        endpoint_url=bedrock.endpoint_url,
        region_name=bedrock.region,
        callback_manager=CallbackManager([handler]),
    )
    bedrock.script(
        "ConverseStream",
        Reply.events(
            converse_stream_events(
                "Async hi", usage=build_usage(30, 6, cache_read=500), chunk_chars=3
            )
        ),
    )
    bedrock.script("Converse", Reply.json(converse_reply("Done", usage=build_usage(11, 2))))
    [c async for c in await llm.astream_chat(_user("hello"))]
    await llm.acomplete("once more")
    counts = [(e.prompt_token_count, e.completion_token_count) for e in handler.llm_token_counts]
    assert counts == [(530, 6), (11, 2)]
    await llm.aclose()


# ------------------------------------------------------------------ guardrails


def test_guardrail_intervention_is_typed_in_additional_kwargs(bedrock):
    llm = BedrockKitLLM(
        model=MODEL,
        endpoint_url=bedrock.endpoint_url,
        region_name=bedrock.region,
        guardrail_config=GUARDRAIL,
    )
    bedrock.script(
        "Converse",
        Reply.json(
            converse_reply(
                "The capital of {ADDRESS} is {ADDRESS}.",
                stop_reason="guardrail_intervened",
                usage=build_usage(17, 17),
                trace=GUARDRAIL_TRACE,
            )
        ),
    )
    response = llm.chat([ChatMessage(role="user", content="What is the capital of Italy?")])
    kwargs = response.additional_kwargs
    assert kwargs["stop_reason"] == "guardrail_intervened"
    trace = kwargs["guardrail"]
    assert trace.intervened and trace.action_reason == "No action.\nGuardrail masked."
    findings = trace.output_assessments["gr1"][0].pii_entities
    assert [(f.match, f.action) for f in findings] == [
        ("Italy", "ANONYMIZED"),
        ("Rome", "ANONYMIZED"),
    ]
    assert trace.usage.topic_policy_units == 2
    assert kwargs["usage"] == Usage(17, 17, total_tokens=34)


def test_guardrail_intervention_raises_when_asked(bedrock):
    llm = BedrockKitLLM(
        model=MODEL,
        endpoint_url=bedrock.endpoint_url,
        region_name=bedrock.region,
        guardrail_config=GUARDRAIL,
        raise_on_guardrail_intervention=True,
    )
    bedrock.script(
        "Converse",
        Reply.json(
            converse_reply("{ADDRESS}", stop_reason="guardrail_intervened", trace=GUARDRAIL_TRACE)
        ),
    )
    with pytest.raises(GuardrailInterventionError) as info:
        llm.chat([ChatMessage(role="user", content="capital of Italy?")])
    assert info.value.assessment is not None
    assert info.value.assessment.pii_entities[1].match == "Rome"
    assert info.value.output_text == "{ADDRESS}"


async def test_guardrail_intervention_raises_at_the_end_of_an_async_stream(bedrock):
    llm = BedrockKitLLM(
        model=MODEL,
        endpoint_url=bedrock.endpoint_url,
        region_name=bedrock.region,
        guardrail_config={**GUARDRAIL, "streamProcessingMode": "sync"},
        raise_on_guardrail_intervention=True,
    )
    bedrock.script(
        "ConverseStream",
        Reply.events(
            converse_stream_events(
                "The capital of {ADDRESS}",
                stop_reason="guardrail_intervened",
                trace=GUARDRAIL_TRACE,
            )
        ),
    )
    seen = []
    with pytest.raises(GuardrailInterventionError) as info:
        async for chunk in await llm.astream_chat(
            [ChatMessage(role="user", content="capital of Italy?")]
        ):
            seen.append(chunk)
    assert info.value.assessment is not None and info.value.assessment.intervened
    assert all(c.raw is None for c in seen)  # no chunk claimed a successful end
    await llm.aclose()


# ------------------------------------------------------------------ errors


def test_throttling_is_a_typed_error_with_context(bedrock, llm):
    bedrock.script("Converse", throttled())
    with pytest.raises(ThrottlingError) as info:
        llm.chat(_user("x"))
    assert (info.value.status_code, info.value.model_id, info.value.region) == (
        429,
        MODEL,
        bedrock.region,
    )


def test_stream_without_metadata_raises_never_partial_success(bedrock, llm):
    bedrock.script("ConverseStream", cut_short_stream())  # no messageStop, no metadata
    seen = []
    with pytest.raises(IncompleteStreamError) as info:
        for chunk in llm.stream_chat(_user("x")):
            seen.append(chunk)
    assert info.value.partial_text.startswith("this answer")
    assert seen and all(c.raw is None for c in seen)


async def test_async_in_stream_exception_event_is_typed(bedrock, llm):
    bedrock.script("ConverseStream", stream_exception("modelStreamErrorException", "model broke"))
    with pytest.raises(ModelStreamError, match="model broke"):
        async for _ in await llm.astream_chat(_user("x")):
            pass
    await llm.aclose()


# ------------------------------------------------------------------ InvokeModel


def test_api_invoke_sends_the_native_body_and_reports_the_same_usage(bedrock):
    llm = BedrockKitLLM(
        model=MODEL, endpoint_url=bedrock.endpoint_url, region_name=bedrock.region, api="invoke"
    )
    request = llm.build_request(_user("hi"))
    assert request["modelId"] == MODEL and b'"anthropic_version"' in request["body"]
    bedrock.script(
        "InvokeModel",
        Reply.json(
            {
                "content": [{"type": "text", "text": "Hello from InvokeModel"}],
                "stop_reason": "end_turn",
                "usage": {
                    "input_tokens": 3,
                    "output_tokens": 4,
                    "cache_read_input_tokens": 100,
                    "cache_creation_input_tokens": 7,
                },
            }
        ),
    )
    response = llm.chat(_user("hi"))
    assert response.message.content == "Hello from InvokeModel"
    assert response.raw["usage"]["prompt_tokens"] == 110
    assert response.additional_kwargs["stop_reason"] == "end_turn"


# ------------------------------------------------------------------ messages and reasoning


def test_multimodal_multi_turn_with_tool_results(bedrock, llm):
    messages = [
        ChatMessage(role="system", content="You describe things."),
        ChatMessage(
            role="user",
            blocks=[
                TextBlock(text="What is this and what's the weather?"),
                ImageBlock(image=PNG),
                DocumentBlock(data=b"a,b\n1,2", title="data.csv", document_mimetype="text/csv"),
            ],
        ),
        ChatMessage(
            role="assistant",
            blocks=[
                TextBlock(text="Checking."),
                ToolCallBlock(
                    tool_call_id="t1", tool_name="get_weather", tool_kwargs={"city": "Oslo"}
                ),
                ToolCallBlock(
                    tool_call_id="t2", tool_name="get_weather", tool_kwargs={"city": "Rome"}
                ),
            ],
        ),
        ChatMessage(role="tool", content="18 celsius", additional_kwargs={"tool_call_id": "t1"}),
        ChatMessage(
            role="tool",
            content="service down",
            additional_kwargs={"tool_call_id": "t2", "status": "error"},
        ),
    ]
    request = llm.build_request(messages)
    assert [m["role"] for m in request["messages"]] == ["user", "assistant", "user"]
    assert request["messages"][0]["content"][1] == {
        "image": {"format": "png", "source": {"bytes": PNG}}
    }
    assert request["messages"][0]["content"][2]["document"] == {
        "format": "csv",
        "name": "data",
        "source": {"bytes": b"a,b\n1,2"},
    }
    bedrock.script("Converse", Reply.json(converse_reply("A 1x1 image; 18 degrees in Oslo.")))
    assert llm.chat(messages).message.content == "A 1x1 image; 18 degrees in Oslo."


def test_streamed_reasoning_is_kept_and_sent_back_next_turn(bedrock, llm):
    bedrock.script(
        "ConverseStream",
        Reply.events(
            converse_stream_events(
                "42", reasoning="6 times 7", reasoning_signature="c2ln", chunk_chars=3
            )
        ),
    )
    chunks = list(llm.stream_chat([ChatMessage(role="user", content="6*7?")]))
    assert "".join(c.additional_kwargs.get("thinking_delta", "") for c in chunks) == "6 times 7"
    answer = chunks[-1].message
    history = [
        ChatMessage(role="user", content="6*7?"),
        answer,
        ChatMessage(role="user", content="and 7*7?"),
    ]
    sent = llm.build_request(history)["messages"][1]["content"]
    assert sent == [
        {"reasoningContent": {"reasoningText": {"text": "6 times 7", "signature": "c2ln"}}},
        {"text": "42"},
    ]
