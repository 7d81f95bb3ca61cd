"""Standard content: ChatBedrockKit's messages read by LangChain's ``bedrock_converse``
translator, ``output_version="v1"``, any answer accepted back as history, and the dialects
LangChain users hold (Anthropic's, langchain-aws's) accepted as input.

Everything runs against LocalBedrock's scripted model, which enforces Bedrock's request rules
(roles alternate, tool results answer tool calls, signed reasoning first when thinking is on).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from pydantic import BaseModel, Field

from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing import LocalBedrock, Reply, ScriptedModel
from bedrock_kit.testing.scripts import converse_reply, converse_stream_events

MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"
THINKING = {"thinking": {"type": "enabled", "budget_tokens": 1024}}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
CITATION = {
    "title": "tides.txt",
    "sourceContent": [{"text": "Tides rise twice a day."}],
    "location": {"documentChar": {"documentIndex": 0, "start": 0, "end": 23}},
}


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"Sunny in {city}"


class Forecast(BaseModel):
    """A forecast."""

    city: str = Field(description="the city")
    celsius: int


@pytest.fixture
def server() -> Iterator[LocalBedrock]:
    with LocalBedrock() as local:
        ScriptedModel().install(local)
        yield local


def _model(server: LocalBedrock, **kwargs: Any) -> ChatBedrockKit:
    return ChatBedrockKit(
        model=MODEL,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        max_retries=0,
        **kwargs,
    )


def _merged(chunks: Iterator[Any]) -> AIMessageChunk:
    full = None
    for chunk in chunks:
        full = chunk if full is None else full + chunk
    assert isinstance(full, AIMessageChunk)
    return full


def _types(blocks: list[Any]) -> list[str]:
    return [b["type"] for b in blocks]


def _sent(server: LocalBedrock, operation: str = "Converse") -> dict[str, Any]:
    return server.requests_for(operation)[-1].body  # type: ignore[no-any-return]


# ------------------------------------------------------------------ content_blocks


def test_invoke_reads_as_standard_blocks_reasoning_signature_and_tool_call(server):
    llm = _model(server, additional_model_request_fields=THINKING).bind_tools([get_weather])
    message = llm.invoke("What is the weather in Oslo?")
    assert message.response_metadata["model_provider"] == "bedrock_converse"
    blocks = message.content_blocks
    assert _types(blocks) == ["reasoning", "tool_call"]
    assert blocks[0]["extras"]["signature"]  # type: ignore[typeddict-item]
    assert blocks[1]["name"] == "get_weather"  # type: ignore[typeddict-item]
    assert blocks[1]["id"] == message.tool_calls[0]["id"]  # type: ignore[typeddict-item]


def test_merged_stream_reads_the_same_blocks_as_invoke(server):
    llm = _model(server, additional_model_request_fields=THINKING).bind_tools([get_weather])
    invoked = llm.invoke("What is the weather in Oslo?")
    full = _merged(llm.stream("What is the weather in Oslo?"))
    strip = [{k: v for k, v in b.items() if k != "index"} for b in full.content_blocks]
    assert strip == invoked.content_blocks
    assert full.tool_calls == invoked.tool_calls


def test_a_streamed_tool_call_is_a_tool_call_chunk_not_an_empty_text_block(server):
    chunks = list(_model(server).bind_tools([get_weather]).stream("weather in Oslo?"))
    tool_chunks = [c for c in chunks if c.tool_call_chunks]
    assert tool_chunks
    for chunk in tool_chunks:
        assert _types(chunk.content_blocks) == ["tool_call_chunk"]
    assert all(b["type"] != "text" or b["text"] for c in chunks for b in c.content_blocks)


def test_text_then_tool_call_keeps_both_in_order_when_streamed(server):
    events = converse_stream_events(
        "Let me look.", tool_uses=[{"name": "get_weather", "input": {"city": "Oslo"}}]
    )
    server.script("ConverseStream", Reply.events(events))
    full = _merged(_model(server).bind_tools([get_weather]).stream("weather?"))
    assert _types(full.content_blocks) == ["text", "tool_call"]
    assert full.text == "Let me look."


def test_plain_text_streams_stay_strings(server):
    chunks = list(_model(server).stream("hello"))
    assert all(isinstance(c.content, str) for c in chunks)
    assert "".join(str(c.content) for c in chunks) == "echo: hello"
    assert _merged(iter(chunks)).content_blocks == [{"type": "text", "text": "echo: hello"}]


def test_citations_become_annotations_on_invoke_and_stream(server):
    reply = converse_reply()
    reply["output"]["message"]["content"] = [
        {"citationsContent": {"content": [{"text": "Twice a day."}], "citations": [CITATION]}}
    ]
    server.script("Converse", Reply.json(reply))
    events = [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "Twice a day."}}},
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"citation": CITATION}}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "end_turn"}},
        {"metadata": {"usage": {"inputTokens": 3, "outputTokens": 3, "totalTokens": 6}}},
    ]
    server.script("ConverseStream", Reply.events(events))
    doc = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "Tides rise twice a day."},
        "title": "tides",
        "citations": {"enabled": True},
    }
    question = HumanMessage([doc, "How often?"])
    llm = _model(server)
    for message in (llm.invoke([question]), _merged(llm.stream([question]))):
        (text,) = message.content_blocks
        assert text["type"] == "text" and text["text"] == "Twice a day."
        (annotation,) = text["annotations"]  # type: ignore[typeddict-item]
        assert annotation["type"] == "citation"
        assert annotation["cited_text"] == "Tides rise twice a day."
    sent = _sent(server, "ConverseStream")["messages"][0]["content"][0]["document"]
    assert sent["citations"] == {"enabled": True} and sent["source"] == {
        "text": "Tides rise twice a day."
    }


def test_an_answered_image_is_kept_and_goes_back_unchanged(server):
    reply = converse_reply("Here.")
    image = {"image": {"format": "png", "source": {"bytes": base64.b64encode(PNG).decode()}}}
    reply["output"]["message"]["content"].append(image)
    server.script("Converse", Reply.json(reply))
    llm = _model(server)
    message = llm.invoke("draw")
    assert message.content[1]["type"] == "image"  # type: ignore[index]
    assert _types(message.content_blocks) == ["text", "non_standard"]
    llm.invoke([HumanMessage("draw"), message, HumanMessage("again")])
    assert _sent(server)["messages"][1]["content"][1] == image


# ------------------------------------------------------------------ v1 and history


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
def test_v1_answers_with_reasoning_and_tools_go_back_as_history(server, stream):
    llm = _model(server, additional_model_request_fields=THINKING, output_version="v1")
    bound = llm.bind_tools([get_weather])
    question = HumanMessage("What is the weather in Oslo?")
    first = _merged(bound.stream([question])) if stream else bound.invoke([question])
    assert first.response_metadata["output_version"] == "v1"
    assert _types(first.content) == ["reasoning", "tool_call"]  # type: ignore[arg-type]
    result = ToolMessage(get_weather("Oslo"), tool_call_id=first.tool_calls[0]["id"])
    second = bound.invoke([question, first, result])  # the rules: signed reasoning first
    assert "Sunny in Oslo" in second.text
    sent = _sent(server)["messages"][1]["content"]
    assert [next(iter(b)) for b in sent] == ["reasoningContent", "toolUse"]


def test_v0_reasoning_answers_go_back_with_their_signature(server):
    llm = _model(server, additional_model_request_fields=THINKING).bind_tools([get_weather])
    question = HumanMessage("weather in Oslo?")
    first = _merged(llm.stream([question]))
    result = ToolMessage("Sunny", tool_call_id=first.tool_calls[0]["id"])
    assert llm.invoke([question, first, result]).text == "The tools returned: Sunny"


def test_altered_reasoning_is_refused_by_the_scripted_model_like_bedrock(server):
    llm = _model(server, additional_model_request_fields=THINKING).bind_tools([get_weather])
    question = HumanMessage("weather in Oslo?")
    first = llm.invoke([question])
    first.content[0]["reasoning_content"]["text"] = "edited"  # type: ignore[index]
    result = ToolMessage("Sunny", tool_call_id=first.tool_calls[0]["id"])
    with pytest.raises(Exception, match="invalid signature"):
        llm.invoke([question, first, result])


# ------------------------------------------------------------------ structured output


class _Options(BaseCallbackHandler):
    def __init__(self) -> None:
        self.options: list[dict[str, Any]] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.options.append(kwargs.get("options") or {})


@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
def test_with_structured_output_reports_its_schema_to_langsmith(server, method):
    handler = _Options()
    runnable = _model(server).with_structured_output(Forecast, method=method)
    out = runnable.invoke("Oslo?", config={"callbacks": [handler]})
    assert isinstance(out, Forecast)
    found = handler.options[0]["ls_structured_output_format"]
    assert found["kwargs"]["method"] == method
    assert found["schema"]["properties"].keys() == {"city", "celsius"}


@pytest.mark.parametrize(
    "response_format",
    [
        {
            "type": "json_schema",
            "json_schema": {"name": "Forecast", "schema": Forecast.model_json_schema()},
        },
        Forecast,
        Forecast.model_json_schema(),
    ],
    ids=["openai-dict", "pydantic", "bare-schema"],
)
def test_response_format_maps_to_output_config(server, response_format):
    message = _model(server).invoke("Oslo?", response_format=response_format)
    assert Forecast.model_validate_json(message.text)
    config = _sent(server)["outputConfig"]["textFormat"]
    schema = json.loads(config["structure"]["jsonSchema"]["schema"])
    assert config["type"] == "json_schema" and schema["additionalProperties"] is False
    assert config["structure"]["jsonSchema"]["name"] == "Forecast"


def test_bad_response_format_is_refused_before_any_request(server):
    with pytest.raises(ConfigurationError, match="response_format type 'text'"):
        _model(server).bind_tools([], response_format={"type": "text"})
    with pytest.raises(ConfigurationError, match="unknown argument 'foo'"):
        _model(server).invoke("hi", foo=1)
    assert server.requests == []


# ------------------------------------------------------------------ input dialects


def test_anthropic_blocks_are_read_as_bedrock_blocks(server):
    b64 = base64.b64encode(PNG).decode()
    messages = [
        SystemMessage(
            [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
        ),
        HumanMessage(
            [
                {"type": "text", "text": "Pick a colour"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": b64},
                },
            ]
        ),
        AIMessage(
            [
                {"type": "thinking", "thinking": "hmm", "signature": "c2ln"},
                {"type": "redacted_thinking", "data": base64.b64encode(b"secret").decode()},
                {"type": "text", "text": "Let me pick."},
                {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Oslo"}},
            ]
        ),
        HumanMessage(
            [{"type": "tool_result", "tool_use_id": "t1", "content": "purple", "is_error": False}]
        ),
    ]
    _model(server).bind_tools([get_weather]).invoke(messages)
    sent = _sent(server)
    assert sent["system"] == [{"text": "Be brief."}, {"cachePoint": {"type": "default"}}]
    assert sent["messages"][0]["content"][1] == {
        "image": {"format": "png", "source": {"bytes": b64}}
    }
    assistant = sent["messages"][1]["content"]
    assert assistant[0] == {
        "reasoningContent": {"reasoningText": {"text": "hmm", "signature": "c2ln"}}
    }
    assert assistant[1] == {
        "reasoningContent": {"redactedContent": base64.b64encode(b"secret").decode()}
    }
    assert assistant[3] == {
        "toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Oslo"}}
    }
    assert sent["messages"][2]["content"] == [
        {"toolResult": {"toolUseId": "t1", "content": [{"text": "purple"}]}}
    ]


def test_langchain_aws_shapes_and_wire_dicts_are_read(server):
    messages = [
        HumanMessage(["Summarise", ChatBedrockKit.create_cache_point()]),
        AIMessage([{"type": "text", "text": "ok"}]),
        HumanMessage([{"type": "guard_content", "guard_content": {"type": "text", "text": "me"}}]),
    ]
    _model(server).invoke(messages)
    sent = _sent(server)["messages"]
    assert sent[0]["content"][1] == {"cachePoint": {"type": "default"}}
    assert sent[2]["content"] == [{"guardContent": {"text": {"text": "me"}}}]


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        {"type": "server_tool_use", "id": "s1", "name": "web_search"},
        {"type": "image", "url": "https://example.com/a.png"},
    ],
    ids=["anthropic-url", "server-tool", "standard-url"],
)
def test_blocks_without_a_bedrock_equivalent_are_refused_by_name(server, block):
    with pytest.raises(ConfigurationError, match=block["type"]):
        _model(server).invoke([HumanMessage(["hi", block])])
    assert server.requests == []


def test_an_unbound_tool_call_after_streamed_text_loses_neither(server):
    # Plain-text streams are strings; a tool call no request bound (recorded answers replayed
    # without tools) cannot turn them into blocks, so the message reads from itself.
    events = converse_stream_events(
        "Let me look.", tool_uses=[{"name": "get_weather", "input": {"city": "Oslo"}}]
    )
    server.script("ConverseStream", Reply.events(events))
    full = _merged(_model(server).stream("weather?"))
    assert full.content == "Let me look."
    assert [c["args"] for c in full.tool_calls] == [{"city": "Oslo"}]
    assert _types(full.content_blocks) == ["text", "tool_call"]
    assert "model_provider" not in full.response_metadata


def test_a_tool_call_first_switches_an_unbound_stream_to_blocks(server):
    events = converse_stream_events(tool_uses=[{"name": "get_weather", "input": {"city": "Oslo"}}])
    server.script("ConverseStream", Reply.events(events))
    full = _merged(_model(server).stream("weather?"))
    assert full.response_metadata["model_provider"] == "bedrock_converse"
    assert _types(full.content_blocks) == ["tool_call"]
