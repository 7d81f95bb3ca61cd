"""ChatBedrockKit end to end: real boto3/aiobotocore clients, real HTTP, one cassette a test.

Cassettes under cassettes/langchain/test_chat/ were recorded through LocalBedrock with
the scripted replies below and in tests/support/scenarios/chat.py (`--record-mode=once`);
replay needs no server. With AWS credentials and BEDROCK_KIT_LIVE=1, `--record-mode=rewrite`
records against real Bedrock.
"""

from __future__ import annotations

import asyncio
import base64

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from bedrock_kit.errors import (
    GuardrailInterventionError,
    IncompleteStreamError,
    ModelStreamError,
    ThrottlingError,
)
from bedrock_kit.langchain import ChatBedrockKit
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


GUARDRAIL_TRACE = address_masking_trace("Rome", output_characters=30)


@pytest.fixture
def llm(bedrock):
    return ChatBedrockKit(
        model=MODEL, endpoint_url=bedrock.endpoint_url, region_name=bedrock.region, max_retries=0
    )


async def _close(model: ChatBedrockKit) -> None:
    await model.aclose()


# ------------------------------------------------------------------------ invoke / stream


def test_invoke_returns_text_usage_and_metadata(bedrock, llm):
    bedrock.script("Converse", Reply.json(converse_reply("Hello there", usage=build_usage(12, 3))))
    msg = llm.invoke([SystemMessage("Be brief."), HumanMessage("Say hello")])
    assert msg.content == "Hello there"
    assert msg.usage_metadata == {
        "input_tokens": 12,
        "output_tokens": 3,
        "total_tokens": 15,
        "input_token_details": {"cache_read": 0, "cache_creation": 0},
    }
    assert msg.response_metadata["stop_reason"] == "end_turn"
    assert msg.response_metadata["model_id"] == MODEL
    assert msg.response_metadata["request_id"]


def test_stream_chunks_add_up_and_last_chunk_carries_usage(bedrock, llm):
    bedrock.script(
        "ConverseStream",
        Reply.events(
            converse_stream_events(
                "The tide comes in twice a day.", usage=build_usage(9, 8), chunk_chars=5
            )
        ),
    )
    chunks = list(llm.stream("tides?"))
    assert len(chunks) >= 6
    assert "".join(c.content for c in chunks) == "The tide comes in twice a day."  # type: ignore[misc]
    last = chunks[-1]
    assert last.chunk_position == "last"
    assert last.usage_metadata["input_tokens"] == 9 and last.usage_metadata["output_tokens"] == 8  # type: ignore[index]
    assert last.response_metadata["stop_reason"] == "end_turn"
    assert sum(1 for c in chunks if c.usage_metadata) == 1  # usage reported once, not per chunk


async def test_ainvoke_is_native_async_with_one_reused_client(bedrock, llm):
    bedrock.script("Converse", Reply.json(converse_reply("one")), Reply.json(converse_reply("two")))
    first = await llm.ainvoke("a")
    second = await llm.ainvoke("b")
    assert (first.content, second.content) == ("one", "two")
    pool = llm.runtime.pool
    assert pool._client is None, "the async path must not build the sync boto3 client"
    assert pool.created == 1
    await _close(llm)


async def test_astream(bedrock, llm):
    bedrock.script(
        "ConverseStream", Reply.events(converse_stream_events("async stream works", chunk_chars=4))
    )
    text = ""
    async for chunk in llm.astream("go"):
        text += chunk.content  # type: ignore[operator]
    assert text == "async stream works"
    await _close(llm)


def test_batch(bedrock, llm):
    bedrock.script("Converse", Reply.json(converse_reply("r1")), Reply.json(converse_reply("r2")))
    out = llm.batch(["q1", "q2"], config={"max_concurrency": 1})
    assert [m.content for m in out] == ["r1", "r2"]


async def test_abatch_runs_concurrently(bedrock, llm):
    bedrock.script("Converse", *[Reply.json(converse_reply("same")) for _ in range(4)])
    out = await llm.abatch(["a", "b", "c", "d"])
    assert [m.content for m in out] == ["same"] * 4
    await _close(llm)


# ------------------------------------------------------------------------ messages


def test_multimodal_multi_turn_with_tool_results(bedrock, llm):
    bedrock.script("Converse", Reply.json(converse_reply("It is a 1x1 image and 18 degrees.")))
    messages = [
        SystemMessage("You describe things."),
        HumanMessage(
            content=[
                {"type": "text", "text": "What is this and what's the weather?"},
                {
                    "type": "image",
                    "base64": base64.b64encode(PNG).decode(),
                    "mime_type": "image/png",
                },
                {
                    "type": "file",
                    "base64": base64.b64encode(b"a,b\n1,2").decode(),
                    "mime_type": "text/csv",
                    "filename": "data.csv",
                },
            ]
        ),
        AIMessage(
            content="Checking.",
            tool_calls=[
                {"name": "get_weather", "args": {"city": "Oslo"}, "id": "t1"},
                {"name": "get_weather", "args": {"city": "Rome"}, "id": "t2"},
            ],
        ),
        ToolMessage("18 celsius", tool_call_id="t1"),
        ToolMessage("service down", tool_call_id="t2", status="error"),
    ]
    request = llm.build_request(messages)
    assert [m["role"] for m in request["messages"]] == ["user", "assistant", "user"]
    assert request["messages"][0]["content"][1] == {
        "image": {"format": "png", "source": {"bytes": PNG}}
    }
    assert request["messages"][0]["content"][2]["document"]["format"] == "csv"
    assert request["messages"][2]["content"][1]["toolResult"]["status"] == "error"
    assert llm.invoke(messages).content == "It is a 1x1 image and 18 degrees."


# ------------------------------------------------------------------------ tools


def test_bind_tools_parallel_calls(bedrock, llm):
    bedrock.script("Converse", parallel_weather_calls())
    msg = llm.bind_tools([get_weather], tool_choice="any").invoke("weather in Oslo and Rome?")
    assert msg.response_metadata["stop_reason"] == "tool_use"
    assert [(c["name"], c["args"], c["id"]) for c in msg.tool_calls] == [
        ("get_weather", {"city": "Oslo"}, "a"),
        ("get_weather", {"city": "Rome", "unit": "kelvin"}, "b"),
    ]


def test_bind_tools_request_shape(llm):
    bound = llm.bind_tools([get_weather], tool_choice="get_weather", strict=True)
    request = llm.build_request([HumanMessage("x")], **bound.kwargs)  # type: ignore[attr-defined]
    spec = request["toolConfig"]["tools"][0]["toolSpec"]
    assert spec["name"] == "get_weather" and spec["strict"] is True
    assert spec["inputSchema"]["json"]["required"] == ["city"]
    assert request["toolConfig"]["toolChoice"] == {"tool": {"name": "get_weather"}}


def test_streamed_tool_call_chunks_assemble_into_valid_args(bedrock, llm):
    bedrock.script("ConverseStream", fragmented_weather_call())
    chunks = list(llm.bind_tools([get_weather]).stream("weather?"))
    assert sum(1 for c in chunks if c.tool_call_chunks) > 3  # arrived in fragments
    full = chunks[0]
    for chunk in chunks[1:]:
        full += chunk  # type: ignore[assignment]
    assert full.tool_calls == [
        {
            "name": "get_weather",
            "args": {"city": "São Paulo", "unit": "celsius"},
            "id": "x",
            "type": "tool_call",
        }
    ]
    assert full.response_metadata["stop_reason"] == "tool_use"


def test_with_structured_output_function_calling(bedrock, llm):
    bedrock.script("Converse", person_tool_use("Ada Lovelace", 36))
    person = llm.with_structured_output(Person).invoke("Who wrote the first program?")
    assert person == Person(name="Ada Lovelace", age=36)


def test_with_structured_output_json_schema_include_raw(bedrock, llm):
    bedrock.script("Converse", Reply.json(converse_reply('{"name": "Grace Hopper", "age": 85}')))
    out = llm.with_structured_output(Person, method="json_schema", include_raw=True).invoke(
        "COBOL?"
    )
    assert out["parsed"] == Person(name="Grace Hopper", age=85)  # type: ignore[index]
    assert out["parsing_error"] is None  # type: ignore[index]
    assert isinstance(out["raw"], AIMessage)  # type: ignore[index]


def test_structured_output_parsing_error_is_returned_with_include_raw(bedrock, llm):
    bedrock.script("Converse", Reply.json(converse_reply('{"name": "no age"}')))
    out = llm.with_structured_output(Person, method="json_schema", include_raw=True).invoke("?")
    assert out["parsed"] is None and out["parsing_error"] is not None  # type: ignore[index]


# ------------------------------------------------------------------------ usage, reasoning


def test_cache_tokens_are_neither_double_counted_nor_dropped(bedrock, llm):
    bedrock.script(
        "Converse",
        Reply.json(
            converse_reply("cached", usage=build_usage(5, 4, cache_read=1000, cache_write=20))
        ),
    )
    usage = llm.invoke("x").usage_metadata
    assert usage == {
        "input_tokens": 1025,
        "output_tokens": 4,
        "total_tokens": 1029,
        "input_token_details": {"cache_read": 1000, "cache_creation": 20},
    }


def test_reasoning_is_kept_and_sent_back_next_turn(bedrock, llm):
    bedrock.script(
        "ConverseStream",
        Reply.events(
            converse_stream_events(
                "42", reasoning="6 times 7", reasoning_signature="c2ln", chunk_chars=3
            )
        ),
    )
    chunks = list(llm.stream("6*7?"))
    full = chunks[0]
    for chunk in chunks[1:]:
        full += chunk  # type: ignore[assignment]
    message = AIMessage(content=full.content, response_metadata=full.response_metadata)
    request = llm.build_request([HumanMessage("6*7?"), message, HumanMessage("and 7*7?")])
    sent = request["messages"][1]["content"]
    assert sent[0] == {
        "reasoningContent": {"reasoningText": {"text": "6 times 7", "signature": "c2ln"}}
    }
    assert sent[1] == {"text": "42"}


# ------------------------------------------------------------------------ guardrails


def test_guardrail_intervention_is_typed_in_response_metadata(bedrock):
    llm = ChatBedrockKit(
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
                trace=GUARDRAIL_TRACE,
            )
        ),
    )
    msg = llm.invoke("capital of Italy?")
    assert msg.response_metadata["stop_reason"] == "guardrail_intervened"
    trace = msg.response_metadata["guardrail"]
    assert trace.intervened
    finding = trace.output_assessments["gr1"][0].pii_entities[0]
    assert (finding.type, finding.action) == ("ADDRESS", "ANONYMIZED")
    assert trace.usage.topic_policy_units == 1


def test_guardrail_intervention_raises_when_asked_streaming_included(bedrock):
    llm = ChatBedrockKit(
        model=MODEL,
        endpoint_url=bedrock.endpoint_url,
        region_name=bedrock.region,
        guardrail_config={
            "guardrailIdentifier": "gr1",
            "guardrailVersion": "1",
            "streamProcessingMode": "sync",
        },
        guard_last_turn=True,
        raise_on_guardrail_intervention=True,
    )
    request = llm.build_request([HumanMessage("capital of Italy?")], stream=True)
    assert request["messages"][-1]["content"] == [
        {"guardContent": {"text": {"text": "capital of Italy?"}}}
    ]
    assert request["guardrailConfig"]["streamProcessingMode"] == "sync"
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
    with pytest.raises(GuardrailInterventionError) as info:
        list(llm.stream("capital of Italy?"))
    assert info.value.assessment is not None
    assert info.value.assessment.pii_entities[0].match == "Rome"


# ------------------------------------------------------------------------ tokens


def test_get_num_tokens_uses_count_tokens(bedrock, llm):
    bedrock.script("CountTokens", Reply.json({"inputTokens": 375}))
    assert llm.get_num_tokens_from_messages([HumanMessage("hello")], tools=[get_weather]) == 375


def test_get_num_tokens_falls_back_when_model_lacks_count_tokens(bedrock, llm):
    bedrock.script(
        "CountTokens",
        Reply.error(
            400, "ValidationException", "The provided model doesn't support counting tokens."
        ),
    )
    first = llm.get_num_tokens_from_messages([HumanMessage("x" * 400)])
    assert 100 <= first <= 140  # about 4 characters per token plus message framing
    assert (
        llm.get_num_tokens_from_messages([HumanMessage("x" * 400)]) == first
    )  # no second API call


# ------------------------------------------------------------------------ errors


def test_throttling_is_a_typed_error_with_context(bedrock, llm):
    bedrock.script("Converse", throttled())
    with pytest.raises(ThrottlingError) as info:
        llm.invoke("x")
    error = info.value
    assert (error.status_code, error.model_id, error.region) == (429, MODEL, bedrock.region)
    assert error.request_id


def test_stream_without_metadata_raises_never_partial_success(bedrock, llm):
    bedrock.script("ConverseStream", cut_short_stream())  # no messageStop, no metadata
    with pytest.raises(IncompleteStreamError) as info:
        list(llm.stream("x"))
    assert info.value.partial_text.startswith("this answer")


def test_in_stream_exception_event_is_typed(bedrock, llm):
    bedrock.script("ConverseStream", stream_exception("modelStreamErrorException", "model broke"))
    with pytest.raises(ModelStreamError, match="model broke"):
        list(llm.stream("x"))


async def test_async_in_stream_exception_event_is_typed(bedrock, llm):
    bedrock.script("ConverseStream", stream_exception("throttlingException", "slow down"))
    with pytest.raises(ThrottlingError, match="slow down"):
        async for _ in llm.astream("x"):
            pass
    await _close(llm)


def test_concurrent_async_calls_share_one_client(bedrock, llm):
    bedrock.script("Converse", *[Reply.json(converse_reply(f"n{i}")) for i in range(8)])

    async def run() -> list[str]:
        out = await asyncio.gather(*(llm.ainvoke(f"q{i}") for i in range(8)))
        await _close(llm)
        return sorted(str(m.content) for m in out)

    assert asyncio.run(run()) == sorted(f"n{i}" for i in range(8))
    assert llm.runtime.pool.created == 1


# ------------------------------------------------------------------------ ids, caching, secrets


@pytest.mark.parametrize(
    "model_id",
    [
        "amazon.nova-micro-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123xyz",
    ],
)
def test_model_ids_profiles_and_arns_reach_bedrock(bedrock, model_id):
    bedrock.script("Converse", Reply.json(converse_reply("ok")))
    llm = ChatBedrockKit(
        model_id=model_id, endpoint_url=bedrock.endpoint_url, region_name=bedrock.region
    )
    msg = llm.invoke("x")
    assert msg.content == "ok" and msg.response_metadata["model_id"] == model_id


@pytest.mark.parametrize("bad", ["", "has spaces", "model?x=1"])
def test_invalid_model_id_fails_at_construction(bad):
    with pytest.raises(ValueError, match="model"):
        ChatBedrockKit(model=bad)


def test_cache_points_in_system_and_messages(llm):
    request = llm.build_request(
        [
            SystemMessage(
                content=[
                    {"type": "text", "text": "long instructions"},
                    {"cachePoint": {"type": "default"}},
                ]
            ),
            HumanMessage(
                content=["big document", {"type": "cache_point", "ttl": "1h"}, "question"]
            ),
        ]
    )
    assert request["system"] == [{"text": "long instructions"}, {"cachePoint": {"type": "default"}}]
    assert request["messages"][0]["content"] == [
        {"text": "big document"},
        {"cachePoint": {"type": "default", "ttl": "1h"}},
        {"text": "question"},
    ]


def test_redacted_reasoning_round_trips(bedrock, llm):
    bedrock.script(
        "Converse",
        Reply.json(
            {
                "output": {
                    "message": {
                        "role": "assistant",
                        "content": [
                            {
                                "reasoningContent": {
                                    "redactedContent": base64.b64encode(b"\x01secret").decode()
                                }
                            },
                            {"text": "done"},
                        ],
                    }
                },
                "stopReason": "end_turn",
                "usage": build_usage(3, 2),
                "metrics": {"latencyMs": 10},
            }
        ),
    )
    msg = llm.invoke("think")
    assert msg.content[0]["reasoning_content"] == {"redacted_content": b"\x01secret"}  # type: ignore[index]
    sent = llm.build_request([HumanMessage("think"), msg, HumanMessage("more")])["messages"][1][
        "content"
    ]
    assert sent == [{"reasoningContent": {"redactedContent": b"\x01secret"}}, {"text": "done"}]


def test_secrets_never_printed():
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    llm = ChatBedrockKit(
        model=MODEL,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key=secret,
        region_name="us-east-1",
    )
    assert secret not in repr(llm) and secret not in str(llm)
    assert secret not in llm.model_dump_json()


def test_from_prompt_takes_model_and_settings_from_the_template(llm):
    from langchain_core.prompts import PromptTemplate

    template = PromptTemplate.from_template(
        "Explain {topic}",
        metadata={"model_id": "amazon.nova-lite-v1:0", "inference": {"temperature": 0.2}},
    )
    model = ChatBedrockKit.from_prompt(
        template, endpoint_url=llm.endpoint_url, region_name="us-east-1"
    )
    assert (model.model_id, model.temperature) == ("amazon.nova-lite-v1:0", 0.2)
