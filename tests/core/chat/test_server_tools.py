"""Server-side tools (Converse ``systemTool``): bound next to client tools, their calls and
results kept in the assistant turn, never client tool calls, round-tripped, usage kept.

Pure tests on literal wire dicts shaped as botocore's bedrock-runtime service model has them
(``ToolUseBlock.type`` = ``server_tool_use``, ``ToolResultBlock.type``, ``ToolUseBlockStart``
and ``ToolResultBlockStart`` with their ``type``, ``ToolResultBlocksDelta`` a list).
"""

from __future__ import annotations

import pytest

from bedrock_kit.core.chat.converse import (
    block_from_wire,
    block_to_wire,
    build_converse_request,
    parse_converse_response,
    parse_usage,
)
from bedrock_kit.core.chat.stream import (
    ServerToolDelta,
    StreamReducer,
    TextDelta,
    ToolCallDelta,
    iter_deltas,
)
from bedrock_kit.core.chat.tool_config import build_system_tool, build_tool_config
from bedrock_kit.core.chat.tools import as_system_tool, split_system_tools
from bedrock_kit.core.chat.types import (
    JsonBlock,
    Message,
    SystemTool,
    TextBlock,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    Usage,
)
from bedrock_kit.errors import ConfigurationError, MalformedResponseError
from bedrock_kit.testing.scripts import converse_reply, converse_stream_events, server_tool

MODEL = "us.amazon.nova-2-lite-v1:0"
ADD = ToolSpec("add", "Add two numbers.", {"properties": {"a": {"type": "integer"}}})
CODE = server_tool(
    "nova_code_interpreter",
    {"code": "print(2 + 2)"},
    [{"json": {"stdout": "4\n", "exit_code": 0}}],
    tool_use_id="tooluse_srv",
)


# ------------------------------------------------------------------------ binding


def test_system_tools_are_listed_after_client_tools():
    config = build_tool_config([ADD], "auto", [SystemTool("nova_code_interpreter")])
    assert config is not None
    assert [next(iter(t)) for t in config["tools"]] == ["toolSpec", "systemTool"]
    assert config["tools"][1] == {"systemTool": {"name": "nova_code_interpreter"}}
    assert config["toolChoice"] == {"auto": {}}


def test_system_tools_alone_make_a_tool_config():
    config = build_tool_config([], None, [SystemTool("nova_grounding")])
    assert config == {"tools": [{"systemTool": {"name": "nova_grounding"}}]}


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "dots.not.allowed"])
def test_bad_system_tool_names_are_refused_by_name(name):
    with pytest.raises(ConfigurationError, match="system tool name"):
        build_system_tool(SystemTool(name))


def test_a_system_tool_may_not_share_a_client_tool_name():
    with pytest.raises(ConfigurationError, match="unique"):
        build_tool_config([ADD], None, [SystemTool("add")])


@pytest.mark.parametrize(
    "value",
    [
        "nova_code_interpreter",
        SystemTool("nova_code_interpreter"),
        {"systemTool": {"name": "nova_code_interpreter"}},
        {"type": "system_tool", "name": "nova_code_interpreter"},
    ],
)
def test_every_system_tool_form_reads_the_same(value):
    assert as_system_tool(value) == SystemTool("nova_code_interpreter")


def test_an_object_shaped_like_langchain_aws_nova_system_tool_is_read():
    class NovaSystemTool:
        type = "system_tool"

        def __init__(self, name: str) -> None:
            self.name = name

    client, system = split_system_tools([ADD, NovaSystemTool("nova_grounding")])
    assert client == [ADD]
    assert system == [SystemTool("nova_grounding")]


@pytest.mark.parametrize("value", [3, None, {"name": 5}, {"systemTool": "x"}])
def test_what_is_not_a_system_tool_is_refused(value):
    with pytest.raises(ConfigurationError, match="system tool"):
        as_system_tool(value)


# ------------------------------------------------------------------------ Converse


def test_converse_keeps_server_blocks_and_no_client_call():
    body = converse_reply("2 + 2 is 4.", server_tools=[CODE], server_tool_usage={"x": 1})
    result = parse_converse_response(body, model_id=MODEL)
    use, res, text = result.message.content
    assert isinstance(use, ToolUseBlock) and use.server and use.type == "server_tool_use"
    assert use.input == {"code": "print(2 + 2)"}
    assert isinstance(res, ToolResultBlock)
    assert res.type == "nova_code_interpreter_result" and res.status == "success"
    assert res.content == (JsonBlock({"stdout": "4\n", "exit_code": 0}),)
    assert text == TextBlock("2 + 2 is 4.")
    assert result.message.tool_calls == []  # an agent loop finds nothing to run
    assert result.message.server_tool_calls == [use]
    assert result.usage.server_tool_usage == {"x": 1}


def test_server_blocks_round_trip_to_the_wire_unchanged():
    body = converse_reply("done", server_tools=[CODE])
    wire = body["output"]["message"]["content"]
    assert [block_to_wire(block_from_wire(b)) for b in wire] == wire


def test_history_with_server_blocks_builds_a_valid_request():
    result = parse_converse_response(converse_reply("4", server_tools=[CODE]), model_id=MODEL)
    request = build_converse_request(
        MODEL,
        [
            Message("user", (TextBlock("2+2?"),)),
            result.message,
            Message("user", (TextBlock("ok"),)),
        ],
        tool_config=build_tool_config([], None, [SystemTool("nova_code_interpreter")]),
    )
    sent = request["messages"][1]["content"]
    assert sent[0]["toolUse"]["type"] == "server_tool_use"
    assert sent[1]["toolResult"]["type"] == "nova_code_interpreter_result"


def test_client_tool_calls_next_to_server_ones_stay_client_calls():
    body = converse_reply(
        None,
        tool_uses=[{"name": "add", "input": {"a": 1}, "toolUseId": "tooluse_c"}],
        server_tools=[CODE],
    )
    result = parse_converse_response(body, model_id=MODEL)
    assert [c.id for c in result.message.tool_calls] == ["tooluse_c"]
    assert [c.id for c in result.message.server_tool_calls] == ["tooluse_srv"]


# ------------------------------------------------------------------------ usage


def test_server_tool_usage_is_kept_and_empty_when_absent():
    usage = {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3}
    assert parse_usage(usage).server_tool_usage == {}
    found = parse_usage({**usage, "serverToolUsage": {"nova_grounding": {"calls": 2}}})
    assert found.server_tool_usage == {"nova_grounding": {"calls": 2}}


def test_server_tool_usage_must_be_an_object():
    usage = {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3, "serverToolUsage": [1]}
    with pytest.raises(MalformedResponseError, match="serverToolUsage"):
        parse_usage(usage)


def test_usage_sums_server_tool_usage_without_losing_keys():
    first = Usage(1, 1, total_tokens=2, server_tool_usage={"a": 1, "n": {"x": 2}, "s": "v1"})
    second = Usage(1, 1, total_tokens=2, server_tool_usage={"a": 2, "b": 5, "n": {"x": 3}})
    total = first + second
    assert total.server_tool_usage == {"a": 3, "b": 5, "n": {"x": 5}, "s": "v1"}
    assert total.total_tokens == 4
    hash(total)  # still usable as a dict key / in sets


# ------------------------------------------------------------------------ streams


def _stream(events):
    reducer = StreamReducer(MODEL)
    return list(iter_deltas(events, reducer))


def test_stream_gives_server_blocks_whole_and_no_tool_call_delta():
    events = converse_stream_events(
        "It is 4.", server_tools=[CODE], chunk_chars=3, server_tool_usage={"k": 1}
    )
    deltas = _stream(events)
    assert not [d for d in deltas if isinstance(d, ToolCallDelta)]
    servers = [d for d in deltas if isinstance(d, ServerToolDelta)]
    assert [type(d.block).__name__ for d in servers] == ["ToolUseBlock", "ToolResultBlock"]
    assert servers[0].block == ToolUseBlock(
        "tooluse_srv", "nova_code_interpreter", {"code": "print(2 + 2)"}, "server_tool_use"
    )
    text = "".join(d.text for d in deltas if isinstance(d, TextDelta))
    assert text == "It is 4."
    result = deltas[-1].result  # type: ignore[union-attr]
    non_stream = parse_converse_response(
        converse_reply("It is 4.", server_tools=[CODE]), model_id=MODEL
    )
    assert result.message == non_stream.message
    assert result.usage.server_tool_usage == {"k": 1}


def test_streamed_text_result_pieces_join_into_one_block():
    grounding = server_tool(
        "nova_grounding", {"query": "tides"}, [{"text": "Tides rise twice a day."}]
    )
    deltas = _stream(converse_stream_events("ok", server_tools=[grounding], chunk_chars=4))
    result = next(d.block for d in deltas if isinstance(d, ServerToolDelta) and d.index == 1)
    assert isinstance(result, ToolResultBlock)
    assert result.content == (TextBlock("Tides rise twice a day."),)
    assert result.type == "nova_grounding_result"


def test_a_tool_result_delta_for_a_block_never_opened_is_malformed():
    events = [
        {"messageStart": {"role": "assistant"}},
        {
            "contentBlockDelta": {
                "contentBlockIndex": 0,
                "delta": {"toolResult": [{"text": "x"}]},
            }
        },
    ]
    with pytest.raises(MalformedResponseError, match="toolResult delta"):
        _stream(events)


def test_a_tool_result_delta_piece_with_neither_text_nor_json_is_malformed():
    events = converse_stream_events("ok", server_tools=[CODE])
    for event in events:
        delta = event.get("contentBlockDelta", {}).get("delta", {})
        if "toolResult" in delta:
            delta["toolResult"] = [{"image": {}}]
    with pytest.raises(MalformedResponseError, match="neither text nor json"):
        _stream(events)


def test_a_client_tool_call_in_a_stream_still_gives_tool_call_deltas():
    events = converse_stream_events(
        None, tool_uses=[{"name": "add", "input": {"a": 1}}], server_tools=[CODE]
    )
    deltas = _stream(events)
    calls = [d for d in deltas if isinstance(d, ToolCallDelta)]
    assert calls and {d.index for d in calls} == {2}
    assert deltas[-1].result.message.tool_calls[0].name == "add"  # type: ignore[union-attr]
