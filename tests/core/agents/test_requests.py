"""InvokeAgent / InvokeInlineAgent request builders and the shared loop, on literal events."""

from __future__ import annotations

import pytest

from bedrock_kit.core.agents.runtime import (
    AgentFiles,
    AgentReturnControl,
    AgentSession,
    AgentStepLimitError,
    AgentTextChunk,
    AgentToolResult,
    AgentTraceEvent,
    InlineAgentConfig,
    _AgentLoop,
    build_inline_agent_request,
    build_invoke_agent_request,
)
from bedrock_kit.core.agents.tools import LocalTool
from bedrock_kit.core.chat.tools import schema_from_function, tool_spec
from bedrock_kit.errors import ConfigurationError


def test_invoke_agent_request_with_session_options():
    request = build_invoke_agent_request(
        "TFMZVIWXR7",
        "ZT7YYHO8TO",
        "Weather in Seattle?",
        AgentSession(
            session_id="d8e4519a-df32",
            session_attributes={"user": "ann"},
            prompt_session_attributes={"tz": "UTC"},
            end_session=True,
            memory_id="mem-1",
            session_state={"knowledgeBaseConfigurations": [{"knowledgeBaseId": "KB"}]},
        ),
    )
    assert request == {
        "agentId": "TFMZVIWXR7",
        "agentAliasId": "ZT7YYHO8TO",
        "inputText": "Weather in Seattle?",
        "sessionId": "d8e4519a-df32",
        "enableTrace": True,
        "endSession": True,
        "memoryId": "mem-1",
        "sessionState": {
            "knowledgeBaseConfigurations": [{"knowledgeBaseId": "KB"}],
            "sessionAttributes": {"user": "ann"},
            "promptSessionAttributes": {"tz": "UTC"},
        },
    }


def test_new_session_ids_are_generated_and_valid():
    first = build_invoke_agent_request("A1", "B1", "hi")
    second = build_invoke_agent_request("A1", "B1", "hi")
    assert first["sessionId"] != second["sessionId"]
    assert "sessionState" not in first and "memoryId" not in first


@pytest.mark.parametrize(
    ("args", "session", "match"),
    [
        (("bad id!", "B1", "hi"), None, "agent_id"),
        (("A1", "B" * 11, "hi"), None, "agent_alias_id"),
        (("A1", "B1", ""), None, "input_text"),
        (("A1", "B1", "hi"), AgentSession(session_id="x"), "session_id"),
        (("A1", "B1", "hi"), AgentSession(memory_id="bad memory"), "memory_id"),
    ],
)
def test_invoke_agent_request_validation(args, session, match):
    with pytest.raises(ConfigurationError, match=match):
        build_invoke_agent_request(*args, session)


INSTRUCTION = "You answer questions about the weather, politely and briefly."


def test_inline_agent_request():
    group = {"actionGroupName": "g", "actionGroupExecutor": {"customControl": "RETURN_CONTROL"}}
    request = build_inline_agent_request(
        InlineAgentConfig(
            foundation_model="anthropic.claude-3-5-sonnet-20240620-v1:0",
            instruction=INSTRUCTION,
            action_groups=[group],
            agent_name="weather",
            guardrail_identifier="gr1",
            guardrail_version="1",
            idle_session_ttl_seconds=600,
        ),
        "hi",
        AgentSession(session_id="s-1", session_attributes={"a": "b"}),
    )
    assert request["actionGroups"] == [group]
    assert request["inlineSessionState"] == {"sessionAttributes": {"a": "b"}}
    assert request["guardrailConfiguration"] == {
        "guardrailIdentifier": "gr1",
        "guardrailVersion": "1",
    }
    assert request["idleSessionTTLInSeconds"] == 600
    assert "sessionState" not in request


@pytest.mark.parametrize(
    ("config", "session", "match"),
    [
        (InlineAgentConfig("m", "too short"), None, "at least 40"),
        (InlineAgentConfig("m", INSTRUCTION, guardrail_identifier="g"), None, "go together"),
        (InlineAgentConfig("m", INSTRUCTION, idle_session_ttl_seconds=10), None, "60-3600"),
        (InlineAgentConfig("m", INSTRUCTION), AgentSession(memory_id="mem-1"), "memory_id"),
    ],
)
def test_inline_agent_request_validation(config, session, match):
    with pytest.raises(ConfigurationError, match=match):
        build_inline_agent_request(config, "hi", session)


# -- the shared loop on literal events


def get_weather(location: str) -> str:
    return f"sunny in {location}"


TOOLS = [
    LocalTool(
        spec=tool_spec("get_weather", "w", schema_from_function(get_weather)), func=get_weather
    )
]
RETURN_CONTROL = {
    "returnControl": {
        "invocationId": "inv-1",
        "invocationInputs": [
            {
                "functionInvocationInput": {
                    "actionGroup": "g",
                    "function": "get_weather",
                    "parameters": [{"name": "location", "type": "string", "value": "Seattle"}],
                }
            }
        ],
    }
}


def _loop(max_steps: int = 3, tools=TOOLS) -> _AgentLoop:
    request = build_invoke_agent_request(
        "A1", "B1", "hi", AgentSession(session_id="s-1", session_attributes={"k": "v"})
    )
    loop = _AgentLoop(request, tools, max_steps, "FAILURE")
    loop.begin({"sessionId": "s-1", "ResponseMetadata": {"RequestId": "r-1"}})
    return loop


def test_loop_keeps_every_chunk_in_order_and_splits_no_characters():
    loop = _loop()
    text = "Zürich ☀ is sunny"
    data = text.encode()
    events = []
    for i in range(0, len(data), 3):  # 3-byte slices split the multi-byte characters
        events += loop.feed({"chunk": {"bytes": data[i : i + 3]}})
    events += loop.end_round()
    assert all(isinstance(e, AgentTextChunk) for e in events)
    assert "".join(e.text for e in events) == text
    assert loop.pending_calls() is None
    result = loop.result()
    assert result.text == text and len(result.chunks) == len(events)
    assert result.request_ids == ("r-1",)


def test_loop_return_control_builds_the_follow_up_request():
    loop = _loop()
    (trace,) = loop.feed({"trace": {"trace": {"orchestrationTrace": {"rationale": {"text": "r"}}}}})
    assert isinstance(trace, AgentTraceEvent)
    (control,) = loop.feed(RETURN_CONTROL)
    assert isinstance(control, AgentReturnControl) and control.invocation_id == "inv-1"
    calls = loop.pending_calls()
    assert calls is not None and calls[0].name == "get_weather"
    from bedrock_kit.core.agents.tools import run_tools

    events = loop.resume(run_tools(calls, loop.tools))
    assert isinstance(events[0], AgentToolResult)
    assert "inputText" not in loop.request
    assert loop.request["sessionState"] == {
        "sessionAttributes": {"k": "v"},
        "invocationId": "inv-1",
        "returnControlInvocationResults": [
            {
                "functionResult": {
                    "actionGroup": "g",
                    "function": "get_weather",
                    "responseBody": {"TEXT": {"body": "sunny in Seattle"}},
                }
            }
        ],
    }


def test_loop_step_limit_raises_with_the_partial_result():
    loop = _loop(max_steps=0)
    loop.feed({"chunk": {"bytes": b"thinking"}})
    loop.feed(RETURN_CONTROL)
    with pytest.raises(AgentStepLimitError, match="max_steps=0") as info:
        loop.pending_calls()
    assert info.value.partial.text == "thinking"
    assert info.value.model_id == "A1/B1"


def test_loop_without_tools_returns_the_request_to_the_caller():
    loop = _loop(tools=())
    loop.feed(RETURN_CONTROL)
    assert loop.pending_calls() is None
    result = loop.result()
    assert result.return_control is not None
    assert result.return_control.calls[0].parameters[0]["value"] == "Seattle"


def test_loop_files_and_bad_options():
    loop = _loop()
    (files,) = loop.feed(
        {"files": {"files": [{"name": "a.csv", "type": "text/csv", "bytes": b"1"}]}}
    )
    assert isinstance(files, AgentFiles) and loop.result().files[0]["name"] == "a.csv"
    with pytest.raises(ConfigurationError, match="max_steps"):
        _AgentLoop({"agentId": "A"}, (), -1, "FAILURE")
    with pytest.raises(ConfigurationError, match="tool_error_state"):
        _AgentLoop({"agentId": "A"}, (), 1, "NOPE")  # type: ignore[arg-type]


def test_streaming_configurations():
    request = build_invoke_agent_request(
        "A1", "B1", "hi", AgentSession(stream_final_response=True, apply_guardrail_interval=50)
    )
    assert request["streamingConfigurations"] == {
        "streamFinalResponse": True,
        "applyGuardrailInterval": 50,
    }
    with pytest.raises(ConfigurationError, match="apply_guardrail_interval"):
        build_invoke_agent_request("A1", "B1", "hi", AgentSession(apply_guardrail_interval=0))


def test_calls_needing_user_confirmation_are_never_run_automatically():
    loop = _loop()
    confirm = {
        "returnControl": {
            "invocationId": "inv-2",
            "invocationInputs": [
                {
                    "functionInvocationInput": {
                        "actionGroup": "g",
                        "actionInvocationType": "USER_CONFIRMATION",
                        "function": "get_weather",
                        "parameters": [{"name": "location", "type": "string", "value": "X"}],
                    }
                }
            ],
        }
    }
    loop.feed(confirm)
    assert loop.pending_calls() is None
    result = loop.result()
    assert result.return_control is not None
    assert result.return_control.calls[0].invocation_type == "USER_CONFIRMATION"
    assert result.tool_outcomes == ()
