"""ChatBedrockKit with server-side tools (Converse ``systemTool``), sync and async, invoke and
stream: calls and results Bedrock ran come back as LangChain's ``server_tool_call`` /
``server_tool_result`` content blocks, never in ``tool_calls`` or ``tool_call_chunks``;
they go back as history unchanged; ``usage.serverToolUsage`` is kept.

Cassettes under cassettes/langchain/test_chat_server_tools/ were recorded through LocalBedrock
with the scripted replies below (``--record-mode=once``). The request-side tests run against
LocalBedrock itself, which checks what it receives.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage

from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing import LocalBedrock, Reply, ScriptedModel
from bedrock_kit.testing.scripts import converse_reply, converse_stream_events, server_tool

MODEL = "us.amazon.nova-2-lite-v1:0"
CODE = server_tool(
    "nova_code_interpreter",
    {"code": "print(6 * 7)"},
    [{"json": {"stdout": "42\n", "exit_code": 0}}],
    tool_use_id="tooluse_srv_1",
)
USAGE = {"nova_code_interpreter": {"invocations": 1}}


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def _check_server_message(message: AIMessage) -> None:
    assert message.tool_calls == []
    assert message.tool_call_chunks == [] if isinstance(message, AIMessageChunk) else True
    blocks = [b for b in message.content if isinstance(b, dict)]
    call = next(b for b in blocks if b["type"] == "server_tool_call")
    result = next(b for b in blocks if b["type"] == "server_tool_result")
    assert (call["id"], call["name"], call["args"]) == (
        "tooluse_srv_1",
        "nova_code_interpreter",
        {"code": "print(6 * 7)"},
    )
    assert call["extras"] == {"type": "server_tool_use"}
    assert result["tool_call_id"] == "tooluse_srv_1"
    assert result["status"] == "success"
    assert result["output"] == [{"json": {"stdout": "42\n", "exit_code": 0}}]
    assert result["extras"]["type"] == "nova_code_interpreter_result"
    assert message.text == "6 times 7 is 42."
    assert message.response_metadata["server_tool_usage"] == USAGE


# ------------------------------------------------------------------------ cassettes


@pytest.fixture
def llm(bedrock):
    model = ChatBedrockKit(
        model=MODEL, endpoint_url=bedrock.endpoint_url, region_name=bedrock.region, max_retries=0
    )
    return model.bind_tools([add], system_tools=["nova_code_interpreter"])


def _reply() -> Reply:
    return Reply.json(
        converse_reply("6 times 7 is 42.", server_tools=[CODE], server_tool_usage=USAGE)
    )


def _events() -> Reply:
    return Reply.events(
        converse_stream_events(
            "6 times 7 is 42.", server_tools=[CODE], server_tool_usage=USAGE, chunk_chars=5
        )
    )


@pytest.mark.vcr
def test_invoke_keeps_server_blocks_out_of_tool_calls(bedrock, llm):
    bedrock.script("Converse", _reply())
    _check_server_message(llm.invoke("What is 6 * 7? Use code."))


@pytest.mark.vcr
async def test_ainvoke_keeps_server_blocks_out_of_tool_calls(bedrock, llm):
    bedrock.script("Converse", _reply())
    _check_server_message(await llm.ainvoke("What is 6 * 7? Use code."))


@pytest.mark.vcr
def test_stream_gives_no_tool_call_chunks_for_server_calls(bedrock, llm):
    bedrock.script("ConverseStream", _events())
    chunks = list(llm.stream("What is 6 * 7? Use code."))
    assert all(not c.tool_call_chunks for c in chunks)
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    _check_server_message(merged)


@pytest.mark.vcr
async def test_astream_gives_no_tool_call_chunks_for_server_calls(bedrock, llm):
    bedrock.script("ConverseStream", _events())
    chunks = [c async for c in llm.astream("What is 6 * 7? Use code.")]
    assert all(not c.tool_call_chunks for c in chunks)
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    _check_server_message(merged)


# ------------------------------------------------------------------------ requests


@pytest.fixture
def server() -> Iterator[LocalBedrock]:
    with LocalBedrock() as local:
        ScriptedModel().install(local)
        yield local


def _model(server: LocalBedrock, **kwargs) -> ChatBedrockKit:
    return ChatBedrockKit(
        model=MODEL, endpoint_url=server.endpoint_url, region_name="us-east-1", **kwargs
    )


def test_bind_tools_sends_system_tools_next_to_client_tools(server):
    _model(server).bind_tools([add], system_tools=["nova_grounding"]).invoke("hello")
    tools = server.requests[-1].body["toolConfig"]["tools"]
    assert [next(iter(t)) for t in tools] == ["toolSpec", "systemTool"]
    assert tools[1] == {"systemTool": {"name": "nova_grounding"}}


def test_system_tool_dicts_among_the_tools_are_bound_as_system_tools(server):
    llm = _model(server).bind_tools([add, {"systemTool": {"name": "nova_grounding"}}])
    llm.invoke("hello")
    tools = server.requests[-1].body["toolConfig"]["tools"]
    assert tools[1] == {"systemTool": {"name": "nova_grounding"}}


@pytest.mark.parametrize("bad", ["has space", "", 7])
def test_bad_system_tools_fail_at_bind_time(server, bad):
    with pytest.raises(ConfigurationError, match="system tool"):
        _model(server).bind_tools([add], system_tools=[bad])
    assert server.requests == []


def test_a_system_tool_named_like_a_client_tool_fails_at_bind_time(server):
    with pytest.raises(ConfigurationError, match="unique"):
        _model(server).bind_tools([add], system_tools=["add"])


def test_the_answer_goes_back_as_history_unchanged(server):
    llm = _model(server).bind_tools([], system_tools=["nova_code_interpreter"])
    first = llm.invoke("compute 2+2")
    assert first.tool_calls == []
    received = server.requests[-1].body
    llm.invoke([HumanMessage("compute 2+2"), first, HumanMessage("thanks")])
    sent = server.requests[-1].body["messages"][1]["content"]
    assert sent[0]["toolUse"]["type"] == "server_tool_use"
    assert sent[1]["toolResult"]["type"] == "nova_code_interpreter_result"
    assert sent[1]["toolResult"]["content"] == [
        {"json": {"stdout": "compute 2+2\n", "exit_code": 0}}
    ]
    assert received["messages"][0]["content"] == [{"text": "compute 2+2"}]


def test_a_streamed_answer_goes_back_as_history_unchanged(server):
    llm = _model(server).bind_tools([], system_tools=["nova_code_interpreter"])
    merged = None
    for chunk in llm.stream("compute 3"):
        merged = chunk if merged is None else merged + chunk
    assert merged is not None and merged.tool_calls == []
    streamed_answer = server.requests[-1]
    llm.invoke([HumanMessage("compute 3"), merged, HumanMessage("thanks")])
    sent = server.requests[-1].body["messages"][1]["content"]
    assert [next(iter(b)) for b in sent] == ["toolUse", "toolResult", "text"]
    assert sent[0]["toolUse"]["input"] == {"code": "print('compute 3')"}
    assert streamed_answer.operation == "ConverseStream"


def test_content_blocks_keep_the_server_blocks(server):
    message = _model(server).bind_tools([], system_tools=["nova_code_interpreter"]).invoke("2+2")
    kinds = [
        b["value"]["type"] if b["type"] == "non_standard" else b["type"]
        for b in message.content_blocks
    ]
    assert kinds == ["server_tool_call", "server_tool_result", "text"]
    assert not [b for b in message.content_blocks if b["type"] == "tool_call"]


def test_serialised_standard_server_blocks_are_read_back(server):
    history = AIMessage(
        content=[
            {
                "type": "server_tool_call",
                "id": "tooluse_x",
                "name": "nova_code_interpreter",
                "args": '{"code": "1"}',  # a merged stream chunk keeps JSON text
            },
            {
                "type": "server_tool_result",
                "tool_call_id": "tooluse_x",
                "status": "success",
                "output": "1",
            },
            {"type": "text", "text": "one"},
        ]
    )
    llm = _model(server).bind_tools([], system_tools=["nova_code_interpreter"])
    llm.invoke([HumanMessage("1?"), history, HumanMessage("ok")])
    sent = server.requests[-1].body["messages"][1]["content"]
    assert sent[0]["toolUse"] == {
        "toolUseId": "tooluse_x",
        "name": "nova_code_interpreter",
        "input": {"code": "1"},
        "type": "server_tool_use",
    }
    assert sent[1]["toolResult"] == {
        "toolUseId": "tooluse_x",
        "content": [{"text": "1"}],
        "status": "success",
    }


# ------------------------------------------------------------------------ request fields

PROMPT = "arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT1234:1"


def test_prompt_variables_with_a_prompt_arn(server):
    server.script("Converse", Reply.json(converse_reply("A tide poem.")))
    llm = ChatBedrockKit(
        model=PROMPT,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        prompt_variables={"topic": "tides"},
    )
    assert llm.invoke("go").content == "A tide poem."
    request = server.requests[-1]
    assert request.path_params["modelId"] == PROMPT
    assert request.body["promptVariables"] == {"topic": {"text": "tides"}}


async def test_prompt_variables_per_call_on_the_async_path(server):
    server.script("ConverseStream", Reply.events(converse_stream_events("A poem.")))
    llm = ChatBedrockKit(model=PROMPT, endpoint_url=server.endpoint_url, region_name="us-east-1")
    chunks = [c async for c in llm.astream("go", prompt_variables={"topic": "sand"})]
    assert "".join(str(c.content) for c in chunks) == "A poem."
    assert server.requests[-1].body["promptVariables"] == {"topic": {"text": "sand"}}
    await llm.aclose()


def test_prompt_variables_without_a_prompt_arn_are_refused_before_any_request(server):
    with pytest.raises(ConfigurationError, match="prompt ARN"):
        _model(server, prompt_variables={"topic": "tides"}).invoke("go")
    assert server.requests == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"request_metadata": {"bad key!": "v"}}, "request_metadata"),
        ({"additional_model_response_field_paths": [""]}, "not a JSON pointer"),
    ],
)
def test_bad_request_fields_fail_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ChatBedrockKit(model=MODEL, region_name="us-east-1", **kwargs)


def test_server_blocks_no_block_stop_closed_still_reach_the_merged_message(server):
    events = [
        e
        for e in converse_stream_events("6 times 7 is 42.", server_tools=[CODE], chunk_chars=5)
        if e.get("contentBlockStop", {}).get("contentBlockIndex") not in (0, 1)
    ]
    server.script("ConverseStream", Reply.events(events))
    llm = _model(server).bind_tools([], system_tools=["nova_code_interpreter"])
    merged = None
    for chunk in llm.stream("What is 6 * 7?"):
        merged = chunk if merged is None else merged + chunk
    assert merged is not None and merged.tool_calls == []
    kinds = [b["type"] for b in merged.content if isinstance(b, dict)]
    assert kinds.count("server_tool_call") == 1 and kinds.count("server_tool_result") == 1
    assert merged.text == "6 times 7 is 42."
