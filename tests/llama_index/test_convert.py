"""Pure mapping tests: LlamaIndex chat types <-> core types, on literal objects, no server."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
from llama_index.core.base.llms.types import (
    AudioBlock,
    CacheControl,
    CachePoint,
    ChatMessage,
    ChatResponse,
    CitableBlock,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.tools import FunctionTool

from bedrock_kit.core.chat import types as core
from bedrock_kit.core.chat.stream import (
    CompletedDelta,
    ReasoningDelta,
    StopDelta,
    TextDelta,
    ToolCallDelta,
)
from bedrock_kit.core.guardrails.assessments import parse_guardrail_trace
from bedrock_kit.errors import ConfigurationError, MalformedResponseError
from bedrock_kit.llama_index import BedrockKitLLM, ToolCallMissingError
from bedrock_kit.llama_index._convert import (
    UNMAPPED_KEY,
    ChatStream,
    to_chat_response,
    to_core,
    usage_dict,
)
from bedrock_kit.llama_index._tools import tool_choice_name, tool_selections, tool_specs
from tests.support.scenarios.chat import MODEL, PNG, get_weather

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def llm() -> BedrockKitLLM:
    return BedrockKitLLM(model=MODEL, region_name="us-east-1")


def _result(*content, stop="end_turn", usage=None, guardrail=None) -> core.ConverseResult:
    return core.ConverseResult(
        message=core.Message("assistant", tuple(content)),
        stop_reason=stop,
        raw_stop_reason=stop,
        usage=usage or core.Usage(10, 5),
        model_id=MODEL,
        latency_ms=42,
        guardrail=guardrail,
        request_id="req-1",
    )


# ------------------------------------------------------------------ LlamaIndex -> core


def test_roles_tool_calls_and_tool_results_map_and_merge(llm):
    messages = [
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="Weather in Oslo and Rome?"),
        ChatMessage(
            role="assistant",
            blocks=[
                TextBlock(text="Checking."),
                ToolCallBlock(
                    tool_call_id="t1", tool_name="get_weather", tool_kwargs={"city": "Oslo"}
                ),
                ToolCallBlock(
                    tool_call_id="t2", tool_name="get_weather", tool_kwargs='{"city": "Rome"}'
                ),
            ],
        ),
        ChatMessage(role="tool", content="18 celsius", additional_kwargs={"tool_call_id": "t1"}),
        ChatMessage(
            role="tool",
            content="service down",
            additional_kwargs={"tool_call_id": "t2", "is_error": True},
        ),
    ]
    system, turns = to_core(messages)
    assert system == [core.TextBlock("Be brief.")]
    assert [t.role for t in turns] == ["user", "assistant", "user", "user"]
    assert turns[1].tool_calls == [
        core.ToolUseBlock("t1", "get_weather", {"city": "Oslo"}),
        core.ToolUseBlock("t2", "get_weather", {"city": "Rome"}),
    ]
    assert turns[3].content[0] == core.ToolResultBlock(
        "t2", (core.TextBlock("service down"),), "error"
    )

    request = llm.build_request(messages)
    assert [m["role"] for m in request["messages"]] == [
        "user",
        "assistant",
        "user",
    ]  # merged by the core
    results = request["messages"][2]["content"]
    assert [r["toolResult"]["toolUseId"] for r in results] == ["t1", "t2"]
    assert (
        "status" not in results[0]["toolResult"] and results[1]["toolResult"]["status"] == "error"
    )
    assert request["system"] == [{"text": "Be brief."}]


def test_image_document_and_cache_point_blocks():
    message = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="What is this?"),
            ImageBlock(image=PNG),
            DocumentBlock(data=b"a,b\n1,2", title="data.csv", document_mimetype="text/csv"),
            CachePoint(cache_control=CacheControl(type="ephemeral")),
            CachePoint(cache_control=CacheControl(type="ephemeral", ttl="1h")),
        ],
    )
    _, turns = to_core([message])
    text, image, document, cache, cache_1h = turns[0].content
    assert text == core.TextBlock("What is this?")
    assert image == core.ImageBlock("png", PNG)  # raw bytes, not LlamaIndex's base64 copy
    assert document == core.DocumentBlock("csv", "data", b"a,b\n1,2")
    assert cache == core.CachePointBlock("default", None)
    assert cache_1h == core.CachePointBlock("default", "1h")


def test_s3_sources_pass_through_and_remote_urls_are_refused():
    _, turns = to_core(
        [
            ChatMessage(
                role="user",
                blocks=[
                    ImageBlock(url="s3://bucket/cat.jpg"),
                    DocumentBlock(url="s3://bucket/report.pdf", title="Q3 report.pdf"),
                ],
            )
        ]
    )
    assert turns[0].content == (
        core.ImageBlock("jpeg", s3_uri="s3://bucket/cat.jpg"),
        core.DocumentBlock("pdf", "Q3 report", s3_uri="s3://bucket/report.pdf"),
    )
    with pytest.raises(ConfigurationError, match=r"messages\[0\].*remote image"):
        to_core([ChatMessage(role="user", blocks=[ImageBlock(url="https://example.com/a.png")])])


def test_data_url_and_path_sources_are_read_locally(tmp_path):
    pdf = tmp_path / "Annual report.pdf"
    pdf.write_bytes(b"%PDF-1.4 tiny")
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    _, turns = to_core(
        [ChatMessage(role="user", blocks=[ImageBlock(url=data_url), DocumentBlock(path=pdf)])]
    )
    assert turns[0].content[0] == core.ImageBlock("png", PNG)
    assert turns[0].content[1] == core.DocumentBlock("pdf", "Annual report", b"%PDF-1.4 tiny")


def test_citable_block_becomes_a_citable_text_document():
    block = CitableBlock(
        title="notes.txt", source="kb", content=[TextBlock(text="Tides: twice a day.")]
    )
    _, turns = to_core([ChatMessage(role="user", blocks=[block, TextBlock(text="How often?")])])
    assert turns[0].content[0] == core.DocumentBlock(
        "txt", "notes", text="Tides: twice a day.", citations=True
    )


def test_thinking_block_round_trips_with_signature():
    result = _result(core.ReasoningBlock("6 times 7", "c2ln"), core.TextBlock("42"))
    message = to_chat_response(result).message
    assert isinstance(message.blocks[0], ThinkingBlock)
    _, turns = to_core([ChatMessage(role="user", content="6*7?"), message])
    assert turns[1].content == (core.ReasoningBlock("6 times 7", "c2ln"), core.TextBlock("42"))


def test_redacted_thinking_round_trips():
    message = to_chat_response(_result(core.ReasoningBlock(redacted_content=b"\x00opaque"))).message
    _, turns = to_core([ChatMessage(role="user", content="q"), message])
    assert turns[1].content == (core.ReasoningBlock(redacted_content=b"\x00opaque"),)


def test_legacy_bedrock_tool_calls_in_additional_kwargs_are_accepted():
    message = ChatMessage(
        role="assistant",
        content="",
        additional_kwargs={"tool_calls": [{"toolUseId": "x", "name": "f", "input": {"a": 1}}]},
    )
    _, turns = to_core([ChatMessage(role="user", content="q"), message])
    assert turns[1].content == (core.ToolUseBlock("x", "f", {"a": 1}),)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (ChatMessage(role="tool", content="x"), r"messages\[0\].*tool_call_id"),
        (
            ChatMessage(role="assistant", blocks=[ToolCallBlock(tool_name="f", tool_kwargs={})]),
            r"messages\[0\].*no tool_call_id",
        ),
        (
            ChatMessage(
                role="assistant",
                blocks=[ToolCallBlock(tool_call_id="i", tool_name="f", tool_kwargs="{bad")],
            ),
            "not valid JSON",
        ),
        (
            ChatMessage(role="user", blocks=[AudioBlock(audio=b"RIFF")]),
            r"messages\[0\]: audio type",
        ),
        (
            ChatMessage(role="system", blocks=[ImageBlock(image=PNG)]),
            "system messages take text only",
        ),
        (ChatMessage(role="user", blocks=[ImageBlock(image=b"not an image at all")]), "image type"),
    ],
)
def test_bad_messages_raise_configuration_error_naming_the_message(message, error):
    with pytest.raises(ConfigurationError, match=error):
        to_core([message])


def test_tool_specs_use_the_llama_index_parameter_schema():
    tool = FunctionTool.from_defaults(fn=get_weather)
    [spec] = tool_specs([tool])
    assert spec.name == "get_weather"
    assert "Current weather in a city." in spec.description
    assert spec.input_schema["required"] == ["city"]
    assert set(spec.input_schema["properties"]) == {"city", "unit"}


@pytest.mark.parametrize(
    ("choice", "required", "expected"),
    [
        (None, False, None),
        (None, True, "any"),
        ("auto", False, "auto"),
        ("required", False, "any"),
        ("get_weather", False, "get_weather"),
        ({"type": "function", "function": {"name": "get_weather"}}, False, "get_weather"),
        ({"tool": {"name": "get_weather"}}, False, "get_weather"),
        ({"any": {}}, False, "any"),
    ],
)
def test_tool_choice_forms(choice, required, expected):
    assert tool_choice_name(choice, required) == expected


def test_tool_choice_none_is_refused():
    with pytest.raises(ConfigurationError, match="tool_choice='none'"):
        tool_choice_name("none", False)


# ------------------------------------------------------------------ core -> LlamaIndex


def test_usage_counts_every_billed_input_token():
    usage = core.Usage(
        input_tokens=5, output_tokens=4, cache_read_input_tokens=1000, cache_write_input_tokens=20
    )
    assert usage_dict(usage) == {
        "prompt_tokens": 1025,
        "completion_tokens": 4,
        "total_tokens": 1029,
        "cache_read_input_tokens": 1000,
        "cache_write_input_tokens": 20,
    }


def test_chat_response_carries_blocks_usage_and_typed_metadata():
    trace = parse_guardrail_trace({"actionReason": "masked", "inputAssessment": {}})
    result = _result(
        core.TextBlock("Checking."),
        core.ToolUseBlock("a", "get_weather", {"city": "Oslo"}),
        core.UnknownBlock("video", {"x": 1}),
        stop="tool_use",
        guardrail=trace,
    )
    response = to_chat_response(result)
    assert response.message.role == MessageRole.ASSISTANT
    assert response.message.content == "Checking."
    call = response.message.blocks[1]
    assert isinstance(call, ToolCallBlock) and call.tool_kwargs == {"city": "Oslo"}
    # kept as a Bedrock wire dict, so chat stores can serialise the message
    assert response.message.additional_kwargs[UNMAPPED_KEY] == [{"video": {"x": 1}}]
    assert (
        response.raw["usage"]["prompt_tokens"] == 10 and response.raw["stop_reason"] == "tool_use"
    )
    kwargs = response.additional_kwargs
    assert (kwargs["stop_reason"], kwargs["model_id"], kwargs["request_id"]) == (
        "tool_use",
        MODEL,
        "req-1",
    )
    assert kwargs["guardrail"] is trace and kwargs["usage"] == core.Usage(10, 5)
    # the unknown block is sent back unchanged on the next turn, not dropped
    _, turns = to_core([ChatMessage(role="user", content="q"), response.message])
    assert core.UnknownBlock("video", {"x": 1}) in turns[1].content


def test_citations_become_text_plus_citation_list():
    citation = {
        "title": "notes",
        "location": {"documentChar": {"documentIndex": 0, "start": 0, "end": 5}},
    }
    response = to_chat_response(_result(core.CitationsBlock("Twice a day.", (citation,))))
    assert response.message.content == "Twice a day."
    assert response.message.additional_kwargs["citations"] == [citation]


# ------------------------------------------------------------------ streaming


def test_chat_stream_accumulates_text_tool_args_and_ends_with_the_result():
    stream = ChatStream()
    final = _result(
        core.TextBlock("Hi there"),
        core.ToolUseBlock("t", "f", {"a": 1}),
        stop="tool_use",
        usage=core.Usage(3, 2),
    )
    deltas = [
        ReasoningDelta(0, "hmm"),
        TextDelta(1, "Hi "),
        TextDelta(1, "there"),
        ToolCallDelta(2, "t", "f", ""),
        ToolCallDelta(2, None, None, '{"a"'),
        ToolCallDelta(2, None, None, ": 1}"),
        StopDelta("tool_use", "tool_use"),
        CompletedDelta(final),
    ]
    chunks = [c for c in (stream.chunk(d) for d in deltas) if c is not None]
    assert len(chunks) == 7  # the stop delta has no chunk of its own
    assert chunks[0].additional_kwargs["thinking_delta"] == "hmm"
    assert [c.delta for c in chunks[1:3]] == ["Hi ", "there"]
    assert chunks[2].message.content == "Hi there"
    partial = chunks[4].message.blocks[-1]
    assert isinstance(partial, ToolCallBlock) and partial.tool_kwargs == '{"a"'
    assert tool_selections(chunks[4], error_on_no_tool_call=False)[0].tool_name == "f"
    assert tool_selections(chunks[5], error_on_no_tool_call=True)[0].tool_kwargs == {"a": 1}
    last = chunks[-1]
    assert last.delta == "" and last.raw["usage"]["completion_tokens"] == 2
    assert last.additional_kwargs["stop_reason"] == "tool_use"
    assert all(c.raw is None for c in chunks[:-1])  # usage is reported once


def test_tool_selections_keep_parallel_calls_in_order():
    response = to_chat_response(
        _result(
            core.ToolUseBlock("a", "f", {"x": 1}),
            core.ToolUseBlock("b", "g", {"y": 2}),
            stop="tool_use",
        )
    )
    selections = tool_selections(response, error_on_no_tool_call=True)
    assert [(s.tool_id, s.tool_name, s.tool_kwargs) for s in selections] == [
        ("a", "f", {"x": 1}),
        ("b", "g", {"y": 2}),
    ]


def test_tool_selections_errors():
    no_calls = ChatResponse(message=ChatMessage(role="assistant", content="just text"))
    assert tool_selections(no_calls, error_on_no_tool_call=False) == []
    with pytest.raises(ToolCallMissingError, match="just text"):
        tool_selections(no_calls, error_on_no_tool_call=True)
    malformed = ChatResponse(
        message=ChatMessage(
            role="assistant",
            blocks=[ToolCallBlock(tool_call_id="i", tool_name="f", tool_kwargs='{"a": 1}}')],
        )
    )
    assert tool_selections(malformed, error_on_no_tool_call=False)[0].tool_kwargs == {}
    with pytest.raises(MalformedResponseError):
        tool_selections(malformed, error_on_no_tool_call=True)


# ------------------------------------------------------------------ the LLM object


def test_constructor_secrets_aliases_and_metadata():
    llm = BedrockKitLLM(
        model_id=MODEL,
        profile_name="dev",
        aws_access_key_id="AKIAEXAMPLEKEY",
        aws_secret_access_key="very-secret-value",
        aws_session_token="session-token-value",
        max_tokens=512,
    )
    assert llm.model == MODEL and llm.credentials_profile_name == "dev"
    for text in (repr(llm), str(llm), str(llm.to_payload()), llm.model_dump_json()):
        assert "very-secret-value" not in text and "session-token-value" not in text
    meta = llm.metadata
    assert (meta.context_window, meta.num_output, meta.model_name) == (200_000, 512, MODEL)
    assert meta.is_chat_model and meta.is_function_calling_model


def test_to_json_round_trip_drops_credentials_and_keeps_settings():
    llm = BedrockKitLLM(
        model=MODEL,
        region_name="eu-west-1",
        aws_access_key_id="AKIAEXAMPLEKEY",
        aws_secret_access_key="very-secret-value",
        temperature=0.3,
        guardrail_config=core.GuardrailConfig("gr1", "2", stream_processing_mode="async"),
    )
    text = llm.to_json()
    assert "AKIAEXAMPLEKEY" not in text and "very-secret-value" not in text
    again = BedrockKitLLM.from_json(text)
    assert (again.model, again.region_name, again.temperature) == (MODEL, "eu-west-1", 0.3)
    assert again.aws_access_key_id is None
    request = again.build_request([ChatMessage(role="user", content="q")], stream=True)
    assert request["guardrailConfig"]["streamProcessingMode"] == "async"


@pytest.mark.parametrize(
    ("model", "window"),
    [
        ("amazon.nova-micro-v1:0", 128_000),
        ("us.amazon.nova-pro-v1:0", 300_000),
        ("meta.llama3-70b-instruct-v1:0", 8_000),
        ("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123", 32_000),
    ],
)
def test_context_window_table(model, window):
    assert BedrockKitLLM(model=model).metadata.context_window == window
    assert BedrockKitLLM(model=model, context_window=1000).metadata.context_window == 1000


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"model": "bad model id"}, "model"),
        ({"model": MODEL, "temperature": -0.5}, "temperature"),
        ({"model": MODEL, "top_p": 1.5}, "top_p"),
        ({"model": MODEL, "max_retries": -1}, "max_retries"),
        ({"model": MODEL, "aws_access_key_id": "AKIA"}, "aws_secret_access_key"),
        ({"model": MODEL, "modle": "typo"}, "modle"),
        ({"model": MODEL, "guardrail_config": {"guardrailIdentifier": "g"}}, "guardrail"),
        ({"model": MODEL, "client": object()}, "client"),
    ],
)
def test_bad_arguments_raise_configuration_error(kwargs, error):
    with pytest.raises(ConfigurationError, match=error):
        BedrockKitLLM(**kwargs)


def test_request_shape_with_tools_inference_and_guardrail():
    llm = BedrockKitLLM(
        model=MODEL,
        temperature=0.2,
        max_tokens=100,
        stop=["END"],
        guardrail_config=core.GuardrailConfig("gr1", "1", stream_processing_mode="sync"),
        guard_last_turn=True,
        additional_model_request_fields={"top_k": 5},
    )
    kwargs = llm._prepare_chat_with_tools(
        [FunctionTool.from_defaults(fn=get_weather)], "weather?", tool_required=True
    )
    request = llm.build_request(stream=True, **kwargs)
    assert request["inferenceConfig"] == {
        "maxTokens": 100,
        "temperature": 0.2,
        "stopSequences": ["END"],
    }
    assert request["toolConfig"]["toolChoice"] == {"any": {}}
    assert request["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"
    assert request["guardrailConfig"] == {
        "guardrailIdentifier": "gr1",
        "guardrailVersion": "1",
        "trace": "enabled",
        "streamProcessingMode": "sync",
    }
    assert request["messages"][-1]["content"] == [{"guardContent": {"text": {"text": "weather?"}}}]
    assert request["additionalModelRequestFields"] == {"top_k": 5}


def test_tool_choice_falls_back_for_models_that_cannot_be_forced():
    tools = [FunctionTool.from_defaults(fn=get_weather)]
    meta = BedrockKitLLM(model="meta.llama3-1-70b-instruct-v1:0")
    request = meta.build_request(**meta._prepare_chat_with_tools(tools, "q", tool_required=True))
    assert "toolChoice" not in request["toolConfig"]


def test_unknown_call_arguments_are_refused(llm):
    with pytest.raises(ConfigurationError, match="frequency_penalty"):
        llm.build_request([ChatMessage(role="user", content="q")], frequency_penalty=1)


def test_importing_the_adapter_does_not_import_langchain():
    code = (
        "import bedrock_kit.llama_index, sys; "
        "assert not any(m.startswith('langchain') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_missing_llama_index_gives_an_install_hint():
    code = (
        "import sys; sys.modules['llama_index'] = None; sys.modules['llama_index.core'] = None\n"
        "try:\n    import bedrock_kit.llama_index\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
    )
    assert "pip install 'bedrock-bridge[llama-index]'" in out.stdout
