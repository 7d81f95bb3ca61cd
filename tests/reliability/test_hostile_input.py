"""Bad input is refused by name before any request, in both frameworks, sync and async.

Every case runs against a HostileServer that would answer a well-formed Converse reply to
anything: a call that got through would succeed, so each test proves both the typed error
and, from the server's request log, that nothing was sent (``server.requests == []``).
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from llama_index.core.base.llms.types import (
    ChatMessage,
    CitableBlock,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ToolCallBlock,
)

from bedrock_kit import ToolSpec
from bedrock_kit.errors import ConfigurationError, UnknownArgumentError
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.llama_index import BedrockKitLLM
from tests.support.hostile import DUMMY_KEYS, HostileServer, json_reply

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
CN_ARN = "arn:aws-cn:bedrock:cn-north-1::foundation-model/" + MODEL
BAD = "caf\udce9"  # 'café' decoded with errors='surrogateescape'
BAD_SCHEMA = ToolSpec("lookup", "Look a word up", {"type": "object", "properties": ["word"]})
FINE = {
    "output": {"message": {"role": "assistant", "content": [{"text": "fine"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
}
LC_MODES = ("invoke", "ainvoke", "stream", "astream")
LI_MODES = ("chat", "achat", "stream_chat", "astream_chat")


@pytest.fixture
def server(hostile: HostileServer) -> HostileServer:
    hostile.always(json_reply(FINE))  # anything that gets through would succeed
    return hostile


def _settings(server: HostileServer, kwargs: dict[str, Any]) -> dict[str, Any]:
    base = {"model": MODEL, "endpoint_url": server.url, "max_retries": 0, "timeout": 2}
    return {**DUMMY_KEYS, **base, **kwargs}


def _lc(server: HostileServer, **kwargs: Any) -> ChatBedrockKit:
    return ChatBedrockKit(**_settings(server, kwargs))


def _li(server: HostileServer, **kwargs: Any) -> BedrockKitLLM:
    return BedrockKitLLM(**_settings(server, kwargs))


def _run_lc(llm: ChatBedrockKit, mode: str, messages: Any, **kwargs: Any) -> None:
    if mode == "invoke":
        llm.invoke(messages, **kwargs)
    elif mode == "stream":
        list(llm.stream(messages, **kwargs))
    elif mode == "ainvoke":
        asyncio.run(llm.ainvoke(messages, **kwargs))
    else:

        async def consume() -> None:
            async for _ in llm.astream(messages, **kwargs):
                pass

        asyncio.run(consume())


def _run_li(llm: BedrockKitLLM, mode: str, messages: list[ChatMessage], **kwargs: Any) -> None:
    if mode == "chat":
        llm.chat(messages, **kwargs)
    elif mode == "stream_chat":
        list(llm.stream_chat(messages, **kwargs))
    elif mode == "achat":
        asyncio.run(llm.achat(messages, **kwargs))
    else:

        async def consume() -> None:
            async for _ in await llm.astream_chat(messages, **kwargs):
                pass

        asyncio.run(consume())


def _user(*blocks: Any) -> ChatMessage:
    return ChatMessage(role=MessageRole.USER, blocks=list(blocks))


def _png_url(data: str) -> str:
    return f"data:image/png;base64,{data}"


# -- one table per framework: (messages, per-call kwargs, expected message)

LC_CASES: dict[str, tuple[Any, dict[str, Any], str]] = {
    "surrogate in prompt": ([HumanMessage(BAD)], {}, "unpaired surrogate"),
    "surrogate in system": (
        [SystemMessage(BAD), HumanMessage("hi")],
        {},
        "request.system[0].text: unpaired surrogate",
    ),
    "surrogate in tool result": (
        [
            HumanMessage("look up café"),
            AIMessage("", tool_calls=[{"id": "t1", "name": "lookup", "args": {"word": "x"}}]),
            ToolMessage(BAD, tool_call_id="t1"),
        ],
        {},
        "unpaired surrogate",
    ),
    "surrogate in document": (
        [HumanMessage([{"type": "text-plain", "text": BAD, "filename": "notes.txt"}])],
        {},
        "unpaired surrogate",
    ),
    "invalid tool schema": ([HumanMessage("hi")], {"tools": [BAD_SCHEMA]}, "invalid JSON Schema"),
    "invalid tool dict schema": (
        [HumanMessage("hi")],
        {
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "lookup",
                        "description": "d",
                        "parameters": {"type": "object", "required": "word"},
                    },
                }
            ]
        },
        "invalid JSON Schema: required",
    ),
    "temperature above 1": ([HumanMessage("hi")], {"temperature": 1.5}, "temperature must be"),
    "top_p below 0": ([HumanMessage("hi")], {"top_p": -0.1}, "top_p must be"),
    "max_tokens 0": ([HumanMessage("hi")], {"max_tokens": 0}, "max_tokens must be >= 1"),
    "stop not strings": ([HumanMessage("hi")], {"stop": [3]}, "stop sequences must be"),
    "aws-cn model ARN per call": ([HumanMessage("hi")], {"model": CN_ARN}, "partition 'aws-cn'"),
    "invalid base64 data URL": (
        [HumanMessage([{"type": "image_url", "image_url": {"url": _png_url("!!!notbase64")}}])],
        {},
        "invalid base64",
    ),
    "image_url without url": (
        [HumanMessage([{"type": "image_url", "image_url": {}}])],
        {},
        "image_url block: the url is missing",
    ),
    "invalid base64 image block": (
        [HumanMessage([{"type": "image", "base64": "%%%", "mime_type": "image/png"}])],
        {},
        "image block: data is not valid base64",
    ),
    "document without source": (
        [HumanMessage([{"type": "file", "mime_type": "application/pdf"}])],
        {},
        "needs base64 data or an s3:// url",
    ),
    "toolSpec dict without inputSchema": (
        [HumanMessage("hi")],
        {"tools": [{"toolSpec": {"name": "lookup"}}]},
        "needs 'name' and 'inputSchema'",
    ),
    "guard_content without text": (
        [HumanMessage([{"type": "guard_content"}])],
        {},
        "guard_content block has no text",
    ),
    "misspelt call argument": (
        [HumanMessage("hi")],
        {"temprature": 0.5},
        "unknown argument 'temprature' (did you mean 'temperature'?)",
    ),
}

LI_CASES: dict[str, tuple[list[ChatMessage], dict[str, Any], str]] = {
    "surrogate in prompt": ([ChatMessage(role=MessageRole.USER, content=BAD)], {}, "unpaired"),
    "surrogate in system": (
        [ChatMessage(role=MessageRole.SYSTEM, content=BAD), _user(TextBlock(text="hi"))],
        {},
        "request.system[0].text: unpaired surrogate",
    ),
    "surrogate in tool result": (
        [
            _user(TextBlock(text="look up café")),
            ChatMessage(
                role=MessageRole.ASSISTANT,
                blocks=[ToolCallBlock(tool_call_id="t1", tool_name="lookup", tool_kwargs={})],
            ),
            ChatMessage(
                role=MessageRole.TOOL, content=BAD, additional_kwargs={"tool_call_id": "t1"}
            ),
        ],
        {},
        "unpaired surrogate",
    ),
    "surrogate in document": (
        [
            _user(
                TextBlock(text="read"),
                CitableBlock(content=[TextBlock(text=BAD)], title="notes", source="n"),
            )
        ],
        {},
        "unpaired surrogate",
    ),
    "invalid tool schema": (
        [_user(TextBlock(text="hi"))],
        {"tools": [BAD_SCHEMA]},
        "invalid JSON Schema",
    ),
    "temperature above 1": (
        [_user(TextBlock(text="hi"))],
        {"temperature": 1.5},
        "temperature must be",
    ),
    "top_p below 0": ([_user(TextBlock(text="hi"))], {"top_p": -0.1}, "top_p must be"),
    "max_tokens 0": ([_user(TextBlock(text="hi"))], {"max_tokens": 0}, "max_tokens must be >= 1"),
    "stop not strings": ([_user(TextBlock(text="hi"))], {"stop": [""]}, "non-empty strings"),
    "invalid base64 data URL": (
        [_user(ImageBlock(url=_png_url("!!!notbase64")))],
        {},
        "invalid base64",
    ),
    "image without source": ([_user(ImageBlock())], {}, "image block has no source"),
    "document without source": ([_user(DocumentBlock())], {}, "document block has no source"),
    "misspelt call argument": (
        [_user(TextBlock(text="hi"))],
        {"temprature": 0.5},
        "unknown argument 'temprature' (did you mean 'temperature'?)",
    ),
}


@pytest.mark.parametrize("mode", LC_MODES)
@pytest.mark.parametrize("case", sorted(LC_CASES))
def test_langchain_refuses_before_sending(server, case, mode):
    messages, kwargs, expected = LC_CASES[case]
    with pytest.raises(ConfigurationError) as info:
        _run_lc(_lc(server), mode, messages, **kwargs)
    assert expected in str(info.value)
    assert server.requests == []


@pytest.mark.parametrize("mode", LI_MODES)
@pytest.mark.parametrize("case", sorted(LI_CASES))
def test_llama_index_refuses_before_sending(server, case, mode):
    messages, kwargs, expected = LI_CASES[case]
    with pytest.raises(ConfigurationError) as info:
        _run_li(_li(server), mode, messages, **kwargs)
    assert expected in str(info.value)
    assert server.requests == []


def test_the_same_calls_with_good_input_are_sent(server):
    # The control: the harness does reach the server when nothing is wrong.
    _run_lc(_lc(server), "invoke", [HumanMessage("hi")], temperature=1, top_p=0, max_tokens=1)
    _run_li(_li(server), "chat", [_user(TextBlock(text="hi"))], temperature=0, stop=["END"])
    url = _png_url(base64.b64encode(b"\x89PNG\r\n\x1a\n").decode())
    _run_lc(
        _lc(server), "invoke", [HumanMessage([{"type": "image_url", "image_url": {"url": url}}])]
    )
    assert len(server.requests) == 3


# -- constructor arguments of the chat models


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"temperature": 2.0}, "temperature must be between 0 and 1"),
        ({"top_p": 1.5}, "top_p must be between 0 and 1"),
        ({"max_tokens": 0}, "max_tokens must be >= 1"),
        ({"stop": ["", "x"]}, "non-empty strings"),
        ({"model": CN_ARN}, "partition 'aws-cn'"),
        (
            {"model": "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/abcdefghijkl"},
            "region 'us-west-2'",
        ),
        ({"deadline": 0}, "deadline must be a positive number"),
        ({"deadline": -1}, "deadline must be a positive number"),
        ({"regoin_name": "us-east-1"}, "did you mean 'region_name'?"),
        ({"max_token": 10}, "did you mean 'max_tokens'?"),
        ({"temprature": 0.5}, "did you mean 'temperature'?"),
        ({"endpoint_url": "localhost:8000"}, "needs a scheme and a host"),
        ({"region_name": "us east 1"}, "not a valid AWS region name"),
        # pydantic's own type errors come back as a ConfigurationError quoting pydantic
        ({"temperature": "hot"}, "invalid arguments"),
        ({"retry_mode": "eventually"}, "invalid arguments"),
    ],
)
@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
def test_chat_model_constructors_refuse(server, framework, kwargs, expected):
    make = _lc if framework == "langchain" else _li
    with pytest.raises(ConfigurationError) as info:
        make(server, **kwargs)
    assert expected in str(info.value)
    assert server.requests == []


@pytest.mark.parametrize("mode", LC_MODES)
def test_langchain_bound_misspelling_is_refused(server, mode):
    llm = _lc(server)
    with pytest.raises(UnknownArgumentError, match="did you mean 'temperature'"):
        llm.bind(temprature=0.5)
    # Bound through LangChain's own RunnableBinding (bypassing our bind): refused at the call.
    from langchain_core.runnables import RunnableBinding

    bound = RunnableBinding(bound=llm, kwargs={"temprature": 0.5})
    with pytest.raises(UnknownArgumentError, match="did you mean 'temperature'"):
        _run_lc(bound, mode, "hi")  # type: ignore[arg-type]
    assert server.requests == []


def test_langchain_bind_tools_refuses_a_bad_schema_at_bind_time(server):
    with pytest.raises(ConfigurationError, match="invalid JSON Schema"):
        _lc(server).bind_tools([BAD_SCHEMA])
    assert server.requests == []


@pytest.mark.parametrize(
    ("name", "advice"),
    [
        ("bedrock_client", "no control-plane calls"),
        ("model_kwargs", "additional_model_request_fields"),
    ],
)
def test_langchain_aws_arguments_we_refuse_say_what_to_use(server, name, advice):
    with pytest.raises(UnknownArgumentError) as info:
        _lc(server, **{name: object()})
    assert info.value.argument == name
    assert advice in str(info.value)


def test_langchain_aws_aliases_are_accepted(server):
    guardrail = {"guardrailIdentifier": "gr-1", "guardrailVersion": "1"}
    llm = _lc(server, guardrails=guardrail, guard_last_turn_only=True, stop_sequences=["END"])
    assert llm.guardrail_config == guardrail
    assert llm.guard_last_turn is True
    assert llm.stop == ["END"]
    request = llm.build_request([HumanMessage("hi")], model_id=MODEL, stop_sequences=["STOP"])
    assert request["inferenceConfig"]["stopSequences"] == ["STOP"]
    with pytest.raises(ConfigurationError, match="name the same argument"):
        _lc(server, guardrails=guardrail, guardrail_config=guardrail)


def test_llama_index_aliases_are_accepted(server):
    llm = _li(server, context_size=1000, profile_name=None, stop_sequences=["END"])
    assert llm.context_window == 1000
    assert llm.stop == ["END"]


def test_arn_of_another_partition_is_refused_at_call_time_when_the_region_comes_from_env(
    hostile, monkeypatch
):
    # No region_name: botocore resolves us-east-1 from the environment when the client is
    # built, and the call refuses the aws-cn ARN before sending it.
    hostile.always(json_reply(FINE))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    keys = {k: v for k, v in DUMMY_KEYS.items() if k != "region_name"}
    for make, run, message in (
        (ChatBedrockKit, _run_lc, [HumanMessage("hi")]),
        (BedrockKitLLM, _run_li, [_user(TextBlock(text="hi"))]),
    ):
        llm = make(model=CN_ARN, endpoint_url=hostile.url, max_retries=0, **keys)
        for mode in LC_MODES if make is ChatBedrockKit else LI_MODES:
            with pytest.raises(ConfigurationError, match="partition 'aws-cn'"):
                run(llm, mode, message)  # type: ignore[operator]
    assert hostile.requests == []


def test_response_format_becomes_output_config(server):
    llm = _lc(server)
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    request = llm.build_request(
        [HumanMessage("hi")],
        response_format={"type": "json_schema", "json_schema": {"name": "out", "schema": schema}},
    )
    assert request["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["name"] == "out"
    with pytest.raises(ConfigurationError, match="response_format type 'json_object'"):
        llm.build_request([HumanMessage("hi")], response_format={"type": "json_object"})
